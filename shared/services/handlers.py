"""The side effects around a learner's commit, as tables a reader sees at once.

Before the commit go the writes that make a crash after them harmless: the claim
on the user's row (a claim the learner never saw is dropped by readers), the credit
wake-up and the removal row (a stray one finds nothing to do). After the commit go
the writes that follow from it; each is safe to repeat, so a retried call finishes
what a failure cut short. On a conflict, the claim is released."""

from collections.abc import Callable
from datetime import date

from shared.adapters.ports import ExpiryWarning, Removal, Wake, WarningKind
from shared.adapters.skills_report import report_row_of
from shared.domain import activity
from shared.domain.events import AssociationEnded, AssociationStarted, CredentialRecorded, Credited
from shared.domain.learner import Learner
from shared.domain.model import CreditedRecord, refresh_instant, removal_date
from shared.services import credit_apply
from shared.services.credited_rows import rewrite_credited
from shared.services.messagebus import HandlerTables
from shared.services.unit_of_work import UnitOfWork
from shared.services.webhooks import record_activity


def reserve_user_row(event: AssociationStarted, learner: Learner, uow: UnitOfWork) -> None:
    started = event.association
    uow.users.write(started.tenant_id, started.user_email, lambda u: u.with_record(started))


def release_reservation(event: AssociationStarted, learner: Learner, uow: UnitOfWork) -> None:
    started = event.association
    uow.users.change(
        started.tenant_id, started.user_email, lambda u: u.without(started.association_id)
    )


def schedule_credit_of_earlier_credentials(
    event: AssociationStarted, learner: Learner, uow: UnitOfWork
) -> None:
    """Rule 7: earlier credentials become pending, due a delay after the start."""
    if event.had_credentials:
        started = event.association
        uow.stores.wakes.schedule(
            Wake(
                started.program,
                started.learner_id,
                started.association_id,
                started.started_at + uow.credit_delay,
            )
        )


def schedule_credit_wake(event: CredentialRecorded, learner: Learner, uow: UnitOfWork) -> None:
    if event.active is not None and event.due_at is not None:
        uow.stores.wakes.schedule(
            Wake(learner.program, learner.learner_id, event.active.association_id, event.due_at)
        )


def _schedule_warnings(uow: UnitOfWork, learner: Learner, rows: list[CreditedRecord]) -> None:
    for row in rows:
        expires_at = row.credential.expires_at
        if expires_at is None:
            continue
        days: tuple[tuple[WarningKind, date], ...] = (
            ("expiring", (expires_at - uow.expiry_warning).date()),
            ("expired", expires_at.date()),
        )
        for kind, on in days:
            uow.stores.expiry_warnings.schedule(
                ExpiryWarning(
                    on=on,
                    kind=kind,
                    tenant_id=row.tenant_id,
                    program=learner.program,
                    learner_id=learner.learner_id,
                    credential_id=row.credential.id,
                    expires_at=expires_at,
                )
            )


def schedule_expiry_warnings(event: Credited, learner: Learner, uow: UnitOfWork) -> None:
    """Before the credit commits: the days to warn the organization about a credential
    that expires (a stray one, for a credit that did not commit, finds no row)."""
    _schedule_warnings(uow, learner, list(event.new))


def schedule_expiry_warnings_of_a_renewal(
    event: CredentialRecorded, learner: Learner, uow: UnitOfWork
) -> None:
    """A renewal moves the warnings to the new date (the old ones find a newer expiry
    on the row when they are due, and are dropped)."""
    expires_at = event.credential.expires_at
    if expires_at is None:
        return
    renewed = [
        row.model_copy(
            update={"credential": row.credential.model_copy(update={"expires_at": expires_at})}
        )
        for row in learner.credited
        if row.credential.id == event.credential.id and row.credential.expires_at != expires_at
    ]
    _schedule_warnings(uow, learner, renewed)


def file_removal(event: AssociationEnded, learner: Learner, uow: UnitOfWork) -> None:
    """Rule 8: remember to look at this organization's rows on the refresh."""
    ended = event.association
    if learner.credited_for(ended.tenant_id) and ended.ended_at is not None:
        uow.stores.removals.schedule(
            Removal(
                removal_date(ended.ended_at), ended.tenant_id, learner.program, ended.learner_id
            )
        )


RowChange = Callable[[Learner], list[CreditedRecord]]


def _removal_date_now(learner: Learner, tenant_id: str) -> date | None:
    """Rule 8 from the learner's truth: none while it is with the organization, else
    the refresh after its latest end there."""
    active = learner.active
    if active is not None and active.tenant_id == tenant_id:
        return None
    ends = [
        a.ended_at
        for a in learner.state.associations
        if a.tenant_id == tenant_id and a.ended_at is not None
    ]
    return removal_date(max(ends)) if ends else None


def _settle_removal_dates(uow: UnitOfWork, learner: Learner, tenant_id: str) -> None:
    dated: list[date] = []

    def to_change(current: Learner) -> list[CreditedRecord]:
        on = _removal_date_now(current, tenant_id)
        changed = [
            c.model_copy(update={"removal_on": on})
            for c in current.credited_for(tenant_id)
            if c.removal_on != on
        ]
        if changed and on is not None:
            dated[:] = [on]
        return changed

    rewrite_credited(uow, learner, tenant_id, to_change)
    if dated and refresh_instant(dated[0]) <= uow.clock.now():
        # Dated after its refresh ran (a handler finished late by the reconciler):
        # that run may have read the organization before these rows had a date, so
        # the next run looks at it again.
        uow.stores.removals.schedule(
            Removal(dated[0], tenant_id, learner.program, learner.learner_id)
        )


