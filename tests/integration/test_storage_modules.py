"""Each storage module against real Azurite: layout, ETags, keys, paging."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from devtools.azurite import AzuritePorts
from shared.adapters.errors import ConcurrencyConflict, InvalidContinuation
from shared.adapters.learners import LearnerTable
from shared.adapters.partner_users import PAGE_SIZE, PartnerUserTable
from shared.adapters.tables import TableStore
from shared.domain.model import AssociationRecord, PartnerUser
from tests.support.world import settings_for, unique

NOW = datetime(2026, 3, 1, 8, tzinfo=UTC)
AWKWARD = ["o'brien@contoso.com", "a/b\\c#d?e%f@contoso.com", "tab\there@contoso.com", "ü@ß.de"]


@pytest.fixture
def store(azurite: AzuritePorts, keys) -> TableStore:
    return TableStore(settings_for(keys, azurite.connection_string))


def user(tenant: str, email: str, **kwargs) -> PartnerUser:
    return PartnerUser(tenant_id=tenant, email=email, display_name="X", created_at=NOW, **kwargs)


def record(learner: str, tenant: str, email: str, **kwargs) -> AssociationRecord:
    return AssociationRecord(
        association_id=unique("a"),
        program="learn",
        learner_id=learner,
        tenant_id=tenant,
        user_email=email,
        started_at=NOW,
        jti=unique("jti"),
        **kwargs,
    )


@pytest.mark.parametrize("email", AWKWARD)
def test_partner_users_store_any_email_and_round_trip(store: TableStore, email: str) -> None:
    table = PartnerUserTable(store)
    tenant = unique("tenant/#?")
    saved = user(tenant, email).with_record(record("L", tenant, email))
    table.insert(saved)
    found = table.get(tenant, email.upper() if email.isascii() else email)
    assert found is not None
    assert found.value == saved


def test_partner_users_insert_twice_and_stale_replace_conflict(store: TableStore) -> None:
    table = PartnerUserTable(store)
    tenant = unique("tenant")
    first = user(tenant, "a@contoso.com")
    etag = table.insert(first)
    with pytest.raises(ConcurrencyConflict):
        table.insert(first)
    newer = table.replace(first.signed_in(NOW, "oid-1"), etag)
    with pytest.raises(ConcurrencyConflict):
        table.replace(first, etag)
    assert table.replace(first, newer) != newer
    assert table.get(tenant, "missing@contoso.com") is None


def test_partner_users_pages_by_tenant_with_filters(store: TableStore) -> None:
    table = PartnerUserTable(store)
    tenant, other = unique("tenant"), unique("tenant")
    for number in range(PAGE_SIZE + 5):
        table.insert(user(tenant, f"u{number:03d}@contoso.com"))
    linked_email = "linked@contoso.com"
    table.insert(user(tenant, linked_email).with_record(record("L1", tenant, linked_email)))
    ended = record("L2", tenant, "ended@contoso.com").ended(NOW, "unlinked")
    table.insert(user(tenant, "ended@contoso.com").with_record(ended))
    table.insert(user(tenant, "gone@contoso.com", status="departed"))
    table.insert(user(other, "stranger@contoso.com"))

    first, token = table.page(tenant, linked=None, continuation=None)
    assert len(first) == PAGE_SIZE
    assert token is not None
    rest, end = table.page(tenant, linked=None, continuation=token)
    assert end is None
    emails = {u.email for u in first + rest}
    assert len(emails) == PAGE_SIZE + 5 + 3
    assert "stranger@contoso.com" not in emails

    never: list[PartnerUser] = []
    token = None
    while True:
        page, token = table.page(tenant, linked=False, continuation=token)
        never += page
        if token is None:
            break
    never_emails = {u.email for u in never}
    assert len(never_emails) == PAGE_SIZE + 5
    assert not {"linked@contoso.com", "ended@contoso.com", "gone@contoso.com"} & never_emails

    linked_now, _ = table.page(tenant, linked=True, continuation=None)
    assert [u.email for u in linked_now] == [linked_email]


def test_partner_users_refuse_a_forged_continuation(store: TableStore) -> None:
    table = PartnerUserTable(store)
    for token in ("%%%", "bm90IGpzb24", "WzFd"):
        with pytest.raises(InvalidContinuation):
            table.page(unique("tenant"), linked=None, continuation=token)


@pytest.mark.parametrize("learner_id", ["MCID-1", "we/ird#id?\\x", "ctrl\x01id", "o'neil"])
def test_learners_insert_replace_conflict(store: TableStore, learner_id: str) -> None:
    table = LearnerTable(store)
    learner = f"{learner_id}-{unique('x')}"
    first, rival = (table.load("partner_university", learner) for _ in range(2))
    assert not first.exists
    first.fence()
    table.commit(first)
    rival.fence()
    with pytest.raises(ConcurrencyConflict):
        table.commit(rival)
    stale = table.load("partner_university", learner, state_only=True)
    first.start(record(learner, "t", "e@x.com"))
    table.commit(first)
    stale.fence()
    with pytest.raises(ConcurrencyConflict):
        table.commit(stale)
    found = table.load("partner_university", learner, state_only=True)
    assert (found.state, found.version) == (first.state, first.version)
    assert not table.load("learn", learner).exists


def test_learners_commit_credentials_and_credited_rows_under_the_state_row(
    store: TableStore,
) -> None:
    from shared.domain.model import CredentialRecord

    table = LearnerTable(store)
    learner_id = unique("MCID")
    ingest, link = (table.load("learn", learner_id) for _ in range(2))
    credential = CredentialRecord(id="AZ-104", kind="certification", title="T", completed_at=NOW)
    ingest.record_credential(credential, timedelta(days=10))
    table.commit(ingest)
    association = record(learner_id, "t", "e@x.com")
    link.start(association)
    with pytest.raises(ConcurrencyConflict):
        table.commit(link)
    link = table.load("learn", learner_id)
    assert list(link.credentials) == ["AZ-104"]
    link.start(association)
    table.commit(link)
    link.credit(association.association_id, NOW + timedelta(days=11), timedelta(days=10))
    table.commit(link)
    found = table.load("learn", learner_id)
    assert [c.credential.id for c in found.credited] == ["AZ-104"]
    assert found.version == link.version


def test_tables_are_created_on_first_use_on_a_fresh_account(azurite: AzuritePorts, keys) -> None:
    from azure.data.tables import TableServiceClient

    service = TableServiceClient.from_connection_string(azurite.connection_string)
    store = TableStore(settings_for(keys, azurite.connection_string))
    for name in ("learners", "partnerusers"):
        service.delete_table(name)
    assert not LearnerTable(store).load("learn", "nobody").exists
    assert PartnerUserTable(store).get("t", "nobody@x.com") is None
    names = {t.name for t in service.list_tables()}
    assert {"learners", "partnerusers"} <= names


def test_skills_report_keys_of_different_learner_and_credential_pairs_never_collide(
    store: TableStore,
) -> None:
    from shared.adapters.skills_report import SkillsReportTable
    from shared.wire import ReportRow

    table = SkillsReportTable(store)
    tenant = unique("tenant")

    def row(learner_id: str, credential_id: str) -> ReportRow:
        doomed = (learner_id, credential_id) == ("a", "b|c")
        return ReportRow(
            email="p@contoso.com", display_name="P", program="learn", learner_id=learner_id,
            credential_id=credential_id, kind="certification", title="T", completed_at=NOW,
            credited_at=NOW, removal_on=NOW.date() if doomed else None,
        )  # fmt: skip

    pairs = [("a|b", "c"), ("a", "b|c"), ("a%7Cb", "c")]
    table.put_rows(tenant, [row(*pair) for pair in pairs])
    stored, _ = table.page(tenant, None)
    assert sorted((r.learner_id, r.credential_id) for r in stored) == sorted(pairs)
    table.delete_unchanged(tenant, table.due_for_removal(tenant, NOW.date()))
    stored, _ = table.page(tenant, None)
    assert sorted((r.learner_id, r.credential_id) for r in stored) == [("a%7Cb", "c"), ("a|b", "c")]


def test_learner_credited_rows_of_different_tenant_and_credential_pairs_never_collide(
    store: TableStore,
) -> None:
    from shared.domain.model import CredentialRecord, CreditedRecord

    learners = LearnerTable(store)
    learner = unique("MCID")

    def credited(tenant: str, credential_id: str) -> CreditedRecord:
        return CreditedRecord(
            association_id="a", tenant_id=tenant, user_email="p@contoso.com", display_name="P",
            credential=CredentialRecord(
                id=credential_id, kind="training", title="T", completed_at=NOW
            ),
            credited_at=NOW,
        )  # fmt: skip

    learners.put_credited(
        learners.load("learn", learner), [credited("t|x", "c"), credited("t", "x|c")]
    )
    found = learners.load("learn", learner)
    assert sorted((c.tenant_id, c.credential.id) for c in found.credited) == [
        ("t", "x|c"),
        ("t|x", "c"),
    ]


def test_credit_wakes_of_one_association_in_one_hour_are_separate_rows(
    store: TableStore,
) -> None:
    from datetime import timedelta

    from shared.adapters.credit_wakes import CreditWakeTable
    from shared.adapters.ports import Wake

    wakes = CreditWakeTable(store)
    learner = unique("MCID")
    early = Wake("learn", learner, "assoc", NOW.replace(minute=10))
    late = Wake("learn", learner, "assoc", NOW.replace(minute=40))
    wakes.schedule(late)
    wakes.schedule(early)
    wakes.schedule(early)

    def ours(now: datetime) -> list[Wake]:
        return [w for w in wakes.due(now, 10_000) if w.learner_id == learner]

    assert ours(NOW.replace(minute=5)) == []
    assert ours(NOW.replace(minute=15)) == [early]
    assert ours(NOW + timedelta(hours=1)) == [early, late]
    wakes.remove(early)
    assert ours(NOW + timedelta(hours=1)) == [late]


def test_put_credited_conflicts_when_the_learner_changed_since_it_was_read(
    store: TableStore,
) -> None:
    """A late writer of rows (removal dates) never overwrites what a later commit of
    the learner decided: it conflicts and must read again."""
    import pytest

    from shared.adapters.errors import ConcurrencyConflict
    from shared.adapters.learners import LearnerTable

    learners = LearnerTable(store)
    learner_id = unique("MCID")
    first = learners.load("learn", learner_id)
    first.fence()
    learners.commit(first)
    late = learners.load("learn", learner_id)
    later = learners.load("learn", learner_id)
    later.fence()
    learners.commit(later)
    with pytest.raises(ConcurrencyConflict):
        learners.put_credited(late, [])
    assert learners.load("learn", learner_id).credited == []


def test_report_rows_due_for_removal_are_deleted_in_transactions_only_as_they_were_read(
    store: TableStore,
) -> None:
    from datetime import date

    from shared.adapters.skills_report import SkillsReportTable
    from shared.wire import ReportRow

    table = SkillsReportTable(store)
    tenant = unique("tenant")

    def row(n: int, removal_on: date | None) -> ReportRow:
        return ReportRow(
            email=f"p{n}@contoso.com", display_name="P", program="learn", learner_id=f"L{n:03d}",
            credential_id="AZ-104", kind="certification", title="T", completed_at=NOW,
            credited_at=NOW, removal_on=removal_on,
        )  # fmt: skip

    due_day, later = date(2026, 4, 10), date(2026, 5, 10)
    table.put_rows(tenant, [row(n, due_day) for n in range(150)])
    table.put_rows(tenant, [row(200, later), row(201, None)])
    due = table.due_for_removal(tenant, due_day)
    assert len(due) == 150
    # A row changed since it was read (a return cleared its date): its transaction
    # fails and leaves every row of it; the transaction before it stays done.
    table.put_rows(tenant, [row(149, None)])
    with pytest.raises(ConcurrencyConflict):
        table.delete_unchanged(tenant, due)
    left, _ = table.page(tenant, None)
    assert len(left) == 2 + 50
    again = table.due_for_removal(tenant, due_day)
    assert len(again) == 49
    table.delete_unchanged(tenant, again)
    left, _ = table.page(tenant, None)
    assert sorted(r.learner_id for r in left) == ["L149", "L200", "L201"]


def test_removals_are_removed_in_batches_per_date_and_twice_is_fine(store: TableStore) -> None:
    from datetime import date

    from shared.adapters.ports import Removal
    from shared.adapters.report_removals import ReportRemovalTable

    table = ReportRemovalTable(store)
    tenant = unique("tenant")
    removals = [Removal(date(1990, 1 + n % 2, 10), tenant, "learn", f"L{n}") for n in range(130)]
    for removal in removals:
        table.schedule(removal)
    mine = [r for r in table.due(date(1990, 3, 1), 10_000) if r.tenant_id == tenant]
    assert len(mine) == 130
    table.remove_many(mine[:10])
    table.remove_many(mine)
    assert [r for r in table.due(date(1990, 3, 1), 10_000) if r.tenant_id == tenant] == []


def test_a_learners_rows_the_refresh_took_are_not_loaded_and_go_with_its_next_commit(
    store: TableStore,
) -> None:
    from datetime import date

    from shared.adapters.learners import learner_partition
    from shared.domain.model import CredentialRecord, CreditedRecord
    from tests.support.clock import MutableClock

    clock = MutableClock(datetime(2026, 4, 1, tzinfo=UTC))
    learners = LearnerTable(store, clock)
    tenant, learner_id = unique("tenant"), unique("MCID")
    learner = learners.load("learn", learner_id)
    ended = record(learner_id, tenant, "p@contoso.com").ended(NOW + timedelta(days=1), "unlinked")
    learner.state = learner.state.with_record(ended)
    learner.fence()
    learners.commit(learner)
    rows = [
        CreditedRecord(
            association_id=ended.association_id,
            tenant_id=tenant,
            user_email="p@contoso.com",
            display_name="P",
            credited_at=NOW,
            removal_on=date(2026, 4, 10),
            credential=CredentialRecord(id=f"C-{n}", kind="training", title="T", completed_at=NOW),
        )
        for n in range(3)
    ]
    learners.put_credited(learners.load("learn", learner_id), rows)
    assert len(learners.load("learn", learner_id).credited) == 3
    clock.set(datetime(2026, 4, 10, 2, tzinfo=UTC))
    gone = learners.load("learn", learner_id)
    assert gone.credited == [] and len(gone.removed_credited) == 3
    gone.fence()
    learners.commit(gone)
    still = store.table("learners").query_entities(
        "PartitionKey eq @pk", parameters={"pk": learner_partition("learn", learner_id)}
    )
    assert [e["RowKey"] for e in still] == ["state"]


@pytest.mark.parametrize("tenant", ["contoso-tenant", "tenant/with#odd?chars"])
def test_org_settings_keep_each_organizations_track_choices_apart(
    store: TableStore, tenant: str
) -> None:
    from shared.adapters.org_settings import OrgSettingsTable

    settings = OrgSettingsTable(store)
    other = unique("other")
    assert settings.tracks(tenant + unique("-")) == {}
    mine = tenant + unique("-")
    settings.set_track(mine, "business-applications", "smb")
    settings.set_track(mine, "business-applications", "smb")  # again: the same row
    settings.set_track(mine, "infrastructure-azure", "enterprise")
    settings.set_track(other, "business-applications", "enterprise")
    assert settings.tracks(mine) == {
        "business-applications": "smb",
        "infrastructure-azure": "enterprise",
    }
    settings.set_track(mine, "business-applications", None)
    settings.set_track(mine, "business-applications", None)  # deleting twice is fine
    assert settings.tracks(mine) == {"infrastructure-azure": "enterprise"}
    assert settings.tracks(other) == {"business-applications": "enterprise"}


def test_the_organizations_registry_lists_each_organization_once_in_its_shard(
    store: TableStore,
) -> None:
    from shared.adapters.organizations import SHARDS, OrganizationTable, shard_of

    registry = OrganizationTable(store)
    tenants = [unique("org") for _ in range(40)] + ["tenant/with#odd?chars"]
    for tenant in tenants:
        registry.add(tenant)
        registry.add(tenant)  # again: the same row
    listed = [t for shard in range(SHARDS) for t in registry.in_shard(shard) if t in tenants]
    assert sorted(listed) == sorted(tenants)
    for tenant in tenants:
        assert tenant in registry.in_shard(shard_of(tenant))


def test_activity_pages_a_sparse_log_in_one_query_and_the_retention_takes_one_tail(
    azurite: AzuritePorts, keys
) -> None:
    from datetime import UTC, datetime

    from devtools.request_counter import RequestCounter
    from shared import bootstrap
    from shared.adapters.activity import ActivityTable
    from shared.domain.activity import ActivityRecord

    counter = RequestCounter()
    rt = bootstrap.Runtime(settings_for(keys, azurite.connection_string), request_hook=counter)
    log = ActivityTable(rt.tables)
    tenant, other = unique("tenant"), unique("tenant")

    def entry(tenant_id: str, year: int, month: int) -> ActivityRecord:
        return ActivityRecord.model_validate(
            {
                "id": unique("e"), "type": "user.added", "tenant_id": tenant_id,
                "at": datetime(year, month, 3, tzinfo=UTC), "email": f"{month}@contoso.com",
                "display_name": "X",
            }
        )  # fmt: skip

    # One entry a month over two years: the sparse log a page used to walk month by month.
    months = [(2024 + (m - 1) // 12, (m - 1) % 12 + 1) for m in range(1, 25)]
    log.put([entry(tenant, y, m) for y, m in months])
    log.put([entry(other, 2024, 1)])
    counter.reset()
    found, more = log.page(
        tenant, since=datetime(2024, 1, 1, tzinfo=UTC), until=datetime(2025, 12, 31, tzinfo=UTC)
    )
    assert (len(found), more, counter.total) == (24, None, 1)
    assert found[0].at > found[-1].at  # newest first
    removed = log.remove_before(tenant, datetime(2024, 7, 20, tzinfo=UTC))
    assert removed == 6  # January to June 2024
    found, _ = log.page(
        tenant, since=datetime(2020, 1, 1, tzinfo=UTC), until=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert min(e.at for e in found) == datetime(2024, 7, 3, tzinfo=UTC)
    other_found, _ = log.page(
        other, since=datetime(2020, 1, 1, tzinfo=UTC), until=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert len(other_found) == 1  # another organization's tail is its own
    assert log.remove_before(tenant, datetime(2024, 7, 20, tzinfo=UTC)) == 0


def test_a_lean_query_page_reads_the_rows_and_next_keys_the_sdk_reads(store: TableStore) -> None:
    """query_page leaves the SDK's entity conversion out (the activity read's pages);
    what it reads must be what the SDK's own query reads, page by page."""
    from shared.adapters.tables import query_page

    table = store.table("activity")
    partition = unique("lean|")
    awkward = [*AWKWARD, 'quote \' and "double"', "percent %27 and @pk"]
    for n in range(230):
        table.upsert_entity(
            {"PartitionKey": partition, "RowKey": f"{n:04d}", "Data": awkward[n % len(awkward)]}
        )
    query = "PartitionKey eq @pk and RowKey ge @from and Data ne @skip"
    parameters = {"pk": partition, "from": "0005", "skip": "o'brien@contoso.com"}
    select = ["PartitionKey", "RowKey", "Data"]
    sdk_pages = table.query_entities(
        query, parameters=parameters, results_per_page=100, select=select
    ).by_page()
    lean_token = None
    pages, read = 0, 0
    for sdk_page in sdk_pages:
        rows, lean_token = query_page(
            table, query, parameters=parameters, select=select, top=100, continuation=lean_token
        )
        assert rows == [dict(entity) for entity in sdk_page]
        read += len(rows)
        sdk_token = getattr(sdk_pages, "continuation_token", None)
        assert lean_token == (dict(sdk_token) if sdk_token else None)
        pages += 1
    # Rows 5 to 229 less the 38 that hold the skipped value, 100 a page.
    assert (read, pages, lean_token) == (187, 2, None)


