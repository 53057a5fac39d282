"""The admin views of credit: the Skills Report (JSON or CSV, paged) and
designation points."""

from collections.abc import Iterator
from datetime import datetime, timedelta

from shared.adapters.errors import InvalidContinuation
from shared.domain.model import expiry_status
from shared.errors import invalid_request
from shared.services.caller import Caller
from shared.services.commands import ReadDesignations, ReadReport
from shared.services.dependencies import Dependencies
from shared.services.designations import DesignationsView, designation_points, load_catalog
from shared.wire import ReportPage, ReportRow


def _as_read_now(row: ReportRow, now: datetime, warning: timedelta) -> ReportRow:
    """A row's credential status is computed when it is read."""
    return row.model_copy(update={"status": expiry_status(row.expires_at, now, warning)})


def skills_report(deps: Dependencies, caller: Caller, command: ReadReport) -> ReportPage:
    """One page of the organization's rows; the filters apply to the rows of that
    page, so a filtered page may hold fewer rows than the page size (or none) and
    still carry a continuation."""
    caller.require_admin()
    statuses, within = command.statuses, command.expiring_within
    try:
        rows, next_token = deps.stores.report.page(caller.tenant_id, command.continuation)
    except InvalidContinuation as error:
        raise invalid_request(
            "continuation", "continuation is not a token from this report."
        ) from error
    now = deps.clock.now()
    read = [_as_read_now(row, now, deps.expiry_warning) for row in rows]
    if statuses is not None:
        read = [row for row in read if row.status in statuses]
    if within is not None:
        read = [
            row
            for row in read
            if row.expires_at is not None and now < row.expires_at <= now + within
        ]
    return ReportPage(rows=read, continuation=next_token)


def _all_rows(deps: Dependencies, tenant_id: str) -> Iterator[ReportRow]:
    token: str | None = None
    while True:
        rows, token = deps.stores.report.page(tenant_id, token)
        yield from rows
        if token is None:
            return


def designations(deps: Dependencies, caller: Caller, command: ReadDesignations) -> DesignationsView:
    """Points counting only credentials active on the day asked (default today), and
    per designation the points on the day its next credential expires."""
    caller.require_admin()
    day = command.on or deps.clock.now().date()
    return designation_points(load_catalog(), list(_all_rows(deps, caller.tenant_id)), day)
