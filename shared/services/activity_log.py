"""GET /org/activity: the organization's activity log for its admins, newest first,
filtered by time, type and person, paged like the Skills Report."""

from datetime import datetime

from pydantic import TypeAdapter, ValidationError

from shared.adapters.errors import InvalidContinuation
from shared.domain.activity import ACTIVITY_TYPES
from shared.domain.types import Instant
from shared.entrypoints.principal import Caller
from shared.entrypoints.requests import parse_email
from shared.errors import invalid_request
from shared.services.context import Context
from shared.wire import ActivityPage, activity_entry_of

INSTANT = TypeAdapter(Instant)


def parse_instant(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        return INSTANT.validate_python(value)
    except ValidationError as error:
        raise invalid_request(field, f"{field} must be an ISO 8601 instant with Z.") from error


def parse_types(value: str | None) -> list[str]:
    """`?type=` repeated or comma-separated, each type once (a filter holds at most
    as many comparisons as there are types)."""
    asked = list(dict.fromkeys(v.strip() for v in (value or "").split(",") if v.strip()))
    unknown = [v for v in asked if v not in ACTIVITY_TYPES]
    if unknown:
        raise invalid_request("type", f"type must be one of: {', '.join(ACTIVITY_TYPES)}.")
    return asked


def activity(
    ctx: Context,
    caller: Caller,
    *,
    since: str | None = None,
    until: str | None = None,
    types: str | None = None,
    email: str | None = None,
    continuation: str | None = None,
) -> ActivityPage:
    caller.require_admin()
    now = ctx.clock.now()
    kept_from = now - ctx.activity_retention
    newest = parse_instant(until, "until") or now
    oldest = parse_instant(since, "since") or newest - ctx.activity_retention
    if oldest > newest:
        raise invalid_request("since", "since is after until.")
    # Nothing is kept before the retention or written after now: reading there
    # would only cost queries (one per month).
    newest, oldest = min(newest, now), max(oldest, kept_from)
    if oldest > newest:
        return ActivityPage(entries=[], continuation=None)
    try:
        entries, token = ctx.stores.activity.page(
            caller.tenant_id,
            since=oldest,
            until=newest,
            types=parse_types(types),
            email=parse_email(email, "email") if email else None,
            continuation=continuation or None,
        )
    except InvalidContinuation as error:
        raise invalid_request(
            "continuation", "continuation is not a token from this log."
        ) from error
    return ActivityPage(entries=[activity_entry_of(e) for e in entries], continuation=token)
