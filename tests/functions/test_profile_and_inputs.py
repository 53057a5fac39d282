"""The profile's exact shape, and that no input of any shape gives a 500."""

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api import FunctionClient
from tests.support.world import Person, World, unique

ASSOCIATION_KEYS = {
    "program", "learner_id", "tenant_id", "user_email", "started_at", "ended_at", "end_reason",
}  # fmt: skip


def test_profile_has_exactly_the_contract_shape_and_history_newest_first(
    world: World, api: FunctionClient
) -> None:
    person = api.member(world, "Pat")
    tenant = person.tenant_id
    first, second = unique("MCID"), unique("MCID")
    api.link(person, "learn", world.assertion(first))
    world.clock.advance(timedelta(days=2))
    api.unlink(person, "learn")
    world.clock.advance(timedelta(days=40))
    api.link(person, "learn", world.assertion(second))

    profile = api.profile(person).json()
    assert set(profile) == {"user", "programs", "history", "pending_credits", "credited"}
    assert profile["user"] == {
        "tenant_id": tenant,
        "email": person.email,
        "display_name": "Pat",
        "status": "active",
    }
    assert set(profile["programs"]) == {"learn", "partner_university"}
    for status in profile["programs"].values():
        assert set(status) == {"active", "associations_in_window", "next_association_available_at"}
    learn = profile["programs"]["learn"]
    assert set(learn["active"]) == ASSOCIATION_KEYS
    assert learn["active"]["learner_id"] == second
    assert learn["associations_in_window"] == 1
    assert learn["next_association_available_at"] == "2026-03-18T09:00:00Z"
    assert [(h["learner_id"], h["end_reason"]) for h in profile["history"]] == [
        (second, None),
        (first, "unlinked"),
    ]
    assert profile["history"][1]["ended_at"] == "2026-01-07T09:00:00Z"
    assert profile["history"][1]["tenant_id"] == tenant
    assert profile["programs"]["partner_university"] == {
        "active": None,
        "associations_in_window": 0,
        "next_association_available_at": None,
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.one_of(
    st.binary(max_size=64),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {
            "program": json_values | st.sampled_from(["learn", "partner_university"]),
            "assertion": json_values,
        }
    ).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"email": json_values | st.emails(), "display_name": json_values}).map(
        lambda v: json.dumps(v).encode()
    ),
)
principals = st.one_of(
    st.none(),
    st.text(max_size=40),
    json_values.map(lambda v: base64.b64encode(json.dumps(v).encode()).decode()),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=bodies,
    header=principals,
    path=st.sampled_from(["me/links", "org/users", "me", "me/links/x%2Fy"]),
)
def test_no_input_gives_a_500(
    world: World, api: FunctionClient, body: bytes, header: str | None, path: str
) -> None:
    tenant = "fuzz-tenant"
    admin = world.admin(tenant)
    for person_header in (header, admin.header, world.person(tenant).header):
        method = "GET" if path == "me" else "DELETE" if path.startswith("me/links/") else "POST"
        headers = {} if person_header is None else {"X-MS-CLIENT-PRINCIPAL": person_header}
        response = api.call(method, path, headers=headers, body=body)
        assert response.status < 500, response.body
        assert response.error_code is not None or response.status in (200, 201, 204)


def test_deeply_nested_json_is_400_in_a_body_and_401_in_a_principal(
    world: World, api: FunctionClient
) -> None:
    import base64

    person = api.member(world)
    admin = world.admin(person.tenant_id)
    deep = b"[" * 30_000  # deeper than Python's parser goes, smaller than the 64 KiB limit
    for who, method, path in ((person, "POST", "me/links"), (admin, "POST", "org/users")):
        response = api.call(
            method, path, person=who, body=deep, headers={"Content-Type": "application/json"}
        )
        assert (response.status, response.error_code) == (400, "invalid_request"), path
    for depth in (5_000, 100_000):
        principal = base64.b64encode(b"[" * depth).decode()
        response = api.call("GET", "me", headers={"X-MS-CLIENT-PRINCIPAL": principal})
        assert (response.status, response.error_code) == (401, "unauthenticated")
    response = api.call(
        "GET", "org/users", person=admin, params={"continuation": base64.b64encode(deep).decode()}
    )
    assert (response.status, response.error_code) == (400, "invalid_request")


