"""The linking rules on in-memory stores, with the clock controlled: especially
what a crashed request leaves behind, which is hard to stage against Azurite."""

from collections.abc import Callable
from datetime import timedelta

import pytest

from shared.adapters.errors import ConcurrencyConflict
from shared.domain.learner import Learner
from shared.domain.model import AssociationRecord, PartnerUser
from shared.entrypoints.requests import link_command
from shared.errors import ServiceError
from shared.services import link, unlink
from shared.services import profile as profiles
from shared.services.commands import Deferred, LinkLearner
from shared.services.dependencies import Dependencies
from tests.support.fakes import FakeLearners, FakePartnerUsers
from tests.support.world import Person, World, link_body, unique, unlinking


def add(deps: Dependencies, person: Person) -> None:
    deps.stores.users.insert(
        PartnerUser(
            tenant_id=person.tenant_id,
            email=person.email,
            display_name="P",
            created_at=deps.clock.now(),
        )
    )


def body(world: World, learner: str, deps: Dependencies, person: Person) -> Deferred[LinkLearner]:
    return link_body(world, deps, person, learner)


def leave_claim_behind(deps: Dependencies, person: Person, learner: str) -> AssociationRecord:
    """What a request that died after claiming the user's row leaves: a claim the
    learner's row never saw."""
    found = deps.stores.users.get(person.tenant_id, person.email)
    assert found is not None
    claim = AssociationRecord(
        association_id="lost",
        program="learn",
        learner_id=learner,
        tenant_id=person.tenant_id,
        user_email=person.email,
        started_at=deps.clock.now(),
        jti="lost-jti",
    )
    deps.stores.users.replace(found.value.with_record(claim), found.etag)
    return claim


def losing_the_copy_to(deps: Dependencies, person: Person, action: Callable[[], object]) -> None:
    """Run `action`, then put the person's row back as it was: what a crash between
    the learner's commit and the copy to the user's row leaves behind."""
    users = deps.stores.users
    assert isinstance(users, FakePartnerUsers)
    stale = users.rows[(person.tenant_id, person.email)]
    action()
    users.rows[(person.tenant_id, person.email)] = stale


def test_link_then_profile(fake_deps: Dependencies, world: World) -> None:
    person = world.person()
    add(fake_deps, person)
    result = link.link(fake_deps, person.caller, body(world, "MCID-1", fake_deps, person))
    assert result.created
    profile = profiles.profile(fake_deps, person.caller)
    assert profile.programs["learn"].active == result.association
    assert profile.programs["learn"].associations_in_window == 1
    assert profile.programs["learn"].next_association_available_at == world.clock.now() + timedelta(
        days=30
    )
    assert profile.programs["partner_university"].active is None
    assert profile.programs["partner_university"].next_association_available_at is None


def test_first_seen_at_is_the_first_call_and_written_once(
    fake_deps: Dependencies, world: World
) -> None:
    person = world.person()
    add(fake_deps, person)
    first = world.clock.now()
    with pytest.raises(ServiceError):
        link.link(fake_deps, person.caller, lambda: link_command(b"{}"))
    world.clock.advance(timedelta(hours=1))
    profiles.profile(fake_deps, person.caller)
    found = fake_deps.stores.users.get(person.tenant_id, person.email)
    assert found is not None
    assert found.value.first_seen_at == first


def test_a_young_left_behind_claim_blocks_another_learner_as_in_flight(
    fake_deps: Dependencies, world: World
) -> None:
    person = world.person()
    add(fake_deps, person)
    leave_claim_behind(fake_deps, person, "MCID-lost")
    world.clock.advance(timedelta(seconds=30))
    with pytest.raises(ServiceError) as refused:
        link.link(fake_deps, person.caller, body(world, "MCID-other", fake_deps, person))
    assert refused.value.code == "already_linked"


def test_an_old_left_behind_claim_is_fenced_and_dropped_so_the_person_can_link(
    fake_deps: Dependencies, world: World
) -> None:
    person = world.person()
    add(fake_deps, person)
    leave_claim_behind(fake_deps, person, "MCID-lost")
    world.clock.advance(timedelta(minutes=5))
    result = link.link(fake_deps, person.caller, body(world, "MCID-other", fake_deps, person))
    assert result.created
    found = fake_deps.stores.users.get(person.tenant_id, person.email)
    assert found is not None
    assert [a.learner_id for a in found.value.associations] == ["MCID-other"]
    fenced = fake_deps.stores.learners.load("learn", "MCID-lost", state_only=True)
    assert fenced.exists
    assert fenced.state.associations == []


def test_the_profile_drops_an_old_left_behind_claim_and_shows_no_link(
    fake_deps: Dependencies, world: World
) -> None:
    person = world.person()
    add(fake_deps, person)
    leave_claim_behind(fake_deps, person, "MCID-lost")
    assert profiles.profile(fake_deps, person.caller).programs["learn"].active is not None
    world.clock.advance(timedelta(minutes=5))
    profile = profiles.profile(fake_deps, person.caller)
    assert profile.programs["learn"].active is None
    assert profile.history == []


