"""Turning an HttpRequest into a call of the rules, and its result or refusal
into the contract's response."""

import json
import logging
from collections.abc import Callable
from typing import Any

import azure.functions as func
from pydantic import BaseModel

from shared import bootstrap as runtime
from shared import errors
from shared.adapters.errors import ConcurrencyConflict, CorruptRow
from shared.entrypoints.principal import Caller, caller_from_headers
from shared.errors import ServiceError

logger = logging.getLogger("skills_link.http")

Action = Callable[[runtime.Runtime, Caller], func.HttpResponse]


def json_response(
    payload: BaseModel | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    body = payload.model_dump_json() if isinstance(payload, BaseModel) else json.dumps(payload)
    return func.HttpResponse(
        body=body, status_code=status, mimetype="application/json", headers=headers
    )


def error_response(error: ServiceError) -> func.HttpResponse:
    return json_response(error.body(), error.status, error.headers)


def handle(request: func.HttpRequest, action: Action) -> func.HttpResponse:
    from azure.core.exceptions import AzureError

    try:
        current = runtime.current()
        caller = caller_from_headers(
            request.headers, trust_header=current.settings.trusts_principal_header
        )
        return action(current, caller)
    except ServiceError as error:
        return error_response(error)
    except ConcurrencyConflict:
        logger.exception("Records kept changing during %s %s", request.method, request.url)
        return error_response(errors.BUSY())
    except CorruptRow as corrupt:
        logger.exception(
            "A stored row cannot be read: table %s, partition %s, row %s",
            corrupt.table,
            corrupt.partition_key,
            corrupt.row_key,
        )
        return error_response(errors.INTERNAL_ERROR())
    except AzureError:
        logger.exception("Storage failed during %s %s", request.method, request.url)
        return error_response(errors.STORAGE_UNAVAILABLE())
    except Exception:
        logger.exception("Unexpected failure during %s %s", request.method, request.url)
        return error_response(errors.INTERNAL_ERROR())
