"""Chart > Back up the chart now and Chart > Check the chart file…: both run off the GUI thread
(desktop.ui.background) on a read-only connection of their own, with the chart open for writing."""

from __future__ import annotations

import sqlite3
import threading

import pytest

import desktop.store.files as files
from desktop.store.paths import backups_dir
from desktop.ui import background
from domain.case import MuscleFinding


def wait_for_ops(qtbot, timeout=30000):
    qtbot.waitUntil(lambda: background.running() == 0, timeout=timeout)


@pytest.fixture
def worker_threads(monkeypatch):
    """The threads the chart file was backed up on (the real backup still runs)."""
    seen = []
    real = files.backup_chart

    def recorded(*a, **k):
        seen.append(threading.current_thread())
        return real(*a, **k)

    monkeypatch.setattr(files, "backup_chart", recorded)
    return seen


def test_a_backup_from_the_window_is_made_in_the_background(window, qtbot, worker_threads):
    window.backup_action.trigger()
    assert background.running() == 1
    assert not any(a.isEnabled() for a in window.background_actions)  # no second backup, no export
    wait_for_ops(qtbot)
    assert worker_threads and worker_threads[0] is not threading.main_thread()
    assert all(a.isEnabled() for a in window.background_actions)
    message = window.statusBar().currentMessage()
    assert message.startswith("Backup made: ")
    made = backups_dir(window.chart_path) / message.removeprefix("Backup made: ").rsplit("/", 1)[-1]
    assert made.is_file() and "manual" in made.name
    assert window.error_box is None


def test_a_backup_that_cannot_be_written_says_so_once_and_re_enables_the_actions(window, qtbot):
    backups_dir(window.chart_path).write_text("a file where the backups folder should be")
    window.backup_action.trigger()
    wait_for_ops(qtbot)
    assert window.error_box.isVisible()
    text = window.error_box.text()
    assert text.startswith("The backup was not made: ") and "\n" not in text
    assert all(a.isEnabled() for a in window.background_actions)


def test_the_check_of_a_sound_chart_says_so(window, qtbot):
    window.check_action.trigger()
    assert not window.check_action.isEnabled()
    wait_for_ops(qtbot)
    assert window.check_action.isEnabled()
    assert window.error_box is None
    assert "is sound" in window.info_box.text()


def test_the_check_names_a_signed_visit_changed_outside_the_app(visit_window, qtbot):
    s = visit_window.session
    s.request_edit(s.visit.model_copy(update={"muscles": (
        MuscleFinding(muscle="first_dorsal_interosseous", side="right", mrc="4-"),)}))
    assert s.sign()
    con = sqlite3.connect(visit_window.chart_path)  # another program, while the app has it open
    (trigger,) = con.execute("SELECT sql FROM sqlite_master WHERE name = 'muscle_findings_signed_no_update'").fetchone()
    con.execute("DROP TRIGGER muscle_findings_signed_no_update")
    con.execute("UPDATE muscle_findings SET mrc = '5' WHERE muscle = 'first_dorsal_interosseous'")
    con.execute(trigger)
    con.commit()
    con.close()
    visit_window.check_action.trigger()
    wait_for_ops(qtbot)
    text = visit_window.error_box.text()
    assert text.startswith("The chart file has problems:") and "MRN-0042" in text
    assert all(a.isEnabled() for a in visit_window.background_actions)


def test_the_check_names_a_trigger_dropped_outside_the_app_and_the_restore_command(window, qtbot):
    """Chart > Check is the deep check of `motorchart check`: a missing protective trigger is
    named, with the newest good backup and the exact command that restores it to this chart."""
    window.store.backup()
    con = sqlite3.connect(window.chart_path)
    con.execute("DROP TRIGGER muscle_findings_signed_no_update")
    con.commit()
    con.close()
    window.check_action.trigger()
    wait_for_ops(qtbot)
    text = window.error_box.text()
    assert "muscle_findings_signed_no_update" in text
    assert "motorchart restore" in text and "--db" in text and str(window.chart_path) in text
