"""The Skills Report (JSON, CSV, paging) and designation points, for admins only."""

import csv
import io
from datetime import UTC, date, datetime

from shared import bootstrap as runtime
from shared.services.designations import Catalog, designation_points, load_catalog
from shared.wire import ReportRow
from tests.support.api import FunctionClient
from tests.support.world import World, unique

CREDITED = datetime(2026, 2, 1, tzinfo=UTC)


def row(email: str, credential: str, learner: str | None = None) -> ReportRow:
    return ReportRow(
        email=email,
        display_name=email.split("@", maxsplit=1)[0],
        program="learn",
        learner_id=learner or f"MCID-{email}",
        credential_id=credential,
        kind="certification",
        title=f"Title {credential}",
        completed_at=CREDITED,
        credited_at=CREDITED,
        removal_on=None,
    )


def test_skills_report_pages_with_a_continuation_and_only_the_admins_tenant(
    world: World, api: FunctionClient
) -> None:
    tenant, other = world.tenant(), world.tenant()
    store = runtime.current().stores.report
    store.put_rows(tenant, [row(f"p{n:04d}@contoso.com", "AZ-104") for n in range(520)])
    store.put_rows(other, [row("stranger@fabrikam.com", "AZ-104")])
    admin = world.admin(tenant)
    first = api.call("GET", "org/skills-report", person=admin).json()
    assert len(first["rows"]) == 500
    assert set(first["rows"][0]) == set(ReportRow.model_fields)
    assert first["continuation"]
    second = api.call(
        "GET", "org/skills-report", person=admin, params={"continuation": first["continuation"]}
    ).json()
    assert (len(second["rows"]), second["continuation"]) == (20, None)
    emails = {r["email"] for r in first["rows"] + second["rows"]}
    assert len(emails) == 520
    assert "stranger@fabrikam.com" not in emails


def test_skills_report_as_csv_with_the_continuation_in_a_header(
    world: World, api: FunctionClient
) -> None:
    tenant = world.tenant()
    runtime.current().stores.report.put_rows(
        tenant, [row(f"p{n:04d}@contoso.com", "AZ-104") for n in range(501)]
    )
    response = api.call(
        "GET", "org/skills-report", person=world.admin(tenant), headers={"Accept": "text/csv"}
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert len(lines) == 500
    assert list(lines[0]) == list(ReportRow.model_fields)
    assert lines[0]["removal_on"] == ""
    assert lines[0]["credited_at"] == "2026-02-01T00:00:00Z"
    assert response.headers["x-continuation"]


def test_reports_are_for_admins_only(world: World, api: FunctionClient) -> None:
    person = api.member(world)
    tenant = person.tenant_id
    for path in ("org/skills-report", "org/designations"):
        response = api.call("GET", path, person=person)
        assert (response.status, response.error_code) == (403, "forbidden")
    response = api.call(
        "GET", "org/skills-report", person=world.admin(tenant), params={"continuation": "@@"}
    )
    assert (response.status, response.json()["error"]["field"]) == (400, "continuation")


def test_designation_points_count_each_person_once_per_metric_up_to_the_cap(
    world: World, api: FunctionClient
) -> None:
    tenant = world.tenant()
    rows = [row(f"p{n}@contoso.com", "AZ-104") for n in range(10)]
    rows += [row("p0@contoso.com", "AZ-500"), row("p1@contoso.com", "AZ-305")]
    rows += [row("p0@contoso.com", "AI-900", learner=unique("pu"))]
    runtime.current().stores.report.put_rows(tenant, rows)
    view = api.call("GET", "org/designations", person=world.admin(tenant)).json()
    infra = next(d for d in view["designations"] if d["id"] == "sample-infrastructure-azure")
    assert infra["metrics"] == [
        {"id": "intermediate-certifications", "points": 40, "cap": 40, "people": 10},
        {"id": "advanced-certifications", "points": 10, "cap": 30, "people": 1},
    ]
    assert infra["points"] == 50
    data_ai = next(d for d in view["designations"] if d["id"] == "sample-data-ai-azure")
    assert data_ai["points"] == 1
    assert set(data_ai) == {
        "id", "name", "points", "metrics", "next_expiry_on", "points_on_next_expiry"
    }  # fmt: skip
    assert (data_ai["next_expiry_on"], data_ai["points_on_next_expiry"]) == (None, None)


def test_the_shipped_catalog_is_valid_and_labelled_as_a_sample() -> None:
    catalog = load_catalog()
    assert isinstance(catalog, Catalog)
    assert "SAMPLE" in catalog.about
    assert all("[SAMPLE]" in d.name for d in catalog.designations)
    assert designation_points(catalog, [], date(2026, 1, 5)).designations[0].points == 0
