"""Designation skilling as the partner capability score counts it, from the credited
rows of an organization and the catalog (shared/catalog/designations.json, format
in docs/DESIGNATIONS.md): each certified person counts once per metric, points accrue
per person up to the metric's maximum, a gate step with too few people leaves the
metric at zero, and only credentials active on the day asked count. With it, for
each metric, the gap to its maximum and the people closest to closing it, and the
days in the next 180 on which an expiry lowers the points."""

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared import errors
from shared.domain.types import TRACKS, Track
from shared.wire import ReportRow, WireModel

CATALOG_PATH = Path(__file__).resolve().parent.parent / "catalog" / "designations.json"
EXPIRY_HORIZON = timedelta(days=180)


class CatalogError(ValueError):
    """The catalog file is not valid: the message names the entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CatalogCredential(_Strict):
    name: str = Field(min_length=1)
    counts_until: date | None = None
    """The last day it earns points (Microsoft keeps a retired certification counting
    for a while); None: as long as it is active."""


class CatalogStep(_Strict):
    credentials: tuple[str, ...] = Field(min_length=1)
    people_required: int = Field(default=0, ge=0)
    """A gate: with fewer people holding one of these, the metric earns nothing."""
    points_per_person: float | None = Field(default=None, ge=0)
    people_for_max: int | None = Field(default=None, ge=1)
    """Instead of points_per_person: this many people reach the step's maximum."""
    max_points: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_rate(self) -> "CatalogStep":
        if (self.points_per_person is None) == (self.people_for_max is None):
            raise ValueError("give exactly one of points_per_person and people_for_max")
        return self


