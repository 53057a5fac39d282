"""Turning outside input into validated models and the services' commands, with the
contract's 400 answer. The only place a request's bytes, query strings and path
segments are read."""

import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.domain.activity import ACTIVITY_TYPES
from shared.domain.emails import email_problem, normalize_email
from shared.errors import invalid_request
from shared.services import commands
from shared.services.caller import Caller
from shared.wire import (
    PROGRAMS,
    ActivityQuery,
    AddUserRequest,
    DesignationId,
    DesignationsQuery,
    LinkRequest,
    NonceRequest,
    Program,
    ReportQuery,
    TrackRequest,
    UsersQuery,
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


def parse_query(model: type[M], params: Mapping[str, str]) -> M:
    """The query string as the model the OpenAPI document is generated from: a list
    parameter is comma-separated (a repeated one arrives joined by commas), each value
    once; an empty value is a value (and refused where the document does not allow it)."""
    data: dict[str, object] = {}
    for name in model.model_fields:
        raw = params.get(name)
        if raw is None:
            continue
        if name in _list_fields(model):
            data[name] = list(dict.fromkeys(v.strip() for v in raw.split(",") if v.strip()))
        else:
            data[name] = raw
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "query"
        message = first["msg"].removeprefix("Value error, ")
        raise invalid_request(field, f"{field}: {message}.") from error


@lru_cache(maxsize=32)
def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    """Read once per model: the schema does not change between requests."""
    properties = model.model_json_schema(mode="validation")["properties"]
    return frozenset(
        name
        for name, prop in properties.items()
        if any(b.get("type") == "array" for b in [prop, *prop.get("anyOf", [])])
    )


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


def list_users_command(params: Mapping[str, str]) -> commands.ListUsers:
    query = parse_query(UsersQuery, params)
    return commands.ListUsers(linked=query.linked, continuation=query.continuation)


def remove_user_command(email: str | None) -> commands.RemoveUser:
    return commands.RemoveUser(email=parse_email(email or ""))


def webhook_command(body: bytes | None) -> commands.CreateWebhook:
    request = parse_body(WebhookRequest, body)
    return commands.CreateWebhook(
        url=request.url, events=request.events, description=request.description
    )


def report_command(params: Mapping[str, str]) -> commands.ReadReport:
    query = parse_query(ReportQuery, params)
    return commands.ReadReport(
        continuation=query.continuation,
        statuses=frozenset(query.status) if query.status else None,
        expiring_within=query.expiring_within,
    )


def designations_command(params: Mapping[str, str]) -> commands.ReadDesignations:
    return commands.ReadDesignations(on=parse_query(DesignationsQuery, params).on)


_DESIGNATION_ID = TypeAdapter(DesignationId)


def parse_designation_id(value: str | None) -> str:
    try:
        return str(_DESIGNATION_ID.validate_python(value or ""))
    except ValidationError as error:
        raise invalid_request("id", "id is not a designation id.") from error


def designation_people_command(
    designation_id: str | None, params: Mapping[str, str]
) -> commands.ReadDesignationPeople:
    return commands.ReadDesignationPeople(
        designation_id=parse_designation_id(designation_id),
        on=parse_query(DesignationsQuery, params).on,
    )


def track_command(designation_id: str | None, body: bytes | None) -> commands.ChooseTrack:
    request = parse_body(TrackRequest, body)
    return commands.ChooseTrack(
        designation_id=parse_designation_id(designation_id), track=request.track
    )


def activity_command(params: Mapping[str, str]) -> commands.ReadActivity:
    query = parse_query(ActivityQuery, params)
    # The filter holds one comparison per type: each once, in the catalogue's order.
    asked = set(query.type or ())
    return commands.ReadActivity(
        since=query.since,
        until=query.until,
        types=tuple(t for t in ACTIVITY_TYPES if t in asked),
        email=parse_email(query.email, "email") if query.email is not None else None,
        continuation=query.continuation,
    )


C = TypeVar("C")


def admin_command(caller: Caller, parse: Callable[[], C]) -> C:
    """The contract's order for /org/*: a caller who is not an admin is 403 before
    anything in the request is read (400)."""
    caller.require_admin()
    return parse()
