"""The organization's activity log (GET /api/org/activity): every change to its
people and its credit, exactly once per change, newest first, for its admins only.
Against Azurite through the functions, with the clock controlled."""

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.functions.test_credit_rules import DUE, EVENTS, event, tick
from tests.support.api import FunctionClient
from tests.support.queue_host import QueueHost
from tests.support.world import Person, World, unique

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def empty_queues(host: QueueHost) -> None:
    host.clear(EVENTS, f"{EVENTS}-poison", DUE, f"{DUE}-poison")


def entries(api: FunctionClient, admin: Person, **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    continuation: str | None = None
    while True:
        query = {**params, **({"continuation": continuation} if continuation else {})}
        response = api.call("GET", "org/activity", person=admin, params=query)
        assert response.status == 200, response.body
        found += response.json()["entries"]
        continuation = response.json()["continuation"]
        if continuation is None:
            return found


def test_the_help_pages_story_leaves_a_log_that_reads_like_it(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    world.clock.set(datetime(2026, 1, 5, 9, tzinfo=UTC))
    tenant = world.tenant()
    admin = world.admin(tenant)
    pat = world.person(tenant)
    assert api.add_user(admin, pat, "Pat").status == 201
    world.clock.advance(timedelta(hours=1))
    learner = unique("MCID")
    assert api.link(pat, "learn", world.assertion(learner)).status == 201
    host.send(EVENTS, event(learner, "AZ-104", world.clock.now()))
    tick(host)
    world.clock.advance(10 * DAY)
    tick(host)
    world.clock.advance(DAY)
    assert api.call("DELETE", f"org/users/{pat.email}", person=admin).status == 202
    world.clock.set(datetime(2026, 2, 10, 2, tzinfo=UTC))
    host.run_timer("monthly_refresh")
    log = entries(api, admin)
    assert [e["at"] for e in log] == sorted((e["at"] for e in log), reverse=True)
    by_instant: dict[str, set[str]] = {}
    for entry in log:
        by_instant.setdefault(entry["at"], set()).add(entry["type"])
    assert list(by_instant.values()) == [
        {"credential.removed"},
        {"user.departed", "association.ended", "credential.removal_scheduled"},
        {"credential.credited"},
        {"association.started"},
        {"user.added"},
    ]
    assert all(e["email"] == pat.email and e["tenant_id"] == tenant for e in log)
    ended = next(e for e in log if e["type"] == "association.ended")
    assert (ended["reason"], ended["learner_id"], ended["program"]) == (
        "user_departed",
        learner,
        "learn",
    )
    scheduled = next(e for e in log if e["type"] == "credential.removal_scheduled")
    assert (scheduled["credential_id"], scheduled["removal_on"]) == ("AZ-104", "2026-02-10")
    departed = next(e for e in log if e["type"] == "user.departed")
    assert departed["removal_on"] == "2026-02-10"  # what the DELETE answered
    assert "msa" not in str(log) and "assertion" not in str(log)


def test_retries_and_redeliveries_write_each_entry_once(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    person = api.member(world)
    admin = world.admin(person.tenant_id)
    learner = unique("MCID")
    assertion = world.assertion(learner)
    assert api.link(person, "learn", assertion).status == 201
    assert api.link(person, "learn", assertion).status == 200
    completed = world.clock.now()
    for _ in range(2):
        host.send(EVENTS, event(learner, "AZ-104", completed))
    tick(host)
    world.clock.advance(10 * DAY)
    tick(host)
    tick(host)
    assert api.call("DELETE", f"org/users/{person.email}", person=admin).status == 202
    assert api.call("DELETE", f"org/users/{person.email}", person=admin).status == 200
    log = entries(api, admin)
    assert len(log) == len({e["id"] for e in log})
    assert sorted(e["type"] for e in log) == sorted(
        [
            "user.added",
            "association.started",
            "credential.credited",
            "user.departed",
            "association.ended",
            "credential.removal_scheduled",
        ]
    )


def test_the_log_filters_by_type_person_and_time_and_downloads_as_csv(
    world: World, api: FunctionClient
) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    first, second = world.person(tenant), world.person(tenant)
    api.add_user(admin, first, "=cmd|' /C calc'!A0")
    world.clock.advance(DAY)
    middle = world.clock.now()
    world.clock.advance(DAY)
    api.add_user(admin, second, "Sam")
    world.clock.advance(timedelta(minutes=1))
    assert api.link(second, "learn", world.assertion(unique("MCID"))).status == 201
    assert [e["type"] for e in entries(api, admin, type="association.started")] == [
        "association.started"
    ]
    assert [e["email"] for e in entries(api, admin, email=first.email)] == [first.email]
    since = middle.isoformat().replace("+00:00", "Z")
    assert {e["email"] for e in entries(api, admin, since=since)} == {second.email}
    assert [e["email"] for e in entries(api, admin, until=since)] == [first.email]
    two_kinds = entries(api, admin, type="user.added,association.started")
    assert len(two_kinds) == 3
    response = api.call("GET", "org/activity", person=admin, headers={"Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert [r["type"] for r in rows] == ["association.started", "user.added", "user.added"]
    assert rows[-1]["display_name"].startswith("'=")
    for params, field in (({"type": "user.renamed"}, "type"), ({"since": "yesterday"}, "since")):
        bad = api.call("GET", "org/activity", person=admin, params=params)
        assert (bad.status, bad.json()["error"]["field"]) == (400, field)


def test_only_the_organizations_admins_read_its_log(world: World, api: FunctionClient) -> None:
    person = api.member(world)
    other_admin = world.admin(world.tenant())
    response = api.call("GET", "org/activity", person=person)
    assert (response.status, response.error_code) == (403, "forbidden")
    assert entries(api, other_admin) == []


def test_the_log_pages_newest_first_across_months(world: World, api: FunctionClient) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    added = []
    for _ in range(130):
        person = world.person(tenant)
        api.add_user(admin, person)
        added.append(person.email)
        world.clock.advance(timedelta(hours=12))
    first = api.call("GET", "org/activity", person=admin)
    assert len(first.json()["entries"]) == 100 and first.json()["continuation"]
    assert [e["email"] for e in entries(api, admin)] == list(reversed(added))


def test_the_daily_retention_removes_entries_past_the_retention_and_keeps_the_rest(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    from shared import bootstrap
    from shared.adapters.organizations import shard_of
    from shared.services.activity_retention import shard_for

    def stored(tenant_id: str) -> list[str]:
        """What the table holds, past what a read shows (reads stop at the retention)."""
        found, _ = bootstrap.current().stores.activity.page(
            tenant_id, since=datetime(2000, 1, 1, tzinfo=UTC), until=world.clock.now()
        )
        return [e.email or "" for e in found]

    tenant = world.tenant()
    # Retention P2Y: on 2026-02-10 the cutoff is February 2024. The timer visits the
    # organization on the first day its shard comes round.
    day = datetime(2026, 2, 10, 3, 30, tzinfo=UTC)
    while shard_for(day.date()) != shard_of(tenant):
        day += timedelta(days=1)
    visited = {shard_for(day.date()), shard_for((day - timedelta(days=1)).date())}
    # A neighbour whose shard neither run visits.
    neighbour_tenant = world.tenant()
    while shard_of(neighbour_tenant) in visited:
        neighbour_tenant = world.tenant()
    admin, neighbour = world.admin(tenant), world.admin(neighbour_tenant)
    world.clock.set(datetime(2024, 1, 15, tzinfo=UTC))
    old = world.person(tenant)
    api.add_user(admin, old)
    api.add_user(neighbour, world.person(neighbour_tenant))
    world.clock.set(datetime(2024, 3, 15, tzinfo=UTC))
    recent = world.person(tenant)
    api.add_user(admin, recent)
    world.clock.set(day - timedelta(days=1))
    host.run_timer("activity_retention")  # another shard: nothing of this organization goes
    assert stored(tenant) == [recent.email, old.email]
    world.clock.set(day)
    host.run_timer("activity_retention")
    assert stored(tenant) == [recent.email]
    assert [e["email"] for e in entries(api, admin, since="2020-01-01T00:00:00Z")] == [recent.email]
    host.run_timer("activity_retention")
    assert stored(tenant) == [recent.email]
    # Not its day: the other organization's old entry is still stored.
    assert len(stored(neighbour_tenant)) == 1


def test_an_until_near_year_one_without_since_is_an_empty_page_not_a_server_error(
    world: World, api: FunctionClient
) -> None:
    """Found by schemathesis once the document said `until` is a date-time: the default
    `since` was computed as until minus the retention, which overflows near year 1."""
    admin = world.admin(world.tenant())
    response = api.call(
        "GET", "org/activity", person=admin, params={"until": "0002-01-01T00:01:01Z"}
    )
    assert (response.status, response.json()["entries"]) == (200, [])


def test_v4_activity_reads_since_later_than_now_alone_is_an_empty_page_and_after_until_is_400(
    world: World, api: FunctionClient
) -> None:
    """Contract v4: `until` later than now reads to now; a `since` later than now, with
    no `until`, is an empty window (it was refused as "since is after until" though no
    until was given); a `since` after the `until` given is still 400."""
    admin = world.admin(world.tenant())
    future = api.call("GET", "org/activity", person=admin, params={"since": "2999-01-01T00:00:00Z"})
    assert (future.status, future.json()["entries"]) == (200, [])
    reversed_window = api.call(
        "GET",
        "org/activity",
        person=admin,
        params={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    )
    assert (reversed_window.status, reversed_window.json()["error"]["field"]) == (400, "since")


def test_a_corrupt_log_entry_is_a_500_internal_error_logged_with_its_table_and_keys(
    world: World, api: FunctionClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A page is read without the partition key (the one asked for): the log still
    names the row that did not parse, partition and row."""
    from shared import bootstrap
    from shared.adapters.activity import TABLE
    from shared.adapters.keys import encode_part

    tenant = world.tenant()
    admin = world.admin(tenant)
    assert api.add_user(admin, world.person(tenant), "Pat").status == 201
    table = bootstrap.current().tables.table(TABLE)
    partition = "o|" + encode_part(tenant)
    [entity] = list(table.query_entities("PartitionKey eq @pk", parameters={"pk": partition}))
    table.upsert_entity({**entity, "Data": '{"id": 42'})
    response = api.call("GET", "org/activity", person=admin)
    assert (response.status, response.error_code) == (500, "internal_error")
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert all(part in logged for part in (TABLE, entity["PartitionKey"], entity["RowKey"]))


def test_v4_activity_reads_since_earlier_than_the_retention_read_from_now_minus_the_retention(
    world: World, api: FunctionClient
) -> None:
    """Contract v4: a `since` earlier than now - ACTIVITY_RETENTION (P2Y) reads from
    there. An entry past the retention that its shard's daily run has not removed yet
    is stored but not read."""
    from shared import bootstrap
    from shared.adapters.activity import TABLE
    from shared.adapters.keys import encode_part

    tenant = world.tenant()
    admin = world.admin(tenant)
    world.clock.set(datetime(2024, 1, 5, 9, tzinfo=UTC))
    assert api.add_user(admin, world.person(tenant), "Old").status == 201
    world.clock.set(datetime(2024, 3, 5, 9, tzinfo=UTC))
    assert api.add_user(admin, world.person(tenant), "Kept").status == 201
    world.clock.set(datetime(2026, 2, 1, 9, tzinfo=UTC))  # the retention starts 2024-02-01
    read = entries(api, admin, since="2000-01-01T00:00:00Z")
    assert [e["display_name"] for e in read] == ["Kept"]
    stored = (
        bootstrap.current()
        .tables.table(TABLE)
        .query_entities("PartitionKey eq @pk", parameters={"pk": "o|" + encode_part(tenant)})
    )
    assert len(list(stored)) == 2  # the old entry is still there, only not read
