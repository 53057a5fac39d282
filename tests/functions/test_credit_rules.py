"""Rule 7 (and 10 for queues) through the queue and timer functions as the host
calls them, against Azurite, with the clock controlled: nobody waits ten days."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from shared import bootstrap as runtime
from shared.queue_names import CREDITS_DUE, LEARNING_EVENTS
from shared.wire import ReportRow
from tests.support.api import FunctionClient
from tests.support.queue_host import QueueHost
from tests.support.world import Person, World, unique

DAY = timedelta(days=1)
EVENTS, DUE = LEARNING_EVENTS, CREDITS_DUE


@pytest.fixture(autouse=True)
def empty_queues(host: QueueHost) -> None:
    host.clear(EVENTS, f"{EVENTS}-poison", DUE, f"{DUE}-poison")


def event(
    learner: str, credential: str, completed_at: datetime, **overrides: Any
) -> dict[str, Any]:
    return {
        "event_id": unique("evt"),
        "type": "credential.completed",
        "program": "learn",
        "learner_id": learner,
        "credential": {
            "id": credential,
            "kind": "certification",
            "title": f"Title of {credential}",
        },
        "completed_at": completed_at.isoformat().replace("+00:00", "Z"),
        **overrides,
    }


def tick(host: QueueHost) -> None:
    """What the host does on its own: drain events, run the scheduler, drain wake-ups."""
    host.drain(EVENTS, "ingest_learning_event")
    host.run_timer("send_due_credit_wakes")
    host.drain(DUE, "apply_due_credit")


def report(tenant: str) -> list[ReportRow]:
    rows, _ = runtime.current().stores.report.page(tenant, None)
    return rows


@pytest.fixture
def linked(world: World, api: FunctionClient) -> tuple[Person, str]:
    person = api.member(world, "Pat")
    learner = unique("MCID")
    assert api.link(person, "learn", world.assertion(learner)).status == 201
    return person, learner


def test_rule_7_credit_after_the_delay_nothing_at_day_9_everything_at_day_10(
    world: World, api: FunctionClient, host: QueueHost, linked: tuple[Person, str]
) -> None:
    person, learner = linked
    world.clock.advance(DAY)
    completed = world.clock.now()
    host.send(EVENTS, event(learner, "AZ-104", completed))
    assessment = event(learner, "AZ-900", completed)
    assessment["credential"] = {"id": "AZ-900", "kind": "assessment", "title": "Fundamentals"}
    host.send(EVENTS, assessment)
    tick(host)
    profile = api.profile(person).json()
    assert [p["due_at"] for p in profile["pending_credits"]] == ["2026-01-16T09:00:00Z"] * 2
    assert profile["credited"] == []

    world.clock.set(completed + 10 * DAY - timedelta(seconds=1))
    tick(host)
    assert report(person.tenant_id) == []

    world.clock.set(completed + 10 * DAY)
    tick(host)
    rows = report(person.tenant_id)
    assert sorted(r.credential_id for r in rows) == ["AZ-104", "AZ-900"]
    assert {r.credited_at for r in rows} == {completed + 10 * DAY}
    assert all(r.email == person.email and r.display_name == "Pat" for r in rows)
    profile = api.profile(person).json()
    assert profile["pending_credits"] == []
    assert sorted(c["credential"]["id"] for c in profile["credited"]) == ["AZ-104", "AZ-900"]
    assert all(c["removal_on"] is None for c in profile["credited"])


def test_rule_7_earlier_credentials_become_pending_on_a_new_association(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person = api.member(world)
    tenant = person.tenant_id
    learner = unique("MCID")
    host.send(EVENTS, event(learner, "AI-102", world.clock.now() - 300 * DAY))
    tick(host)
    assert report(tenant) == []
    world.clock.advance(DAY)
    started = world.clock.now()
    api.link(person, "learn", world.assertion(learner))
    pending = api.profile(person).json()["pending_credits"]
    assert [(p["credential"]["id"], p["due_at"]) for p in pending] == [
        ("AI-102", (started + 10 * DAY).isoformat().replace("+00:00", "Z"))
    ]
    world.clock.set(started + 9 * DAY)
    tick(host)
    assert report(tenant) == []
    world.clock.set(started + 10 * DAY)
    tick(host)
    assert [r.credential_id for r in report(tenant)] == ["AI-102"]


def test_rule_7_credit_only_if_the_same_association_is_still_active(
    world: World, api: FunctionClient, host: QueueHost, linked: tuple[Person, str]
) -> None:
    person, learner = linked
    host.send(EVENTS, event(learner, "AZ-104", world.clock.now()))
    tick(host)
    world.clock.advance(5 * DAY)
    assert api.unlink(person, "learn").status == 204
    assert api.profile(person).json()["pending_credits"] == []
    world.clock.advance(30 * DAY)
    tick(host)
    assert report(person.tenant_id) == []


def test_rule_7_without_an_association_nobody_gets_credit_and_the_credential_is_kept(
    world: World, host: QueueHost
) -> None:
    learner = unique("MCID")
    host.send(EVENTS, event(learner, "AZ-104", world.clock.now()))
    tick(host)
    found = runtime.current().stores.learners.load("learn", learner)
    assert list(found.credentials) == ["AZ-104"]
    # The ingest creates an empty state row to guard against a racing link.
    assert found.state.associations == []


def test_rule_7_the_same_credential_twice_counts_once_with_the_earliest_completed_at(
    world: World, api: FunctionClient, host: QueueHost, linked: tuple[Person, str]
) -> None:
    person, learner = linked
    now = world.clock.now()
    host.send(EVENTS, event(learner, "AZ-104", now + 2 * DAY))
    host.send(EVENTS, event(learner, "AZ-104", now + DAY))
    host.send(EVENTS, event(learner, "AZ-104", now + 3 * DAY))
    tick(host)
    world.clock.set(now + 11 * DAY)
    tick(host)
    rows = report(person.tenant_id)
    assert len(rows) == 1
    assert rows[0].completed_at == now + DAY


def test_rule_7_a_completion_reported_late_and_already_due_is_credited_at_once(
    world: World, host: QueueHost, linked: tuple[Person, str]
) -> None:
    person, learner = linked
    world.clock.advance(20 * DAY)
    host.send(EVENTS, event(learner, "AZ-305", world.clock.now() - 15 * DAY))
    host.drain(EVENTS, "ingest_learning_event")
    assert [r.credential_id for r in report(person.tenant_id)] == ["AZ-305"]


def test_rule_10_every_message_twice_and_out_of_order_leaves_the_same_report(
    world: World, host: QueueHost, api: FunctionClient
) -> None:
    def scenario(replay: bool) -> list[tuple[str, datetime]]:
        tenant = world.tenant()
        person = world.person(tenant)
        api.add_user(world.admin(tenant), person)
        learner = unique("MCID")
        start = world.clock.now()
        api.link(person, "learn", world.assertion(learner))
        events = [event(learner, f"C-{n}", start + n * DAY) for n in range(4)]
        sends = [*events, *reversed(events)] if replay else events
        for message in sends:
            host.send(EVENTS, message)
        tick(host)
        if replay:
            host.send(EVENTS, events[0])
        world.clock.set(start + 20 * DAY)
        tick(host)
        if replay:
            tick(host)
            host.send(
                DUE,
                {
                    "program": "learn",
                    "learner_id": learner,
                    "association_id": "x",
                    "due_at": start.isoformat(),
                },
            )
            tick(host)
        world.clock.set(start)
        return sorted((r.credential_id, r.credited_at) for r in report(tenant))

    assert scenario(replay=True) == scenario(replay=False)


def test_poison_messages_end_in_the_poison_queue_and_good_ones_are_credited(
    world: World, host: QueueHost, linked: tuple[Person, str]
) -> None:
    person, learner = linked
    world.clock.advance(20 * DAY)
    late = world.clock.now() - 15 * DAY
    bad = [
        "not json at all",
        '["a list"]',
        '{"event_id": "evt-type", "type": "credential.revoked"}',
        '{"event_id": "evt-missing", "type": "credential.completed", "program": "learn"}',
        '{"event_id": "evt-date", "type": "credential.completed", "program": "learn", '
        '"learner_id": "x", "credential": {"id": "A", "kind": "certification", "title": "T"}, '
        '"completed_at": "20/11/2026"}',
    ]
    host.send(EVENTS, event(learner, "GOOD-1", late))
    for text in bad:
        host.send(EVENTS, text)
    host.send_raw(EVENTS, "%%% not base64 %%%")
    host.send(EVENTS, event(learner, "GOOD-2", late))
    host.drain(EVENTS, "ingest_learning_event")
    assert sorted(r.credential_id for r in report(person.tenant_id)) == ["GOOD-1", "GOOD-2"]
    poisoned = host.peek_texts(f"{EVENTS}-poison")
    assert len(poisoned) == len(bad) + 1
    assert host.peek_texts(EVENTS) == []


def test_two_consumers_draining_at_once_credit_each_credential_once(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    tenant = world.tenant()
    admin = world.admin(tenant)
    learners = []
    start = world.clock.now()
    for _ in range(6):
        person = world.person(tenant)
        api.add_user(admin, person)
        learner = unique("MCID")
        api.link(person, "learn", world.assertion(learner))
        learners.append(learner)
    for learner in learners:
        for n in range(3):
            host.send(EVENTS, event(learner, f"C-{n}", start))
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: host.drain(EVENTS, "ingest_learning_event"), range(2)))
    world.clock.set(start + 10 * DAY)
    host.run_timer("send_due_credit_wakes")
    host.run_timer("send_due_credit_wakes")
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: host.drain(DUE, "apply_due_credit"), range(2)))
    rows = report(tenant)
    assert len(rows) == 18
    assert len({(r.learner_id, r.credential_id) for r in rows}) == 18


def test_rule_7_a_learner_with_more_than_100_credentials_is_credited_in_full(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person = api.member(world)
    tenant = person.tenant_id
    learner = unique("MCID")
    before = world.clock.now() - 100 * DAY
    for n in range(150):
        host.send(EVENTS, event(learner, f"T-{n:03d}", before))
    host.drain(EVENTS, "ingest_learning_event", rounds=40)
    started = world.clock.now()
    api.link(person, "learn", world.assertion(learner))
    assert len(api.profile(person).json()["pending_credits"]) == 150
    world.clock.set(started + 10 * DAY)
    tick(host)
    assert len(report(tenant)) == 150
    profile = api.profile(person).json()
    assert (len(profile["credited"]), profile["pending_credits"]) == (150, [])


def test_a_deeply_nested_message_is_poison_and_the_queue_flows_on(
    world: World, host: QueueHost, linked: tuple[Person, str]
) -> None:
    person, learner = linked
    world.clock.advance(20 * DAY)
    host.send(EVENTS, "[" * 30_000)
    host.send(EVENTS, event(learner, "GOOD", world.clock.now() - 15 * DAY))
    host.drain(EVENTS, "ingest_learning_event")
    assert [r.credential_id for r in report(person.tenant_id)] == ["GOOD"]
    assert len(host.peek_texts(f"{EVENTS}-poison")) == 1


def test_poison_replay_restores_good_messages_and_twice_is_harmless(
    world: World, api: FunctionClient, host: QueueHost, linked: tuple[Person, str]
) -> None:
    """A good event poisoned while something was broken (say a missing setting) goes
    back to its queue once the cause is fixed; a dry run only counts."""
    person, learner = linked
    world.clock.advance(20 * DAY)
    good = event(learner, "AZ-305", world.clock.now() - 15 * DAY)
    host.send(f"{EVENTS}-poison", good)

    def replay(**params: str) -> dict[str, Any]:
        response = api.call("POST", "ops/poison/learning-events/replay", params=params)
        assert response.status == 200, response.body
        answer: dict[str, Any] = response.json()
        return answer

    counted = replay(dry_run="true")
    assert (counted["waiting"], counted["moved"], counted["dry_run"]) == (1, 0, True)
    assert replay()["moved"] == 1
    host.drain(EVENTS, "ingest_learning_event")
    host.send(f"{EVENTS}-poison", good)
    assert replay()["moved"] == 1
    host.drain(EVENTS, "ingest_learning_event")
    assert [r.credential_id for r in report(person.tenant_id)] == ["AZ-305"]
    assert host.peek_texts(f"{EVENTS}-poison") == []
    wrong = api.call("POST", "ops/poison/nowhere/replay")
    assert (wrong.status, wrong.json()["error"]["field"]) == (400, "queue")
