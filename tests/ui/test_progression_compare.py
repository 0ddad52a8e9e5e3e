"""Comparing two visits (desktop.compare, Qt-free), then the CompareView widget over it."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.compare import compare_visits, criterion_text, region_state
from desktop.resources import load_catalogue
from domain.case import AlsfrsR, Case, MuscleFinding, Patient, ReflexFinding, SignFinding, Visit
from domain.classify import classify_case

D0 = dt.date(2025, 2, 3)
D1 = D0 + dt.timedelta(days=91)


def case_of(*visits: Visit) -> Case:
    return Case(format="motorchart-case/1",
                patient=Patient(id="MRN-3", family_name="Côté", given_names="Renée",
                                onset_date=dt.date(2024, 8, 1), onset_region="upper_limb"),
                visits=tuple(visits))


def alsfrs(total_drop: int = 0) -> AlsfrsR:
    return AlsfrsR(speech=4, salivation=4, swallowing=4, handwriting=4 - total_drop, cutting_food=4,
                   gastrostomy=False, dressing_hygiene=4, turning_in_bed=4, walking=4,
                   climbing_stairs=4, dyspnea=4, orthopnea=4, respiratory_insufficiency=4)


EARLY = Visit(
    date=D0, alternatives_excluded=True, progressive_by_history=True,
    muscles=(
        MuscleFinding(muscle="first_dorsal_interosseous", side="right", mrc="4", wasting="moderate"),
        MuscleFinding(muscle="biceps", side="right", mrc="5", wasting="none"),
        MuscleFinding(muscle="tibialis_anterior", side="left", mrc="4+", wasting="none"),
        MuscleFinding(muscle="deltoid", side="left", mrc="4", other_cause=True),
    ),
    reflexes=(ReflexFinding(reflex="biceps", side="right", grade=4),),
    alsfrs_r=alsfrs(), fvc_percent=92, weight_kg=70,
)
LATE = Visit(
    date=D1,
    muscles=(
        MuscleFinding(muscle="first_dorsal_interosseous", side="right", mrc="3", wasting="moderate"),
        MuscleFinding(muscle="biceps", side="right", mrc="5", wasting="mild"),
        MuscleFinding(muscle="tibialis_anterior", side="left", mrc="4", wasting="mild"),
        MuscleFinding(muscle="deltoid", side="left", mrc="2", other_cause=True),
        MuscleFinding(muscle="quadriceps", side="left", mrc="4", wasting="severe"),  # first examined now
    ),
    reflexes=(ReflexFinding(reflex="biceps", side="right", grade=4),
              ReflexFinding(reflex="knee", side="left", grade=4)),
    signs=(SignFinding(sign="babinski", side="left", present=True),),
    alsfrs_r=alsfrs(2), fvc_percent=85, weight_kg=68.5,
)


@pytest.fixture(scope="module")
def compared():
    cat = load_catalogue()
    case = case_of(EARLY, LATE)
    result = classify_case(case, cat)
    return result, compare_visits(result.visits[0], result.visits[1], EARLY, LATE)


def test_a_region_involved_only_at_the_later_visit_is_newly_involved(compared):
    result, cmp = compared
    assert cmp.new_regions == ("lumbosacral",)
    changes = {c.region: (c.before, c.after) for c in cmp.region_changes}
    assert changes["lumbosacral"] == ("none", "both")
    assert "cervical" not in changes  # UMN + LMN at both visits


def test_muscles_whose_mrc_fell_are_weaker_and_other_cause_muscles_are_left_out(compared):
    _, cmp = compared
    assert [(m.label, m.before, m.after) for m in cmp.weaker] == [
        ("First dorsal interosseous R", "4", "3"),
        ("Tibialis anterior L", "4+", "4"),
    ]
    assert all(m.muscle != "deltoid" for m in cmp.weaker)


def test_newly_wasted_needs_wasting_recorded_none_before(compared):
    _, cmp = compared
    assert [(m.label, m.before, m.after) for m in cmp.newly_wasted] == [
        ("Biceps brachii R", "none", "mild"),
        ("Tibialis anterior L", "none", "mild"),
    ]
    # Quadriceps was not examined at the earlier visit: not "newly" wasted.
    assert all(m.muscle != "quadriceps" for m in cmp.newly_wasted)


def test_new_umn_signs_are_those_citing_findings_not_cited_before(compared):
    _, cmp = compared
    texts = [u.text for u in cmp.new_umn_signs]
    assert any("Knee reflex L 4" in t for t in texts)
    assert any("Babinski" in t for t in texts)
    assert not any("Biceps reflex R" in t for t in texts)  # already brisk at the earlier visit
    assert {u.region for u in cmp.new_umn_signs} == {"lumbosacral"}


def test_criteria_and_scores_are_listed_before_and_after(compared):
    result, cmp = compared
    by_id = {c.criterion: c for c in cmp.criteria}
    assert set(by_id) == set(result.visits[0].criteria)
    aw = by_id["awaji"]
    assert aw.before == criterion_text(result.visits[0].criteria["awaji"])
    assert aw.after == criterion_text(result.visits[1].criteria["awaji"])
    assert aw.direction == 1 and aw.changed
    scores = {s.name: (s.before, s.after) for s in cmp.scores}
    assert scores["ALSFRS-R total"] == ("48/48", "46/48")
    assert scores["FVC"] == ("92%", "85%")
    assert scores["Weight"] == ("70 kg", "68.5 kg")
    assert not cmp.nothing_changed


def test_a_visit_compared_with_itself_changed_nothing():
    cat = load_catalogue()
    result = classify_case(case_of(EARLY), cat)
    cmp = compare_visits(result.visits[0], result.visits[0], EARLY, EARLY)
    assert cmp.nothing_changed
    assert all(not c.changed for c in cmp.criteria)


def test_the_later_visit_must_not_be_earlier_and_each_visit_needs_its_own_result():
    cat = load_catalogue()
    result = classify_case(case_of(EARLY, LATE), cat)
    with pytest.raises(ValueError, match="before the earlier"):
        compare_visits(result.visits[1], result.visits[0], LATE, EARLY)
    with pytest.raises(ValueError, match="its own classification"):
        compare_visits(result.visits[0], result.visits[1], LATE, EARLY)


def test_region_state_distinguishes_not_examined_from_none():
    cat = load_catalogue()
    result = classify_case(case_of(EARLY), cat)
    vc = result.visits[0]
    assert region_state(vc, "bulbar") == "not_examined"
    assert region_state(vc, "lumbosacral") == "none"
    assert region_state(vc, "cervical") == "both"


# -- the widget ---------------------------------------------------------------------------------


@pytest.fixture
def compare_view(qtbot):
    from desktop.ui.progression import CompareView

    v = CompareView()
    qtbot.addWidget(v)
    v.show()
    return v


def test_the_compare_view_lists_what_changed_between_the_last_two_visits(compare_view, catalogue):
    case = case_of(EARLY, LATE)
    compare_view.set_patient(case, classify_case(case, catalogue))
    assert compare_view.before_combo.currentText() == D0.isoformat()
    assert compare_view.after_combo.currentText() == D1.isoformat()
    assert compare_view.lines("new_regions") == ["Lumbosacral"]
    assert compare_view.lines("weaker") == ["First dorsal interosseous R: MRC 4 → 3",
                                            "Tibialis anterior L: MRC 4+ → 4"]
    assert "ALSFRS-R total: 48/48 → 46/48" in compare_view.lines("scores")
    assert any(line.startswith("Awaji-shima: ") and "→" in line for line in compare_view.lines("criteria"))


def test_picking_the_visits_in_reverse_still_compares_earlier_to_later(compare_view, catalogue):
    case = case_of(EARLY, LATE)
    compare_view.set_patient(case, classify_case(case, catalogue))
    compare_view.select(1, 0)
    assert compare_view.comparison.before == D0 and compare_view.comparison.after == D1
    compare_view.select(1, 1)
    assert compare_view.comparison is None
    assert compare_view.message.text() == "Pick two different visits."


def test_one_visit_or_none_gives_a_clear_message_instead_of_a_comparison(compare_view, catalogue):
    one = case_of(EARLY)
    compare_view.set_patient(one, classify_case(one, catalogue))
    assert compare_view.comparison is None
    assert compare_view.message.text() == f"Only one visit ({D0.isoformat()}): comparing needs two."
    assert not compare_view.before_combo.isEnabled()
    empty = case_of()
    compare_view.set_patient(empty, classify_case(empty, catalogue))
    assert compare_view.message.text() == "No visits recorded: nothing to compare."
    compare_view.set_patient(None, None)
    assert compare_view.message.text() == "No patient selected"


def test_empty_sections_say_none(compare_view, catalogue):
    case = case_of(EARLY, EARLY.model_copy(update={"date": D1}))
    compare_view.set_patient(case, classify_case(case, catalogue))
    assert compare_view.lines("weaker") == ["none"]
    assert compare_view.lines("new_umn_signs") == ["none"]


def test_compare_names_wasting_that_worsened_and_muscles_it_cannot_compare():
    """Issue 15: 'newly wasted: none' hid wasting that worsened and muscles not examined before."""
    from desktop.compare import compare_visits
    from tests.builders import case, classify, m, visit

    v1 = visit("2025-01-01", m("deltoid", "right", "4", "mild"), m("biceps", "right", "5", "none"))
    v2 = visit("2025-04-01", m("deltoid", "right", "4", "moderate"), m("biceps", "right", "5", "mild"),
               m("triceps", "right", "4", "moderate"))
    res = classify(case(v1, v2))
    cmp = compare_visits(res.visits[0], res.visits[1], v1, v2)
    assert [(c.label, c.before, c.after) for c in cmp.wasting_worse] == [("Deltoid R", "mild", "moderate")]
    assert [(c.label, c.before, c.after) for c in cmp.newly_wasted] == [("Biceps brachii R", "none", "mild")]
    assert cmp.not_comparable == ("Triceps R",)
