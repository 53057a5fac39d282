"""Partner users: admins add and list their own organization's users."""

from datetime import timedelta

import pytest

from shared import bootstrap as runtime
from tests.support.api import FunctionClient
from tests.support.world import Person, World, unique


def test_admin_adds_a_user_201_with_the_orguser_shape(world: World, api: FunctionClient) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    response = api.call(
        "POST",
        "org/users",
        person=admin,
        json={"email": "  O'Brien@Contoso.com ", "display_name": "Pat O'Brien"},
    )
    assert response.status == 201
    assert response.json() == {
        "email": "o'brien@contoso.com",
        "display_name": "Pat O'Brien",
        "status": "active",
        "created_at": "2026-01-05T09:00:00Z",
        "first_seen_at": None,
        "linked": {"learn": False, "partner_university": False},
    }
    person = Person(tenant, "o'brien@contoso.com")
    assert api.profile(person).status == 200


def test_adding_an_active_user_again_is_409_user_exists(world: World, api: FunctionClient) -> None:
    tenant = world.tenant()
    admin, person = world.admin(tenant), world.person(tenant)
    assert api.add_user(admin, person).status == 201
    response = api.add_user(admin, person)
    assert (response.status, response.error_code) == (409, "user_exists")


def test_non_admins_get_403_forbidden_from_org(world: World, api: FunctionClient) -> None:
    person = api.member(world)
    for method, path in (("GET", "org/users"), ("POST", "org/users")):
        response = api.call(
            method, path, person=person, json={"email": "x@y.com", "display_name": "X"}
        )
        assert (response.status, response.error_code) == (403, "forbidden")


def test_an_admin_needs_no_partner_user_record_and_sees_only_its_tenant(
    world: World, api: FunctionClient
) -> None:
    tenant_a, tenant_b = world.tenant(), world.tenant()
    admin_a, admin_b = world.admin(tenant_a), world.admin(tenant_b)
    person_a = world.person(tenant_a)
    api.add_user(admin_a, person_a)
    listing_b = api.call("GET", "org/users", person=admin_b).json()
    assert listing_b == {"users": [], "continuation": None}
    listing_a = api.call("GET", "org/users", person=admin_a).json()
    assert [u["email"] for u in listing_a["users"]] == [person_a.email]
    same_email_in_b = api.call(
        "POST", "org/users", person=admin_b, json={"email": person_a.email, "display_name": "Other"}
    )
    assert same_email_in_b.status == 201
    assert (
        api.call("GET", "org/users", person=admin_a).json()["users"][0]["display_name"]
        == "A Person"
    )


def test_listing_shows_first_seen_and_linked_and_filters_never_linked(
    world: World, api: FunctionClient
) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    silent, visitor, linker = (
        world.person(tenant, n) for n in ("a-silent", "b-visitor", "c-linker")
    )
    for person in (silent, visitor, linker):
        api.add_user(admin, person)
    world.clock.advance(timedelta(hours=2))
    api.profile(visitor)
    api.link(linker, "partner_university", world.assertion(unique("PU"), "partner_university"))
    users = {u["email"]: u for u in api.call("GET", "org/users", person=admin).json()["users"]}
    assert users[silent.email]["first_seen_at"] is None
    assert users[visitor.email]["first_seen_at"] == "2026-01-05T11:00:00Z"
    assert users[linker.email]["linked"] == {"learn": False, "partner_university": True}
    never = api.call("GET", "org/users", person=admin, params={"linked": "false"}).json()["users"]
    assert sorted(u["email"] for u in never) == [silent.email, visitor.email]
    now_linked = api.call("GET", "org/users", person=admin, params={"linked": "true"}).json()[
        "users"
    ]
    assert [u["email"] for u in now_linked] == [linker.email]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"nope", "body"),
        (b'{"display_name": "X"}', "email"),
        (b'{"email": "not-an-email", "display_name": "X"}', "email"),
        (b'{"email": "a@b.com", "display_name": "   "}', "display_name"),
        (b'{"email": "a@b.com", "display_name": 5}', "display_name"),
    ],
)
def test_bad_add_user_bodies_are_400_naming_the_field(
    world: World, api: FunctionClient, body: bytes, field: str
) -> None:
    response = api.call("POST", "org/users", person=world.admin(world.tenant()), body=body)
    assert (response.status, response.error_code) == (400, "invalid_request")
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize(
    ("params", "field"), [({"linked": "maybe"}, "linked"), ({"continuation": "%%"}, "continuation")]
)
def test_bad_listing_parameters_are_400(
    world: World, api: FunctionClient, params: dict[str, str], field: str
) -> None:
    response = api.call("GET", "org/users", person=world.admin(world.tenant()), params=params)
    assert (response.status, response.json()["error"]["field"]) == (400, field)


def test_a_reused_work_email_does_not_inherit_the_predecessors_history(
    world: World, api: FunctionClient
) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    email = f"{unique('seat')}@contoso.com"
    before = Person(tenant, email, object_id="oid-of-the-first-person")
    assert api.add_user(admin, before, "First").status == 201
    learner = unique("MCID")
    assert api.link(before, "learn", world.assertion(learner)).status == 201
    assert api.call("DELETE", f"org/users/{email}", person=admin).status == 202
    assert api.add_user(admin, before, "Second").status == 201

    after = Person(tenant, email, object_id="oid-of-the-second-person")
    profile = api.profile(after).json()
    assert profile["history"] == []
    assert profile["credited"] == []
    assert profile["programs"]["learn"] == {
        "active": None,
        "associations_in_window": 0,
        "next_association_available_at": None,
    }
    assert api.link(after, "learn", world.assertion(unique("MCID"))).status == 201
    assert len(api.profile(after).json()["history"]) == 1
    stored = runtime.current().stores.users.get(tenant, email)
    assert stored is not None
    kept = stored.value.earlier_holders_associations
    assert [(a.learner_id, a.end_reason) for a in kept] == [(learner, "user_departed")]


def test_the_same_person_re_added_after_a_departure_keeps_their_history(
    world: World, api: FunctionClient
) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    person = world.person(tenant)
    assert api.add_user(admin, person).status == 201
    assert api.link(person, "learn", world.assertion(unique("MCID"))).status == 201
    assert api.call("DELETE", f"org/users/{person.email}", person=admin).status == 202
    assert api.add_user(admin, person).status == 201
    history = api.profile(person).json()["history"]
    assert [a["end_reason"] for a in history] == ["user_departed"]
