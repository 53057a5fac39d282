"""The served OpenAPI document against the running service, as an integrator would
try it: `schemathesis run` with every check, in every phase (examples, coverage,
fuzzing, stateful), and a valid principal. The checks replaced by a version with
documented exemptions, and this project's own check, are in schemathesis_hooks."""

import os
import subprocess
import sys

import httpx
from schemathesis import checks

from devtools.routing import Route
from devtools.tokens import principal_header
from tests.e2e import schemathesis_hooks
from tests.e2e.conftest import Service

TENANT = "schemathesis-tenant"
PRINCIPAL = principal_header(TENANT, "admin@contoso.com", roles=("Partner.GlobalAdmin",))

REPLACED = {
    "positive_data_acceptance": "positive_data_acceptance_unless_documented: "
    + "; ".join(schemathesis_hooks.EXEMPT_FROM_POSITIVE_DATA_ACCEPTANCE.values()),
    "negative_data_rejection": "negative_data_rejection_unless_empty_query_value: "
    + schemathesis_hooks.EMPTY_QUERY_VALUE,
    "unsupported_method": "unsupported_method_unless_undeclarable: "
    + "; ".join(f"{m}: {why}" for m, why in schemathesis_hooks.UNDECLARABLE_METHODS.items()),
}
"""Built-in checks run only through a replacement, each with the reason."""
PHASES = "examples,coverage,fuzzing,stateful"


def test_every_builtin_check_runs_or_is_replaced_with_a_reason() -> None:
    checks.load_all_checks()
    builtin = {c.__name__ for c in checks.CHECKS.get_all()}
    assert len(builtin) >= 14, "schemathesis has fewer checks than expected"
    assert set(REPLACED) <= builtin
    assert all(REPLACED.values())


def test_schemathesis_run_with_every_check_in_every_phase_finds_nothing(
    service: Service,
) -> None:
    with service.client() as http:
        http.post(
            "/api/org/users",
            headers={"X-MS-CLIENT-PRINCIPAL": PRINCIPAL},
            json={"email": "admin@contoso.com", "display_name": "Admin"},
        )
    run = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "run", f"{service.url}/api/openapi.json",
            "--checks", "all", "--exclude-checks", ",".join(REPLACED),
            "--phases", PHASES, "--max-examples", "30", "--seed", "1", "--generation-database", "none",
            "--header", f"X-MS-CLIENT-PRINCIPAL: {PRINCIPAL}",
            "--no-color", "--output-truncate", "true",
        ],
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks"},
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
    assert "18/18" in run.stdout  # every operation was selected
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in run.stdout, run.stdout[-5_000:]


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
