"""The crash-point sweep: for every operation, fail its k-th storage request (k from
1 to the operation's own request count) in each of three ways (a dropped connection,
a read timeout, 503 ServerBusy), through a transport wrapped around the SDK's, with
real Azurite behind it and the clients' own retries off (the worst case). Then the
world does what it does: the HTTP caller retries the same request, the queue
delivers the message again, the timer runs again; the reconciler runs; and the
invariants must hold:

- the learner's row and the user rows agree on every association, and no claim
  stays that the learner never committed;
- every credential due for an active association is credited exactly once, with
  its Skills Report row; none for an ended one;
- the refresh removes exactly the rows that are due; a removal date is never lost;
- no departed user keeps an active association;
- every HTTP answer on the way was a contract answer (never 500; 503 with Retry-After).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import bootstrap as runtime
from shared.adapters.tables import StorageRetry
from shared.queue_names import CREDITS_DUE, LEARNING_EVENTS
from tests.functions.test_credit_rules import event
from tests.support.api import FunctionClient, Response
from tests.support.faults import FAULT_KINDS, FaultyTransport, kth_request
from tests.support.invariants import invariant_violations
from tests.support.queue_host import QueueHost
from tests.support.world import Person, World, unique

DAY = timedelta(days=1)
EVENTS, DUE = LEARNING_EVENTS, CREDITS_DUE


@dataclass
class Scenario:
    """What one operation touches, and how to run it once."""

    run: Callable[[], Any]
    retry: Callable[[], Any]
    users: list[Person] = field(default_factory=list)
    learners: list[str] = field(default_factory=list)
    answers: list[Response] = field(default_factory=list)


@pytest.fixture
def sweep_host(host: QueueHost, monkeypatch: pytest.MonkeyPatch) -> QueueHost:
    """Redelivery at once, and a storage failure's put-back without its delay."""
    from shared.entrypoints import background

    monkeypatch.setattr(background, "retry_delay", lambda count: timedelta(0))
    host.host.queue_settings = type(host.host.queue_settings)(
        max_dequeue_count=5, visibility_timeout=timedelta(0)
    )
    return host


def _http(scenario: Scenario, call: Callable[[], Response]) -> Callable[[], Any]:
    def answered() -> Response:
        response = call()
        scenario.answers.append(response)
        return response

    return answered


def _until_answered(world: World, call: Callable[[], Response]) -> Callable[[], None]:
    """The HTTP caller retries a 503 with the same request: at once, then after a
    minute (a claim the failed try left is young for that long)."""

    def retry() -> None:
        for _ in range(5):
            if call().status != 503:
                return
            world.clock.advance(timedelta(seconds=61))

    return retry


def _linked_member(world: World, api: FunctionClient) -> tuple[Person, str]:
    person = api.member(world)
    learner = unique("MCID")
    assert api.link(person, "learn", world.assertion(learner)).status == 201
    return person, learner


def _credited(world: World, api: FunctionClient, host: QueueHost) -> tuple[Person, str]:
    person, learner = _linked_member(world, api)
    host.send(EVENTS, event(learner, "AZ-104", world.clock.now()))
    host.drain(EVENTS, "ingest_learning_event")
    world.clock.advance(10 * DAY + timedelta(minutes=1))
    host.run_timer("send_due_credit_wakes")
    host.drain(DUE, "apply_due_credit")
    return person, learner


def first_link(world: World, api: FunctionClient, host: QueueHost) -> Scenario:
    person = api.member(world)
    learner = unique("MCID")
    host.send(EVENTS, event(learner, "AZ-900", world.clock.now() - 20 * DAY))
    host.drain(EVENTS, "ingest_learning_event")
    assertion = world.assertion(learner)
    scenario = Scenario(run=lambda: None, retry=lambda: None, users=[person], learners=[learner])
    call = _http(scenario, lambda: api.link(person, "learn", assertion))
    scenario.run, scenario.retry = call, _until_answered(world, call)
    return scenario


def move(world: World, api: FunctionClient, host: QueueHost) -> Scenario:
    person, learner = _credited(world, api, host)
    other = api.member(world)
    world.clock.advance(31 * DAY)
    assertion = world.assertion(learner)
    scenario = Scenario(lambda: None, lambda: None, users=[person, other], learners=[learner])
    call = _http(scenario, lambda: api.link(other, "learn", assertion))
    scenario.run, scenario.retry = call, _until_answered(world, call)
    return scenario


