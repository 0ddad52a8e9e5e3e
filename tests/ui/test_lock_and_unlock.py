"""Issue 18 in the window: first-run setup of an encrypted chart, the unlock prompt at launch,
the lock (idle time, Ctrl+L) that hides every view and closes the chart without losing an
edit, and the save dialog saying that a PDF is not encrypted.

Real windows on real encrypted chart files, offscreen; Argon2 made cheap for the tests
(``keys.cheap_kdf_for_tests``: each key file keeps the parameters it was made with)."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QDialog

from desktop.store import ChartStore, keys
from desktop.ui import app
from desktop.ui.chart_setup import ChartSetupDialog, setup_encrypted_chart
from desktop.ui.main_window import MainWindow
from domain.case import Visit
from tests.store.conftest import make_patient
from tests.ui.keys import type_into, type_text
from tests.ui.launch import run_app_until_its_window
from tests.ui.test_visit_editor import goto

PASSPHRASE = "correct horse battery"
PID = "MRN-0042"


@pytest.fixture(autouse=True)
def cheap_argon2():
    """Cheap key files; no key stays remembered after a test."""
    with keys.cheap_kdf_for_tests():
        yield
    keys.forget_keys()


@pytest.fixture
def secret_chart(tmp_path):
    """A closed encrypted chart with the accented patient and two visits; its key forgotten."""
    path = tmp_path / "chart.sqlite"
    setup = keys.create_encrypted(path, PASSPHRASE)
    store = ChartStore.open(path, key=setup.key, user="tester")
    store.set_setting("clinician", "Dr Renée Côté")
    store.add_patient(make_patient())
    for d in (dt.date(2025, 3, 1), dt.date(2025, 7, 10)):
        store.save_visit(PID, Visit(date=d))
    store.close(backup=False)
    keys.forget_keys()
    return path, setup


@pytest.fixture
def secret_window(qtbot, secret_chart, catalogue):
    """The whole window on the encrypted chart, the patient open on the later visit."""
    path, setup = secret_chart
    store = ChartStore.open(path, key=setup.key, user="tester")
    w = MainWindow(store, catalogue)
    qtbot.addWidget(w)
    w.show()
    w.open_patient(PID)
    w.protocol_combo.setCurrentText("Full catalogue")
    yield w
    if w.store is not None:
        w.store.close(backup=False)
    store.close(backup=False)


def on_disk(path, setup, date=dt.date(2025, 7, 10)) -> Visit:
    """The visit as the chart file holds it (a connection of its own, with the key)."""
    other = ChartStore.open(path, key=setup.key, readonly=True, check=False, daily_backup=False)
    try:
        return other.get_visit(PID, date)
    finally:
        other.close(backup=False)


def unlock(qtbot, w, passphrase=PASSPHRASE):
    view = w.unlock_view
    assert view.passphrase.isEnabled()
    view.passphrase.clear()
    type_into(view.passphrase, passphrase)
    QTest.keyClick(view.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w._unlocking is None, timeout=10000)


def views(w):
    ed = w.editor
    shown = {"patient list": w.patients, "header": w.header, "grid": ed.exam_view, "editor": ed,
             "panel": w.panel, "visit bar": w.visit_combo}
    if w.progression is not None:
        shown["progression"] = w.progression
    return shown


# ------------------------------------------------------------------------------ first-run setup

def finish_setup_later(qtbot, passphrase: str, seen: dict) -> None:
    """Drive the setup dialog as a clinician would, once it is up (it runs modally)."""
    def step():
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, ChartSetupDialog):
            QTimer.singleShot(10, step)
            return
        if dlg.pages.currentIndex() == 0 and dlg._op is None:
            type_into(dlg.passphrase, passphrase)
            type_into(dlg.repeat, passphrase)
            seen["feedback"] = dlg.feedback.text()
            QTest.mouseClick(dlg.create_button, Qt.MouseButton.LeftButton)
            QTimer.singleShot(10, step)
            return
        if dlg.pages.currentIndex() == 0:  # the chart is being made
            QTimer.singleShot(10, step)
            return
        seen["recovery"] = dlg.recovery.text()
        seen["open enabled before"] = dlg.open_button.isEnabled()
        dlg.reject()  # Escape does not close it once the chart is made: the key shows once
        seen["still open"] = dlg.isVisible()
        dlg.confirm.setChecked(True)
        QTest.mouseClick(dlg.open_button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, step)


def test_the_first_run_makes_an_encrypted_chart_and_its_recovery_key_opens_it(qtbot, tmp_path):
    path = tmp_path / "clinic" / "chart.sqlite"
    seen: dict = {}
    finish_setup_later(qtbot, PASSPHRASE, seen)
    store = app.open_store(path, setup=setup_encrypted_chart)
    try:
        assert store.encrypted and store.count_patients() == 0
        store.add_patient(make_patient())
    finally:
        store.close(backup=False)
    assert seen["feedback"] == "✓ The passphrase can be used."
    assert seen["open enabled before"] is False and seen["still open"] is True
    assert keys.is_encrypted(path)
    assert not path.read_bytes().startswith(b"SQLite format 3")
    assert b"Nowak" not in path.read_bytes()
    keys.forget_keys()
    recovery = seen["recovery"]
    assert len(recovery.replace("-", "")) == 32
    key = keys.unlock(path, recovery.lower().replace("-", " "))  # as a clinician might type it
    reopened = ChartStore.open(path, key=key, readonly=True)
    try:
        assert reopened.get_patient(PID).family_name == "Łukasiewicz-Nowak"
    finally:
        reopened.close(backup=False)


def test_the_app_s_first_run_opens_its_window_on_the_new_encrypted_chart(qtbot, tmp_path):
    """The real launch (``run_app``): no chart and no backups, so the setup dialog first; then
    the window on the new chart, which locks when idle."""
    path = tmp_path / "first" / "chart.sqlite"
    seen: dict = {}
    finish_setup_later(qtbot, PASSPHRASE, seen)

    def look(top):
        seen["window"] = (top.encrypted, top.store.encrypted, top.idle_watch.running)

    assert run_app_until_its_window(str(path), look) == 0
    assert seen["window"] == (True, True, True)
    assert keys.is_encrypted(path) and seen["recovery"]


def test_setup_says_why_a_passphrase_cannot_be_used_and_quitting_creates_nothing(qtbot, tmp_path):
    path = tmp_path / "chart.sqlite"
    dlg = ChartSetupDialog(path)
    qtbot.addWidget(dlg)
    dlg.show()
    type_into(dlg.passphrase, "short")
    assert "too short" in dlg.feedback.text() and not dlg.create_button.isEnabled()
    dlg.passphrase.clear()
    type_into(dlg.passphrase, "Łódź zażółć gęślą")  # any script
    type_into(dlg.repeat, "Łódź zażółć")
    assert dlg.feedback.text() == "The two passphrases differ." and not dlg.create_button.isEnabled()
    assert dlg.create() is None
    QTest.mouseClick(dlg.quit_button, Qt.MouseButton.LeftButton)
    assert dlg.result() == QDialog.DialogCode.Rejected and dlg.setup is None
    assert not path.exists() and not keys.key_file(path).exists()


def test_quitting_the_first_run_opens_nothing(qtbot, tmp_path):
    path = tmp_path / "chart.sqlite"
    assert app.open_store(path, setup=lambda p: None) is None
    assert not path.exists()


def test_without_the_setup_a_missing_chart_is_made_plain_as_on_the_command_line(tmp_path):
    """(``screenshots`` and the self-test never prompt.)"""
    store = app.open_store(tmp_path / "chart.sqlite")
    try:
        assert not store.encrypted
    finally:
        store.close(backup=False)


def test_the_recovery_key_prints_on_a_sheet_that_says_what_it_is(qtbot, tmp_path):
    from pypdf import PdfReader
    from PySide6.QtPrintSupport import QPrinter

    dlg = ChartSetupDialog(tmp_path / "chart.sqlite")
    qtbot.addWidget(dlg)
    type_into(dlg.passphrase, PASSPHRASE)
    type_into(dlg.repeat, PASSPHRASE)
    op = dlg.create()
    with qtbot.waitSignal(op.finished, timeout=10000):
        pass
    assert dlg.pages.currentIndex() == 1
    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "sheet.pdf"))
    assert dlg.print_recovery_key(printer)
    text = " ".join(PdfReader(tmp_path / "sheet.pdf").pages[0].extract_text().split())
    assert dlg.setup.recovery_key in text, text
    assert "Motorchart recovery key" in text


# ------------------------------------------------------------------------------ unlock at launch

def test_at_launch_nothing_of_the_chart_shows_until_the_passphrase_and_a_wrong_one_is_refused(qtbot, secret_chart):
    path, _setup = secret_chart
    w, loader = app.locked_launch(path, daily_backup=False)
    qtbot.addWidget(w)
    w.show()
    loader.start()
    qtbot.waitUntil(lambda: loader._paused, timeout=20000)  # the imports ran; the chart waits for its key
    assert w.store is None and loader.store is None
    assert w.unlock_view.isVisible() and not w.patients.isVisible()
    assert w.patients.model.rowCount() == 0
    assert not any(a.isEnabled() for a in w.actions())  # not even Find patient
    unlock(qtbot, w, "not the passphrase")
    assert "passphrase is wrong" in w.unlock_view.problem.text()
    assert w.unlock_view.passphrase.text() == "" and w.unlock_view.passphrase.isEnabled()
    assert w.store is None and keys.known_keys() == []
    with qtbot.waitSignal(w.attached, timeout=20000):
        unlock(qtbot, w)
    try:
        assert not w.locked and w.store.encrypted
        assert w.patients.isVisible() and not w.unlock_view.isVisible()
        assert w.patients.model.index(0, 0).data() == "Łukasiewicz-Nowak, Zofia"
        assert w.lock_action.isEnabled() and w.new_patient_action.isEnabled()
        assert w.idle_watch is not None and w.idle_watch.running
    finally:
        w.close()
        w.store.close(backup=False)


def test_the_real_entry_point_unlocks_an_encrypted_chart_given_the_passphrase(secret_chart):
    """The bench's way (the probe): interactive at once, ready once the passphrase opened it."""
    import os
    import subprocess
    import sys

    path, _setup = secret_chart
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MOTORCHART_LAUNCH_PROBE="1",
               MOTORCHART_PASSPHRASE=PASSPHRASE)
    out = subprocess.run([sys.executable, "-m", "desktop", "--db", str(path)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("interactive rss_kb=") and lines[1].startswith("ready max_stall_ms=")


# ------------------------------------------------------------------------------ the lock

def test_the_idle_time_locks_hides_every_view_and_closes_the_chart(qtbot, secret_window):
    w = secret_window
    store = w.store
    assert keys.known_keys()
    w.show_view(w.ensure_progression())
    assert w.progression.isVisible()
    w.idle_watch.set_seconds(1.0)
    w.idle_watch.start()  # (counted from now)
    # input keeps it open: a key or a mouse move every 0.1 s for 1.5 s
    for i in range(15):
        QTest.mouseMove(w.editor.exam_view.viewport(), QPoint(20 + i, 20 + i))
        QTest.keyClick(w.patients.search, Qt.Key.Key_Shift)
        qtbot.wait(100)
    assert not w.locked
    with qtbot.waitSignal(w.locked_changed, timeout=5000):
        pass
    assert w.locked and "without use" in w.unlock_view.reason.text()
    for name, view in views(w).items():
        assert not view.isVisible(), name
    assert w.unlock_view.isVisible()
    assert w.store is None and store._closed and keys.known_keys() == []
    assert w.session.patient is None and w.patients.model.rowCount() == 0
    assert "Łukasiewicz" not in w.header.text()
    assert not any(a.isEnabled() for a in w.actions())
    assert not w.idle_watch.running


def test_a_plain_chart_does_not_lock_and_says_why(qtbot, window):
    assert window.lock_action.isEnabled()
    window.lock_action.trigger()
    assert not window.locked and window.store is not None
    assert "not encrypted" in window.statusBar().currentMessage()
    assert window.idle_watch is None


def test_a_grade_still_being_typed_and_the_notes_are_stored_before_the_lock(qtbot, secret_chart, secret_window):
    path, setup = secret_chart
    w = secret_window
    history = w.editor.history_view
    type_into(history.notes, "Drżenie — ёж")
    history.items["speech"].setCurrentIndex(4)  # an ALSFRS-R item (grade 3), the scale incomplete
    history.items["speech"].activated.emit(4)
    view = w.editor.exam_view
    w.show_view(view)
    goto(view, "deltoid", "mrc", "left")
    type_text(view, "4")
    type_into(history.fvc, "72")  # typed, not yet stored: stored when the field is left (or Enter)
    assert on_disk(path, setup).fvc_percent is None
    assert view.state() == QAbstractItemView.State.EditingState  # the editor is open, nothing stored
    assert on_disk(path, setup).muscles == ()
    assert w.lock()
    assert w.store is None
    keys.forget_keys()
    stored = on_disk(path, setup)
    assert [(f.muscle, f.side, f.mrc) for f in stored.muscles] == [("deltoid", "left", "4")]
    assert stored.notes == "Drżenie — ёж" and stored.fvc_percent == 72
    keys.forget_keys()
    unlock(qtbot, w)
    assert not w.locked
    assert w.session.visit.notes == "Drżenie — ёж"
    assert history.items["speech"].currentIndex() == 4  # the partial ALSFRS-R is still there
    m = view.model()
    assert m.index(m.row_of("deltoid"), m.column_of("mrc", "left")).data() == "4"


def test_unlocking_comes_back_to_the_same_patient_visit_and_view(qtbot, secret_window):
    w = secret_window
    s = w.session
    s.open_visit(dt.date(2025, 3, 1))  # not the latest
    w.show_view(w.editor.signs_view)
    w.lock_action.trigger()  # Ctrl+L
    assert w.locked and w.store is None
    assert "Ctrl+L" in w.unlock_view.reason.text()
    unlock(qtbot, w, "wrong, wrong, wrong")
    assert w.locked and "passphrase is wrong" in w.unlock_view.problem.text()
    with qtbot.waitSignal(w.locked_changed, timeout=10000):
        unlock(qtbot, w)
    assert not w.locked and w.store is not None and not w.store._closed
    assert s.store is w.store and w.patients.source is w.store
    assert s.patient_id == PID and s.visit.date == dt.date(2025, 3, 1)
    assert w.visit_combo.currentText() == "2025-03-01"
    assert w.editor.tabs.currentWidget() is w.editor.signs_view
    assert "Łukasiewicz-Nowak" in w.header.text()
    assert w.patients.model.rowCount() == 1
    assert w.idle_watch.running and w.lock_action.isEnabled()
    # and the reopened chart takes edits
    assert s.request_edit(s.visit.model_copy(update={"notes": "after the lock"}), None, "Notes")
    assert w.store.get_visit(PID, dt.date(2025, 3, 1)).notes == "after the lock"


def test_a_dialog_left_open_is_cancelled_by_the_idle_lock(qtbot, secret_window):
    w = secret_window
    w.idle_watch.set_seconds(0.3)
    w.idle_watch.start()
    w.preferences()  # modal: the lock falls while it is open, and closes it
    assert w.locked and w.store is None


def test_the_lock_waits_for_a_backup_running_in_the_background(qtbot, secret_window):
    w = secret_window
    store = w.store
    op = w.backup_chart()
    w.lock()
    assert w.locked and not w.patients.isVisible()
    if not op.done:  # the chart closes once the backup is made
        assert w.store is store and not w.unlock_view.passphrase.isEnabled()
        with qtbot.waitSignal(op.finished, timeout=20000):
            pass
    qtbot.waitUntil(lambda: w.store is None, timeout=5000)
    assert store._closed and keys.known_keys() == []
    assert w.unlock_view.passphrase.isEnabled()
    assert not w.backup_action.isEnabled()  # the backup gave its action back: still off while locked


def test_the_lock_time_is_set_in_preferences(qtbot, secret_window):
    from desktop.ui.lock import LOCK_SETTING
    from desktop.ui.preferences import PreferencesDialog

    w = secret_window
    assert w.idle_watch.seconds == 600  # 10 minutes by default
    dlg = PreferencesDialog(w.store, w)
    assert dlg.lock_minutes.isEnabled() and dlg.lock_minutes.value() == 10
    dlg.lock_minutes.setValue(3)
    dlg.accept()
    assert w.store.setting(LOCK_SETTING) == 3
    w.idle_watch.set_seconds(3 * 60)  # (as MainWindow.preferences does after the dialog)
    assert w.idle_watch.seconds == 180


def test_a_plain_chart_s_preferences_say_why_it_does_not_lock(qtbot, window):
    from desktop.ui.preferences import PreferencesDialog

    dlg = PreferencesDialog(window.store, window)
    assert not dlg.lock_minutes.isEnabled()
    note = dlg.findChild(type(dlg.problem), "lockNote")
    assert "not encrypted" in note.text() and "motorchart encrypt" in note.text()


# ------------------------------------------------------------------------------ exports stay plain

def test_the_save_dialog_of_an_encrypted_chart_says_the_pdf_is_not_encrypted(qtbot, secret_window, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    titles = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, title, *a, **k: titles.append(title) or ("", ""))
    assert secret_window.session.visit is not None
    assert secret_window._report("export", progression=False) is None  # cancelled
    assert "not encrypted" in titles[0] and "private" in titles[0]


def test_the_save_dialog_of_a_plain_chart_is_as_before(qtbot, visit_window, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    titles = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, title, *a, **k: titles.append(title) or ("", ""))
    visit_window._report("export", progression=False)
    assert titles == ["Export PDF"]
