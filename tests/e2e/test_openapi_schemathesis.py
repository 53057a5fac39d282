"""The served OpenAPI document against the running service: schemathesis generates
requests from it, with a valid principal, and finds no 5xx and no response that
breaks the schema."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from devtools.routing import Route
from devtools.tokens import principal_header
from tests.e2e.conftest import Service

TENANT = "schemathesis-tenant"
PRINCIPAL = principal_header(TENANT, "admin@contoso.com", roles=("Partner.GlobalAdmin",))


@pytest.fixture
def served_schema(service: Service) -> schemathesis.BaseSchema:
    with service.client() as http:
        http.post(
            "/api/org/users",
            headers={"X-MS-CLIENT-PRINCIPAL": PRINCIPAL},
            json={"email": "admin@contoso.com", "display_name": "Admin"},
        )
    return schemathesis.openapi.from_url(f"{service.url}/api/openapi.json")


LEFT_OUT: dict[str, str] = {}
"""Checks of schemathesis not run, each with its reason."""
checks.load_all_checks()
CHECKS = [c for c in checks.CHECKS.get_all() if c.__name__ not in LEFT_OUT]
assert len(CHECKS) + len(LEFT_OUT) >= 14, "schemathesis has fewer checks than expected"


def checks_for(case: schemathesis.Case) -> list[Any]:  # type: ignore[type-arg]
    """Every check, but two kinds of request are not held to positive_data_acceptance:
    one carrying a continuation (a token is opaque, and only one the service issued is
    valid: the document's pattern says which characters one has, and that any other
    value is a 400), and one whose since is after its until."""
    query = case.query or {}
    if "continuation" in query or _window_reversed(query) or _over_a_century(query):
        return [c for c in CHECKS if c is not checks.positive_data_acceptance]
    return CHECKS


def _over_a_century(query: dict[str, Any]) -> bool:
    """A duration over 100 years: JSON Schema has no maximum for a `duration`; the
    document says it in the parameter's description and the service answers 400."""
    from pydantic import TypeAdapter, ValidationError

    from shared.wire import MAX_QUERY_DURATION

    if not query.get("expiring_within"):
        return False
    try:
        return bool(
            TypeAdapter(timedelta).validate_python(query["expiring_within"]) > MAX_QUERY_DURATION
        )
    except (ValidationError, OverflowError):
        return True


def _window_reversed(query: dict[str, Any]) -> bool:
    """`since` after `until`: a rule across two parameters that JSON Schema cannot
    say (the document says it in since's description); the service answers 400."""
    from datetime import datetime

    try:
        return bool(
            query.get("since")
            and query.get("until")
            and datetime.fromisoformat(str(query["since"]))
            > datetime.fromisoformat(str(query["until"]))
        )
    except ValueError:
        return False


def test_the_api_honours_its_openapi_document(served_schema: schemathesis.BaseSchema) -> None:
    # Schemathesis' pytest plugin does not run on pytest 9 yet, so each operation's
    # strategy runs under Hypothesis directly.
    operations = [result.ok() for result in served_schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) == 16
    for operation in operations:

        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy())
        def conforms(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
            case.call_and_validate(
                headers={"X-MS-CLIENT-PRINCIPAL": PRINCIPAL}, checks=checks_for(case)
            )

        conforms()


def test_the_document_covers_every_http_function(service: Service, routes: list[Route]) -> None:
    document = httpx.get(f"{service.url}/api/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    documented = {
        (m.upper(), path.strip("/")) for path, ops in document["paths"].items() for m in ops
    }
    # The document and the operator endpoint (behind the function key) are not the API.
    served = {
        (m, r.template.removeprefix("api/"))
        for r in routes
        for m in r.methods
        if r.name
        not in (
            "openapi_json",
            "api_docs",
            "api_docs_asset",
            "replay_poison",
            "portal",
            "method_not_allowed",
        )
    }
    assert documented == served


def test_the_api_holds_in_stateful_runs_along_the_documents_links(
    served_schema: schemathesis.BaseSchema,
) -> None:
    """Sequences of calls that follow the document's links (add a user, then remove
    them; register a webhook, then ping and delete it): still no server error."""
    machine = served_schema.as_state_machine()
    transitions = [name for name in vars(machine) if "__DELETE_" in name or "_test" in name]
    assert len(transitions) >= 4, transitions  # the links are there to follow

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            # A fresh organization per run of the machine: what a run draws must not
            # depend on what earlier runs left (webhooks, users), or Hypothesis sees
            # its data generation change (FlakyStrategyDefinition).
            import uuid

            self.principal = principal_header(
                f"stateful-{uuid.uuid4().hex}", "admin@contoso.com", roles=("Partner.GlobalAdmin",)
            )

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:  # type: ignore[type-arg]
            return {"headers": {"X-MS-CLIENT-PRINCIPAL": self.principal}}

        def validate_response(self, response: Any, case: Any, **kwargs: object) -> None:
            case.validate_response(response, checks=[checks.not_a_server_error])

    Workflow.run(
        settings=settings(
            # No shrinking: a stateful run's data depends on the service's answers, so
            # replaying a case to shrink it can draw differently (FlakyStrategyDefinition).
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            max_examples=40,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
    )