def unlink(world: World, api: FunctionClient, host: QueueHost) -> Scenario:
    person, learner = _credited(world, api, host)
    scenario = Scenario(lambda: None, lambda: None, users=[person], learners=[learner])
    call = _http(scenario, lambda: api.unlink(person, "learn"))
    scenario.run, scenario.retry = call, _until_answered(world, call)
    return scenario


def profile_read(world: World, api: FunctionClient, host: QueueHost) -> Scenario:
    person, learner = _credited(world, api, host)
    scenario = Scenario(lambda: None, lambda: None, users=[person], learners=[learner])
    call = _http(scenario, lambda: api.profile(person))
    scenario.run, scenario.retry = call, _until_answered(world, call)
    return scenario


def add_user(world: World, api: FunctionClient, host: QueueHost) -> Scenario:
    tenant = world.tenant()
    admin, person = world.admin(tenant), world.person(tenant)
    scenario = Scenario(lambda: None, lambda: None, users=[person])

    def added() -> Response:
        return api.add_user(admin, person)

    call = _http(scenario, added)

    def retry() -> None:
        for _ in range(5):
            if call().status in (201, 409):
                return

    scenario.run, scenario.retry = call, retry
    return scenario


def departure(world: World, api: FunctionClient, host: QueueHost) -> Scenario:
    person, learner = _credited(world, api, host)
    admin = world.admin(person.tenant_id)
    scenario = Scenario(lambda: None, lambda: None, users=[person], learners=[learner])
    call = _http(scenario, lambda: api.call("DELETE", f"org/users/{person.email}", person=admin))
    scenario.run, scenario.retry = call, _until_answered(world, call)
    return scenario


def event_ingest(world: World, api: FunctionClient, host: QueueHost) -> Scenario:
    person, learner = _linked_member(world, api)
    host.clear(EVENTS)
    host.send(EVENTS, event(learner, "AZ-305", world.clock.now()))
    return Scenario(
        run=lambda: host.host.poll_queue("ingest_learning_event"),
        retry=lambda: host.drain(EVENTS, "ingest_learning_event"),
        users=[person],
        learners=[learner],
    )


def credit_apply(world: World, api: FunctionClient, host: QueueHost) -> Scenario:
    from shared.adapters.ports import Wake

    person, learner = _linked_member(world, api)
    completed = world.clock.now()
    host.send(EVENTS, event(learner, "AZ-204", completed))
    host.drain(EVENTS, "ingest_learning_event")
    world.clock.advance(10 * DAY + timedelta(minutes=1))
    active = runtime.current().stores.learners.load("learn", learner, state_only=True).active
    assert active is not None
    # Only this wake-up on the queue: the same requests on every run of the sweep.
    host.clear(DUE)
    runtime.current().stores.queue.send_wake(
        Wake("learn", learner, active.association_id, completed + 10 * DAY)
    )
    return Scenario(
        run=lambda: host.host.poll_queue("apply_due_credit"),
        retry=lambda: host.drain(DUE, "apply_due_credit"),
        users=[person],
        learners=[learner],
    )


def scheduler(world: World, api: FunctionClient, host: QueueHost) -> Scenario:
    person, learner = _linked_member(world, api)
    host.send(EVENTS, event(learner, "AZ-500", world.clock.now()))
    host.drain(EVENTS, "ingest_learning_event")
    host.run_timer("send_due_credit_wakes")  # what other tests left due goes first
    host.drain(DUE, "apply_due_credit")
    world.clock.advance(10 * DAY + timedelta(minutes=1))

    def timer() -> None:
        host.run_timer("send_due_credit_wakes")

    return Scenario(run=timer, retry=timer, users=[person], learners=[learner])


def monthly_refresh(world: World, api: FunctionClient, host: QueueHost) -> Scenario:
    person, learner = _credited(world, api, host)
    # Removals other tests left due go first: the sweep's refresh has only this one.
    host.run_timer("monthly_refresh")
    assert api.unlink(person, "learn").status == 204
    world.clock.advance(45 * DAY)

    def timer() -> None:
        host.run_timer("monthly_refresh")

    return Scenario(run=timer, retry=timer, users=[person], learners=[learner])


