"""Rule 7, the apply step (queue `credits-due`): when a wake-up comes, credit what is
due for its association if that same association is still active. Safe to run any
number of times; an early, late or repeated wake-up is harmless."""

import json
import logging
from datetime import datetime

from shared.adapters.ports import Wake
from shared.domain.learner import Learner
from shared.domain.model import AssociationRecord
from shared.domain.types import program_named
from shared.observability import count, record
from shared.services.dependencies import Dependencies
from shared.services.poison import PoisonMessage
from shared.services.unit_of_work import UnitOfWork

logger = logging.getLogger("skills_link.credits")


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


def credit_due(uow: UnitOfWork, learner: Learner, association: AssociationRecord) -> int:
    """The one place credit is given (rule 7): what is due for this active
    association is credited and committed; how many. A wake-up and a profile read
    that finds credit long overdue both come here."""
    learner.credit(association.association_id, uow.clock.now(), uow.credit_delay)
    credited = len(learner.new_credited)
    uow.commit(learner)
    if credited:
        count("skills_link.credits_applied", credited, program=learner.program)
        logger.info(
            "Credited %d credential(s) of %s learner to organization %s",
            credited,
            learner.program,
            association.tenant_id,
        )
    return credited


def apply_wake(uow: UnitOfWork, wake: Wake) -> int:
    """One attempt: how many credentials were credited. The next wake-up is filed
    before this one's own row is removed (only its own: the key holds the due
    instant), and a wake-up not yet due stays for its time."""
    now = uow.clock.now()
    learner = uow.stores.learners.load(wake.program, wake.learner_id)
    association = learner.association(wake.association_id)
    if association is None or not association.is_active:
        uow.stores.wakes.remove(wake)
        return 0
    credited = credit_due(uow, learner, association)
    later = [due_at for _, due_at in learner.pending(association, uow.credit_delay) if due_at > now]
    if later:
        uow.stores.wakes.schedule(
            Wake(wake.program, wake.learner_id, wake.association_id, min(later))
        )
    if wake.due_at <= now:
        uow.stores.wakes.remove(wake)
    for _ in range(credited):
        record("skills_link.credit_lateness", (now - wake.due_at).total_seconds())
    return credited


def apply(deps: Dependencies, wake: Wake) -> int:
    return deps.run(lambda uow, _: apply_wake(uow, wake))