def test_a_lean_query_goes_through_the_clients_pipeline_and_its_errors(
    azurite: AzuritePorts, keys
) -> None:
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    from devtools.request_counter import RequestCounter
    from shared.adapters.tables import FilterTooLarge, query_page

    counter = RequestCounter()
    store = TableStore(settings_for(keys, azurite.connection_string), request_hook=counter)
    table = store.table("activity")
    counter.reset()
    query_page(table, "PartitionKey eq @pk", parameters={"pk": "x"}, select=["Data"], top=1)
    assert counter.total == 1  # counted as every other storage request is
    sixteen = " or ".join(f"RowKey eq @r{n}" for n in range(16))
    with pytest.raises(FilterTooLarge):
        query_page(
            table, sixteen, parameters={f"r{n}": str(n) for n in range(16)}, select=["Data"], top=1
        )
    gone = store._service_client().get_table_client("missing" + uuid.uuid4().hex)
    with pytest.raises(ResourceNotFoundError):
        query_page(gone, "PartitionKey eq @pk", parameters={"pk": "x"}, select=["Data"], top=1)
    with pytest.raises(HttpResponseError):
        query_page(table, "PartitionKey eq eq @pk", parameters={"pk": "x"}, select=["Data"], top=1)
    with pytest.raises(TypeError):
        query_page(table, "PartitionKey eq @pk", parameters={"pk": 1}, select=["Data"], top=1)  # type: ignore[dict-item]
