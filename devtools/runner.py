"""The local runner: serve the function app on http://localhost:7071/api/ without
Azure Functions Core Tools, with queues and timers working.

    python -m devtools.runner [--port 7071] [--settings local.settings.json]

Settings come from local.settings.json `Values`, as with Core Tools."""

import argparse
import json
import logging
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

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

    from devtools.host import FunctionHost
    from shared.settings import Settings

    settings = Settings()
    host = FunctionHost.for_project(settings.local_connection_string)
    if args.dev_clock:
        from shared import bootstrap as runtime

        clock = DevClock()
        runtime.install(runtime.Runtime(settings, clock))
        host.clock_control = clock.advance
    stop = threading.Event()
    if not args.no_background:
        host.start_background(stop)
    names = ", ".join(f"{t.name} ({t.kind})" for t in host.triggers.values())
    logging.getLogger("skills_link.runner").info(
        "Serving on http://%s:%d/%s/ with: %s", args.host, args.port, host.route_prefix, names
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
