"""Rule 9, the monthly data refresh: every Skills Report row whose removal date is on
or before today goes, including ones a missed or failed run left, unless the learner
came back to the same organization (a return clears the rows' removal date). It reads
only the removals that are due and, per organization, deletes the due rows in
transactions of up to 100: its cost grows with the organizations it touches, not
with the users or the rows. The learners' own rows of a removal are gone from the
moment of its refresh (`Learner.forget_removed`) and deleted by their next commit."""

import logging
from dataclasses import dataclass, field
from datetime import date
from functools import partial

from shared.domain import activity
from shared.domain.activity import ActivityRecord
from shared.observability import count
from shared.services.dependencies import Dependencies
from shared.services.unit_of_work import UnitOfWork
from shared.services.webhooks import record_activity

logger = logging.getLogger("skills_link.removals")


@dataclass
class RefreshSummary:
    removals_read: int = 0
    rows_removed: int = 0
    removed_by_organization: dict[str, int] = field(default_factory=dict)


def _remove_due_report_rows(
    uow: UnitOfWork, _: int, *, tenant_id: str, today: date
) -> list[ActivityRecord]:
    """The organization's due rows, each deleted only as it was read: a return that
    cleared a row's removal date meanwhile makes the transaction fail, and the next
    attempt reads again (the transactions before it stay done)."""
    due = uow.stores.report.due_for_removal(tenant_id, today)
    uow.stores.report.delete_unchanged(tenant_id, due)
    return [
        activity.credential_removed(
            tenant_id,
            email=r.value.email,
            display_name=r.value.display_name,
            program=r.value.program,
            learner_id=r.value.learner_id,
            credential_id=r.value.credential_id,
            removal_on=r.value.removal_on,
        )
        for r in due
        if r.value.removal_on is not None
    ]


def refresh(deps: Dependencies, today: date, batch: int = 1_000) -> RefreshSummary:
    """Safe to run twice or after a crash: a removal goes only after its
    organization's due rows did."""
    summary = RefreshSummary()
    while True:
        due = deps.stores.removals.due(today, batch)
        if not due:
            break
        summary.removals_read += len(due)
        entries: list[ActivityRecord] = []
        for tenant_id in sorted({removal.tenant_id for removal in due}):
            removed = deps.run(partial(_remove_due_report_rows, tenant_id=tenant_id, today=today))
            entries += removed
            if removed:
                summary.rows_removed += len(removed)
                by_org = summary.removed_by_organization
                by_org[tenant_id] = by_org.get(tenant_id, 0) + len(removed)
        deps.stores.removals.remove_many(due)
        # One write per organization and month for the whole batch.
        record_activity(deps.stores, entries)
        logger.info(
            "Refresh progress: %d removal(s) read, %d row(s) removed so far",
            summary.removals_read,
            summary.rows_removed,
        )
        if len(due) < batch:
            break  # the due query returned everything due: no need to ask again
    for tenant_id, rows in sorted(summary.removed_by_organization.items()):
        logger.info("Refresh removed %d row(s) of organization %s", rows, tenant_id)
    return summary


def run_and_report(deps: Dependencies) -> str:
    """Today's refresh for the timer; a failure says what is still due before it goes
    to the retry policy, so a run that gives up is visible."""
    today = deps.clock.now().date()
    try:
        summary = refresh(deps, today)
    except Exception:
        try:
            remaining = len(deps.stores.removals.due(today, 1_000))
            what = f"{remaining}{'+' if remaining >= 1_000 else ''} removal(s)"
        except Exception:
            what = "an unknown number of removals (storage does not answer)"
        logger.error(
            "Monthly refresh of %s failed; %s still due. The retry, the next run or a run "
            "by hand (POST /admin/functions/monthly_refresh) removes them.",
            today,
            what,
        )
        raise
    count("skills_link.refresh_rows_removed", summary.rows_removed)
    return (
        f"{summary.removals_read} removal(s) read, {summary.rows_removed} row(s) removed "
        f"from the Skills Report"
    )
