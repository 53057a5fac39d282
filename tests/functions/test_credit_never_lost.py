"""Rule 7's promise under the cases that used to lose credit silently: wake-ups due
in the same hour, a completion racing a link, and a wake-up whose message never
arrives. Against Azurite, through the queue and timer functions, clock controlled."""

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import bootstrap as runtime
from shared.adapters.credit_wakes import TABLE as WAKES_TABLE
from shared.services import credit_ingest
from shared.services.scheduler import OVERDUE_AFTER
from tests.functions.test_credit_rules import DUE, EVENTS, event, report, tick
from tests.support.api import FunctionClient
from tests.support.queue_host import QueueHost
from tests.support.world import Person, World, unique

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def empty_queues(host: QueueHost) -> None:
    host.clear(EVENTS, f"{EVENTS}-poison", DUE, f"{DUE}-poison")


def credited_ids(tenant: str) -> list[str]:
    return sorted(r.credential_id for r in report(tenant))


def linked_member(world: World, api: FunctionClient) -> tuple[Person, str]:
    person = api.member(world)
    learner = unique("MCID")
    assert api.link(person, "learn", world.assertion(learner)).status == 201
    return person, learner


def test_two_completions_due_in_the_same_hour_are_both_credited(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person, learner = linked_member(world, api)
    world.clock.advance(DAY)
    first = world.clock.now().replace(minute=10)
    host.send(EVENTS, event(learner, "MOD-2", first + timedelta(minutes=30)))
    tick(host)
    host.send(EVENTS, event(learner, "MOD-1", first))
    tick(host)
    world.clock.set(first + 10 * DAY + timedelta(minutes=5))
    tick(host)
    assert credited_ids(person.tenant_id) == ["MOD-1"]
    world.clock.set(first + 10 * DAY + timedelta(minutes=35))
    tick(host)
    assert credited_ids(person.tenant_id) == ["MOD-1", "MOD-2"]
    assert api.profile(person).json()["pending_credits"] == []


@pytest.mark.parametrize("new_reported", ["after_the_link", "just_before_the_link"])
def test_a_link_whose_earlier_credential_and_a_new_completion_fall_due_in_the_same_hour(
    world: World, api: FunctionClient, host: QueueHost, new_reported: str
) -> None:
    """The new completion is a few seconds after the start; the platform may report
    it just before the link lands (its clock a little ahead) or just after."""
    person = api.member(world)
    learner = unique("MCID")
    host.send(EVENTS, event(learner, "EARLIER", world.clock.now() - 100 * DAY))
    tick(host)
    started = world.clock.now()
    new = event(learner, "NEW", started + timedelta(seconds=5))
    if new_reported == "just_before_the_link":
        host.send(EVENTS, new)
        tick(host)
    assert api.link(person, "learn", world.assertion(learner)).status == 201
    if new_reported == "after_the_link":
        world.clock.advance(timedelta(seconds=5))
        host.send(EVENTS, new)
        tick(host)
    world.clock.set(started + 10 * DAY)
    tick(host)
    assert credited_ids(person.tenant_id) == ["EARLIER"]
    world.clock.set(started + 10 * DAY + timedelta(seconds=5))
    tick(host)
    assert credited_ids(person.tenant_id) == ["EARLIER", "NEW"]


def test_twenty_completions_spread_over_one_hour_are_all_credited(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person, learner = linked_member(world, api)
    world.clock.advance(DAY)
    hour = world.clock.now().replace(minute=0, second=0)
    completions = [hour + timedelta(minutes=3 * n) for n in range(20)]
    for n, completed in enumerate(reversed(completions)):
        host.send(EVENTS, event(learner, f"MOD-{19 - n:02d}", completed))
    tick(host)
    for minutes in range(0, 65, 5):
        world.clock.set(hour + 10 * DAY + timedelta(minutes=minutes))
        tick(host)
        due = [c for c in completions if c + 10 * DAY <= world.clock.now()]
        assert len(report(person.tenant_id)) == len(due)
    assert credited_ids(person.tenant_id) == [f"MOD-{n:02d}" for n in range(20)]


def _race_link_with_ingest(
    world: World, api: FunctionClient, host: QueueHost, *, interleave: bool
) -> tuple[Person, str]:
    """Link and ingest at once. With `interleave`, both read the learner before either
    writes (the interleaving that lost credit); otherwise they run free."""
    person = api.member(world)
    learner = unique("MCID")
    assertion = world.assertion(learner)
    message = event(learner, "RACED", world.clock.now())
    learners: Any = runtime.current().stores.learners
    both_read = threading.Barrier(2, timeout=10)
    waited: set[int] = set()
    original = learners.load

    def read_then_wait(*args: Any, **kwargs: Any) -> Any:
        found = original(*args, **kwargs)
        if interleave and args[1] == learner and threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait()
        return found

    learners.load = read_then_wait
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            linked = pool.submit(api.link, person, "learn", assertion)
            ingest = credit_ingest.parse_event(json.dumps(message))
            pool.submit(credit_ingest.ingest, runtime.current().deps, ingest).result()
            assert linked.result().status == 201
    finally:
        learners.load = original
    return person, learner


@pytest.mark.parametrize("interleave", [True, False], ids=["both-read-first", "free-running"])
def test_a_completion_racing_a_link_is_credited(
    world: World, api: FunctionClient, host: QueueHost, interleave: bool
) -> None:
    for _ in range(8 if interleave else 25):
        start = world.clock.now()
        person, _learner = _race_link_with_ingest(world, api, host, interleave=interleave)
        pending = api.profile(person).json()["pending_credits"]
        assert [p["credential"]["id"] for p in pending] == ["RACED"]
        world.clock.set(start + 10 * DAY)
        tick(host)
        assert credited_ids(person.tenant_id) == ["RACED"]
        world.clock.set(start + DAY)


def _delete_all_wakes() -> None:
    table = runtime.current().tables.table(WAKES_TABLE)
    for entity in table.list_entities(select=["PartitionKey", "RowKey"]):
        table.delete_entity(entity["PartitionKey"], entity["RowKey"])


def test_overdue_credit_is_applied_by_the_scheduler_when_its_messages_are_lost(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person, learner = linked_member(world, api)
    completed = world.clock.now()
    host.send(EVENTS, event(learner, "AZ-104", completed))
    tick(host)
    world.clock.set(completed + 10 * DAY)
    host.run_timer("send_due_credit_wakes")
    host.clear(DUE)  # every message the scheduler sent is lost
    world.clock.advance(OVERDUE_AFTER + timedelta(minutes=1))
    host.run_timer("send_due_credit_wakes")
    assert credited_ids(person.tenant_id) == ["AZ-104"]


def test_the_profile_never_shows_a_due_at_long_past(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person, learner = linked_member(world, api)
    completed = world.clock.now()
    host.send(EVENTS, event(learner, "AZ-104", completed))
    host.drain(EVENTS, "ingest_learning_event")
    _delete_all_wakes()
    world.clock.set(completed + 10 * DAY + OVERDUE_AFTER - timedelta(seconds=1))
    assert len(api.profile(person).json()["pending_credits"]) == 1
    world.clock.set(completed + 10 * DAY + OVERDUE_AFTER + timedelta(seconds=1))
    profile = api.profile(person).json()
    assert profile["pending_credits"] == []
    assert [c["credential"]["id"] for c in profile["credited"]] == ["AZ-104"]
    assert credited_ids(person.tenant_id) == ["AZ-104"]


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("complete"), st.integers(0, 5), st.integers(-120, 180)),
        st.tuples(st.just("advance"), st.integers(1, 90)),
        st.tuples(st.just("near_due"), st.integers(-60, 240)),
        st.just(("link",)),
        st.just(("ingest",)),
        st.just(("schedule",)),
        st.just(("apply",)),
    ),
    min_size=1,
    max_size=16,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_any_order_of_link_ingest_scheduler_and_apply_credits_every_due_credential_once(
    world: World, api: FunctionClient, host: QueueHost, steps: list[tuple[Any, ...]]
) -> None:
    """Completions land minutes around the example's start, and `near_due` moves the
    clock to minutes around the start plus the 10-day delay, so due times share hours
    and the scheduler and apply steps run between them in any order."""
    host.clear(EVENTS, DUE)
    world.clock.advance(30 * DAY)
    origin = world.clock.now()
    person = api.member(world)
    learner = unique("MCID")
    completed: set[str] = set()
    for step in steps:
        match step:
            case ("complete", credential, offset):
                when = origin + timedelta(minutes=offset)
                host.send(EVENTS, event(learner, f"C-{credential}", when))
                completed.add(f"C-{credential}")
            case ("advance", minutes):
                world.clock.advance(timedelta(minutes=minutes))
            case ("near_due", minutes):
                world.clock.set(
                    max(world.clock.now(), origin + 10 * DAY + timedelta(minutes=minutes))
                )
            case ("link",):
                api.link(person, "learn", world.assertion(learner))
            case ("ingest",):
                host.drain(EVENTS, "ingest_learning_event")
            case ("schedule",):
                host.run_timer("send_due_credit_wakes")
            case ("apply",):
                host.drain(DUE, "apply_due_credit")
    linked = api.profile(person).json()["programs"]["learn"]["active"] is not None
    host.drain(EVENTS, "ingest_learning_event")
    world.clock.advance(20 * DAY)
    host.run_timer("send_due_credit_wakes")
    host.drain(DUE, "apply_due_credit")
    rows = report(person.tenant_id)
    assert len(rows) == len({r.credential_id for r in rows}), "credited twice"
    assert sorted(r.credential_id for r in rows) == (sorted(completed) if linked else [])
