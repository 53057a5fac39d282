"""Rule 7 and the learning-events queue contract: credentials come in, and after
the delay the association active at the time earns its organization credit.

Pending credit is derived, not stored: for a learner's active association, every
credential not yet credited to that organization is pending, due CREDIT_DELAY
after the later of its completion and the association's start. A wake-up (a
`creditwakes` row, then a `credits-due` message) makes the apply step look; the
learner's own rows decide what is due, so an early, late or repeated wake-up is
harmless, and an association that ended has nothing pending any more."""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from shared.adapters.errors import ConcurrencyConflict
from shared.adapters.ports import (
    CreditQueue,
    LearnerFile,
    LearnerStore,
    ReportStore,
    Wake,
    WakeStore,
)
from shared.clock import Clock
from shared.domain.model import AssociationRecord, CredentialRecord, CreditedRecord, credit_due_at
from shared.wire import LearningEvent, Program, ReportRow, program_named

logger = logging.getLogger("skills_link.credits")

MAX_ATTEMPTS = 8
WAKES_PER_RUN = 5_000
REPAIRS_PER_RUN = 500
SCHEDULER_PERIOD = timedelta(minutes=5)
OVERDUE_AFTER = SCHEDULER_PERIOD + timedelta(minutes=10)
"""A credit still pending this long after it fell due missed its normal path (its
wake-up message lost or failing): the scheduler and the profile apply it directly."""


class PoisonMessage(Exception):
    """A message that can never be processed, however often it is retried."""

    def __init__(self, event_id: str | None, reason: str) -> None:
        super().__init__(reason)
        self.event_id = event_id
        self.reason = reason


@dataclass(frozen=True)
class CreditContext:
    learners: LearnerStore
    report: ReportStore
    wakes: WakeStore
    queue: CreditQueue
    clock: Clock
    delay: timedelta


def parse_event(text: str) -> LearningEvent:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise PoisonMessage(None, "the message is not JSON") from error
    if not isinstance(data, dict):
        raise PoisonMessage(None, "the message is not a JSON object")
    event_id = data.get("event_id") if isinstance(data.get("event_id"), str) else None
    try:
        return LearningEvent.model_validate(data, strict=False)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "message"
        raise PoisonMessage(event_id, f"{where}: {first['msg']}") from error


def parse_wake(text: str) -> Wake:
    try:
        data = json.loads(text)
        return Wake(
            program=program_named(data["program"]),
            learner_id=str(data["learner_id"]),
            association_id=str(data["association_id"]),
            due_at=datetime.fromisoformat(data["due_at"]),
        )
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise PoisonMessage(None, f"not a credit wake-up: {error}") from error


def ingest(ctx: CreditContext, event: LearningEvent) -> None:
    """Store the credential (earliest completion kept) and, if the learner is
    associated now, make sure the apply step wakes when it is due."""
    reported = CredentialRecord(
        id=event.credential.id,
        kind=event.credential.kind,
        title=event.credential.title,
        completed_at=event.completed_at,
    )
    for _ in range(MAX_ATTEMPTS):
        found = ctx.learners.read_file(event.program, event.learner_id, only_credential=reported.id)
        existing = found.credentials.get(reported.id)
        credential = existing.value.merged(reported) if existing else reported
        active = found.state.value.active if found.state else None
        wake = None
        if active is not None:
            wake = Wake(
                event.program,
                event.learner_id,
                active.association_id,
                credit_due_at(credential, active, ctx.delay),
            )
            ctx.wakes.schedule(wake)
        if existing is None or existing.value != credential:
            # Guarded by the state row as read: a link that commits meanwhile makes
            # this write conflict, and the next attempt sees its association.
            try:
                ctx.learners.save_credential(
                    event.program,
                    event.learner_id,
                    credential,
                    existing.etag if existing else None,
                    while_unchanged=found.state,
                )
            except ConcurrencyConflict:
                continue
        if wake is not None and wake.due_at <= ctx.clock.now():
            apply(ctx, wake)
        return
    raise ConcurrencyConflict(
        f"credential {reported.id} kept changing under event {event.event_id}"
    )