OPERATIONS: dict[str, Callable[[World, FunctionClient, QueueHost], Scenario]] = {
    "first link": first_link,
    "move": move,
    "unlink": unlink,
    "profile read": profile_read,
    "add user": add_user,
    "departure": departure,
    "event ingest": event_ingest,
    "credit apply": credit_apply,
    "scheduler": scheduler,
    "monthly refresh": monthly_refresh,
}


def _faulty(base: runtime.Runtime, transport: FaultyTransport) -> runtime.Runtime:
    """A runtime whose clients exist already (creating tables and queues is a cold
    start's business, not the operation's), then armed."""
    from shared.adapters import names

    faulty = runtime.Runtime(
        base.settings,
        base.clock,
        storage_retry=StorageRetry(total=0),
        storage_transport=transport,
    )
    transport.armed = False
    for table in names.TABLES:
        faulty.tables.table(table)
    for queue in names.QUEUES:
        faulty.queues.queue(queue)
    transport.armed = True
    return faulty


def _run_with(rt: runtime.Runtime, call: Callable[[], Any]) -> None:
    previous = runtime.current()
    runtime.install(rt)
    try:
        call()
    except Exception:
        pass  # a queue or timer invocation that failed: the host's business
    finally:
        runtime.install(previous)


def _world_goes_on(world: World, host: QueueHost, scenario: Scenario) -> None:
    scenario.retry()
    # What keeps running in production: the queues drain, the scheduler and the
    # reconciler run after the in-flight window.
    host.drain(EVENTS, "ingest_learning_event")
    world.clock.advance(timedelta(minutes=3))
    host.run_timer("reconcile")
    host.run_timer("send_due_credit_wakes")
    host.drain(DUE, "apply_due_credit")


def _violations(world: World, scenario: Scenario) -> list[str]:
    found = [
        f"HTTP {answer.status} {answer.body[:120]!r}"
        for answer in scenario.answers
        if answer.status >= 500 and answer.status != 503
    ]
    found += [
        "503 without Retry-After"
        for a in scenario.answers
        if a.status == 503 and not a.headers.get("Retry-After")
    ]
    rt = runtime.current()
    return found + invariant_violations(
        rt.stores,
        rt.deps.credit_delay,
        world.clock.now(),
        [("learn", learner) for learner in scenario.learners],
        [(person.tenant_id, person.email) for person in scenario.users],
    )


def _request_count(
    name: str, world: World, api: FunctionClient, host: QueueHost, base: runtime.Runtime
) -> int:
    counting = FaultyTransport()
    scenario = OPERATIONS[name](world, api, host)
    _run_with(_faulty(base, counting), scenario.run)
    return counting.sent


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_crash_point_sweep(
    name: str,
    world: World,
    api: FunctionClient,
    sweep_host: QueueHost,
    azure_runtime: runtime.Runtime,
) -> None:
    # Past every other test's dates (each operation's sweep in a decade of its own),
    # with what they left due done first, so that every run of an operation sends the
    # same requests.
    decade = 2040 + 10 * list(OPERATIONS).index(name)
    world.clock.set(datetime(decade, 1, 5, 9, 0, tzinfo=UTC))
    sweep_host.clear(EVENTS, DUE)
    for timer in ("monthly_refresh", "send_due_credit_wakes", "reconcile"):
        sweep_host.run_timer(timer)
    sweep_host.clear(DUE)
    requests = _request_count(name, world, api, sweep_host, azure_runtime)
    assert requests > 0
    failures: list[str] = []
    fired = 0
    for k in range(1, requests + 1):
        for kind in FAULT_KINDS:
            scenario = OPERATIONS[name](world, api, sweep_host)
            transport = FaultyTransport(kth_request(k, kind))
            _run_with(_faulty(azure_runtime, transport), scenario.run)
            fired += bool(transport.failed)
            _world_goes_on(world, sweep_host, scenario)
            failures += [f"{name} k={k} {kind}: {v}" for v in _violations(world, scenario)]
    cases = requests * len(FAULT_KINDS)
    print(f"crash sweep: {name}: {requests} requests x {len(FAULT_KINDS)} kinds = {cases} cases")
    assert failures == []
    # The k-th request exists in (nearly) every run: the sweep really failed each one.
    assert fired >= cases - len(FAULT_KINDS)
