"""Rule 9's cost: the refresh reads only what is due, so its storage requests are the
same whether the tables hold 100 or 5,000 other users."""

from datetime import UTC, date, datetime

from devtools.request_counter import RequestCounter
from shared import bootstrap as runtime
from shared.adapters.keys import encode_key
from shared.adapters.ports import Removal
from shared.adapters.skills_report import report_row_of
from shared.domain.learner import Learner
from shared.domain.model import (
    AssociationRecord,
    CredentialRecord,
    CreditedRecord,
    LearnerState,
    PartnerUser,
)
from shared.services.refresh import refresh
from tests.support.world import unique

ENDED = datetime(2026, 1, 15, tzinfo=UTC)
REFRESH_DAY = date(2026, 2, 10)


def seed_other_users(rt: runtime.Runtime, count: int) -> None:
    table = rt.tables.table("partnerusers")
    tenant = unique("big-tenant")
    users = [
        PartnerUser(tenant_id=tenant, email=f"u{n}@contoso.com", display_name="U", created_at=ENDED)
        for n in range(count)
    ]
    for start in range(0, count, 100):
        table.submit_transaction(
            [
                (
                    "upsert",
                    {
                        "PartitionKey": encode_key(tenant),
                        "RowKey": u.email,
                        "Status": "active",
                        "EverLinked": False,
                        "LinkedAny": False,
                        "Data": u.model_dump_json(),
                    },
                )
                for u in users[start : start + 100]
            ]
        )
    for n in range(0, count, 10):
        rt.stores.removals.schedule(Removal(date(2027, 1, 10), tenant, "learn", f"future-{n}"))


def seed_due_rows(rt: runtime.Runtime, tenant: str, learners: int, per_learner: int) -> None:
    for n in range(learners):
        learner = unique("MCID")
        association = AssociationRecord(
            association_id=unique("a"),
            program="learn",
            learner_id=learner,
            tenant_id=tenant,
            user_email=f"p{n}@contoso.com",
            started_at=ENDED,
            ended_at=ENDED,
            end_reason="user_departed",
            jti=unique("j"),
        )
        seeded = Learner.new("learn", learner)
        seeded.state = LearnerState(program="learn", learner_id=learner, associations=[association])
        seeded.fence()
        rt.stores.learners.commit(seeded)
        credited = [
            CreditedRecord(
                association_id=association.association_id,
                tenant_id=tenant,
                user_email=association.user_email,
                display_name="P",
                credential=CredentialRecord(
                    id=f"C-{k}", kind="training", title="T", completed_at=ENDED
                ),
                credited_at=ENDED,
                removal_on=REFRESH_DAY,
            )
            for k in range(per_learner)
        ]
        rt.stores.learners.put_credited(rt.stores.learners.load("learn", learner), credited)
        rt.stores.report.put_rows(tenant, [report_row_of("learn", learner, c) for c in credited])
        rt.stores.removals.schedule(Removal(REFRESH_DAY, tenant, "learn", learner))


RUN_CONSTANT = 2
"""Per run: the due removals and the due removals' batch (the activity retention is a
daily timer of its own since issue 24's one-partition-per-organization log)."""
PER_ORGANIZATION = 4
"""Per organization touched: its due report rows (one query), their deletion (one
transaction per 100 rows), its webhooks (for the removals' activity entries) and the
entries themselves (one transaction)."""
ONE_ORGANIZATION_TARGET = 8


def refresh_requests(
    azure_runtime: runtime.Runtime, other_users: int, organizations: int = 1
) -> tuple[int, int]:
    counter = RequestCounter()
    rt = runtime.Runtime(azure_runtime.settings, azure_runtime.clock, counter)
    rt.stores.removals.remove_many(rt.stores.removals.due(date(2100, 1, 1), 100_000))
    seed_other_users(rt, other_users)
    tenants = [unique("leaving-tenant") for _ in range(organizations)]
    for tenant in tenants:
        seed_due_rows(rt, tenant, learners=10, per_learner=2)
    for table in ("webhooks", "activity"):
        rt.tables.table(table)  # created once per process, not per run
    counter.reset()
    summary = refresh(rt.deps, REFRESH_DAY)
    requests = counter.total
    assert summary.rows_removed == 20 * organizations
    for tenant in tenants:
        assert rt.stores.report.page(tenant, None)[0] == []
    return requests, summary.rows_removed


def test_rule_9_refresh_cost_grows_with_rows_due_not_with_users(
    azure_runtime: runtime.Runtime,
) -> None:
    small, removed = refresh_requests(azure_runtime, other_users=100)
    large, _ = refresh_requests(azure_runtime, other_users=5_000)
    print(f"refresh requests for {removed} rows due: {small} among 100 users, {large} among 5,000")
    assert small == large


def test_rule_9_the_refresh_removes_20_rows_of_one_organization_in_at_most_8_requests(
    azure_runtime: runtime.Runtime,
) -> None:
    """Not one request per row: the organization's due rows go in transactions of up
    to 100, and the learners' rows go with their next commit."""
    one, _ = refresh_requests(azure_runtime, other_users=10)
    three, _ = refresh_requests(azure_runtime, other_users=10, organizations=3)
    print(f"refresh requests: 20 rows of 1 organization {one}, 60 rows of 3: {three}")
    assert one == RUN_CONSTANT + PER_ORGANIZATION <= ONE_ORGANIZATION_TARGET
    assert three == RUN_CONSTANT + 3 * PER_ORGANIZATION


def test_the_expiry_warnings_cost_grows_with_what_is_due_not_with_all_credentials(
    azure_runtime: runtime.Runtime,
) -> None:
    from datetime import timedelta

    from shared.adapters.ports import ExpiryWarning
    from shared.services.expiry import send_expiry_warnings

    def requests_with(not_due: int) -> int:
        counter = RequestCounter()
        rt = runtime.Runtime(azure_runtime.settings, azure_runtime.clock, counter)
        today = rt.clock.now().date()
        for left in rt.stores.expiry_warnings.due(date(2100, 1, 1), 100_000):
            rt.stores.expiry_warnings.remove(left)
        for n in range(not_due + 5):
            on = today if n < 5 else today + timedelta(days=1 + n % 300)
            rt.stores.expiry_warnings.schedule(
                ExpiryWarning(on, "expired", "t", "learn", unique("MCID"), "AZ-104",
                              datetime(2030, 1, 1, tzinfo=UTC))
            )  # fmt: skip
        counter.reset()
        send_expiry_warnings(rt.deps)
        return counter.total

    few, many = requests_with(10), requests_with(400)
    print(f"expiry warnings: {few} requests with 10 not due, {many} with 400")
    assert few == many
