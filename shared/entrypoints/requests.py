"""Turning outside input into validated models, with the contract's 400 answer."""

import json
import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from shared.errors import invalid_request
from shared.wire import PROGRAMS, Program, program_named

M = TypeVar("M", bound=BaseModel)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254
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
    email = value.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise invalid_request(field, f"{field} is not an email address.")
    if any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in email):
        raise invalid_request(field, f"{field} holds control characters.")
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
