"""Turning outside input into validated models, with the contract's 400 answer."""

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from shared.domain.emails import email_problem, normalize_email
from shared.errors import invalid_request
from shared.wire import PROGRAMS, Program, program_named

M = TypeVar("M", bound=BaseModel)

MAX_DISPLAY_NAME_LENGTH = 256


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


def parse_display_name(value: str, field: str = "display_name") -> str:
    name = value.strip()
    if not name or len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise invalid_request(
            field, f"{field} must hold 1 to {MAX_DISPLAY_NAME_LENGTH} characters."
        )
    return name


def parse_flag(value: str | None, field: str) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise invalid_request(field, f"{field} must be true or false.")
