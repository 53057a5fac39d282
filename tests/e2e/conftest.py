"""Azurite and the local runner as real processes on free ports, for tests over
real HTTP."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devtools import azurite
from devtools.host import ROOT
from devtools.tokens import KeyPair
from tests.support.world import AUDIENCE, ISSUERS


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
            self.connection, "learning-events", message_encode_policy=TextBase64EncodePolicy()
        )
        queue.send_message(message if isinstance(message, str) else json.dumps(message))


def wait_until(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.fixture(scope="session")
def service(keys: dict[str, KeyPair]) -> Iterator[Service]:
    ports = azurite.free_ports()
    storage = azurite.start(ports)
    port = azurite.free_port()
    env = {
        **os.environ,
        "AzureWebJobsStorage": ports.connection_string,
        "LEARN_ISSUER": ISSUERS["learn"],
        "LEARN_PUBLIC_KEY": keys["learn"].public_pem,
        "PARTNER_UNIVERSITY_ISSUER": ISSUERS["partner_university"],
        "PARTNER_UNIVERSITY_PUBLIC_KEY": keys["partner_university"].public_pem,
        "ASSERTION_AUDIENCE": AUDIENCE,
    }
    runner = subprocess.Popen(
        [sys.executable, "-m", "devtools.runner", "--port", str(port), "--dev-clock",
         "--settings", "/nonexistent"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: _listening(port))
        yield Service(f"http://127.0.0.1:{port}", ports.connection_string, keys, runner)
    finally:
        azurite.stop(runner)
        azurite.stop(storage)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2):
            return True
    except OSError:
        return False
