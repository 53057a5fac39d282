"""One test per contract rule (1 to 6, 10, 11) and per ordering promise, through
the functions as the host calls them, against Azurite."""

import base64
import json
from datetime import timedelta

import pytest

from shared import bootstrap as runtime
from shared.wire import Program
from tests.support.api import FunctionClient
from tests.support.world import Person, World, unique

DAY = timedelta(days=1)


@pytest.fixture
def org(world: World, api: FunctionClient) -> tuple[Person, Person]:
    tenant = world.tenant()
    admin = world.admin(tenant)
    person = world.person(tenant)
    assert api.add_user(admin, person, "Pat Person").status == 201
    return admin, person


def learner_state(program: Program, learner_id: str):
    found = runtime.current().stores.learners.load(program, learner_id, state_only=True)
    return found.state if found.exists else None


def user_state(person: Person):
    found = runtime.current().stores.users.get(person.tenant_id, person.email)
    return found.value if found else None


def test_rule_1_partner_center_access_first_unknown_user_gets_403_with_guidance(
    world: World, api: FunctionClient
) -> None:
    stranger = world.person()
    learner = unique("MCID")
    response = api.link(stranger, "learn", world.assertion(learner))
    assert response.status == 403
    assert response.error_code == "not_partner_center_user"
    assert "admin" in response.json()["error"]["guidance"]
    assert learner_state("learn", learner) is None
    assert api.profile(stranger).status == 403


