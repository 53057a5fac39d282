"""The OpenAPI 3.1 document of the HTTP API. Schemas are generated from the pydantic
models the service validates and answers with; this module only says which model
goes with which route, status and error code."""

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from shared.errors import codes_by_status
from shared.services.designations import DesignationsView
from shared.wire import (
    ActivityEntry,
    ActivityPage,
    ActivityQuery,
    AddUserRequest,
    Association,
    Departure,
    DesignationsQuery,
    Email,
    ErrorResponse,
    HealthStatus,
    LearningEvent,
    LinkRequest,
    NonceIssued,
    NonceRequest,
    OrgUser,
    OrgUserPage,
    Profile,
    Program,
    ReportPage,
    ReportQuery,
    UsersQuery,
    WebhookCreated,
    WebhookId,
    WebhookList,
    WebhookRequest,
    WhoAmI,
)

ERRORS = codes_by_status()


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    answers: dict[int, type[BaseModel] | None]
    errors: tuple[int, ...]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    path_params: dict[str, Any] = field(default_factory=dict)
    """Name -> the (annotated) type the route parses it as."""
    csv: bool = False
    public: bool = False
    links: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    """OpenAPI links from the first success answer: name -> (operationId, parameters),
    so a client (or schemathesis' stateful run) knows where an answer leads."""


PROGRAM_PARAM = {"program": Program}
OPERATIONS = (
    Operation(
        "get", "/whoami", "Who is signed in, from the principal alone (no storage)",
        {200: WhoAmI}, (400, 401, 503),
    ),
    Operation("get", "/me", "The caller's profile", {200: Profile}, (400, 401, 403, 503)),
    Operation(
        "post", "/me/links/nonce",
        "A single-use nonce (10 minutes) for the program's sign-in to put in its assertion",
        {201: NonceIssued}, (400, 401, 403, 503), body=NonceRequest,
    ),
    Operation(
        "post", "/me/links", "Link the caller's own learner account",
        {201: Association, 200: Association}, (400, 401, 403, 409, 422, 429, 503), body=LinkRequest,
        links={"Unlink": ("delete_me_links_program", {"program": "$response.body#/program"})},
    ),
    Operation(
        "delete", "/me/links/{program}", "Remove the caller's own link",
        {204: None}, (400, 401, 403, 404, 503), path_params=PROGRAM_PARAM,
    ),
    Operation(
        "get", "/org/users", "List the organization's partner users",
        {200: OrgUserPage}, (400, 401, 403, 503), query=UsersQuery,
    ),
    Operation(
        "post", "/org/users", "Add (or reactivate) a partner user",
        {201: OrgUser}, (400, 401, 403, 409, 503), body=AddUserRequest,
        links={"RemoveUser": ("delete_org_users_email", {"email": "$response.body#/email"})},
    ),
    Operation(
        "delete", "/org/users/{email}", "A person left: remove them",
        {202: Departure, 200: Departure}, (400, 401, 403, 404, 503),
        path_params={"email": Email},
    ),
    Operation(
        "get", "/org/skills-report", "The Skills Report, paged (JSON or CSV)",
        {200: ReportPage}, (400, 401, 403, 503),
        query=ReportQuery, csv=True,
    ),
    Operation(
        "get", "/org/designations", "Designation points from credited rows",
        {200: DesignationsView}, (400, 401, 403, 503), query=DesignationsQuery,
    ),
    Operation(
        "get", "/org/activity", "The organization's activity log, newest first (JSON or CSV)",
        {200: ActivityPage}, (400, 401, 403, 503),
        query=ActivityQuery, csv=True,
    ),
    Operation(
        "post", "/org/webhooks", "Register a webhook endpoint (the secret is shown once)",
        {201: WebhookCreated}, (400, 401, 403, 409, 503), body=WebhookRequest,
        links={
            "DeleteWebhook": ("delete_org_webhooks_id", {"id": "$response.body#/id"}),
            "PingWebhook": ("post_org_webhooks_id_test", {"id": "$response.body#/id"}),
        },
    ),
    Operation(
        "get", "/org/webhooks", "The organization's webhook endpoints (no secrets)",
        {200: WebhookList}, (401, 403, 503),
    ),
    Operation(
        "delete", "/org/webhooks/{id}", "Remove a webhook endpoint",
        {204: None}, (401, 403, 404, 503), path_params={"id": WebhookId},
    ),
    Operation(
        "post", "/org/webhooks/{id}/test", "Send a ping (at most once a minute, never retried)",
        {202: None}, (401, 403, 404, 429, 503), path_params={"id": WebhookId},
    ),
    Operation(
        "get", "/health", "Whether settings and storage are fine (no personal data)",
        {200: HealthStatus}, (503,), public=True,
    ),
)  # fmt: skip


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _schema_of(kind: Any) -> dict[str, Any]:
    return TypeAdapter(kind).json_schema(mode="validation")


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """One parameter per field of the query model, with the field's constraints; an
    optional field's `null` branch is dropped (absent is how a query says none), and
    a list is comma-separated (`style: form`, `explode: false`)."""
    schema = model.model_json_schema(mode="validation")
    found = []
    for name, declared in schema["properties"].items():
        prop = dict(declared)
        prop.pop("default", None)
        prop.pop("title", None)
        description = prop.pop("description", None)
        branches = [b for b in prop.pop("anyOf", []) if b.get("type") != "null"]
        if branches:
            prop.update(branches[0])
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in schema.get("required", []),
            "schema": prop,
        }
        if description:
            parameter["description"] = description
        if prop.get("type") == "array":
            parameter.update(style="form", explode=False)
        found.append(parameter)
    return found


