"""Proof that the caller signed in to a program with their personal account:
a compact JWT signed by the program, checked against the program's configuration."""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared import errors
from shared.errors import ServiceError, invalid_assertion
from shared.settings import Settings
from shared.wire import Program

LEEWAY = timedelta(seconds=60)
REQUIRED_CLAIMS = ("iss", "aud", "sub", "exp", "iat", "jti")
MAX_ID_LENGTH = 256
MAX_ASSERTION_LENGTH = 8_192
"""Refused before any decoding: a real assertion is well under 2 KiB."""


@dataclass(frozen=True)
class LearnerProof:
    program: Program
    learner_id: str
    jti: str
    has_msa: bool
    nonce: str | None = None
    """The `nonce` claim: what binds the assertion to the caller who asked for it."""


def program_not_configured(program: Program) -> ServiceError:
    return errors.PROGRAM_NOT_CONFIGURED(
        f"Linking to {program} is not available: the service lacks its issuer, key or audience."
    )


_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)


def pem_text(setting: str) -> str:
    """A key setting holds PEM text, or the base64 of that text on one line (contract
    v4): deployment tools carry one-line values, and azd cannot carry a newline into
    its JSON parameters at all."""
    text = setting.strip()
    if "-----BEGIN" not in text:
        try:
            decoded = base64.b64decode("".join(text.split()), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return text
        if "-----BEGIN" in decoded:
            return decoded
    return text


def pem_blocks(setting: str) -> list[str]:
    """Every PEM block in a key setting: several keys mean a rotation in progress,
    and an assertion verified by any of them is accepted."""
    text = pem_text(setting).replace("\\n", "\n").strip()
    return _PEM_BLOCK.findall(text) or [text]


class _WrongKey(Exception):
    """The signature does not verify with this key; another configured key may."""


class AssertionVerifier:
    def __init__(self, program: Program, issuer: str, audience: str, public_key_pem: str) -> None:
        self.program = program
        self.issuer = issuer
        self.audience = audience
        self._public_key_pems = pem_blocks(public_key_pem)
        self._keys: list[tuple[str, Any]] = []

    def _load_keys(self) -> list[tuple[str, Any]]:
        """(algorithm, key) for each configured key; any unusable key is a 503."""
        if self._keys:
            return self._keys
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        loaded: list[tuple[str, Any]] = []
        for pem in self._public_key_pems:
            try:
                key = load_pem_public_key(pem.encode("utf-8"))
            except ValueError as error:
                raise program_not_configured(self.program) from error
            if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
                loaded.append(("ES256", key))
            elif isinstance(key, rsa.RSAPublicKey):
                loaded.append(("RS256", key))
            else:
                raise program_not_configured(self.program)
        self._keys = loaded
        return loaded

    def verify(self, token: str, now: datetime) -> LearnerProof:
        import jwt

        keys = self._load_keys()
        if len(token) > MAX_ASSERTION_LENGTH or token.count(".") != 2:
            raise invalid_assertion("malformed", "The assertion is not a compact JWT.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise invalid_assertion("malformed", "The assertion is not a compact JWT.") from error
        if "crit" in header:
            # No extension is understood here, so none may be critical (RFC 7515 4.1.11).
            raise invalid_assertion("malformed", "The assertion asks for unsupported extensions.")
        # kid, jku, x5u, x5c and jwk are never read: only the configured keys verify.
        candidates = [key for algorithm, key in keys if algorithm == header.get("alg")]
        if not candidates:
            algorithms = " or ".join(sorted({algorithm for algorithm, _ in keys}))
            raise invalid_assertion(
                "algorithm",
                f"The assertion must be signed with {algorithms} by {self.program}.",
            )
        for key in candidates[:-1]:
            try:
                return self._verify_with(token, key, header["alg"], now)
            except _WrongKey:
                continue
        try:
            return self._verify_with(token, candidates[-1], header["alg"], now)
        except _WrongKey as error:
            raise invalid_assertion(
                "signature", "The assertion's signature is not valid."
            ) from error

    def _verify_with(self, token: str, key: Any, algorithm: str, now: datetime) -> LearnerProof:
        import jwt

        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.MissingRequiredClaimError as error:
            raise invalid_assertion(
                "missing_claim", f"The assertion lacks {error.claim}."
            ) from error
        except jwt.InvalidAudienceError as error:
            raise invalid_assertion("audience", "The assertion is for another audience.") from error
        except jwt.InvalidIssuerError as error:
            raise invalid_assertion(
                "issuer", f"The assertion is not from {self.program}."
            ) from error
        except jwt.InvalidSignatureError as error:
            raise _WrongKey from error
        except jwt.PyJWTError as error:
            raise invalid_assertion("malformed", f"The assertion is not valid: {error}") from error
        return self._proof_from(claims, now)

    def _proof_from(self, claims: dict[str, Any], now: datetime) -> LearnerProof:
        timestamp = now.timestamp()
        leeway = LEEWAY.total_seconds()
        for name in ("exp", "iat", "nbf"):
            if name in claims and not isinstance(claims[name], int | float):
                raise invalid_assertion("malformed", f"The assertion's {name} is not a number.")
        if claims["exp"] + leeway < timestamp:
            raise invalid_assertion("expired", "The assertion has expired; sign in again.")
        if "nbf" in claims and claims["nbf"] - leeway > timestamp:
            raise invalid_assertion("not_yet_valid", "The assertion is not valid yet.")
        if claims["iat"] - leeway > timestamp:
            raise invalid_assertion("not_yet_valid", "The assertion was issued in the future.")
        subject, jti = claims["sub"], claims["jti"]
        for name, value in (("sub", subject), ("jti", jti)):
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
                raise invalid_assertion("malformed", f"The assertion's {name} is not a usable id.")
        msa = claims.get("msa")
        nonce = claims.get("nonce")
        return LearnerProof(
            program=self.program,
            learner_id=subject.strip(),
            jti=jti.strip(),
            has_msa=isinstance(msa, str) and bool(msa.strip()),
            nonce=nonce if isinstance(nonce, str) and 0 < len(nonce) <= MAX_ID_LENGTH else None,
        )


class AssertionVerifiers:
    """One verifier per configured program, built on first use so that a bad key
    or a missing setting answers 503 on the call that needs it, not at import."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._verifiers: dict[Program, AssertionVerifier] = {}

    def for_program(self, program: Program) -> AssertionVerifier:
        if program not in self._verifiers:
            issuer = self._settings.program_issuer(program)
            key = self._settings.program_public_key(program)
            audience = self._settings.assertion_audience
            if not issuer or not key or not audience:
                raise program_not_configured(program)
            self._verifiers[program] = AssertionVerifier(program, issuer, audience, key)
        return self._verifiers[program]
