"""What the rules need of storage. The Azure modules implement these; unit tests
of the rules use in-memory fakes of the same shape."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Generic, Protocol, TypeVar

from shared.domain.model import CredentialRecord, CreditedRecord, LearnerState, PartnerUser
from shared.wire import Program, ReportRow

T = TypeVar("T")


@dataclass(frozen=True)
class Versioned(Generic[T]):
    value: T
    etag: str


@dataclass
class LearnerFile:
    """Everything stored about one learner, read in one query."""

    state: Versioned[LearnerState] | None = None
    credentials: dict[str, Versioned[CredentialRecord]] = field(default_factory=dict)
    credited: list[CreditedRecord] = field(default_factory=list)


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

    def read_file(
        self, program: Program, learner_id: str, *, only_credential: str | None = None
    ) -> LearnerFile: ...

    def save_credential(
        self,
        program: Program,
        learner_id: str,
        credential: CredentialRecord,
        etag: str | None,
        *,
        while_unchanged: Versioned[LearnerState] | None,
    ) -> str:
        """Insert (etag None) or replace a credential together with a re-write of the
        state row as read (or the creation of an empty one when it was absent);
        raises ConcurrencyConflict when either changed."""
        ...

    def put_credited(
        self,
        program: Program,
        learner_id: str,
        records: Sequence[CreditedRecord],
        *,
        while_unchanged: Versioned[LearnerState] | None = None,
    ) -> None:
        """Raises ConcurrencyConflict when while_unchanged's row changed."""
        ...

    def delete_credited(
        self,
        program: Program,
        learner_id: str,
        records: Sequence[CreditedRecord],
        *,
        while_unchanged: Versioned[LearnerState] | None = None,
    ) -> None:
        """Without while_unchanged, idempotent: rows already gone are fine. With it,
        raises ConcurrencyConflict when the state row or any of the rows changed."""
        ...


def hour_slot(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%d%H")


@dataclass(frozen=True)
class Wake:
    """A reminder to look at one association's credits at or after `due_at`."""

    program: Program
    learner_id: str
    association_id: str
    due_at: datetime

    @property
    def slot(self) -> str:
        """The hour a wake-up is filed under, so the scheduler reads only hours that
        have come."""
        return hour_slot(self.due_at)


class WakeStore(Protocol):
    def schedule(self, wake: Wake) -> None: ...

    def due(self, now: datetime, limit: int) -> list[Wake]: ...

    def remove(self, wake: Wake) -> None: ...


class CreditQueue(Protocol):
    def send_wake(self, wake: Wake) -> None: ...


class ReportStore(Protocol):
    def put_rows(self, tenant_id: str, rows: Sequence[ReportRow]) -> None: ...

    def delete_rows(self, tenant_id: str, rows: Sequence[ReportRow]) -> None:
        """Idempotent: rows already gone are fine."""
        ...

    def page(
        self, tenant_id: str, continuation: str | None, page_size: int = ...
    ) -> tuple[list[ReportRow], str | None]: ...


@dataclass(frozen=True)
class Removal:
    """Look at one organization's credited rows of one learner on `on`."""

    on: date
    tenant_id: str
    program: Program
    learner_id: str


class RemovalStore(Protocol):
    def schedule(self, removal: Removal) -> None: ...

    def due(self, today: date, limit: int) -> list[Removal]: ...

    def remove(self, removal: Removal) -> None: ...
