"""The OpenAPI 3.1 document of the HTTP API. Schemas are generated from the pydantic
models the service validates and answers with; this module only says which model
goes with which route, status and error code."""

from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from shared import errors
from shared.domain.activity import ActivityType
from shared.domain.types import CredentialKind, CredentialStatus, EndReason, UserStatus
from shared.errors import ErrorKind
from shared.services.designations import DesignationPeople, DesignationPoints, DesignationsView
from shared.wire import (
    ActivityEntry,
    ActivityPage,
    ActivityQuery,
    AddUserRequest,
    Association,
    Departure,
    DesignationId,
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
    TrackRequest,
    UsersQuery,
    WebhookCreated,
    WebhookId,
    WebhookList,
    WebhookRequest,
    WhoAmI,
)

SIGNED_IN: tuple[ErrorKind, ...] = (
    errors.UNAUTHENTICATED,
    errors.INVALID_REQUEST,  # the principal's email is not an address
    errors.SERVICE_MISCONFIGURED,
    errors.STORAGE_UNAVAILABLE,
    errors.BUSY,
)
"""What any operation behind sign-in can answer, besides its own refusals."""
PARTNER_USER = (errors.NOT_PARTNER_CENTER_USER, errors.ACCOUNT_MISMATCH)
"""An operation on the caller's own links: the caller must be an active user."""
ADMIN = (errors.FORBIDDEN,)
WITH_BODY = (errors.INVALID_REQUEST,)
"""A body the model refuses; its size and media type are any POST's (error_codes)."""


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    answers: dict[int, type[BaseModel] | None]
    errors: tuple[ErrorKind, ...]
    """The refusals this operation gives (from the catalogue), besides a 500."""
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
        {200: WhoAmI}, (errors.UNAUTHENTICATED, errors.INVALID_REQUEST),
    ),
    Operation("get", "/me", "The caller's profile", {200: Profile}, (*SIGNED_IN, *PARTNER_USER)),
    Operation(
        "post", "/me/links/nonce",
        "A single-use nonce (10 minutes) for the program's sign-in to put in its assertion",
        {201: NonceIssued}, (*SIGNED_IN, *WITH_BODY, *PARTNER_USER), body=NonceRequest,
    ),
    Operation(
        "post", "/me/links", "Link the caller's own learner account",
        {201: Association, 200: Association},
        (
            *SIGNED_IN, *WITH_BODY, *PARTNER_USER, errors.INVALID_ASSERTION,
            errors.ALREADY_LINKED, errors.LEARN_PROFILE_HAS_NO_MSA,
            errors.ASSOCIATION_LIMITED, errors.PROGRAM_NOT_CONFIGURED,
        ),
        body=LinkRequest,
        links={"Unlink": ("delete_me_links_program", {"program": "$response.body#/program"})},
    ),
    Operation(
        "delete", "/me/links/{program}", "Remove the caller's own link",
        {204: None}, (*SIGNED_IN, *PARTNER_USER, errors.NOT_LINKED), path_params=PROGRAM_PARAM,
    ),
    Operation(
        "get", "/org/users", "List the organization's partner users",
        {200: OrgUserPage}, (*SIGNED_IN, *ADMIN), query=UsersQuery,
    ),
    Operation(
        "post", "/org/users", "Add (or reactivate) a partner user",
        {201: OrgUser}, (*SIGNED_IN, *WITH_BODY, *ADMIN, errors.USER_EXISTS),
        body=AddUserRequest,
        links={"RemoveUser": ("delete_org_users_email", {"email": "$response.body#/email"})},
    ),
    Operation(
        "delete", "/org/users/{email}", "A person left: remove them",
        {202: Departure, 200: Departure}, (*SIGNED_IN, *ADMIN, errors.USER_NOT_FOUND),
        path_params={"email": Email},
    ),
    Operation(
        "get", "/org/skills-report", "The Skills Report, paged (JSON or CSV)",
        {200: ReportPage}, (*SIGNED_IN, *ADMIN), query=ReportQuery, csv=True,
    ),
    Operation(
        "get", "/org/designations",
        "Skilling points per designation, the gap to the maximum, and what expiry takes away",
        {200: DesignationsView}, (*SIGNED_IN, *ADMIN), query=DesignationsQuery,
    ),
    Operation(
        "get", "/org/designations/{id}/people",
        "Who counts for which metric of a designation, and what each brings (JSON or CSV)",
        {200: DesignationPeople}, (*SIGNED_IN, *ADMIN, errors.DESIGNATION_NOT_FOUND),
        query=DesignationsQuery, csv=True, path_params={"id": DesignationId},
    ),
    Operation(
        "put", "/org/designations/{id}/track",
        "Choose the track a designation is scored on (where Microsoft places you on one)",
        {200: DesignationPoints},
        (*SIGNED_IN, *WITH_BODY, *ADMIN, errors.DESIGNATION_NOT_FOUND, errors.NO_TRACK_TO_CHOOSE),
        body=TrackRequest, path_params={"id": DesignationId},
    ),
    Operation(
        "get", "/org/activity", "The organization's activity log, newest first (JSON or CSV)",
        {200: ActivityPage}, (*SIGNED_IN, *ADMIN), query=ActivityQuery, csv=True,
    ),
    Operation(
        "post", "/org/webhooks", "Register a webhook endpoint (the secret is shown once)",
        {201: WebhookCreated}, (*SIGNED_IN, *WITH_BODY, *ADMIN, errors.TOO_MANY_WEBHOOKS),
        body=WebhookRequest,
        links={
            "DeleteWebhook": ("delete_org_webhooks_id", {"id": "$response.body#/id"}),
            "PingWebhook": ("post_org_webhooks_id_test", {"id": "$response.body#/id"}),
        },
    ),
    Operation(
        "get", "/org/webhooks", "The organization's webhook endpoints (no secrets)",
        {200: WebhookList}, (*SIGNED_IN, *ADMIN),
    ),
    Operation(
        "delete", "/org/webhooks/{id}", "Remove a webhook endpoint",
        {204: None}, (*SIGNED_IN, *ADMIN, errors.WEBHOOK_NOT_FOUND),
        path_params={"id": WebhookId},
    ),
    Operation(
        "post", "/org/webhooks/{id}/test", "Send a ping (at most once a minute, never retried)",
        {202: None}, (*SIGNED_IN, *ADMIN, errors.WEBHOOK_NOT_FOUND, errors.RATE_LIMITED),
        path_params={"id": WebhookId},
    ),
    Operation(
        "get", "/health", "Whether settings and storage are fine (no personal data)",
        {200: HealthStatus}, (errors.SERVICE_MISCONFIGURED, errors.STORAGE_UNAVAILABLE),
        public=True,
    ),
)  # fmt: skip


