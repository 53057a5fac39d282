"""DELETE /me/links/{program}: a person removes their own link (rule 2). The end
commits on the learner's state row; the removal row, the removal dates and the copy
to the user's row are the handler tables' business."""

from shared import errors
from shared.adapters.ports import Versioned
from shared.domain.model import PartnerUser
from shared.domain.types import Program
from shared.errors import ServiceError
from shared.services.caller import Caller
from shared.services.commands import Deferred, Unlink
from shared.services.dependencies import Dependencies
from shared.services.reservations import (
    drop_left_behind_reservation,
    is_young,
    load_active_user,
    mark_seen,
)
from shared.services.unit_of_work import UnitOfWork


def not_linked(program: Program) -> ServiceError:
    return errors.NOT_LINKED(f"Your work account is not linked in {program}.")


def unlink(deps: Dependencies, caller: Caller, command: Deferred[Unlink]) -> None:
    first = deps.unit_of_work()
    load_active_user(first, caller)
    mark_seen(first, caller)
    program = command().program

    def attempt(uow: UnitOfWork, _: int) -> None:
        _unlink_once(uow, load_active_user(uow, caller), program)

    deps.run(attempt, first)


def _unlink_once(uow: UnitOfWork, found: Versioned[PartnerUser], program: Program) -> None:
    now = uow.clock.now()
    current = found.value.active(program)
    if current is None:
        raise not_linked(program)
    learner = uow.stores.learners.load(program, current.learner_id)
    truth = learner.association(current.association_id)
    if truth is None:
        if not is_young(current, now):
            drop_left_behind_reservation(uow, current)
        raise not_linked(program)
    if not truth.is_active:
        uow.finish(learner, learner.ended_events(truth))
        raise not_linked(program)
    learner.end(truth, "unlinked", now)
    uow.commit(learner)
