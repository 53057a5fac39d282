"""What the service stores about people and learners, independent of storage."""

import hashlib
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict

from shared.domain.types import (
    PROGRAMS,
    CredentialKind,
    CredentialStatus,
    EndReason,
    Instant,
    Program,
    UserStatus,
)

CLAIM_LEASE = timedelta(seconds=60)
"""How long a partner user's claim on a learner may wait for the learner's side to
commit before a reader may treat it as left behind by a crashed request."""


class AssociationRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    association_id: str
    program: Program
    learner_id: str
    tenant_id: str
    user_email: str
    display_name: str = ""
    started_at: Instant
    ended_at: Instant | None = None
    end_reason: EndReason | None = None
    jti: str
    nonce: str | None = None
    """The digest of the nonce this association's assertion carried: spent by it."""

    @property
    def is_active(self) -> bool:
        return self.ended_at is None

    def ended(self, at: datetime, reason: EndReason) -> "AssociationRecord":
        return self.model_copy(update={"ended_at": at, "end_reason": reason})

    def belongs_to(self, tenant_id: str, email: str) -> bool:
        return self.tenant_id == tenant_id and self.user_email == email


def _replace(
    records: list[AssociationRecord], record: AssociationRecord
) -> list[AssociationRecord]:
    kept = [r for r in records if r.association_id != record.association_id]
    return sorted([*kept, record], key=lambda r: r.started_at)


class LearnerState(BaseModel):
    """The truth about one learner's associations: its row changes under an ETag,
    so two requests can never both start an association for the learner."""

    model_config = ConfigDict(frozen=True)

    program: Program
    learner_id: str
    associations: list[AssociationRecord] = []

    @property
    def active(self) -> AssociationRecord | None:
        return next((a for a in self.associations if a.is_active), None)

    @property
    def start_times(self) -> list[datetime]:
        return [a.started_at for a in self.associations]

    def find(self, association_id: str) -> AssociationRecord | None:
        return next((a for a in self.associations if a.association_id == association_id), None)

    def find_by_jti(self, jti: str) -> AssociationRecord | None:
        return next((a for a in self.associations if a.jti == jti), None)

    def with_record(self, record: AssociationRecord) -> "LearnerState":
        return self.model_copy(update={"associations": _replace(self.associations, record)})


NONCE_LIFETIME = timedelta(minutes=10)
MAX_NONCES_PER_PROGRAM = 5


def nonce_digest(nonce: str) -> str:
    """Only a digest is stored: the row never holds a usable nonce."""
    return hashlib.sha256(nonce.encode()).hexdigest()


class IssuedNonce(BaseModel):
    model_config = ConfigDict(frozen=True)

    program: Program
    digest: str
    expires_at: Instant


