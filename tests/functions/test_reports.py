"""The Skills Report (JSON, CSV, paging) and designation points, for admins only."""

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

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
    rows = [row(f"p{n}@contoso.com", "MS-700") for n in range(5)]
    rows += [row("p0@contoso.com", "MD-102"), row("p1@contoso.com", "MS-102")]
    rows += [row("p0@contoso.com", "AI-900", learner=unique("pu"))]
    runtime.current().stores.report.put_rows(tenant, rows)
    view = api.call("GET", "org/designations", person=world.admin(tenant)).json()
    work = next(d for d in view["designations"] if d["id"] == "modern-work")
    assert [(m["id"], m["points"], m["cap"], m["people"]) for m in work["metrics"]] == [
        ("intermediate-certifications", 10, 10, 5),
        ("advanced-certifications", 15, 15, 1),
    ]
    assert (work["points"], work["track"], work["points_missing"]) == (25, "smb", 0)
    assert {"id", "name", "points", "metrics", "next_expiry_on", "points_on_next_expiry"} <= set(
        work
    )
    assert {"id", "points", "cap", "people"} <= set(work["metrics"][0])
    data_ai = next(d for d in view["designations"] if d["id"] == "data-ai-azure")
    assert data_ai["points"] == 0
    assert (data_ai["next_expiry_on"], data_ai["points_on_next_expiry"]) == (None, None)


def test_an_admin_chooses_the_track_of_a_designation_that_has_one(
    world: World, api: FunctionClient
) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    runtime.current().stores.report.put_rows(
        tenant, [row(f"p{n}@contoso.com", "PL-200") for n in range(3)]
    )

    def business() -> dict[str, object]:
        view = api.call("GET", "org/designations", person=admin).json()
        found: dict[str, object] = next(
            d for d in view["designations"] if d["id"] == "business-applications"
        )
        return found

    assert (business()["track"], business()["points"]) == ("enterprise", 3)
    chosen = api.call(
        "PUT", "org/designations/business-applications/track", person=admin, json={"track": "smb"}
    )
    assert chosen.status == 200, chosen.body
    assert (chosen.json()["track"], chosen.json()["points"]) == ("smb", 12)
    assert (business()["track"], business()["points"]) == ("smb", 12)
    other = world.admin(world.tenant())  # another organization keeps the default
    view = api.call("GET", "org/designations", person=other).json()
    assert (
        next(d for d in view["designations"] if d["id"] == "business-applications")["track"]
        == "enterprise"
    )
    back = api.call(
        "PUT", "org/designations/business-applications/track", person=admin, json={"track": None}
    )
    assert back.json()["track"] == "enterprise"
    both = api.call(
        "PUT", "org/designations/modern-work/track", person=admin, json={"track": "smb"}
    )
    assert (both.status, both.json()["error"]["code"]) == (409, "no_track_to_choose")
    unknown = api.call(
        "PUT", "org/designations/gold-competency/track", person=admin, json={"track": "smb"}
    )
    assert (unknown.status, unknown.json()["error"]["code"]) == (404, "designation_not_found")
    bad = api.call(
        "PUT", "org/designations/business-applications/track", person=admin, json={"track": "mid"}
    )
    assert (bad.status, bad.json()["error"]["field"]) == (400, "track")
    member = api.member(world)
    refused = api.call(
        "PUT", "org/designations/business-applications/track", person=member, json={"track": "smb"}
    )
    assert (refused.status, refused.json()["error"]["code"]) == (403, "forbidden")


def test_the_people_of_a_designation_as_json_and_csv(world: World, api: FunctionClient) -> None:
    tenant = world.tenant()
    admin = world.admin(tenant)
    runtime.current().stores.report.put_rows(
        tenant,
        [
            row("pat@contoso.com", "MS-700"),
            row("pat@contoso.com", "MD-102"),
            row("sam@contoso.com", "MS-102"),
        ],
    )
    people = api.call("GET", "org/designations/modern-work/people", person=admin)
    assert people.status == 200, people.body
    assert [
        (p["email"], p["metric"], p["points"], p["credentials"]) for p in people.json()["people"]
    ] == [
        ("pat@contoso.com", "intermediate-certifications", 5, ["MD-102", "MS-700"]),
        ("sam@contoso.com", "advanced-certifications", 15, ["MS-102"]),
    ]
    sheet = api.call(
        "GET", "org/designations/modern-work/people", person=admin, headers={"Accept": "text/csv"}
    )
    lines = sheet.body.decode().splitlines()
    assert lines[0] == "email,display_name,metric,metric_name,points,credentials"
    assert lines[1].endswith(",5.0,MD-102 MS-700")
    missing = api.call("GET", "org/designations/nope/people", person=admin)
    assert (missing.status, missing.json()["error"]["code"]) == (404, "designation_not_found")
    stranger = world.admin(world.tenant())
    assert (
        api.call("GET", "org/designations/modern-work/people", person=stranger).json()["people"]
        == []
    )


def test_the_shipped_catalog_is_valid() -> None:
    catalog = load_catalog()
    assert isinstance(catalog, Catalog)
    assert len(catalog.designations) == 6
    assert designation_points(catalog, [], date(2026, 1, 5)).designations[0].points == 0


def test_a_bad_catalog_is_named_at_start_and_only_the_designation_views_refuse(
    world: World,
    api: FunctionClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from shared.services import designations

    broken = json.loads(designations.CATALOG_PATH.read_text())
    broken["designations"][4]["metrics"][1]["tracks"]["smb"][0]["people_for_max"] = 0
    bad = tmp_path / "designations.json"
    bad.write_text(json.dumps(broken))
    monkeypatch.setattr(designations, "CATALOG_PATH", bad)
    named = "designations[4] ('modern-work').metrics[1] ('advanced-certifications').tracks.smb[0]"
    with caplog.at_level("ERROR"):
        runtime._check_catalog()
    assert named in caplog.text
    admin = world.admin(world.tenant())
    refused = api.call("GET", "org/designations", person=admin)
    assert (refused.status, refused.json()["error"]["code"]) == (503, "service_misconfigured")
    assert named in refused.json()["error"]["message"]
    health = api.call("GET", "health")
    assert (health.status, health.json()["error"]["dependency"]) == (503, "catalog")
    assert api.call("GET", "org/users", person=admin).status == 200  # the rest keeps working
    monkeypatch.undo()
    assert api.call("GET", "org/designations", person=admin).status == 200


def test_v4_a_duration_in_a_query_over_100_years_is_400(world: World, api: FunctionClient) -> None:
    admin = world.admin(world.tenant())
    century = api.call(
        "GET", "org/skills-report", person=admin, params={"expiring_within": "P36500D"}
    )
    assert century.status == 200, century.body
    over = api.call("GET", "org/skills-report", person=admin, params={"expiring_within": "P36501D"})
    assert (over.status, over.json()["error"]["field"]) == (400, "expiring_within")
