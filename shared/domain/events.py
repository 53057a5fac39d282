"""What happened to a learner, recorded by the aggregate and handled by the unit of
work's handler tables (shared/services/handlers.py) around the commit."""

from dataclasses import dataclass
from datetime import datetime

from shared.domain.model import AssociationRecord, CredentialRecord, CreditedRecord


@dataclass(frozen=True)
class AssociationStarted:
    association: AssociationRecord
    had_credentials: bool
    """Earlier credentials become pending on the new association (rule 7)."""


@dataclass(frozen=True)
class AssociationEnded:
    association: AssociationRecord
    """As ended: ended_at and end_reason are set."""
    active_after: AssociationRecord | None
    """The learner's active association once this end committed (a move's new one)."""


@dataclass(frozen=True)
class CredentialRecorded:
    credential: CredentialRecord
    changed: bool
    active: AssociationRecord | None
    due_at: datetime | None
    """When the active association's credit for it is due; None without one."""


@dataclass(frozen=True)
class Credited:
    association: AssociationRecord
    new: tuple[CreditedRecord, ...]
    all_of_association: tuple[CreditedRecord, ...]


Event = AssociationStarted | AssociationEnded | CredentialRecorded | Credited
