"""The admin side of partner users: adding, reactivating and listing them."""

from shared import errors
from shared.adapters.errors import ConcurrencyConflict, InvalidContinuation
from shared.domain.model import PartnerUser
from shared.entrypoints.principal import Caller
from shared.entrypoints.requests import parse_body, parse_display_name, parse_email, parse_flag
from shared.errors import invalid_request
from shared.services.linking import (
    MAX_ATTEMPTS,
    LinkingContext,
    claim_is_dead,
    copy_to_user,
    drop_claim,
    end_association,
    finish_end,
)
from shared.services.removals import removal_date
from shared.wire import PROGRAMS, AddUserRequest, Departure, OrgUser, OrgUserPage


def require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise errors.FORBIDDEN()


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
                raise errors.USER_EXISTS()
            reactivated = found.value.reactivated(display_name)
            ctx.users.replace(reactivated, found.etag)
            return reactivated.to_org_user()
        except ConcurrencyConflict:
            continue
    raise errors.BUSY()


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


def depart_user(ctx: LinkingContext, caller: Caller, email_in_path: str | None) -> Departure:
    """The person left: they can no longer link or read their profile, their
    associations end (user_departed), and their credited rows get a removal date.
    Deleting again finishes anything a crash left undone and says so."""
    require_admin(caller)
    email = parse_email(email_in_path or "")
    for _ in range(MAX_ATTEMPTS):
        found = ctx.users.get(caller.tenant_id, email)
        if found is None:
            raise errors.USER_NOT_FOUND()
        user = found.value
        already = not user.is_active
        if not already:
            now = ctx.clock.now()
            user = user.model_copy(
                update={"status": "departed", "departed_at": now, "removal_on": removal_date(now)}
            )
            try:
                ctx.users.replace(user, found.etag)
            except ConcurrencyConflict:
                continue
        _end_departed_associations(ctx, user)
        assert user.removal_on is not None
        return Departure(email=user.email, removal_on=user.removal_on, already_departed=already)
    raise errors.BUSY()


def _end_departed_associations(ctx: LinkingContext, user: PartnerUser) -> None:
    assert user.departed_at is not None
    for program in PROGRAMS:
        current = user.active(program)
        if current is None:
            continue
        for _ in range(MAX_ATTEMPTS):
            learner_file = ctx.learners.read_file(program, current.learner_id)
            state = learner_file.state
            truth = state.value.find(current.association_id) if state else None
            if truth is None:
                # A link still committing (or lost in a crash): make sure it never does.
                if claim_is_dead(ctx, current):
                    drop_claim(ctx, current)
                    break
                continue
            if not truth.is_active:
                finish_end(ctx, learner_file, truth)
                break
            ended = end_association(ctx, learner_file, truth, "user_departed", user.departed_at)
            if ended is not None:
                copy_to_user(ctx, ended)
                break
        else:
            raise errors.BUSY()