class CatalogMetric(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    max_points: float = Field(gt=0)
    tracks: dict[Track, tuple[CatalogStep, ...]]


class CatalogDesignation(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str = Field(min_length=1)
    source: str = Field(pattern=r"^https://")
    read_on: date
    checked: str = Field(min_length=1)
    track_choice: Literal["best", "organization"]
    """`best`: both tracks are scored and the higher counts (Microsoft does this for
    Modern Work and Security); `organization`: the organization's track counts."""
    default_track: Track
    metrics: tuple[CatalogMetric, ...] = Field(min_length=1)


class Catalog(_Strict):
    format: Literal[2]
    about: str = ""
    credentials: dict[str, CatalogCredential]
    paths: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Credential -> the credentials (prerequisites, assessments) on the way to it."""
    designations: tuple[CatalogDesignation, ...] = Field(min_length=1)

    def designation(self, designation_id: str) -> CatalogDesignation | None:
        return next((d for d in self.designations if d.id == designation_id), None)

    def credential_name(self, credential_id: str) -> str:
        known = self.credentials.get(credential_id)
        return known.name if known else credential_id


def _cross_check(catalog: Catalog) -> None:
    seen: set[str] = set()
    for designation in catalog.designations:
        where = f"designation {designation.id!r}"
        if designation.id in seen:
            raise CatalogError(f"{where} appears twice")
        seen.add(designation.id)
        track_sets = {frozenset(m.tracks) for m in designation.metrics}
        if len(track_sets) != 1 or designation.default_track not in next(iter(track_sets)):
            raise CatalogError(
                f"{where}: every metric needs the same tracks, the default among them"
            )
        for metric in designation.metrics:
            for track, steps in metric.tracks.items():
                for number, step in enumerate(steps, 1):
                    unknown = [c for c in step.credentials if c not in catalog.credentials]
                    if unknown:
                        raise CatalogError(
                            f"{where}, metric {metric.id!r}, {track} step {number}: "
                            f"credentials not in `credentials`: {', '.join(unknown)}"
                        )
    for target, sources in catalog.paths.items():
        unknown = [c for c in (target, *sources) if c not in catalog.credentials]
        if unknown:
            raise CatalogError(f"paths[{target!r}]: not in `credentials`: {', '.join(unknown)}")


def parse_catalog(text: str) -> Catalog:
    """The catalog from its JSON, or a CatalogError naming the entry that is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogError(f"the catalog is not JSON: {error}") from error
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        raise CatalogError(f"{_entry(data, first['loc'])}: {first['msg']}") from error
    _cross_check(catalog)
    return catalog


def _entry(data: object, loc: tuple[int | str, ...]) -> str:
    """`designations[2] ('security').metrics[0]...`: the path, with ids where known."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            if isinstance(node, list) and key < len(node):
                node = node[key]
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    label += f" ({node['id']!r})"
            parts.append(label)
        else:
            parts.append(f".{key}" if parts else str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "the catalog"


@lru_cache(maxsize=4)
def _load(path: Path) -> Catalog:
    return parse_catalog(path.read_text())


def load_catalog(path: Path | None = None) -> Catalog:
    """The catalog (read once per path), or a CatalogError naming the entry."""
    return _load(path or CATALOG_PATH)


def checked_catalog() -> Catalog:
    """The catalog, or the contract's 503 naming the entry that is wrong (dependency
    `catalog`): for the designation views, the health check and the start."""
    try:
        return load_catalog()
    except (CatalogError, OSError) as error:
        raise errors.SERVICE_MISCONFIGURED(
            f"The designation catalog is not valid: {error}", dependency="catalog"
        ) from error


def catalog_refusal() -> errors.ServiceError | None:
    """What checked_catalog would refuse with, or None: for those that report it (the
    health check, the start) rather than answer with it."""
    try:
        checked_catalog()
    except errors.ServiceError as refused:
        return refused
    return None


# --- answers -------------------------------------------------------------------------------


class CloserPeople(WireModel):
    credential_id: str
    credential_name: str
    emails: list[str]
    """Linked people who hold a credential on the way to it (a prerequisite or an
    assessment of the same path) and do not count for this metric yet."""


class MetricPoints(WireModel):
    id: str
    name: str
    points: float
    cap: float
    """The metric's maximum points."""
    people: int
    """Certified people counted for it (each once, however many credentials)."""
    points_to_max: float
    people_to_max: int
    """How many more certified people would bring it to its maximum."""
    gates_met: bool
    closest: list[CloserPeople]


class ExpiringHolder(WireModel):
    email: str
    credential_id: str
    credential_name: str
    expires_at: str


class ExpiryDrop(WireModel):
    on: date
    """The first day the credentials below no longer count."""
    points: float
    """The designation's skilling points from that day, unless they renew."""
    holders: list[ExpiringHolder]


class DesignationPoints(WireModel):
    id: str
    name: str
    points: float
    """Skilling points on the day asked."""
    max_points: float
    points_missing: float
    track: Track
    track_choice: Literal["best", "organization"]
    source: str
    read_on: date
    metrics: list[MetricPoints]
    next_expiry_on: date | None
    """The next day one of its counted credentials stops counting (null: none expires)."""
    points_on_next_expiry: float | None
    """Its points from that day on, unless renewed: a drop an admin sees coming."""
    expiry: list[ExpiryDrop]
    """Each day in the next 180 on which an expiry lowers the points."""


class DesignationsView(WireModel):
    on: date
    designations: list[DesignationPoints]


class PersonCount(WireModel):
    email: str
    display_name: str
    metric: str
    metric_name: str
    points: float
    credentials: list[str]
    """The eligible credentials the person holds for the metric (counted once)."""


class DesignationPeople(WireModel):
    designation: str
    track: Track
    on: date
    people: list[PersonCount]


# --- scoring -------------------------------------------------------------------------------


def _stops_counting(catalog: Catalog, row: ReportRow) -> date | None:
    """The first day a credited credential no longer counts: its expiry day (it counts
    while it expires on a later day), or the day after the catalog's last day for it."""
    days = [row.expires_at.date()] if row.expires_at is not None else []
    known = catalog.credentials.get(row.credential_id)
    if known and known.counts_until is not None:
        days.append(known.counts_until + timedelta(days=1))
    return min(days, default=None)


def _held(rows: Iterable[ReportRow]) -> dict[str, set[str]]:
    """Email -> the credentials the person holds among these rows."""
    held: dict[str, set[str]] = {}
    for row in rows:
        held.setdefault(row.email, set()).add(row.credential_id)
    return held


def _rate(step: CatalogStep, cap: float) -> float:
    if step.points_per_person is not None:
        return step.points_per_person
    assert step.people_for_max is not None
    return _step_cap(step, cap) / step.people_for_max


def _step_cap(step: CatalogStep, cap: float) -> float:
    return step.max_points if step.max_points is not None else cap


Signature = tuple[int, ...]
"""The steps of a metric a person qualifies for (indices), in the catalog's order."""


def _signature(steps: tuple[CatalogStep, ...], credentials: set[str]) -> Signature:
    return tuple(
        i for i, wanted in enumerate(_step_sets(steps)) if not wanted.isdisjoint(credentials)
    )


@lru_cache(maxsize=256)
def _step_sets(steps: tuple[CatalogStep, ...]) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(step.credentials) for step in steps)


