"""The OpenAPI document carries the constraints the service enforces, and it takes
them from the models that enforce them: a limit changed in a model changes the
document, with nothing written twice."""

import dataclasses
from typing import Annotated, Any

import pytest
from pydantic import Field, StringConstraints

from shared.entrypoints import openapi
from shared.entrypoints.requests import add_user_command, webhook_command
from shared.errors import ServiceError
from shared.wire import MAX_DISPLAY_NAME_LENGTH, AddUserRequest, ReportQuery


def _parameters(document: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    return {p["name"]: p for p in document["paths"][path][method]["parameters"]}


def test_the_document_says_what_the_service_refuses() -> None:
    document = openapi.openapi_document()
    schemas = document["components"]["schemas"]
    add_user = schemas["AddUserRequest"]["properties"]
    assert add_user["email"]["format"] == "email"
    assert add_user["display_name"]["maxLength"] == MAX_DISPLAY_NAME_LENGTH
    assert add_user["display_name"]["minLength"] == 1
    webhook = schemas["WebhookRequest"]["properties"]
    assert webhook["events"]["minItems"] == 1
    assert webhook["events"]["items"] == {"$ref": "#/components/schemas/ActivityType"}
    assert len(schemas["ActivityType"]["enum"]) == webhook["events"]["maxItems"] == 10
    assert webhook["url"]["maxLength"] == 2048
    assert webhook["description"]["maxLength"] == 256
    report = _parameters(document, "/org/skills-report")
    assert report["status"]["schema"]["items"] == {"$ref": "#/components/schemas/CredentialStatus"}
    assert schemas["CredentialStatus"]["enum"] == ["active", "expiring", "expired"]
    assert (report["status"]["style"], report["status"]["explode"]) == ("form", False)
    assert report["expiring_within"]["schema"]["format"] == "duration"
    activity = _parameters(document, "/org/activity")
    assert activity["since"]["schema"]["format"] == "date-time"
    assert activity["email"]["schema"]["format"] == "email"
    assert "pattern" in activity["continuation"]["schema"]
    assert _parameters(document, "/org/designations")["on"]["schema"]["format"] == "date"
    users = _parameters(document, "/org/users")
    assert users["linked"]["schema"]["type"] == "boolean"
    email = _parameters(document, "/org/users/{email}", "delete")["email"]
    assert email["schema"]["format"] == "email"
    webhook_id = _parameters(document, "/org/webhooks/{id}", "delete")["id"]
    assert webhook_id["schema"]["pattern"] == "^[0-9a-f]{32}$"
    program = _parameters(document, "/me/links/{program}", "delete")["program"]
    assert program["schema"] == {"$ref": "#/components/schemas/Program"}
    assert document["components"]["schemas"]["Program"]["enum"] == ["learn", "partner_university"]


def test_a_limit_changed_in_a_model_changes_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    class NarrowerUser(AddUserRequest):
        display_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10)]

    class FewerStatuses(ReportQuery):
        status: list[Annotated[str, Field(pattern="^active$")]] | None = None  # type: ignore[assignment]

    changed = tuple(
        dataclasses.replace(op, body=NarrowerUser)
        if op.body is AddUserRequest
        else dataclasses.replace(op, query=FewerStatuses)
        if op.query is ReportQuery
        else op
        for op in openapi.OPERATIONS
    )
    monkeypatch.setattr(openapi, "OPERATIONS", changed)
    document = openapi.openapi_document()
    paths = document["paths"]
    body = paths["/org/users"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/NarrowerUser")
    assert (
        document["components"]["schemas"]["NarrowerUser"]["properties"]["display_name"]["maxLength"]
        == 10
    )
    status = _parameters(document, "/org/skills-report")["status"]["schema"]
    assert status["items"] == {"pattern": "^active$", "type": "string"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"email": "a@contoso.com", "display_name": "   "}', "display_name"),
        (b'{"email": "a@contoso.com", "display_name": "' + b"x" * 257 + b'"}', "display_name"),
    ],
)
def test_the_models_in_the_document_are_the_ones_that_refuse(body: bytes, field: str) -> None:
    with pytest.raises(ServiceError) as refused:
        add_user_command(body)
    assert refused.value.extra["field"] == field


def test_a_webhook_without_events_or_with_a_long_description_is_refused_by_its_model() -> None:
    for body, field in (
        (b'{"url": "https://example.com/h", "events": []}', "events"),
        (
            b'{"url": "https://example.com/h", "events": ["user.added"], "description": "'
            + b"d" * 257
            + b'"}',
            "description",
        ),
    ):
        with pytest.raises(ServiceError) as refused:
            webhook_command(body)
        assert refused.value.extra["field"] == field


def test_a_method_a_known_path_does_not_take_is_405_with_allow() -> None:
    from shared.entrypoints.methods import allowed_methods
    from shared.entrypoints.responses import not_found_or_not_allowed

    assert allowed_methods("me") == ("GET",)
    assert allowed_methods("org/users") == ("GET", "POST")
    assert allowed_methods("org/webhooks/abc/test") == ("POST",)
    assert allowed_methods("me/links/nonce") == ("POST",)
    assert allowed_methods("me/links/learn") == ("DELETE",)
    assert allowed_methods("docs/app.js") == ("GET",)
    assert allowed_methods("nowhere") == ()
    answer = not_found_or_not_allowed(allowed_methods("org/users/a@b.com"))
    assert (answer.status_code, answer.headers["Allow"]) == (405, "DELETE")
    assert not_found_or_not_allowed(()).status_code == 404


@pytest.mark.parametrize(
    ("parse", "params", "field"),
    [
        ("activity_command", {"until": "0.5"}, "until"),  # pydantic alone reads a Unix time
        ("activity_command", {"since": "2026-01-01"}, "since"),  # a date is not a date-time
        ("report_command", {"expiring_within": "30"}, "expiring_within"),  # seconds, laxly
        ("report_command", {"expiring_within": "-P1D"}, "expiring_within"),
        ("report_command", {"status": "active,retired"}, "status"),
        ("list_users_command", {"linked": "yes"}, "linked"),
        ("designations_command", {"on": "20260101"}, "on"),
    ],
)
def test_a_query_value_must_look_like_what_the_document_says(
    parse: str, params: dict[str, str], field: str
) -> None:
    from shared.entrypoints import requests

    with pytest.raises(ServiceError) as refused:
        getattr(requests, parse)(params)
    assert (refused.value.code, refused.value.extra["field"]) == ("invalid_request", field)


def test_query_values_the_document_allows_are_read() -> None:
    from datetime import UTC, datetime, timedelta

    from shared.entrypoints import requests

    read = requests.activity_command(
        {"until": "2026-05-01T10:00:00+02:00", "type": "user.added,user.added,credential.expired"}
    )
    assert read.until == datetime(2026, 5, 1, 8, tzinfo=UTC)
    assert read.types == ("user.added", "credential.expired")
    report = requests.report_command({"expiring_within": "P30D", "status": "expired,active"})
    assert (report.expiring_within, report.statuses) == (
        timedelta(days=30), frozenset({"active", "expired"}),
    )  # fmt: skip
    assert requests.list_users_command({"linked": "false"}).linked is False
