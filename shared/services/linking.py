"""Rules 1 to 6 and 10: linking and unlinking a learner, and the caller's profile.

A learner's `state` row is the truth. Linking first claims the partner user's row
(its copy of the association, under the row's ETag), then commits the learner's
row (under its ETag). A claim whose learner never committed (a crashed request)
is harmless: readers verify a claim against the learner, wait out a young one, and
fence an old one (rewrite the learner's row so the lost request can never commit)
before dropping it."""

import contextlib
import math
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from shared import errors
from shared.adapters.assertions import AssertionVerifier, LearnerProof
from shared.adapters.errors import ConcurrencyConflict
from shared.adapters.ports import (
    LearnerFile,
    LearnerStore,
    PartnerUserStore,
    Versioned,
    Wake,
)
from shared.clock import Clock
from shared.domain.model import CLAIM_LEASE, AssociationRecord, LearnerState, PartnerUser
from shared.domain.policy import AssociationPolicy, Limit
from shared.entrypoints.principal import Caller
from shared.entrypoints.requests import parse_body, parse_program
from shared.errors import ServiceError, invalid_assertion
from shared.services import credits
from shared.services.credits import CreditContext, pending_for
from shared.services.removals import RemovalContext, file_removal, keep_on_return, mark_for_removal
from shared.wire import (
    PROGRAMS,
    Association,
    CreditedCredential,
    EndReason,
    LinkRequest,
    PendingCredit,
    Profile,
    Program,
    ProgramStatus,
    format_instant,
)

MAX_ATTEMPTS = 12


class Verifiers(Protocol):
    def for_program(self, program: Program) -> AssertionVerifier: ...


@dataclass(frozen=True)
class LinkingContext:
    users: PartnerUserStore
    learners: LearnerStore
    clock: Clock
    policy: AssociationPolicy
    verifiers: Verifiers
    credits: CreditContext
    removal: RemovalContext


@dataclass(frozen=True)
class LinkResult:
    association: Association
    created: bool


class _TryAgain(Exception):
    """The records changed under this attempt; start over from fresh reads."""


T = TypeVar("T")


def _with_retries(attempt: Callable[[int], T]) -> T:
    for number in range(MAX_ATTEMPTS):
        if number:
            time.sleep(random.uniform(0, 0.005 * 2 ** min(number, 6)))
        try:
            return attempt(number)
        except _TryAgain:
            continue
    raise errors.BUSY()


def load_active_user(ctx: LinkingContext, caller: Caller) -> Versioned[PartnerUser]:
    found = ctx.users.get(caller.tenant_id, caller.email)
    if found is None or not found.value.is_active:
        raise errors.NOT_PARTNER_CENTER_USER()
    if found.value.needs_binding_check(caller.object_id):
        # Before anything reads the history: it may be a predecessor's.
        now = ctx.clock.now()
        return (
            change_user(
                ctx,
                caller.tenant_id,
                caller.email,
                lambda u: u.signed_in(now, caller.object_id),
                found,
            )
            or found
        )
    return found


def change_user(
    ctx: LinkingContext,
    tenant_id: str,
    email: str,
    change: Callable[[PartnerUser], PartnerUser],
    known: Versioned[PartnerUser] | None = None,
) -> Versioned[PartnerUser] | None:
    """Apply `change` to a partner user's row under its ETag, re-reading after a
    conflict. Starts from `known` when given; writes nothing when nothing changes.
    Best effort: gives up after MAX_ATTEMPTS conflicts (readers repair the rest)."""
    current = known
    for _ in range(MAX_ATTEMPTS):
        if current is None:
            current = ctx.users.get(tenant_id, email)
        if current is None:
            return None
        changed = change(current.value)
        if changed == current.value:
            return current
        try:
            return Versioned(changed, ctx.users.replace(changed, current.etag))
        except ConcurrencyConflict:
            current = None
    return known


def mark_seen(
    ctx: LinkingContext, found: Versioned[PartnerUser], caller: Caller
) -> Versioned[PartnerUser]:
    """first_seen_at shows an admin who has never signed in; it is written once,
    with the binding to the caller's work account."""
    user = found.value
    now = ctx.clock.now()
    return (
        change_user(
            ctx, user.tenant_id, user.email, lambda u: u.signed_in(now, caller.object_id), found
        )
        or found
    )


