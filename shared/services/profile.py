"""GET /me: the caller's profile, from the learner's truth. Reading it repairs what
a crash left on the user's row (a claim that never committed, an end not yet
copied) and credit that missed its wake-up."""

from datetime import datetime

from shared.domain.learner import Learner
from shared.domain.model import AssociationRecord
from shared.domain.types import PROGRAMS, Program
from shared.services.caller import Caller
from shared.services.credit_apply import credit_due
from shared.services.dependencies import Dependencies
from shared.services.reservations import is_young, load_active_user, reservation_is_dead
from shared.services.scheduler import OVERDUE_AFTER
from shared.services.unit_of_work import UnitOfWork
from shared.wire import (
    CreditedCredential,
    PendingCredit,
    Profile,
    ProgramStatus,
    association_of,
    credential_of,
    user_summary_of,
)


def _credit_overdue(uow: UnitOfWork, learner: Learner, active: AssociationRecord) -> Learner:
    """Credit that fell due longer ago than the scheduler can explain missed its
    wake-up: credited now through the one crediting entry (credit_apply.credit_due),
    so a profile never shows a due date long past. The only write a read makes."""
    now = uow.clock.now()
    owed = learner.pending(active, uow.credit_delay)
    if any(now - due_at > OVERDUE_AFTER for _, due_at in owed):
        credit_due(uow, learner, active)
    return learner


def profile(deps: Dependencies, caller: Caller) -> Profile:
    return deps.run(lambda uow, _: _profile_once(deps, uow, caller))


def _profile_once(deps: Dependencies, uow: UnitOfWork, caller: Caller) -> Profile:
    found = load_active_user(uow, caller)
    now = deps.clock.now()
    user = found.value
    repaired = user.signed_in(now, caller.object_id)
    programs: dict[Program, ProgramStatus] = {}
    pending: list[PendingCredit] = []
    credited: list[CreditedCredential] = []
    for program in PROGRAMS:
        latest = user.latest(program)
        active: AssociationRecord | None = None
        starts: list[datetime] = []
        if latest is not None:
            learner = uow.stores.learners.load(program, latest.learner_id)
            truth = learner.association(latest.association_id)
            starts = learner.start_times
            if truth is None and is_young(latest, now):
                active = latest
            elif truth is None:
                if reservation_is_dead(uow, latest):
                    repaired = repaired.without(latest.association_id)
            else:
                repaired = repaired.with_record(truth)
                active = truth if truth.is_active else None
            if active is not None and learner.exists:
                learner = _credit_overdue(uow, learner, active)
                pending += [
                    PendingCredit(
                        credential=credential_of(c, now, deps.expiry_warning), due_at=due_at
                    )
                    for c, due_at in learner.pending(active, deps.credit_delay)
                ]
            credited += [
                CreditedCredential(
                    credential=credential_of(c.credential, now, deps.expiry_warning),
                    credited_at=c.credited_at,
                    removal_on=c.removal_on,
                )
                for c in learner.credited
                if c.tenant_id == user.tenant_id and c.user_email == user.email
            ]
        limit = deps.policy.limit_at(starts, now)
        programs[program] = ProgramStatus(
            active=association_of(active) if active else None,
            associations_in_window=deps.policy.starts_in_window(starts, now),
            next_association_available_at=limit.next_available_at if limit else None,
        )
    if repaired != user:
        # One try: a later read repairs what a race skips.
        uow.users.write_if_unchanged(repaired)
    history = sorted(repaired.associations, key=lambda a: a.started_at, reverse=True)
    return Profile(
        user=user_summary_of(repaired),
        programs=programs,
        history=[association_of(a) for a in history],
        pending_credits=sorted(pending, key=lambda p: (p.due_at, p.credential.id)),
        credited=sorted(credited, key=lambda c: (c.credited_at, c.credential.id)),
    )