def _credited_record(
    association: AssociationRecord, credential: CredentialRecord, now: datetime
) -> CreditedRecord:
    return CreditedRecord(
        association_id=association.association_id,
        tenant_id=association.tenant_id,
        user_email=association.user_email,
        display_name=association.display_name,
        credential=credential,
        credited_at=now,
    )


def report_row(program: Program, learner_id: str, credited: CreditedRecord) -> ReportRow:
    return ReportRow(
        email=credited.user_email,
        display_name=credited.display_name,
        program=program,
        learner_id=learner_id,
        credential_id=credited.credential.id,
        kind=credited.credential.kind,
        title=credited.credential.title,
        completed_at=credited.credential.completed_at,
        credited_at=credited.credited_at,
        removal_on=credited.removal_on,
    )


def pending_for(
    found: LearnerFile, association: AssociationRecord, delay: timedelta
) -> list[tuple[CredentialRecord, datetime]]:
    already = {c.credential.id for c in found.credited if c.tenant_id == association.tenant_id}
    return sorted(
        (
            (versioned.value, credit_due_at(versioned.value, association, delay))
            for versioned in found.credentials.values()
            if versioned.value.id not in already
        ),
        key=lambda pair: (pair[1], pair[0].id),
    )


def apply(ctx: CreditContext, wake: Wake) -> int:
    """Credit what is due for the wake's association if it still stands; returns how
    many credentials were credited. Safe to run any number of times."""
    for _ in range(MAX_ATTEMPTS):
        now = ctx.clock.now()
        found = ctx.learners.read_file(wake.program, wake.learner_id)
        state = found.state
        association = state.value.find(wake.association_id) if state else None
        if state is None or association is None or not association.is_active:
            ctx.wakes.remove(wake)
            return 0
        pending = pending_for(found, association, ctx.delay)
        due = [credential for credential, due_at in pending if due_at <= now]
        credited = [_credited_record(association, credential, now) for credential in due]
        try:
            ctx.learners.put_credited(
                wake.program, wake.learner_id, credited, while_unchanged=state
            )
        except ConcurrencyConflict:
            continue
        ours = [
            c
            for c in [*found.credited, *credited]
            if c.association_id == association.association_id
        ]
        if ours:
            ctx.report.put_rows(
                association.tenant_id, [report_row(wake.program, wake.learner_id, c) for c in ours]
            )
        later = [due_at for _, due_at in pending if due_at > now]
        if later:
            ctx.wakes.schedule(Wake(wake.program, wake.learner_id, wake.association_id, min(later)))
        if wake.due_at <= now:
            # Its own row only (the key holds the due instant), and only once the next
            # one is written; a wake-up not yet due stays for its time.
            ctx.wakes.remove(wake)
        if credited:
            logger.info(
                "Credited %d credential(s) of %s learner to organization %s",
                len(credited),
                wake.program,
                association.tenant_id,
            )
        return len(credited)
    raise ConcurrencyConflict(f"learner state kept changing while applying {wake}")


def send_due_wakes(ctx: CreditContext) -> int:
    """The scheduler: every wake-up that is due goes to the apply queue. Rows stay
    until the apply step removes them, so a lost message is sent again on a later
    run; one overdue by more than OVERDUE_AFTER is applied here, so credit never
    waits on a queue that keeps losing or failing its message."""
    now = ctx.clock.now()
    wakes = ctx.wakes.due(now, WAKES_PER_RUN)
    overdue = [w for w in wakes if now - w.due_at > OVERDUE_AFTER][:REPAIRS_PER_RUN]
    for wake in wakes:
        if wake not in overdue:
            ctx.queue.send_wake(wake)
    for wake in overdue:
        logger.warning(
            "Repairing credit overdue since %s for a %s learner", wake.due_at, wake.program
        )
        try:
            apply(ctx, wake)
        except Exception:
            logger.exception("Repair failed; the wake-up stays for the next run")
            ctx.queue.send_wake(wake)
    if wakes:
        logger.info(
            "Sent %d credit wake-up(s) to the apply queue, repaired %d",
            len(wakes) - len(overdue),
            len(overdue),
        )
    return len(wakes)
