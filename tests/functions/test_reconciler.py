"""The reconciler finishes what a crash left, so that nothing waits for a person to
repeat a request: a departure cut short, the end of a move never copied, a claim
whose learner never committed. Its cost grows with what crashed."""

from datetime import UTC, date, datetime, timedelta

import pytest

from devtools.request_counter import RequestCounter
from shared import bootstrap as runtime
from tests.functions.test_credit_rules import report
from tests.functions.test_departure_and_refresh import _failing_once, credited_person
from tests.support.api import FunctionClient
from tests.support.queue_host import QueueHost
from tests.support.world import Person, World, unique

AFTER_THE_IN_FLIGHT_WINDOW = timedelta(minutes=3)


@pytest.fixture(autouse=True)
def no_intents_of_other_tests(azure_runtime: runtime.Runtime) -> None:
    """The intents table is shared by every test of the session: start from none."""
    table = azure_runtime.tables.table("intents")
    for entity in list(table.list_entities()):
        table.delete_entity(entity["PartitionKey"], entity["RowKey"])


def _linked_flags(api: FunctionClient, world: World, person: Person) -> dict[str, bool]:
    users = api.call("GET", "org/users", person=world.admin(person.tenant_id)).json()["users"]
    [row] = [u for u in users if u["email"] == person.email]
    return dict(row["linked"])


def _reconcile(world: World, host: QueueHost) -> None:
    world.clock.advance(AFTER_THE_IN_FLIGHT_WINDOW)
    host.run_timer("reconcile")


def test_a_move_cut_short_is_finished_by_the_reconciler_without_anyone_retrying(
    world: World, api: FunctionClient, host: QueueHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, learner = credited_person(world, api, host)
    world.clock.set(datetime(2026, 3, 3, tzinfo=UTC))
    other = world.person(world.tenant())
    api.add_user(world.admin(other.tenant_id), other)
    _failing_once(monkeypatch, runtime.current().stores.learners, "put_credited")
    assert api.link(other, "learn", world.assertion(learner)).status == 503
    assert _linked_flags(api, world, person)["learn"] is True  # the end was never copied
    _reconcile(world, host)
    assert _linked_flags(api, world, person)["learn"] is False
    assert {r.removal_on for r in report(person.tenant_id)} == {date(2026, 4, 10)}
    assert _linked_flags(api, world, other)["learn"] is True


def test_a_departure_cut_short_is_finished_by_the_reconciler_and_stops_credit(
    world: World, api: FunctionClient, host: QueueHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = api.member(world)
    learner = unique("MCID")
    assert api.link(person, "learn", world.assertion(learner)).status == 201
    _failing_once(monkeypatch, runtime.current().stores.learners, "commit")
    admin = world.admin(person.tenant_id)
    assert api.call("DELETE", f"org/users/{person.email}", person=admin).status == 503
    truth = runtime.current().stores.learners.load("learn", learner, state_only=True)
    assert truth.active is not None  # departed, and still crediting: the gap
    _reconcile(world, host)
    truth = runtime.current().stores.learners.load("learn", learner, state_only=True)
    assert truth.active is None
    assert truth.state.associations[-1].end_reason == "user_departed"
    entries = api.call("GET", "org/activity", person=admin, params={"email": person.email})
    assert "user.departed" in {e["type"] for e in entries.json()["entries"]}


def test_a_claim_whose_learner_never_committed_is_dropped_by_the_reconciler(
    world: World, api: FunctionClient, host: QueueHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = api.member(world)
    _failing_once(monkeypatch, runtime.current().stores.learners, "commit")
    assert api.link(person, "learn", world.assertion(unique("MCID"))).status == 503
    claimed = runtime.current().stores.users.get(person.tenant_id, person.email)
    assert claimed is not None and claimed.value.associations  # the claim stayed
    _reconcile(world, host)
    dropped = runtime.current().stores.users.get(person.tenant_id, person.email)
    assert dropped is not None and dropped.value.associations == []
    assert _linked_flags(api, world, person) == {"learn": False, "partner_university": False}


def test_a_young_intent_is_left_to_the_request_still_at_work(
    world: World, api: FunctionClient, host: QueueHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = api.member(world)
    _failing_once(monkeypatch, runtime.current().stores.learners, "commit")
    assert api.link(person, "learn", world.assertion(unique("MCID"))).status == 503
    host.run_timer("reconcile")  # no time has passed
    still = runtime.current().stores.users.get(person.tenant_id, person.email)
    assert still is not None and still.value.associations
    assert len(runtime.current().stores.intents.older_than(world.clock.now(), 10)) == 1


def _crashed_unlinks(
    world: World, api: FunctionClient, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    """Unlinks whose copy of the end to the user's row a crash lost."""
    users = runtime.current().stores.users
    for _ in range(count):
        person = api.member(world)
        assert api.link(person, "learn", world.assertion(unique("MCID"))).status == 201
        with monkeypatch.context() as patched:
            _failing_once(patched, users, "replace")
            assert api.unlink(person, "learn").status == 503


def test_reconciler_cost_is_one_request_with_nothing_to_repair_and_linear_in_intents(
    world: World,
    api: FunctionClient,
    azure_runtime: runtime.Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared.services import reconciler

    counter = RequestCounter()
    counting = runtime.Runtime(azure_runtime.settings, azure_runtime.clock, counter)
    runtime.install(counting)
    for table in ("intents", "learners", "partnerusers", "activity"):
        counting.tables.table(table)

    def cost() -> int:
        world.clock.advance(AFTER_THE_IN_FLIGHT_WINDOW)
        counter.reset()
        reconciler.reconcile(counting.deps)
        return counter.total

    assert cost() == 1
    _crashed_unlinks(world, api, monkeypatch, 3)
    three = cost()
    _crashed_unlinks(world, api, monkeypatch, 6)
    six = cost()
    print(f"reconciler requests: 0 intents 1, 3 crashed unlinks {three}, 6 {six}")
    # Per run: the query and one batch delete; per change, linear (each link's
    # finished intent one point read, each crashed unlink read and finished).
    assert six - 2 == 2 * (three - 2)
    assert cost() == 1  # all finished: back to the constant


def test_a_finished_change_leaves_its_intent_for_the_reconciler_to_remove_with_one_read(
    world: World, api: FunctionClient, azure_runtime: runtime.Runtime
) -> None:
    """The path writes the intent and never deletes it: the marker entry, written
    last, tells the reconciler the change finished, so it removes the intent without
    doing anything again (one point read per intent, deletes in batches)."""
    from shared.services import reconciler

    for _ in range(3):
        person = api.member(world)
        assert api.link(person, "learn", world.assertion(unique("MCID"))).status == 201
        assert api.unlink(person, "learn").status == 204
    world.clock.advance(AFTER_THE_IN_FLIGHT_WINDOW)
    done = reconciler.reconcile(azure_runtime.deps)
    assert (done.already_done, done.finished, done.left_for_next_run) == (6, 0, 0)
    assert azure_runtime.stores.intents.older_than(world.clock.now(), 100) == []