@dataclass
class _Assigned:
    points: float
    gates_met: bool
    gate_shortfall: int
    best_rate_with_room: float
    gains: list[list[float]]
    """Per group of people (in the order given), what each one of them brings."""


def _assign(metric: CatalogMetric, track: Track, groups: list[tuple[Signature, int]]) -> _Assigned:
    """Each person counts once: people with the fewest qualifying steps go first (so a
    person who could count elsewhere does not take the only place of one who could
    not), each in the step that pays most and still has room. Groups of people with
    the same steps are assigned together, so the cost is per kind of person."""
    steps = metric.tracks[track]
    rates = [_rate(s, metric.max_points) for s in steps]
    caps = [_step_cap(s, metric.max_points) for s in steps]
    earned = [0.0] * len(steps)
    shortfall = sum(
        max(0, step.people_required - sum(n for sig, n in groups if i in sig))
        for i, step in enumerate(steps)
    )
    gains: list[list[float]] = []
    for signature, people in groups:
        mine: list[float] = []
        left = people
        for i in sorted(signature, key=lambda i: (-rates[i], i)):
            while left and earned[i] < caps[i] - 1e-9:
                if rates[i] <= 0:
                    break
                room = math.ceil((caps[i] - earned[i]) / rates[i] - 1e-9)
                taking = min(left, room)
                for _ in range(taking):
                    gain = min(rates[i], caps[i] - earned[i])
                    earned[i] += gain
                    mine.append(gain)
                left -= taking
            if not left:
                break
        mine += [0.0] * left
        gains.append(mine)
    with_room = [rates[i] for i in range(len(steps)) if earned[i] < caps[i] - 1e-9]
    total = min(metric.max_points, sum(earned))
    return _Assigned(
        points=total if shortfall == 0 else 0.0,
        gates_met=shortfall == 0,
        gate_shortfall=shortfall,
        best_rate_with_room=max(with_room, default=0.0),
        gains=gains,
    )


@dataclass
class _MetricScore:
    assigned: _Assigned
    counted: dict[str, float]
    """Email -> the points that person brings (0 for someone counted only by a gate)."""
    holders: dict[str, list[str]]
    """Email -> the metric's eligible credentials they hold."""

    @property
    def points(self) -> float:
        return self.assigned.points


def _score_metric(
    metric: CatalogMetric, track: Track, held: Mapping[str, set[str]]
) -> _MetricScore:
    steps = metric.tracks[track]
    eligible = {c for s in steps for c in s.credentials}
    holders = {e: sorted(cs & eligible) for e, cs in held.items() if cs & eligible}
    by_signature: dict[Signature, list[str]] = {}
    for email in holders:
        by_signature.setdefault(_signature(steps, held[email]), []).append(email)
    order = sorted(by_signature, key=lambda sig: (len(sig), sig))
    assigned = _assign(metric, track, [(sig, len(by_signature[sig])) for sig in order])
    counted = {}
    for sig, gains in zip(order, assigned.gains, strict=True):
        for email, gain in zip(sorted(by_signature[sig]), gains, strict=True):
            counted[email] = gain
    return _MetricScore(assigned, counted, holders)


def _score_counts(metric: CatalogMetric, track: Track, counts: Mapping[Signature, int]) -> float:
    order = sorted((sig for sig, n in counts.items() if n > 0), key=lambda sig: (len(sig), sig))
    return _assign(metric, track, [(sig, counts[sig]) for sig in order]).points


def _tracks_of(designation: CatalogDesignation) -> list[Track]:
    return [t for t in TRACKS if t in designation.metrics[0].tracks]


def _pick_track(
    designation: CatalogDesignation, chosen: Track | None, totals: Mapping[Track, float]
) -> Track:
    if designation.track_choice == "organization":
        return chosen or designation.default_track
    # The higher score counts; on a tie, the catalog's default.
    return max(totals, key=lambda t: (totals[t], t == designation.default_track))


def _track_for(
    designation: CatalogDesignation, chosen: Track | None, held: Mapping[str, set[str]]
) -> Track:
    # Both tracks are scored only where the higher one counts.
    totals = {
        t: sum(_score_metric(m, t, held).points for m in designation.metrics)
        for t in _tracks_of(designation)
        if designation.track_choice == "best"
    }
    return _pick_track(designation, chosen, totals)


