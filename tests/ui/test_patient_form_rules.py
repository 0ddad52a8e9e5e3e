"""Issue 17, point 5 in the window: the patient form asks the same domain rules as import and
`patient edit` (domain.patient_rules), and a refusal writes nothing."""

from __future__ import annotations

import pytest

from desktop.ui.new_patient import NewPatientDialog, PatientDialog


def _ids(store):
    return [r.id for r in store.search_patients("", 100)]


@pytest.mark.parametrize("mrn, message", [
    ("\u200b", "MRN: required (the clinic's patient identifier); it cannot be blank"),
    ("M" * 65, "MRN: is 65 characters long (at most 64 characters)"),
    ("MRN-\x1b[2J", "MRN: holds a control character (U+001B), which is not text"),
])
def test_the_new_patient_form_refuses_an_mrn_by_the_domain_rule(window, qtbot, mrn, message):
    dlg = NewPatientDialog(window.store, window)
    qtbot.addWidget(dlg)
    before = _ids(window.store)
    dlg.mrn.setText(mrn)
    dlg.accept()
    assert dlg.problem.text() == message
    assert _ids(window.store) == before


@pytest.mark.parametrize("spelling", ["mrn-0042", "MRN-0042 \u200b"])
def test_another_spelling_of_a_known_mrn_is_the_known_patient_not_a_new_one(window, qtbot, spelling):
    dlg = NewPatientDialog(window.store, window)
    qtbot.addWidget(dlg)
    dlg.mrn.setText(spelling)
    dlg.accept()
    assert "MRN-0042" in dlg.problem.text()
    assert _ids(window.store) == ["MRN-0042"]


def test_the_details_form_refuses_a_future_date_and_a_name_with_control_characters(window, qtbot, patient):
    dlg = PatientDialog(window.store, window, patient=patient, session=window.session)
    qtbot.addWidget(dlg)
    dlg.diagnosis.setText("2099-01-01")
    dlg.accept()
    assert dlg.problem.text().startswith("Diagnosis date: 2099-01-01 is in the future (today is ")
    dlg.diagnosis.setText("")
    dlg.family.setText("Nowak\x1b]0;owned\x07")
    dlg.accept()
    assert dlg.problem.text() == "Family name: holds a control character (U+001B), which is not text"
    assert window.store.get_patient("MRN-0042") == patient