def _rows_to_be_removed(event: AssociationEnded, learner: Learner) -> list[CreditedRecord]:
    """Rule 8: the organization's rows get a removal date, unless the learner is with
    the same organization again."""
    ended, active = event.association, event.active_after
    if ended.ended_at is None or (active is not None and active.tenant_id == ended.tenant_id):
        return []
    return learner.credited_for(ended.tenant_id)


def record_association_started(
    event: AssociationStarted, learner: Learner, uow: UnitOfWork
) -> None:
    uow.record([activity.association_started(event.association)])


def record_association_ended(event: AssociationEnded, learner: Learner, uow: UnitOfWork) -> None:
    """The end, each removal it schedules, and for a departure the departure itself,
    in one write (same organization and instant), before the rows are marked: a
    retry writes the same entries again."""
    ended = event.association
    assert ended.ended_at is not None
    on = removal_date(ended.ended_at)
    departed = (
        [activity.user_left(ended.tenant_id, ended.user_email, ended.display_name, ended.ended_at)]
        if ended.end_reason == "user_departed"
        else []
    )
    uow.record(
        [
            *departed,
            activity.association_ended(ended),
            *(
                activity.credential_entry(
                    "credential.removal_scheduled",
                    learner.program,
                    learner.learner_id,
                    row,
                    at=ended.ended_at,
                    removal_on=on,
                )
                for row in _rows_to_be_removed(event, learner)
            ),
        ],
    )


def record_credited(event: Credited, learner: Learner, uow: UnitOfWork) -> None:
    """Every credited row of the association (idempotent), so an entry a crash kept
    from being written is written by the next credit of that association."""
    if event.all_of_association:
        uow.record(
            [
                activity.credential_entry(
                    "credential.credited", learner.program, learner.learner_id, c, at=c.credited_at
                )
                for c in event.all_of_association
            ],
        )


def mark_rows_for_removal(event: AssociationEnded, learner: Learner, uow: UnitOfWork) -> None:
    """Rule 8: the rows show their removal date; rows already marked are not written."""
    _settle_removal_dates(uow, learner, event.association.tenant_id)


def keep_rows_on_return(event: AssociationStarted, learner: Learner, uow: UnitOfWork) -> None:
    """Rule 8: back with the same organization before the refresh, the rows stay and
    lose their removal date; no second row appears."""
    _settle_removal_dates(uow, learner, event.association.tenant_id)


def copy_end_to_user(event: AssociationEnded, learner: Learner, uow: UnitOfWork) -> None:
    """The user's own copy of the association follows the learner's truth."""
    ended = event.association
    uow.users.change(ended.tenant_id, ended.user_email, lambda u: u.with_record(ended))


def credit_if_already_due(event: CredentialRecorded, learner: Learner, uow: UnitOfWork) -> None:
    """A completion reported late, already due: credited now, not on the next run."""
    if event.active is not None and event.due_at is not None and event.due_at <= uow.clock.now():
        credit_apply.apply_wake(
            uow,
            Wake(learner.program, learner.learner_id, event.active.association_id, event.due_at),
        )


def show_the_new_expiry_on_credited_rows(
    event: CredentialRecorded, learner: Learner, uow: UnitOfWork
) -> None:
    """A renewal extends the same credential: its credited rows (any organization)
    and their Skills Report rows show the new expiry; no second row appears. Safe
    to repeat: a redelivered event finishes what a failure cut short."""
    expires_at = event.credential.expires_at
    credential_id = event.credential.id

    def renewed_in(tenant_id: str) -> RowChange:
        def to_change(current: Learner) -> list[CreditedRecord]:
            return [
                row.model_copy(
                    update={
                        "credential": row.credential.model_copy(update={"expires_at": expires_at})
                    }
                )
                for row in current.credited_for(tenant_id)
                if row.credential.id == credential_id and row.credential.expires_at != expires_at
            ]

        return to_change

    tenants = {row.tenant_id for row in learner.credited if row.credential.id == credential_id}
    for tenant_id in sorted(tenants):
        rewrite_credited(uow, learner, tenant_id, renewed_in(tenant_id))


def project_to_skills_report(event: Credited, learner: Learner, uow: UnitOfWork) -> None:
    """Every credited row of the association, so a projection a crash cut short is
    completed by the next credit."""
    if event.all_of_association:
        rows = event.all_of_association
        uow.stores.report.put_rows(
            event.association.tenant_id,
            [report_row_of(learner.program, learner.learner_id, c) for c in rows],
        )


HANDLERS = HandlerTables(
    before_commit={
        AssociationStarted: [reserve_user_row, schedule_credit_of_earlier_credentials],
        AssociationEnded: [file_removal],
        CredentialRecorded: [schedule_credit_wake, schedule_expiry_warnings_of_a_renewal],
        Credited: [schedule_expiry_warnings],
    },
    after_commit={
        AssociationStarted: [record_association_started, keep_rows_on_return],
        AssociationEnded: [record_association_ended, mark_rows_for_removal, copy_end_to_user],
        CredentialRecorded: [show_the_new_expiry_on_credited_rows, credit_if_already_due],
        Credited: [project_to_skills_report, record_credited],
    },
    on_conflict={
        AssociationStarted: [release_reservation],
    },
    publish=lambda stores, entries, last: record_activity(stores, entries, last=last),
)
