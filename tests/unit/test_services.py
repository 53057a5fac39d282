"""Every service on the in-memory stores, wired exactly as bootstrap wires them
(tests/support/fakes.bootstrap_test_app): credit ingest and apply, the scheduler,
org users, departure, the refresh and the reports, in milliseconds. The same rules
run against Azurite in tests/functions."""

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared.adapters.ports import Removal, Wake
from shared.domain.model import PartnerUser
from shared.entrypoints.csv_export import to_csv
from shared.errors import ServiceError
from shared.services import (
    credit_apply,
    credit_ingest,
    departure,
    link,
    org_users,
    refresh,
    reports,
    scheduler,
)
from shared.services.commands import AddUser, ListUsers, ReadDesignations, ReadReport, RemoveUser
from shared.services.dependencies import Dependencies
from shared.wire import ReportRow
from tests.support.fakes import FakeCreditQueue, FakeReport, FakeWakes
from tests.support.world import Person, World, link_body, unique, unlinking

DAY = timedelta(days=1)


def add(deps: Dependencies, person: Person, name: str = "Pat") -> None:
    deps.stores.users.insert(
        PartnerUser(
            tenant_id=person.tenant_id,
            email=person.email,
            display_name=name,
            created_at=deps.clock.now(),
        )
    )


def linked(deps: Dependencies, world: World, learner: str | None = None) -> tuple[Person, str]:
    person = world.person()
    add(deps, person)
    learner = learner or unique("MCID")
    body = link_body(world, deps, person, learner)
    assert link.link(deps, person.caller, body).created
    return person, learner


def complete(deps: Dependencies, learner: str, credential: str, when: Any) -> None:
    credit_ingest.ingest(
        deps,
        credit_ingest.parse_event(
            json.dumps(
                {
                    "event_id": unique("evt"),
                    "type": "credential.completed",
                    "program": "learn",
                    "learner_id": learner,
                    "credential": {"id": credential, "kind": "training", "title": "T"},
                    "completed_at": when.isoformat(),
                }
            )
        ),
    )


def credited_person(deps: Dependencies, world: World) -> tuple[Person, str]:
    """A linked person whose learner has AZ-104 credited, ten days on."""
    person, learner = linked(deps, world)
    complete(deps, learner, "AZ-104", world.clock.now())
    world.clock.advance(10 * DAY)
    for wake in list(wakes(deps).rows):
        credit_apply.apply(deps, wake)
    return person, learner


def wakes(deps: Dependencies) -> FakeWakes:
    assert isinstance(deps.stores.wakes, FakeWakes)
    return deps.stores.wakes


def sent(deps: Dependencies) -> list[Wake]:
    assert isinstance(deps.stores.queue, FakeCreditQueue)
    return deps.stores.queue.sent


def credited(deps: Dependencies, tenant: str) -> list[str]:
    rows, _ = deps.stores.report.page(tenant, None)
    return sorted(r.credential_id for r in rows)


def test_ingest_keeps_a_credential_of_an_unassociated_learner_and_schedules_nothing(
    fake_deps: Dependencies, world: World
) -> None:
    complete(fake_deps, "MCID-alone", "AZ-900", world.clock.now())
    learner = fake_deps.stores.learners.load("learn", "MCID-alone")
    assert list(learner.credentials) == ["AZ-900"] and learner.active is None
    assert wakes(fake_deps).rows == set()


def test_ingest_schedules_the_credit_of_the_active_association_and_keeps_the_earliest(
    fake_deps: Dependencies, world: World
) -> None:
    _, learner = linked(fake_deps, world)
    now = world.clock.now()
    complete(fake_deps, learner, "AZ-104", now + 2 * DAY)
    complete(fake_deps, learner, "AZ-104", now + DAY)
    complete(fake_deps, learner, "AZ-104", now + 3 * DAY)
    stored = fake_deps.stores.learners.load("learn", learner).credentials["AZ-104"]
    assert stored.completed_at == now + DAY
    assert {w.due_at for w in wakes(fake_deps).rows} == {now + d * DAY for d in (11, 12)}


