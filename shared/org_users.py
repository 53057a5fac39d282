"""The admin side of partner users: adding, reactivating and listing them."""

from shared.domain import PartnerUser
from shared.errors import ServiceError, busy, forbidden, invalid_request
from shared.identity import Caller
from shared.linking import MAX_ATTEMPTS, LinkingContext
from shared.models import AddUserRequest, OrgUser, OrgUserPage
from shared.requests import parse_body, parse_display_name, parse_email, parse_flag
from shared.storage.errors import ConcurrencyConflict, InvalidContinuation


def require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise forbidden()


def user_exists() -> ServiceError:
    return ServiceError(409, "user_exists", "This work account is already an active user.")


def add_user(ctx: LinkingContext, caller: Caller, body: bytes | None) -> OrgUser:
    require_admin(caller)
    request = parse_body(AddUserRequest, body)
    email = parse_email(request.email)
    display_name = parse_display_name(request.display_name)
    for _ in range(MAX_ATTEMPTS):
        now = ctx.clock.now()
        found = ctx.users.get(caller.tenant_id, email)
        try:
            if found is None:
                user = PartnerUser(
                    tenant_id=caller.tenant_id,
                    email=email,
                    display_name=display_name,
                    created_at=now,
                )
                ctx.users.insert(user)
                return user.to_org_user()
            if found.value.is_active:
                raise user_exists()
            reactivated = found.value.model_copy(
                update={"status": "active", "departed_at": None, "display_name": display_name}
            )
            ctx.users.replace(reactivated, found.etag)
            return reactivated.to_org_user()
        except ConcurrencyConflict:
            continue
    raise busy()


def list_users(
    ctx: LinkingContext, caller: Caller, linked: str | None, continuation: str | None
) -> OrgUserPage:
    require_admin(caller)
    linked_filter = parse_flag(linked, "linked")
    try:
        users, next_token = ctx.users.page(
            caller.tenant_id, linked=linked_filter, continuation=continuation
        )
    except InvalidContinuation as error:
        raise invalid_request(
            "continuation", "continuation is not a token from this list."
        ) from error
    return OrgUserPage(users=[u.to_org_user() for u in users], continuation=next_token)