def association_limited(policy: AssociationPolicy, limit: Limit, now: datetime) -> ServiceError:
    wait = (limit.next_available_at - now).total_seconds()
    return errors.ASSOCIATION_LIMITED(
        policy.message(limit),
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
        next_available_at=format_instant(limit.next_available_at),
    )


def not_linked(program: Program) -> ServiceError:
    return errors.NOT_LINKED(f"Your work account is not linked in {program}.")


def _is_young(record: AssociationRecord, now: datetime) -> bool:
    return now - record.started_at < CLAIM_LEASE


def _fence(ctx: LinkingContext, program: Program, learner_id: str) -> None:
    """Rewrite the learner's row so that a request which read it earlier can no
    longer commit, making its left-behind claim safe to drop."""
    loaded = ctx.learners.get(program, learner_id)
    try:
        if loaded is None:
            ctx.learners.save(LearnerState(program=program, learner_id=learner_id), None)
        else:
            ctx.learners.save(loaded.value, loaded.etag)
    except ConcurrencyConflict as conflict:
        raise _TryAgain from conflict


def claim_is_dead(ctx: LinkingContext, claim: AssociationRecord) -> bool:
    """Fence the claim's learner; True when the claim can now never commit."""
    try:
        _fence(ctx, claim.program, claim.learner_id)
    except _TryAgain:
        return False
    refreshed = ctx.learners.get(claim.program, claim.learner_id)
    return refreshed is None or refreshed.value.find(claim.association_id) is None


def drop_claim(
    ctx: LinkingContext, claim: AssociationRecord, known: Versioned[PartnerUser] | None = None
) -> None:
    """Remove a claim that can never commit (or lost its race) from its user's row."""
    change_user(
        ctx, claim.tenant_id, claim.user_email, lambda u: u.without(claim.association_id), known
    )


def _drop_left_behind_claim(ctx: LinkingContext, claim: AssociationRecord) -> None:
    if not claim_is_dead(ctx, claim):
        raise _TryAgain
    drop_claim(ctx, claim)


def copy_to_user(
    ctx: LinkingContext,
    record: AssociationRecord,
    known: Versioned[PartnerUser] | None = None,
) -> None:
    """Bring a partner user's copy of an association in line with the learner's
    truth (an end by unlink, move or departure). Best effort: a reader repairs
    what a crash leaves behind."""
    if known is not None and not record.belongs_to(known.value.tenant_id, known.value.email):
        known = None
    change_user(ctx, record.tenant_id, record.user_email, lambda u: u.with_record(record), known)


def link(ctx: LinkingContext, caller: Caller, body: bytes | None) -> LinkResult:
    found = load_active_user(ctx, caller)
    try:
        request = parse_body(LinkRequest, body)
        verifier = ctx.verifiers.for_program(request.program)
        proof = verifier.verify(request.assertion, ctx.clock.now())

        def attempt(number: int) -> LinkResult:
            current = found if number == 0 else load_active_user(ctx, caller)
            return _attempt_link(ctx, current, proof, caller.object_id)

        result = _with_retries(attempt)
    except ServiceError:
        mark_seen(ctx, found, caller)
        raise
    if not result.created:
        mark_seen(ctx, found, caller)
    return result