def _round(value: float) -> float:
    return round(value + 1e-9, 2)


def _closest(
    catalog: Catalog,
    metric: CatalogMetric,
    track: Track,
    score: _MetricScore,
    everyone: Mapping[str, set[str]],
) -> list[CloserPeople]:
    eligible = sorted({c for s in metric.tracks[track] for c in s.credentials})
    found = []
    for credential in eligible:
        on_the_way = set(catalog.paths.get(credential, ()))
        emails = sorted(
            e for e, cs in everyone.items() if e not in score.holders and cs & on_the_way
        )
        if emails:
            found.append(
                CloserPeople(
                    credential_id=credential,
                    credential_name=catalog.credential_name(credential),
                    emails=emails,
                )
            )
    return found


def score_designation(
    catalog: Catalog,
    designation: CatalogDesignation,
    rows: list[ReportRow],
    day: date,
    chosen_track: Track | None = None,
) -> DesignationPoints:
    return _score_with(catalog, designation, chosen_track, _Timeline(catalog, rows, day))


def _score_with(
    catalog: Catalog,
    designation: CatalogDesignation,
    chosen_track: Track | None,
    timeline: "_Timeline",
) -> DesignationPoints:
    # Everyone with a credential that counts that day, assessments included: for
    # "closest", they are steps on the way even where they earn nothing themselves.
    held = timeline.held_today
    track = _track_for(designation, chosen_track, held)
    metrics = []
    for metric in designation.metrics:
        score = _score_metric(metric, track, held)
        assigned = score.assigned
        reached = sum(score.counted.values())
        remaining = metric.max_points - min(metric.max_points, reached)
        more = assigned.gate_shortfall
        if remaining > 1e-9 and assigned.best_rate_with_room > 0:
            more += math.ceil(remaining / assigned.best_rate_with_room - 1e-9)
        metrics.append(
            MetricPoints(
                id=metric.id,
                name=metric.name,
                points=_round(score.points),
                cap=metric.max_points,
                people=len(score.holders),
                points_to_max=_round(metric.max_points - score.points),
                people_to_max=more,
                gates_met=assigned.gates_met,
                closest=_closest(catalog, metric, track, score, held),
            )
        )
    points = sum(m.points for m in metrics)
    max_points = sum(m.max_points for m in designation.metrics)
    expiry = timeline.drops(designation, chosen_track, points)
    return DesignationPoints(
        id=designation.id,
        name=designation.name,
        points=_round(points),
        max_points=max_points,
        points_missing=_round(max_points - points),
        track=track,
        track_choice=designation.track_choice,
        source=designation.source,
        read_on=designation.read_on,
        metrics=metrics,
        next_expiry_on=expiry[0].on if expiry else timeline.next_stop(designation),
        points_on_next_expiry=expiry[0].points if expiry else None,
        expiry=expiry,
    )


def _eligible(designation: CatalogDesignation) -> set[str]:
    return {
        c
        for m in designation.metrics
        for steps in m.tracks.values()
        for s in steps
        for c in s.credentials
    }