def _operation(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, model in op.answers.items():
        if model is None:
            responses[str(status)] = {"description": "Done"}
            continue
        content: dict[str, Any] = {"application/json": {"schema": _ref(model)}}
        if op.csv:
            content["text/csv"] = {"schema": {"type": "string"}}
        responses[str(status)] = {"description": "Success", "content": content}
        if op.links and status == min(op.answers):
            responses[str(status)]["links"] = {
                name: {"operationId": target, "parameters": parameters}
                for name, (target, parameters) in op.links.items()
            }
    body_errors = (413, 415) if op.body is not None else ()
    for status in sorted({*op.errors, *body_errors, 500}):
        responses[str(status)] = {
            "description": "Error: " + ", ".join(ERRORS[status]),
            "content": {"application/json": {"schema": _ref(ErrorResponse)}},
        }
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _schema_of(kind)}
        for name, kind in op.path_params.items()
    ]
    if op.query is not None:
        parameters += _query_parameters(op.query)
    document: dict[str, Any] = {
        "summary": op.summary,
        "operationId": op.method
        + "_"
        + "_".join(part.strip("{}") for part in op.path.strip("/").split("/")),
        "parameters": parameters,
        "responses": responses,
        "security": [] if op.public else [{"appServicePrincipal": []}],
    }
    if op.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    return document


def _header(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": True, "description": description,
            "schema": {"type": "string"}}  # fmt: skip


WEBHOOK_DELIVERY: dict[str, Any] = {
    "post": {
        "summary": "An activity entry, POSTed to each endpoint that subscribes to its type",
        "description": (
            "Standard Webhooks: verify webhook-signature (`v1,` + base64 HMAC-SHA256 of "
            "`{webhook-id}.{webhook-timestamp}.{body}` with the key in the endpoint's "
            "`whsec_` secret). At least once: the same entry may come again with the same "
            "webhook-id. A `ping` (POST /org/webhooks/{id}/test) carries id, type and at only."
        ),
        "parameters": [
            _header("webhook-id", "The entry's id: the same for a redelivery."),
            _header("webhook-timestamp", "Seconds since the epoch when it was sent."),
            _header("webhook-signature", "v1,<base64 HMAC-SHA256>"),
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref(ActivityEntry)}},
        },
        "responses": {"200": {"description": "Any 2xx: delivered; anything else is retried"}},
    }
}


def openapi_document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [ErrorResponse, ActivityEntry]
    for op in OPERATIONS:
        models += [m for m in op.answers.values() if m is not None]
        if op.body is not None:
            models.append(op.body)
    unique = list(dict.fromkeys(models))
    _, schemas = models_json_schema(
        [(m, "serialization") for m in unique], ref_template="#/components/schemas/{model}"
    )
    for model in (LinkRequest, NonceRequest, AddUserRequest, WebhookRequest, LearningEvent):
        _, inputs = models_json_schema(
            [(model, "validation")], ref_template="#/components/schemas/{model}"
        )
        schemas.setdefault("$defs", {}).update(inputs.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Skills Link",
            "version": "1.0.0",
            "description": (
                "Learning platforms send LearningEvent messages (components/schemas) as base64 "
                "UTF-8 JSON on the queue `learning-events`: `credential.completed` (with "
                "`expires_at` when the credential expires) and `credential.renewed` (same "
                "fields, `expires_at` required; the latest expiry stays, in any order)."
            ),
        },
        "servers": [{"url": "/api"}],
        "paths": paths,
        "webhooks": {"activity": WEBHOOK_DELIVERY},
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "appServicePrincipal": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-MS-CLIENT-PRINCIPAL",
                    "description": "Set by App Service Authentication (base64 JSON principal).",
                }
            },
        },
    }
