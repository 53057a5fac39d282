"""The local runner: serve the function app on http://localhost:7071/ without
Azure Functions Core Tools, with queues and timers working.

    python -m devtools.runner [--port 7071] [--settings local.settings.json]

Settings come from local.settings.json `Values`, as with Core Tools."""

import argparse
import base64
import json
import logging
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.queue_names import LEARNING_EVENTS

ROOT = Path(__file__).resolve().parent.parent


class DevClock:
    """The system clock plus an offset that only the local runner can move."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()


def load_settings(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    values = json.loads(path.read_text()).get("Values", {})
    return {k: str(v) for k, v in values.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the function app locally.")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--settings", type=Path, default=ROOT / "local.settings.json")
    parser.add_argument("--no-background", action="store_true", help="no queue polling or timers")
    parser.add_argument(
        "--dev-clock",
        action="store_true",
        help='let POST /admin/clock {"advance_seconds": N} move the app\'s clock (demos, e2e)',
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)
    # As Core Tools does: the app trusts the principal header only in local development.
    os.environ.setdefault("AZURE_FUNCTIONS_ENVIRONMENT", "Development")
    for key, value in load_settings(args.settings).items():
        os.environ.setdefault(key, value)

    import uvicorn

    from devtools.dev_portal import DevPortal
    from devtools.host import FunctionHost
    from shared.settings import Settings

    settings = Settings()
    host = FunctionHost.for_project(settings.local_connection_string)
    # As the Functions host: a scheduled timer run takes the function's blob lease,
    # so several runners sharing one Azurite run each timer once.
    from devtools.timer_leases import TimerLeases

    host.timer_leases = TimerLeases(settings.local_connection_string)
    clock = DevClock()
    if args.dev_clock:
        from shared import bootstrap as runtime

        runtime.install(runtime.Runtime(settings, clock))
        host.clock_control = clock.advance

    def send_event(event: dict[str, Any]) -> None:
        encoded = base64.b64encode(json.dumps(event).encode()).decode()
        host.queue_client(LEARNING_EVENTS).send_message(encoded)

    host.dev_portal = DevPortal(
        now=clock.now, advance=host.move_clock if args.dev_clock else None, send_event=send_event
    )
    stop = threading.Event()
    if not args.no_background:
        host.start_background(stop)
    names = ", ".join(f"{t.name} ({t.kind})" for t in host.triggers.values())
    logging.getLogger("skills_link.runner").info(
        "Serving the portal on http://%s:%d/ (dev tools at /.dev/) and the API under /api/ "
        "with: %s",
        args.host,
        args.port,
        names,
    )
    try:
        uvicorn.run(
            host.asgi,
            host=args.host,
            port=args.port,
            log_level="warning",
            lifespan="on",
            interface="asgi3",
        )
    finally:
        stop.set()


if __name__ == "__main__":
    main()
