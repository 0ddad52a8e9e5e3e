"""The body map on a real widget: markers read back from the scene items, the slider steps
through the visits."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.bodymap import load_bodymap
from desktop.ui.progression import BodyMapView
from domain.case import Case, Emg, MuscleFinding, Patient, ReflexFinding, Visit
from domain.classify import classify_case

D0 = dt.date(2025, 1, 20)


def case_of(*visits: Visit) -> Case:
    return Case(format="motorchart-case/1",
                patient=Patient(id="MRN-9", family_name="Иванов", given_names="Дмитрий",
                                onset_date=dt.date(2024, 6, 1), onset_region="lower_limb"),
                visits=tuple(visits))


@pytest.fixture
def view(qtbot, catalogue):
    v = BodyMapView(catalogue=catalogue)
    qtbot.addWidget(v)
    v.resize(800, 800)
    v.show()
    return v


def two_visits() -> Case:
    v1 = Visit(date=D0, muscles=(
        MuscleFinding(muscle="tibialis_anterior", side="left", mrc="5", wasting="none"),
        MuscleFinding(muscle="deltoid", side="right", mrc="5"),
    ))
    v2 = Visit(date=D0 + dt.timedelta(days=100), muscles=(
        MuscleFinding(muscle="tibialis_anterior", side="left", mrc="4", wasting="moderate"),
        MuscleFinding(muscle="quadriceps", side="left", mrc="4", wasting="moderate"),
        MuscleFinding(muscle="deltoid", side="right", mrc="5",
                      emg=Emg(fibrillations=2, mup_large=True)),
        MuscleFinding(muscle="biceps", side="right", mrc="5", other_cause=True),
        MuscleFinding(muscle="tongue", side="midline", mrc="5", wasting="none"),
    ), reflexes=(ReflexFinding(reflex="knee", side="left", grade=2),))
    return case_of(v1, v2)


def test_markers_are_coloured_by_the_classifiers_muscle_evidence_at_the_latest_visit(view, catalogue):
    case = two_visits()
    view.set_patient(case, classify_case(case, catalogue))
    st = view.marker_state
    assert view.index == 1
    assert st[("tibialis_anterior", "left")] == "lmn"
    # Knee reflex 2 preserved in a weak, wasted quadriceps: UMN and LMN in one muscle.
    assert st[("quadriceps", "left")] == "mixed"
    assert st[("deltoid", "right")] == "lmn"  # EMG evidence
    assert st[("biceps", "right")] == "other_cause"
    assert st[("tongue", "midline")] == "normal"
    assert st[("tibialis_anterior", "right")] == "not_examined"
    # Drawn items carry the same state, at the position the shared body-map data gives.
    item = view.marker_items[("quadriceps", "left")]
    assert item.data(0) == "mixed"
    m = load_bodymap().marker("quadriceps", "left")
    r = item.rect()
    assert r.center().y() == pytest.approx(m.y)
    assert "Quadriceps" in item.toolTip() and "UMN + LMN" in item.toolTip()


def test_the_slider_steps_back_to_an_earlier_visit(qtbot, view, catalogue):
    case = two_visits()
    view.set_patient(case, classify_case(case, catalogue))
    with qtbot.waitSignal(view.visit_changed) as sig:
        view.slider.setValue(0)
    assert sig.args == [0]
    assert view.marker_state[("tibialis_anterior", "left")] == "normal"
    assert view.marker_state[("quadriceps", "left")] == "not_examined"
    assert "2025-01-20" in view.slider_label.text() and "1 of 2" in view.slider_label.text()


def test_bulbar_muscles_not_examined_show_one_hollow_midline_marker(view, catalogue):
    case = two_visits()
    view.set_patient(case, classify_case(case, catalogue), 0)
    assert view.marker_state[("masseter", "midline")] == "not_examined"
    assert ("masseter", "left") not in view.marker_items
    assert view.marker_state[("deltoid", "left")] == "not_examined"


def test_one_visit_disables_the_slider_and_still_shows_the_markers(view, catalogue):
    case = case_of(Visit(date=D0, muscles=(MuscleFinding(muscle="deltoid", side="left", mrc="4", wasting="moderate"),)))
    view.set_patient(case, classify_case(case, catalogue))
    assert not view.slider.isEnabled()
    assert view.marker_state[("deltoid", "left")] == "lmn"


def test_a_patient_without_visits_says_so_and_draws_every_marker_not_examined(view, catalogue):
    case = case_of()
    view.set_patient(case, classify_case(case, catalogue))
    assert view.message.text() == "No visits recorded"
    assert view.index is None
    assert set(view.marker_state.values()) == {"not_examined"}
    view.set_visit(0)  # nothing to step to: ignored, no crash
    assert view.index is None


def test_a_visit_out_of_range_is_refused(view, catalogue):
    case = two_visits()
    view.set_patient(case, classify_case(case, catalogue))
    with pytest.raises(IndexError):
        view.set_visit(2)


def test_both_figures_and_all_four_region_zones_are_drawn(view):
    zones = [i.data(0) for i in view.scene.items() if isinstance(i.data(0), str) and i.data(0).startswith("zone:")]
    assert sorted(zones) == sorted(f"zone:{r}" for r in ("bulbar", "cervical", "thoracic", "lumbosacral")
                                   for _ in ("front", "back"))


def test_a_region_with_umn_from_a_sign_is_outlined_so_the_map_agrees_with_the_region_table(view, catalogue):
    """Issue 15: a Hoffmann sign belongs to no muscle; the map showed no UMN while the region
    table said cervical UMN."""
    from domain.case import SignFinding

    c = case_of(Visit(date=dt.date(2025, 3, 1), muscles=(MuscleFinding(muscle="deltoid", side="left", mrc="5"),),
                      signs=(SignFinding(sign="hoffmann", side="left", present=True),)))
    res = classify_case(c, catalogue)
    assert res.visits[0].evidence.regions["cervical"].state().umn
    view.set_patient(c, res)
    assert set(view.umn_regions) == {"cervical"} and "Hoffmann sign L" in view.umn_regions["cervical"]
    pens = {r: items[0].pen().style() for r, items in view.zone_items.items()}
    assert pens["cervical"] != pens["lumbosacral"]
