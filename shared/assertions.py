"""Proof that the caller signed in to a program with their personal account:
a compact JWT signed by the program, checked against the program's configuration."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.errors import ServiceError, invalid_assertion
from shared.models import Program
from shared.settings import Settings

LEEWAY = timedelta(seconds=60)
REQUIRED_CLAIMS = ("iss", "aud", "sub", "exp", "iat", "jti")
MAX_ID_LENGTH = 256
MAX_ASSERTION_LENGTH = 16_384


@dataclass(frozen=True)
class LearnerProof:
    program: Program
    learner_id: str
    jti: str
    has_msa: bool


def program_not_configured(program: Program) -> ServiceError:
    return ServiceError(
        503,
        "program_not_configured",
        f"Linking to {program} is not available: the service lacks its issuer, key or audience.",
    )


class AssertionVerifier:
    def __init__(self, program: Program, issuer: str, audience: str, public_key_pem: str) -> None:
        self.program = program
        self.issuer = issuer
        self.audience = audience
        self._public_key_pem = public_key_pem.replace("\\n", "\n").strip()
        self._key: Any = None
        self._algorithm = ""

    def _load_key(self) -> None:
        if self._key is not None:
            return
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        try:
            key = load_pem_public_key(self._public_key_pem.encode("utf-8"))
        except ValueError as error:
            raise program_not_configured(self.program) from error
        if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
            self._algorithm = "ES256"
        elif isinstance(key, rsa.RSAPublicKey):
            self._algorithm = "RS256"
        else:
            raise program_not_configured(self.program)
        self._key = key

    def verify(self, token: str, now: datetime) -> LearnerProof:
        import jwt

        self._load_key()
        if len(token) > MAX_ASSERTION_LENGTH or token.count(".") != 2:
            raise invalid_assertion("malformed", "The assertion is not a compact JWT.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise invalid_assertion("malformed", "The assertion is not a compact JWT.") from error
        if header.get("alg") != self._algorithm:
            raise invalid_assertion(
                "algorithm",
                f"The assertion must be signed with {self._algorithm} by {self.program}.",
            )
        try:
            claims = jwt.decode(
                token,
                key=self._key,
                algorithms=[self._algorithm],
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
            raise invalid_assertion(
                "signature", "The assertion's signature is not valid."
            ) from error
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
        return LearnerProof(
            program=self.program,
            learner_id=subject.strip(),
            jti=jti.strip(),
            has_msa=isinstance(msa, str) and bool(msa.strip()),
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