def test_ingest_of_a_completion_already_due_credits_it_and_leaves_no_wake_up(
    fake_deps: Dependencies, world: World
) -> None:
    person, learner = linked(fake_deps, world)
    world.clock.advance(20 * DAY)
    complete(fake_deps, learner, "AZ-305", world.clock.now() - 15 * DAY)
    assert credited(fake_deps, person.tenant_id) == ["AZ-305"]
    assert wakes(fake_deps).rows == set()


def test_apply_credits_only_what_is_due_and_files_the_next_wake_up(
    fake_deps: Dependencies, world: World
) -> None:
    person, learner = linked(fake_deps, world)
    now = world.clock.now()
    complete(fake_deps, learner, "EARLY", now)
    complete(fake_deps, learner, "LATE", now + DAY)
    world.clock.set(now + 10 * DAY)
    [first] = [w for w in wakes(fake_deps).rows if w.due_at == now + 10 * DAY]
    assert credit_apply.apply(fake_deps, first) == 1
    assert credited(fake_deps, person.tenant_id) == ["EARLY"]
    assert first not in wakes(fake_deps).rows
    assert credit_apply.apply(fake_deps, first) == 0
    world.clock.set(now + 11 * DAY)
    [second] = wakes(fake_deps).rows
    assert credit_apply.apply(fake_deps, second) == 1
    assert credited(fake_deps, person.tenant_id) == ["EARLY", "LATE"]
    assert wakes(fake_deps).rows == set()


def test_apply_for_an_association_that_ended_credits_nothing_and_drops_the_wake_up(
    fake_deps: Dependencies, world: World
) -> None:
    from shared.services import unlink

    person, learner = linked(fake_deps, world)
    complete(fake_deps, learner, "AZ-104", world.clock.now())
    unlink.unlink(fake_deps, person.caller, unlinking())
    world.clock.advance(10 * DAY)
    [wake] = wakes(fake_deps).rows
    assert credit_apply.apply(fake_deps, wake) == 0
    assert credited(fake_deps, person.tenant_id) == []
    assert wakes(fake_deps).rows == set()


def test_a_wake_up_not_yet_due_stays_for_its_time(fake_deps: Dependencies, world: World) -> None:
    _, learner = linked(fake_deps, world)
    complete(fake_deps, learner, "AZ-104", world.clock.now())
    [wake] = wakes(fake_deps).rows
    assert credit_apply.apply(fake_deps, wake) == 0
    assert wakes(fake_deps).rows == {wake}


def test_the_scheduler_sends_what_is_due_and_applies_what_is_overdue(
    fake_deps: Dependencies, world: World
) -> None:
    person, learner = linked(fake_deps, world)
    now = world.clock.now()
    complete(fake_deps, learner, "SOON", now)
    complete(fake_deps, learner, "LATER", now + DAY)
    world.clock.set(now + 10 * DAY)
    assert scheduler.send_due_wakes(fake_deps) == 1
    assert [w.due_at for w in sent(fake_deps)] == [now + 10 * DAY]
    assert credited(fake_deps, person.tenant_id) == []
    world.clock.set(now + 10 * DAY + scheduler.OVERDUE_AFTER + timedelta(seconds=1))
    scheduler.send_due_wakes(fake_deps)
    assert credited(fake_deps, person.tenant_id) == ["SOON"]
    assert len(sent(fake_deps)) == 1