def error_codes(op: Operation) -> dict[int, list[str]]:
    """Status -> the codes this operation can answer with, in the catalogue's order."""
    kinds = (*op.errors, errors.INTERNAL_ERROR)
    if op.method in ("post", "put", "patch"):
        # Even a POST that needs no body says any body it sends is JSON: a cross-site
        # form must not act for a signed-in person (responses.check_body).
        kinds += (errors.PAYLOAD_TOO_LARGE, errors.UNSUPPORTED_MEDIA_TYPE)
    grouped: dict[int, list[str]] = {}
    for kind in errors.CATALOGUE:
        if kind in kinds:
            grouped.setdefault(kind.status, []).append(kind.code)
    return dict(sorted(grouped.items()))


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
    for status, codes in error_codes(op).items():
        responses[str(status)] = {
            "description": "Error: " + ", ".join(codes),
            "content": {"application/json": {"schema": _ref(ErrorResponse)}},
            "x-error-codes": codes,
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


NAMED_ENUMS: dict[str, Any] = {
    "Program": Program,
    "CredentialKind": CredentialKind,
    "CredentialStatus": CredentialStatus,
    "ActivityType": ActivityType,
    "UserStatus": UserStatus,
    "EndReason": EndReason,
}
"""The contract's vocabularies, each one schema a client generates one enum from
(pydantic inlines a Literal wherever it is used)."""


def _name_enums(node: Any, refs: dict[tuple[str, ...], str]) -> Any:
    """The document with every inline string enum that is one of NAMED_ENUMS replaced
    by a reference to it (keeping what else the place says, as 3.1 allows)."""
    if isinstance(node, list):
        return [_name_enums(item, refs) for item in node]
    if not isinstance(node, dict):
        return node
    name = refs.get(tuple(node.get("enum", ()))) if node.get("type") == "string" else None
    if name is not None:
        rest = {k: v for k, v in node.items() if k not in ("type", "enum", "title")}
        return {"$ref": f"#/components/schemas/{name}", **rest}
    return {key: _name_enums(value, refs) for key, value in node.items()}


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
    for model in (
        LinkRequest,
        NonceRequest,
        AddUserRequest,
        WebhookRequest,
        TrackRequest,
        LearningEvent,
    ):
        _, inputs = models_json_schema(
            [(model, "validation")], ref_template="#/components/schemas/{model}"
        )
        schemas.setdefault("$defs", {}).update(inputs.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    refs = {tuple(get_args(kind)): name for name, kind in NAMED_ENUMS.items()}
    named = {name: {"type": "string", "enum": list(get_args(kind))}
             for name, kind in NAMED_ENUMS.items()}  # fmt: skip
    document: dict[str, Any] = _name_enums({
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
    }, refs)  # fmt: skip
    document["components"]["schemas"].update(named)
    return document
