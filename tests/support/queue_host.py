"""Drive the app's queue and timer functions as the host would: messages are read
from Azurite (base64, as host.json says), handed over as func.QueueMessage with
their real dequeue count, deleted on success, and moved to `<queue>-poison`
after maxDequeueCount failures."""

import base64
import binascii
import contextlib
import json
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.functions.queue import QueueMessage as HostQueueMessage
from azure.functions.timer import TimerRequest as HostTimerRequest
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from shared import runtime

HOST_JSON = json.loads((Path(__file__).resolve().parents[2] / "host.json").read_text())
MAX_DEQUEUE = HOST_JSON["extensions"]["queues"]["maxDequeueCount"]


class QueueHost:
    def __init__(self, functions: list[Any], rt: runtime.Runtime) -> None:
        self.by_name = {f.get_function_name(): f for f in functions}
        self.runtime = rt
        self.connection = rt.settings.storage_connection

    def client(self, name: str) -> QueueClient:
        client = QueueClient.from_connection_string(
            self.connection, name, message_encode_policy=TextBase64EncodePolicy()
        )
        with contextlib.suppress(ResourceExistsError):
            client.create_queue()
        return client

    def send(self, queue: str, payload: Any) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        self.client(queue).send_message(text)

    def send_raw(self, queue: str, raw: str) -> None:
        QueueClient.from_connection_string(self.connection, queue).send_message(raw)

    def peek_texts(self, queue: str) -> list[str]:
        raw_client = QueueClient.from_connection_string(self.connection, queue)
        return [m.content for m in raw_client.peek_messages(max_messages=32)]

    def clear(self, *queues: str) -> None:
        for queue in queues:
            self.client(queue).clear_messages()

    def drain(self, queue: str, function_name: str, rounds: int = 20) -> int:
        """Run the queue's function until the queue is empty; returns messages handled."""
        user_function = self.by_name[function_name].get_user_function()
        raw_client = QueueClient.from_connection_string(self.connection, queue)
        poison = self.client(f"{queue}-poison")
        handled = 0
        for _ in range(rounds):
            batch = list(raw_client.receive_messages(max_messages=32, visibility_timeout=1))
            if not batch:
                return handled
            for message in batch:
                try:
                    body = base64.b64decode(message.content, validate=True)
                except (binascii.Error, ValueError):
                    poison.send_message(message.content)
                    raw_client.delete_message(message)
                    continue
                queue_message = HostQueueMessage(
                    id=message.id, body=body, dequeue_count=message.dequeue_count
                )
                try:
                    user_function(queue_message)
                except Exception:
                    if message.dequeue_count >= MAX_DEQUEUE:
                        poison.send_message(body.decode("utf-8", errors="replace"))
                        raw_client.delete_message(message)
                    else:
                        raw_client.update_message(message, visibility_timeout=0)
                    continue
                raw_client.delete_message(message)
                handled += 1
        return handled

    def run_timer(self, function_name: str) -> None:
        self.by_name[function_name].get_user_function()(HostTimerRequest(past_due=False))
