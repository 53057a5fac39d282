"""Designation points from the credited rows of an organization, computed when
read, against the catalog data file (shared/catalog/designations.json)."""

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

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


class DesignationsView(WireModel):
    designations: list[DesignationPoints]


@lru_cache(maxsize=1)
def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    return Catalog.model_validate(json.loads(path.read_text()))


def designation_points(catalog: Catalog, rows: Iterable[ReportRow]) -> DesignationsView:
    """Each person counts once per metric; a metric's points stop at its cap."""
    people_by_credential: dict[str, set[str]] = {}
    for row in rows:
        people_by_credential.setdefault(row.credential_id, set()).add(row.email)
    designations = []
    for designation in catalog.designations:
        metrics = []
        for metric in designation.metrics:
            people: set[str] = set()
            for credential_id in metric.credentials:
                people |= people_by_credential.get(credential_id, set())
            points = min(len(people) * metric.points, metric.cap)
            metrics.append(
                MetricPoints(id=metric.id, points=points, cap=metric.cap, people=len(people))
            )
        designations.append(
            DesignationPoints(
                id=designation.id,
                name=designation.name,
                points=sum(m.points for m in metrics),
                metrics=metrics,
            )
        )
    return DesignationsView(designations=designations)
