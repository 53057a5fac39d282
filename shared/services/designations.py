"""Designation points from the credited rows of an organization, computed when
read, against the catalog data file (shared/catalog/designations.json)."""

import json
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.model import counts_on
from shared.wire import ReportRow, WireModel

CATALOG_PATH = Path(__file__).resolve().parent.parent / "catalog" / "designations.json"


class CatalogMetric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    points: int = Field(ge=0)
    cap: int = Field(ge=0)
    credentials: list[str]


class CatalogDesignation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    metrics: list[CatalogMetric]


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    about: str = ""
    designations: list[CatalogDesignation]


class MetricPoints(WireModel):
    id: str
    points: int
    cap: int
    people: int


class DesignationPoints(WireModel):
    id: str
    name: str
    points: int
    metrics: list[MetricPoints]
    next_expiry_on: date | None
    """The next day one of its counted credentials stops counting (null: none expires)."""
    points_on_next_expiry: int | None
    """Its points from that day on, unless renewed: a drop an admin sees coming."""


class DesignationsView(WireModel):
    designations: list[DesignationPoints]


@lru_cache(maxsize=1)
def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    return Catalog.model_validate(json.loads(path.read_text()))


def _points(designation: CatalogDesignation, rows: list[ReportRow], day: date) -> DesignationPoints:
    """Each person counts once per metric, with credentials active that day; a
    metric's points stop at its cap."""
    people_by_credential: dict[str, set[str]] = {}
    for row in rows:
        if counts_on(row.expires_at, day):
            people_by_credential.setdefault(row.credential_id, set()).add(row.email)
    metrics = []
    for metric in designation.metrics:
        people: set[str] = set()
        for credential_id in metric.credentials:
            people |= people_by_credential.get(credential_id, set())
        points = min(len(people) * metric.points, metric.cap)
        metrics.append(
            MetricPoints(id=metric.id, points=points, cap=metric.cap, people=len(people))
        )
    return DesignationPoints(
        id=designation.id,
        name=designation.name,
        points=sum(m.points for m in metrics),
        metrics=metrics,
        next_expiry_on=None,
        points_on_next_expiry=None,
    )


def designation_points(catalog: Catalog, rows: Iterable[ReportRow], on: date) -> DesignationsView:
    counted = list(rows)
    designations = []
    for designation in catalog.designations:
        today = _points(designation, counted, on)
        wanted = {c for m in designation.metrics for c in m.credentials}
        expiries = sorted(
            row.expires_at.date()
            for row in counted
            if row.credential_id in wanted
            and row.expires_at is not None
            and row.expires_at.date() > on
        )
        if expiries:
            later = _points(designation, counted, expiries[0])
            today = today.model_copy(
                update={"next_expiry_on": expiries[0], "points_on_next_expiry": later.points}
            )
        designations.append(today)
    return DesignationsView(designations=designations)
