"""The learner aggregate: one learner's partition (its `state` row, its credentials
and what was credited to organizations) loaded as one object. It answers the rules'
questions and records what happened as events when it changes; the unit of work
writes it under its version and runs the events' handlers."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.domain.events import (
    AssociationEnded,
    AssociationStarted,
    CredentialRecorded,
    Credited,
    Event,
)
from shared.domain.model import (
    AssociationRecord,
    CredentialRecord,
    CreditedRecord,
    LearnerState,
    credit_due_at,
    refresh_instant,
)
from shared.domain.types import EndReason, Program


@dataclass
class Learner:
    program: Program
    learner_id: str
    state: LearnerState
    version: str | None = None
    """The state row's ETag as loaded; None when the learner has no state row yet."""
    credentials: dict[str, CredentialRecord] = field(default_factory=dict)
    credential_versions: dict[str, str] = field(default_factory=dict)
    credited: list[CreditedRecord] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    state_changed: bool = False
    changed_credentials: list[str] = field(default_factory=list)
    new_credited: list[CreditedRecord] = field(default_factory=list)
    removed_credited: list[CreditedRecord] = field(default_factory=list)
    """Rows the refresh took (see forget_removed): still stored, deleted by the
    learner's next commit."""

    @classmethod
    def new(cls, program: Program, learner_id: str) -> "Learner":
        return cls(program, learner_id, LearnerState(program=program, learner_id=learner_id))

    @property
    def exists(self) -> bool:
        return self.version is not None

    @property
    def active(self) -> AssociationRecord | None:
        return self.state.active

    @property
    def start_times(self) -> list[datetime]:
        return self.state.start_times

    def association(self, association_id: str) -> AssociationRecord | None:
        return self.state.find(association_id)

    def used_jti(self, jti: str) -> AssociationRecord | None:
        return self.state.find_by_jti(jti)

    def with_organization_at(self, tenant_id: str, at: datetime) -> bool:
        return any(
            a.tenant_id == tenant_id
            and a.started_at <= at
            and (a.ended_at is None or a.ended_at > at)
            for a in self.state.associations
        )

    def forget_removed(self, now: datetime) -> None:
        """Rule 9 as the learner sees it: a credited row is gone once the refresh of
        its removal date has come, unless the learner was with the organization
        again by then. The refresh deletes the organization's report rows only (a
        handful of transactions per organization, not one per learner); the rows
        here are no longer counted (a return after the refresh earns credit again)
        and the learner's next commit deletes them."""
        gone = [
            c
            for c in self.credited
            if c.removal_on is not None
            and refresh_instant(c.removal_on) <= now
            and not self.with_organization_at(c.tenant_id, refresh_instant(c.removal_on))
        ]
        if gone:
            self.credited = [c for c in self.credited if c not in gone]
            self.removed_credited = gone

    def credited_for(self, tenant_id: str) -> list[CreditedRecord]:
        return [c for c in self.credited if c.tenant_id == tenant_id]

    def pending(
        self, association: AssociationRecord, delay: timedelta
    ) -> list[tuple[CredentialRecord, datetime]]:
        """Rule 7: every credential not yet credited to the association's organization,
        with its due time, earliest first."""
        already = {c.credential.id for c in self.credited_for(association.tenant_id)}
        return sorted(
            (
                (credential, credit_due_at(credential, association, delay))
                for credential in self.credentials.values()
                if credential.id not in already
            ),
            key=lambda pair: (pair[1], pair[0].id),
        )

    @property
    def has_changes(self) -> bool:
        return self.state_changed or bool(self.changed_credentials or self.new_credited)

    def start(self, record: AssociationRecord) -> None:
        """Rule 5: a start ends the learner's active association (a move)."""
        previous = self.active
        moved_away = previous.ended(record.started_at, "moved") if previous else None
        if moved_away is not None:
            self.state = self.state.with_record(moved_away)
        self.state = self.state.with_record(record)
        self.state_changed = True
        self.events.append(AssociationStarted(record, had_credentials=bool(self.credentials)))
        if moved_away is not None:
            self.events.append(AssociationEnded(moved_away, active_after=record))

    def end(self, association: AssociationRecord, reason: EndReason, now: datetime) -> None:
        ended = association.ended(now, reason)
        self.state = self.state.with_record(ended)
        self.state_changed = True
        self.events.append(AssociationEnded(ended, active_after=self.active))

    def fence(self) -> None:
        """Re-write the state row as it is, so a request that read it earlier can no
        longer commit (fencing a claim left behind by a crashed link)."""
        self.state_changed = True

    def started_events(self, record: AssociationRecord) -> list[Event]:
        """The events of a start that committed earlier, to finish what follows it."""
        events: list[Event] = [AssociationStarted(record, had_credentials=False)]
        moved_away = next(
            (
                a
                for a in self.state.associations
                if a.end_reason == "moved" and a.ended_at == record.started_at
            ),
            None,
        )
        if moved_away is not None:
            events.append(AssociationEnded(moved_away, active_after=record))
        return events

    def ended_events(self, ended: AssociationRecord) -> list[Event]:
        """The events of an end that committed earlier, to finish what follows it."""
        return [AssociationEnded(ended, active_after=self.active)]

    def record_credential(self, reported: CredentialRecord, delay: timedelta) -> None:
        """The same credential reported twice counts once, with its earliest completion."""
        existing = self.credentials.get(reported.id)
        credential = existing.merged(reported) if existing else reported
        changed = credential != existing
        if changed:
            self.credentials[credential.id] = credential
            self.changed_credentials.append(credential.id)
        active = self.active
        due_at = credit_due_at(credential, active, delay) if active else None
        self.events.append(CredentialRecorded(credential, changed, active, due_at))

    def credit(self, association_id: str, now: datetime, delay: timedelta) -> None:
        """Rule 7: credit what is due, only while that same association is active."""
        association = self.association(association_id)
        if association is None or not association.is_active:
            return
        due = [c for c, due_at in self.pending(association, delay) if due_at <= now]
        new = [
            CreditedRecord(
                association_id=association.association_id,
                tenant_id=association.tenant_id,
                user_email=association.user_email,
                display_name=association.display_name,
                credential=credential,
                credited_at=now,
            )
            for credential in due
        ]
        self.credited.extend(new)
        self.new_credited.extend(new)
        ours = tuple(c for c in self.credited if c.association_id == association_id)
        self.events.append(Credited(association, tuple(new), ours))

    def take_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    def committed(self, version: str, credential_versions: dict[str, str]) -> None:
        self.version = version
        self.credential_versions.update(credential_versions)
        self.state_changed = False
        self.changed_credentials = []
        self.new_credited = []
        self.removed_credited = []
