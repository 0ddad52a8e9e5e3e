"""Issue 17, points 4 to 6 in the store: an import is all or nothing and keeps the same rules as
the window (domain.patient_rules), MRNs match trimmed and case-folded, and nothing hostile
reaches SQLite. Real chart files in tmp_path."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from desktop.store import StoreError
from desktop.store.demo import demo_case
from desktop.store.errors import ImportRefused
from domain.case import MAX_NESTING, Case, case_to_data, parse_case

TODAY = dt.date(2026, 1, 15)


def _unchanged(store):
    """A fingerprint of everything the chart holds."""
    return store.counts(), len(store.audit_trail()), [r.id for r in store.search_patients("", 1000)]


@pytest.mark.parametrize("date", ["2099-01-01", "9999-12-31"])
def test_an_import_with_a_visit_in_the_future_writes_nothing(store, case_factory, date):
    case = case_factory(dates=("2025-03-01", date))
    before = _unchanged(store)
    with pytest.raises(ImportRefused, match=f"visits: the visit of {date} is in the future"):
        store.import_case(case, today=TODAY)
    assert _unchanged(store) == before


def test_an_import_with_a_diagnosis_before_onset_writes_nothing(store, case_factory, patient_factory):
    case = case_factory().model_copy(update={"patient": patient_factory(diagnosis_date=dt.date(2024, 1, 1))})
    with pytest.raises(ImportRefused, match="patient.diagnosis_date: 2024-01-01 is before the onset date"):
        store.import_case(case, today=TODAY)
    assert store.counts()["patients"] == 0


def test_an_mrn_of_a_zero_width_space_is_refused_at_import(store, case_factory, patient_factory):
    case = case_factory().model_copy(update={"patient": patient_factory("\u200b")})
    with pytest.raises(ImportRefused, match="patient.id: required"):
        store.import_case(case, today=TODAY)
    assert store.counts()["patients"] == 0


@pytest.mark.parametrize("spelling", ["DEMO-000001 ", "demo-000001", " Demo-000001"])
def test_an_mrn_spelt_otherwise_merges_into_the_known_patient(store, case_factory, spelling):
    store.import_case(case_factory("DEMO-000001", dates=("2025-03-01",)), today=TODAY)
    report = store.import_case(case_factory(spelling, dates=("2025-03-01", "2025-07-10")), today=TODAY)
    assert not report.created and report.patient_id == "DEMO-000001"
    assert report.added == (dt.date(2025, 7, 10),)
    assert [p.id for p in store.search_patients("", 100)] == ["DEMO-000001"]
    assert store.visit_dates("DEMO-000001") == [dt.date(2025, 3, 1), dt.date(2025, 7, 10)]


def test_a_new_patient_is_stored_under_its_trimmed_mrn(store, case_factory):
    report = store.import_case(case_factory("  MRN-0099 ", dates=("2025-03-01",)), today=TODAY)
    assert report.created and report.patient_id == "MRN-0099"
    assert store.get_patient("MRN-0099").id == "MRN-0099"


def test_a_visit_before_the_charts_birth_date_refuses_the_file_and_names_the_visit(store, case_factory, patient_factory,
                                                                                     visit_factory):
    store.import_case(case_factory(dates=("2025-03-01",)), today=TODAY)  # born 1961-04-02
    before = _unchanged(store)
    no_birth = Case(format="motorchart-case/1", patient=patient_factory(birth_date=None),
                    visits=(visit_factory("1960-05-01"), visit_factory("2025-09-01")))
    with pytest.raises(ImportRefused, match="visit 1960-05-01 would be before birth_date 1961-04-02; nothing"):
        store.import_case(no_birth, today=TODAY)
    assert _unchanged(store) == before


def test_a_lone_surrogate_in_a_case_built_in_code_is_refused_not_a_unicode_error(store, case_factory, visit_factory):
    case = case_factory(dates=())
    case = case.model_copy(update={"visits": (visit_factory("2025-03-01", notes="cramps \ud800"),)})
    with pytest.raises(ImportRefused, match=r"notes: is not valid text: it holds a lone UTF-16 surrogate \(U\+D800\)"):
        store.import_case(case, today=TODAY)
    assert store.counts()["patients"] == 0


@pytest.mark.parametrize("notes, message", [
    ("a" * 20_001, "notes: is 20,001 characters long (at most 20,000 characters)"),
    ("cramps \ud800", "notes: is not valid text: it holds a lone UTF-16 surrogate (U+D800)"),
], ids=["too-long", "surrogate"])
def test_the_window_save_path_keeps_the_same_text_rules(store, case_factory, visit_factory, notes, message):
    store.import_case(case_factory(dates=("2025-03-01",)), today=TODAY)
    with pytest.raises(StoreError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        store.save_visit("MRN-0042", visit_factory("2025-03-01", notes=notes))
    assert store.get_visit("MRN-0042", dt.date(2025, 3, 1)) == visit_factory("2025-03-01")


def test_the_bulk_path_refuses_an_mrn_that_matches_case_folded_and_writes_nothing(store, case_factory):
    store.import_case(case_factory("DEMO-000001", dates=("2025-03-01",)), today=TODAY)
    before = _unchanged(store)
    with pytest.raises(StoreError, match="patient demo-000001  already exists"):
        store.add_cases([(case_factory("MRN-1", dates=()), {}), (case_factory("demo-000001 ", dates=()), {})])
    assert _unchanged(store) == before


def test_the_bulk_path_refuses_a_case_that_breaks_a_rule(store, case_factory):
    with pytest.raises(StoreError, match="visits: the visit of 2099-01-01 is in the future"):
        store.add_cases([(case_factory("MRN-1", dates=("2099-01-01",)), {})])
    assert store.counts()["patients"] == 0


def test_a_signed_export_is_well_within_the_file_limits(store, catalogue):
    case = demo_case("bulbar")
    store.import_case(case)
    for d in store.visit_dates(case.patient.id):
        store.sign_visit(case.patient.id, d, clinician="Dr A")
    text = json.dumps(case_to_data(store.export_case(case.patient.id)), ensure_ascii=False, indent=2)
    depth, deepest = 0, 0
    for ch in text:  # no brackets inside the strings of an export
        depth += ch in "[{"
        depth -= ch in "]}"
        deepest = max(deepest, depth)
    assert deepest < MAX_NESTING / 2
    assert isinstance(parse_case(text, catalogue), Case)


def test_a_signer_name_that_could_not_be_imported_again_is_refused_at_signing(store, case_factory):
    store.import_case(case_factory(dates=("2025-03-01",)), today=TODAY)
    with pytest.raises(StoreError, match=r"the clinician's name holds a line break \(it must be one line\)"):
        store.sign_visit("MRN-0042", dt.date(2025, 3, 1), clinician="Dr A\nDr B")
    assert store.visit_status("MRN-0042", dt.date(2025, 3, 1)) == "draft"
