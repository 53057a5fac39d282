"""Azurite and the local runner as real processes on free ports, for tests over
real HTTP."""

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devtools.local_service import local_service
from devtools.tokens import KeyPair
from shared.queue_names import LEARNING_EVENTS
from tests.support.world import program_app_settings


@dataclass
class Service:
    url: str
    connection: str
    keys: dict[str, KeyPair]
    runner: subprocess.Popen[bytes]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def advance(self, seconds: float) -> float:
        with self.client() as http:
            response = http.post("/admin/clock", json={"advance_seconds": seconds})
            response.raise_for_status()
        return float(seconds)

    def run(self, function: str) -> None:
        with self.client() as http:
            assert http.post(f"/admin/functions/{function}", json={"input": ""}).status_code == 202

    def send_event(self, message: dict[str, Any] | str) -> None:
        queue = QueueClient.from_connection_string(
            self.connection, LEARNING_EVENTS, message_encode_policy=TextBase64EncodePolicy()
        )
        queue.send_message(message if isinstance(message, str) else json.dumps(message))


def wait_until(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.fixture(scope="session")
def service(keys: dict[str, KeyPair]) -> Iterator[Service]:
    with local_service(program_app_settings(keys)) as running:
        yield Service(running.url, running.connection_string, keys, running.runner)
