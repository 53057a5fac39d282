"""Who is calling, from App Service Authentication's X-MS-CLIENT-PRINCIPAL header."""

import base64
import binascii
import json
from collections.abc import Mapping

from shared import errors
from shared.domain.emails import email_problem, normalize_email
from shared.errors import unauthenticated
from shared.services.caller import Caller

PRINCIPAL_HEADER = "X-MS-CLIENT-PRINCIPAL"

TENANT_CLAIMS = ("http://schemas.microsoft.com/identity/claims/tenantid", "tid")
OBJECT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
EMAIL_CLAIMS = (
    "preferred_username",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
)
NAME_CLAIMS = ("name", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name")
ROLE_CLAIMS = ("roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
MAX_CLAIM_LENGTH = 320
MAX_PRINCIPAL_LENGTH = 16 * 1024


def _decode_base64(raw: str) -> bytes:
    text = raw.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.urlsafe_b64decode(padded)
        except (binascii.Error, ValueError) as error:
            raise unauthenticated("The client principal is not valid base64.") from error


def _first_claim(claims: list[tuple[str, str]], types: tuple[str, ...]) -> str | None:
    for claim_type in types:
        for typ, val in claims:
            if typ == claim_type and val.strip():
                return val.strip()
    return None


def caller_from_headers(headers: Mapping[str, str], *, trust_header: bool) -> Caller:
    if not trust_header:
        raise unauthenticated(
            "This app runs in Azure without App Service Authentication in front of it, "
            "so it cannot trust who is calling. Enable App Service Authentication.",
        )
    raw = next((v for k, v in headers.items() if k.lower() == PRINCIPAL_HEADER.lower()), None)
    if not raw:
        raise unauthenticated("Sign in first: the request carries no client principal.")
    if len(raw) > MAX_PRINCIPAL_LENGTH:
        raise unauthenticated("The client principal is larger than 16 KiB.")
    try:
        document = json.loads(_decode_base64(raw).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise unauthenticated("The client principal is not valid JSON.") from error
    if not isinstance(document, dict) or not isinstance(document.get("claims"), list):
        raise unauthenticated("The client principal carries no claims.")
    if document.get("auth_typ") != "aad":
        # Another identity provider enabled beside Entra ID must not be read as Entra ID.
        raise unauthenticated("Sign in with a Microsoft Entra ID work account.")
    claims: list[tuple[str, str]] = []
    for claim in document["claims"]:
        if not isinstance(claim, dict):
            continue
        typ, val = claim.get("typ"), claim.get("val")
        if isinstance(typ, str) and isinstance(val, str) and len(val) <= MAX_CLAIM_LENGTH:
            claims.append((typ, val))
    tenant_id = _first_claim(claims, TENANT_CLAIMS)
    object_id = _first_claim(claims, OBJECT_ID_CLAIMS)
    email = _first_claim(claims, EMAIL_CLAIMS)
    missing = [
        name
        for name, value in (("tenant id", tenant_id), ("object id", object_id), ("email", email))
        if value is None
    ]
    if missing or tenant_id is None or object_id is None or email is None:
        raise unauthenticated(f"The client principal lacks: {', '.join(missing)}.")
    roles = frozenset(val.strip() for typ, val in claims if typ in ROLE_CLAIMS and val.strip())
    normalized = normalize_email(email)
    problem = email_problem(normalized)
    if problem is not None:
        raise errors.invalid_request("email", f"The signed-in account's email {problem}.")
    name = _first_claim(claims, (str(document.get("name_typ") or ""), *NAME_CLAIMS))
    return Caller(
        tenant_id=tenant_id.lower(),
        object_id=object_id,
        email=normalized,
        roles=roles,
        name=name or normalized,
    )
