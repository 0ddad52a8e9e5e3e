"""Issue 17 at launch: a chart missing beside its backups is never recreated silently: the
window asks (restore the newest backup, start a new chart, or quit); a read-only chart opens
read-only and says so."""

from __future__ import annotations

import os
import stat

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

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


def test_a_chart_in_a_read_only_folder_opens_read_only_in_the_window(qtbot, tmp_path):
    path = tmp_path / "ro" / "chart.sqlite"
    path.parent.mkdir()
    _chart_with_a_backup(path, make_patient())
    os.chmod(path.parent, 0o555)
    try:
        store = app.open_store(path)
        try:
            assert store.readonly and "is read-only" in store.read_only_reason
            shown = []

            class Window:
                def show_message(self, text):
                    shown.append(text)

            app.say_if_read_only(Window(), store)
            assert shown and shown[0].startswith("This chart is read-only (its folder")
        finally:
            store.close()
    finally:
        os.chmod(path.parent, stat.S_IRWXU)
