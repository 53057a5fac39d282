"""`make start`: Azurite on its usual ports (data under .azurite/), the tables
the app needs, then the function app with Core Tools when it is installed."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from devtools import azurite
from devtools.dev_token import dev_settings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "local.settings.json"


def ensure_local_settings() -> dict[str, str]:
    """local.settings.json from the example and the dev program keys; settings added to
    the project since the file was written are added, and none is overwritten."""
    example = json.loads((ROOT / "local.settings.example.json").read_text())
    wanted = {**example["Values"], **dev_settings()}
    if SETTINGS_FILE.exists():
        current = json.loads(SETTINGS_FILE.read_text())
    else:
        current = {**example, "Values": {}}
    values: dict[str, str] = current.setdefault("Values", {})
    missing = {k: v for k, v in wanted.items() if not values.get(k)}
    if missing:
        values.update(missing)
        SETTINGS_FILE.write_text(json.dumps(current, indent=2))
        print(f"Wrote {', '.join(sorted(missing))} to {SETTINGS_FILE.name} (see README).")
    return values


def prepare_storage(values: dict[str, str]) -> None:
    from shared.adapters.tables import TableStore
    from shared.settings import Settings

    os.environ.update({k: v for k, v in values.items() if isinstance(v, str)})
    settings = Settings()
    from shared.adapters import names, queues

    tables = TableStore(settings)
    for table in names.TABLES:
        tables.table(table)
    queue_store = queues.QueueStore(settings)
    for queue in names.QUEUES:
        queue_store.queue(queue)


def _stop_like_ctrl_c(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    values = ensure_local_settings()
    process = azurite.start(
        azurite.DEFAULT_PORTS, data_dir=ROOT / ".azurite", log_path=ROOT / ".azurite" / "log.txt"
    )
    print("Azurite is running on 10000 (blob), 10001 (queue), 10002 (table); data in .azurite/")
    try:
        prepare_storage(values)
        func = shutil.which("func")
        if func is None:
            print(
                "Azure Functions Core Tools (`func`) is not installed: running the project's "
                "local runner (devtools/runner.py): the portal on http://localhost:7071/, the "
                "API under /api/, dev tools at /.dev/. Ctrl-C stops everything."
            )
            command = [sys.executable, "-m", "devtools.runner", "--dev-clock"]
        else:
            print("Starting the function app with Core Tools: func start")
            command = [func, "start"]
        app = subprocess.Popen(command, cwd=ROOT, env={**os.environ})
        try:
            return app.wait()
        finally:
            azurite.stop(app)  # the same terminate-then-kill as for Azurite
    except KeyboardInterrupt:
        return 0
    finally:
        azurite.stop(process)
        print("Stopped Azurite.")


if __name__ == "__main__":
    sys.exit(main())
