"""GET /org/activity: the organization's activity log for its admins, newest first,
filtered by time, type and person, paged like the Skills Report."""

from shared.adapters.errors import InvalidContinuation
from shared.errors import invalid_request
from shared.services.caller import Caller
from shared.services.commands import ReadActivity
from shared.services.dependencies import Dependencies
from shared.wire import ActivityPage, activity_entry_of


def activity(deps: Dependencies, caller: Caller, command: ReadActivity) -> ActivityPage:
    caller.require_admin()
    now = deps.clock.now()
    kept_from = now - deps.activity_retention
    newest = command.until or now
    # Without since, from the oldest kept: `until - retention` is never later (until is
    # read up to now), and near year 1 it cannot even be computed.
    oldest = command.since or kept_from
    if command.since and command.until and command.since > command.until:
        raise invalid_request("since", "since is after until.")
    # Nothing is kept before the retention or written after now: reading there
    # would only cost queries (one per month).
    newest, oldest = min(newest, now), max(oldest, kept_from)
    if oldest > newest:
        return ActivityPage(entries=[], continuation=None)
    try:
        entries, token = deps.stores.activity.page(
            caller.tenant_id,
            since=oldest,
            until=newest,
            types=command.types,
            email=command.email,
            continuation=command.continuation,
        )
    except InvalidContinuation as error:
        raise invalid_request(
            "continuation", "continuation is not a token from this log."
        ) from error
    return ActivityPage(entries=[activity_entry_of(e) for e in entries], continuation=token)
