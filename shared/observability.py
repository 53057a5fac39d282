"""Structured log fields and OpenTelemetry metrics.

Every log record made during an invocation carries its fields (`invocation_id`,
`operation`, and where known `tenant_id`, `program`, `message_id`, `dequeue_count`,
`outcome`) as record attributes, which Application Insights keeps as custom
dimensions. Metrics go through the OpenTelemetry API: a no-op until the Functions
worker configures the Azure Monitor exporter (PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY),
so nothing is exported locally and nothing fails. Nothing here is imported by
`function_app`, and OpenTelemetry is imported on the first metric, not before.

Never put an assertion, a principal header or a personal account in a field."""

import contextlib
import contextvars
import logging
import threading
from collections.abc import Iterator
from typing import Any

_fields: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "skills_link_log_fields", default=None
)
_factory_lock = threading.Lock()
_factory_installed = False


def _install_record_factory() -> None:
    """Once per process: records made inside an invocation get its fields."""
    global _factory_installed
    with _factory_lock:
        if _factory_installed:
            return
        previous = logging.getLogRecordFactory()

        def record_with_fields(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            for key, value in (_fields.get() or {}).items():
                if not hasattr(record, key):
                    setattr(record, key, value)
            return record

        logging.setLogRecordFactory(record_with_fields)
        _factory_installed = True


@contextlib.contextmanager
def invocation(operation: str, invocation_id: str, **fields: Any) -> Iterator[dict[str, Any]]:
    """The fields of one invocation; add more (tenant, outcome) to the yielded dict."""
    _install_record_factory()
    current = {"operation": operation, "invocation_id": invocation_id}
    current.update({k: v for k, v in fields.items() if v is not None})
    token = _fields.set(current)
    try:
        yield current
    finally:
        _fields.reset(token)


def annotate(**fields: Any) -> None:
    """Add fields to the current invocation's log records (no-op outside one)."""
    current = _fields.get()
    if current is not None:
        current.update({k: v for k, v in fields.items() if v is not None})


# Metrics: name -> (kind, unit, description). The names are the runbook's.
METRICS = {
    "skills_link.links_started": ("counter", "1", "Associations started (201 answers)"),
    "skills_link.refusals": ("counter", "1", "HTTP refusals, by status and error code"),
    "skills_link.credits_applied": ("counter", "1", "Pending credits that became credited"),
    "skills_link.credit_lateness": (
        "histogram",
        "s",
        "credited_at minus due_at of each credit applied",
    ),
    "skills_link.poison_messages": ("counter", "1", "Messages sent to a poison queue, by queue"),
    "skills_link.refresh_rows_removed": ("counter", "1", "Report rows the refresh removed"),
    "skills_link.storage_conflicts_retried": (
        "counter",
        "1",
        "Optimistic-concurrency conflicts retried by the unit of work",
    ),
    "skills_link.storage_retries_deferred": (
        "counter",
        "1",
        "Queue messages put back with a delay because storage failed",
    ),
}
_instruments: dict[str, Any] = {}
_instruments_lock = threading.Lock()


def _instrument(name: str) -> Any:
    found = _instruments.get(name)
    if found is not None:
        return found
    from opentelemetry import metrics

    kind, unit, description = METRICS[name]
    with _instruments_lock:
        if name not in _instruments:
            meter = metrics.get_meter("skills_link")
            make = meter.create_counter if kind == "counter" else meter.create_histogram
            _instruments[name] = make(name, unit=unit, description=description)
        return _instruments[name]


def _measure(name: str, value: float, attributes: dict[str, str | int]) -> None:
    try:
        instrument = _instrument(name)
        measure = instrument.add if METRICS[name][0] == "counter" else instrument.record
        measure(value, attributes)
    except Exception:  # a metric must never fail the work it measures
        logging.getLogger("skills_link.metrics").debug("metric %s failed", name, exc_info=True)


def count(name: str, amount: int = 1, **attributes: str | int) -> None:
    _measure(name, amount, attributes)


def record(name: str, value: float, **attributes: str | int) -> None:
    _measure(name, value, attributes)


def reset_instruments_for_tests() -> None:
    with _instruments_lock:
        _instruments.clear()
