"""The body-map figure shared by the app and the reports (Qt-free, no reportlab).

``resources/bodymap/bodymap.json`` holds a front and a back figure of the body (outline polygons,
a few detail lines, the four regions as shaded zones) and a marker position for every catalogue
muscle and side. The UI draws it with QPainter, the reports with reportlab graphics; both colour
the markers with :func:`marker_states` and :attr:`BodyMap.states`.

Coordinates: each view is a ``width`` x ``height`` box, origin top left, y growing down. In the
front view the patient's right is on the viewer's left; in the back view on the viewer's right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from domain.catalogue import REGIONS, Catalogue

from .resources import load_catalogue, resource_path

if TYPE_CHECKING:
    from domain.classify import VisitClassification

Point = tuple[float, float]
Polygon = tuple[Point, ...]

STATES: tuple[str, ...] = ("umn", "lmn", "mixed", "normal", "not_examined", "other_cause")
"""Marker states, in legend order."""
SIDES = ("left", "right")


class BodyMapError(ValueError):
    """The body-map file is malformed or misses a catalogue muscle; ``problems`` has one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class StateStyle:
    label: str
    fill: str | None  # "#RRGGBB"; None: hollow marker
    stroke: str


@dataclass(frozen=True, slots=True)
class View:
    id: str  # "front" | "back"
    label: str
    outline: tuple[Polygon, ...]  # closed polygons (head, body)
    lines: tuple[Polygon, ...]  # open polylines (details)


@dataclass(frozen=True, slots=True)
class Marker:
    muscle: str
    side: str  # "left" | "right" | "midline"
    view: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class BodyMap:
    width: float
    height: float
    marker_radius: float
    views: tuple[View, ...]
    zones: dict[str, tuple[Polygon, ...]]  # region -> closed polygons (same in both views)
    region_fill: dict[str, str]
    states: dict[str, StateStyle]
    markers: dict[tuple[str, str], Marker]  # (muscle, side) -> marker

    def view(self, view_id: str) -> View:
        return next(v for v in self.views if v.id == view_id)

    def marker(self, muscle: str, side: str) -> Marker:
        return self.markers[(muscle, side)]


def _points(raw) -> Polygon:
    return tuple((float(x), float(y)) for x, y in raw)


def parse_bodymap(data: dict, catalogue: Catalogue) -> BodyMap:
    """Build a :class:`BodyMap` from the decoded JSON; raise :class:`BodyMapError` listing every
    catalogue muscle without a position, unknown muscles, regions without zones and states
    without a style."""
    problems: list[str] = []
    if data.get("format") != "motorchart-bodymap/1":
        problems.append(f"format: {data.get('format')!r} is not motorchart-bodymap/1")
    try:
        width, height = float(data["width"]), float(data["height"])
        views = tuple(
            View(v["id"], v["label"], tuple(_points(p) for p in v["outline"]),
                 tuple(_points(p) for p in v.get("lines", ())))
            for v in data["views"]
        )
        zones = {r: tuple(_points(p) for p in polys) for r, polys in data["zones"].items()}
        states = {k: StateStyle(s["label"], s.get("fill"), s["stroke"]) for k, s in data["states"].items()}
        region_fill = dict(data["region_fill"])
        markers: dict[tuple[str, str], Marker] = {}
        view_ids = {v.id for v in views}
        for i, m in enumerate(data["markers"]):
            if m["view"] not in view_ids:
                problems.append(f"markers[{i}].view: {m['view']!r} is not a view")
            if m["muscle"] not in catalogue.muscle:
                problems.append(f"markers[{i}].muscle: {m['muscle']!r} is not a catalogue muscle")
            for side, (x, y) in m["positions"].items():
                if not (0 <= x <= width and 0 <= y <= height):
                    problems.append(f"markers[{i}].positions.{side}: ({x}, {y}) is outside the figure")
                markers[(m["muscle"], side)] = Marker(m["muscle"], side, m["view"], float(x), float(y))
        radius = float(data.get("marker_radius", 3.0))
    except (KeyError, TypeError, ValueError) as e:
        raise BodyMapError(problems + [f"malformed body map: {e!r}"]) from None
    for m in catalogue.muscles:
        for side in SIDES:
            if (m.id, side) not in markers:
                problems.append(f"no marker position for {m.id} {side}")
        if m.region in ("bulbar", "thoracic") and (m.id, "midline") not in markers:
            problems.append(f"no marker position for {m.id} midline")
    problems += [f"zones: no zone for the {r} region" for r in REGIONS if r not in zones]
    problems += [f"region_fill: no colour for the {r} region" for r in REGIONS if r not in region_fill]
    problems += [f"states: no style for {s}" for s in STATES if s not in states]
    if problems:
        raise BodyMapError(problems)
    return BodyMap(width, height, radius, views, zones, region_fill, states, markers)


@lru_cache(maxsize=1)
def load_bodymap() -> BodyMap:
    """The shipped body map, checked against the shipped catalogue."""
    data = json.loads(resource_path("bodymap", "bodymap.json").read_text(encoding="utf-8"))
    return parse_bodymap(data, load_catalogue())


def muscle_state(s) -> str:
    """The marker state of one recorded muscle/side (a ``domain.evidence.MuscleState``): the
    presentation package's finding (one definition), drawn with the map's six colours (weak,
    wasted or EMG-abnormal muscles that are not LMN are drawn as examined without evidence)."""
    from desktop.present.findings import finding_kind

    kind = finding_kind(s)
    return kind if kind in STATES else "normal"


def marker_states(vc: VisitClassification | None, catalogue: Catalogue | None = None) -> dict[tuple[str, str], str]:
    """(muscle, side) -> marker state for one visit: every catalogue muscle on the left and right
    (``not_examined`` when not recorded), plus ``midline`` entries for muscles recorded midline.
    ``vc`` None (no visit) gives every muscle not examined."""
    catalogue = catalogue or load_catalogue()
    out = {(m.id, side): "not_examined" for m in catalogue.muscles for side in SIDES}
    if vc is not None:
        for s in vc.evidence.muscles:
            out[(s.muscle.id, s.finding.side)] = muscle_state(s)
    return out


def region_umn(vc: VisitClassification | None) -> dict[str, str]:
    """Regions with UMN evidence at a visit (the domain's one region state), and the findings
    that give it: a Hoffmann sign or a brisk reflex belongs to no muscle marker, so the map
    outlines the region instead, and agrees with the region table."""
    if vc is None:
        return {}
    out = {}
    for region, e in vc.evidence.regions.items():
        if e.state().umn:
            reasons = next((rs for rs in e.umn_reasons.values() if rs), ())
            out[region] = "; ".join(r.text.rstrip(".") for r in reasons) or "UMN evidence"
    return out
