"""Dev identities: a principal header as App Service Authentication would send
it, and learner assertions signed by a dev key pair standing in for a program."""

import base64
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

Algorithm = Literal["ES256", "RS256"]


@dataclass(frozen=True)
class KeyPair:
    algorithm: Algorithm
    private_pem: str
    public_pem: str

    @classmethod
    def generate(cls, algorithm: Algorithm = "ES256") -> "KeyPair":
        private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        if algorithm == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        else:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(
            algorithm=algorithm,
            private_pem=private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode(),
            public_pem=private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode(),
        )


def principal_claims(
    tenant_id: str,
    email: str,
    *,
    object_id: str | None = None,
    roles: tuple[str, ...] = (),
    role_claim: str = "roles",
    name: str | None = None,
) -> list[dict[str, str]]:
    return [
        {"typ": "http://schemas.microsoft.com/identity/claims/tenantid", "val": tenant_id},
        {
            "typ": "http://schemas.microsoft.com/identity/claims/objectidentifier",
            "val": object_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{email}")),
        },
        {"typ": "preferred_username", "val": email},
        {"typ": "name", "val": name or email.split("@", maxsplit=1)[0]},
        *({"typ": role_claim, "val": role} for role in roles),
    ]


def principal_header(
    tenant_id: str,
    email: str,
    *,
    object_id: str | None = None,
    roles: tuple[str, ...] = (),
    role_claim: str = "roles",
    name: str | None = None,
) -> str:
    document = {
        "auth_typ": "aad",
        "claims": principal_claims(
            tenant_id, email, object_id=object_id, roles=roles, role_claim=role_claim, name=name
        ),
        "name_typ": "name",
        "role_typ": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    }
    return base64.b64encode(json.dumps(document).encode()).decode()


def learner_assertion(
    keys: KeyPair,
    *,
    issuer: str,
    audience: str,
    learner_id: str,
    msa: str | None = "learner@outlook.com",
    jti: str | None = None,
    issued_at: float | None = None,
    lifetime_seconds: int = 600,
    extra: dict[str, Any] | None = None,
    algorithm: str | None = None,
) -> str:
    import jwt

    now = int(issued_at if issued_at is not None else time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": learner_id,
        "iat": now,
        "exp": now + lifetime_seconds,
        "jti": jti or uuid.uuid4().hex,
    }
    if msa is not None:
        claims["msa"] = msa
    claims.update(extra or {})
    return jwt.encode(claims, keys.private_pem, algorithm=algorithm or keys.algorithm)
