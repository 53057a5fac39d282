"""Who a use case acts for: the signed-in work account, as the entrypoints read it
from App Service Authentication's principal (shared/entrypoints/principal.py)."""

from dataclasses import dataclass

from shared import errors
from shared.wire import ADMIN_ROLES


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    object_id: str
    email: str
    roles: frozenset[str]
    name: str = ""
    """The display name the identity provider gives, for the portal's greeting."""

    @property
    def is_admin(self) -> bool:
        return not self.roles.isdisjoint(ADMIN_ROLES)

    def require_admin(self) -> None:
        """The /org/* calls: a Global admin or Account admin of the caller's tenant."""
        if not self.is_admin:
            raise errors.FORBIDDEN()
