"""Rule 10 under real concurrency: threads calling the functions at once against
Azurite leave the state one call would."""

from concurrent.futures import ThreadPoolExecutor

from shared import bootstrap as runtime
from tests.support.api import FunctionClient
from tests.support.world import World, unique


def test_rule_10_ten_people_race_for_one_learner_exactly_one_association_starts(
    world: World, api: FunctionClient
) -> None:
    learner = unique("MCID")
    tenants = [world.tenant() for _ in range(10)]
    people = [world.person(t) for t in tenants]
    for tenant, person in zip(tenants, people, strict=True):
        assert api.add_user(world.admin(tenant), person).status == 201
    assertions = [world.assertion(learner) for _ in people]

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(
            pool.map(
                lambda pair: api.link(pair[0], "learn", pair[1]),
                zip(people, assertions, strict=True),
            )
        )

    statuses = sorted(r.status for r in responses)
    assert statuses == [201] + [429] * 9, [r.body for r in responses]
    winner = next(p for p, r in zip(people, responses, strict=True) if r.status == 201)
    deps = runtime.current().stores
    state = deps.learners.load("learn", learner, state_only=True)
    assert state.exists
    assert len(state.state.associations) == 1
    assert state.state.associations[0].user_email == winner.email
    for person in people:
        found = deps.users.get(person.tenant_id, person.email)
        assert found is not None
        expected = 1 if person is winner else 0
        assert len(found.value.associations) == expected, "a loser's claim was left behind"
    for response in responses:
        if response.status == 429:
            assert response.json()["error"]["code"] == "association_limited"


def test_rule_10_one_person_links_two_learners_at_once_one_wins(
    world: World, api: FunctionClient
) -> None:
    person = api.member(world)
    learners = [unique("MCID"), unique("MCID")]
    for _ in range(3):
        with ThreadPoolExecutor(max_workers=2) as pool:
            responses = list(
                pool.map(
                    lambda learner: api.link(person, "learn", world.assertion(learner)), learners
                )
            )
        statuses = sorted(r.status for r in responses)
        assert statuses == [201, 409], [r.body for r in responses]
        deps = runtime.current().stores
        found = deps.users.get(person.tenant_id, person.email)
        assert found is not None
        active = [a for a in found.value.associations if a.is_active]
        assert len(active) == 1
        for learner in learners:
            state = deps.learners.load("learn", learner, state_only=True)
            linked_here = state.active is not None
            assert linked_here == (learner == active[0].learner_id)
        assert api.unlink(person, "learn").status == 204
        learners = [unique("MCID"), unique("MCID")]


def test_rule_10_the_same_assertion_sent_five_times_at_once_starts_once(
    world: World, api: FunctionClient
) -> None:
    person = api.member(world)
    learner = unique("MCID")
    assertion = world.assertion(learner)
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: api.link(person, "learn", assertion), range(5)))
    assert sorted(r.status for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.body for r in responses}) == 1
    state = runtime.current().stores.learners.load("learn", learner, state_only=True)
    assert len(state.state.associations) == 1
