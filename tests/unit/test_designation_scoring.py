"""Designation skilling scored as the partner capability score counts it: hand-worked
examples on the shipped catalog, one or more per track, and the catalog's validation."""

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared.services.designations import (
    CATALOG_PATH,
    CatalogError,
    DesignationPoints,
    designation_people,
    load_catalog,
    parse_catalog,
    score_designation,
)
from shared.wire import ReportRow

TODAY = date(2026, 12, 1)


def row(
    email: str, credential: str, expires: date | None = None, kind: str = "certification"
) -> ReportRow:
    at = datetime(2026, 6, 1, tzinfo=UTC)
    return ReportRow.model_validate(
        {
            "email": email, "display_name": email.split("@", maxsplit=1)[0].title(), "program": "learn",
            "learner_id": f"L-{email}", "credential_id": credential, "kind": kind,
            "title": credential, "completed_at": at, "credited_at": at + timedelta(days=10),
            "removal_on": None,
            "expires_at": datetime.combine(expires, datetime.min.time(), UTC).replace(hour=12)
            if expires else None,
        }
    )  # fmt: skip


def score(
    designation_id: str, rows: list[ReportRow], on: date = TODAY, track: Any = None
) -> DesignationPoints:
    catalog = load_catalog()
    designation = catalog.designation(designation_id)
    assert designation is not None
    return score_designation(catalog, designation, rows, on, track)


def metric(view: DesignationPoints, metric_id: str) -> Any:
    return next(m for m in view.metrics if m.id == metric_id)


def test_a_person_with_several_eligible_certifications_counts_once_per_metric() -> None:
    # Modern Work scores both tracks and takes the higher: SMB pays 5 a person (10 for 2).
    view = score(
        "modern-work", [row("pat@contoso.com", "MS-700"), row("pat@contoso.com", "MD-102")]
    )
    intermediate = metric(view, "intermediate-certifications")
    assert (view.track, intermediate.points, intermediate.people) == ("smb", 5, 1)
    assert (intermediate.points_to_max, intermediate.people_to_max) == (5, 1)
    assert (view.points, view.max_points, view.points_missing) == (5, 25, 20)


def test_a_metric_stops_at_its_maximum() -> None:
    rows = [row(f"p{n}@contoso.com", "MS-700") for n in range(5)]
    intermediate = metric(score("modern-work", rows), "intermediate-certifications")
    assert (intermediate.points, intermediate.cap, intermediate.people) == (10, 10, 5)
    assert (intermediate.points_to_max, intermediate.people_to_max) == (0, 0)


def test_partial_points_accrue_per_person_on_the_enterprise_track() -> None:
    rows = [row(f"p{n}@contoso.com", "PL-200") for n in range(3)] + [row("a@contoso.com", "PL-600")]
    view = score("business-applications", rows)
    assert view.track == "enterprise"  # the catalog's default for an organization's track
    assert metric(view, "intermediate-certifications").points == 3  # 1 a person, of 20
    assert metric(view, "advanced-certifications").points == 2.14  # 15 / 7, of 15
    assert view.points == 5.14
    assert metric(view, "advanced-certifications").people_to_max == 6


def test_the_smb_track_pays_more_per_person_when_the_organization_chose_it() -> None:
    rows = [row(f"p{n}@contoso.com", "PL-200") for n in range(3)] + [row("a@contoso.com", "PL-600")]
    view = score("business-applications", rows, track="smb")
    assert (view.track, view.points) == ("smb", 19.5)  # 3 x 4 + 7.5


def test_a_gate_step_short_of_people_leaves_the_metric_at_zero() -> None:
    rows = [
        row("a@contoso.com", "AZ-500"),
        row("b@contoso.com", "SC-200"),
        row("c@contoso.com", "SC-100"),
    ]
    enterprise = score("security", rows, track=None)
    # Enterprise needs 2 and 2 people at the first two steps: 0 there; SMB: 4 + 4 + 8.
    assert (enterprise.track, enterprise.points) == ("smb", 16)
    view = score("infrastructure-azure", [row("a@contoso.com", "AZ-104")])
    intermediate = metric(view, "intermediate-certifications")
    assert (view.track, intermediate.points, intermediate.gates_met) == ("enterprise", 0, False)
    assert intermediate.people_to_max == 1 + 4  # one more administrator, then 4 at 3.125


def test_security_counts_each_person_once_at_the_step_that_pays_most() -> None:
    rows = [row(f"e{n}@contoso.com", "AZ-500") for n in range(2)]
    rows += [row(f"o{n}@contoso.com", "SC-200") for n in range(2)]
    rows += [row(f"a{n}@contoso.com", "SC-100") for n in range(3)]
    rows.append(row("e0@contoso.com", "SC-300"))  # also an architect-level step: counted there
    view = score("security", rows)
    # SMB: 4 (step 1, capped) + 4 (step 2) + 4 people x 8 = 40, the maximum.
    assert (view.track, view.points, view.points_missing) == ("smb", 40, 0)


