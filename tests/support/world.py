"""A small world for tests: programs with dev keys, organizations, people."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from devtools.tokens import KeyPair, learner_assertion, principal_header
from shared.entrypoints.principal import caller_from_headers
from shared.services.caller import Caller
from shared.services.commands import LinkLearner, Unlink
from shared.settings import Settings
from tests.support.clock import MutableClock

AUDIENCE = "api://skills-link-tests"
ISSUERS = {"learn": "https://learn.test/issuer", "partner_university": "https://pu.test/issuer"}
ADMIN = ("Partner.GlobalAdmin",)


def program_keys() -> dict[str, KeyPair]:
    return {"learn": KeyPair.generate("ES256"), "partner_university": KeyPair.generate("RS256")}


def program_app_settings(keys: dict[str, KeyPair]) -> dict[str, str]:
    """The programs' settings as app settings, for a runner in a process of its own."""
    return {
        "LEARN_ISSUER": ISSUERS["learn"],
        "LEARN_PUBLIC_KEY": keys["learn"].public_pem,
        "PARTNER_UNIVERSITY_ISSUER": ISSUERS["partner_university"],
        "PARTNER_UNIVERSITY_PUBLIC_KEY": keys["partner_university"].public_pem,
        "ASSERTION_AUDIENCE": AUDIENCE,
    }


def settings_for(
    keys: dict[str, KeyPair], connection: str = "UseDevelopmentStorage=true", **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "AzureWebJobsStorage": connection,
        "learn_issuer": ISSUERS["learn"],
        "learn_public_key": keys["learn"].public_pem,
        "partner_university_issuer": ISSUERS["partner_university"],
        "partner_university_public_key": keys["partner_university"].public_pem,
        "assertion_audience": AUDIENCE,
        "website_instance_id": None,
        "website_site_name": None,
        "azure_functions_environment": "Development",
    }
    values.update(overrides)
    return Settings(**values)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Person:
    tenant_id: str
    email: str
    roles: tuple[str, ...] = ()
    object_id: str | None = None
    """None: one fixed work account per address."""

    @property
    def header(self) -> str:
        return principal_header(
            self.tenant_id, self.email, roles=self.roles, object_id=self.object_id
        )

    @property
    def caller(self) -> Caller:
        return caller_from_headers({"X-MS-CLIENT-PRINCIPAL": self.header}, trust_header=True)


@dataclass
class World:
    keys: dict[str, KeyPair]
    clock: MutableClock
    minted: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Assertions minted without a nonce, with what made them: `bind` mints the same
    assertion again with a nonce issued to the person who sends it."""
    bound: dict[tuple[str, str, str, str], str] = field(default_factory=dict)

    def bind(self, assertion: str, person: "Person", issue_nonce: Callable[[], str | None]) -> str:
        """The assertion as the program's sign-in page would have made it for this
        person (the same claims, and a nonce issued to them); the same one again for
        the same person, so a resend is a resend. Unknown or unissuable: as it is."""
        made = self.minted.get(assertion)
        if made is None:
            return assertion
        key = (assertion, person.tenant_id, person.email, person.object_id or "")
        if key not in self.bound:
            nonce = issue_nonce()
            if nonce is None:
                return assertion
            self.bound[key] = self.assertion(**{**made, "nonce": nonce})
        return self.bound[key]

    def tenant(self) -> str:
        return unique("tenant")

    def person(self, tenant_id: str | None = None, name: str | None = None) -> Person:
        return Person(tenant_id or self.tenant(), f"{name or unique('person')}@contoso.com")

    def admin(self, tenant_id: str) -> Person:
        return Person(tenant_id, f"{unique('admin')}@contoso.com", ADMIN)

    def assertion(
        self,
        learner_id: str,
        program: str = "learn",
        *,
        msa: str | None = "someone@outlook.com",
        jti: str | None = None,
        age: timedelta = timedelta(0),
        nonce: str | None = None,
        issued_at: float | None = None,
        **extra: Any,
    ) -> str:
        made: dict[str, Any] = {
            "learner_id": learner_id,
            "program": program,
            "msa": msa,
            "jti": jti or uuid.uuid4().hex,
            "issued_at": issued_at
            if issued_at is not None
            else (self.clock.now() - age).timestamp(),
            **extra,
        }
        claims = dict(extra.pop("extra", {}) or {})
        if nonce is not None:
            claims["nonce"] = nonce
        token = learner_assertion(
            self.keys[program],
            issuer=ISSUERS[program],
            audience=AUDIENCE,
            learner_id=learner_id,
            msa=msa if program == "learn" else None,
            jti=made["jti"],
            issued_at=made["issued_at"],
            extra=claims,
            **extra,
        )
        if nonce is None:
            self.minted[token] = made
        return token


def link_body(
    world: World, deps: Any, person: Person, learner_id: str, program: str = "learn", **kw: Any
) -> "Callable[[], LinkLearner]":
    """A link command for calling the service directly, its assertion bound to a nonce
    issued to the person (as `FunctionClient.link` does over HTTP)."""
    from shared.errors import ServiceError
    from shared.services import link
    from shared.services.commands import IssueNonce, LinkLearner

    def issue() -> str | None:
        try:
            asked = IssueNonce(program=program)
            return link.issue_nonce(deps, person.caller, lambda: asked).nonce
        except ServiceError:
            return None

    token = world.bind(world.assertion(learner_id, program, **kw), person, issue)
    command = LinkLearner(program=program, assertion=token)
    return lambda: command


def unlinking(program: str = "learn") -> "Callable[[], Unlink]":
    from shared.services.commands import Unlink

    command = Unlink(program=program)
    return lambda: command
