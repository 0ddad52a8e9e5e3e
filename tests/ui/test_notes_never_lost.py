"""Notes: every keystroke is in the chart file at once; one undo removes a run of typing."""

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.store import ChartStore


def type_text(widget, text):
    for ch in text:  # per character: keyClicks with non-ASCII aborts the process
        QTest.sendKeyEvent(QTest.KeyAction.Click, widget, Qt.Key.Key_unknown, ch, Qt.KeyboardModifier.NoModifier)


def stored_notes(store, patient_id="MRN-0042"):
    # A second, read-only connection sees what is on disk, not the window's state.
    other = ChartStore.open(store.path, readonly=True)
    try:
        return other.get_visit(patient_id, dt.date(2025, 3, 1)).notes
    finally:
        other.close(backup=False)


def test_each_keystroke_in_the_notes_is_stored_at_once(visit_window, store):
    notes = visit_window.editor.history_view.notes
    notes.setFocus()
    type_text(notes, "Łagodne drżenie")
    assert stored_notes(store) == "Łagodne drżenie"
    type_text(notes, " — ёж")
    assert stored_notes(store) == "Łagodne drżenie — ёж"


def test_one_undo_removes_a_run_of_typing(visit_window, store):
    notes = visit_window.editor.history_view.notes
    type_text(notes, "Fasciculations")
    visit_window.session.undo_stack.undo()
    assert stored_notes(store) is None
    assert notes.toPlainText() == ""
    visit_window.session.undo_stack.redo()
    assert stored_notes(store) == "Fasciculations"


def test_notes_typed_just_before_a_new_visit_are_kept(visit_window, store, monkeypatch):
    from PySide6.QtWidgets import QInputDialog
    type_text(visit_window.editor.history_view.notes, "Keep me")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("2025-06-01", True))
    visit_window.new_visit(copy=False)
    assert stored_notes(store) == "Keep me"