def test_rule_1_no_role_is_needed_to_link(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    assert person.roles == ()
    response = api.link(person, "learn", world.assertion(unique("MCID")))
    assert response.status == 201


def test_rule_2_self_service_only_the_body_cannot_name_another_person(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    admin, person = org
    learner = unique("MCID")
    response = api.call(
        "POST",
        "me/links",
        person=admin,
        json={
            "program": "learn",
            "assertion": world.assertion(learner),
            "user_email": person.email,
        },
    )
    assert response.status == 403
    assert response.error_code == "not_partner_center_user"
    response = api.call(
        "POST",
        "me/links",
        person=person,
        json={"program": "learn", "assertion": world.assertion(learner), "user_email": admin.email},
    )
    assert response.status == 400
    assert response.json()["error"]["field"] == "user_email"
    assert learner_state("learn", learner) is None


def test_rule_2_an_admin_links_only_their_own_account(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    admin, person = org
    assert api.add_user(admin, admin, "The Admin").status == 201
    response = api.link(admin, "learn", world.assertion(unique("MCID")))
    assert response.status == 201
    assert response.json()["user_email"] == admin.email
    assert user_state(person).associations == []


def test_rule_3_learn_needs_a_personal_account(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    learner = unique("MCID")
    for msa in (None, "", "   "):
        response = api.link(person, "learn", world.assertion(learner, msa=msa))
        assert response.status == 422
        error = response.json()["error"]
        assert error["code"] == "learn_profile_has_no_msa"
        assert "Settings > Account management" in error["guidance"]
    assert learner_state("learn", learner) is None
    assert user_state(person).associations == []


def test_rule_3_partner_university_needs_no_msa(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    response = api.link(
        person, "partner_university", world.assertion(unique("PU"), "partner_university")
    )
    assert response.status == 201
    assert response.json()["program"] == "partner_university"


def test_rule_4_one_account_per_person_second_learner_is_409(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    first, second = unique("MCID"), unique("MCID")
    assert api.link(person, "learn", world.assertion(first)).status == 201
    world.clock.advance(40 * DAY)
    response = api.link(person, "learn", world.assertion(second))
    assert response.status == 409
    assert response.error_code == "already_linked"
    assert learner_state("learn", second) is None
    assert [a.learner_id for a in user_state(person).associations] == [first]


def test_rule_4_the_same_association_again_answers_200(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    learner = unique("MCID")
    created = api.link(person, "learn", world.assertion(learner))
    again = api.link(person, "learn", world.assertion(learner))
    assert (created.status, again.status) == (201, 200)
    assert again.json() == created.json()
    assert len(learner_state("learn", learner).associations) == 1


def test_rule_4_one_per_program_learn_and_partner_university_coexist(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    assert api.link(person, "learn", world.assertion(unique("MCID"))).status == 201
    assert (
        api.link(
            person, "partner_university", world.assertion(unique("PU"), "partner_university")
        ).status
        == 201
    )
    programs = api.profile(person).json()["programs"]
    assert programs["learn"]["active"] is not None
    assert programs["partner_university"]["active"] is not None


def test_rule_5_one_organization_per_learner_move_ends_the_old_association(
    world: World, api: FunctionClient
) -> None:
    company_a, company_b = world.tenant(), world.tenant()
    person_a, person_b = world.person(company_a, "sam"), world.person(company_b, "sam")
    api.add_user(world.admin(company_a), person_a)
    api.add_user(world.admin(company_b), person_b)
    learner = unique("MCID")
    assert api.link(person_a, "learn", world.assertion(learner)).status == 201
    world.clock.advance(31 * DAY)
    moved = api.link(person_b, "learn", world.assertion(learner))
    assert moved.status == 201
    assert moved.json()["tenant_id"] == company_b

    old = api.profile(person_a).json()
    assert old["programs"]["learn"]["active"] is None
    assert old["history"][0]["end_reason"] == "moved"
    assert old["history"][0]["ended_at"] == moved.json()["started_at"]
    new = api.profile(person_b).json()
    assert new["programs"]["learn"]["active"]["tenant_id"] == company_b
    listing = api.call("GET", "org/users", person=world.admin(company_a)).json()
    assert listing["users"][0]["linked"] == {"learn": False, "partner_university": False}
    state = learner_state("learn", learner)
    assert [a.end_reason for a in state.associations] == ["moved", None]


def test_rule_6_cool_off_30_days_between_starts_exact_429(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    learner = unique("MCID")
    started = api.link(person, "learn", world.assertion(learner)).json()["started_at"]
    world.clock.advance(5 * DAY)
    assert api.unlink(person, "learn").status == 204
    world.clock.advance(timedelta(hours=1, seconds=0.5))
    response = api.link(person, "learn", world.assertion(learner))
    assert response.status == 429
    error = response.json()["error"]
    assert error["code"] == "association_limited"
    assert error["next_available_at"] == "2026-02-04T09:00:00Z"
    assert started == "2026-01-05T09:00:00Z"
    assert error["message"] == (
        "You've attempted to associate with a partner organization. However, we require a "
        "period of 30 days between associations. Your next available date for a subsequent "
        "association is 2026-02-04."
    )
    remaining = timedelta(days=25) - timedelta(hours=1, seconds=0.5)
    assert response.headers["Retry-After"] == str(int(remaining.total_seconds()) + 1)
    assert len(learner_state("learn", learner).associations) == 1
    world.clock.set(
        world.clock.now().replace(day=4, month=2, hour=9, minute=0, second=0, microsecond=0)
    )
    assert api.link(person, "learn", world.assertion(learner)).status == 201


def test_rule_6_three_starts_in_any_365_days_yearly_message(
    world: World, api: FunctionClient
) -> None:
    learner = unique("MCID")
    tenants = [world.tenant() for _ in range(4)]
    people = [world.person(t) for t in tenants]
    for tenant, person in zip(tenants, people, strict=True):
        api.add_user(world.admin(tenant), person)
    first_start = world.clock.now()
    for person in people[:3]:
        assert api.link(person, "learn", world.assertion(learner)).status == 201
        world.clock.advance(40 * DAY)
    response = api.link(people[3], "learn", world.assertion(learner))
    assert response.status == 429
    error = response.json()["error"]
    available = first_start + timedelta(days=365)
    assert error["next_available_at"] == available.isoformat().replace("+00:00", "Z")
    assert error["message"] == (
        "You've attempted to associate with a partner organization. However, we allow 3 "
        "associations in any 365 days. Your next available date for a subsequent association "
        f"is {available.date().isoformat()}."
    )
    profile = api.profile(people[2]).json()["programs"]["learn"]
    assert profile["associations_in_window"] == 3
    assert profile["next_association_available_at"] == error["next_available_at"]
    world.clock.set(available)
    assert api.link(people[3], "learn", world.assertion(learner)).status == 201


def test_rule_6_unlinking_gives_no_start_back(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    learner = unique("MCID")
    for _ in range(3):
        assert api.link(person, "learn", world.assertion(learner)).status == 201
        assert api.unlink(person, "learn").status == 204
        world.clock.advance(31 * DAY)
    response = api.link(person, "learn", world.assertion(learner))
    assert response.status == 429
    assert "3 associations in any 365 days" in response.json()["error"]["message"]


def test_rule_6_the_200_answer_is_not_a_start(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    learner = unique("MCID")
    assertion = world.assertion(learner)
    assert api.link(person, "learn", assertion).status == 201
    for _ in range(5):
        assert api.link(person, "learn", assertion).status == 200
    assert api.profile(person).json()["programs"]["learn"]["associations_in_window"] == 1


def test_rule_10_an_http_retry_leaves_the_same_state_as_one_call(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    learner = unique("MCID")
    assertion = world.assertion(learner)
    first = api.link(person, "learn", assertion)
    retried = api.link(person, "learn", assertion)
    assert (first.status, retried.status) == (201, 200)
    assert first.json() == retried.json()
    assert len(user_state(person).associations) == 1
    assert api.unlink(person, "learn").status == 204
    assert api.unlink(person, "learn").status == 404
    assert user_state(person).associations[0].end_reason == "unlinked"


def test_rule_11_no_admin_view_shows_the_personal_account(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    admin, person = org
    secret = "very.personal@outlook.com"
    assert api.link(person, "learn", world.assertion(unique("MCID"), msa=secret)).status == 201
    for response in (
        api.call("GET", "org/users", person=admin),
        api.profile(person),
        api.call("GET", "org/users", person=admin, params={"linked": "false"}),
    ):
        assert secret not in response.body.decode()
        assert "msa" not in response.body.decode()
    assert secret not in user_state(person).model_dump_json()


def test_assertion_replayed_by_another_caller_is_401_and_changes_nothing(
    world: World, api: FunctionClient
) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    owner, thief = world.person(tenant), world.person(tenant)
    api.add_user(admin, owner)
    api.add_user(admin, thief)
    assertion = world.assertion(unique("MCID"))
    assert api.link(owner, "learn", assertion).status == 201
    response = api.link(thief, "learn", assertion)
    assert response.status == 401
    assert response.json()["error"] == {
        "code": "invalid_assertion",
        "message": response.json()["error"]["message"],
        "request_id": response.headers["x-request-id"],
        "reason": "replayed",
    }
    assert user_state(thief).associations == []


def test_assertion_of_an_ended_association_cannot_start_another(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    assertion = world.assertion(unique("MCID"))
    assert api.link(person, "learn", assertion).status == 201
    assert api.unlink(person, "learn").status == 204
    response = api.link(person, "learn", assertion)
    assert (response.status, response.json()["error"]["reason"]) == (401, "replayed")


def test_a_refused_request_does_not_use_up_its_jti(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    learner = unique("MCID")
    other = unique("MCID")
    assert api.link(person, "learn", world.assertion(other)).status == 201
    assertion = world.assertion(learner, jti="jti-kept")
    assert api.link(person, "learn", assertion).status == 409
    assert api.unlink(person, "learn").status == 204
    assert api.link(person, "learn", assertion).status == 201


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda w, learner: w.assertion(learner, age=timedelta(minutes=12)), "expired"),
        (lambda w, learner: w.assertion(learner, extra={"aud": "api://someone-else"}), "audience"),
        (lambda w, learner: w.assertion(learner, extra={"iss": "https://evil.test"}), "issuer"),
        (lambda w, learner: w.assertion(learner, "partner_university"), None),
        (lambda w, learner: "not.a.jwt", "malformed"),
        (lambda w, learner: w.assertion(learner)[:-4] + "AAAA", "signature"),
    ],
)
def test_assertion_checks_answer_401_invalid_assertion(
    org: tuple[Person, Person],
    world: World,
    api: FunctionClient,
    mutate,
    reason,
) -> None:
    _, person = org
    learner = unique("MCID")
    response = api.link(person, "learn", mutate(world, learner))
    assert response.status == 401
    assert response.error_code == "invalid_assertion"
    if reason:
        assert response.json()["error"]["reason"] == reason
    assert learner_state("learn", learner) is None


def test_assertion_exp_has_60_seconds_of_leeway(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    learner = unique("MCID")
    assertion = world.assertion(learner)
    world.clock.advance(timedelta(seconds=600 + 59))
    assert api.link(person, "learn", assertion).status == 201


def test_assertion_with_an_algorithm_other_than_es256_or_rs256_is_refused(
    org: tuple[Person, Person], world: World, api: FunctionClient
) -> None:
    _, person = org
    import jwt

    claims = {
        "iss": "https://learn.test/issuer",
        "aud": "api://skills-link-tests",
        "sub": "x",
        "iat": int(world.clock.now().timestamp()),
        "exp": int(world.clock.now().timestamp()) + 60,
        "jti": "j",
        "msa": "m@outlook.com",
    }
    unsigned = jwt.encode(claims, "", algorithm="none")
    hs = jwt.encode(claims, "secret-that-is-long-enough-for-hs256-ok", algorithm="HS256")
    rs256_for_an_es256_program = world.assertion(unique("MCID"), "partner_university")
    for token in (unsigned, hs, rs256_for_an_es256_program):
        response = api.link(person, "learn", token)
        assert response.status == 401
        assert response.json()["error"]["reason"] in ("algorithm", "malformed")


def test_unconfigured_program_answers_503_after_body_and_before_assertion(
    org: tuple[Person, Person], world: World, api: FunctionClient, azure_runtime: runtime.Runtime
) -> None:
    _, person = org
    settings = azure_runtime.settings.model_copy(update={"partner_university_public_key": None})
    runtime.install(runtime.Runtime(settings, azure_runtime.clock))
    response = api.link(person, "partner_university", "garbage")
    assert (response.status, response.error_code) == (503, "program_not_configured")
    response = api.link(person, "learn", world.assertion(unique("MCID")))
    assert response.status == 201
    assert (
        api.call("POST", "me/links", person=person, json={"program": "partner_university"}).status
        == 400
    )


def test_checks_run_in_the_contract_order(world: World, api: FunctionClient) -> None:
    tenant = world.tenant()
    person = world.person(tenant)
    bad_body = {"program": "nope"}
    assert api.call("POST", "me/links", json=bad_body).status == 401
    assert api.call("POST", "me/links", person=person, json=bad_body).status == 403
    api.add_user(world.admin(tenant), person)
    response = api.call("POST", "me/links", person=person, json=bad_body)
    assert (response.status, response.json()["error"]["field"]) == (400, "program")
    no_msa_but_bad_signature = world.assertion(unique("MCID"), msa=None)[:-4] + "AAAA"
    assert api.link(person, "learn", no_msa_but_bad_signature).status == 401


@pytest.mark.parametrize(
    "header",
    [
        None,
        "%%%not-base64",
        base64.b64encode(b"not json").decode(),
        base64.b64encode(json.dumps({"claims": "nope"}).encode()).decode(),
        base64.b64encode(json.dumps({"claims": [{"typ": "tid", "val": "t"}]}).encode()).decode(),
        base64.b64encode(json.dumps([1, 2]).encode()).decode(),
    ],
)
def test_identity_missing_or_broken_principal_is_401(
    api: FunctionClient, header: str | None
) -> None:
    headers = {} if header is None else {"X-MS-CLIENT-PRINCIPAL": header}
    for method, path in (
        ("GET", "me"),
        ("POST", "me/links"),
        ("DELETE", "me/links/learn"),
        ("GET", "org/users"),
        ("POST", "org/users"),
    ):
        response = api.call(method, path, headers=headers, body=b"{")
        assert (response.status, response.error_code) == (401, "unauthenticated"), (method, path)


def test_identity_in_azure_without_app_service_authentication_refuses_every_call(
    org: tuple[Person, Person], api: FunctionClient, azure_runtime: runtime.Runtime
) -> None:
    _, person = org
    for enabled in (None, "False", ""):
        settings = azure_runtime.settings.model_copy(
            update={"website_instance_id": "abc123", "website_auth_enabled": enabled}
        )
        runtime.install(runtime.Runtime(settings, azure_runtime.clock))
        assert api.profile(person).status == 401
    settings = azure_runtime.settings.model_copy(
        update={"website_instance_id": "abc123", "website_auth_enabled": "True"}
    )
    runtime.install(runtime.Runtime(settings, azure_runtime.clock))
    assert api.profile(person).status == 200


def test_identity_roles_under_the_long_claim_type_make_an_admin(
    world: World, api: FunctionClient
) -> None:
    from devtools.tokens import principal_header

    tenant = world.tenant()
    header = principal_header(
        tenant,
        "boss@contoso.com",
        roles=("Partner.AccountAdmin",),
        role_claim="http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    )
    response = api.call("GET", "org/users", headers={"X-MS-CLIENT-PRINCIPAL": header})
    assert response.status == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"[1, 2]", "body"),
        (b'{"program": "learn"}', "assertion"),
        (b'{"program": 7, "assertion": "x"}', "program"),
        (b'{"program": "linkedin", "assertion": "x"}', "program"),
        (b'{"program": "learn", "assertion": ["x"]}', "assertion"),
        (b'{"program": "learn", "assertion": "x", "extra": 1}', "extra"),
    ],
)
def test_bad_link_bodies_are_400_naming_the_field(
    org: tuple[Person, Person], api: FunctionClient, body: bytes, field: str
) -> None:
    _, person = org
    response = api.call("POST", "me/links", person=person, body=body)
    assert response.status == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.json()["error"]["field"] == field


def test_unlink_unknown_program_is_400_and_not_linked_is_404(
    org: tuple[Person, Person], api: FunctionClient
) -> None:
    _, person = org
    response = api.unlink(person, "linkedin")
    assert (response.status, response.json()["error"]["field"]) == (400, "program")
    response = api.unlink(person, "learn")
    assert (response.status, response.error_code) == (404, "not_linked")


def test_key_rotation_an_assertion_verified_by_any_configured_key_is_accepted(
    world: World, api: FunctionClient, azure_runtime: runtime.Runtime
) -> None:
    from devtools.tokens import KeyPair, learner_assertion
    from tests.support.world import AUDIENCE, ISSUERS

    current = world.keys["learn"]
    rotated_in = KeyPair.generate("RS256")
    stranger = KeyPair.generate("ES256")
    both = f"{current.public_pem}\n{rotated_in.public_pem}"
    settings = azure_runtime.settings.model_copy(update={"learn_public_key": both})
    runtime.install(runtime.Runtime(settings, azure_runtime.clock))

    def signed_by(keys: KeyPair, learner: str, person: Person) -> str:
        return learner_assertion(
            keys, issuer=ISSUERS["learn"], audience=AUDIENCE, learner_id=learner,
            issued_at=world.clock.now().timestamp(), extra={"nonce": api.nonce(person, "learn")},
        )  # fmt: skip

    for keys in (current, rotated_in):
        person = api.member(world)
        assert api.link(person, "learn", signed_by(keys, unique("MCID"), person)).status == 201
    person = api.member(world)
    response = api.link(person, "learn", signed_by(stranger, unique("MCID"), person))
    assert (response.status, response.json()["error"]["reason"]) == (401, "signature")
    wrong_audience = learner_assertion(
        rotated_in, issuer=ISSUERS["learn"], audience="api://other", learner_id="x",
        issued_at=world.clock.now().timestamp(),
    )  # fmt: skip
    response = api.link(person, "learn", wrong_audience)
    assert (response.status, response.json()["error"]["reason"]) == (401, "audience")


def test_checks_run_in_the_contract_order_with_body_size_and_media_type(
    world: World, api: FunctionClient
) -> None:
    """identity (401), body size (413), media type (415), partner user (403), body (400)."""
    tenant = world.tenant()
    stranger = world.person(tenant)
    huge = b'{"program": "' + b"x" * (64 * 1024) + b'"}'
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    cases = [
        (None, huge, form, 401, "unauthenticated"),
        (stranger, huge, form, 413, "payload_too_large"),
        (stranger, b'{"program": "learn"}', form, 415, "unsupported_media_type"),
        (stranger, b'{"program": "learn"}', {"Content-Type": "text/plain"}, 415, None),
        (stranger, b'{"program": "learn"}', {"Content-Type": "application/json; charset=utf-8"}, 403, "not_partner_center_user"),
    ]  # fmt: skip
    for who, body, headers, status, code in cases:
        response = api.call("POST", "me/links", person=who, body=body, headers=headers)
        assert response.status == status, (status, response.body[:200])
        if code:
            assert response.error_code == code


def test_a_cross_site_form_post_cannot_link_anyone(world: World, api: FunctionClient) -> None:
    person = api.member(world)
    learner = unique("MCID")
    body = json.dumps({"program": "learn", "assertion": world.assertion(learner)}).encode()
    for media_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = api.call(
            "POST", "me/links", person=person, body=body, headers={"Content-Type": media_type}
        )
        assert (response.status, response.error_code) == (415, "unsupported_media_type")
    assert learner_state("learn", learner) is None
    assert user_state(person).associations == []


def test_a_principal_header_over_16_kib_is_401(world: World, api: FunctionClient) -> None:
    person = api.member(world)
    claims = [{"typ": "x-padding", "val": "p" * 300} for _ in range(60)]
    document = json.loads(base64.b64decode(person.header))
    document["claims"] += claims
    big = base64.b64encode(json.dumps(document).encode()).decode()
    assert len(big) > 16 * 1024
    response = api.call("GET", "me", headers={"X-MS-CLIENT-PRINCIPAL": big})
    assert (response.status, response.error_code) == (401, "unauthenticated")


def test_every_answer_carries_its_request_id_and_every_error_body_too(
    world: World, api: FunctionClient
) -> None:
    person = api.member(world)
    ok = api.profile(person)
    refused = api.profile(world.person())
    assert ok.status == 200 and ok.headers["x-request-id"]
    assert refused.json()["error"]["request_id"] == refused.headers["x-request-id"]
    assert ok.headers["x-request-id"] != refused.headers["x-request-id"]


def test_a_key_setting_may_hold_the_base64_of_its_pem_text(
    world: World, api: FunctionClient, azure_runtime: runtime.Runtime
) -> None:
    """Contract v4: one line, as deployment tools carry it (azd cannot carry PEM's
    newlines into its JSON parameters); several blocks still mean a rotation."""
    import base64

    from devtools.tokens import KeyPair

    retired = KeyPair.generate("RS256")
    both = f"Retired key\n{retired.public_pem}{world.keys['learn'].public_pem}"
    encoded = base64.b64encode(both.encode()).decode()
    settings = azure_runtime.settings.model_copy(update={"learn_public_key": encoded})
    runtime.install(runtime.Runtime(settings, azure_runtime.clock))
    person = api.member(world)
    assert api.link(person, "learn", world.assertion(unique("MCID"))).status == 201
    broken = settings.model_copy(update={"learn_public_key": base64.b64encode(b"no key").decode()})
    runtime.install(runtime.Runtime(broken, azure_runtime.clock))
    other = api.member(world)
    answer = api.link(other, "learn", world.assertion(unique("MCID")))
    assert (answer.status, answer.error_code) == (503, "program_not_configured")
