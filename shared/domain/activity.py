"""The organization's activity log: one entry per change to its people or its credit.
An entry's id and instant come from the change itself, so the same change retried
or redelivered gives the same entry (written again, never twice)."""

import hashlib
from datetime import date, datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

from shared.domain.model import (
    AssociationRecord,
    CreditedRecord,
    PartnerUser,
    refresh_instant,
    removal_date,
)
from shared.domain.types import EndReason, Instant, Program

ActivityType = Literal[
    "user.added",
    "user.reactivated",
    "user.departed",
    "association.started",
    "association.ended",
    "credential.credited",
    "credential.removal_scheduled",
    "credential.removed",
    "credential.expiring",
    "credential.expired",
]
ACTIVITY_TYPES: tuple[ActivityType, ...] = get_args(ActivityType)


class ActivityRecord(BaseModel):
    """Never the personal account (msa) and never an assertion: neither is stored."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: ActivityType
    at: Instant
    tenant_id: str
    email: str
    display_name: str
    program: Program | None = None
    learner_id: str | None = None
    credential_id: str | None = None
    reason: EndReason | None = None
    removal_on: date | None = None


def entry_id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def user_added(user: PartnerUser) -> ActivityRecord:
    return _user_entry("user.added", user, user.created_at)


def user_reactivated(user: PartnerUser, at: datetime) -> ActivityRecord:
    return _user_entry("user.reactivated", user, at)


def user_departed(user: PartnerUser) -> ActivityRecord:
    assert user.departed_at is not None
    return user_left(user.tenant_id, user.email, user.display_name, user.departed_at)


def user_left(tenant_id: str, email: str, display_name: str, at: datetime) -> ActivityRecord:
    """user.departed, the same entry whether the departure or the end it caused
    writes it (the end carries the departure's instant). Its `removal_on` is the one the
    DELETE answered: when the person's credentials leave the Skills Report."""
    return ActivityRecord(
        id=entry_id("user.departed", tenant_id, email, at.isoformat()),
        type="user.departed",
        at=at,
        tenant_id=tenant_id,
        email=email,
        display_name=display_name,
        removal_on=removal_date(at),
    )


def _user_entry(kind: ActivityType, user: PartnerUser, at: datetime) -> ActivityRecord:
    return ActivityRecord(
        id=entry_id(kind, user.tenant_id, user.email, at.isoformat()),
        type=kind,
        at=at,
        tenant_id=user.tenant_id,
        email=user.email,
        display_name=user.display_name,
    )


def association_started(record: AssociationRecord) -> ActivityRecord:
    return _association_entry("association.started", record, record.started_at)


def association_ended(record: AssociationRecord) -> ActivityRecord:
    assert record.ended_at is not None
    return _association_entry("association.ended", record, record.ended_at)


def _association_entry(
    kind: ActivityType, record: AssociationRecord, at: datetime
) -> ActivityRecord:
    return ActivityRecord(
        id=entry_id(kind, record.association_id),
        type=kind,
        at=at,
        tenant_id=record.tenant_id,
        email=record.user_email,
        display_name=record.display_name,
        program=record.program,
        learner_id=record.learner_id,
        reason=record.end_reason,
    )


def credential_removed(
    tenant_id: str,
    *,
    email: str,
    display_name: str,
    program: Program,
    learner_id: str,
    credential_id: str,
    removal_on: date,
) -> ActivityRecord:
    """credential.removed, written by the refresh from the report row it deleted, dated
    at the refresh of the row's removal date (the same entry however late or often it
    runs)."""
    return ActivityRecord(
        id=entry_id(
            "credential.removed", tenant_id, program, learner_id, credential_id, removal_on
        ),
        type="credential.removed",
        at=refresh_instant(removal_on),
        tenant_id=tenant_id,
        email=email,
        display_name=display_name,
        program=program,
        learner_id=learner_id,
        credential_id=credential_id,
        removal_on=removal_on,
    )


def credential_entry(
    kind: ActivityType,
    program: Program,
    learner_id: str,
    credited: CreditedRecord,
    *,
    at: datetime,
    removal_on: date | None = None,
    expires_at: datetime | None = None,
) -> ActivityRecord:
    """credential.credited (at the credit), credential.removal_scheduled (at the end,
    with removal_on), credential.removed (by the refresh), credential.expiring and
    credential.expired (once per expiry date)."""
    return ActivityRecord(
        id=entry_id(
            kind,
            credited.tenant_id,
            program,
            learner_id,
            credited.credential.id,
            credited.association_id,
            removal_on,
            expires_at.isoformat() if expires_at else None,
        ),
        type=kind,
        at=at,
        tenant_id=credited.tenant_id,
        email=credited.user_email,
        display_name=credited.display_name,
        program=program,
        learner_id=learner_id,
        credential_id=credited.credential.id,
        removal_on=removal_on,
    )
