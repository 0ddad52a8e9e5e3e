"""Issue 14: the patient's details and milestones are edited in the window (Patient > Edit
details… or a double-click on the header), checked by the store, and every view follows."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QInputDialog

from desktop.ui.new_patient import PatientDialog
from domain.case import Visit, case_to_data
from tests.builders import alsfrs
from tests.ui.keys import type_into

V1, V2, V3 = dt.date(2025, 1, 10), dt.date(2025, 3, 10), dt.date(2025, 5, 10)


@pytest.fixture
def course(window, store, patient):
    """Three visits with a full ALSFRS-R (no gastrostomy, no ventilation), the last one open."""
    for d in (V1, V2, V3):
        store.save_visit(patient.id, Visit(date=d, alsfrs_r=alsfrs(handwriting=3)))
    window.session.open_patient(patient.id)  # again, now with its visits
    assert window.session.visit.date == V3
    return window


def exported(store, pid: str) -> str:
    return json.dumps(case_to_data(store.export_case(pid)), ensure_ascii=False, sort_keys=True)


def run_dialog(monkeypatch, fill):
    """Make the window's patient form fill itself with ``fill`` and press OK when it opens;
    returns what it saw (the dialog, and whether it closed)."""
    seen = {}

    def exec_(dlg):
        seen["dialog"] = dlg
        fill(dlg)
        dlg.accept()
        seen["closed"] = dlg.result() == dlg.DialogCode.Accepted
        return dlg.result()

    monkeypatch.setattr(PatientDialog, "exec", exec_)
    return seen


def retype(widget, text: str) -> None:
    """Clear a field and type ``text`` one character at a time (any script)."""
    widget.setFocus()
    widget.clear()
    type_into(widget, text)


def stages(window) -> dict[dt.date, tuple[str, object]]:
    return {vc.date: (vc.kings_clinical, vc.mitos) for vc in window.session.case_classification.visits}


def test_the_form_opens_on_the_patient_from_the_menu_and_from_a_double_click_on_the_header(window, monkeypatch):
    opened = []
    monkeypatch.setattr(PatientDialog, "exec", lambda dlg: opened.append(dlg) or 0)
    window.edit_patient_action.trigger()
    header = window.header
    QTest.mouseDClick(header, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(20, 10))
    assert len(opened) == 2
    for dlg in opened:
        assert dlg.windowTitle() == "Edit patient"
        assert dlg.mrn.text() == "MRN-0042" and dlg.family.text() == "Łukasiewicz-Nowak"
        assert dlg.birth.text() == "1961-04-02" and dlg.onset.text() == "2024-09-01"
        assert dlg.sex.currentText() == "female" and dlg.region.currentText() == "upper_limb"
        assert dlg.side.currentText() == "right" and dlg.milestone_dates["death"].text() == ""


def test_an_accented_name_typed_in_the_form_is_stored_audited_and_shown_everywhere(window, store, monkeypatch):
    def fill(dlg):
        retype(dlg.given, "Zoë")
        retype(dlg.family, "Łukasiewicz-Nowak")
        retype(dlg.diagnosis, "2024-12-01")
        dlg.sex.setCurrentText("female")

    seen = run_dialog(monkeypatch, fill)
    window.edit_patient()
    assert seen["closed"], seen["dialog"].problem.text()
    p = store.get_patient("MRN-0042")
    assert (p.given_names, p.family_name, p.diagnosis_date) == ("Zoë", "Łukasiewicz-Nowak", dt.date(2024, 12, 1))
    assert window.session.patient == p
    assert "Zoë Łukasiewicz-Nowak" in window.header.text()
    assert window.patients.model.index(0, 0).data() == "Łukasiewicz-Nowak, Zoë"
    assert any("Zoë" in json.dumps(e.__dict__, ensure_ascii=False, default=str) for e in store.audit_trail("MRN-0042"))


def test_a_refused_edit_shows_the_stores_line_in_the_form_and_changes_nothing(window, store, monkeypatch):
    store.save_visit("MRN-0042", Visit(date=V2))
    before = exported(store, "MRN-0042")
    header_before = window.header.text()

    def fill(dlg):
        retype(dlg.given, "Zoë")
        retype(dlg.milestone_dates["death"], "2025-02-01")  # before the visit of 2025-03-10

    seen = run_dialog(monkeypatch, fill)
    window.edit_patient()
    dlg = seen["dialog"]
    assert not seen["closed"]
    assert dlg.problem.text() == "Date of death: 2025-02-01 is before the visit of 2025-03-10"
    assert exported(store, "MRN-0042") == before
    assert window.session.patient.given_names == "Zofia" and window.header.text() == header_before

    # another patient's MRN, however it is spelt
    from domain.case import Patient

    store.add_patient(Patient(id="MRN-0099"))
    before = exported(store, "MRN-0042")
    seen = run_dialog(monkeypatch, lambda dlg: retype(dlg.mrn, " mrn-0099"))
    window.edit_patient()
    assert not seen["closed"] and "MRN: mrn-0099 is already used by patient MRN-0099" in seen["dialog"].problem.text()
    assert exported(store, "MRN-0042") == before


def test_a_new_mrn_reopens_the_patient_under_it_and_the_patient_list_follows(window, store, monkeypatch):
    store.save_visit("MRN-0042", Visit(date=V2, alsfrs_r=alsfrs()))
    window.session.open_patient("MRN-0042")
    seen = run_dialog(monkeypatch, lambda dlg: retype(dlg.mrn, "MRN-2042"))
    window.edit_patient()
    assert seen["closed"], seen["dialog"].problem.text()
    s = window.session
    assert s.patient.id == "MRN-2042" and s.visit.date == V2 and sorted(s.visits) == [V2]
    assert "MRN MRN-2042" in window.header.text()
    ids = [window.patients.model.index(r, 1).data() for r in range(window.patients.model.rowCount())]
    assert ids == ["MRN-2042"]
    assert window.patients.table.currentIndex().row() == 0
    assert store.visit_dates("MRN-2042") == [V2]
    assert "MRN-0042 is now MRN-2042" in window.statusBar().currentMessage()
    # the chart goes on under the new MRN: an edit of the open visit is stored there
    s.request_edit(s.visit.model_copy(update={"notes": "after the rename"}))
    assert store.get_visit("MRN-2042", V2).notes == "after the rename"


def test_milestones_change_kings_and_mitos_at_the_visits_on_and_after_their_dates(course, monkeypatch):
    w = course
    assert stages(w) == {V1: ("1", 0), V2: ("1", 0), V3: ("1", 0)}  # one King's region, no domain lost

    def fill(dlg):
        retype(dlg.milestone_dates["gastrostomy"], "2025-03-01")
        retype(dlg.milestone_notes["gastrostomy"], "PEG, Dr Ødegård")
        retype(dlg.milestone_dates["niv"], "2025-05-10")

    seen = run_dialog(monkeypatch, fill)
    w.edit_patient()
    assert seen["closed"], seen["dialog"].problem.text()
    assert stages(w) == {V1: ("1", 0), V2: ("4A", 0), V3: ("4A+4B", 0)}
    assert w.panel.score_text("King's (clinical)").startswith("4A+4B")
    assert w.session.patient.gastrostomy_note == "PEG, Dr Ødegård"
    # the visit opened before the gastrostomy keeps its stage
    w.session.open_visit(V1)
    assert w.panel.score_text("King's (clinical)").split(" ")[0] == "1" and w.panel.score_text("MiToS") == "0"

    w.session.open_visit(V3)
    seen = run_dialog(monkeypatch, lambda dlg: retype(dlg.milestone_dates["death"], "2025-05-10"))
    w.edit_patient()
    assert seen["closed"], seen["dialog"].problem.text()
    assert stages(w) == {V1: ("1", 0), V2: ("4A", 0), V3: ("5", 5)}
    assert w.panel.score_text("King's (clinical)").startswith("5") and w.panel.score_text("MiToS") == "5"
    w.show_view(w.ensure_progression())
    assert [vc.kings_clinical for vc in w.progression.result.visits] == ["1", "4A", "5"]


def test_after_death_the_header_shows_the_date_and_age_at_death_and_no_later_visit_can_be_started(
        course, store, monkeypatch):
    w = course
    assert "age " in w.header.text() and "died" not in w.header.text()
    seen = run_dialog(monkeypatch, lambda dlg: (retype(dlg.milestone_dates["death"], "2025-06-01"),
                                                retype(dlg.milestone_notes["death"], "respiratory failure")))
    w.edit_patient()
    assert seen["closed"], seen["dialog"].problem.text()
    text = w.header.text()
    assert "died 2025-06-01</b>, age 64" in text  # born 1961-04-02
    assert f"age {dt.date.today().year - 1961}" not in text.replace("age 64", "")
    assert "9 months from onset to death" in text

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("2025-07-01", True))
    w.new_visit(copy=False)
    assert w.statusBar().currentMessage() == (
        "patient MRN-0042: cannot start a visit on 2025-07-01: 2025-07-01 is after the date of death 2025-06-01")
    assert store.visit_dates("MRN-0042") == [V1, V2, V3] and w.session.visit.date == V3
    assert w.visit_combo.count() == 3
