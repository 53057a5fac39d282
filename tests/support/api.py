"""Invoke the app's HTTP functions as the host would: found by route in their
binding metadata, called with a func.HttpRequest."""

import json as jsonlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import azure.functions as func

from devtools.routing import Route, find_route, invoke
from tests.support.world import Person, World


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def error_code(self) -> str | None:
        try:
            return str(self.json()["error"]["code"])
        except (ValueError, KeyError, TypeError):
            return None


class FunctionClient:
    def __init__(self, routes: list[Route], world: World | None = None) -> None:
        self.routes = routes
        self.world = world
        """With a world, `link` sends an assertion as the person's own sign-in made
        it: bound to a nonce issued to them (contract v4)."""

    def call(
        self,
        method: str,
        path: str,
        *,
        person: Person | None = None,
        json: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Response:
        found = find_route(self.routes, method, f"api/{path}")
        assert found is not None, f"no function serves {method} {path}"
        route, route_params = found
        sent_headers = dict(headers or {})
        if person is not None:
            sent_headers["X-MS-CLIENT-PRINCIPAL"] = person.header
        if json is not None:
            body = jsonlib.dumps(json).encode()
        if body is not None and method.upper() in ("POST", "PUT", "PATCH"):
            # What every client of this API sends; tests of 415 pass their own.
            sent_headers.setdefault("Content-Type", "application/json")
        request = func.HttpRequest(
            method=method.upper(),
            url=f"http://localhost/api/{path}",
            headers=sent_headers,
            params=params or {},
            route_params=route_params,
            body=body or b"",
        )
        response: func.HttpResponse = invoke(route.function, request, route.name)
        headers = dict(response.headers)
        if response.mimetype:
            headers.setdefault("Content-Type", response.mimetype)
        return Response(response.status_code, response.get_body(), headers)

    def member(self, world: World, name: str = "A Person") -> Person:
        """A partner user of a fresh organization, added by its admin."""
        tenant = world.tenant()
        person = world.person(tenant)
        assert self.add_user(world.admin(tenant), person, name).status == 201
        return person

    def add_user(self, admin: Person, person: Person, name: str = "A Person") -> Response:
        return self.call(
            "POST", "org/users", person=admin, json={"email": person.email, "display_name": name}
        )

    def nonce(self, person: Person, program: str) -> str | None:
        answer = self.call("POST", "me/links/nonce", person=person, json={"program": program})
        return str(answer.json()["nonce"]) if answer.status == 201 else None

    def bound(self, person: Person, program: str, assertion: str) -> str:
        if self.world is None:
            return assertion
        return self.world.bind(assertion, person, lambda: self.nonce(person, program))

    def link(self, person: Person, program: str, assertion: str) -> Response:
        token = self.bound(person, program, assertion)
        return self.call(
            "POST", "me/links", person=person, json={"program": program, "assertion": token}
        )

    def unlink(self, person: Person, program: str) -> Response:
        return self.call("DELETE", f"me/links/{quote(program, safe='')}", person=person)

    def profile(self, person: Person) -> Response:
        return self.call("GET", "me", person=person)