def test_org_users_add_refuses_a_duplicate_and_reactivates_a_departed_user(
    fake_deps: Dependencies, world: World
) -> None:
    tenant = world.tenant()
    admin, person = world.admin(tenant), world.person(tenant)
    body = AddUser(email=person.email, display_name="Pat")
    assert org_users.add_user(fake_deps, admin.caller, body).status == "active"
    with pytest.raises(ServiceError) as refused:
        org_users.add_user(fake_deps, admin.caller, body)
    assert (refused.value.status, refused.value.code) == (409, "user_exists")
    departure.depart_user(fake_deps, admin.caller, RemoveUser(email=person.email))
    again = org_users.add_user(fake_deps, admin.caller, body)
    assert again.status == "active"
    page = org_users.list_users(fake_deps, admin.caller, ListUsers(linked=False))
    assert [u.email for u in page.users] == [person.email]
    with pytest.raises(ServiceError) as forbidden:
        org_users.list_users(fake_deps, person.caller, ListUsers())
    assert forbidden.value.code == "forbidden"


def test_departure_ends_the_association_dates_the_rows_and_answers_again(
    fake_deps: Dependencies, world: World
) -> None:
    person, learner = credited_person(fake_deps, world)
    admin = world.admin(person.tenant_id)
    first = departure.depart_user(fake_deps, admin.caller, RemoveUser(email=person.email))
    assert (first.removal_on, first.already_departed) == (date(2026, 2, 10), False)
    state = fake_deps.stores.learners.load("learn", learner)
    assert state.active is None
    assert state.state.associations[-1].end_reason == "user_departed"
    rows, _ = fake_deps.stores.report.page(person.tenant_id, None)
    assert [r.removal_on for r in rows] == [date(2026, 2, 10)]
    again = departure.depart_user(fake_deps, admin.caller, RemoveUser(email=person.email))
    assert (again.removal_on, again.already_departed) == (date(2026, 2, 10), True)
    with pytest.raises(ServiceError) as missing:
        departure.depart_user(fake_deps, admin.caller, RemoveUser(email="nobody@contoso.com"))
    assert missing.value.code == "user_not_found"


def test_refresh_removes_what_is_due_and_keeps_a_learner_back_with_the_organization(
    fake_deps: Dependencies, world: World
) -> None:
    from shared.services import unlink

    leaving, _ = credited_person(fake_deps, world)
    staying, back = credited_person(fake_deps, world)
    world.clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    unlink.unlink(fake_deps, leaving.caller, unlinking())
    unlink.unlink(fake_deps, staying.caller, unlinking())
    world.clock.set(datetime(2026, 2, 20, tzinfo=UTC))
    body = link_body(world, fake_deps, staying, back)
    assert link.link(fake_deps, staying.caller, body).created
    world.clock.set(datetime(2026, 3, 10, 2, tzinfo=UTC))
    summary = refresh.refresh(fake_deps, date(2026, 3, 10))
    assert summary.rows_removed == 1
    assert credited(fake_deps, leaving.tenant_id) == []
    assert credited(fake_deps, staying.tenant_id) == ["AZ-104"]
    assert fake_deps.stores.removals.due(date(2030, 1, 1), 10) == []


def test_rule_8_a_return_after_the_removal_date_does_not_keep_the_rows_even_if_the_refresh_was_missed(
    fake_deps: Dependencies, world: World
) -> None:
    """Rule 8 keeps rows for a return *before* removal_on; after it the rows are gone
    (from the learner at once, from the report on the next run) and the credential is
    credited again ten days after the return, as for any new association."""
    from shared.services import unlink

    person, learner = credited_person(fake_deps, world)
    world.clock.set(datetime(2026, 1, 31, tzinfo=UTC))
    unlink.unlink(fake_deps, person.caller, unlinking())
    world.clock.set(datetime(2026, 2, 20, tzinfo=UTC))
    body = link_body(world, fake_deps, person, learner)
    assert link.link(fake_deps, person.caller, body).created
    assert fake_deps.stores.learners.load("learn", learner).credited == []
    summary = refresh.refresh(fake_deps, date(2026, 2, 20))
    assert summary.rows_removed == 1
    assert credited(fake_deps, person.tenant_id) == []
    world.clock.advance(10 * DAY)
    for wake in list(wakes(fake_deps).rows):
        credit_apply.apply(fake_deps, wake)
    rows, _ = fake_deps.stores.report.page(person.tenant_id, None)
    assert [(r.credential_id, r.removal_on) for r in rows] == [("AZ-104", None)]


