"""Drive the app's queue and timer functions through the project's own local host
(devtools/host.py), against Azurite: the same code `make start` runs."""

import json
from typing import Any

from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devtools.host import FunctionHost
from shared import bootstrap as runtime


class QueueHost:
    def __init__(self, functions: list[Any], rt: runtime.Runtime) -> None:
        from devtools.host import ROOT

        host_json = json.loads((ROOT / "host.json").read_text())
        self.connection = rt.settings.local_connection_string
        self.host = FunctionHost(functions, host_json, self.connection)

    def client(self, name: str) -> QueueClient:
        self.host.queue_client(name)
        return QueueClient.from_connection_string(
            self.connection, name, message_encode_policy=TextBase64EncodePolicy()
        )

    def send(self, queue: str, payload: Any) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        self.client(queue).send_message(text)

    def send_raw(self, queue: str, raw: str) -> None:
        self.host.queue_client(queue).send_message(raw)

    def peek_texts(self, queue: str) -> list[str]:
        return [m.content for m in self.host.queue_client(queue).peek_messages(max_messages=32)]

    def clear(self, *queues: str) -> None:
        for queue in queues:
            self.host.queue_client(queue).clear_messages()

    def drain(self, queue: str, function_name: str, rounds: int = 50) -> int:
        assert self.host.triggers[function_name].binding["queueName"] == queue
        return self.host.drain(function_name, rounds)

    def run_timer(self, function_name: str) -> None:
        self.host.run_timer(function_name)
