"""The shared body-map data: a position for every catalogue muscle and side, inside the figure,
and marker states taken from the classifier's per-muscle conclusions."""

import json

import pytest

from desktop.bodymap import STATES, BodyMapError, load_bodymap, marker_states, parse_bodymap
from desktop.resources import load_catalogue, resource_path
from domain.catalogue import REGIONS
from tests.builders import m, one, r, wasted


def _inside(pt, poly) -> bool:
    x, y = pt
    inside = False
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def test_every_catalogue_muscle_has_a_marker_on_both_sides_and_midline_where_allowed():
    bm, cat = load_bodymap(), load_catalogue()
    for muscle in cat.muscles:
        for side in ("left", "right"):
            assert (muscle.id, side) in bm.markers
        if muscle.region in ("bulbar", "thoracic"):
            assert (muscle.id, "midline") in bm.markers


def test_every_marker_lies_wholly_inside_the_body_outline_of_its_view():
    bm = load_bodymap()
    rad = bm.marker_radius
    for (muscle, side), mk in bm.markers.items():
        outline = [list(poly) for poly in bm.view(mk.view).outline]
        disc = [(mk.x + dx, mk.y + dy) for dx, dy in ((0, 0), (rad, 0), (-rad, 0), (0, rad), (0, -rad))]
        assert any(all(_inside(pt, poly) for pt in disc) for poly in outline), (muscle, side, mk.view)


def test_markers_of_one_view_do_not_overlap():
    bm = load_bodymap()
    lr = [mk for mk in bm.markers.values() if mk.side != "midline"]
    for i, a in enumerate(lr):
        for b in lr[i + 1:]:
            if a.view == b.view:
                gap = ((a.x - b.x) ** 2 + (a.y - b.y) ** 2) ** 0.5
                assert gap >= 2 * bm.marker_radius - 0.5, (a.muscle, a.side, b.muscle, b.side)


def test_left_and_right_sit_on_the_correct_sides_of_each_view():
    bm = load_bodymap()
    mid = bm.width / 2
    deltoid_front_left = bm.marker("deltoid", "left")
    triceps_back_left = bm.marker("triceps", "left")
    assert deltoid_front_left.view == "front" and deltoid_front_left.x > mid  # facing the viewer
    assert triceps_back_left.view == "back" and triceps_back_left.x < mid  # facing away


def test_each_region_has_a_zone_and_each_state_a_style():
    bm = load_bodymap()
    assert set(REGIONS) <= set(bm.zones)
    assert set(STATES) <= set(bm.states)
    assert bm.states["not_examined"].fill is None


def test_a_muscle_missing_from_the_file_is_named_in_the_error():
    data = json.loads(resource_path("bodymap", "bodymap.json").read_text("utf-8"))
    data["markers"] = [mk for mk in data["markers"] if mk["muscle"] != "soleus"]
    with pytest.raises(BodyMapError) as err:
        parse_bodymap(data, load_catalogue())
    assert "no marker position for soleus left" in err.value.problems


def test_marker_states_follow_the_classifier():
    vc = one(
        wasted("first_dorsal_interosseous", "right"),  # LMN
        m("abductor_pollicis_brevis", "right", "5", "none"),  # normal
        wasted("biceps", "right", mrc="4", wasting="moderate"), r("biceps", "right", 3),  # reflex kept in a wasted muscle
        wasted("deltoid", "left", other_cause=True),  # explained by something else
    )
    states = marker_states(vc)
    assert states[("first_dorsal_interosseous", "right")] == "lmn"
    assert states[("abductor_pollicis_brevis", "right")] == "normal"
    assert states[("biceps", "right")] == "mixed"
    assert states[("deltoid", "left")] == "other_cause"
    assert states[("tongue", "left")] == "not_examined"
    assert set(states.values()) <= set(STATES)


def test_without_a_visit_every_muscle_is_not_examined():
    states = marker_states(None)
    assert len(states) == 2 * len(load_catalogue().muscles)
    assert set(states.values()) == {"not_examined"}