class _Timeline:
    """The days in the horizon on which credentials stop counting, walked once: each
    designation's points on those days come from counts of people per kind (which
    steps they qualify for), updated as credentials drop out, so the cost grows with
    the rows that expire, not with the rows times the days."""

    def __init__(self, catalog: Catalog, rows: list[ReportRow], day: date) -> None:
        self.catalog = catalog
        self.day = day
        active = [(r, _stops_counting(catalog, r)) for r in rows]
        active = [(r, stops) for r, stops in active if stops is None or stops > day]
        self.held_today = _held(r for r, _ in active)
        self._copies: dict[tuple[str, str], int] = {}
        for r, _ in active:
            key = (r.email, r.credential_id)
            self._copies[key] = self._copies.get(key, 0) + 1
        self._stopping: dict[date, list[ReportRow]] = {}
        self._stops: list[tuple[date, str]] = []
        for r, stops in active:
            if stops is None:
                continue
            self._stops.append((stops, r.credential_id))
            if stops <= day + EXPIRY_HORIZON:
                self._stopping.setdefault(stops, []).append(r)
        self._drops: dict[str, list[tuple[date, dict[Track, float], list[ReportRow]]]] | None = None

    def next_stop(self, designation: CatalogDesignation) -> date | None:
        """The next day one of its eligible credentials stops counting, at any distance."""
        wanted = _eligible(designation)
        return min((when for when, c in self._stops if c in wanted), default=None)

    def _walk(self) -> dict[str, list[tuple[date, dict[Track, float], list[ReportRow]]]]:
        catalog = self.catalog
        held = {email: set(creds) for email, creds in self.held_today.items()}
        copies = dict(self._copies)
        counts: dict[tuple[str, str, Track], dict[Signature, int]] = {}
        for d in catalog.designations:
            for m in d.metrics:
                for t, steps in m.tracks.items():
                    tally: dict[Signature, int] = {}
                    for creds in held.values():
                        sig = _signature(steps, creds)
                        if sig:
                            tally[sig] = tally.get(sig, 0) + 1
                    counts[(d.id, m.id, t)] = tally
        walked: dict[str, list[tuple[date, dict[Track, float], list[ReportRow]]]] = {
            d.id: [] for d in catalog.designations
        }
        eligible = {d.id: _eligible(d) for d in catalog.designations}
        for when in sorted(self._stopping):
            touched: set[str] = set()
            for row in self._stopping[when]:
                key = (row.email, row.credential_id)
                copies[key] -= 1
                if copies[key] > 0:
                    continue  # the same credential credited twice: it still counts
                before = set(held[row.email])
                held[row.email].discard(row.credential_id)
                for d in catalog.designations:
                    if row.credential_id not in eligible[d.id]:
                        continue
                    touched.add(d.id)
                    for m in d.metrics:
                        for t, steps in m.tracks.items():
                            tally = counts[(d.id, m.id, t)]
                            old, new = _signature(steps, before), _signature(steps, held[row.email])
                            if old != new:
                                if old:
                                    tally[old] -= 1
                                if new:
                                    tally[new] = tally.get(new, 0) + 1
            for d in catalog.designations:
                if d.id not in touched:
                    continue
                totals = {
                    t: sum(_score_counts(m, t, counts[(d.id, m.id, t)]) for m in d.metrics)
                    for t in _tracks_of(d)
                }
                mine = [r for r in self._stopping[when] if r.credential_id in eligible[d.id]]
                walked[d.id].append((when, totals, mine))
        return walked

    def drops(
        self, designation: CatalogDesignation, chosen: Track | None, points_today: float
    ) -> list[ExpiryDrop]:
        if self._drops is None:
            self._drops = self._walk()
        found = []
        before = points_today
        for when, totals, stopping in self._drops[designation.id]:
            after = _round(totals[_pick_track(designation, chosen, totals)])
            if after < before - 1e-9:
                found.append(
                    ExpiryDrop(
                        on=when,
                        points=after,
                        holders=[
                            ExpiringHolder(
                                email=r.email,
                                credential_id=r.credential_id,
                                credential_name=self.catalog.credential_name(r.credential_id),
                                expires_at=r.expires_at.isoformat()
                                if r.expires_at
                                else when.isoformat(),
                            )
                            for r in sorted(stopping, key=lambda r: (r.email, r.credential_id))
                        ],
                    )
                )
            before = after
        return found


def designation_points(
    catalog: Catalog,
    rows: Iterable[ReportRow],
    on: date,
    tracks: Mapping[str, Track] | None = None,
) -> DesignationsView:
    counted = list(rows)
    chosen = tracks or {}
    timeline = _Timeline(catalog, counted, on)  # walked once for every designation
    return DesignationsView(
        on=on,
        designations=[
            _score_with(catalog, d, chosen.get(d.id), timeline) for d in catalog.designations
        ],
    )


def designation_people(
    catalog: Catalog,
    designation: CatalogDesignation,
    rows: Iterable[ReportRow],
    on: date,
    chosen_track: Track | None = None,
) -> DesignationPeople:
    """Who counts for which metric of the designation, and what each brings."""
    counted = list(rows)
    held = _Timeline(catalog, counted, on).held_today
    names = {r.email: r.display_name for r in counted}
    track = _track_for(designation, chosen_track, held)
    people = []
    for metric in designation.metrics:
        score = _score_metric(metric, track, held)
        for email in sorted(score.holders):
            people.append(
                PersonCount(
                    email=email,
                    display_name=names.get(email, email),
                    metric=metric.id,
                    metric_name=metric.name,
                    points=_round(
                        score.counted.get(email, 0.0) if score.assigned.gates_met else 0.0
                    ),
                    credentials=score.holders[email],
                )
            )
    return DesignationPeople(designation=designation.id, track=track, on=on, people=people)
