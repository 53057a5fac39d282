"""What the host must index, from each function's own binding JSON: a wrong route,
method or auth level fails here, not in production."""

import json
from typing import Any

import pytest

from devtools.routing import Route

EXPECTED_HTTP = {
    "link_learner": ("api/me/links", ["POST"]),
    "link_nonce": ("api/me/links/nonce", ["POST"]),
    "who_am_i": ("api/whoami", ["GET"]),
    "my_profile": ("api/me", ["GET"]),
    "unlink_learner": ("api/me/links/{program}", ["DELETE"]),
    "list_org_users": ("api/org/users", ["GET"]),
    "add_org_user": ("api/org/users", ["POST"]),
    "remove_org_user": ("api/org/users/{email}", ["DELETE"]),
    "skills_report": ("api/org/skills-report", ["GET"]),
    "designations": ("api/org/designations", ["GET"]),
    "designation_people": ("api/org/designations/{id}/people", ["GET"]),
    "designation_track": ("api/org/designations/{id}/track", ["PUT"]),
    "openapi_json": ("api/openapi.json", ["GET"]),
    "health": ("api/health", ["GET"]),
    "api_docs": ("api/docs", ["GET"]),
    "api_docs_asset": ("api/docs/{asset}", ["GET"]),
    "activity_log": ("api/org/activity", ["GET"]),
    "add_webhook": ("api/org/webhooks", ["POST"]),
    "list_webhooks": ("api/org/webhooks", ["GET"]),
    "delete_webhook": ("api/org/webhooks/{id}", ["DELETE"]),
    "test_webhook": ("api/org/webhooks/{id}/test", ["POST"]),
    "portal": ("{*path}", ["GET"]),
    "method_not_allowed": ("api/{*rest}", ["POST", "DELETE", "HEAD", "PATCH", "PUT", "OPTIONS"]),
}


@pytest.fixture(scope="module")
def function_json() -> dict[str, dict[str, Any]]:
    from function_app import create_app

    fresh = create_app()  # get_functions() may be called once per app
    return {
        str(f.get_function_name()): json.loads(f.get_function_json()) for f in fresh.get_functions()
    }


@pytest.mark.parametrize("name", sorted(EXPECTED_HTTP))
def test_http_function_binding_json(function_json: dict[str, dict[str, Any]], name: str) -> None:
    route, methods = EXPECTED_HTTP[name]
    bindings = function_json[name]["bindings"]
    assert bindings == [
        {
            "direction": "IN",
            "type": "httpTrigger",
            "name": "req",
            "methods": methods,
            "authLevel": "ANONYMOUS",
            "route": route,
        },
        {"direction": "OUT", "type": "http", "name": "$return"},
    ]
    assert function_json[name]["scriptFile"] == "function_app.py"


EXPECTED_OTHER: dict[str, list[dict[str, Any]]] = {
    "activity_retention": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "0 30 3 * * *",
            "runOnStartup": False,
            "useMonitor": True,
        }
    ],
    "monthly_refresh": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "0 0 2 10 * *",
            "runOnStartup": False,
            "useMonitor": True,
        }
    ],
    "deliver_webhook": [
        {
            "direction": "IN",
            "type": "queueTrigger",
            "name": "msg",
            "queueName": "webhook-deliveries",
            "connection": "AzureWebJobsStorage",
        }
    ],
    "ingest_learning_event": [
        {
            "direction": "IN",
            "type": "queueTrigger",
            "name": "msg",
            "queueName": "learning-events",
            "connection": "AzureWebJobsStorage",
        }
    ],
    "apply_due_credit": [
        {
            "direction": "IN",
            "type": "queueTrigger",
            "name": "msg",
            "queueName": "credits-due",
            "connection": "AzureWebJobsStorage",
        }
    ],
    "send_due_credit_wakes": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "0 */5 * * * *",
            "runOnStartup": False,
            "useMonitor": True,
        }
    ],
    "reconcile": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "30 */5 * * * *",
            "runOnStartup": False,
            "useMonitor": True,
        }
    ],
    "send_expiry_warnings": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "0 0 6 * * *",
            "runOnStartup": False,
            "useMonitor": True,
        }
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED_OTHER))
def test_queue_and_timer_binding_json(function_json: dict[str, dict[str, Any]], name: str) -> None:
    assert function_json[name]["bindings"] == EXPECTED_OTHER[name]


def test_every_function_is_expected(function_json: dict[str, dict[str, Any]]) -> None:
    assert set(function_json) == set(EXPECTED_HTTP) | set(EXPECTED_OTHER) | {"replay_poison"}


def test_the_poison_replay_needs_the_function_key(
    function_json: dict[str, dict[str, Any]],
) -> None:
    [trigger, _] = function_json["replay_poison"]["bindings"]
    assert (trigger["route"], trigger["methods"], trigger["authLevel"]) == (
        "api/ops/poison/{queue}/replay",
        ["POST"],
        "FUNCTION",
    )


def test_host_json_reads_base64_queue_messages_and_gives_up_after_five_tries() -> None:
    with open("host.json") as host:
        queues = json.load(host)["extensions"]["queues"]
    assert queues["messageEncoding"] == "base64"
    assert queues["maxDequeueCount"] == 5


def test_the_api_sits_under_api_and_the_portal_at_the_root() -> None:
    with open("host.json") as host:
        assert json.load(host)["extensions"]["http"]["routePrefix"] == ""


def test_routes_resolve_from_binding_metadata(routes: list[Route]) -> None:
    from devtools.routing import find_route

    found = find_route(routes, "DELETE", "api/me/links/partner_university")
    assert found is not None
    assert (found[0].name, found[1]) == ("unlink_learner", {"program": "partner_university"})


def test_importing_function_app_loads_no_storage_sdk_jwt_or_settings() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, function_app; "
        "heavy = [m for m in ('azure.data.tables', 'jwt', 'pydantic_settings', 'shared.settings', "
        "'cryptography', 'azure.storage.queue') if m in sys.modules]; print(heavy)"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"
