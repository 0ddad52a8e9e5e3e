"""Chart > Research export (de-identified)…: the same files as `motorchart export --deidentified`,
written in the background (desktop.ui.background) after the window gives the subject ids."""

import csv
import datetime as dt

from PySide6.QtWidgets import QFileDialog

from desktop.ui import background
from domain.case import AlsfrsR, MuscleFinding, Visit


def wait_for_ops(qtbot, timeout=30000):
    qtbot.waitUntil(lambda: background.running() == 0, timeout=timeout)


def choose(monkeypatch, folder):
    asked = []

    def dialog(parent, title, start):
        asked.append(title)
        return str(folder)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", dialog)
    return asked


def signed_visit(store, pid="MRN-0042", date="2025-03-01"):
    store.save_visit(pid, Visit(
        date=dt.date.fromisoformat(date), notes="Seen with Zofia's son on 2025-03-01.",
        muscles=(MuscleFinding(muscle="biceps", side="right", mrc="4"),),
        alsfrs_r=AlsfrsR(speech=4, salivation=4, swallowing=4, handwriting=3, cutting_food=3, gastrostomy=False,
                         dressing_hygiene=4, turning_in_bed=4, walking=3, climbing_stairs=3, dyspnea=4,
                         orthopnea=4, respiratory_insufficiency=4), fvc_percent=90, weight_kg=64.5))
    store.sign_visit(pid, dt.date.fromisoformat(date), clinician="Dr Renée Côté")


def test_the_menu_writes_the_research_files_in_the_background(window, qtbot, monkeypatch, tmp_path):
    signed_visit(window.store)
    out = tmp_path / "research"
    choose(monkeypatch, out)
    assert window.research_export_action in window.background_actions
    window.research_export_action.trigger()
    assert not window.research_export_action.isEnabled()  # while it runs
    wait_for_ops(qtbot)
    assert window.research_export_action.isEnabled()
    sid = window.store.research_subject_ids()["MRN-0042"]
    with (out / "demographics.csv").open(newline="", encoding="ascii") as fh:
        assert list(csv.DictReader(fh)) == [{"subject_id": sid, "sex": "female", "age_at_first_visit": "63"}]
    text = "".join(p.read_text("ascii") for p in out.iterdir())
    for leak in ("MRN-0042", "Zofia", "Łukasiewicz", "Lukasiewicz", "2025-03-01", "Côté", "Cote"):
        assert leak not in text
    assert "research export: 1 subject(s)" in window.statusBar().currentMessage().lower()
    # a second export keeps the id
    window.research_export_action.trigger()
    wait_for_ops(qtbot)
    assert window.store.research_subject_ids() == {"MRN-0042": sid}


def test_a_file_as_the_folder_is_refused_and_nothing_is_written(window, qtbot, monkeypatch, tmp_path):
    signed_visit(window.store)
    taken = tmp_path / "taken.txt"
    taken.write_text("mine")
    choose(monkeypatch, taken)
    assert window.research_export() is None
    assert "is a file, not a folder" in window.error_box.text()
    assert taken.read_text() == "mine" and window.store.research_subject_ids() == {}


def test_cancelling_the_folder_dialog_does_nothing(window, monkeypatch):
    signed_visit(window.store)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a: "")
    assert window.research_export() is None
    assert window.store.research_subject_ids() == {}


def test_without_a_signed_visit_there_is_nothing_to_export(window, monkeypatch, tmp_path):
    choose(monkeypatch, tmp_path / "out")
    assert window.research_export() is None
    assert "no patient has a signed visit" in window.statusBar().currentMessage()
    assert not (tmp_path / "out").exists()
