"""Finish what a crash left, and remove the intents of changes that finished: every
intent older than the in-flight window whose marker entry exists is done (one point
read); any other is done again from the truth, idempotently. Removed intents go in
transactions of up to 100. Its cost grows with the changes of the last run's window
(a point read each) and with what crashed, never with the number of users."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from shared import errors
from shared.adapters.ports import Intent
from shared.services.departure import finish_departure
from shared.services.dependencies import Dependencies
from shared.services.messagebus import TryAgain
from shared.services.reservations import drop_reservation, reservation_is_dead
from shared.services.unit_of_work import UnitOfWork

logger = logging.getLogger("skills_link.reconciler")

IN_FLIGHT = timedelta(minutes=2)
"""Longer than any request or queue message takes: a younger intent may still be at
work, and is left to it."""
INTENTS_PER_RUN = 5_000
"""Every start and end leaves an intent until a run removes it: a run takes what five
minutes of peak traffic write, and the next run takes the rest."""


@dataclass
class Reconciled:
    finished: int = 0
    left_for_next_run: int = 0
    already_done: int = 0


def _is_done(deps: Dependencies, intent: Intent) -> bool:
    """The change wrote its marker entry last: everything before it is written."""
    if intent.kind != "association" or intent.marker_id is None or intent.marker_at is None:
        return False
    return deps.stores.activity.exists(intent.tenant_id, intent.marker_at, intent.marker_id)


def reconcile(deps: Dependencies, limit: int = INTENTS_PER_RUN) -> Reconciled:
    done = Reconciled()
    removable: list[Intent] = []
    for intent in deps.stores.intents.older_than(deps.clock.now() - IN_FLIGHT, limit):
        if _is_done(deps, intent):
            removable.append(intent)
            done.already_done += 1
            continue
        try:
            _finish(deps, intent)
        except errors.ServiceError as busy:
            logger.warning("Intent %s left for the next run: %s", intent.kind, busy.code)
            done.left_for_next_run += 1
            continue
        removable.append(intent)
        done.finished += 1
    deps.stores.intents.remove_many(removable)
    if done.finished or done.left_for_next_run:
        logger.warning(
            "Reconciler finished %d interrupted change(s); %d left for the next run",
            done.finished,
            done.left_for_next_run,
        )
    return done


def _finish(deps: Dependencies, intent: Intent) -> None:
    if intent.kind == "departure":
        found = deps.stores.users.get(intent.tenant_id, intent.email)
        if found is not None and not found.value.is_active:
            finish_departure(deps, found.value)
        return
    deps.run(partial(_finish_association, intent=intent))


def _finish_association(uow: UnitOfWork, _: int, *, intent: Intent) -> None:
    """The learner's row is the truth: a start or an end that committed gets what
    follows it; one that never committed leaves a claim, dropped once fenced."""
    assert intent.program and intent.learner_id and intent.association_id
    learner = uow.stores.learners.load(intent.program, intent.learner_id)
    truth = learner.association(intent.association_id)
    if truth is None:
        found = uow.users.get(intent.tenant_id, intent.email)
        claim = found.value.find_association(intent.association_id) if found else None
        if claim is not None:
            if not reservation_is_dead(uow, claim):
                raise TryAgain
            drop_reservation(uow, claim)
        return
    if truth.is_active:
        uow.finish(learner, learner.started_events(truth))
    else:
        uow.finish(learner, learner.ended_events(truth))
