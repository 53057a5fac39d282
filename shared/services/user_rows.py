"""The partner users one attempt of a use case read, by key (the identity map of the
unit of work): a later write needs no second read, and repairs or a first sign-in are
staged on the row to ride on the next write instead of costing one of their own."""

from collections.abc import Callable

from shared.adapters.errors import ConcurrencyConflict
from shared.adapters.ports import PartnerUserStore, Versioned
from shared.domain.model import PartnerUser
from shared.services.messagebus import attempts

UserKey = tuple[str, str]


class UserRows:
    def __init__(self, store: PartnerUserStore) -> None:
        self._store = store
        self._users: dict[UserKey, Versioned[PartnerUser] | None] = {}
        self._staged: dict[UserKey, PartnerUser] = {}

    def get(self, tenant_id: str, email: str) -> Versioned[PartnerUser] | None:
        key = (tenant_id, email)
        if key not in self._users:
            self._users[key] = self._store.get(tenant_id, email)
        return self._users[key]

    def stage(self, user: PartnerUser) -> None:
        """What the next write of this user's row starts from (repairs and first
        sign-in folded into a claim, so they cost no request of their own)."""
        self._staged[(user.tenant_id, user.email)] = user

    def staged(self, user: PartnerUser) -> PartnerUser:
        return self._staged.get((user.tenant_id, user.email), user)

    def write(
        self, tenant_id: str, email: str, change: Callable[[PartnerUser], PartnerUser]
    ) -> Versioned[PartnerUser]:
        """One write under the ETag this unit of work read; raises ConcurrencyConflict
        when the row changed meanwhile (the use case starts over)."""
        key = (tenant_id, email)
        found = self.get(tenant_id, email)
        if found is None:
            raise ConcurrencyConflict(f"partner user {email} is gone")
        changed = change(self._staged.pop(key, found.value))
        written = Versioned(changed, self._store.replace(changed, found.etag))
        self._users[key] = written
        return written

    def write_if_unchanged(self, user: PartnerUser) -> bool:
        """One try under the ETag this unit of work read; False when the row changed
        meanwhile (the next reader repairs it)."""
        try:
            self.write(user.tenant_id, user.email, lambda _: user)
        except ConcurrencyConflict:
            return False
        return True

    def change(
        self, tenant_id: str, email: str, change: Callable[[PartnerUser], PartnerUser]
    ) -> Versioned[PartnerUser] | None:
        """Read-modify-write of a user's row under its ETag, reading again after a
        conflict; nothing is written when nothing changes. Best effort: after
        the message bus's attempts the row is left for a reader to repair."""
        key = (tenant_id, email)
        current = self.get(tenant_id, email)
        for _ in attempts():
            if current is None:
                return None
            changed = change(self._staged.pop(key, current.value))
            if changed == current.value:
                return current
            try:
                current = Versioned(changed, self._store.replace(changed, current.etag))
                self._users[key] = current
                return current
            except ConcurrencyConflict:
                self._users.pop(key, None)
                current = self.get(tenant_id, email)
        return current
