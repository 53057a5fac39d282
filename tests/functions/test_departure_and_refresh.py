"""Rules 8 and 9: people who leave, ends by unlink or move, and the monthly refresh,
through the functions against Azurite, on a controlled clock."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from shared import bootstrap as runtime
from shared.domain.learner import Learner
from shared.domain.model import CreditedRecord, removal_date
from tests.functions.test_credit_rules import DUE, EVENTS, event, report, tick
from tests.support.api import FunctionClient
from tests.support.queue_host import QueueHost
from tests.support.world import Person, World, unique

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def empty_queues(host: QueueHost) -> None:
    host.clear(EVENTS, f"{EVENTS}-poison", DUE, f"{DUE}-poison")


def credited_person(
    world: World,
    api: FunctionClient,
    host: QueueHost,
    tenant: str | None = None,
    credentials: int = 2,
) -> tuple[Person, str]:
    """A person whose learner has `credentials` rows in the Skills Report."""
    tenant = tenant or world.tenant()
    person = world.person(tenant)
    api.add_user(world.admin(tenant), person, "Pat")
    learner = unique("MCID")
    for n in range(credentials):
        host.send(EVENTS, event(learner, f"AZ-{n}", world.clock.now() - 50 * DAY))
    host.drain(EVENTS, "ingest_learning_event")
    api.link(person, "learn", world.assertion(learner))
    world.clock.advance(10 * DAY)
    tick(host)
    assert len([r for r in report(tenant) if r.learner_id == learner]) == credentials
    return person, learner


def refresh_at(world: World, host: QueueHost, instant: datetime) -> None:
    world.clock.set(instant)
    host.run_timer("monthly_refresh")


def delete(api: FunctionClient, world: World, person: Person):
    return api.call("DELETE", f"org/users/{person.email}", person=world.admin(person.tenant_id))


@pytest.mark.parametrize(
    ("left", "removed_on"),
    [
        (datetime(2026, 1, 20, 15, tzinfo=UTC), date(2026, 2, 10)),
        (datetime(2026, 1, 10, 1, tzinfo=UTC), date(2026, 2, 10)),
        (datetime(2026, 1, 31, 23, 59, tzinfo=UTC), date(2026, 2, 10)),
        (datetime(2026, 12, 15, tzinfo=UTC), date(2027, 1, 10)),
    ],
)
def test_rule_8_removal_on_is_the_10th_of_the_month_after_the_end(
    left: datetime, removed_on: date
) -> None:
    assert removal_date(left) == removed_on


def test_rule_8_the_seed_example_deleted_in_january_gone_after_the_february_10_refresh(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person, learner = credited_person(world, api, host)
    world.clock.set(datetime(2026, 1, 20, 12, tzinfo=UTC))
    response = delete(api, world, person)
    assert response.status == 202
    assert response.json() == {
        "email": person.email,
        "removal_on": "2026-02-10",
        "already_departed": False,
    }
    rows = report(person.tenant_id)
    assert {r.removal_on for r in rows} == {date(2026, 2, 10)}

    refresh_at(world, host, datetime(2026, 2, 9, 2, tzinfo=UTC))
    assert len(report(person.tenant_id)) == 2
    refresh_at(world, host, datetime(2026, 2, 10, 2, tzinfo=UTC))
    assert report(person.tenant_id) == []
    found = runtime.current().stores.learners.load("learn", learner)
    assert found.credited == []
    assert found.exists
    assert found.state.associations[-1].end_reason == "user_departed"


def test_departure_in_december_rolls_over_to_january(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    world.clock.set(datetime(2026, 11, 20, tzinfo=UTC))
    person, _ = credited_person(world, api, host)
    world.clock.set(datetime(2026, 12, 31, 23, tzinfo=UTC))
    assert delete(api, world, person).json()["removal_on"] == "2027-01-10"
    refresh_at(world, host, datetime(2027, 1, 10, 2, tzinfo=UTC))
    assert report(person.tenant_id) == []


def test_departure_answers_and_its_effects(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person, learner = credited_person(world, api, host)
    world.clock.advance(DAY)
    first = delete(api, world, person)
    assert first.status == 202
    world.clock.advance(40 * DAY)
    again = delete(api, world, person)
    assert again.status == 200
    assert again.json() == {**first.json(), "already_departed": True}
    assert api.profile(person).status == 403
    assert (
        api.link(person, "learn", world.assertion(unique("MCID"))).error_code
        == "not_partner_center_user"
    )
    gone = Person(person.tenant_id, "nobody@contoso.com")
    missing = api.call("DELETE", f"org/users/{gone.email}", person=world.admin(person.tenant_id))
    assert (missing.status, missing.error_code) == (404, "user_not_found")
    non_admin = api.call("DELETE", f"org/users/{person.email}", person=person)
    assert (non_admin.status, non_admin.error_code) == (403, "forbidden")
    other_tenant_admin = api.call(
        "DELETE", f"org/users/{person.email}", person=world.admin(world.tenant())
    )
    assert other_tenant_admin.status == 404

    elsewhere = world.person(world.tenant())
    api.add_user(world.admin(elsewhere.tenant_id), elsewhere)
    assert api.link(elsewhere, "learn", world.assertion(learner)).status == 201

    listing = api.call("GET", "org/users", person=world.admin(person.tenant_id)).json()["users"]
    assert [(u["email"], u["status"]) for u in listing] == [(person.email, "departed")]
    assert api.add_user(world.admin(person.tenant_id), person).status == 201
    assert api.profile(person).json()["history"][0]["end_reason"] == "user_departed"


def test_rule_8_unlink_keeps_rows_until_the_refresh_with_their_removal_date(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person, _ = credited_person(world, api, host)
    world.clock.set(datetime(2026, 3, 3, tzinfo=UTC))
    assert api.unlink(person, "learn").status == 204
    assert {r.removal_on for r in report(person.tenant_id)} == {date(2026, 4, 10)}
    credited = api.profile(person).json()["credited"]
    assert {c["removal_on"] for c in credited} == {"2026-04-10"}
    skills = api.call("GET", "org/skills-report", person=world.admin(person.tenant_id)).json()
    assert {r["removal_on"] for r in skills["rows"]} == {"2026-04-10"}
    refresh_at(world, host, datetime(2026, 4, 10, 2, tzinfo=UTC))
    assert report(person.tenant_id) == []


def test_rule_8_a_move_gives_the_old_organization_a_removal_date(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person, learner = credited_person(world, api, host)
    world.clock.set(datetime(2026, 3, 3, tzinfo=UTC))
    other = world.person(world.tenant())
    api.add_user(world.admin(other.tenant_id), other)
    assert api.link(other, "learn", world.assertion(learner)).status == 201
    assert {r.removal_on for r in report(person.tenant_id)} == {date(2026, 4, 10)}
    world.clock.set(datetime(2026, 3, 13, 10, tzinfo=UTC))
    tick(host)
    assert {r.removal_on for r in report(other.tenant_id)} == {None}
    refresh_at(world, host, datetime(2026, 4, 10, 2, tzinfo=UTC))
    assert report(person.tenant_id) == []
    assert len(report(other.tenant_id)) == 2


def test_rule_8_returning_to_the_same_organization_before_the_refresh_keeps_the_rows(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person, learner = credited_person(world, api, host)
    world.clock.set(datetime(2026, 3, 3, tzinfo=UTC))
    api.unlink(person, "learn")
    world.clock.set(datetime(2026, 4, 5, tzinfo=UTC))
    assert api.link(person, "learn", world.assertion(learner)).status == 201
    rows = report(person.tenant_id)
    assert [(r.credential_id, r.removal_on) for r in rows] == [("AZ-0", None), ("AZ-1", None)]
    refresh_at(world, host, datetime(2026, 4, 10, 2, tzinfo=UTC))
    world.clock.set(datetime(2026, 4, 20, tzinfo=UTC))
    tick(host)
    assert len(report(person.tenant_id)) == 2


def test_rule_9_a_refresh_that_missed_a_month_catches_up(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person, _ = credited_person(world, api, host)
    world.clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    delete(api, world, person)
    refresh_at(world, host, datetime(2026, 4, 10, 2, tzinfo=UTC))
    assert report(person.tenant_id) == []


def test_rule_9_an_interrupted_refresh_run_again_removes_everything_due_and_nothing_else(
    world: World, api: FunctionClient, host: QueueHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = world.tenant()
    leaving = [credited_person(world, api, host, tenant)[0] for _ in range(3)]
    staying, _ = credited_person(world, api, host, tenant)
    world.clock.set(datetime(2026, 3, 1, tzinfo=UTC))
    for person in leaving:
        delete(api, world, person)
    store = runtime.current().stores.report
    real_delete = store.delete_unchanged

    def failing(tenant_id, rows):
        raise RuntimeError("storage went away")

    monkeypatch.setattr(store, "delete_unchanged", failing)
    with pytest.raises(RuntimeError):
        refresh_at(world, host, datetime(2026, 4, 10, 2, tzinfo=UTC))
    monkeypatch.setattr(store, "delete_unchanged", real_delete)
    assert len(report(tenant)) == 8
    assert runtime.current().stores.removals.due(date(2026, 4, 10), 10), "nothing consumed"
    host.run_timer("monthly_refresh")
    assert {r.email for r in report(tenant)} == {staying.email}
    host.run_timer("monthly_refresh")
    assert {r.email for r in report(tenant)} == {staying.email}


def _failing_once(monkeypatch: pytest.MonkeyPatch, store: object, name: str) -> None:
    """The next call of store.name fails as storage does, once; then it works again."""
    from azure.core.exceptions import ServiceRequestError

    real = getattr(store, name)
    calls = {"n": 0}

    def fail_first(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ServiceRequestError("connection dropped")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, name, fail_first)


def test_a_retried_link_finishes_clearing_removal_dates_that_a_failure_cut_short(
    world: World, api: FunctionClient, host: QueueHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, learner = credited_person(world, api, host)
    world.clock.set(datetime(2026, 3, 3, tzinfo=UTC))
    api.unlink(person, "learn")
    world.clock.set(datetime(2026, 4, 5, tzinfo=UTC))
    _failing_once(monkeypatch, runtime.current().stores.report, "put_rows")
    assertion = world.assertion(learner)
    first = api.link(person, "learn", assertion)
    assert (first.status, first.error_code) == (503, "storage_unavailable")
    retried = api.link(person, "learn", assertion)
    assert retried.status == 200
    assert {r.removal_on for r in report(person.tenant_id)} == {None}
    assert {c["removal_on"] for c in api.profile(person).json()["credited"]} == {None}


def test_a_retried_move_finishes_marking_the_old_organization_that_a_failure_cut_short(
    world: World, api: FunctionClient, host: QueueHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, learner = credited_person(world, api, host)
    world.clock.set(datetime(2026, 3, 3, tzinfo=UTC))
    other = world.person(world.tenant())
    api.add_user(world.admin(other.tenant_id), other)
    _failing_once(monkeypatch, runtime.current().stores.learners, "put_credited")
    assertion = world.assertion(learner)
    assert api.link(other, "learn", assertion).status == 503
    assert api.link(other, "learn", assertion).status == 200
    assert {r.removal_on for r in report(person.tenant_id)} == {date(2026, 4, 10)}
    history = api.profile(person).json()["history"]
    assert [a["end_reason"] for a in history] == ["moved"]


def test_a_retried_unlink_finishes_the_removal_dates_that_a_failure_cut_short(
    world: World, api: FunctionClient, host: QueueHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, _ = credited_person(world, api, host)
    world.clock.set(datetime(2026, 3, 3, tzinfo=UTC))
    _failing_once(monkeypatch, runtime.current().stores.learners, "put_credited")
    assert api.unlink(person, "learn").status == 503
    api.unlink(person, "learn")
    assert {r.removal_on for r in report(person.tenant_id)} == {date(2026, 4, 10)}
    assert api.profile(person).json()["programs"]["learn"]["active"] is None


def test_rule_8_a_learner_who_returns_while_the_refresh_runs_keeps_the_rows(
    world: World, api: FunctionClient, host: QueueHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, learner = credited_person(world, api, host)
    world.clock.set(datetime(2026, 3, 3, tzinfo=UTC))
    api.unlink(person, "learn")
    stores = runtime.current().stores
    real_due = stores.report.due_for_removal
    returned = {"done": False}

    def read_then_the_learner_returns(tenant_id, today):
        found = real_due(tenant_id, today)
        if tenant_id == person.tenant_id and not returned["done"]:
            assert found, "the refresh read the rows while they were due"
            returned["done"] = True
            # A return committed just before the refresh (rule 8: before removal_on
            # day's refresh), its clearing of the dates racing the refresh's read.
            world.clock.set(datetime(2026, 4, 10, 1, 59, 59, tzinfo=UTC))
            assert api.link(person, "learn", world.assertion(learner)).status == 201
            world.clock.set(datetime(2026, 4, 10, 2, tzinfo=UTC))
        return found

    monkeypatch.setattr(stores.report, "due_for_removal", read_then_the_learner_returns)
    refresh_at(world, host, datetime(2026, 4, 10, 2, tzinfo=UTC))
    assert returned["done"]
    real_read = stores.learners.load
    rows = report(person.tenant_id)
    assert [(r.credential_id, r.removal_on) for r in rows] == [("AZ-0", None), ("AZ-1", None)]
    kept = real_read("learn", learner).credited
    assert sorted((c.credential.id, c.removal_on) for c in kept) == [
        ("AZ-0", None),
        ("AZ-1", None),
    ]


def test_rule_8_a_returns_late_clearing_cannot_undo_the_removal_date_of_the_move_that_ended_it(
    world: World,
    api: FunctionClient,
    host: QueueHost,
    azure_runtime: runtime.Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The return to A clears A's removal dates after its commit; if a move to B ends
    that return first, the clearing comes late and must leave A's rows with the move's
    removal date (found by the load run)."""
    no_cool_off = azure_runtime.settings.model_copy(update={"association_cool_off": timedelta(0)})
    runtime.install(runtime.Runtime(no_cool_off, azure_runtime.clock))
    person, learner = credited_person(world, api, host)
    world.clock.set(datetime(2026, 3, 3, tzinfo=UTC))
    api.unlink(person, "learn")
    other = world.person(world.tenant())
    api.add_user(world.admin(other.tenant_id), other)
    learners = runtime.current().stores.learners
    real_put = learners.put_credited
    moved = {"done": False}

    def the_move_comes_before_the_clearing(
        found: Learner, records: Sequence[CreditedRecord]
    ) -> None:
        if found.learner_id == learner and not moved["done"]:
            moved["done"] = True
            assert api.link(other, "learn", world.assertion(learner)).status == 201
        real_put(found, records)

    monkeypatch.setattr(learners, "put_credited", the_move_comes_before_the_clearing)
    world.clock.set(datetime(2026, 4, 5, tzinfo=UTC))
    assert api.link(person, "learn", world.assertion(learner)).status == 201
    assert moved["done"]
    moved_on = removal_date(datetime(2026, 4, 5, tzinfo=UTC))
    assert {r.removal_on for r in report(person.tenant_id)} == {moved_on}
    kept = learners.load("learn", learner).credited_for(person.tenant_id)
    assert {c.removal_on for c in kept} == {moved_on}
