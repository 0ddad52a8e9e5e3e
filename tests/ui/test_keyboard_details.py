"""Keyboard details a clinician relies on, each found by trying the window as a new user."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from tests.ui.keys import enter_cell, press, type_text, walk_to

CTRL = Qt.KeyboardModifier.ControlModifier
D1 = dt.date(2025, 3, 1)


def to(view, muscle, field, side):
    m = view.model()
    walk_to(view, m.row_of(muscle), m.column_of(field, side))


def stored(w):
    return w.store.get_visit(w.session.patient.id, w.session.visit.date)


def test_a_region_jump_selects_one_cell_so_delete_clears_only_that_cell(visit_window):
    w = visit_window
    view = w.editor.exam_view
    press(w, Qt.Key.Key_E, CTRL)
    for muscle, grade in (("tongue", "4"), ("sternocleidomastoid", "4-"), ("rectus_abdominis", "5")):
        to(view, muscle, "mrc", "left")
        enter_cell(view, grade)
    for key in (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3):
        press(w, key, CTRL)
    assert len(view.selectedIndexes()) == 1
    assert view.model().rows[view.currentIndex().row()].region == "thoracic"
    press(view, Qt.Key.Key_Delete)  # clears the one (empty) thoracic cell, nothing in other regions
    assert {f.muscle for f in stored(w).muscles} == {"tongue", "sternocleidomastoid", "rectus_abdominis"}


def test_tab_runs_over_entry_cells_from_row_to_row_never_onto_the_name(visit_window):
    w = visit_window
    view = w.editor.exam_view
    m = view.model()
    press(w, Qt.Key.Key_E, CTRL)
    to(view, "tongue", "fasciculations", "left")  # the tongue's last cell (midline: left only)
    enter_cell(view, "y", then=Qt.Key.Key_Tab)
    cur = view.currentIndex()
    assert (cur.row(), cur.column()) == (m.row_of("masseter"), m.column_of("mrc", "left"))
    press(view, Qt.Key.Key_Backtab)
    assert view.currentIndex().row() == m.row_of("tongue") and view.currentIndex().column() > 0


def test_typing_on_a_name_says_where_to_type(visit_window):
    w = visit_window
    view = w.editor.exam_view
    press(w, Qt.Key.Key_E, CTRL)
    walk_to(view, view.model().row_of("deltoid"), 0)
    type_text(view, "5")
    assert "move to a finding's cell" in w.statusBar().currentMessage()
    assert stored(w).muscles == ()


def test_folding_a_region_moves_the_cursor_out_so_typing_never_lands_in_a_hidden_row(visit_window):
    w = visit_window
    view = w.editor.exam_view
    m = view.model()
    press(w, Qt.Key.Key_E, CTRL)
    to(view, "deltoid", "mrc", "left")
    view.toggle_region("cervical")
    header = next(r for r, row in enumerate(m.rows) if row.is_header and row.region == "cervical")
    assert m.index(header, 0).data().startswith("▸ Cervical")
    assert not view.isRowHidden(view.currentIndex().row())
    assert m.rows[view.currentIndex().row()].region == "thoracic"
    landed = m.rows[view.currentIndex().row()].muscle.id
    enter_cell(view, "2")
    assert {(f.muscle, f.mrc) for f in stored(w).muscles} == {(landed, "2")}  # not the hidden deltoid
    view.toggle_region("cervical")
    assert m.index(header, 0).data() == "▾ Cervical"


def test_region_jumps_work_in_the_signs_view_for_midline_only_regions(visit_window):
    w = visit_window
    signs = w.editor.signs_view
    m = signs.model()
    press(w, Qt.Key.Key_G, CTRL)
    for key, region in ((Qt.Key.Key_3, "thoracic"), (Qt.Key.Key_1, "bulbar"), (Qt.Key.Key_4, "lumbosacral")):
        press(w, key, CTRL)
        cur = signs.currentIndex()
        assert cur.isValid() and m.rows[cur.row()].region == region and cur.flags() & Qt.ItemFlag.ItemIsEditable


def test_redo_has_each_of_its_keys_once_and_both_redo(visit_window):
    w = visit_window
    keys = [k.toString() for k in w.redo_action.shortcuts()]
    assert len(keys) == len(set(keys)) and {"Ctrl+Y", "Ctrl+Shift+Z"} <= set(keys)
    view = w.editor.exam_view
    press(w, Qt.Key.Key_E, CTRL)
    to(view, "deltoid", "mrc", "left")
    enter_cell(view, "4")
    for redo in (QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")):
        press(view, Qt.Key.Key_Z, CTRL)
        assert stored(w).muscles == ()
        combo = redo[0]
        press(view, combo.key(), combo.keyboardModifiers())
        assert [f.mrc for f in stored(w).muscles] == ["4"]


def test_the_highlight_follows_the_selected_reason_after_an_edit(visit_window):
    w = visit_window
    view = w.editor.exam_view
    press(w, Qt.Key.Key_E, CTRL)
    for muscle in ("deltoid", "first_dorsal_interosseous"):
        to(view, muscle, "mrc", "left")
        enter_cell(view, "4", then=Qt.Key.Key_Tab)
        enter_cell(view, "2")
    tree = w.panel.criteria
    item = next(it for it in (tree.topLevelItem(i).child(j) for i in range(tree.topLevelItemCount())
                              for j in range(tree.topLevelItem(i).childCount()))
                if "Deltoid" in it.text(0) and "Cervical LMN" in it.text(0))
    tree.setCurrentItem(item)
    assert ("muscle", "deltoid", "left") in w.editor.exam_model._highlight
    to(view, "deltoid", "wasting", "left")
    press(view, Qt.Key.Key_Delete)  # deltoid no longer wasted: no longer behind the reason
    assert ("muscle", "deltoid", "left") not in w.editor.exam_model._highlight


def test_with_no_visit_open_the_grid_says_so(window):
    view = window.editor.exam_view
    view.setFocus()
    press(view, Qt.Key.Key_Delete)
    assert "No visit is open" in window.statusBar().currentMessage()


def test_a_visit_dated_in_the_future_is_refused_with_the_reason(window):
    today = dt.date(2026, 11, 21)
    assert not window.session.new_visit(dt.date(2062, 11, 20), copy_from_previous=False, today=today)
    assert "is in the future" in window.statusBar().currentMessage()
    assert window.store.visit_dates(window.session.patient.id) == []
    assert window.session.new_visit(today, copy_from_previous=False, today=today)


def test_moving_to_the_wasting_column_explains_its_scale_before_any_entry(visit_window):
    """Issue 15: the wasting scale was explained only after an error."""
    w = visit_window
    view = w.editor.exam_view
    m = view.model()
    view.setCurrentIndex(m.index(m.row_of("deltoid"), m.column_of("mrc", "left")))
    view.setCurrentIndex(m.index(m.row_of("deltoid"), m.column_of("wasting", "left")))
    assert w.statusBar().currentMessage() == "Wasting: 0 none, 1 mild, 2 moderate, 3 severe"
