"""Turning outside input into validated models and the services' commands, with the
contract's 400 answer. The only place a request's bytes, query strings and path
segments are read."""

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TypeVar, get_args

from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.domain.activity import ACTIVITY_TYPES, ActivityType
from shared.domain.emails import email_problem, normalize_email
from shared.domain.types import CredentialStatus, Instant
from shared.errors import invalid_request
from shared.services import commands
from shared.services.caller import Caller
from shared.wire import (
    MAX_QUERY_DURATION,
    PROGRAMS,
    AddUserRequest,
    LinkRequest,
    NonceRequest,
    Program,
    WebhookRequest,
    program_named,
)

M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], body: bytes | None) -> M:
    try:
        data = json.loads(body or b"")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise invalid_request("body", "The request body is not JSON.") from error
    if not isinstance(data, dict):
        raise invalid_request("body", "The request body must be a JSON object.")
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise invalid_request(field, f"{field}: {first['msg']}") from error


def parse_program(value: str | None, field: str = "program") -> Program:
    try:
        return program_named(value)
    except ValueError as error:
        raise invalid_request(field, f"{field} must be one of: {', '.join(PROGRAMS)}.") from error


def parse_email(value: str, field: str = "email") -> str:
    email = normalize_email(value)
    problem = email_problem(email)
    if problem is not None:
        raise invalid_request(field, f"{field} {problem}.")
    return email


def parse_flag(value: str | None, field: str) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise invalid_request(field, f"{field} must be true or false.")


STATUSES: tuple[CredentialStatus, ...] = get_args(CredentialStatus)
_INSTANT = TypeAdapter(Instant)
_DURATION = TypeAdapter(timedelta)


def parse_statuses(values: str | None) -> frozenset[CredentialStatus] | None:
    """`?status=` repeated or comma-separated; None when not asked."""
    if not values:
        return None
    asked = {v.strip() for v in values.split(",") if v.strip()}
    known = [s for s in STATUSES if s in asked]
    if len(known) != len(asked):
        raise invalid_request("status", f"status must be one of: {', '.join(STATUSES)}.")
    return frozenset(known)


def parse_duration(value: str | None, field: str) -> timedelta | None:
    if not value:
        return None
    try:
        duration = _DURATION.validate_python(value)
    except ValidationError as error:
        raise invalid_request(field, f"{field} must be an ISO 8601 duration (P30D).") from error
    if duration < timedelta(0):
        raise invalid_request(field, f"{field} cannot be negative.")
    if duration > MAX_QUERY_DURATION:
        raise invalid_request(field, f"{field} is at most 100 years (P{MAX_QUERY_DURATION.days}D).")
    return duration


def parse_day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise invalid_request(field, f"{field} must be a date, YYYY-MM-DD.") from error


def parse_instant(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        return _INSTANT.validate_python(value)
    except ValidationError as error:
        raise invalid_request(
            field, f"{field} must be an RFC 3339 date-time with Z or an offset."
        ) from error


def parse_types(value: str | None) -> tuple[ActivityType, ...]:
    """`?type=` repeated or comma-separated, each type once (a filter holds at most
    as many comparisons as there are types)."""
    asked = list(dict.fromkeys(v.strip() for v in (value or "").split(",") if v.strip()))
    known = [t for t in asked if t in ACTIVITY_TYPES]
    if len(known) != len(asked):
        raise invalid_request("type", f"type must be one of: {', '.join(ACTIVITY_TYPES)}.")
    return tuple(t for t in ACTIVITY_TYPES if t in known)


def link_command(body: bytes | None) -> commands.LinkLearner:
    request = parse_body(LinkRequest, body)
    return commands.LinkLearner(program=request.program, assertion=request.assertion)


def nonce_command(body: bytes | None) -> commands.IssueNonce:
    return commands.IssueNonce(program=parse_body(NonceRequest, body).program)


def unlink_command(program: str | None) -> commands.Unlink:
    return commands.Unlink(program=parse_program(program))


def add_user_command(body: bytes | None) -> commands.AddUser:
    request = parse_body(AddUserRequest, body)
    return commands.AddUser(email=parse_email(request.email), display_name=request.display_name)


def list_users_command(linked: str | None, continuation: str | None) -> commands.ListUsers:
    return commands.ListUsers(linked=parse_flag(linked, "linked"), continuation=continuation)


def remove_user_command(email: str | None) -> commands.RemoveUser:
    return commands.RemoveUser(email=parse_email(email or ""))


def webhook_command(body: bytes | None) -> commands.CreateWebhook:
    request = parse_body(WebhookRequest, body)
    return commands.CreateWebhook(
        url=request.url, events=request.events, description=request.description
    )


def report_command(
    continuation: str | None, status: str | None, expiring_within: str | None
) -> commands.ReadReport:
    return commands.ReadReport(
        continuation=continuation or None,
        statuses=parse_statuses(status),
        expiring_within=parse_duration(expiring_within, "expiring_within"),
    )


def designations_command(on: str | None) -> commands.ReadDesignations:
    return commands.ReadDesignations(on=parse_day(on, "on"))


def activity_command(
    since: str | None,
    until: str | None,
    types: str | None,
    email: str | None,
    continuation: str | None,
) -> commands.ReadActivity:
    return commands.ReadActivity(
        since=parse_instant(since, "since"),
        until=parse_instant(until, "until"),
        types=parse_types(types),
        email=parse_email(email, "email") if email else None,
        continuation=continuation or None,
    )


C = TypeVar("C")


def admin_command(caller: Caller, parse: Callable[[], C]) -> C:
    """The contract's order for /org/*: a caller who is not an admin is 403 before
    anything in the request is read (400)."""
    caller.require_admin()
    return parse()
