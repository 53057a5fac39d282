"""Queue and timer invocations: the invocation's log fields, the outcome line, poison
for what can never succeed, and a storage failure put back on the queue with a
growing delay instead of counting toward poison (the contract: a failure of storage
is not poison; it is retried until storage is back)."""

import json
import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from shared import bootstrap
from shared.entrypoints.responses import request_id_of
from shared.observability import count, invocation
from shared.services.poison import PoisonMessage

logger = logging.getLogger("skills_link.background")

STORAGE_RETRY_DELAY = timedelta(seconds=30)
STORAGE_RETRY_DELAY_MAX = timedelta(minutes=10)
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def is_storage_failure(failure: BaseException) -> bool:
    """Storage out, throttling or timing out, or records that kept changing: worth
    trying again later, never a reason to give the message up."""
    from azure.core.exceptions import (
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    from shared import errors
    from shared.adapters.errors import ConcurrencyConflict
    from shared.errors import ServiceError

    if isinstance(failure, ServiceRequestError | ServiceResponseError | ConcurrencyConflict):
        return True
    if isinstance(failure, HttpResponseError):
        return failure.status_code is None or failure.status_code in TRANSIENT_STATUS
    if isinstance(failure, ServiceError):
        return failure.code in (errors.STORAGE_UNAVAILABLE.code, errors.BUSY.code)
    return False


RETRIES_FIELD = "_storage_retries"
"""Carried by a put-back copy (every message is a JSON object, whose readers ignore
fields they do not know), so that the backoff grows across copies."""


def retry_delay(attempt: int) -> timedelta:
    """30 s, doubling with each attempt, at most 10 min, with a fifth of jitter so
    that a backlog does not come back all at once."""
    base: timedelta = min(STORAGE_RETRY_DELAY * (2 ** max(attempt - 1, 0)), STORAGE_RETRY_DELAY_MAX)
    return base * random.uniform(0.8, 1.2)


def put_back_copy(text: str, dequeue_count: int) -> tuple[str, int]:
    """The message to put back and its attempt number: the copies' count plus the
    failed deliveries of this copy."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return text, dequeue_count
    if not isinstance(data, dict):
        return text, dequeue_count
    earlier = data.get(RETRIES_FIELD)
    attempt = (earlier if isinstance(earlier, int) and earlier >= 0 else 0) + dequeue_count
    return json.dumps({**data, RETRIES_FIELD: attempt}), attempt


def handle_message(
    msg: Any,
    context: Any,
    *,
    operation: str,
    queue: str,
    poison_queue: str,
    process: Callable[[bootstrap.Runtime, str], str | None],
) -> None:
    """`process` parses (raising PoisonMessage for what can never succeed) and works;
    what it returns is the outcome for the log line."""
    text = msg.get_body().decode("utf-8", errors="replace")
    dequeue_count = int(getattr(msg, "dequeue_count", None) or 1)
    with invocation(
        operation, request_id_of(context), message_id=msg.id, dequeue_count=dequeue_count
    ) as fields:
        rt = bootstrap.current()
        try:
            fields["outcome"] = process(rt, text) or "succeeded"
        except PoisonMessage as poison:
            fields["outcome"] = "poisoned"
            logger.error(
                "Poison message on %s (event %s, message %s): %s",
                queue,
                poison.event_id,
                msg.id,
                poison.reason,
            )
            rt.queues.send_text(poison_queue, text)
            count("skills_link.poison_messages", queue=queue)
        except Exception as failure:
            if not is_storage_failure(failure):
                fields["outcome"] = "failed"
                logger.exception("%s failed on message %s", operation, msg.id)
                raise
            copy, attempt = put_back_copy(text, dequeue_count)
            delay = retry_delay(attempt)
            try:
                rt.queues.send_text(queue, copy, delay=delay)
            except Exception:
                fields["outcome"] = "failed"
                logger.exception(
                    "%s: storage failed and the message could not be put back; the host "
                    "delivers it again",
                    operation,
                )
                raise failure from None
            fields["outcome"] = "deferred"
            count("skills_link.storage_retries_deferred", queue=queue)
            logger.warning(
                "%s: storage failed (%s); message %s put back on %s for %d s",
                operation,
                type(failure).__name__,
                msg.id,
                queue,
                delay.total_seconds(),
            )
        finally:
            logger.info("%s message %s: %s", operation, msg.id, fields.get("outcome"))


def handle_timer(context: Any, *, operation: str, work: Callable[[bootstrap.Runtime], str]) -> None:
    """`work` returns a summary for the log line; a failure is logged and raised so the
    function's retry policy (and then the next run) takes over."""
    with invocation(operation, request_id_of(context)) as fields:
        try:
            summary = work(bootstrap.current())
        except Exception:
            fields["outcome"] = "failed"
            logger.exception("%s failed", operation)
            raise
        fields["outcome"] = "succeeded"
        logger.info("%s: %s", operation, summary)
