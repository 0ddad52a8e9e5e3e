"""Issue 17 at launch: a chart missing beside its backups is never recreated silently: the
window asks (restore the newest backup, start a new chart, or quit); a read-only chart opens
read-only and says so."""

from __future__ import annotations

import os
import stat

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from desktop.store import ChartStore
from desktop.ui import app
from tests.store.conftest import make_patient


def _chart_with_a_backup(path, patient):
    store = ChartStore.open(path, user="tester")
    store.add_patient(patient)
    backup = store.backup()
    store.close(backup=False)
    return backup


def _click_later(text: str, seen: list) -> None:
    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, click)
            return
        seen.append(box.text())
        [b for b in box.buttons() if b.text() == text][0].click()

    QTimer.singleShot(0, click)


def test_the_dialog_restores_the_newest_backup(qtbot, tmp_path):
    path = tmp_path / "chart.sqlite"
    backup = _chart_with_a_backup(path, make_patient())
    path.unlink()
    seen: list = []
    _click_later("Restore the newest backup", seen)
    store = app.open_store(path)
    try:
        assert store.count_patients() == 1
        assert str(backup) in seen[0] and "is missing" in seen[0]
    finally:
        store.close(backup=False)


def test_the_dialog_starts_a_new_chart_or_quits(qtbot, tmp_path):
    path = tmp_path / "chart.sqlite"
    _chart_with_a_backup(path, make_patient())
    path.write_bytes(b"")
    seen: list = []
    _click_later("Quit", seen)
    assert app.open_store(path) is None
    assert path.stat().st_size == 0 and "is empty" in seen[0]
    _click_later("Start a new, empty chart", seen)
    store = app.open_store(path)
    try:
        assert store.count_patients() == 0
    finally:
        store.close(backup=False)


def test_new_on_the_command_line_asks_nothing(tmp_path):
    path = tmp_path / "chart.sqlite"
    _chart_with_a_backup(path, make_patient())
    path.unlink()
    store = app.open_store(path, new=True, ask=lambda missing: 1 / 0)
    store.close(backup=False)


def test_a_chart_in_a_read_only_folder_opens_read_only_in_the_window(qtbot, tmp_path, catalogue):
    """The window says so once, keeps a read-only mark in the status bar and the title, turns
    off every action that would write, and a typed grade is refused without a change."""
    import datetime as dt

    from desktop.ui.main_window import MainWindow
    from domain.case import Visit
    from tests.ui.keys import enter_cell
    from tests.ui.test_visit_editor import goto

    path = tmp_path / "ro" / "chart.sqlite"
    path.parent.mkdir()
    patient = make_patient()
    store = ChartStore.open(path, user="tester")
    store.add_patient(patient)
    store.save_visit(patient.id, Visit(date=dt.date(2025, 3, 1)))
    store.close(backup=False)
    os.chmod(path.parent, 0o555)
    try:
        store = app.open_store(path)
        try:
            assert store.readonly and "is read-only" in store.read_only_reason
            w = MainWindow(store, catalogue)
            qtbot.addWidget(w)
            w.show()
            app.say_if_read_only(w, store)
            assert w.statusBar().currentMessage().startswith("This chart is read-only (its folder")
            mark = w.statusBar().findChild(QLabel, "read_only_indicator")
            assert mark is not None and mark.text().startswith("Read-only chart")
            assert w.windowTitle().endswith("read-only")
            w.open_patient(patient.id)
            w.session.open_visit(dt.date(2025, 3, 1))
            w.protocol_combo.setCurrentText("Full catalogue")
            for a in (w.new_patient_action, w.new_visit_action, w.sign_action, w.backup_action,
                      w.delete_visit_action, w.edit_patient_action):
                assert not a.isEnabled(), a.text()
            assert w.export_visit_action.isEnabled()  # reading, exporting and printing still work
            view = w.editor.exam_view
            goto(view, "deltoid", "mrc", "left")
            enter_cell(view, "4")
            assert store.get_visit(patient.id, dt.date(2025, 3, 1)).muscles == ()
            w.close()
        finally:
            store.close()
    finally:
        os.chmod(path.parent, stat.S_IRWXU)
