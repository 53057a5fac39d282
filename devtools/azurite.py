"""Start the project's own Azurite (from node_modules) on chosen or free ports."""

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@dataclass(frozen=True)
class AzuritePorts:
    blob: int
    queue: int
    table: int

    @property
    def connection_string(self) -> str:
        base = "http://127.0.0.1:{}/" + ACCOUNT
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={base.format(self.blob)};QueueEndpoint={base.format(self.queue)};"
            f"TableEndpoint={base.format(self.table)};"
        )


DEFAULT_PORTS = AzuritePorts(blob=10000, queue=10001, table=10002)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports() -> AzuritePorts:
    return AzuritePorts(blob=free_port(), queue=free_port(), table=free_port())


def azurite_binary() -> str:
    local = ROOT / "node_modules" / ".bin" / "azurite"
    if local.exists():
        return str(local)
    found = shutil.which("azurite")
    if found is None:
        raise RuntimeError("Azurite is not installed: run `npm ci` in the project folder.")
    return found


def _wait_for(ports: AzuritePorts, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for port in (ports.blob, ports.queue, ports.table):
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Azurite exited with code {process.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"Azurite did not listen on port {port} in {timeout} s")
            time.sleep(0.05)


def start(
    ports: AzuritePorts,
    *,
    data_dir: Path | None = None,
    log_path: Path | None = None,
    oauth_tls: tuple[Path, Path] | None = None,
) -> subprocess.Popen[bytes]:
    """In memory unless data_dir is given (then data survives a restart). With
    oauth_tls (certificate, key): HTTPS, and bearer tokens are required and checked
    (issuer, audience, expiry) as Microsoft Entra ID's would be."""
    command = [
        azurite_binary(),
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",
        "--blobHost", "127.0.0.1", "--blobPort", str(ports.blob),
        "--queueHost", "127.0.0.1", "--queuePort", str(ports.queue),
        "--tableHost", "127.0.0.1", "--tablePort", str(ports.table),
    ]  # fmt: skip
    if oauth_tls is not None:
        certificate, key = oauth_tls
        command += ["--oauth", "basic", "--cert", str(certificate), "--key", str(key)]
    if data_dir is None:
        command.append("--inMemoryPersistence")
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        command += ["--location", str(data_dir)]
    output = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ}, cwd=ROOT
    )
    try:
        _wait_for(ports, process, timeout=30)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running(
    ports: AzuritePorts | None = None, oauth_tls: tuple[Path, Path] | None = None
) -> Iterator[AzuritePorts]:
    chosen = ports or free_ports()
    process = start(chosen, oauth_tls=oauth_tls)
    try:
        yield chosen
    finally:
        stop(process)
