"""Input built to hurt: one named test per attack on the learner assertion, tenant
isolation of every admin endpoint, and spreadsheet formulas in the CSV."""

import base64
import csv
import hashlib
import hmac
import io
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from devtools.tokens import KeyPair
from shared.queue_names import CREDITS_DUE, LEARNING_EVENTS
from tests.functions.test_credit_rules import event
from tests.support.api import FunctionClient
from tests.support.queue_host import QueueHost
from tests.support.world import AUDIENCE, ISSUERS, Person, World, unique


@pytest.fixture
def member(world: World, api: FunctionClient) -> Person:
    return api.member(world)


def _claims(world: World) -> dict[str, Any]:
    now = int(world.clock.now().timestamp())
    return {
        "iss": ISSUERS["learn"],
        "aud": AUDIENCE,
        "sub": unique("MCID"),
        "iat": now,
        "exp": now + 300,
        "jti": unique("jti"),
        "msa": "someone@outlook.com",
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _refused(api: FunctionClient, person: Person, token: str, reasons: set[str]) -> None:
    answer = api.link(person, "learn", token)
    assert (answer.status, answer.error_code) == (401, "invalid_assertion"), answer.body
    assert answer.json()["error"]["reason"] in reasons
    assert api.profile(person).json()["history"] == []


def _attacker() -> tuple[KeyPair, dict[str, Any]]:
    keys = KeyPair.generate("ES256")
    public = serialization.load_pem_public_key(keys.public_pem.encode())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public))
    return keys, jwk


@pytest.mark.parametrize("header", ["kid", "jku", "x5u", "x5c", "jwk"])
def test_an_assertion_header_never_selects_the_key(
    world: World, api: FunctionClient, member: Person, header: str
) -> None:
    attacker, jwk = _attacker()
    value: Any = {
        "kid": "learn-key-1",
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": [_b64(b"not a certificate of the program")],
        "jwk": jwk,
    }[header]
    token = jwt.encode(
        _claims(world), attacker.private_pem, algorithm="ES256", headers={header: value}
    )
    _refused(api, member, token, {"signature"})


def test_an_assertion_with_a_crit_header_is_refused(
    world: World, api: FunctionClient, member: Person
) -> None:
    token = jwt.encode(
        _claims(world),
        world.keys["learn"].private_pem,
        algorithm="ES256",
        headers={"crit": ["exp"], "exp": 1},
    )
    _refused(api, member, token, {"malformed"})


def test_an_assertion_over_8_kib_is_refused_before_decoding(
    world: World, api: FunctionClient, member: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("decoded an oversized assertion")

    token = jwt.encode(
        {**_claims(world), "padding": "x" * 9_000}, world.keys["learn"].private_pem, "ES256"
    )
    monkeypatch.setattr(jwt, "get_unverified_header", never)
    monkeypatch.setattr(jwt, "decode", never)
    _refused(api, member, token, {"malformed"})


def test_an_unsigned_assertion_alg_none_is_refused(
    world: World, api: FunctionClient, member: Person
) -> None:
    token = jwt.encode(_claims(world), "", algorithm="none")
    _refused(api, member, token, {"algorithm"})


def test_hs256_signed_with_the_programs_public_key_as_secret_is_refused(
    world: World, api: FunctionClient, member: Person
) -> None:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims(world)).encode())
    secret = world.keys["learn"].public_pem.encode()
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    _refused(api, member, f"{header}.{payload}.{_b64(signature)}", {"algorithm"})


def test_an_rs256_assertion_against_the_ec_key_of_learn_is_refused(
    world: World, api: FunctionClient, member: Person
) -> None:
    rsa_keys = KeyPair.generate("RS256")
    token = jwt.encode(_claims(world), rsa_keys.private_pem, algorithm="RS256")
    _refused(api, member, token, {"algorithm"})


def test_an_assertion_signed_by_another_ec_key_is_refused(
    world: World, api: FunctionClient, member: Person
) -> None:
    attacker, _ = _attacker()
    token = jwt.encode(_claims(world), attacker.private_pem, algorithm="ES256")
    _refused(api, member, token, {"signature"})


def _same_answer(first: Any, second: Any) -> None:
    assert (first.status, first.error_code) == (second.status, second.error_code)
    if first.status < 300:
        assert first.json() == second.json()


