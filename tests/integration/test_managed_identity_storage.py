"""The identity-based storage path against real storage: Azurite over HTTPS with
`--oauth basic` checks each bearer token's issuer, audience and expiry, as Microsoft
Entra ID's would be checked. The app is configured only with service URIs and
`__credential=managedidentity`; the one stand-in is the token credential, which
mints such tokens. No account key or connection string appears in this test."""

import datetime as dt
import ipaddress
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devtools import azurite
from shared import bootstrap
from shared.adapters.ports import Wake
from shared.domain.model import PartnerUser
from shared.queue_names import LEARNING_EVENTS
from shared.services import credit_apply, credit_ingest, link, reports
from shared.services.commands import ReadReport
from tests.support.clock import MutableClock
from tests.support.world import World, link_body, settings_for, unique

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


class MintedTokens:
    """A TokenCredential whose tokens carry what Azurite checks: audience
    https://storage.azure.com, an sts.windows.net issuer, and a valid expiry."""

    def __init__(self, audience: str = "https://storage.azure.com") -> None:
        self.audience = audience
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes += scopes
        now = int(time.time())
        claims = {
            "aud": self.audience,
            "iss": f"https://sts.windows.net/{TENANT}/",
            "tid": TENANT,
            "oid": str(uuid.uuid4()),
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
        }
        return AccessToken(
            jwt.encode(claims, "azurite-checks-claims-but-not-this-signature", "HS256"), now + 3600
        )


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def oauth_azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    with azurite.running(oauth_tls=(cert, key)) as ports:
        yield ports, cert


def identity_settings(keys: Any, ports: Any, **overrides: Any) -> Any:
    """Only service URIs and the managed identity: no key, no connection string."""
    base = "https://127.0.0.1:{}/" + azurite.ACCOUNT
    settings = settings_for(
        keys,
        connection="",
        storage_table_uri=base.format(ports.table),
        storage_queue_uri=base.format(ports.queue),
        storage_credential="managedidentity",
        **overrides,
    )
    assert settings.storage_connection is None
    return settings


def test_link_ingest_apply_and_report_over_managed_identity_storage(
    oauth_azurite: tuple[Any, Path],
    monkeypatch: pytest.MonkeyPatch,
    keys: Any,
    clock: MutableClock,
    world: World,
) -> None:
    ports, cert = oauth_azurite
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # trust the test's own certificate
    tokens = MintedTokens()
    runtime = bootstrap.Runtime(identity_settings(keys, ports), clock, credential=tokens)
    deps = runtime.deps
    tenant = world.tenant()
    person = world.person(tenant)
    deps.stores.users.insert(
        PartnerUser(
            tenant_id=tenant, email=person.email, display_name="Pat", created_at=clock.now()
        )
    )
    learner = unique("MCID")
    assert link.link(deps, person.caller, link_body(world, deps, person, learner)).created
    completed = clock.now()
    event = {
        "event_id": unique("evt"),
        "type": "credential.completed",
        "program": "learn",
        "learner_id": learner,
        "credential": {"id": "AZ-104", "kind": "certification", "title": "Admin"},
        "completed_at": completed.isoformat(),
    }
    credit_ingest.ingest(deps, credit_ingest.parse_event(json.dumps(event)))
    active = deps.stores.learners.load("learn", learner, state_only=True).active
    assert active is not None
    clock.advance(dt.timedelta(days=10))
    wake = Wake("learn", learner, active.association_id, completed + dt.timedelta(days=10))
    assert credit_apply.apply(deps, wake) == 1
    rows = reports.skills_report(deps, world.admin(tenant).caller, ReadReport()).rows
    assert [(r.email, r.credential_id) for r in rows] == [(person.email, "AZ-104")]
    runtime.queues.send_text(LEARNING_EVENTS, json.dumps(event))
    assert set(tokens.scopes) == {"https://storage.azure.com/.default"}


def test_a_token_for_another_audience_is_refused_by_storage(
    oauth_azurite: tuple[Any, Path], monkeypatch: pytest.MonkeyPatch, keys: Any
) -> None:
    ports, cert = oauth_azurite
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    runtime = bootstrap.Runtime(
        identity_settings(keys, ports), credential=MintedTokens("https://vault.azure.net")
    )
    with pytest.raises((ClientAuthenticationError, HttpResponseError)):
        runtime.tables.table("learners")
