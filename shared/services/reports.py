"""The admin views of credit: the Skills Report (JSON or CSV, paged) and
designation points."""

from collections.abc import Iterator
from datetime import datetime, timedelta

from shared import errors
from shared.adapters.errors import InvalidContinuation
from shared.domain.model import expiry_status
from shared.domain.types import TRACKS, Track
from shared.errors import invalid_request
from shared.services.caller import Caller
from shared.services.commands import (
    ChooseTrack,
    ReadDesignationPeople,
    ReadDesignations,
    ReadReport,
)
from shared.services.dependencies import Dependencies
from shared.services.designations import (
    CatalogDesignation,
    DesignationPeople,
    DesignationPoints,
    DesignationsView,
    checked_catalog,
    designation_people,
    designation_points,
    score_designation,
)
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


WHOLE_READ_PAGE = 1000
"""Table Storage's largest page: a read of every row costs the fewest requests."""


def _all_rows(deps: Dependencies, tenant_id: str) -> Iterator[ReportRow]:
    token: str | None = None
    while True:
        rows, token = deps.stores.report.page(tenant_id, token, WHOLE_READ_PAGE)
        yield from rows
        if token is None:
            return


def designations(deps: Dependencies, caller: Caller, command: ReadDesignations) -> DesignationsView:
    """Skilling points of every designation, counting only credentials active on the
    day asked (default today), each on the organization's track; with the gap to the
    maximum and what expiry takes away. One read of the report rows, one of the
    organization's settings."""
    caller.require_admin()
    day = command.on or deps.clock.now().date()
    rows = list(_all_rows(deps, caller.tenant_id))
    return designation_points(checked_catalog(), rows, day, _tracks(deps, caller.tenant_id))


def designation_people_of(
    deps: Dependencies, caller: Caller, command: ReadDesignationPeople
) -> DesignationPeople:
    """GET /org/designations/{id}/people: who counts for which metric, and what each brings."""
    caller.require_admin()
    designation = _designation(command.designation_id)
    day = command.on or deps.clock.now().date()
    rows = list(_all_rows(deps, caller.tenant_id))
    chosen = _tracks(deps, caller.tenant_id).get(designation.id)
    return designation_people(checked_catalog(), designation, rows, day, chosen)


def choose_track(deps: Dependencies, caller: Caller, command: ChooseTrack) -> DesignationPoints:
    """PUT /org/designations/{id}/track: the track the organization is scored on, for a
    designation where Microsoft places the organization on one (null: the default)."""
    caller.require_admin()
    designation = _designation(command.designation_id)
    if command.track is not None and designation.track_choice == "best":
        raise errors.NO_TRACK_TO_CHOOSE(
            f"{designation.name} is scored on both tracks and the higher counts: "
            "there is no track to choose."
        )
    deps.stores.org_settings.set_track(caller.tenant_id, designation.id, command.track)
    rows = list(_all_rows(deps, caller.tenant_id))
    return score_designation(
        checked_catalog(), designation, rows, deps.clock.now().date(), command.track
    )


def _designation(designation_id: str) -> CatalogDesignation:
    found = checked_catalog().designation(designation_id)
    if found is None:
        raise errors.DESIGNATION_NOT_FOUND()
    return found


def _tracks(deps: Dependencies, tenant_id: str) -> dict[str, Track]:
    """The organization's choices that are still tracks of the catalog (a stored choice
    for a track the catalog has dropped falls back to the default)."""
    chosen = deps.stores.org_settings.tracks(tenant_id)
    return {d: track for d, track in chosen.items() if track in TRACKS}
