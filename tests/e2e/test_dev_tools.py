"""The dev tools keep working with the dev clock: `make token` mints assertions at
the running app's time, and the runner runs the timers a clock jump passed over."""

from datetime import UTC, datetime, timedelta

from devtools.dev_token import app_now
from tests.e2e.conftest import Service


def test_make_token_mints_at_the_running_apps_clock(service: Service) -> None:
    before = app_now(service.url)
    service.advance(timedelta(days=10).total_seconds())
    moved = datetime.fromtimestamp(app_now(service.url), UTC)
    assert moved - datetime.fromtimestamp(before, UTC) >= timedelta(days=10)


def test_without_a_running_app_make_token_uses_this_machines_clock() -> None:
    unreachable = app_now("http://127.0.0.1:9")
    assert abs(unreachable - datetime.now(UTC).timestamp()) < 5
