"""Turning an HttpRequest into a call of the rules, and its result or refusal
into the contract's response."""

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func
from pydantic import BaseModel

from shared import bootstrap as runtime
from shared import errors
from shared.adapters.errors import ConcurrencyConflict, CorruptRow
from shared.entrypoints.principal import caller_from_headers
from shared.errors import ServiceError
from shared.observability import annotate, count, invocation
from shared.services.caller import Caller

logger = logging.getLogger("skills_link.http")

Action = Callable[[runtime.Runtime, Caller], func.HttpResponse]


def json_response(
    payload: BaseModel | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    body = payload.model_dump_json() if isinstance(payload, BaseModel) else json.dumps(payload)
    return func.HttpResponse(
        body=body, status_code=status, mimetype="application/json", headers=headers
    )


MAX_BODY_BYTES = 64 * 1024


def error_response(error: ServiceError, request_id: str | None = None) -> func.HttpResponse:
    return json_response(error.body(request_id), error.status, error.headers)


def check_body(request: func.HttpRequest) -> None:
    """Body size (413), then media type (415): a request with a body says it is JSON,
    so a cross-site form cannot act for a signed-in person."""
    if request.method.upper() not in ("POST", "PUT", "PATCH"):
        return
    body = request.get_body() or b""
    if len(body) > MAX_BODY_BYTES:
        raise errors.PAYLOAD_TOO_LARGE()
    content_type = next(
        (v for k, v in request.headers.items() if k.lower() == "content-type"), None
    )
    if content_type is None and not body:
        return  # a POST that carries nothing (a webhook ping) needs no media type
    if (content_type or "").split(";", 1)[0].strip().lower() != "application/json":
        raise errors.UNSUPPORTED_MEDIA_TYPE()


def request_id_of(context: Any) -> str:
    """The host's invocation id (a fresh one where no host passed a context)."""
    return str(getattr(context, "invocation_id", None) or uuid.uuid4())


def handle(request: func.HttpRequest, action: Action, context: Any = None) -> func.HttpResponse:
    """The contract's order: identity, body size, media type, then the action; every
    answer carries the invocation id as x-request-id, and every error body too, and
    every log line of the invocation carries its fields."""
    request_id = request_id_of(context)
    operation = str(getattr(context, "function_name", None) or "http")
    with invocation(operation, request_id) as fields:
        response = _answer(request, action, request_id)
        response.headers["x-request-id"] = request_id
        fields["outcome"] = str(response.status_code)
        logger.info("%s %s answered %d", request.method, operation, response.status_code)
    return response


def _answer(request: func.HttpRequest, action: Action, request_id: str) -> func.HttpResponse:
    try:
        current = runtime.current()
        caller = caller_from_headers(
            request.headers, trust_header=current.settings.trusts_principal_header
        )
        annotate(tenant_id=caller.tenant_id)
        check_body(request)
        return action(current, caller)
    except ServiceError as error:
        count("skills_link.refusals", status=error.status, code=error.code)
        return error_response(error, request_id)
    except Exception as failure:
        kind, what = _failure(failure)
        logger.exception(
            "%s during %s %s (request %s)",
            what,
            request.method,
            # The path only: a query may hold an email or a filter long enough to
            # flood the log.
            urlsplit(request.url).path[:200],
            request_id,
            extra={"request_id": request_id},
        )
        refusal = kind()
        count("skills_link.refusals", status=refusal.status, code=refusal.code)
        return error_response(refusal, request_id)


def _failure(failure: Exception) -> tuple[errors.ErrorKind, str]:
    """The contract's answer to a failure no rule refused, and what the log says."""
    from azure.core.exceptions import AzureError

    if isinstance(failure, ConcurrencyConflict):
        return errors.BUSY, "Records kept changing"
    if isinstance(failure, CorruptRow):
        return errors.INTERNAL_ERROR, (
            f"A stored row cannot be read (table {failure.table}, "
            f"partition {failure.partition_key}, row {failure.row_key})"
        )
    if isinstance(failure, AzureError):
        return errors.STORAGE_UNAVAILABLE, "Storage failed"
    return errors.INTERNAL_ERROR, "Unexpected failure"


def not_found_or_not_allowed(allowed: tuple[str, ...]) -> func.HttpResponse:
    """For a method the path does not take: 405 naming the methods it does (RFC 9110
    requires `Allow`), or the host's own empty 404 for a path the API does not have."""
    if not allowed:
        return func.HttpResponse(status_code=404)
    return func.HttpResponse(status_code=405, headers={"Allow": ", ".join(allowed)})
