"""A client generated from the served OpenAPI document by a standard generator
(openapi-python-client, from PyPI), driving the help page's story as an integrator
would: no hand-written request, only the generated functions and models."""

import importlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from devtools.dev_token import app_now
from devtools.tokens import learner_assertion, principal_header
from tests.e2e.conftest import Service, wait_until
from tests.support.world import AUDIENCE, ISSUERS

DAY = 86_400
PACKAGE = "skills_link_client"


@pytest.fixture(scope="module")
def client_package(service: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The package generated from what the service serves, importable for the test."""
    root = tmp_path_factory.mktemp("generated")
    document = root / "openapi.json"
    document.write_text(httpx.get(f"{service.url}/api/openapi.json").text)
    bin_dir = str(Path(sys.executable).parent)  # the generator formats with ruff from here
    generated = subprocess.run(
        [
            str(Path(bin_dir) / "openapi-python-client"), "generate", "--path", str(document),
            "--output-path", str(root / PACKAGE), "--meta", "none",
        ],
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    # A clean generation: a warning means a piece of the document did not become code.
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout
    sys.path.insert(0, str(root))
    try:
        yield PACKAGE
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_a_generated_client_tells_the_help_page_story(
    service: Service, client_package: str
) -> None:
    api = lambda name: _module(f"api.default.{name}")  # noqa: E731
    models = _module("models")
    client_module = _module("client")
    run = uuid.uuid4().hex[:8]
    tenant = f"generated-{run}"
    pat_email = f"pat-{run}@contoso.com"

    def signed_in(principal: str) -> Any:
        return client_module.AuthenticatedClient(
            base_url=f"{service.url}/api",
            token=principal,
            prefix="",
            auth_header_name="X-MS-CLIENT-PRINCIPAL",
            raise_on_unexpected_status=True,
        )

    admin = signed_in(
        principal_header(tenant, f"admin-{run}@contoso.com", roles=("Partner.GlobalAdmin",))
    )
    pat = signed_in(principal_header(tenant, pat_email))

    # 1. The admin adds Pat to the organization.
    added = api("post_org_users").sync(
        client=admin, body=models.AddUserRequest(email=pat_email, display_name="Pat")
    )
    assert isinstance(added, models.OrgUser), added
    assert added.status == models.UserStatus.ACTIVE

    # 2. Pat asks for a nonce, signs in to Learn, and links with the assertion.
    offset = app_now(service.url) - time.time()
    learner = f"MCID-{run}"

    def assertion() -> str:
        issued = api("post_me_links_nonce").sync(
            client=pat, body=models.NonceRequest(program=models.Program.LEARN)
        )
        assert isinstance(issued, models.NonceIssued), issued
        return learner_assertion(
            service.keys["learn"], issuer=ISSUERS["learn"], audience=AUDIENCE,
            learner_id=learner, issued_at=time.time() + offset, msa=f"{learner}@outlook.com",
            extra={"nonce": issued.nonce},
        )  # fmt: skip

    link_body = models.LinkRequest(program=models.Program.LEARN, assertion=assertion())
    linked = api("post_me_links").sync_detailed(client=pat, body=link_body)
    assert linked.status_code == 201, linked.content
    assert linked.parsed.learner_id == learner

    # The same request again (a retry): the documented 200 with the same link.
    replayed = api("post_me_links").sync_detailed(client=pat, body=link_body)
    assert (replayed.status_code, replayed.parsed.started_at) == (200, linked.parsed.started_at)

    # 3. Learn reports a certification; ten days later it is credited.
    service.send_event(
        {
            "event_id": f"evt-{run}", "type": "credential.completed", "program": "learn",
            "learner_id": learner,
            "credential": {"id": "AZ-104", "kind": "certification", "title": "Azure Admin"},
            "completed_at": linked.parsed.started_at.isoformat(),
        }
    )  # fmt: skip
    profile: Callable[[], Any] = lambda: api("get_me").sync(client=pat)  # noqa: E731
    wait_until(lambda: len(profile().pending_credits) == 1)
    me = profile()
    assert isinstance(me, models.Profile)
    assert me.programs.additional_properties["learn"].active.learner_id == learner
    service.advance(10 * DAY + 60)
    service.run("send_due_credit_wakes")

    def report_rows() -> list[Any]:
        page = api("get_org_skills_report").sync(client=admin)
        assert isinstance(page, models.ReportPage), page
        return list(page.rows)

    wait_until(lambda: len(report_rows()) == 1)
    (row,) = report_rows()
    assert (row.email, row.credential_id, row.status) == (
        pat_email, "AZ-104", models.CredentialStatus.ACTIVE,
    )  # fmt: skip

    # 4. The activity log, filtered by type with the document's enum.
    log = api("get_org_activity").sync(
        client=admin,
        type_=[
            models.ActivityType.ASSOCIATION_STARTED,
            models.ActivityType.CREDENTIAL_CREDITED,
        ],
    )
    assert isinstance(log, models.ActivityPage), log
    assert [e.type_.value for e in log.entries] == ["credential.credited", "association.started"]

    # 5. Pat unlinks; unlinking again is the document's 404 `not_linked`.
    program = models.Program.LEARN
    assert (
        api("delete_me_links_program").sync_detailed(client=pat, program=program).status_code == 204
    )
    again = api("delete_me_links_program").sync(client=pat, program=program)
    assert isinstance(again, models.ErrorResponse)
    assert again.error.code == models.ErrorDetailCode.NOT_LINKED

    # 6. Pat leaves the company: the admin removes them.
    departed = api("delete_org_users_email").sync(client=admin, email=pat_email)
    assert isinstance(departed, models.Departure), departed
    gone = api("get_me").sync(client=pat)
    assert isinstance(gone, models.ErrorResponse)
    assert gone.error.code == models.ErrorDetailCode.NOT_PARTNER_CENTER_USER
    json.dumps(departed.to_dict())  # the models round-trip to the wire's JSON