def _attempt_link(
    ctx: LinkingContext, found: Versioned[PartnerUser], proof: LearnerProof, object_id: str
) -> LinkResult:
    now = ctx.clock.now()
    user = found.value
    learner_file = ctx.learners.read_file(proof.program, proof.learner_id)
    loaded = learner_file.state
    state = (
        loaded.value if loaded else LearnerState(program=proof.program, learner_id=proof.learner_id)
    )

    used_by = state.find_by_jti(proof.jti)
    if used_by is not None:
        if used_by.is_active and used_by.belongs_to(user.tenant_id, user.email):
            return _already_active(ctx, learner_file, used_by)
        raise invalid_assertion(
            "replayed", "This assertion was already used. Sign in to the program again."
        )

    if proof.program == "learn" and not proof.has_msa:
        raise errors.LEARN_PROFILE_HAS_NO_MSA()

    settled = _settle_current_link(ctx, found, learner_file, proof, now)
    if isinstance(settled, LinkResult):
        return settled
    claimant = settled

    previous = state.active
    if previous is not None and previous.belongs_to(user.tenant_id, user.email):
        copy_to_user(ctx, previous, found)
        return _already_active(ctx, learner_file, previous)

    limit = ctx.policy.limit_at(state.start_times, now)
    if limit is not None:
        raise association_limited(ctx.policy, limit, now)

    record = AssociationRecord(
        association_id=uuid.uuid4().hex,
        program=proof.program,
        learner_id=proof.learner_id,
        tenant_id=user.tenant_id,
        user_email=user.email,
        display_name=user.display_name,
        started_at=now,
        jti=proof.jti,
    )
    claimed = claimant.signed_in(now, object_id).with_record(record)
    try:
        claim_etag = ctx.users.replace(claimed, found.etag)
    except ConcurrencyConflict as conflict:
        raise _TryAgain from conflict

    if learner_file.credentials:
        # Rule 7: earlier credentials become pending, due a delay after the start. The
        # wake-up is filed before the commit, so a crash cannot lose it; a stray one
        # finds no association and is dropped.
        ctx.credits.wakes.schedule(
            Wake(proof.program, proof.learner_id, record.association_id, now + ctx.credits.delay)
        )
    moved_away = previous.ended(now, "moved") if previous is not None else None
    if moved_away is not None:
        file_removal(ctx.removal, learner_file, moved_away, now)
    committed = state.with_record(moved_away) if moved_away is not None else state
    try:
        ctx.learners.save(committed.with_record(record), loaded.etag if loaded else None)
    except ConcurrencyConflict as conflict:
        drop_claim(ctx, record, Versioned(claimed, claim_etag))
        raise _TryAgain from conflict

    _finish_link(ctx, learner_file, committed.with_record(record), record)
    return LinkResult(record.to_wire(), created=True)


def _finish_link(
    ctx: LinkingContext, learner_file: LearnerFile, state: LearnerState, record: AssociationRecord
) -> None:
    """What follows a link's commit, safe to repeat: the association it moved away
    from gets its rows marked and its end copied to that user; rows of an earlier
    association with this organization lose their removal date."""
    moved_away = next(
        (
            a
            for a in state.associations
            if a.end_reason == "moved" and a.ended_at == record.started_at
        ),
        None,
    )
    if moved_away is not None:
        mark_for_removal(ctx.removal, learner_file, moved_away, active=record)
        copy_to_user(ctx, moved_away)
    keep_on_return(ctx.removal, learner_file, record)


def _already_active(
    ctx: LinkingContext, learner_file: LearnerFile, record: AssociationRecord
) -> LinkResult:
    """The 200 answer: the association committed earlier, perhaps by a call whose
    work after the commit a failure cut short; finish that work now."""
    assert learner_file.state is not None
    _finish_link(ctx, learner_file, learner_file.state.value, record)
    return LinkResult(record.to_wire(), created=False)


def _settle_current_link(
    ctx: LinkingContext,
    found: Versioned[PartnerUser],
    learner_file: LearnerFile,
    proof: LearnerProof,
    now: datetime,
) -> LinkResult | PartnerUser:
    """Rule 4 against the learner's truth: the user's current link in the program
    answers 200 (same learner) or 409 (another), unless it has ended meanwhile
    (then the user's copy is brought up to date) or was left behind by a crash."""
    user = found.value
    current = user.active(proof.program)
    if current is None:
        return user
    if current.learner_id == proof.learner_id:
        state = learner_file.state
        truth = state.value.find(current.association_id) if state else None
    else:
        other = ctx.learners.get(current.program, current.learner_id)
        truth = other.value.find(current.association_id) if other else None
    if truth is not None and truth.is_active:
        if truth.learner_id == proof.learner_id:
            return _already_active(ctx, learner_file, truth)
        raise errors.ALREADY_LINKED()
    if truth is not None:
        return user.with_record(truth)
    if _is_young(current, now):
        if current.learner_id == proof.learner_id:
            raise _TryAgain
        raise errors.ALREADY_LINKED()
    _drop_left_behind_claim(ctx, current)
    raise _TryAgain


def unlink(ctx: LinkingContext, caller: Caller, program_name: str | None) -> None:
    found = mark_seen(ctx, load_active_user(ctx, caller), caller)
    program = parse_program(program_name)

    def attempt(number: int) -> None:
        current = found if number == 0 else load_active_user(ctx, caller)
        _attempt_unlink(ctx, current, program)

    _with_retries(attempt)


