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
    urls: list[str]
    """Every instance's address (one unless several were asked for)."""


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
    settings: dict[str, str], *, runner_log: IO[Any] | None = None, instances: int = 1
) -> Iterator[LocalService]:
    """`settings` as app settings of the runner, which runs with the dev clock and no
    settings file, beside an Azurite of its own; with `instances`, that many runners
    share the one Azurite, as Functions scales out against one storage account (their
    timers take a lease each run, as the host's do)."""
    ports = azurite.free_ports()
    storage = azurite.start(ports)
    env = {**os.environ, **settings, "AzureWebJobsStorage": ports.connection_string}
    runners: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for _ in range(instances):
            port = azurite.free_port()
            runners.append(subprocess.Popen(
                [sys.executable, "-m", "devtools.runner", "--host", "127.0.0.1",
                 "--port", str(port), "--settings", "/nonexistent", "--dev-clock"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                stderr=runner_log or subprocess.DEVNULL,
            ))  # fmt: skip
            urls.append(f"http://127.0.0.1:{port}")
            wait_listening(port)
        yield LocalService(urls[0], ports.connection_string, runners[0], urls)
    finally:
        for runner in runners:
            azurite.stop(runner)
        azurite.stop(storage)
