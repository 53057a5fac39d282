"""DELETE /org/users/{email}: the person left. They can no longer link or read their
profile, their associations end (user_departed) and their credited rows get a
removal date (rule 8). Deleting again finishes anything a crash left undone."""

from functools import partial

from shared import errors
from shared.adapters.ports import Intent
from shared.domain import activity
from shared.domain.model import AssociationRecord, PartnerUser
from shared.domain.types import PROGRAMS
from shared.services.caller import Caller
from shared.services.commands import RemoveUser
from shared.services.dependencies import Dependencies
from shared.services.messagebus import TryAgain
from shared.services.reservations import drop_reservation, reservation_is_dead
from shared.services.unit_of_work import UnitOfWork
from shared.services.webhooks import record_activity
from shared.wire import Departure


def depart_user(deps: Dependencies, caller: Caller, command: RemoveUser) -> Departure:
    """An intent row brackets the whole departure: a crash after the mark is finished
    by the reconciler, not only by an admin repeating the DELETE."""
    caller.require_admin()
    email = command.email
    intent = Intent("departure", caller.tenant_id, email, deps.clock.now())
    deps.stores.intents.write(intent)

    def mark_departed(uow: UnitOfWork, _: int) -> tuple[PartnerUser, bool]:
        found = uow.users.get(caller.tenant_id, email)
        if found is None:
            raise errors.USER_NOT_FOUND()
        if not found.value.is_active:
            return found.value, True
        now = uow.clock.now()
        return uow.users.write(caller.tenant_id, email, lambda u: u.departed(now)).value, False

    try:
        user, already = deps.run(mark_departed)
    except errors.ServiceError as refused:
        if refused.code == errors.USER_NOT_FOUND.code:
            deps.stores.intents.remove(intent)
        raise
    finish_departure(deps, user)
    deps.stores.intents.remove(intent)
    assert user.removal_on is not None
    return Departure(email=user.email, removal_on=user.removal_on, already_departed=already)


def finish_departure(deps: Dependencies, user: PartnerUser) -> None:
    """Every association of a departed user ends, and the departure is recorded; safe
    to repeat (a retried DELETE, the reconciler)."""
    recorded = False
    for program in PROGRAMS:
        current = user.active(program)
        if current is not None:
            recorded |= deps.run(partial(_end_for_departure, user=user, current=current))
    if not recorded:
        # No end wrote it (nothing was linked): written on every call, so a retry
        # writes what a crash after the mark kept back.
        record_activity(deps.stores, [activity.user_departed(user)])


def _end_for_departure(
    uow: UnitOfWork, _: int, *, user: PartnerUser, current: AssociationRecord
) -> bool:
    """True when the end's handlers ran (they also record the departure)."""
    assert user.departed_at is not None
    learner = uow.stores.learners.load(current.program, current.learner_id)
    truth = learner.association(current.association_id)
    if truth is None:
        # A link still committing (or lost in a crash): make sure it never does.
        if not reservation_is_dead(uow, current):
            raise TryAgain
        drop_reservation(uow, current)
        return False
    if not truth.is_active:
        uow.finish(learner, learner.ended_events(truth))
    else:
        learner.end(truth, "user_departed", user.departed_at)
        uow.commit(learner, with_intent=False)
    return truth.end_reason in (None, "user_departed")