def _attempt_unlink(ctx: LinkingContext, found: Versioned[PartnerUser], program: Program) -> None:
    now = ctx.clock.now()
    current = found.value.active(program)
    if current is None:
        raise not_linked(program)
    learner_file = ctx.learners.read_file(program, current.learner_id)
    loaded = learner_file.state
    truth = loaded.value.find(current.association_id) if loaded else None
    if loaded is None or truth is None:
        if not _is_young(current, now):
            _drop_left_behind_claim(ctx, current)
        raise not_linked(program)
    if not truth.is_active:
        finish_end(ctx, learner_file, truth, found)
        raise not_linked(program)
    ended = end_association(ctx, learner_file, truth, "unlinked", now)
    if ended is None:
        raise _TryAgain
    copy_to_user(ctx, ended, found)


def end_association(
    ctx: LinkingContext,
    learner_file: LearnerFile,
    association: AssociationRecord,
    reason: EndReason,
    now: datetime,
) -> AssociationRecord | None:
    """End an active association on the learner's row (rule 8 included); None when
    the row changed since it was read."""
    loaded = learner_file.state
    assert loaded is not None
    ended = association.ended(now, reason)
    file_removal(ctx.removal, learner_file, ended, now)
    try:
        ctx.learners.save(loaded.value.with_record(ended), loaded.etag)
    except ConcurrencyConflict:
        return None
    mark_for_removal(ctx.removal, learner_file, ended, active=None)
    return ended


def finish_end(
    ctx: LinkingContext,
    learner_file: LearnerFile,
    ended: AssociationRecord,
    known: Versioned[PartnerUser] | None = None,
) -> None:
    """What follows an end's commit, safe to repeat: a retry after a failure finishes
    the removal dates and the copy to the user's row that the first call left."""
    state = learner_file.state
    active = state.value.active if state else None
    mark_for_removal(ctx.removal, learner_file, ended, active=active)
    copy_to_user(ctx, ended, known)


def _credit_overdue(
    ctx: LinkingContext, learner_file: LearnerFile, active: AssociationRecord, now: datetime
) -> LearnerFile:
    """Credit that fell due longer ago than the scheduler can explain missed its
    wake-up: apply it now, so a profile never shows a due date long past."""
    owed = pending_for(learner_file, active, ctx.credits.delay)
    overdue = [due_at for _, due_at in owed if now - due_at > credits.OVERDUE_AFTER]
    if not overdue:
        return learner_file
    credits.apply(
        ctx.credits, Wake(active.program, active.learner_id, active.association_id, min(overdue))
    )
    return ctx.learners.read_file(active.program, active.learner_id)


def profile(ctx: LinkingContext, caller: Caller) -> Profile:
    found = load_active_user(ctx, caller)
    now = ctx.clock.now()
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
            learner_file = ctx.learners.read_file(program, latest.learner_id)
            loaded = learner_file.state
            truth = loaded.value.find(latest.association_id) if loaded else None
            starts = loaded.value.start_times if loaded else []
            if truth is None and _is_young(latest, now):
                active = latest
            elif truth is None:
                if claim_is_dead(ctx, latest):
                    repaired = repaired.without(latest.association_id)
            else:
                repaired = repaired.with_record(truth)
                active = truth if truth.is_active else None
            if active is not None and loaded is not None:
                learner_file = _credit_overdue(ctx, learner_file, active, now)
                pending += [
                    PendingCredit(credential=c.to_wire(), due_at=due_at)
                    for c, due_at in pending_for(learner_file, active, ctx.credits.delay)
                ]
            credited += [
                CreditedCredential(
                    credential=c.credential.to_wire(),
                    credited_at=c.credited_at,
                    removal_on=c.removal_on,
                )
                for c in learner_file.credited
                if c.tenant_id == user.tenant_id and c.user_email == user.email
            ]
        limit = ctx.policy.limit_at(starts, now)
        programs[program] = ProgramStatus(
            active=active.to_wire() if active else None,
            associations_in_window=ctx.policy.starts_in_window(starts, now),
            next_association_available_at=limit.next_available_at if limit else None,
        )
    if repaired != user:
        with contextlib.suppress(ConcurrencyConflict):
            ctx.users.replace(repaired, found.etag)  # a later read repairs what a race skips
    history = sorted(repaired.associations, key=lambda a: a.started_at, reverse=True)
    return Profile(
        user=repaired.summary(),
        programs=programs,
        history=[a.to_wire() for a in history],
        pending_credits=sorted(pending, key=lambda p: (p.due_at, p.credential.id)),
        credited=sorted(credited, key=lambda c: (c.credited_at, c.credential.id)),
    )