def test_a_lost_request_cannot_commit_after_its_claim_was_fenced(
    fake_deps: Dependencies, world: World
) -> None:
    person = world.person()
    add(fake_deps, person)
    lost_request = fake_deps.stores.learners.load("learn", "MCID-lost")
    assert not lost_request.exists
    claim = leave_claim_behind(fake_deps, person, "MCID-lost")
    world.clock.advance(timedelta(minutes=5))
    profiles.profile(fake_deps, person.caller)
    lost_request.start(claim)
    with pytest.raises(ConcurrencyConflict):
        fake_deps.stores.learners.commit(lost_request)


def test_a_move_whose_copy_to_the_old_user_was_lost_is_repaired_on_their_profile_read(
    fake_deps: Dependencies, world: World
) -> None:
    person_a, person_b = world.person(), world.person()
    add(fake_deps, person_a)
    add(fake_deps, person_b)
    link.link(fake_deps, person_a.caller, body(world, "MCID-9", fake_deps, person_a))
    world.clock.advance(timedelta(days=31))
    moving = body(world, "MCID-9", fake_deps, person_b)
    losing_the_copy_to(fake_deps, person_a, lambda: link.link(fake_deps, person_b.caller, moving))
    stale = fake_deps.stores.users.get(person_a.tenant_id, person_a.email)
    assert stale is not None and stale.value.linked_in("learn")
    profile = profiles.profile(fake_deps, person_a.caller)
    assert profile.programs["learn"].active is None
    assert profile.history[0].end_reason == "moved"
    repaired = fake_deps.stores.users.get(person_a.tenant_id, person_a.email)
    assert repaired is not None
    assert not repaired.value.linked_in("learn")


def test_an_unlink_whose_copy_to_the_user_was_lost_still_lets_the_person_link_again(
    fake_deps: Dependencies, world: World
) -> None:
    person = world.person()
    add(fake_deps, person)
    link.link(fake_deps, person.caller, body(world, "MCID-1", fake_deps, person))
    losing_the_copy_to(
        fake_deps, person, lambda: unlink.unlink(fake_deps, person.caller, unlinking())
    )
    world.clock.advance(timedelta(days=31))
    result = link.link(fake_deps, person.caller, body(world, "MCID-2", fake_deps, person))
    assert result.created
    found = fake_deps.stores.users.get(person.tenant_id, person.email)
    assert found is not None
    assert [(a.learner_id, a.end_reason) for a in found.value.associations] == [
        ("MCID-1", "unlinked"),
        ("MCID-2", None),
    ]


def test_unlink_of_an_association_that_already_moved_away_is_404_and_repairs(
    fake_deps: Dependencies, world: World
) -> None:
    person_a, person_b = world.person(), world.person()
    add(fake_deps, person_a)
    add(fake_deps, person_b)
    link.link(fake_deps, person_a.caller, body(world, "MCID-5", fake_deps, person_a))
    world.clock.advance(timedelta(days=31))
    moving = body(world, "MCID-5", fake_deps, person_b)
    losing_the_copy_to(fake_deps, person_a, lambda: link.link(fake_deps, person_b.caller, moving))
    with pytest.raises(ServiceError) as refused:
        unlink.unlink(fake_deps, person_a.caller, unlinking())
    assert (refused.value.status, refused.value.code) == (404, "not_linked")
    found = fake_deps.stores.users.get(person_a.tenant_id, person_a.email)
    assert found is not None
    assert found.value.associations[0].end_reason == "moved"


def test_departed_user_cannot_link_or_read(fake_deps: Dependencies, world: World) -> None:
    person = world.person()
    add(fake_deps, person)
    found = fake_deps.stores.users.get(person.tenant_id, person.email)
    assert found is not None
    fake_deps.stores.users.replace(
        found.value.model_copy(update={"status": "departed"}), found.etag
    )
    for call in (
        lambda: profiles.profile(fake_deps, person.caller),
        lambda: link.link(fake_deps, person.caller, body(world, unique("M"), fake_deps, person)),
        lambda: unlink.unlink(fake_deps, person.caller, unlinking()),
    ):
        with pytest.raises(ServiceError) as refused:
            call()
        assert refused.value.code == "not_partner_center_user"


def test_the_profile_keeps_a_claim_whose_learner_committed_just_before_the_fence(
    fake_deps: Dependencies, world: World
) -> None:
    person = world.person()
    add(fake_deps, person)
    claim = leave_claim_behind(fake_deps, person, "MCID-late")
    world.clock.advance(timedelta(minutes=5))
    learners = fake_deps.stores.learners
    assert isinstance(learners, FakeLearners)
    real_load = learners.load

    def load_then_the_lost_request_commits(program, learner_id, **kwargs):
        found = real_load(program, learner_id, **kwargs)
        if learner_id == "MCID-late" and not real_load("learn", "MCID-late").exists:
            lost_request = Learner.new("learn", "MCID-late")
            lost_request.start(claim)
            learners.commit(lost_request)
        return found

    learners.load = load_then_the_lost_request_commits  # type: ignore[method-assign]
    profiles.profile(fake_deps, person.caller)
    found = fake_deps.stores.users.get(person.tenant_id, person.email)
    assert found is not None
    assert found.value.find_association(claim.association_id) is not None
