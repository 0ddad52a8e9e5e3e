"""The patient's milestones (gastrostomy, NIV, tracheostomy, death) on the overview's plots: one
labelled vertical line per milestone at its date on every plot over time, read back from the
plot items."""

from __future__ import annotations

import re
import datetime as dt

import pytest

from desktop.ui.progression import OverviewView
from desktop.ui.progression.demo import demo_case
from desktop.ui.progression.plots import _ts
from domain.case import AlsfrsR, Case, Patient, Visit
from domain.classify import classify_case

D0 = dt.date(2025, 1, 6)
ALL = dict(gastrostomy_date=dt.date(2025, 4, 2), gastrostomy_note="PEG", niv_date=dt.date(2025, 5, 20),
           tracheostomy_date=dt.date(2025, 9, 1), death_date=dt.date(2025, 11, 30),
           death_note="respiratory failure")


def alsfrs(total_lost: int = 0) -> AlsfrsR:
    return AlsfrsR(speech=4, salivation=4, swallowing=4, handwriting=4 - min(total_lost, 4), cutting_food=4,
                   gastrostomy=False, dressing_hygiene=4, turning_in_bed=4, walking=4, climbing_stairs=4,
                   dyspnea=4, orthopnea=4, respiratory_insufficiency=4)


def case_with(**milestones) -> Case:
    visits = tuple(Visit(date=D0 + dt.timedelta(days=60 * k), alsfrs_r=alsfrs(k), fvc_percent=90 - 3 * k,
                         weight_kg=70 - k) for k in range(4))
    patient = Patient(id="MRN-9", family_name="Øster-Łącka", given_names="Inès", birth_date=dt.date(1957, 12, 1),
                      onset_date=dt.date(2024, 8, 1), onset_region="bulbar", **milestones)
    return Case(format="motorchart-case/1", patient=patient, visits=visits)


@pytest.fixture
def view(qtbot, catalogue):
    v = OverviewView(catalogue=catalogue)
    qtbot.addWidget(v)
    v.resize(1400, 900)
    v.show()
    return v


def show(view, case, catalogue):
    view.set_patient(case, classify_case(case, catalogue))


def test_every_plot_over_time_marks_each_milestone_with_a_labelled_line_at_its_date(view, catalogue):
    show(view, case_with(**ALL), catalogue)
    expected = [("Gastrostomy", _ts(ALL["gastrostomy_date"])), ("NIV", _ts(ALL["niv_date"])),
                ("Tracheostomy", _ts(ALL["tracheostomy_date"])), ("Death", _ts(ALL["death_date"]))]
    assert set(view.plots.plot_items) == {"alsfrs_total", "alsfrs_subscores", "decline", "mrc_sum", "umn_score",
                                          "fvc", "weight", "kings", "mitos"}
    for key in view.plots.plot_items:
        assert view.plots.milestones_shown(key) == expected, key


def test_a_milestone_label_sits_beside_its_line_inside_the_plot(view, catalogue, qtbot):
    show(view, case_with(**ALL), catalogue)
    qtbot.wait(10)
    for key, pi in view.plots.plot_items.items():
        (x0, x1), (y0, y1) = pi.getViewBox().viewRange()
        for line in view.plots.milestone_lines[key]:
            pos = line.label.pos()
            assert pos.x() == line.value()
            assert x0 < pos.x() < x1 and y0 < pos.y() <= y1, key


def test_a_death_after_the_last_visit_is_inside_the_dates_plotted(view, catalogue, qtbot):
    show(view, case_with(death_date=dt.date(2026, 3, 1)), catalogue)
    for pi in view.plots.plot_items.values():
        x0, x1 = pi.getViewBox().viewRange()[0]
        assert x0 < _ts(dt.date(2026, 3, 1)) < x1


def test_a_refused_gastrostomy_is_labelled_refused(view, catalogue):
    show(view, case_with(gastrostomy_date=dt.date(2025, 4, 2), gastrostomy_note="Gastrostomy refused"), catalogue)
    assert view.plots.milestones_shown("weight") == [("Gastrostomy refused", _ts(dt.date(2025, 4, 2)))]


