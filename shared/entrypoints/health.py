"""The health answer: 200 when the settings load and storage answers a query,
otherwise 503 naming the dependency that failed (the contract's error body, with
`dependency`). No personal data: nothing read is returned."""

import logging
from typing import Any

import azure.functions as func

from shared import bootstrap, errors
from shared.entrypoints.responses import error_response, json_response, request_id_of
from shared.wire import HealthStatus

logger = logging.getLogger("skills_link.health")
PROBE_TABLE = "partnerusers"


def answer(context: Any = None) -> func.HttpResponse:
    request_id = request_id_of(context)
    checks = {"settings": "ok", "storage": "ok"}
    try:
        runtime = bootstrap.current()
    except errors.ServiceError as refused:
        refused.extra["dependency"] = "settings"
        response = error_response(refused, request_id)
    else:
        try:
            table = runtime.tables.table(PROBE_TABLE)
            next(iter(table.query_entities("PartitionKey eq ''", results_per_page=1)), None)
            response = json_response(HealthStatus(status="ok", checks=checks))
        except errors.ServiceError as refused:
            refused.extra["dependency"] = "storage"
            response = error_response(refused, request_id)
        except Exception:
            logger.exception("Health check: storage did not answer")
            unavailable = errors.STORAGE_UNAVAILABLE(
                "Storage did not answer the health check.", dependency="storage"
            )
            response = error_response(unavailable, request_id)
    response.headers["x-request-id"] = request_id
    return response
