"""The admin side of partner users: adding, reactivating and listing them."""

from shared import errors
from shared.adapters.errors import InvalidContinuation
from shared.domain import activity
from shared.domain.model import PartnerUser
from shared.errors import invalid_request
from shared.services.caller import Caller
from shared.services.commands import AddUser, ListUsers
from shared.services.dependencies import Dependencies
from shared.services.unit_of_work import UnitOfWork
from shared.services.webhooks import record_activity
from shared.wire import OrgUser, OrgUserPage, org_user_of


def add_user(deps: Dependencies, caller: Caller, command: AddUser) -> OrgUser:
    """A new work account, or a departed one made active again."""
    caller.require_admin()
    email, display_name = command.email, command.display_name

    def attempt(uow: UnitOfWork, _: int) -> OrgUser:
        now = uow.clock.now()
        # Listed before anything of it exists, so the activity retention visits every
        # organization that can have entries (a repeated add is the same row).
        uow.stores.organizations.add(caller.tenant_id)
        found = uow.users.get(caller.tenant_id, email)
        if found is None:
            user = PartnerUser(
                tenant_id=caller.tenant_id, email=email, display_name=display_name, created_at=now
            )
            uow.stores.users.insert(user)
            record_activity(uow.stores, [activity.user_added(user)])
            return org_user_of(user)
        if found.value.is_active:
            # A retry whose first try added the user: its entry may be missing.
            uow.stores.activity.put([_latest_entry(found.value)])
            raise errors.USER_EXISTS()
        written = uow.users.write(
            caller.tenant_id, email, lambda u: u.reactivated(display_name, now)
        )
        record_activity(uow.stores, [activity.user_reactivated(written.value, now)])
        return org_user_of(written.value)

    return deps.run(attempt)


def _latest_entry(user: PartnerUser) -> activity.ActivityRecord:
    if user.reactivated_at is not None:
        return activity.user_reactivated(user, user.reactivated_at)
    return activity.user_added(user)


def list_users(deps: Dependencies, caller: Caller, command: ListUsers) -> OrgUserPage:
    caller.require_admin()
    try:
        users, next_token = deps.stores.users.page(
            caller.tenant_id, linked=command.linked, continuation=command.continuation
        )
    except InvalidContinuation as error:
        raise invalid_request(
            "continuation", "continuation is not a token from this list."
        ) from error
    return OrgUserPage(users=[org_user_of(u) for u in users], continuation=next_token)
