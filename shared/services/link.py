"""POST /me/links: rules 1 to 6 and 10. A person links their own learner account,
proven by the program's assertion; the learner's state row is the truth, and the
claim on the user's row, the credit wake-up and the removal row are the handler
tables' business (shared/services/handlers.py)."""

import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from shared import errors
from shared.adapters.assertions import LearnerProof
from shared.adapters.ports import Versioned
from shared.domain.learner import Learner
from shared.domain.model import NONCE_LIFETIME, AssociationRecord, PartnerUser, nonce_digest
from shared.domain.policy import AssociationPolicy, Limit
from shared.errors import ServiceError, invalid_assertion
from shared.observability import count
from shared.services.caller import Caller
from shared.services.commands import Deferred, IssueNonce, LinkLearner
from shared.services.dependencies import Dependencies
from shared.services.messagebus import TryAgain
from shared.services.reservations import (
    drop_left_behind_reservation,
    is_young,
    load_active_user,
    mark_seen,
)
from shared.services.unit_of_work import UnitOfWork
from shared.wire import Association, NonceIssued, association_of, format_instant


@dataclass(frozen=True)
class LinkResult:
    association: Association
    created: bool


def association_limited(policy: AssociationPolicy, limit: Limit, now: datetime) -> ServiceError:
    wait = (limit.next_available_at - now).total_seconds()
    return errors.ASSOCIATION_LIMITED(
        policy.message(limit),
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
        next_available_at=format_instant(limit.next_available_at),
    )


def link(deps: Dependencies, caller: Caller, command: Deferred[LinkLearner]) -> LinkResult:
    first = deps.unit_of_work()
    found = load_active_user(first, caller)
    try:
        request = command()
        proof = deps.verifiers.for_program(request.program).verify(
            request.assertion, deps.clock.now()
        )

        def attempt(uow: UnitOfWork, number: int) -> LinkResult:
            current = found if number == 0 else load_active_user(uow, caller)
            return _link_once(deps, uow, current, proof, caller)

        result = deps.run(attempt, first)
    except ServiceError:
        mark_seen(first, caller)
        raise
    if not result.created:
        mark_seen(first, caller)
    return result


def issue_nonce(deps: Dependencies, caller: Caller, command: Deferred[IssueNonce]) -> NonceIssued:
    """POST /me/links/nonce: a single-use value for the program's sign-in page to put
    in the assertion, so that an assertion links only the person who asked for it."""
    uow = deps.unit_of_work()
    load_active_user(uow, caller)
    program = command().program
    now = deps.clock.now()
    nonce = secrets.token_urlsafe(24)
    if (
        uow.users.change(
            caller.tenant_id, caller.email, lambda u: u.with_nonce(program, nonce, now)
        )
        is None
    ):
        raise errors.BUSY()
    return NonceIssued(nonce=nonce, expires_at=now + NONCE_LIFETIME)


def _already_active(uow: UnitOfWork, learner: Learner, record: AssociationRecord) -> LinkResult:
    """The 200 answer: the association committed earlier, perhaps by a call whose
    work after the commit a failure cut short; that work is finished now."""
    uow.finish(learner, learner.started_events(record))
    return LinkResult(association_of(record), created=False)


def _link_once(
    deps: Dependencies,
    uow: UnitOfWork,
    found: Versioned[PartnerUser],
    proof: LearnerProof,
    caller: Caller,
) -> LinkResult:
    now = deps.clock.now()
    user = found.value
    uow.users.stage(user)
    learner = uow.stores.learners.load(proof.program, proof.learner_id)

    used_by = learner.used_jti(proof.jti)
    if used_by is not None:
        if used_by.is_active and used_by.belongs_to(user.tenant_id, user.email):
            return _already_active(uow, learner, used_by)
        raise invalid_assertion(
            "replayed", "This assertion was already used. Sign in to the program again."
        )
    if not user.may_spend_nonce(proof.program, proof.nonce, now):
        raise invalid_assertion(
            "nonce",
            "This assertion was not asked for by you, or its sign-in has expired or was "
            "used already. Start linking again from this page.",
        )
    if proof.program == "learn" and not proof.has_msa:
        raise errors.LEARN_PROFILE_HAS_NO_MSA()

    answered = _answer_from_current_link(uow, user, learner, proof, now)
    if answered is not None:
        return answered

    previous = learner.active
    if previous is not None and previous.belongs_to(user.tenant_id, user.email):
        uow.users.change(user.tenant_id, user.email, lambda u: u.with_record(previous))
        return _already_active(uow, learner, previous)

    limit = deps.policy.limit_at(learner.start_times, now)
    if limit is not None:
        raise association_limited(deps.policy, limit, now)

    record = AssociationRecord(
        association_id=uuid.uuid4().hex,
        program=proof.program,
        learner_id=proof.learner_id,
        tenant_id=user.tenant_id,
        user_email=user.email,
        display_name=user.display_name,
        started_at=now,
        jti=proof.jti,
        nonce=nonce_digest(proof.nonce) if proof.nonce else None,
    )
    uow.users.stage(uow.users.staged(user).signed_in(now, caller.object_id))
    learner.start(record)
    uow.commit(learner)
    count("skills_link.links_started", program=record.program)
    return LinkResult(association_of(record), created=True)


def _answer_from_current_link(
    uow: UnitOfWork, user: PartnerUser, learner: Learner, proof: LearnerProof, now: datetime
) -> LinkResult | None:
    """Rule 4: the user's current link in the program answers 200 (same learner) or
    409 (another), unless it has ended meanwhile (the user's copy is then brought
    up to date with the claim) or was left behind by a crash."""
    current = user.active(proof.program)
    if current is None:
        return None
    if current.learner_id == proof.learner_id:
        truth = learner.association(current.association_id)
    else:
        other = uow.stores.learners.load(current.program, current.learner_id, state_only=True)
        truth = other.association(current.association_id)
    if truth is not None and truth.is_active:
        if truth.learner_id == proof.learner_id:
            return _already_active(uow, learner, truth)
        raise errors.ALREADY_LINKED()
    if truth is not None:
        uow.users.stage(uow.users.staged(user).with_record(truth))
        return None
    if is_young(current, now):
        if current.learner_id == proof.learner_id:
            raise TryAgain
        raise errors.ALREADY_LINKED()
    drop_left_behind_reservation(uow, current)
    raise TryAgain
