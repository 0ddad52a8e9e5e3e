"""Completing the chart (issue 14), the store operations the window and the command line share:
edit a patient (milestones included, MRN renamed), start, re-date and delete a draft visit.
A refused change leaves the chart unchanged."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.store import StoreError
from domain.case import case_to_data
from domain.classify import classify_case

TODAY = dt.date(2026, 12, 2)
D1, D2 = dt.date(2025, 3, 1), dt.date(2025, 7, 10)


@pytest.fixture
def chart(store, case_factory):
    store.import_case(case_factory(dates=("2025-03-01", "2025-07-10")))
    return store


def snapshot(store, pid="MRN-0042"):
    return case_to_data(store.export_case(pid)), len(store.audit_trail())


@pytest.mark.parametrize("change,message", [
    (dict(onset_date=dt.date(2027, 1, 1)), "Onset date: 2027-01-01 is in the future"),
    (dict(diagnosis_date=dt.date(2024, 1, 1)), "Diagnosis date: 2024-01-01 is before the onset date 2024-09-01"),
    (dict(gastrostomy_date=dt.date(2024, 8, 1)), "Gastrostomy date: 2024-08-01 is before the onset date"),
    (dict(niv_date=dt.date(1950, 1, 1)), "NIV start date: 1950-01-01 is before the birth date 1961-04-02"),
    (dict(death_date=dt.date(2025, 5, 1)), "Date of death: 2025-05-01 is before the visit of 2025-07-10"),
    (dict(birth_date=dt.date(2025, 5, 1)), "Birth date: 2025-05-01 is after the visit of 2025-03-01"),
    (dict(id="\u200b"), "MRN: required"),
])
def test_a_patient_edit_that_breaks_a_rule_is_refused_and_changes_nothing(chart, change, message):
    before = snapshot(chart)
    p = chart.get_patient("MRN-0042").model_copy(update=change)
    with pytest.raises(StoreError, match=message):
        chart.update_patient(p, old_id="MRN-0042", today=TODAY)
    assert snapshot(chart) == before


def test_milestones_and_death_are_edited_audited_and_change_the_stages(chart):
    p = chart.get_patient("MRN-0042").model_copy(update={
        "gastrostomy_date": dt.date(2025, 5, 1), "gastrostomy_note": "refused",
        "death_date": dt.date(2025, 8, 1), "death_note": "respiratory failure"})
    assert chart.update_patient(p, today=TODAY)
    visits = chart.classify("MRN-0042").visits
    assert [v.kings_clinical for v in visits] == [visits[0].kings_clinical, "4A"]
    entry = [e for e in chart.audit_trail("MRN-0042") if e.table == "patients"][-1]
    assert entry.action == "update" and entry.new["death_date"] == "2025-08-01"
    with pytest.raises(StoreError, match="after the date of death"):
        chart.new_visit("MRN-0042", dt.date(2025, 9, 1), today=TODAY)


def test_renaming_the_mrn_keeps_every_visit_signature_and_audit_row(chart):
    chart.sign_visit("MRN-0042", D1, clinician="Dr B")
    audit_before = len(chart.audit_trail("MRN-0042"))
    p = chart.get_patient("MRN-0042").model_copy(update={"id": "MRN-4200"})
    chart.update_patient(p, old_id="MRN-0042", today=TODAY)
    assert chart.visit_dates("MRN-4200") == [D1, D2]
    assert chart.visit_status("MRN-4200", D1) == "signed" and chart.verify_signatures() == []
    trail = chart.audit_trail("MRN-4200")
    assert len(trail) > audit_before
    assert {e.patient_id for e in trail} == {"MRN-0042", "MRN-4200"}
    assert [r.id for r in chart.search_patients("MRN-4200")] == ["MRN-4200"]
    with pytest.raises(StoreError, match="no patient MRN-0042"):
        chart.get_patient("MRN-0042")


def test_an_mrn_is_unique_ignoring_case_and_spaces(chart, patient_factory):
    chart.add_patient(patient_factory("MRN-7"))
    with pytest.raises(StoreError, match="already used by patient MRN-0042"):
        chart.add_patient(patient_factory("mrn-0042 "), today=TODAY)
    p = chart.get_patient("MRN-7").model_copy(update={"id": "mrn-0042"})
    with pytest.raises(StoreError, match="already used by patient MRN-0042"):
        chart.update_patient(p, old_id="MRN-7", today=TODAY)


def test_a_new_visit_is_empty_or_copied_forward_with_its_cells_not_reviewed(chart):
    d = dt.date(2025, 11, 1)
    chart.new_visit("MRN-0042", d, copy_forward=True, today=TODAY)
    v, prev = chart.get_visit("MRN-0042", d), chart.get_visit("MRN-0042", D2)
    assert [m.muscle for m in v.muscles] == [m.muscle for m in prev.muscles]
    assert v.alsfrs_r is None and v.notes is None  # the day's scores are not carried
    marks = chart.visit_marks("MRN-0042", d)
    assert marks.carried_from == D2 and ("muscle", "first_dorsal_interosseous", "right", "mrc") in marks.not_reviewed
    assert v.muscles[2].emg.study_date == D2  # carried EMG keeps its study's date


@pytest.mark.parametrize("date,message", [
    (dt.date(2027, 1, 1), "is in the future"), (D2, "there is already a visit on 2025-07-10"),
    (dt.date(1960, 1, 1), "is before the birth date"),
])
def test_a_visit_date_that_cannot_be_is_refused(chart, date, message):
    before = snapshot(chart)
    with pytest.raises(StoreError, match=message):
        chart.new_visit("MRN-0042", date, today=TODAY)
    with pytest.raises(StoreError, match=message):
        chart.redate_visit("MRN-0042", D1, date, today=TODAY)
    assert snapshot(chart) == before


def test_a_draft_is_redated_and_a_signed_visit_is_not(chart):
    chart.redate_visit("MRN-0042", D2, dt.date(2025, 7, 11), today=TODAY)
    assert chart.visit_dates("MRN-0042") == [D1, dt.date(2025, 7, 11)]
    chart.sign_visit("MRN-0042", D1, clinician="Dr B")
    with pytest.raises(StoreError, match="signed: its date cannot be changed"):
        chart.redate_visit("MRN-0042", D1, dt.date(2025, 3, 2), today=TODAY)


def test_an_empty_draft_deleted_no_longer_counts(chart, catalogue):
    d = dt.date(2025, 5, 1)
    chart.new_visit("MRN-0042", d, today=TODAY)
    assert len(chart.classify("MRN-0042").visits) == 3
    chart.delete_visit("MRN-0042", d)
    assert chart.visit_dates("MRN-0042") == [D1, D2]
    deleted = [e for e in chart.audit_trail("MRN-0042") if e.table == "visits" and e.action == "delete"]
    assert deleted and deleted[-1].old["date"] == "2025-05-01"
    assert classify_case(chart.get_case("MRN-0042"), catalogue).as_json() == chart.classify("MRN-0042").as_json()


def test_other_cause_keeps_its_reason_and_the_explanation_names_it(chart):
    v = chart.get_visit("MRN-0042", D2)
    m0 = v.muscles[0].model_copy(update={"other_cause": True, "other_cause_reason": "old ulnar nerve injury"})
    chart.save_visit("MRN-0042", v.model_copy(update={"muscles": (m0, *v.muscles[1:])}))
    assert chart.get_visit("MRN-0042", D2).muscles[0].other_cause_reason == "old ulnar nerve injury"
    reasons = "\n".join(r.text for r in chart.classify("MRN-0042").visits[1].criteria["awaji"].reasons)
    assert ("Ignored: First dorsal interosseous R (findings attributed to another cause: "
            "old ulnar nerve injury).") in reasons
