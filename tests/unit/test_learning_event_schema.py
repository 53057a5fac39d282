"""The LearningEvent schema in the OpenAPI document says what the ingest enforces:
for each message below, the schema (validated with formats, as a producer would)
and the ingest agree on whether it is accepted."""

import json
from typing import Any

import jsonschema_rs
import pytest

from shared.entrypoints.openapi import openapi_document
from shared.services.credit_ingest import parse_event

GOOD: dict[str, Any] = {
    "event_id": "evt-1",
    "type": "credential.completed",
    "program": "learn",
    "learner_id": "MCID-1",
    "credential": {"id": "AZ-104", "kind": "certification", "title": "Azure Administrator"},
    "completed_at": "2026-11-01T10:00:00Z",
}


def _with(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(json.dumps(GOOD))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = event
        for part in parents:
            target = target[part]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return event


CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("a completion", GOOD, True),
    ("a completion that expires", _with(expires_at="2027-11-01T10:00:00+02:00"), True),
    ("a renewal with its expiry", _with(type="credential.renewed", expires_at="2027-11-01T10:00:00Z"), True),
    ("a renewal without its expiry", _with(type="credential.renewed"), False),
    ("a renewal with a null expiry", _with(type="credential.renewed", expires_at=None), False),
    ("an unknown type", _with(type="credential.revoked"), False),
    ("an unknown program", _with(program="coursera"), False),
    ("an unknown kind", _with(credential__kind="badge"), False),
    ("a blank event id", _with(event_id="   "), False),
    ("an empty learner id", _with(learner_id=""), False),
    ("an id of 256 characters", _with(event_id="e" * 256), True),
    ("an id of 257 characters", _with(event_id="e" * 257), False),
    ("a title of 1,025 characters", _with(credential__title="t" * 1025), False),
    ("no completion time", _with(completed_at=...), False),
    ("a completion time that is not a date-time", _with(completed_at="last tuesday"), False),
    ("a field the service does not know (ignored)", _with(score=97), True),
]  # fmt: skip


@pytest.fixture(scope="module")
def validator() -> Any:
    document = openapi_document()
    schema = {
        "$ref": "#/components/schemas/LearningEvent",
        "components": document["components"],
    }
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


@pytest.mark.parametrize(("case", "event", "accepted"), CASES, ids=[c[0] for c in CASES])
def test_the_document_and_the_ingest_agree_on_a_learning_event(
    validator: Any, case: str, event: dict[str, Any], accepted: bool
) -> None:
    assert validator.is_valid(event) is accepted, f"the schema on {case}"
    try:
        parse_event(json.dumps(event))
        ingested = True
    except Exception:
        ingested = False
    assert ingested is accepted, f"the ingest on {case}"