def test_tenant_isolation_an_admin_of_another_organization_learns_nothing(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    tenant_a, tenant_b = world.tenant(), world.tenant()
    admin_a, admin_b = world.admin(tenant_a), world.admin(tenant_b)
    known = world.person(tenant_a)
    unknown = world.person(tenant_a)
    assert api.add_user(admin_a, known, "Known Person").status == 201
    learner = unique("MCID")
    assert api.link(known, "learn", world.assertion(learner)).status == 201
    hook = api.call(
        "POST",
        "org/webhooks",
        person=admin_a,
        json={"url": "https://example.com/hook", "events": ["user.added"], "description": "a"},
    )
    assert hook.status == 201
    hook_id = hook.json()["id"]

    def as_b(method: str, path: str, **kwargs: Any) -> Any:
        return api.call(method, path, person=admin_b, **kwargs)

    # Identifiers of organization A answer exactly as identifiers nobody has.
    _same_answer(
        as_b("DELETE", f"org/users/{known.email}"), as_b("DELETE", f"org/users/{unknown.email}")
    )
    _same_answer(
        as_b("DELETE", f"org/webhooks/{hook_id}"), as_b("DELETE", f"org/webhooks/{unique('wh')}")
    )
    _same_answer(
        as_b("POST", f"org/webhooks/{hook_id}/test", body=b""),
        as_b("POST", f"org/webhooks/{unique('wh')}/test", body=b""),
    )
    _same_answer(
        as_b("GET", "org/activity", params={"email": known.email}),
        as_b("GET", "org/activity", params={"email": unknown.email}),
    )
    # Lists show nothing of A.
    assert as_b("GET", "org/users").json()["users"] == []
    assert as_b("GET", "org/skills-report").json()["rows"] == []
    assert as_b("GET", "org/webhooks").json()["webhooks"] == []
    assert as_b("GET", "org/activity").json()["entries"] == []
    assert all(d["points"] == 0 for d in as_b("GET", "org/designations").json()["designations"])
    assert as_b("GET", "org/designations/modern-work/people").json()["people"] == []
    # A still has all of it.
    assert api.call("GET", "org/users", person=admin_a).json()["users"]
    # And a person of A who is not an admin gets 403 from every admin endpoint.
    for method, path in (
        ("GET", "org/users"),
        ("POST", "org/users"),
        ("DELETE", f"org/users/{known.email}"),
        ("GET", "org/skills-report"),
        ("GET", "org/designations"),
        ("GET", "org/designations/modern-work/people"),
        ("PUT", "org/designations/business-applications/track"),
        ("GET", "org/activity"),
        ("GET", "org/webhooks"),
        ("POST", "org/webhooks"),
        ("DELETE", f"org/webhooks/{hook_id}"),
        ("POST", f"org/webhooks/{hook_id}/test"),
    ):
        body = b"{}" if method == "POST" else None
        answer = api.call(method, path, person=known, body=body)
        assert (answer.status, answer.error_code) == (403, "forbidden"), (method, path)


def test_formulas_in_names_and_titles_are_written_inert_in_the_csv(
    world: World, api: FunctionClient, host: QueueHost
) -> None:
    from datetime import timedelta

    tenant = world.tenant()
    admin, person = world.admin(tenant), world.person(tenant)
    assert api.add_user(admin, person, '=HYPERLINK("http://x","y")').status == 201
    learner = unique("MCID")
    assert api.link(person, "learn", world.assertion(learner)).status == 201
    completion = event(learner, "AZ-104", world.clock.now())
    completion["credential"]["title"] = "@SUM(A1)"
    host.send(LEARNING_EVENTS, completion)
    host.drain(LEARNING_EVENTS, "ingest_learning_event")
    world.clock.advance(timedelta(days=10, minutes=1))
    host.run_timer("send_due_credit_wakes")
    host.drain(CREDITS_DUE, "apply_due_credit")
    answer = api.call("GET", "org/skills-report", person=admin, headers={"Accept": "text/csv"})
    [row] = list(csv.DictReader(io.StringIO(answer.body.decode())))
    assert row["display_name"] == '\'=HYPERLINK("http://x","y")'
    assert row["title"] == "'@SUM(A1)"
    # The JSON keeps the names as they are: escaping is the CSV's business.
    [json_row] = api.call("GET", "org/skills-report", person=admin).json()["rows"]
    assert json_row["display_name"] == '=HYPERLINK("http://x","y")'
