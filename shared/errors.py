"""The error catalogue: every refusal the contract defines, with its status, code and
default message, in one place. The HTTP layer answers with these, the OpenAPI
document lists them, and the tests check both against this table."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ErrorKind:
    status: int
    code: str
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    """Extra keys of the error body that this kind always carries (guidance)."""

    def __call__(
        self, message: str | None = None, *, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> "ServiceError":
        return ServiceError(self, message, headers=headers, **extra)


class ServiceError(Exception):
    """A refusal the contract defines: a kind from the catalogue, the message for
    this case, and the extra keys the contract puts beside them (field, reason,
    next_available_at, guidance)."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.kind = kind
        self.message = message or kind.message
        super().__init__(self.message)
        self.headers = {**kind.headers, **(headers or {})}
        self.extra = {**kind.defaults, **extra}

    @property
    def status(self) -> int:
        return self.kind.status

    @property
    def code(self) -> str:
        return self.kind.code

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        detail = {"code": self.code, "message": self.message, **self.extra}
        if request_id is not None:
            detail["request_id"] = request_id
        return {"error": detail}


ASK_AN_ADMIN = "Ask a Global admin or Account admin of your organization."

INVALID_REQUEST = ErrorKind(400, "invalid_request", "The request is not valid.")
UNAUTHENTICATED = ErrorKind(401, "unauthenticated", "Sign in first.")
INVALID_ASSERTION = ErrorKind(401, "invalid_assertion", "The learner assertion is not valid.")
NOT_PARTNER_CENTER_USER = ErrorKind(
    403,
    "not_partner_center_user",
    "Your work account is not an active user of your organization in Partner Center.",
    defaults={
        "guidance": "Ask a Global admin or Account admin of your organization to add your "
        "work account as a user in Partner Center, then sign in again."
    },
)
FORBIDDEN = ErrorKind(
    403,
    "forbidden",
    "Only a Global admin or Account admin of the organization can do this.",
    defaults={"guidance": ASK_AN_ADMIN},
)
ACCOUNT_MISMATCH = ErrorKind(
    403,
    "account_mismatch",
    "This email belongs to another work account in your organization.",
    defaults={
        "guidance": "Partner Center binds a user to the work account that first signed in "
        "with this email. If this account now holds the email, ask a Global admin or "
        "Account admin to remove the user and add them again: that starts a new binding "
        "and a new history."
    },
)
NOT_LINKED = ErrorKind(404, "not_linked", "Your work account is not linked in this program.")
WEBHOOK_NOT_FOUND = ErrorKind(404, "webhook_not_found", "No such webhook in your organization.")
TOO_MANY_WEBHOOKS = ErrorKind(
    409, "too_many_webhooks", "An organization has at most 10 webhooks; delete one first."
)
USER_NOT_FOUND = ErrorKind(404, "user_not_found", "No user with this email in your organization.")
DESIGNATION_NOT_FOUND = ErrorKind(
    404, "designation_not_found", "No designation with this id in the catalog."
)
ALREADY_LINKED = ErrorKind(
    409,
    "already_linked",
    "Your work account is already linked to another account in this program. "
    "Remove that link first.",
)
USER_EXISTS = ErrorKind(409, "user_exists", "This work account is already an active user.")
NO_TRACK_TO_CHOOSE = ErrorKind(
    409,
    "no_track_to_choose",
    "This designation is scored on both tracks and the higher counts: there is no track to choose.",
)
LEARN_PROFILE_HAS_NO_MSA = ErrorKind(
    422,
    "learn_profile_has_no_msa",
    "Your Learn profile has no personal Microsoft account (MSA) associated with it.",
    defaults={
        "guidance": "Sign in to your Learn profile with your work account. In Settings > "
        "Account management, associate your personal Microsoft account (MSA). Then link again."
    },
)
PAYLOAD_TOO_LARGE = ErrorKind(413, "payload_too_large", "The request body is larger than 64 KiB.")
UNSUPPORTED_MEDIA_TYPE = ErrorKind(
    415,
    "unsupported_media_type",
    "A request with a body must say Content-Type: application/json.",
)
ASSOCIATION_LIMITED = ErrorKind(429, "association_limited", "Association is limited.")
RATE_LIMITED = ErrorKind(429, "rate_limited", "Too many requests; try again later.")
INTERNAL_ERROR = ErrorKind(500, "internal_error", "Something went wrong.")
PROGRAM_NOT_CONFIGURED = ErrorKind(
    503,
    "program_not_configured",
    "Linking to this program is not available: the service lacks its issuer, key or audience.",
)
BUSY = ErrorKind(
    503,
    "busy",
    "Too many changes to the same records at once; try again.",
    headers={"Retry-After": "1"},
)
STORAGE_UNAVAILABLE = ErrorKind(
    503,
    "storage_unavailable",
    "Storage did not answer; nothing was changed that a retry would not repair.",
    headers={"Retry-After": "5"},
)
SERVICE_MISCONFIGURED = ErrorKind(
    503, "service_misconfigured", "The service's settings are not valid."
)

CATALOGUE: tuple[ErrorKind, ...] = (
    INVALID_REQUEST,
    UNAUTHENTICATED,
    INVALID_ASSERTION,
    NOT_PARTNER_CENTER_USER,
    FORBIDDEN,
    ACCOUNT_MISMATCH,
    NOT_LINKED,
    USER_NOT_FOUND,
    WEBHOOK_NOT_FOUND,
    DESIGNATION_NOT_FOUND,
    ALREADY_LINKED,
    TOO_MANY_WEBHOOKS,
    USER_EXISTS,
    NO_TRACK_TO_CHOOSE,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    LEARN_PROFILE_HAS_NO_MSA,
    ASSOCIATION_LIMITED,
    RATE_LIMITED,
    INTERNAL_ERROR,
    PROGRAM_NOT_CONFIGURED,
    BUSY,
    STORAGE_UNAVAILABLE,
    SERVICE_MISCONFIGURED,
)


def invalid_request(field: str, message: str) -> ServiceError:
    return INVALID_REQUEST(message, field=field)


def invalid_assertion(reason: str, message: str) -> ServiceError:
    return INVALID_ASSERTION(message, reason=reason)


def unauthenticated(message: str) -> ServiceError:
    return UNAUTHENTICATED(message)
