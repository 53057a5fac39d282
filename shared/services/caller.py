"""Who a use case acts for: the signed-in work account, as the entrypoints read it
from App Service Authentication's principal (shared/entrypoints/principal.py)."""

from dataclasses import dataclass

from shared import errors
from shared.wire import ADMIN_ROLES, WhoAmI


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

    def whoami(self) -> WhoAmI:
        """GET /whoami: the principal alone, no storage request."""
        return WhoAmI(
            tenant_id=self.tenant_id,
            object_id=self.object_id,
            email=self.email,
            name=self.name,
            admin=self.is_admin,
        )

    def require_admin(self) -> None:
        """The /org/* calls: a Global admin or Account admin of the caller's tenant."""
        if not self.is_admin:
            raise errors.FORBIDDEN()
