"""Reservations: a partner user's copy of an association, checked against the
learner's truth. ("Claims" elsewhere are the token claims of a principal.)

A link first reserves the user's row (writes the association on it), then commits the
learner. A reservation whose learner never committed (a crashed request) is harmless:
readers verify it against the learner, wait out a young one, and fence an old one
(re-write the learner's state row so the lost request can never commit) before
dropping it."""

from datetime import datetime

from shared import errors
from shared.adapters.errors import ConcurrencyConflict
from shared.adapters.ports import Versioned
from shared.domain.model import CLAIM_LEASE, AssociationRecord, PartnerUser
from shared.services.caller import Caller
from shared.services.messagebus import TryAgain
from shared.services.unit_of_work import UnitOfWork


def load_active_user(uow: UnitOfWork, caller: Caller) -> Versioned[PartnerUser]:
    """Rule 1: only an active partner user of the caller's tenant. A record
    reactivated after a departure is re-bound first: its history may be a
    predecessor's."""
    found = uow.users.get(caller.tenant_id, caller.email)
    if found is None or not found.value.is_active:
        raise errors.NOT_PARTNER_CENTER_USER()
    if found.value.bound_to_another(caller.object_id):
        raise errors.ACCOUNT_MISMATCH()
    if found.value.needs_binding_check(caller.object_id):
        now = uow.clock.now()
        rebound = uow.users.change(
            caller.tenant_id, caller.email, lambda u: u.signed_in(now, caller.object_id)
        )
        return rebound or found
    return found


def mark_seen(uow: UnitOfWork, caller: Caller) -> None:
    """first_seen_at shows an admin who has never signed in; it is written once,
    with the binding to the caller's work account."""
    now = uow.clock.now()
    uow.users.change(caller.tenant_id, caller.email, lambda u: u.signed_in(now, caller.object_id))


def is_young(record: AssociationRecord, now: datetime) -> bool:
    return now - record.started_at < CLAIM_LEASE


def reservation_is_dead(uow: UnitOfWork, claim: AssociationRecord) -> bool:
    """Fence the claim's learner; True when the claim can now never commit."""
    learner = uow.stores.learners.load(claim.program, claim.learner_id, state_only=True)
    learner.fence()
    try:
        uow.commit(learner)
    except ConcurrencyConflict:
        return False
    refreshed = uow.stores.learners.load(claim.program, claim.learner_id, state_only=True)
    return refreshed.association(claim.association_id) is None


def drop_reservation(uow: UnitOfWork, claim: AssociationRecord) -> None:
    uow.users.change(claim.tenant_id, claim.user_email, lambda u: u.without(claim.association_id))


def drop_left_behind_reservation(uow: UnitOfWork, claim: AssociationRecord) -> None:
    """Drop a claim left behind by a crash, or start over if it may still commit."""
    if not reservation_is_dead(uow, claim):
        raise TryAgain
    drop_reservation(uow, claim)