def test_refresh_keeps_the_rows_of_a_learner_who_returns_while_it_runs(
    fake_deps: Dependencies, world: World
) -> None:
    from shared.services import unlink

    person, learner = credited_person(fake_deps, world)
    unlink.unlink(fake_deps, person.caller, unlinking())
    world.clock.set(world.clock.now().replace(month=2, day=10, hour=1))
    report = fake_deps.stores.report
    assert isinstance(report, FakeReport)
    real_due = report.due_for_removal
    body = link_body(world, fake_deps, person, learner)

    def read_then_the_learner_returns(tenant_id: str, today: date) -> Any:
        found = real_due(tenant_id, today)
        report.due_for_removal = real_due  # type: ignore[method-assign]
        assert found, "the refresh read the row while it was due"
        assert link.link(fake_deps, person.caller, body).created
        return found

    report.due_for_removal = read_then_the_learner_returns  # type: ignore[method-assign]
    summary = refresh.refresh(fake_deps, date(2026, 2, 10))
    assert summary.rows_removed == 0
    rows, _ = fake_deps.stores.report.page(person.tenant_id, None)
    assert [(r.credential_id, r.removal_on) for r in rows] == [("AZ-104", None)]
    assert credited(fake_deps, person.tenant_id) == ["AZ-104"]


def test_reports_page_the_skills_report_and_count_designation_points(
    fake_deps: Dependencies, world: World
) -> None:
    person, learner = linked(fake_deps, world)
    complete(fake_deps, learner, "AZ-104", world.clock.now())
    world.clock.advance(10 * DAY)
    scheduler.send_due_wakes(fake_deps)
    for wake in sent(fake_deps):
        credit_apply.apply(fake_deps, wake)
    admin = world.admin(person.tenant_id)
    page = reports.skills_report(fake_deps, admin.caller, ReadReport())
    assert [(r.email, r.credential_id) for r in page.rows] == [(person.email, "AZ-104")]
    assert to_csv(ReportRow, page.rows).splitlines()[0].startswith("email,display_name,program")
    assert reports.designations(fake_deps, admin.caller, ReadDesignations()).designations
    with pytest.raises(ServiceError) as forbidden:
        reports.skills_report(fake_deps, person.caller, ReadReport())
    assert forbidden.value.code == "forbidden"


def test_a_stray_removal_of_a_learner_with_no_rows_is_simply_dropped(
    fake_deps: Dependencies, world: World
) -> None:
    fake_deps.stores.removals.schedule(Removal(date(2026, 2, 10), "t", "learn", "MCID-none"))
    summary = refresh.refresh(fake_deps, date(2026, 2, 10))
    assert (summary.removals_read, summary.rows_removed) == (1, 0)
    assert fake_deps.stores.removals.due(date(2026, 2, 10), 10) == []


def test_the_skills_report_csv_is_safe_to_open_in_a_spreadsheet() -> None:
    import csv
    import io
    from datetime import UTC, datetime

    from shared.wire import ReportRow

    when = datetime(2026, 1, 5, tzinfo=UTC)
    hostile = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tTab", "\rCR", "Pat, Jr."]
    rows = [
        ReportRow(
            email="p@contoso.com",
            display_name=name,
            program="learn",
            learner_id="MCID-1",
            credential_id="AZ-104",
            kind="certification",
            title=name,
            completed_at=when,
            credited_at=when,
            removal_on=None,
        )
        for name in hostile
    ]
    parsed = list(csv.DictReader(io.StringIO(to_csv(ReportRow, rows))))
    assert [r["display_name"] for r in parsed] == [
        "'" + name if name[0] in "=+-@\t\r" else name for name in hostile
    ]
    assert [r["title"] for r in parsed] == [r["display_name"] for r in parsed]
    assert parsed[0]["removal_on"] == ""


