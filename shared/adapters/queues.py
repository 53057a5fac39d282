"""Storage queues, made on first use and created idempotently. Messages are base64,
as the Functions queue trigger expects (host.json messageEncoding)."""

import contextlib
import json
import threading
from dataclasses import asdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from shared.adapters.ports import Delivery, Wake
from shared.adapters.tables import StorageRetry, make_credential, storage_target
from shared.settings import Settings

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.storage.queue import QueueClient

from shared.queue_names import (
    ALL_QUEUES,
    CREDITS_DUE,
    CREDITS_DUE_POISON,
    LEARNING_EVENTS,
    LEARNING_EVENTS_POISON,
    WEBHOOK_DELIVERIES,
    WEBHOOK_DELIVERIES_POISON,
)

__all__ = [
    "ALL_QUEUES",
    "CREDITS_DUE",
    "CREDITS_DUE_POISON",
    "LEARNING_EVENTS",
    "LEARNING_EVENTS_POISON",
    "WEBHOOK_DELIVERIES",
    "WEBHOOK_DELIVERIES_POISON",
    "QueueStore",
]


class QueueStore:
    def __init__(
        self,
        settings: Settings,
        request_hook: Any = None,
        credential: "TokenCredential | None" = None,
        retry: StorageRetry | None = None,
        transport: Any = None,
    ) -> None:
        self._settings = settings
        self._request_hook = request_hook
        self._credential = credential
        self._retry = retry or StorageRetry()
        self._transport = transport
        self._clients: dict[str, QueueClient] = {}
        self._lock = threading.Lock()

    def queue(self, name: str, *, raw: bool = False) -> "QueueClient":
        """A client that base64-encodes what it sends (as the trigger expects), or with
        raw, one that sends content as given (a poison message moved back as it was).
        Received content is never decoded: it is what the queue holds."""
        key = f"raw:{name}" if raw else name
        client = self._clients.get(key)
        if client is not None:
            return client
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.queue import QueueClient, TextBase64EncodePolicy

        with self._lock:
            if key not in self._clients:
                extra: dict[str, Any] = (
                    {} if raw else {"message_encode_policy": TextBase64EncodePolicy()}
                )
                extra.update(self._retry.queue_kwargs())
                if self._request_hook is not None:
                    extra["raw_request_hook"] = self._request_hook
                if self._transport is not None:
                    extra["transport"] = self._transport
                target = storage_target(self._settings)
                if target.connection_string is not None:
                    created = QueueClient.from_connection_string(
                        target.connection_string, name, **extra
                    )
                else:
                    assert target.queue_endpoint is not None
                    created = QueueClient(
                        target.queue_endpoint,
                        name,
                        credential=self._credential or make_credential(target),
                        **extra,
                    )
                with contextlib.suppress(ResourceExistsError):
                    created.create_queue()
                self._clients[key] = created
            return self._clients[key]

    def waiting(self, name: str) -> int:
        return int(self.queue(name).get_queue_properties().approximate_message_count or 0)

    def move_messages(self, source: str, destination: str, limit: int) -> int:
        """Move up to `limit` messages as they are, each sent on before it is deleted
        (a crash in between leaves a copy in both: harmless, handlers are idempotent)."""
        moved = 0
        while moved < limit:
            batch = list(
                self.queue(source).receive_messages(
                    max_messages=min(32, limit - moved), visibility_timeout=60
                )
            )
            if not batch:
                break
            for message in batch:
                self.queue(destination, raw=True).send_message(message.content)
                self.queue(source).delete_message(message)
                moved += 1
        return moved

    def send_text(self, name: str, text: str, delay: timedelta = timedelta(0)) -> None:
        seconds = int(delay.total_seconds())
        self.queue(name).send_message(text, visibility_timeout=seconds or None)

    def send_wake(self, wake: Wake) -> None:
        payload = {**asdict(wake), "due_at": wake.due_at.isoformat()}
        self.send_text(CREDITS_DUE, json.dumps(payload))

    def send_delivery(self, delivery: Delivery, delay: timedelta = timedelta(0)) -> None:
        self.queue(WEBHOOK_DELIVERIES).send_message(
            json.dumps(asdict(delivery)), visibility_timeout=int(delay.total_seconds()) or None
        )
