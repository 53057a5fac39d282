"""The credit scheduler (timer every 5 minutes): every wake-up that is due goes to the
apply queue. Rows stay until the apply step removes them, so a lost message is sent
again on a later run; one overdue by more than OVERDUE_AFTER is applied here, so
credit never waits on a queue that keeps losing or failing its message."""

import logging
from datetime import timedelta

from shared.services import credit_apply
from shared.services.dependencies import Dependencies

logger = logging.getLogger("skills_link.credits")

WAKES_PER_RUN = 5_000
REPAIRS_PER_RUN = 500
SCHEDULER_PERIOD = timedelta(minutes=5)
OVERDUE_AFTER = SCHEDULER_PERIOD + timedelta(minutes=10)
"""A credit still pending this long after it fell due missed its normal path (its
wake-up message lost or failing): the scheduler and the profile apply it directly."""


def send_due_wakes(deps: Dependencies) -> int:
    now = deps.clock.now()
    wakes = deps.stores.wakes.due(now, WAKES_PER_RUN)
    overdue = [w for w in wakes if now - w.due_at > OVERDUE_AFTER][:REPAIRS_PER_RUN]
    for wake in wakes:
        if wake not in overdue:
            deps.stores.queue.send_wake(wake)
    for wake in overdue:
        logger.warning(
            "Repairing credit overdue since %s for a %s learner", wake.due_at, wake.program
        )
        try:
            credit_apply.apply(deps, wake)
        except Exception:
            logger.exception("Repair failed; the wake-up stays for the next run")
            deps.stores.queue.send_wake(wake)
    if wakes:
        logger.info(
            "Sent %d credit wake-up(s) to the apply queue, repaired %d",
            len(wakes) - len(overdue),
            len(overdue),
        )
    return len(wakes)
