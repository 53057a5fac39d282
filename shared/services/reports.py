"""The admin views of credit: the Skills Report (JSON or CSV, paged) and
designation points."""

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from shared.adapters.errors import InvalidContinuation
from shared.domain.model import expiry_status
from shared.domain.types import CredentialStatus
from shared.entrypoints.csv_export import to_csv
from shared.entrypoints.principal import Caller
from shared.errors import invalid_request
from shared.services.context import Context
from shared.services.designations import DesignationsView, designation_points, load_catalog
from shared.wire import ReportPage, ReportRow

STATUSES: tuple[CredentialStatus, ...] = ("active", "expiring", "expired")


def parse_statuses(values: str | None) -> set[str] | None:
    """`?status=` repeated or comma-separated; None when not asked."""
    if not values:
        return None
    asked = {v.strip() for v in values.split(",") if v.strip()}
    if not asked <= set(STATUSES):
        raise invalid_request("status", f"status must be one of: {', '.join(STATUSES)}.")
    return asked


MAX_QUERY_DURATION = timedelta(days=36500)
"""A window past any credential's life; beyond it `now + duration` can overflow."""


def parse_duration(value: str | None, field: str) -> timedelta | None:
    if not value:
        return None
    try:
        duration = TypeAdapter(timedelta).validate_python(value)
    except ValidationError as error:
        raise invalid_request(field, f"{field} must be an ISO 8601 duration (P30D).") from error
    if duration < timedelta(0):
        raise invalid_request(field, f"{field} cannot be negative.")
    if duration > MAX_QUERY_DURATION:
        raise invalid_request(field, f"{field} is at most 100 years (P36500D).")
    return duration


def parse_day(value: str | None, field: str, today: date) -> date:
    if not value:
        return today
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise invalid_request(field, f"{field} must be a date, YYYY-MM-DD.") from error


def _as_read_now(row: ReportRow, now: datetime, warning: timedelta) -> ReportRow:
    """A row's credential status is computed when it is read."""
    return row.model_copy(update={"status": expiry_status(row.expires_at, now, warning)})


def skills_report(
    ctx: Context,
    caller: Caller,
    continuation: str | None,
    status: str | None = None,
    expiring_within: str | None = None,
) -> ReportPage:
    """One page of the organization's rows; the filters apply to the rows of that
    page, so a filtered page may hold fewer rows than the page size (or none) and
    still carry a continuation."""
    caller.require_admin()
    statuses = parse_statuses(status)
    within = parse_duration(expiring_within, "expiring_within")
    try:
        rows, next_token = ctx.stores.report.page(caller.tenant_id, continuation or None)
    except InvalidContinuation as error:
        raise invalid_request(
            "continuation", "continuation is not a token from this report."
        ) from error
    now = ctx.clock.now()
    read = [_as_read_now(row, now, ctx.expiry_warning) for row in rows]
    if statuses is not None:
        read = [row for row in read if row.status in statuses]
    if within is not None:
        read = [
            row
            for row in read
            if row.expires_at is not None and now < row.expires_at <= now + within
        ]
    return ReportPage(rows=read, continuation=next_token)


def as_csv(rows: list[ReportRow]) -> str:
    return to_csv(ReportRow, rows)


def _all_rows(ctx: Context, tenant_id: str) -> Iterator[ReportRow]:
    token: str | None = None
    while True:
        rows, token = ctx.stores.report.page(tenant_id, token)
        yield from rows
        if token is None:
            return


def designations(ctx: Context, caller: Caller, on: str | None = None) -> DesignationsView:
    """Points counting only credentials active on the day asked (default today), and
    per designation the points on the day its next credential expires."""
    caller.require_admin()
    day = parse_day(on, "on", ctx.clock.now().date())
    return designation_points(load_catalog(), list(_all_rows(ctx, caller.tenant_id)), day)
