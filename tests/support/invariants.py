"""What must hold after anything (a crash, a race, a load run), checked on the
stored truth of the learners and partner users an operation touched."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from shared.adapters.ports import Stores
from shared.domain.types import Program
from shared.wire import ReportRow


def invariant_violations(
    stores: Stores,
    credit_delay: timedelta,
    now: datetime,
    learners: Iterable[tuple[Program, str]],
    users: Iterable[tuple[str, str]],
) -> list[str]:
    found: list[str] = []
    for program, learner_id in learners:
        learner = stores.learners.load(program, learner_id)
        actives = [a for a in learner.state.associations if a.is_active]
        if len(actives) > 1:
            found.append(f"{learner_id} has {len(actives)} active associations (rule 5)")
        for truth in learner.state.associations:
            user = stores.users.get(truth.tenant_id, truth.user_email)
            copy = user.value.find_association(truth.association_id) if user else None
            if copy is None or (copy.is_active, copy.end_reason) != (
                truth.is_active,
                truth.end_reason,
            ):
                found.append(f"user row disagrees on {truth.association_id}: {copy}")
            if user and not user.value.is_active and truth.is_active:
                found.append(f"departed {truth.user_email} keeps an active association")
            if truth.is_active:
                overdue = [c.id for c, due in learner.pending(truth, credit_delay) if due <= now]
                if overdue:
                    found.append(f"due and not credited: {overdue}")
        ids = [(c.tenant_id, c.credential.id) for c in learner.credited]
        if len(ids) != len(set(ids)):
            found.append(f"credited twice: {ids}")
        for tenant in {c.tenant_id for c in learner.credited}:
            reported = {(r.learner_id, r.credential_id) for r in _all_report_rows(stores, tenant)}
            for credited in learner.credited_for(tenant):
                if (learner_id, credited.credential.id) not in reported:
                    found.append(f"credited row without its report row: {credited.credential.id}")
                if credited.removal_on is not None and credited.removal_on <= now.date():
                    found.append(f"row due on {credited.removal_on} not removed")
            ended = [a for a in learner.state.associations if a.tenant_id == tenant]
            if ended and not any(a.is_active for a in ended):
                unmarked = [c for c in learner.credited_for(tenant) if not c.removal_on]
                if unmarked:
                    story = "; ".join(
                        f"{a.association_id[:6]} {a.started_at:%H:%M:%S.%f}-"
                        f"{a.ended_at:%H:%M:%S.%f} {a.end_reason}"
                        for a in ended
                        if a.ended_at
                    )
                    rows = ", ".join(
                        f"{c.credential.id} of {c.association_id[:6]} at {c.credited_at:%H:%M:%S.%f}"
                        for c in unmarked
                    )
                    found.append(
                        f"ended organization's rows lost their removal date: {rows} ({story})"
                    )
    for tenant_id, email in users:
        user = stores.users.get(tenant_id, email)
        for copy in user.value.associations if user else []:
            held = stores.learners.load(copy.program, copy.learner_id, state_only=True)
            if held.association(copy.association_id) is None:
                found.append(f"a claim stays live: {copy.association_id}")
        if user is not None:
            active_programs = [a.program for a in user.value.associations if a.is_active]
            if len(active_programs) != len(set(active_programs)):
                found.append(f"{email} has two active associations in one program (rule 4)")
    return found


def _all_report_rows(stores: Stores, tenant: str) -> list[ReportRow]:
    rows, continuation = stores.report.page(tenant, None)
    while continuation:
        more, continuation = stores.report.page(tenant, continuation)
        rows += more
    return rows
