"""Issue 14: a muscle's findings are attributed to another cause from the grid (Ctrl+Shift+O or
the context menu, with a short reason); the muscle shows greyed and labelled, the classifier
ignores it and says why, the visit report says so, and it is one undoable edit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QInputDialog

from desktop.ui.grid import GREY
from desktop.ui.gridview import FindingsView
from tests.ui.keys import enter_cell, press

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
WHY = "old C5 root injury, Kraków 2019"


def goto(view, muscle, field, side):
    m = view.model()
    view.setCurrentIndex(m.index(m.row_of(muscle), m.column_of(field, side)))
    view.setFocus()


def panel_lines(w) -> list[str]:
    tree = w.panel.criteria
    out = []
    for i in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(i)
        out += [top.toolTip(0)] + [top.child(j).toolTip(0) for j in range(top.childCount())]
    return out


def reason_asked(monkeypatch, reason=WHY, ok=True):
    asked = []
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (asked.append((a[2], k.get("text"))), (reason, ok))[1])
    return asked


def choose_in_menu(monkeypatch, text):
    """The context menu opens and the user picks the entry beginning with ``text``."""
    shown = []

    def run(view, menu, pos):
        shown.append([(x.text(), x.isEnabled()) for x in menu.actions()])
        next(x for x in menu.actions() if x.text().startswith(text)).trigger()

    monkeypatch.setattr(FindingsView, "run_menu", run)
    return shown


def right_click(view, index) -> None:
    """A context-menu event on a cell, as the right mouse button sends it."""
    pos = view.visualRect(index).center()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)


@pytest.fixture
def weak_deltoid(visit_window):
    w = visit_window
    view = w.editor.exam_view
    for side in ("left", "right"):
        goto(view, "deltoid", "mrc", side)
        enter_cell(view, "3", then=Qt.Key.Key_Tab)
        enter_cell(view, "2", then=Qt.Key.Key_Tab)
    w.show_view(view)
    return w


def test_ctrl_shift_o_attributes_the_cells_side_to_another_cause_and_again_clears_it(weak_deltoid, monkeypatch):
    w = weak_deltoid
    view, m = w.editor.exam_view, w.editor.exam_model
    row = m.row_of("deltoid")
    left_mrc = m.index(row, m.column_of("mrc", "left"))
    assert left_mrc.data(Qt.ItemDataRole.ForegroundRole).color() != GREY  # weak: shown red
    asked = reason_asked(monkeypatch)
    goto(view, "deltoid", "mrc", "left")
    press(view, Qt.Key.Key_O, CTRL_SHIFT)
    assert len(asked) == 1 and "Deltoid L" in asked[0][0]
    f = {x.side: x for x in w.session.store.get_visit("MRN-0042", w.session.visit.date).muscles}
    assert (f["left"].other_cause, f["left"].other_cause_reason) == (True, WHY)
    assert f["left"].mrc == "3" and not f["right"].other_cause  # the findings stay; only the left side
    name = m.index(row, 0)
    assert name.data().endswith(f"(L other cause: {WHY})")
    assert left_mrc.data(Qt.ItemDataRole.ForegroundRole).color() == GREY
    assert f"attributed to another cause: {WHY}" in left_mrc.data(Qt.ItemDataRole.ToolTipRole)
    assert m.index(row, m.column_of("mrc", "right")).data(Qt.ItemDataRole.ForegroundRole).color() != GREY
    assert f"Ignored: Deltoid L (findings attributed to another cause: {WHY})." in panel_lines(w)
    assert "ignored (other cause)" in name.data(Qt.ItemDataRole.ToolTipRole)
    assert w.undo_action.text() == f"&Undo Deltoid L: other cause ({WHY})"
    assert "Deltoid L attributed to another cause" in w.statusBar().currentMessage()

    press(view, Qt.Key.Key_O, CTRL_SHIFT)  # again: cleared, nothing asked
    assert len(asked) == 1
    assert not name.data().endswith(")") and "other cause" not in name.data()
    assert not any(x.other_cause for x in w.session.visit.muscles)
    assert not any("Ignored:" in t for t in panel_lines(w))
    w.undo_action.trigger()  # undo the clearing: attributed again
    assert name.data().endswith(f"(L other cause: {WHY})")
    w.undo_action.trigger()
    assert not any(x.other_cause for x in w.session.store.get_visit("MRN-0042", w.session.visit.date).muscles)


def test_the_context_menu_attributes_both_sides_from_the_name_and_clears_them(weak_deltoid, monkeypatch):
    w = weak_deltoid
    view, m = w.editor.exam_view, w.editor.exam_model
    row = m.row_of("deltoid")
    name = m.index(row, 0)
    reason_asked(monkeypatch, "brachial plexopathy")
    shown = choose_in_menu(monkeypatch, "Attribute to another cause")
    right_click(view, name)
    assert view.currentIndex() == name
    assert shown[0] == [("Attribute to another cause…\tCtrl+Shift+O", True), ("Clear other cause", False)]
    assert {(x.side, x.other_cause, x.other_cause_reason) for x in w.session.visit.muscles} == {
        ("left", True, "brachial plexopathy"), ("right", True, "brachial plexopathy")}
    assert name.data() == "   Deltoid (other cause: brachial plexopathy)"
    assert name.data(Qt.ItemDataRole.ForegroundRole).color() == GREY
    emg_name = w.editor.emg_model.index(row, 0)
    assert emg_name.data().endswith("(other cause: brachial plexopathy)")  # the EMG view too

    shown = choose_in_menu(monkeypatch, "Clear other cause")
    right_click(view, name)
    assert shown[0][1] == ("Clear other cause", True)
    assert not any(x.other_cause for x in w.session.visit.muscles)
    assert name.data() == "   Deltoid" and name.data(Qt.ItemDataRole.ForegroundRole) is None


def test_a_muscle_with_nothing_recorded_can_be_attributed_and_cancelling_changes_nothing(visit_window, monkeypatch):
    w = visit_window
    view = w.editor.exam_view
    before = w.session.visit
    reason_asked(monkeypatch, ok=False)
    goto(view, "biceps", "wasting", "right")
    press(view, Qt.Key.Key_O, CTRL_SHIFT)
    assert w.session.visit is before and w.undo_action.text() == "&Undo New visit 2025-03-01"
    reason_asked(monkeypatch, "")  # no reason given: attributed all the same
    press(view, Qt.Key.Key_O, CTRL_SHIFT)
    (f,) = w.session.visit.muscles
    assert (f.muscle, f.side, f.other_cause, f.other_cause_reason, f.examined) == ("biceps", "right", True, None, False)
    assert w.editor.exam_model.index(w.editor.exam_model.row_of("biceps"), 0).data().endswith("(R other cause)")
    press(view, Qt.Key.Key_O, CTRL_SHIFT)  # cleared: the empty finding goes
    assert w.session.visit.muscles == ()


def test_a_reason_longer_than_the_chart_keeps_is_refused_with_the_stores_message(weak_deltoid, monkeypatch):
    w = weak_deltoid
    view = w.editor.exam_view
    before = w.session.visit
    reason_asked(monkeypatch, "x" * 201)
    goto(view, "deltoid", "mrc", "left")
    press(view, Qt.Key.Key_O, CTRL_SHIFT)
    assert w.session.visit is before
    assert "is 201 characters long (at most 200 characters)" in w.statusBar().currentMessage()
    assert "other cause" not in w.editor.exam_model.index(w.editor.exam_model.row_of("deltoid"), 0).data()


def test_a_signed_visit_refuses_the_attribution(weak_deltoid, monkeypatch):
    w = weak_deltoid
    assert w.session.sign()
    view = w.editor.exam_view
    asked = reason_asked(monkeypatch)
    goto(view, "deltoid", "mrc", "left")
    press(view, Qt.Key.Key_O, CTRL_SHIFT)
    assert asked == []
    assert "signed and read-only" in w.statusBar().currentMessage()
    assert [(a.text(), a.isEnabled()) for a in view.context_menu().actions()] == [
        ("Attribute to another cause…\tCtrl+Shift+O", False), ("Clear other cause", False)]


def test_the_visit_report_labels_the_muscle_with_its_reason(weak_deltoid, monkeypatch):
    from desktop.ui.printing import build_report
    from tests.reports.pdf_helpers import text

    w = weak_deltoid
    reason_asked(monkeypatch, "old C5 radiculopathy")
    goto(w.editor.exam_view, "deltoid", "mrc", "left")
    press(w.editor.exam_view, Qt.Key.Key_O, CTRL_SHIFT)
    pdf = text(build_report(w.session, progression=False, page_size="A4"))
    assert "other cause: old C5 radiculopathy" in pdf