def test_only_credentials_active_on_the_day_count_and_an_expiry_lowers_the_score_on_its_date() -> (
    None
):
    expires = TODAY + timedelta(days=30)
    rows = [row("pat@contoso.com", "MS-700", expires), row("sam@contoso.com", "MS-700")]
    view = score("modern-work", rows)
    assert view.points == 10
    assert (view.next_expiry_on, view.points_on_next_expiry) == (expires, 5)
    [drop] = view.expiry
    assert (drop.on, drop.points) == (expires, 5)
    assert [(h.email, h.credential_id) for h in drop.holders] == [("pat@contoso.com", "MS-700")]
    assert score("modern-work", rows, on=expires - timedelta(days=1)).points == 10
    assert score("modern-work", rows, on=expires).points == 5


def test_a_retired_certification_counts_until_the_catalogs_last_day() -> None:
    rows = [row("pat@contoso.com", "MS-900")]
    assert score("modern-work", rows, on=date(2027, 3, 31)).points == 5
    assert score("modern-work", rows, on=date(2027, 4, 1)).points == 0
    drops = score("modern-work", rows, on=date(2027, 3, 1)).expiry
    assert [(d.on, d.points) for d in drops] == [(date(2027, 4, 1), 0)]


def test_an_expiry_past_180_days_is_not_in_the_timeline() -> None:
    rows = [row("pat@contoso.com", "MS-700", TODAY + timedelta(days=181))]
    view = score("modern-work", rows)
    assert view.expiry == []
    assert view.next_expiry_on == TODAY + timedelta(days=181)


def test_the_closest_people_hold_a_prerequisite_or_an_assessment_on_the_path() -> None:
    rows = [row("pat@contoso.com", "AZ-104"), row("sam@contoso.com", "AZ-900", kind="assessment")]
    view = score("infrastructure-azure", rows)
    advanced = metric(view, "advanced-certifications")
    assert {c.credential_id: c.emails for c in advanced.closest} == {
        "AZ-305": ["pat@contoso.com"], "AZ-400": ["pat@contoso.com"],
    }  # fmt: skip
    closest = {
        c.credential_id: c.emails for c in metric(view, "intermediate-certifications").closest
    }
    # Pat counts there already (the administrator step); Sam's assessment is on its path.
    assert closest["AZ-104"] == ["sam@contoso.com"]
    assert "AZ-700" not in closest


def test_the_people_view_says_who_counts_for_what() -> None:
    catalog = load_catalog()
    designation = catalog.designation("modern-work")
    assert designation is not None
    rows = [row("pat@contoso.com", "MS-700"), row("pat@contoso.com", "MS-102")]
    people = designation_people(catalog, designation, rows, TODAY)
    assert [(p.email, p.metric, p.points, p.credentials) for p in people.people] == [
        ("pat@contoso.com", "intermediate-certifications", 5, ["MS-700"]),
        ("pat@contoso.com", "advanced-certifications", 15, ["MS-102"]),
    ]


def test_the_shipped_catalog_covers_the_six_designations_with_sources() -> None:
    catalog = load_catalog()
    assert [d.id for d in catalog.designations] == [
        "infrastructure-azure", "data-ai-azure", "digital-app-innovation-azure",
        "business-applications", "modern-work", "security",
    ]  # fmt: skip
    for designation in catalog.designations:
        assert designation.source.startswith("https://learn.microsoft.com/")
        assert designation.read_on and designation.checked
        assert {t for m in designation.metrics for t in m.tracks} == {"enterprise", "smb"}


def _catalog_with(change: Any) -> str:
    data = json.loads(CATALOG_PATH.read_text())
    change(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["designations"][5]["metrics"][0]["tracks"]["smb"][2].update(people_for_max=3),
         "designations[5] ('security').metrics[0] ('intermediate-certifications').tracks.smb[2]"),
        (lambda d: d["designations"][4]["metrics"][0]["tracks"]["enterprise"][0]["credentials"].append("ZZ-999"),
         "designation 'modern-work', metric 'intermediate-certifications', enterprise step 1"),
        (lambda d: d["designations"][0].update(default_track="partner"),
         "designations[0] ('infrastructure-azure').default_track"),
        (lambda d: d["designations"].append(d["designations"][0]), "designation 'infrastructure-azure' appears twice"),
        (lambda d: d.update(format=1), "format"),
    ],
)  # fmt: skip
def test_a_bad_catalog_is_a_clear_error_naming_the_entry(change: Any, named: str) -> None:
    with pytest.raises(CatalogError) as refused:
        parse_catalog(_catalog_with(change))
    assert named in str(refused.value)
