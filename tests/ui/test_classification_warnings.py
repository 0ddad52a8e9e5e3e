"""The classification panel shows the visit's warnings (missing or inconsistent data) while it
has any, follows them as the visit is edited, and says nothing about warnings otherwise."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel

from domain.case import ALSFRS_ITEMS
from tests.ui.keys import type_into
from tests.ui.test_classification_panel import EDITS, LayoutRequests, cell, panel_snapshot

GASTROSTOMY = "ALSFRS-R item 5b records a gastrostomy; no gastrostomy date is recorded."


def score_alsfrs(window, respiratory_insufficiency: str = "4") -> None:
    """Score all 12 items, as a user types them: 4, except respiratory insufficiency."""
    hv = window.editor.history_view
    for item in ALSFRS_ITEMS:
        type_into(hv.items[item], respiratory_insufficiency if item == "respiratory_insufficiency" else "4")
    QApplication.processEvents()


def visible_text(panel) -> str:
    """All the text the panel's visible labels show."""
    return " ".join(lb.text() for lb in panel.findChildren(QLabel) if lb.isVisible())


def test_a_gastrostomy_scored_without_its_date_shows_the_warning_in_the_panel(visit_window):
    w = visit_window  # the patient has no gastrostomy date
    w.editor.history_view.gastrostomy.setChecked(True)
    score_alsfrs(w)
    assert w.session.classification.warnings == (GASTROSTOMY,)
    box = w.panel.warnings_box
    assert box.isVisible()
    shown = w.panel.warnings_text.text()
    assert "Warnings" in shown and GASTROSTOMY in shown
    assert w.panel.warnings_shown() == (GASTROSTOMY,)


def test_every_warning_is_listed_and_the_list_follows_the_edits(visit_window):
    w = visit_window
    hv = w.editor.history_view
    hv.gastrostomy.setChecked(True)
    score_alsfrs(w, respiratory_insufficiency="3")  # ventilatory support, no NIV date either
    warnings = w.session.classification.warnings
    assert len(warnings) == 2 and GASTROSTOMY in warnings
    assert all(text in w.panel.warnings_text.text() for text in warnings)
    hv.gastrostomy.setChecked(False)  # item 5a: only the NIV warning is left
    QApplication.processEvents()
    (niv,) = w.session.classification.warnings
    assert "NIV" in niv
    assert niv in w.panel.warnings_text.text() and GASTROSTOMY not in w.panel.warnings_text.text()
    ri = hv.items["respiratory_insufficiency"]
    ri.setCurrentIndex(ri.findText("4"))  # nothing left to warn about
    ri.activated.emit(ri.currentIndex())  # (typed again so soon, "4" would extend the search "3")
    QApplication.processEvents()
    assert w.session.classification.warnings == ()
    assert not w.panel.warnings_box.isVisible()
    assert "Warning" not in visible_text(w.panel)


def test_a_visit_without_warnings_shows_no_warnings_area(visit_window):
    w = visit_window
    model = w.editor.exam_model
    score_alsfrs(w)
    for muscle, field, side, typed in EDITS[:6]:
        model.setData(cell(model, muscle, field, side), typed)
    QApplication.processEvents()
    assert w.session.classification.warnings == ()
    assert not w.panel.warnings_box.isVisible()
    assert "Warning" not in visible_text(w.panel)
    assert w.panel.warnings_shown() == ()


def test_an_edit_that_leaves_the_warnings_as_they_were_never_re_lays_out_the_panel(visit_window):
    w = visit_window
    model = w.editor.exam_model
    w.editor.history_view.gastrostomy.setChecked(True)
    score_alsfrs(w)
    QApplication.processEvents()
    requests = LayoutRequests(w.panel)
    before = panel_snapshot(w.panel)
    for muscle, field, side, typed in EDITS[:6]:
        model.setData(cell(model, muscle, field, side), typed)
        QApplication.processEvents()
    assert panel_snapshot(w.panel) != before  # the criteria and the scores did change
    assert w.panel.warnings_box.isVisible() and GASTROSTOMY in w.panel.warnings_text.text()
    assert requests.count == 0
