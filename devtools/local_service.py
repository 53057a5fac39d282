"""Azurite and the local runner as real processes on free ports of 127.0.0.1: what the
e2e tests, the browser tests and the load run all stand on."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from devtools import azurite
from devtools.host import ROOT


@dataclass
class LocalService:
    url: str
    connection_string: str
    runner: subprocess.Popen[bytes]


def wait_listening(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on 127.0.0.1:{port}") from None
            time.sleep(0.1)


@contextmanager
def local_service(
    settings: dict[str, str], *, runner_log: IO[Any] | None = None
) -> Iterator[LocalService]:
    """`settings` as app settings of the runner, which runs with the dev clock and no
    settings file, beside an Azurite of its own."""
    ports = azurite.free_ports()
    storage = azurite.start(ports)
    port = azurite.free_port()
    env = {**os.environ, **settings, "AzureWebJobsStorage": ports.connection_string}
    runner = subprocess.Popen(
        [sys.executable, "-m", "devtools.runner", "--host", "127.0.0.1", "--port", str(port),
         "--settings", "/nonexistent", "--dev-clock"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=runner_log or subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_listening(port)
        yield LocalService(f"http://127.0.0.1:{port}", ports.connection_string, runner)
    finally:
        azurite.stop(runner)
        azurite.stop(storage)