def test_a_delivery_retries_with_backoff_then_gives_up_and_five_days_disable_the_endpoint(
    fake_deps: Dependencies, world: World
) -> None:
    from shared.adapters.ports import Delivery
    from shared.domain.webhooks import RETRY_DELAYS, WebhookRecord, new_secret
    from shared.services import webhooks

    endpoint = WebhookRecord(
        id="w1", tenant_id="t", url="https://hooks.example/x", events=["user.added"],
        description="", secret=new_secret(), created_at=world.clock.now(),
    )  # fmt: skip
    fake_deps.stores.webhooks.put(endpoint)
    queue = fake_deps.stores.queue
    assert isinstance(queue, FakeCreditQueue)
    failing = Delivery("t", "w1", {"id": "e1", "type": "user.added"})
    for attempt, delay in enumerate(RETRY_DELAYS):
        assert webhooks.deliver(fake_deps, failing, post=lambda *_: False) == "retrying"
        failing, sent_delay = queue.deliveries[-1]
        assert (failing.attempt, sent_delay) == (attempt + 1, delay)
    assert webhooks.deliver(fake_deps, failing, post=lambda *_: False) == "gave up"
    stored = fake_deps.stores.webhooks.get("t", "w1")
    assert stored is not None and stored.consecutive_failures == 1 and not stored.disabled
    world.clock.advance(5 * DAY)
    assert webhooks.deliver(fake_deps, failing, post=lambda *_: False) == "gave up"
    stored = fake_deps.stores.webhooks.get("t", "w1")
    assert stored is not None and stored.disabled
    assert webhooks.deliver(fake_deps, failing, post=lambda *_: True) == "dropped"


def test_a_successful_delivery_clears_the_failures(fake_deps: Dependencies, world: World) -> None:
    from shared.adapters.ports import Delivery
    from shared.domain.webhooks import WebhookRecord, new_secret
    from shared.services import webhooks

    endpoint = WebhookRecord(
        id="w2", tenant_id="t", url="https://hooks.example/x", events=["user.added"],
        description="", secret=new_secret(), created_at=world.clock.now(),
    ).failed(world.clock.now())  # fmt: skip
    fake_deps.stores.webhooks.put(endpoint)
    sent: list[dict[str, str]] = []

    def receive(url: str, body: bytes, headers: dict[str, str], address: Any) -> bool:
        sent.append(headers)
        return True

    delivery = Delivery("t", "w2", {"id": "e2", "type": "user.added"})
    assert webhooks.deliver(fake_deps, delivery, post=receive) == "delivered"
    stored = fake_deps.stores.webhooks.get("t", "w2")
    assert stored is not None and stored.consecutive_failures == 0
    assert sent[0]["webhook-id"] == "e2" and sent[0]["webhook-signature"].startswith("v1,")


def test_in_azure_a_webhook_that_points_at_a_private_address_is_refused(
    fake_deps: Dependencies, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses
    import socket

    from shared.services import webhooks

    azure = dataclasses.replace(fake_deps, check_webhook_addresses=True, allow_local_webhooks=False)
    resolved = {
        "internal.example": "10.0.0.5",
        "metadata.example": "169.254.169.254",
        "public.example": "20.30.40.50",
    }
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, *_: [(0, 0, 0, "", (resolved[host], 443))]
    )
    for host in ("internal.example", "metadata.example"):
        with pytest.raises(ServiceError) as refused:
            webhooks.check_url(azure, f"https://{host}/hook")
        assert refused.value.extra["field"] == "url"
    assert webhooks.check_url(azure, "https://public.example/hook") == "https://public.example/hook"
    with pytest.raises(ServiceError):
        webhooks.check_url(azure, "http://localhost:8080/hook")
