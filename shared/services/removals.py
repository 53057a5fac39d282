"""Rule 8 and 9: when an association ends, the organization's credited rows for
that learner get a removal date (the 10th of the next month), and the monthly
refresh removes them then, unless the learner came back to the same organization.

A removal is filed (`reportremovals`, partition = removal date) before the end
commits, so a crash cannot leave credited rows that no refresh will find. The
refresh reads only the removals that are due: its cost grows with what it removes."""

import logging
from dataclasses import dataclass
from datetime import date, datetime

from shared.adapters.errors import ConcurrencyConflict
from shared.adapters.ports import LearnerFile, LearnerStore, Removal, RemovalStore, ReportStore
from shared.domain.model import AssociationRecord, CreditedRecord
from shared.services.credits import report_row
from shared.wire import ReportRow

logger = logging.getLogger("skills_link.removals")


def removal_date(ended_at: datetime) -> date:
    """The data refresh after an end: the 10th of the following month (UTC)."""
    year, month = ended_at.year, ended_at.month
    return date(year + 1, 1, 10) if month == 12 else date(year, month + 1, 10)


@dataclass(frozen=True)
class RemovalContext:
    learners: LearnerStore
    report: ReportStore
    removals: RemovalStore


def _credited_for(found: LearnerFile, tenant_id: str) -> list[CreditedRecord]:
    return [c for c in found.credited if c.tenant_id == tenant_id]


def file_removal(
    ctx: RemovalContext, found: LearnerFile, ending: AssociationRecord, at: datetime
) -> None:
    """Before the end commits: remember to look at this organization's rows."""
    if _credited_for(found, ending.tenant_id):
        ctx.removals.schedule(
            Removal(removal_date(at), ending.tenant_id, ending.program, ending.learner_id)
        )


def _rewrite(
    ctx: RemovalContext, association: AssociationRecord, rows: list[CreditedRecord]
) -> None:
    """The report first: the learner's rows decide what is left to do, so a failure
    between the two writes leaves work that a retry still sees."""
    ctx.report.put_rows(
        association.tenant_id,
        [report_row(association.program, association.learner_id, c) for c in rows],
    )
    ctx.learners.put_credited(association.program, association.learner_id, rows)


def mark_for_removal(
    ctx: RemovalContext,
    found: LearnerFile,
    ended: AssociationRecord,
    *,
    active: AssociationRecord | None,
) -> None:
    """After the end committed: show the removal date on the rows, unless the
    learner's active association (`active`) is with the same organization again.
    Safe to repeat: rows already marked are not written."""
    assert ended.ended_at is not None
    if active is not None and active.tenant_id == ended.tenant_id:
        return
    on = removal_date(ended.ended_at)
    rows = [c for c in _credited_for(found, ended.tenant_id) if c.removal_on != on]
    if rows:
        _rewrite(ctx, ended, [c.model_copy(update={"removal_on": on}) for c in rows])


def keep_on_return(ctx: RemovalContext, found: LearnerFile, started: AssociationRecord) -> None:
    """The learner associated with the same organization again before the refresh:
    its rows stay and lose their removal date; no second row appears."""
    rows = [c for c in _credited_for(found, started.tenant_id) if c.removal_on is not None]
    if rows:
        _rewrite(ctx, started, [c.model_copy(update={"removal_on": None}) for c in rows])


@dataclass
class RefreshSummary:
    removals_read: int = 0
    rows_removed: int = 0
    rows_kept: int = 0
    removed_by_organization: dict[str, int] | None = None


MAX_ATTEMPTS = 8


def _report_rows(removal: Removal, rows: list[CreditedRecord]) -> list[ReportRow]:
    return [report_row(removal.program, removal.learner_id, c) for c in rows]


def _remove_due_rows(ctx: RemovalContext, removal: Removal, today: date) -> tuple[int, int]:
    """(rows removed, rows kept) for one learner and organization. The learner rows
    go in one transaction with a re-write of the learner's state row as read, so a
    learner who associates with the organization again while the refresh runs keeps
    them (rule 8); report rows this run took out meanwhile are put back."""
    report_touched = False
    for _ in range(MAX_ATTEMPTS):
        found = ctx.learners.read_file(removal.program, removal.learner_id)
        active = found.state.value.active if found.state else None
        rows = _credited_for(found, removal.tenant_id)
        if active is not None and active.tenant_id == removal.tenant_id:
            if report_touched and rows:
                ctx.report.put_rows(removal.tenant_id, _report_rows(removal, rows))
            return 0, len(rows)
        doomed = [c for c in rows if c.removal_on is None or c.removal_on <= today]
        if not doomed:
            return 0, len(rows)
        # Report rows first: a crash after them leaves the learner rows, which a
        # later run finds again; the other order would leave report rows nobody finds.
        ctx.report.delete_rows(removal.tenant_id, _report_rows(removal, doomed))
        report_touched = True
        try:
            ctx.learners.delete_credited(
                removal.program, removal.learner_id, doomed, while_unchanged=found.state
            )
        except ConcurrencyConflict:
            continue
        return len(doomed), len(rows) - len(doomed)
    raise ConcurrencyConflict(f"learner kept changing during the refresh of {removal}")


def refresh(ctx: RemovalContext, today: date, batch: int = 1_000) -> RefreshSummary:
    """Remove every credited row whose removal date is on or before today, including
    ones a missed or failed run left behind. Safe to run twice or after a crash."""
    summary = RefreshSummary(removed_by_organization={})
    assert summary.removed_by_organization is not None
    while True:
        due = ctx.removals.due(today, batch)
        if not due:
            break
        for removal in due:
            summary.removals_read += 1
            removed, kept = _remove_due_rows(ctx, removal, today)
            summary.rows_kept += kept
            if removed:
                summary.rows_removed += removed
                by_org = summary.removed_by_organization
                by_org[removal.tenant_id] = by_org.get(removal.tenant_id, 0) + removed
            ctx.removals.remove(removal)
        logger.info(
            "Refresh progress: %d removal(s) read, %d row(s) removed so far",
            summary.removals_read,
            summary.rows_removed,
        )
    for tenant_id, count in sorted(summary.removed_by_organization.items()):
        logger.info("Refresh removed %d row(s) of organization %s", count, tenant_id)
    return summary
