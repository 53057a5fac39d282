"""The local host's own behaviour: routes from binding metadata, the poison move
after maxDequeueCount failures, and NCRONTAB schedules."""

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func
import pytest

from devtools.azurite import AzuritePorts
from devtools.host import FunctionHost, QueueSettings

HOST_JSON: dict[str, Any] = {
    "extensions": {
        "http": {"routePrefix": "api"},
        "queues": {
            "maxDequeueCount": 3,
            "visibilityTimeout": "00:00:00",
            "messageEncoding": "base64",
        },
    }
}


def sample_app() -> list[Any]:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    seen: list[tuple[str, int | None]] = []

    @app.route(route="things/{id}", methods=["GET", "PUT"])
    def thing(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(f"{req.method} {req.route_params['id']} {req.params.get('q')}")

    @app.queue_trigger(arg_name="msg", queue_name="runner-test", connection="AzureWebJobsStorage")
    def consume(msg: func.QueueMessage) -> None:
        text = msg.get_body().decode()
        seen.append((text, getattr(msg, "dequeue_count", None)))
        if text == "explode":
            raise RuntimeError("always fails")

    @app.timer_trigger(arg_name="timer", schedule="0 0 2 10 * *")
    def monthly(timer: func.TimerRequest) -> None:
        seen.append(("timer", 0))

    functions = list(app.get_functions())
    functions.append(seen)  # type: ignore[arg-type]
    return functions


@pytest.fixture
def host(azurite: AzuritePorts) -> tuple[FunctionHost, list[tuple[str, int]]]:
    functions = sample_app()
    seen = functions.pop()
    return FunctionHost(functions, HOST_JSON, azurite.connection_string), seen


def test_http_routes_and_methods_come_from_binding_metadata(host: tuple[FunctionHost, Any]) -> None:
    local, _ = host
    assert local.handle_http("GET", "/api/things/a%2Fb", "q=1", {}, b"")[::2] == (200, b"GET a/b 1")
    assert local.handle_http("PUT", "/api/things/7", "", {}, b"")[0] == 200
    # No function declares DELETE there: the host's routing answers 404, and so does this.
    assert local.handle_http("DELETE", "/api/things/7", "", {}, b"")[0] == 404
    assert local.handle_http("GET", "/things/7", "", {}, b"")[0] == 404


def test_a_message_that_keeps_failing_moves_to_poison_after_max_dequeue_count(
    host: tuple[FunctionHost, list[tuple[str, int]]],
) -> None:
    local, seen = host
    queue = local.queue_client("runner-test")
    poison = local.queue_client("runner-test-poison")
    queue.clear_messages()
    poison.clear_messages()
    for text in ("explode", "fine"):
        queue.send_message(base64.b64encode(text.encode()).decode())
    queue.send_message("not base64 !!")
    for _ in range(10):
        local.poll_queue("consume")
    assert [count for text, count in seen if text == "explode"] == [1, 2, 3]
    assert [count for text, count in seen if text == "fine"] == [1]
    moved = sorted(m.content for m in poison.peek_messages(max_messages=10))
    assert moved == sorted([base64.b64encode(b"explode").decode(), "not base64 !!"])
    assert queue.peek_messages() == []


def test_timers_follow_their_ncrontab_schedule(
    host: tuple[FunctionHost, list[tuple[str, int]]],
) -> None:
    local, seen = host
    after = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)
    assert local.next_run("monthly", after) == datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
    assert local.next_run("monthly", after - timedelta(seconds=1)) == after
    local.handle_http("POST", "/admin/functions/monthly", "", {}, b'{"input": ""}')
    assert ("timer", 0) in seen


def test_queue_settings_are_read_from_host_json() -> None:
    import json

    from devtools.host import ROOT

    settings = QueueSettings.from_host_json(json.loads((ROOT / "host.json").read_text()))
    assert (settings.max_dequeue_count, settings.visibility_timeout, settings.base64) == (
        5,
        timedelta(seconds=30),
        True,
    )
