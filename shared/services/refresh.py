"""Rule 9, the monthly data refresh: every credited row whose removal date is on or
before today goes, including ones a missed or failed run left, unless the learner
came back to the same organization. It reads only the removals that are due: its
cost grows with what it removes, not with the number of users."""

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import partial

from shared.adapters.ports import Removal
from shared.adapters.skills_report import report_row_of
from shared.domain import activity
from shared.domain.activity import ActivityRecord
from shared.domain.learner import Learner
from shared.domain.model import CreditedRecord
from shared.observability import count
from shared.services.dependencies import Dependencies
from shared.services.unit_of_work import UnitOfWork
from shared.services.webhooks import record_activity
from shared.wire import ReportRow

logger = logging.getLogger("skills_link.removals")
REFRESH_TIME = time(2, 0, tzinfo=UTC)
"""A removal's entry is dated at the refresh of its removal date (02:00 UTC), so a
run that catches up later, or runs twice, writes the same entry."""


@dataclass
class RefreshSummary:
    removals_read: int = 0
    rows_removed: int = 0
    rows_kept: int = 0
    removed_by_organization: dict[str, int] = field(default_factory=dict)
    activity_removed: int = 0


def _report_rows(learner: Learner, rows: list[CreditedRecord]) -> list[ReportRow]:
    return [report_row_of(learner.program, learner.learner_id, c) for c in rows]


def _remove_due_rows(
    uow: UnitOfWork,
    _: int,
    *,
    removal: Removal,
    today: date,
    report_touched: list[bool],
    removed_entries: list[ActivityRecord],
) -> tuple[int, int]:
    """(rows removed, rows kept) for one learner and organization. The learner rows
    go in one transaction with a re-write of the learner's state row as loaded, so a
    learner who associates with the organization again while the refresh runs keeps
    them (rule 8); report rows an earlier attempt took out are put back."""
    learner = uow.stores.learners.load(removal.program, removal.learner_id)
    active = learner.active
    rows = learner.credited_for(removal.tenant_id)
    if active is not None and active.tenant_id == removal.tenant_id:
        if report_touched and rows:
            uow.stores.report.put_rows(removal.tenant_id, _report_rows(learner, rows))
        return 0, len(rows)
    doomed = [c for c in rows if c.removal_on is None or c.removal_on <= today]
    if not doomed:
        return 0, len(rows)
    # Report rows first: a crash after them leaves the learner rows, which a later
    # run finds again; the other order would leave report rows nobody finds.
    uow.stores.report.delete_rows(removal.tenant_id, _report_rows(learner, doomed))
    report_touched.append(True)
    uow.stores.learners.delete_credited(learner, doomed, guarded=learner.exists)
    removed_entries.extend(
        [
            activity.credential_entry(
                "credential.removed",
                learner.program,
                learner.learner_id,
                c,
                at=datetime.combine(c.removal_on or today, REFRESH_TIME),
                removal_on=c.removal_on,
            )
            for c in doomed
        ]
    )
    return len(doomed), len(rows) - len(doomed)


def refresh(deps: Dependencies, today: date, batch: int = 1_000) -> RefreshSummary:
    """Safe to run twice or after a crash."""
    summary = RefreshSummary()
    while True:
        due = deps.stores.removals.due(today, batch)
        if not due:
            break
        entries: list[ActivityRecord] = []
        for removal in due:
            summary.removals_read += 1
            removed, kept = deps.run(
                partial(
                    _remove_due_rows,
                    removal=removal,
                    today=today,
                    report_touched=[],
                    removed_entries=entries,
                )
            )
            summary.rows_kept += kept
            if removed:
                summary.rows_removed += removed
                by_org = summary.removed_by_organization
                by_org[removal.tenant_id] = by_org.get(removal.tenant_id, 0) + removed
            deps.stores.removals.remove(removal)
        # One write per organization and month for the whole batch.
        record_activity(deps.stores, entries)
        logger.info(
            "Refresh progress: %d removal(s) read, %d row(s) removed so far",
            summary.removals_read,
            summary.rows_removed,
        )
    for tenant_id, removed in sorted(summary.removed_by_organization.items()):
        logger.info("Refresh removed %d row(s) of organization %s", removed, tenant_id)
    cutoff = deps.clock.now() - deps.activity_retention
    summary.activity_removed = deps.stores.activity.remove_months_before(cutoff)
    if summary.activity_removed:
        logger.info(
            "Refresh removed %d activity entries of the months before %s",
            summary.activity_removed,
            cutoff.strftime("%Y-%m"),
        )
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
        f"{summary.removals_read} removal(s) read, {summary.rows_removed} row(s) removed, "
        f"{summary.rows_kept} kept"
    )
