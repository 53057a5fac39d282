"""Certifications expire (contract version 3): `expires_at` on completions and
renewals, a status computed when read, the Skills Report's filters, and designation
points that count only what is active on the day asked. Against Azurite, through
the functions, with the clock controlled."""

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.functions.test_credit_rules import DUE, EVENTS, event, tick
from tests.support.api import FunctionClient
from tests.support.queue_host import QueueHost
from tests.support.world import Person, World, unique

DAY = timedelta(days=1)


def instant(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@pytest.fixture(autouse=True)
def empty_queues(host: QueueHost) -> None:
    host.clear(EVENTS, f"{EVENTS}-poison", DUE, f"{DUE}-poison")


def credited_certification(
    world: World,
    api: FunctionClient,
    host: QueueHost,
    expires_at: datetime | None,
    credential: str = "AZ-104",
) -> tuple[Person, str, Person]:
    """A person whose certification is credited; it expires at expires_at (None: never)."""
    person = api.member(world, "Pat")
    admin = world.admin(person.tenant_id)
    learner = unique("MCID")
    assert api.link(person, "learn", world.assertion(learner)).status == 201
    extra = {} if expires_at is None else {"expires_at": instant(expires_at)}
    host.send(EVENTS, event(learner, credential, world.clock.now(), **extra))
    tick(host)
    world.clock.advance(10 * DAY)
    tick(host)
    return person, learner, admin


def report_rows(api: FunctionClient, admin: Person, **params: str) -> list[dict[str, Any]]:
    response = api.call("GET", "org/skills-report", person=admin, params=params)
    assert response.status == 200, response.body
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


def test_expiry_absent_means_active_forever(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person, _, admin = credited_certification(world, api, host, None)
    world.clock.advance(3650 * DAY)
    [row] = report_rows(api, admin)
    assert (row["expires_at"], row["status"]) == (None, "active")
    [credited] = api.profile(person).json()["credited"]
    assert (credited["credential"]["expires_at"], credited["credential"]["status"]) == (
        None,
        "active",
    )


def test_a_renewal_extends_the_same_credential_in_any_order_and_any_number_of_times(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    first = world.clock.now() + 365 * DAY
    person, learner, admin = credited_certification(world, api, host, first)
    renewed = first + 365 * DAY
    completed = world.clock.now() - 10 * DAY
    renewal = event(learner, "AZ-104", completed, type="credential.renewed")
    for expiry in (renewed, first + 100 * DAY, renewed):
        host.send(EVENTS, {**renewal, "event_id": unique("evt"), "expires_at": instant(expiry)})
    tick(host)
    rows = report_rows(api, admin)
    assert [(r["credential_id"], r["expires_at"]) for r in rows] == [("AZ-104", instant(renewed))]
    [credited] = api.profile(person).json()["credited"]
    assert credited["credential"]["expires_at"] == instant(renewed)


def test_a_renewal_that_arrives_before_its_completion_keeps_the_latest_expiry(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person = api.member(world)
    learner = unique("MCID")
    start = world.clock.now()
    later, sooner = start + 700 * DAY, start + 300 * DAY
    renewal = event(learner, "AZ-104", start, type="credential.renewed", expires_at=instant(later))
    host.send(EVENTS, renewal)
    host.send(EVENTS, event(learner, "AZ-104", start, expires_at=instant(sooner)))
    tick(host)
    assert api.link(person, "learn", world.assertion(learner)).status == 201
    [pending] = api.profile(person).json()["pending_credits"]
    assert pending["credential"]["expires_at"] == instant(later)


def test_a_renewal_without_expires_at_is_poison(world: World, host: QueueHost) -> None:
    broken = event(unique("MCID"), "AZ-104", world.clock.now(), type="credential.renewed")
    host.send(EVENTS, broken)
    host.drain(EVENTS, "ingest_learning_event")
    assert len(host.peek_texts(f"{EVENTS}-poison")) == 1


def test_status_is_computed_when_read_across_the_boundary_days(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    expires = world.clock.now() + 100 * DAY
    person, _, admin = credited_certification(world, api, host, expires)
    for at, status in [
        (expires - 61 * DAY, "active"),
        (expires - 60 * DAY, "expiring"),
        (expires - DAY, "expiring"),
        (expires - timedelta(seconds=1), "expiring"),
        (expires, "expired"),
        (expires + DAY, "expired"),
    ]:
        world.clock.set(at)
        [row] = report_rows(api, admin)
        assert row["status"] == status, at
        [credited] = api.profile(person).json()["credited"]
        assert credited["credential"]["status"] == status, at


def test_the_skills_report_filters_by_status_and_by_expiring_within(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    expires = world.clock.now() + 100 * DAY
    _, _, admin = credited_certification(world, api, host, expires)
    world.clock.set(expires - 30 * DAY)
    assert [r["status"] for r in report_rows(api, admin, status="expiring")] == ["expiring"]
    assert report_rows(api, admin, status="active") == []
    assert len(report_rows(api, admin, status="active,expiring")) == 1
    assert len(report_rows(api, admin, expiring_within="P31D")) == 1
    assert report_rows(api, admin, expiring_within="P29D") == []
    for params, field in (
        ({"status": "lapsed"}, "status"),
        ({"expiring_within": "soon"}, "expiring_within"),
    ):
        response = api.call("GET", "org/skills-report", person=admin, params=params)
        assert (response.status, response.json()["error"]["field"]) == (400, field)


def test_the_csv_has_the_two_new_columns_at_the_end(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    expires = world.clock.now() + 100 * DAY
    _, _, admin = credited_certification(world, api, host, expires)
    response = api.call("GET", "org/skills-report", person=admin, headers={"Accept": "text/csv"})
    reader = csv.reader(io.StringIO(response.body.decode()))
    header = next(reader)
    assert header[-2:] == ["expires_at", "status"]
    assert header[:3] == ["email", "display_name", "program"]
    [row] = list(reader)
    assert row[-2:] == [instant(expires), "active"]


def test_designation_points_drop_on_the_expiry_date_and_come_back_on_renewal(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    expires = (world.clock.now() + 100 * DAY).replace(hour=12)
    _, learner, admin = credited_certification(world, api, host, expires, "MS-700")

    def modern_work(on: str | None = None) -> dict[str, Any]:
        params = {"on": on} if on else {}
        response = api.call("GET", "org/designations", person=admin, params=params)
        assert response.status == 200, response.body
        designations: list[dict[str, Any]] = response.json()["designations"]
        return next(d for d in designations if d["id"] == "modern-work")

    today = modern_work()
    assert today["points"] == 5
    assert (today["next_expiry_on"], today["points_on_next_expiry"]) == (
        expires.date().isoformat(),
        0,
    )
    day_before = (expires - DAY).date().isoformat()
    assert modern_work(day_before)["points"] == 5
    assert modern_work(expires.date().isoformat())["points"] == 0
    renewal = event(
        learner, "MS-700", world.clock.now(), type="credential.renewed",
        expires_at=instant(expires + 365 * DAY),
    )  # fmt: skip
    host.send(EVENTS, renewal)
    tick(host)
    assert modern_work(expires.date().isoformat())["points"] == 5
    response = api.call("GET", "org/designations", person=admin, params={"on": "soon"})
    assert (response.status, response.json()["error"]["field"]) == (400, "on")


def expiry_entries(api: FunctionClient, admin: Person) -> list[dict[str, Any]]:
    response = api.call(
        "GET", "org/activity", person=admin,
        params={"type": "credential.expiring,credential.expired"},
    )  # fmt: skip
    assert response.status == 200, response.body
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def test_the_daily_timer_warns_once_before_and_once_on_expiry_across_repeated_and_missed_runs(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    expires = (world.clock.now() + 100 * DAY).replace(hour=12)
    _, _, admin = credited_certification(world, api, host, expires)
    world.clock.set(expires - 61 * DAY)
    host.run_timer("send_expiry_warnings")
    assert expiry_entries(api, admin) == []
    world.clock.set(expires - 55 * DAY)  # five days missed: caught up
    host.run_timer("send_expiry_warnings")
    host.run_timer("send_expiry_warnings")
    assert [e["type"] for e in expiry_entries(api, admin)] == ["credential.expiring"]
    world.clock.set(expires + DAY)
    host.run_timer("send_expiry_warnings")
    host.run_timer("send_expiry_warnings")
    log = expiry_entries(api, admin)
    assert [e["type"] for e in log] == ["credential.expired", "credential.expiring"]
    assert {e["credential_id"] for e in log} == {"AZ-104"}


def test_a_renewal_before_the_date_cancels_the_warnings_to_come(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    expires = (world.clock.now() + 100 * DAY).replace(hour=12)
    _, learner, admin = credited_certification(world, api, host, expires)
    renewed = expires + 365 * DAY
    host.send(
        EVENTS,
        event(
            learner, "AZ-104", world.clock.now(), type="credential.renewed",
            expires_at=instant(renewed),
        ),
    )  # fmt: skip
    tick(host)
    world.clock.set(expires + DAY)
    host.run_timer("send_expiry_warnings")
    assert expiry_entries(api, admin) == []
    world.clock.set(renewed - 30 * DAY)
    host.run_timer("send_expiry_warnings")
    assert [e["type"] for e in expiry_entries(api, admin)] == ["credential.expiring"]