def test_the_next_patient_shows_only_its_own_milestones(view, catalogue):
    show(view, case_with(**ALL), catalogue)
    show(view, case_with(niv_date=dt.date(2025, 2, 14)), catalogue)
    assert view.plots.milestones_shown("fvc") == [("NIV", _ts(dt.date(2025, 2, 14)))]
    show(view, case_with(), catalogue)
    assert all(view.plots.milestones_shown(k) == [] for k in view.plots.plot_items)
    view.set_patient(None, None)
    assert view.plots.milestones_shown("alsfrs_total") == []


def test_milestones_on_the_same_day_are_both_marked_with_labels_apart(view, catalogue):
    same = dt.date(2025, 4, 2)
    show(view, case_with(gastrostomy_date=same, niv_date=same), catalogue)
    assert [label for label, _ in view.plots.milestones_shown("mitos")] == ["Gastrostomy", "NIV"]
    g, n = view.plots.milestone_lines["mitos"][:2]
    assert g.label.pos().y() != n.label.pos().y()


def test_the_overview_title_says_when_the_patient_died_and_at_what_age(view, catalogue):
    show(view, case_with(**ALL), catalogue)
    assert "died 2025-11-30 (age 67)" in view.title.text()
    show(view, case_with(), catalogue)
    assert "died" not in view.title.text()


def test_a_thirty_visit_patient_with_milestones_is_drawn(view, catalogue, tmp_path):
    show(view, demo_case(30, milestones=True), catalogue)
    labels = [label for label, _ in view.plots.milestones_shown("alsfrs_total")]
    assert labels == ["Gastrostomy", "NIV", "Death"]
    path = tmp_path / "overview.png"
    assert view.grab().save(str(path)) and path.stat().st_size > 10_000


def test_a_patient_without_visits_still_shows_its_milestones_beside_the_no_visits_text(view, catalogue):
    case = case_with(**ALL).model_copy(update={"visits": ()})
    show(view, case, catalogue)
    assert view.plots.no_data["fvc"].toPlainText() == "No visits recorded"
    assert len(view.plots.milestones_shown("fvc")) == 4


def test_no_plot_axis_rescales_its_values_with_an_si_prefix(view, catalogue):
    """Issue 15: the slope axis read "points/month (x0.001)", so 0.67 was drawn as about 670."""
    show(view, case_with(**ALL), catalogue)
    assert view.plots.plot_items
    for key, pi in view.plots.plot_items.items():
        assert not pi.getAxis("left").autoSIPrefix, key


def test_fvc_and_weight_axes_start_at_zero_and_a_classic_phenotype_is_not_called_final(view, catalogue):
    """Issue 15: a 3 kg change was drawn as a large one; "Classic ... final" needs no tag."""
    from desktop.ui.progression.overview import phenotype_text

    c = case_with(**ALL)
    show(view, c, catalogue)
    for key in ("fvc", "weight"):
        lo, _hi = view.plots.plot_items[key].getViewBox().viewRange()[1]
        assert lo <= 0.5, key
    from tests.builders import case, classify, r, visit, wasted

    res = classify(case(visit("2025-03-01", wasted("first_dorsal_interosseous"), r("biceps", "right", 4))))
    assert res.visits[-1].phenotype.label == "classic"
    assert phenotype_text(res)[:2] == ("Classic", "")


def test_every_time_axis_is_labelled_by_month(view, catalogue):
    """Issue 15: the left plots had no month labels."""
    show(view, case_with(**ALL), catalogue)
    for key, pi in view.plots.plot_items.items():
        axis = pi.getAxis("bottom")
        lo, hi = pi.getViewBox().viewRange()[0]
        levels = axis.tickValues(lo, hi, pi.getViewBox().width())
        labels = axis.tickStrings(levels[0][1], 1, 1) if levels else []
        assert len(labels) >= 2, key
        assert all(re.fullmatch(r"\d{4}-\d{2}", t) for t in labels), (key, labels)
