"""The visit editor driven through real widgets and keys, on a real chart file."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
import pytest

from desktop.present.entries import NOT_EXAMINED
from tests.ui.keys import enter_cell, press, walk_to

D1 = dt.date(2025, 3, 1)
Tab, Ret, Space = Qt.Key.Key_Tab, Qt.Key.Key_Return, Qt.Key.Key_Space


def goto(view, muscle, field, side):
    m = view.model()
    view.setCurrentIndex(m.index(m.row_of(muscle), m.column_of(field, side)))
    view.setFocus()


def stored(window):
    s = window.session
    return s.store.get_visit(s.patient.id, s.visit.date)


def test_a_full_examination_entered_by_keyboard_only_updates_the_classification(visit_window, qtbot):
    """Every move, entry and view change is a key press: arrows, Tab, Ctrl+region, Ctrl+view."""
    w = visit_window
    view = w.editor.exam_view
    m = view.model()
    assert w.panel.criterion_text("el_escorial").endswith("Not met")

    def to(muscle, field, side):
        walk_to(view, m.row_of(muscle), m.column_of(field, side))

    press(w, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)  # the examination grid
    press(w, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # jump to the cervical region
    assert m.rows[view.currentIndex().row()].region == "cervical"
    # Right arm: weak and wasted with a brisk linked reflex, row by row with Tab.
    for muscle in ("first_dorsal_interosseous", "biceps", "triceps"):
        to(muscle, "mrc", "right")
        for entry in ("4-", "2", "y"):
            enter_cell(view, entry, then=Tab)
        if muscle != "first_dorsal_interosseous":
            enter_cell(view, "4", then=Tab)
    # Legs: brisk knee jerks, weak wasted quadriceps; then Babinski in the signs view.
    press(w, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)  # jump to lumbosacral
    to("quadriceps", "mrc", "left")
    for entry in ("4", "1", "n", "4"):
        enter_cell(view, entry, then=Tab)
    press(view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    signs = w.editor.signs_view
    assert w.editor.tabs.currentWidget() is signs
    sm = signs.model()
    row = next(i for i, r in enumerate(sm.rows) if r.sign is not None and r.sign.id == "babinski")
    walk_to(signs, row, 1)
    press(signs, Space)
    # Bulbar: jaw jerk via masseter, tongue wasting.
    press(w, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    press(w, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # jump to bulbar
    to("tongue", "wasting", "left")
    enter_cell(view, "2")
    to("masseter", "reflex", "left")
    enter_cell(view, "4")

    visit = stored(w)
    fdi = next(f for f in visit.muscles if f.muscle == "first_dorsal_interosseous" and f.side == "right")
    assert (fdi.mrc, fdi.wasting, fdi.fasciculations) == ("4-", "moderate", True)
    assert {(r.reflex, r.side, r.grade) for r in visit.reflexes} >= {
        ("biceps", "right", 4), ("triceps", "right", 4), ("knee", "left", 4), ("jaw", "midline", 4)}
    assert any(s.sign == "babinski" and s.side == "left" and s.present for s in visit.signs)
    vc = w.session.classification
    assert vc.evidence.regions["cervical"].umn["el_escorial"]
    assert vc.evidence.regions["lumbosacral"].lmn("el_escorial")
    assert "Not met" not in w.panel.criterion_text("el_escorial")
    assert ("biceps", "right") in w.editor.exam_model._mixed  # UMN and LMN in one muscle


def test_shortcuts_jump_between_views_and_regions(visit_window):
    w = visit_window
    view = w.editor.exam_view
    view.setFocus()
    press(w, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert w.editor.tabs.currentWidget() is w.editor.emg_view
    press(w, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert w.editor.tabs.currentWidget() is view
    press(w, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert view.currentIndex().row() == view.model().row_of("lumbosacral_paraspinals")
    press(w, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert view.currentIndex().row() == view.model().row_of("tongue")


def test_not_examined_looks_different_from_normal(visit_window):
    w = visit_window
    view = w.editor.exam_view
    m = view.model()
    goto(view, "deltoid", "mrc", "left")
    enter_cell(view, "5")
    normal = m.index(m.row_of("deltoid"), m.column_of("mrc", "left"))
    unexamined = m.index(m.row_of("deltoid"), m.column_of("mrc", "right"))
    assert normal.data() == "5" and unexamined.data() == NOT_EXAMINED
    assert unexamined.data(Qt.ItemDataRole.ForegroundRole) is not None
    assert "not examined" in unexamined.data(Qt.ItemDataRole.ToolTipRole)
    assert w.panel.regions.item(0, 3).text() == "not examined"  # bulbar


def test_invalid_grades_are_refused_in_place_with_what_is_allowed(visit_window):
    w = visit_window
    view = w.editor.exam_view
    goto(view, "deltoid", "mrc", "left")
    for bad in ("6", "4++", "five"):
        enter_cell(view, bad)
        assert "is not an MRC grade" in w.statusBar().currentMessage()
        assert "4-" in w.statusBar().currentMessage()
        assert view.currentIndex().row() == view.model().row_of("deltoid")
    goto(view, "biceps", "reflex", "left")
    enter_cell(view, "7")
    assert "NINDS 0-4" in w.statusBar().currentMessage()
    assert stored(w).muscles == () and stored(w).reflexes == ()
    assert w.session.undo_stack.count() == 1  # only the visit's creation: refused entries add no step


def test_enter_moves_down_and_space_toggles_a_yes_no_cell(visit_window):
    w = visit_window
    view = w.editor.exam_view
    m = view.model()
    goto(view, "deltoid", "fasciculations", "right")
    press(view, Space)
    assert view.currentIndex().data() == "yes"
    press(view, Space)
    assert view.currentIndex().data() == "no"
    press(view, Qt.Key.Key_Delete)
    assert view.currentIndex().data() == NOT_EXAMINED
    goto(view, "deltoid", "mrc", "right")
    enter_cell(view, "4+")
    assert view.currentIndex().row() == m.row_of("biceps")


def test_undo_and_redo_restore_the_visit_and_store_it(visit_window):
    w = visit_window
    view = w.editor.exam_view
    goto(view, "deltoid", "mrc", "left")
    enter_cell(view, "3")
    goto(view, "deltoid", "mrc", "left")
    enter_cell(view, "2")
    assert stored(w).muscles[0].mrc == "2"
    w.undo_action.trigger()
    assert stored(w).muscles[0].mrc == "3"
    w.undo_action.trigger()
    assert stored(w).muscles == ()
    assert view.model().index(view.model().row_of("deltoid"), 1).data() == NOT_EXAMINED
    w.redo_action.trigger()
    w.redo_action.trigger()
    assert stored(w).muscles[0].mrc == "2"
    assert w.session.classification.mrc_sum is None


def test_copy_forward_marks_carried_cells_not_reviewed_until_touched(visit_window, qtbot, monkeypatch):
    w = visit_window
    view = w.editor.exam_view
    goto(view, "deltoid", "mrc", "left")
    for entry in ("4", "1"):
        enter_cell(view, entry, then=Tab)
    assert w.session.new_visit(dt.date(2025, 9, 1), copy_from_previous=True)
    m = view.model()
    mrc = m.index(m.row_of("deltoid"), m.column_of("mrc", "left"))
    wast = m.index(m.row_of("deltoid"), m.column_of("wasting", "left"))
    assert mrc.data() == "4" and len(w.session.unreviewed) == 2
    assert mrc.data(Qt.ItemDataRole.ToolTipRole).count("not reviewed") == 1
    goto(view, "deltoid", "mrc", "left")
    enter_cell(view, "3")  # touched: reviewed
    assert "not reviewed" not in mrc.data(Qt.ItemDataRole.ToolTipRole)
    assert "not reviewed" in wast.data(Qt.ItemDataRole.ToolTipRole)
    # Signing with an unreviewed cell asks first (keep as carried, drop, or cancel); cancel
    # leaves it a draft.
    asked = []
    monkeypatch.setattr(w, "ask_carried", lambda n, source: asked.append((n, source)))
    w.sign_visit()
    assert asked == [(1, D1)] and w.session.status == "draft"
    view.setCurrentIndex(wast)
    press(view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # confirm
    assert not w.session.unreviewed
    asked.clear()
    w.sign_visit()
    assert not asked and w.session.status == "signed"


@pytest.mark.parametrize("choice", ["keep", "drop"])
def test_signing_carried_cells_keeps_them_marked_as_carried_or_drops_them(visit_window, monkeypatch, choice):
    """Issue 13: signing with cells still not reviewed asks the clinician to choose."""
    w = visit_window
    view = w.editor.exam_view
    goto(view, "deltoid", "mrc", "left")
    for entry in ("4", "1"):
        enter_cell(view, entry, then=Tab)
    assert w.session.new_visit(dt.date(2025, 9, 1), copy_from_previous=True)
    goto(view, "deltoid", "mrc", "left")
    enter_cell(view, "3")  # reviewed; the wasting cell stays carried
    monkeypatch.setattr(w, "ask_carried", lambda n, source: choice)
    w.sign_visit()
    store, pid, d2 = w.session.store, w.session.patient.id, dt.date(2025, 9, 1)
    assert store.visit_status(pid, d2) == "signed"
    marks = store.visit_marks(pid, d2)
    deltoid = store.get_visit(pid, d2).muscles[0]
    assert deltoid.mrc == "3"
    if choice == "keep":
        assert marks.carried == (("muscle", "deltoid", "left", "wasting"),) and marks.carried_from == D1
        assert deltoid.wasting is not None
    else:
        assert marks.carried == () and deltoid.wasting is None
    assert not marks.not_reviewed and store.verify_signatures() == []


def test_not_reviewed_marks_survive_closing_and_reopening_the_chart(visit_window, store, catalogue, qtbot):
    from desktop.ui.main_window import MainWindow
    w = visit_window
    view = w.editor.exam_view
    goto(view, "deltoid", "mrc", "left")
    for entry in ("4", "1"):
        enter_cell(view, entry, then=Tab)
    assert w.session.new_visit(dt.date(2025, 9, 1), copy_from_previous=True)
    goto(view, "deltoid", "mrc", "left")
    enter_cell(view, "3")  # the MRC cell is reviewed; wasting is still carried
    w.close()
    again = MainWindow(store, catalogue)
    qtbot.addWidget(again)
    again.open_patient("MRN-0042")
    assert again.session.visit.date == dt.date(2025, 9, 1)
    assert again.session.unreviewed == {("muscle", "deltoid", "left", "wasting")}


def test_a_signed_visit_refuses_edits_until_amended(visit_window):
    w = visit_window
    view = w.editor.exam_view
    goto(view, "deltoid", "mrc", "left")
    enter_cell(view, "4")
    w.sign_visit()
    assert w.session.store.visit_status(w.session.patient.id, D1) == "signed"
    goto(view, "deltoid", "mrc", "left")
    enter_cell(view, "2")
    press(view, Space)
    assert stored(w).muscles[0].mrc == "4"
    assert "read-only" in w.statusBar().currentMessage()
    w.amend_visit()  # opens an amendment: a draft beside the signed version
    assert w.session.status == "amending" and not w.session.readonly
    goto(view, "deltoid", "mrc", "left")
    enter_cell(view, "2")
    enter_cell(view, "3")
    w.undo_action.trigger()  # an amendment is undoable like a draft
    assert stored(w).muscles[0].mrc == "2"
    store, pid = w.session.store, w.session.patient.id
    assert store.visit_meta(pid, D1).status == "amending"
    assert store.signature(pid, D1).version == 1  # the signed version still stands
    w.session.sign_amendment("typo in deltoid")
    meta = store.visit_meta(pid, D1)
    assert meta.status == "amended" and meta.amendment_reason == "typo in deltoid"
    versions = store.visit_versions(pid, D1)
    assert [m.version for m, _v in versions] == [1, 2]  # one amendment, one version
    assert [v.muscles[0].mrc for _m, v in versions] == ["4", "2"]
    sig = store.signature(pid, D1)
    assert sig.version == 2 and sig.previous_sha256 == store.db.execute(
        "SELECT sha256 FROM signatures WHERE version = 1").fetchone()[0]
    assert sum(1 for e in store.audit_trail(pid) if e.table == "signatures") == 2
    assert store.verify_signatures() == []


def test_an_open_amendment_can_be_discarded_leaving_the_signed_version(visit_window):
    w = visit_window
    view = w.editor.exam_view
    goto(view, "deltoid", "mrc", "left")
    enter_cell(view, "4")
    w.sign_visit()
    w.session.begin_amend()
    goto(view, "deltoid", "mrc", "left")
    enter_cell(view, "1")
    assert w.session.discard_amendment()
    store, pid = w.session.store, w.session.patient.id
    assert w.session.status == "signed" and w.session.readonly
    assert [m.version for m, _v in store.visit_versions(pid, D1)] == [1]
    assert stored(w).muscles[0].mrc == "4"


def test_alsfrs_total_is_live_and_saved_when_complete(visit_window):
    w = visit_window
    h = w.editor.history_view
    for i, cb in enumerate(h.items.values()):
        cb.setCurrentIndex(5 if i else 3)  # 4s, speech 2
        cb.activated.emit(cb.currentIndex())
    assert "Total 46/48" in h.total.text()
    assert stored(w).alsfrs_r.total == 46
    assert w.session.classification.alsfrs_r["bulbar"] == 10
    h.fvc.setText("250")
    h.fvc.editingFinished.emit()
    assert "out of range" in w.statusBar().currentMessage() and stored(w).fvc_percent is None
    h.fvc.setText("86")
    h.fvc.editingFinished.emit()
    assert stored(w).fvc_percent == 86


def test_creating_a_visit_can_be_undone_and_redone(visit_window):
    """Issue 14: a visit created by mistake goes with Ctrl+Z, and comes back with Ctrl+Shift+Z."""
    w = visit_window
    store, pid = w.session.store, w.session.patient.id
    view = w.editor.exam_view
    goto(view, "deltoid", "mrc", "left")
    enter_cell(view, "4")
    d2 = dt.date(2025, 9, 1)
    assert w.session.new_visit(d2, copy_from_previous=True)
    assert store.visit_dates(pid) == [D1, d2]
    w.undo_action.trigger()
    assert store.visit_dates(pid) == [D1] and w.session.visit.date == D1
    assert d2 not in w.session.visits
    w.redo_action.trigger()
    assert store.visit_dates(pid) == [D1, d2] and w.session.visit.date == d2
    assert w.session.unreviewed == {("muscle", "deltoid", "left", "mrc")}
