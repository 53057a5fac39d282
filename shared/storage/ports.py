"""What the rules need of storage. The Azure modules implement these; unit tests
of the rules use in-memory fakes of the same shape."""

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from shared.domain import LearnerState, PartnerUser
from shared.models import Program

T = TypeVar("T")


@dataclass(frozen=True)
class Versioned(Generic[T]):
    value: T
    etag: str


class PartnerUserStore(Protocol):
    def get(self, tenant_id: str, email: str) -> Versioned[PartnerUser] | None: ...

    def insert(self, user: PartnerUser) -> str:
        """Raises ConcurrencyConflict when the user exists."""
        ...

    def replace(self, user: PartnerUser, etag: str) -> str:
        """Raises ConcurrencyConflict when the row changed since it was read."""
        ...

    def page(
        self, tenant_id: str, *, linked: bool | None, continuation: str | None
    ) -> tuple[list[PartnerUser], str | None]: ...


class LearnerStore(Protocol):
    def get(self, program: Program, learner_id: str) -> Versioned[LearnerState] | None: ...

    def save(self, state: LearnerState, etag: str | None) -> str:
        """Insert when etag is None, else replace if unchanged since read; raises
        ConcurrencyConflict otherwise."""
        ...