class PartnerUser(BaseModel):
    """A work account in an organization, with its own copy of every association it
    had: the copy is written first (a claim), the learner's state commits after."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    email: str
    display_name: str
    status: UserStatus = "active"
    created_at: Instant
    first_seen_at: Instant | None = None
    departed_at: Instant | None = None
    removal_on: date | None = None
    associations: list[AssociationRecord] = []
    object_id: str | None = None
    """The work account that holds this address: bound at its first sign-in."""
    previous_object_id: str | None = None
    """Who held the address before a departure; the next sign-in tells whether the
    reactivated record is the same person again or someone new."""
    earlier_holders_associations: list[AssociationRecord] = []
    reactivated_at: Instant | None = None
    """History of people who held this address before, kept for the organization's
    records and never shown on the current person's profile."""
    nonces: list[IssuedNonce] = []
    """Nonces issued to this user for a program sign-in, unexpired ones only kept."""

    def with_nonce(self, program: Program, nonce: str, now: datetime) -> "PartnerUser":
        """Issue a nonce: expired ones go, and a sixth for a program drops the oldest."""
        kept = [n for n in self.nonces if n.expires_at > now]
        same = [n for n in kept if n.program == program]
        dropped = {id(n) for n in same[: max(0, len(same) - MAX_NONCES_PER_PROGRAM + 1)]}
        issued = IssuedNonce(
            program=program, digest=nonce_digest(nonce), expires_at=now + NONCE_LIFETIME
        )
        return self.model_copy(
            update={"nonces": [n for n in kept if id(n) not in dropped] + [issued]}
        )

    def may_spend_nonce(self, program: Program, nonce: str | None, now: datetime) -> bool:
        """Issued to this user for this program, unexpired, and not spent by an
        association it started (a nonce is spent the way a `jti` is)."""
        if nonce is None:
            return False
        digest = nonce_digest(nonce)
        issued = any(
            n.program == program and n.digest == digest and n.expires_at > now for n in self.nonces
        )
        return issued and all(a.nonce != digest for a in self.associations)

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def active(self, program: Program) -> AssociationRecord | None:
        return next((a for a in self.associations if a.program == program and a.is_active), None)

    def find_association(self, association_id: str) -> AssociationRecord | None:
        return next((a for a in self.associations if a.association_id == association_id), None)

    def latest(self, program: Program) -> AssociationRecord | None:
        in_program = [a for a in self.associations if a.program == program]
        return max(in_program, key=lambda a: a.started_at) if in_program else None

    def linked_in(self, program: Program) -> bool:
        return self.active(program) is not None

    @property
    def linked_anywhere(self) -> bool:
        return any(self.linked_in(p) for p in PROGRAMS)

    @property
    def ever_linked(self) -> bool:
        return bool(self.associations)

    def with_record(self, record: AssociationRecord) -> "PartnerUser":
        return self.model_copy(update={"associations": _replace(self.associations, record)})

    def without(self, association_id: str) -> "PartnerUser":
        kept = [a for a in self.associations if a.association_id != association_id]
        return self.model_copy(update={"associations": kept})

    def bound_to_another(self, object_id: str) -> bool:
        """Emails are reassigned inside a tenant, object ids never: while the user is
        active, only the work account it is bound to is this user."""
        return self.object_id is not None and self.object_id != object_id

    def needs_binding_check(self, object_id: str) -> bool:
        """A reactivated record whose next sign-in may be a different person."""
        return self.object_id is None and self.previous_object_id not in (None, object_id)

    def signed_in(self, now: datetime, object_id: str) -> "PartnerUser":
        """first_seen_at and the binding to the work account, written once. A
        different work account after a departure is a new person with this reused
        address: their history starts empty."""
        update: dict[str, object] = {}
        if self.first_seen_at is None:
            update["first_seen_at"] = now
        if self.object_id is None:
            update["object_id"] = object_id
            update["previous_object_id"] = None
            if self.previous_object_id not in (None, object_id):
                update["first_seen_at"] = now
                update["associations"] = []
                update["earlier_holders_associations"] = [
                    *self.earlier_holders_associations,
                    *self.associations,
                ]
        return self.model_copy(update=update) if update else self

    def departed(self, now: datetime) -> "PartnerUser":
        return self.model_copy(
            update={"status": "departed", "departed_at": now, "removal_on": removal_date(now)}
        )

    def reactivated(self, display_name: str, now: datetime) -> "PartnerUser":
        return self.model_copy(
            update={
                "status": "active",
                "departed_at": None,
                "removal_on": None,
                "reactivated_at": now,
                "display_name": display_name,
                "object_id": None,
                "previous_object_id": self.object_id or self.previous_object_id,
            }
        )


class CredentialRecord(BaseModel):
    """A learner's completed credential; reported twice, it keeps the earliest completion."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: CredentialKind
    title: str
    completed_at: Instant
    expires_at: Instant | None = None
    """None: it never expires (trainings, assessments, fundamentals)."""

    def merged(self, reported: "CredentialRecord") -> "CredentialRecord":
        """The earliest completion, and the latest expiry any report gave: reports and
        renewals may come in any order and any number of times."""
        earliest = min(self, reported, key=lambda c: c.completed_at)
        kept = self if earliest.completed_at == self.completed_at else reported
        expiries = [c.expires_at for c in (self, reported) if c.expires_at is not None]
        latest = max(expiries) if expiries else None
        return kept if kept.expires_at == latest else kept.model_copy(update={"expires_at": latest})

    def status(self, now: datetime, warning: timedelta) -> CredentialStatus:
        return expiry_status(self.expires_at, now, warning)


class CreditedRecord(BaseModel):
    """One credential counted for one organization (the Skills Report row's twin in
    the learner's partition)."""

    model_config = ConfigDict(frozen=True)

    association_id: str
    tenant_id: str
    user_email: str
    display_name: str
    credential: CredentialRecord
    credited_at: Instant
    removal_on: date | None = None


def credit_due_at(
    credential: CredentialRecord, association: AssociationRecord, delay: timedelta
) -> datetime:
    """Rule 7: due a delay after the later of the completion and the association's start."""
    return max(credential.completed_at, association.started_at) + delay


def removal_date(ended_at: datetime) -> date:
    """Rule 8: the data refresh after an end, the 10th of the following month (UTC)."""
    year, month = ended_at.year, ended_at.month
    return date(year + 1, 1, 10) if month == 12 else date(year, month + 1, 10)


REFRESH_TIME = time(2, 0, tzinfo=UTC)


def refresh_instant(on: date) -> datetime:
    """The data refresh of a removal date: 02:00 UTC that day, when the timer runs.
    A removal's entry is dated then, so a run that catches up later, or runs twice,
    writes the same entry."""
    return datetime.combine(on, REFRESH_TIME)


def expiry_status(
    expires_at: datetime | None, now: datetime, warning: timedelta
) -> CredentialStatus:
    """A credential's status when read: expired from its expiry on, expiring within
    the warning before it, otherwise (or without an expiry) active."""
    if expires_at is None:
        return "active"
    if expires_at <= now:
        return "expired"
    return "expiring" if expires_at - now <= warning else "active"


def counts_on(expires_at: datetime | None, day: date) -> bool:
    """Counts for designations on that day: it expires on a later day, or never."""
    return expires_at is None or expires_at.date() > day