def a_member_whose_row_is_corrupt(world: World, api: FunctionClient, data: str) -> Person:
    from shared import bootstrap
    from shared.adapters.keys import encode_key
    from shared.adapters.partner_users import TABLE

    person = api.member(world)
    table = bootstrap.current().tables.table(TABLE)
    entity = table.get_entity(encode_key(person.tenant_id), encode_key(person.email))
    entity["Data"] = data
    table.upsert_entity(entity)
    return person


def test_a_corrupt_stored_row_is_a_500_internal_error_logged_with_its_table_and_keys(
    world: World, api: FunctionClient, caplog: pytest.LogCaptureFixture
) -> None:
    from shared.adapters.partner_users import TABLE

    person = a_member_whose_row_is_corrupt(world, api, '{"tenant_id": 42')
    response = api.profile(person)
    assert (response.status, response.error_code) == (500, "internal_error")
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert TABLE in logged and person.email in logged


def test_settings_that_do_not_parse_answer_503_service_misconfigured(
    world: World, api: FunctionClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared import bootstrap

    monkeypatch.setenv("CREDIT_DELAY", "ten days")
    bootstrap.reset()
    response = api.profile(world.person())
    assert (response.status, response.error_code) == (503, "service_misconfigured")
    assert "credit_delay" in response.json()["error"]["message"]


def test_in_azure_without_storage_settings_every_call_is_503_naming_the_setting(
    world: World, api: FunctionClient, azure_runtime: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from shared import bootstrap

    settings = azure_runtime.settings.model_copy(
        update={
            "storage_connection": None,
            "website_instance_id": "abc123",
            "website_auth_enabled": "True",
        }
    )
    bootstrap.install(bootstrap.Runtime(settings, azure_runtime.clock))
    response = api.profile(world.person())
    assert (response.status, response.error_code) == (503, "service_misconfigured")
    assert "AzureWebJobsStorage__accountName" in response.json()["error"]["message"]
    assert "AzureWebJobsStorage__accountName" in caplog.text


def test_health_is_200_with_settings_and_storage_fine_and_503_naming_what_failed(
    api: FunctionClient, azure_runtime: Any
) -> None:
    from shared import bootstrap

    ok = api.call("GET", "health")
    assert (ok.status, ok.json()) == (
        200,
        {"status": "ok", "checks": {"settings": "ok", "storage": "ok", "catalog": "ok"}},
    )
    unreachable = azure_runtime.settings.model_copy(
        update={"storage_connection": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                "AccountKey=a2V5;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;"
                "QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;"}
    )  # fmt: skip
    bootstrap.install(bootstrap.Runtime(unreachable, azure_runtime.clock))
    down = api.call("GET", "health")
    assert (down.status, down.error_code) == (503, "storage_unavailable")
    assert down.json()["error"]["dependency"] == "storage"
    assert down.headers["Retry-After"]
    misconfigured = azure_runtime.settings.model_copy(
        update={"storage_connection": None, "website_instance_id": "abc"}
    )
    bootstrap.install(bootstrap.Runtime(misconfigured, azure_runtime.clock))
    broken = api.call("GET", "health")
    assert (broken.status, broken.error_code) == (503, "service_misconfigured")
    assert broken.json()["error"]["dependency"] == "storage"


def test_the_request_id_of_a_failure_is_on_its_log_line(
    world: World, api: FunctionClient, caplog: pytest.LogCaptureFixture
) -> None:
    person = a_member_whose_row_is_corrupt(world, api, "{}")
    response = api.profile(person)
    request_id = response.json()["error"]["request_id"]
    assert [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert request_id in caplog.text


def test_api_docs_serve_swagger_ui_on_the_document_without_a_cdn(api: FunctionClient) -> None:
    page = api.call("GET", "docs")
    assert page.status == 200 and b"/api/docs/swagger-ui-bundle.js" in page.body
    assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'self'
    assert b"http" not in page.body.replace(b"http-equiv", b"")
    init = api.call("GET", "docs/init.js")
    assert b"/api/openapi.json" in init.body
    bundle = api.call("GET", "docs/swagger-ui-bundle.js")
    assert bundle.status == 200 and len(bundle.body) > 100_000
    assert api.call("GET", "docs/..%2Fsettings.py").status == 404
