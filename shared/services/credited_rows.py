"""Rule 8 on the learner's credited rows and the Skills Report: rows that follow a
commit (credited, dated for removal, undated on a return, renewed) are written from
the learner as it is, so no late handler can leave them as an older state wanted."""

from collections.abc import Callable

from shared.adapters.errors import ConcurrencyConflict
from shared.adapters.skills_report import report_row_of
from shared.domain.learner import Learner
from shared.domain.model import CreditedRecord
from shared.services.messagebus import attempts
from shared.services.unit_of_work import UnitOfWork


def rewrite_credited(
    uow: UnitOfWork,
    learner: Learner,
    tenant_id: str,
    change: Callable[[Learner], list[CreditedRecord]],
) -> None:
    """Credited rows that follow a commit, decided from the learner as it is: the
    report first (the learner's rows decide what is left to do, so a failure
    between the two writes leaves work that a retry still sees), then the
    learner's rows in one transaction with a re-write of its state row as last
    seen. A handler that comes late, after a later commit of the learner (a
    return, an end, a credit), conflicts, reads again and decides again; a commit
    that read before it conflicts and starts over. So no late handler can leave
    rows as an older state wanted them."""
    touched: set[str] = set()
    for _ in attempts():
        rows = change(learner)
        if not rows:
            return
        touched |= {row.credential.id for row in rows}
        uow.stores.report.put_rows(
            tenant_id, [report_row_of(learner.program, learner.learner_id, c) for c in rows]
        )
        try:
            uow.stores.learners.put_credited(learner, rows)
            return
        except ConcurrencyConflict:
            learner = uow.stores.learners.load(learner.program, learner.learner_id)
            # The report as the learner's rows say, before deciding again.
            uow.stores.report.put_rows(
                tenant_id,
                [
                    report_row_of(learner.program, learner.learner_id, c)
                    for c in learner.credited_for(tenant_id)
                    if c.credential.id in touched
                ],
            )
    raise ConcurrencyConflict(f"credited rows of {tenant_id} kept changing")
