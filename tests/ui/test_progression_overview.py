"""The patient overview on real widgets: what is plotted and tabulated is read back from the
plot items and table models, never from pixels."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.ui.progression import OverviewView, ProgressionView
from desktop.ui.progression.demo import demo_case
from desktop.ui.progression.models import NOT_EXAMINED_TEXT, StateRole
from desktop.ui.progression.plots import KINGS_ORDER
from domain.case import AlsfrsR, Case, MuscleFinding, Patient, ReflexFinding, SignFinding, Visit
from domain.classify import classify_case

D0 = dt.date(2025, 3, 1)


def alsfrs(**low) -> AlsfrsR:
    items = dict(speech=4, salivation=4, swallowing=4, handwriting=4, cutting_food=4,
                 dressing_hygiene=4, turning_in_bed=4, walking=4, climbing_stairs=4, dyspnea=4,
                 orthopnea=4, respiratory_insufficiency=4)
    items.update(low)
    return AlsfrsR(gastrostomy=False, **items)


def patient(**kw) -> Patient:
    base = dict(id="MRN-7", family_name="Kierkegård-Ølund", given_names="Søren",
                birth_date=dt.date(1960, 5, 1), onset_date=dt.date(2024, 9, 1),
                onset_region="upper_limb")
    base.update(kw)
    return Patient(**base)


def case_of(*visits: Visit, **pkw) -> Case:
    return Case(format="motorchart-case/1", patient=patient(**pkw), visits=tuple(visits))


@pytest.fixture
def view(qtbot, catalogue):
    v = OverviewView(catalogue=catalogue)
    qtbot.addWidget(v)
    v.resize(1400, 900)
    v.show()
    return v


def show(view, case, catalogue):
    result = classify_case(case, catalogue)
    view.set_patient(case, result)
    return result


def ys(view, key):
    _, y = view.plots.series[key].getData()
    return [] if y is None else [float(v) for v in y]


def test_a_single_visit_plots_one_point_per_score_and_says_what_is_missing(view, catalogue):
    visit = Visit(date=D0, alsfrs_r=alsfrs(speech=3, walking=2), fvc_percent=87, weight_kg=64.5,
                  muscles=(MuscleFinding(muscle="deltoid", side="right", mrc="4", wasting="mild"),))
    show(view, case_of(visit), catalogue)
    assert ys(view, "alsfrs_total") == [45.0]
    assert ys(view, "alsfrs_bulbar") == [11.0]
    assert ys(view, "alsfrs_gross_motor") == [10.0]
    assert ys(view, "fvc") == [87.0]
    assert ys(view, "weight") == [64.5]
    # One visit: no slope between visits, and the plot says so instead of staying blank.
    assert ys(view, "slope") == []
    assert ys(view, "delta_fs") == pytest.approx([3 / ((D0 - dt.date(2024, 9, 1)).days / 30.4375)])
    assert view.plots.no_data["mrc_sum"].toPlainText() == "No MRC sum score recorded"
    assert view.plots.no_data["alsfrs_total"].toPlainText() == ""
    assert "1 visit" in view.title.text()


def test_a_patient_without_alsfrs_r_shows_no_data_text_in_the_alsfrs_plots(view, catalogue):
    visits = [Visit(date=D0 + dt.timedelta(days=90 * k), fvc_percent=90 - k) for k in range(3)]
    show(view, case_of(*visits), catalogue)
    for key in ("alsfrs_total", "alsfrs_subscores", "decline", "mitos"):
        assert view.plots.specs[key].empty
        assert view.plots.no_data[key].toPlainText().startswith("No ")
    assert ys(view, "alsfrs_total") == []
    assert ys(view, "kings_alsfrs") == []
    assert ys(view, "fvc") == [90.0, 89.0, 88.0]
    # King's clinical is staged without ALSFRS-R, so it is still drawn.
    assert len(ys(view, "kings_clinical")) == 3


def test_the_slope_between_visits_is_a_segment_over_the_interval_apart_from_delta_fs(view, catalogue):
    v1 = Visit(date=D0, alsfrs_r=alsfrs())
    v2 = Visit(date=D0 + dt.timedelta(days=61), alsfrs_r=alsfrs(walking=2, speech=2))
    result = show(view, case_of(v1, v2), catalogue)
    slope = result.visits[1].alsfrs_r_slope
    x, y = view.plots.series["slope"].getData()
    assert list(y) == pytest.approx([slope, slope])  # one segment: from the first visit to the second
    assert x[1] - x[0] == pytest.approx(61 * 86400)
    assert ys(view, "delta_fs") == pytest.approx([vc.delta_fs for vc in result.visits])
    names = {view.plots.series[k].opts["name"] for k in ("slope", "delta_fs")}
    assert any("since onset" in n for n in names) and any("between visits" in n for n in names)


def test_stages_are_plotted_at_their_stage_positions(view, catalogue):
    case = demo_case(12)
    result = show(view, case, catalogue)
    kings = ys(view, "kings_clinical")
    assert [KINGS_ORDER[int(k)] for k in kings] == [vc.kings_clinical for vc in result.visits]
    assert ys(view, "mitos") == [float(vc.mitos) for vc in result.visits]
    assert ys(view, "mrc_sum") == [float(vc.mrc_sum) for vc in result.visits if vc.mrc_sum is not None]
    assert ys(view, "umn_score") == [float(vc.umn_score) for vc in result.visits]


def test_thirty_visits_fill_every_plot_and_every_column(view, catalogue):
    case = demo_case(30)
    result = show(view, case, catalogue)
    assert len(ys(view, "alsfrs_total")) == 30
    assert len(ys(view, "fvc")) == 29  # the demo leaves FVC out at one visit
    assert view.region_model.columnCount() == 30
    assert view.heatmap_model.columnCount() == 30
    from PySide6.QtCore import Qt

    assert view.region_model.headerData(29, Qt.Orientation.Horizontal) == result.visits[-1].date.isoformat()
    assert "30 visits" in view.title.text()


def test_the_region_matrix_shows_each_region_state_and_the_visit_it_was_first_involved(view, catalogue):
    from PySide6.QtCore import Qt

    v1 = Visit(date=D0,
               muscles=(MuscleFinding(muscle="first_dorsal_interosseous", side="right", mrc="4", wasting="moderate"),),
               reflexes=(ReflexFinding(reflex="biceps", side="right", grade=4),))
    v2 = Visit(date=D0 + dt.timedelta(days=120),
               muscles=(MuscleFinding(muscle="first_dorsal_interosseous", side="right", mrc="3", wasting="moderate"),
                        MuscleFinding(muscle="tongue", side="midline", mrc="5", wasting="none")),
               reflexes=(ReflexFinding(reflex="biceps", side="right", grade=4),
                         ReflexFinding(reflex="knee", side="left", grade=4)),
               signs=(SignFinding(sign="babinski", side="left", present=True),))
    show(view, case_of(v1, v2), catalogue)
    m = view.region_model
    rows = {m.headerData(r, Qt.Orientation.Vertical).split()[0]: r for r in range(m.rowCount())}

    def state(region, col):
        return m.data(m.index(rows[region], col), StateRole)

    assert [state("Cervical", c) for c in (0, 1)] == ["both", "both"]
    assert [state("Lumbosacral", c) for c in (0, 1)] == ["not_examined", "umn"]
    assert [state("Bulbar", c) for c in (0, 1)] == ["not_examined", "none"]
    assert state("Thoracic", 1) == "not_examined"
    # Not examined is written out, never a blank that reads as normal.
    assert m.data(m.index(rows["Thoracic"], 0)) == "not examined"
    assert "★" in m.data(m.index(rows["Lumbosacral"], 1))  # first involved here
    assert "★" not in m.data(m.index(rows["Cervical"], 1))
    assert "onset" in m.headerData(rows["Cervical"], Qt.Orientation.Vertical)
    assert "2nd" in m.headerData(rows["Lumbosacral"], Qt.Orientation.Vertical)
    assert view.spread_label.text().startswith("Order of spread: Cervical (onset) → Lumbosacral")


def test_the_heatmap_shows_mrc_grades_and_marks_not_examined_apart_from_normal(view, catalogue):
    from PySide6.QtCore import Qt

    v1 = Visit(date=D0, muscles=(MuscleFinding(muscle="deltoid", side="right", mrc="5"),
                                 MuscleFinding(muscle="biceps", side="left", mrc="4-")))
    v2 = Visit(date=D0 + dt.timedelta(days=90),
               muscles=(MuscleFinding(muscle="deltoid", side="right", mrc="4+"),))
    show(view, case_of(v1, v2), catalogue)
    m = view.heatmap_model
    labels = [m.headerData(r, Qt.Orientation.Vertical) for r in range(m.rowCount())]
    assert labels == ["Deltoid R", "Biceps brachii L"]  # catalogue order, only graded muscles
    assert [m.data(m.index(0, c)) for c in (0, 1)] == ["5", "4+"]
    assert m.data(m.index(1, 1)) == NOT_EXAMINED_TEXT
    assert m.data(m.index(1, 1), StateRole) is None
    normal = m.data(m.index(0, 0), Qt.ItemDataRole.BackgroundRole)
    missing = m.data(m.index(1, 1), Qt.ItemDataRole.BackgroundRole)
    assert normal.style() != missing.style() or normal.color() != missing.color()
    assert "not examined" in m.data(m.index(1, 1), Qt.ItemDataRole.ToolTipRole)


def test_the_summary_gives_the_highest_category_with_its_date_and_the_phenotype_status(view, catalogue):
    case = demo_case(10)
    result = show(view, case, catalogue)
    res, date = result.highest["awaji"]
    assert view.highest_labels["awaji"].text() == "Clinically definite"
    assert view.highest_dates["awaji"].text() == f"first on {date.isoformat()}"
    assert view.highest_labels["gold_coast"].text() == "Met"
    ph = result.visits[-1].phenotype
    assert view.phenotype_label.text().lower().replace(" ", "_") == ph.label


def test_a_provisional_phenotype_shows_the_date_it_becomes_final(view, catalogue):
    visit = Visit(date=D0, muscles=(
        MuscleFinding(muscle="first_dorsal_interosseous", side="right", mrc="3", wasting="moderate"),
        MuscleFinding(muscle="biceps", side="right", mrc="4", wasting="mild"),
    ))
    result = show(view, case_of(visit), catalogue)
    ph = result.visits[-1].phenotype
    assert ph.provisional and ph.final_after is not None
    assert view.phenotype_status.text() == f"provisional, final on {ph.final_after.isoformat()}"
    assert view.highest_labels["el_escorial"].text() == "Not met at any visit"


def test_a_patient_without_visits_shows_no_visits_everywhere(view, catalogue):
    show(view, case_of(), catalogue)
    assert view.region_stack.currentWidget() is view.region_stack.message
    assert view.region_stack.message.text() == "No visits recorded"
    assert view.heatmap_stack.message.text() == "No visits recorded"
    assert view.highest_labels["awaji"].text() == "No visits recorded"
    assert view.plots.no_data["alsfrs_total"].toPlainText() == "No visits recorded"


def test_visits_without_mrc_grades_say_so_in_the_heatmap(view, catalogue):
    show(view, case_of(Visit(date=D0, weight_kg=70)), catalogue)
    assert view.heatmap_stack.message.text() == "No MRC grades recorded at any visit"
    assert view.region_stack.currentWidget() is view.region_table


def test_clearing_the_view_and_showing_another_patient_replaces_everything(view, catalogue):
    show(view, demo_case(6), catalogue)
    view.set_patient(None, None)
    assert view.title.text() == "No patient selected"
    assert view.region_model.rowCount() == 0 and view.heatmap_model.rowCount() == 0
    assert ys(view, "alsfrs_total") == []
    show(view, case_of(Visit(date=D0, alsfrs_r=alsfrs(dyspnea=1))), catalogue)
    assert ys(view, "alsfrs_total") == [45.0]


def test_a_classification_of_another_case_is_refused(view, catalogue):
    result = classify_case(demo_case(3), catalogue)
    with pytest.raises(ValueError):
        view.set_patient(demo_case(4), result)


def test_the_table_models_pass_the_qt_model_tester(qtmodeltester, view, catalogue):
    show(view, demo_case(5), catalogue)
    qtmodeltester.check(view.region_model)
    qtmodeltester.check(view.heatmap_model)


def test_the_embedded_progression_view_feeds_the_body_map_and_comparison_when_their_tab_opens(qtbot, catalogue):
    v = ProgressionView(catalogue=catalogue)
    qtbot.addWidget(v)
    v.show()
    case = demo_case(4)
    v.set_patient(case, classify_case(case, catalogue))
    assert v.overview.region_model.columnCount() == 4
    assert v.bodymap.case is None  # not built until shown
    v.tabs.setCurrentWidget(v.bodymap)
    assert v.bodymap.index == 3
    v.tabs.setCurrentWidget(v.compare)
    assert v.compare.comparison is not None and v.compare.comparison.after == case.visits[-1].date
    v.set_patient(None, None)  # clearing reaches the visible tab at once
    assert v.compare.comparison is None


def test_a_narrow_overview_puts_the_plots_above_the_tables_and_scrolls(qtbot, view, catalogue):
    from PySide6.QtCore import Qt

    show(view, demo_case(5), catalogue)
    view.resize(1400, 900)
    qtbot.waitUntil(lambda: view.splitter.orientation() == Qt.Orientation.Horizontal)
    view.resize(820, 700)  # a tab beside the visit editor
    qtbot.waitUntil(lambda: view.splitter.orientation() == Qt.Orientation.Vertical)
    assert view.scroll.verticalScrollBar().maximum() > 0
