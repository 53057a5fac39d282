from typing import Any


class ServiceError(Exception):
    """A refusal the contract defines: an HTTP status, an error code, and the extra
    keys the contract puts beside them (field, reason, next_available_at, guidance)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


def unauthenticated(message: str) -> ServiceError:
    return ServiceError(401, "unauthenticated", message)


def invalid_request(field: str, message: str) -> ServiceError:
    return ServiceError(400, "invalid_request", message, field=field)


def not_found(code: str, message: str) -> ServiceError:
    return ServiceError(404, code, message)


def invalid_assertion(reason: str, message: str) -> ServiceError:
    return ServiceError(401, "invalid_assertion", message, reason=reason)


NOT_PARTNER_CENTER_USER_GUIDANCE = (
    "Ask a Global admin or Account admin of your organization to add your work account "
    "as a user in Partner Center, then sign in again."
)


def not_partner_center_user() -> ServiceError:
    return ServiceError(
        403,
        "not_partner_center_user",
        "Your work account is not an active user of your organization in Partner Center.",
        guidance=NOT_PARTNER_CENTER_USER_GUIDANCE,
    )


def forbidden() -> ServiceError:
    return ServiceError(
        403,
        "forbidden",
        "Only a Global admin or Account admin of the organization can do this.",
        guidance="Ask a Global admin or Account admin of your organization.",
    )


def busy() -> ServiceError:
    return ServiceError(
        503,
        "busy",
        "Too many changes to the same records at once; try again.",
        headers={"Retry-After": "1"},
    )


def storage_unavailable() -> ServiceError:
    return ServiceError(
        503,
        "storage_unavailable",
        "Storage did not answer; nothing was changed that a retry would not repair.",
        headers={"Retry-After": "5"},
    )
