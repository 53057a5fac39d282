"""What the rules need of storage. The Azure modules implement these; unit tests
of the rules use in-memory fakes of the same shape."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Generic, Literal, Protocol, TypeVar

from shared.domain.activity import ActivityRecord
from shared.domain.learner import Learner
from shared.domain.model import CreditedRecord, PartnerUser
from shared.domain.webhooks import WebhookRecord
from shared.wire import Program, ReportRow

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
    def load(
        self,
        program: Program,
        learner_id: str,
        *,
        only_credential: str | None = None,
        state_only: bool = False,
    ) -> Learner:
        """Never None: a learner nobody has seen loads empty, with no version."""
        ...

    def commit(self, learner: Learner) -> None:
        """Writes the learner's changes under its version; raises ConcurrencyConflict
        when it changed since it was loaded."""
        ...

    def put_credited(self, learner: Learner, records: Sequence[CreditedRecord]) -> None:
        """Rows (their removal dates, expiries) in one transaction with a re-write of
        the state row as the learner holds it; raises ConcurrencyConflict when the
        learner changed since."""
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

    def send_delivery(self, delivery: "Delivery", delay: timedelta = ...) -> None: ...


@dataclass(frozen=True)
class Delivery:
    """One activity entry (or a ping) to POST to one webhook endpoint."""

    tenant_id: str
    webhook_id: str
    entry: dict[str, object]
    attempt: int = 0


class WebhookStore(Protocol):
    def list(self, tenant_id: str, *, cached: bool = False) -> list[WebhookRecord]: ...

    def get(self, tenant_id: str, webhook_id: str) -> WebhookRecord | None: ...

    def get_versioned(self, tenant_id: str, webhook_id: str) -> Versioned[WebhookRecord] | None: ...

    def put(self, webhook: WebhookRecord) -> None: ...

    def replace_if(self, webhook: WebhookRecord, version: str) -> bool:
        """False when the endpoint changed since `version` was read."""
        ...

    def add(self, webhook: WebhookRecord, limit: int) -> bool:
        """False when the organization has `limit` endpoints already; raises
        ConcurrencyConflict when a concurrent add or delete won (exact under retries)."""
        ...

    def delete(self, tenant_id: str, webhook_id: str) -> bool:
        """False when there was no such endpoint; ConcurrencyConflict as for add."""
        ...


class ReportStore(Protocol):
    def put_rows(self, tenant_id: str, rows: Sequence[ReportRow]) -> None: ...

    def page(
        self, tenant_id: str, continuation: str | None, page_size: int = ...
    ) -> tuple[list[ReportRow], str | None]: ...

    def due_for_removal(self, tenant_id: str, today: date) -> list[Versioned[ReportRow]]:
        """The organization's rows whose removal date is on or before today."""
        ...

    def delete_unchanged(self, tenant_id: str, rows: Sequence[Versioned[ReportRow]]) -> None:
        """In transactions of up to 100; ConcurrencyConflict when a row changed or
        went since it was read (the transactions before it stay done)."""
        ...


@dataclass(frozen=True)
class Removal:
    """Look at one organization's credited rows of one learner on `on`."""

    on: date
    tenant_id: str
    program: Program
    learner_id: str


@dataclass(frozen=True)
class Intent:
    """Written before a change that spans partitions: what the reconciler finishes
    when a crash left it, and removes (in batches) once it is done. `association`: a
    start or an end of one association (with its learner), whose work is done when
    its `marker` activity entry exists (the last write of the change); `departure`: a
    partner user who left."""

    kind: Literal["association", "departure"]
    tenant_id: str
    email: str
    written_at: datetime
    program: Program | None = None
    learner_id: str | None = None
    association_id: str | None = None
    marker_id: str | None = None
    """The activity entry written last by the change (its id and instant)."""
    marker_at: datetime | None = None

    @property
    def slot(self) -> str:
        return hour_slot(self.written_at)


class IntentStore(Protocol):
    def write(self, intent: Intent) -> None: ...

    def older_than(self, cutoff: datetime, limit: int) -> list[Intent]:
        """Intents written before cutoff, oldest hour first."""
        ...

    def remove(self, intent: Intent) -> None: ...

    def remove_many(self, intents: Sequence[Intent]) -> None:
        """Up to 100 per transaction (one partition: the hour written)."""
        ...


class RemovalStore(Protocol):
    def schedule(self, removal: Removal) -> None: ...

    def due(self, today: date, limit: int) -> list[Removal]: ...

    def remove_many(self, removals: Sequence[Removal]) -> None:
        """Idempotent, in transactions of up to 100 per removal date."""
        ...


class ActivityStore(Protocol):
    def put(self, entries: Sequence[ActivityRecord]) -> None:
        """Idempotent: the same entry written twice is one entry."""
        ...

    def page(
        self,
        tenant_id: str,
        *,
        since: datetime,
        until: datetime,
        types: Sequence[str] = (),
        email: str | None = None,
        continuation: str | None = None,
        page_size: int = ...,
    ) -> tuple[list[ActivityRecord], str | None]:
        """Newest first; raises InvalidContinuation for a token it did not hand out."""
        ...

    def remove_before(self, tenant_id: str, cutoff: datetime) -> int:
        """The organization's entries of the months before the cutoff's month; how many."""
        ...

    def exists(self, tenant_id: str, at: datetime, entry_id: str) -> bool:
        """One point read."""
        ...


WarningKind = Literal["expiring", "expired"]


@dataclass(frozen=True)
class ExpiryWarning:
    """Tell the organization on `on` that a credential credited to it is about to
    expire, or has expired; checked against the learner's rows when it is due."""

    on: date
    kind: WarningKind
    tenant_id: str
    program: Program
    learner_id: str
    credential_id: str
    expires_at: datetime


class ExpiryWarningStore(Protocol):
    def schedule(self, warning: ExpiryWarning) -> None: ...

    def due(self, today: date, limit: int) -> list[ExpiryWarning]: ...

    def remove(self, warning: ExpiryWarning) -> None: ...


class OrganizationStore(Protocol):
    def add(self, tenant_id: str) -> None:
        """Idempotent: an organization that added a user is listed once."""
        ...

    def in_shard(self, shard: int) -> list[str]:
        """The tenant ids of one of the registry's shards."""
        ...


class OrgSettingsStore(Protocol):
    def tracks(self, tenant_id: str) -> dict[str, str]:
        """Designation id -> the track the organization chose (one query)."""
        ...

    def set_track(self, tenant_id: str, designation_id: str, track: str | None) -> None:
        """Choose a track; None goes back to the catalog's default."""
        ...


@dataclass(frozen=True)
class Stores:
    """Every store a use case may reach, built once by shared/bootstrap.py (in-memory
    fakes of the same shape in the unit tests)."""

    users: PartnerUserStore
    learners: LearnerStore
    wakes: WakeStore
    report: ReportStore
    removals: RemovalStore
    queue: CreditQueue
    activity: ActivityStore
    webhooks: WebhookStore
    expiry_warnings: ExpiryWarningStore
    intents: IntentStore
    org_settings: OrgSettingsStore
    organizations: OrganizationStore
