"""The health answer: 200 when the settings load, storage answers a query and the
designation catalog is valid, otherwise 503 naming the dependency that failed (the
contract's error body, with `dependency`). No personal data: nothing read is returned."""

import logging
import threading
import time
from typing import Any

import azure.functions as func

from shared import bootstrap, errors
from shared.entrypoints.responses import error_response, json_response, request_id_of
from shared.wire import HealthStatus

logger = logging.getLogger("skills_link.health")
PROBE_TABLE = "partnerusers"
CACHE_SECONDS = 5.0
"""Probes may come every second from several places: storage is asked at most this
often per instance (and per runtime, so a changed setting is seen at once)."""
_last_probe: tuple[int, float, "errors.ServiceError | None"] | None = None
_probe_lock = threading.Lock()


def _probe_storage(runtime: bootstrap.Runtime) -> "errors.ServiceError | None":
    """None when storage answered a one-row query; otherwise the refusal to give."""
    global _last_probe
    with _probe_lock:
        cached = _last_probe
        if cached and cached[0] == id(runtime) and cached[1] > time.monotonic():
            return cached[2]
        failure: errors.ServiceError | None = None
        try:
            table = runtime.tables.table(PROBE_TABLE)
            next(iter(table.query_entities("PartitionKey eq ''", results_per_page=1)), None)
        except errors.ServiceError as refused:
            refused.extra["dependency"] = "storage"
            failure = refused
        except Exception:
            logger.exception("Health check: storage did not answer")
            failure = errors.STORAGE_UNAVAILABLE(
                "Storage did not answer the health check.", dependency="storage"
            )
        _last_probe = (id(runtime), time.monotonic() + CACHE_SECONDS, failure)
        return failure


def answer(context: Any = None) -> func.HttpResponse:
    request_id = request_id_of(context)
    checks = {"settings": "ok", "storage": "ok", "catalog": "ok"}
    try:
        runtime = bootstrap.current()
    except errors.ServiceError as refused:
        refused.extra["dependency"] = "settings"
        response = error_response(refused, request_id)
    else:
        from shared.services.designations import catalog_refusal

        failure = _probe_storage(runtime) or catalog_refusal()
        if failure is None:
            response = json_response(HealthStatus(status="ok", checks=checks))
        else:
            response = error_response(failure, request_id)
    response.headers["x-request-id"] = request_id
    return response
