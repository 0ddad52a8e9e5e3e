"""Import (each file all or nothing, merged by date) and lossless export, through the store and the CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from desktop.cli import main
from desktop.store import ChartStore, StoreError
from desktop.store.errors import ImportRefused
from desktop.store.demo import demo_case
from domain.case import case_to_data
from desktop.store.migrations import SCHEMA_VERSION


def test_export_then_import_into_another_chart_is_lossless(store, tmp_path):
    case = demo_case("bulbar")
    store.import_case(case)
    exported = store.export_case(case.patient.id)
    other = ChartStore.open(tmp_path / "other.sqlite", user="dr.other")
    try:
        report = other.import_case(exported)
        assert report.created and len(report.added) == len(case.visits)
        assert case_to_data(other.export_case(case.patient.id)) == case_to_data(case)
    finally:
        other.close(backup=False)


def test_importing_into_a_known_patient_merges_visits_by_date(store, case_factory, visit_factory):
    store.import_case(case_factory(dates=("2025-03-01", "2025-07-10")))
    report = store.import_case(case_factory(dates=("2025-03-01", "2025-07-10", "2025-11-20")))
    assert not report.created
    assert report.added == (dt.date(2025, 11, 20),)
    assert report.unchanged == (dt.date(2025, 3, 1), dt.date(2025, 7, 10))
    assert store.visit_dates("MRN-0042") == [dt.date(2025, 3, 1), dt.date(2025, 7, 10), dt.date(2025, 11, 20)]


def test_a_visit_that_conflicts_refuses_the_whole_file_even_its_new_visits(store, case_factory, visit_factory):
    store.import_case(case_factory(dates=("2025-03-01", "2025-07-10")))
    before = store.counts()
    incoming = case_factory(dates=("2025-03-01", "2025-07-10", "2025-11-20"))
    changed = incoming.visits[1].model_copy(update={"notes": "another reading"})
    incoming = incoming.model_copy(update={"visits": (incoming.visits[0], changed, incoming.visits[2])})
    with pytest.raises(ImportRefused, match=r"already has a different visit on 2025-07-10 \(other findings or values\); "
                                            "nothing from this file was imported"):
        store.import_case(incoming)
    assert store.counts() == before
    assert store.visit_dates("MRN-0042") == [dt.date(2025, 3, 1), dt.date(2025, 7, 10)]
    assert store.get_visit("MRN-0042", dt.date(2025, 7, 10)) == visit_factory("2025-07-10")


def test_a_conflict_says_when_the_visit_was_only_signed_since_the_file_was_written(store, case_factory):
    """The same findings, signed in the chart after the file was exported (a tryout met this):
    the refusal says so, rather than only "a different visit"."""
    store.import_case(case_factory(dates=("2025-03-01", "2025-07-10")))
    exported = store.export_case("MRN-0042")
    store.sign_visit("MRN-0042", dt.date(2025, 7, 10), clinician="Dr Renée Côté")
    with pytest.raises(ImportRefused, match=r"already has a different visit on 2025-07-10 \(signed in the chart "
                                            r"since; the file's is a draft\); nothing from this file was imported"):
        store.import_case(exported)
    other = ChartStore.open(store.path.with_name("other.sqlite"), user="dr.other")
    try:
        other.import_case(exported)  # (drafts there)
        with pytest.raises(ImportRefused, match=r"2025-07-10 \(a draft in the chart; the file's is signed\)"):
            other.import_case(store.export_case("MRN-0042"))
    finally:
        other.close(backup=False)


def test_a_different_birth_date_refuses_the_whole_file_naming_the_field(store, case_factory, patient_factory):
    store.import_case(case_factory(dates=("2025-03-01",)))
    before = store.counts()
    audit = len(store.audit_trail())
    other = case_factory(dates=("2025-03-01", "2025-09-01"))
    other = other.model_copy(update={"patient": patient_factory(birth_date=dt.date(1962, 1, 1))})
    with pytest.raises(ImportRefused, match=r"differs from the chart in birth_date \(chart: 1961-04-02, "
                                            r"file: 1962-01-01\); nothing from this file was imported"):
        store.import_case(other)
    assert store.counts() == before and len(store.audit_trail()) == audit
    assert store.visit_dates("MRN-0042") == [dt.date(2025, 3, 1)]


def test_an_import_that_fails_half_way_writes_nothing(store, case_factory, patient_factory):
    store.import_case(case_factory(dates=("2025-03-01",)))
    store.update_patient(patient_factory(death_date=dt.date(2025, 6, 1)))
    before = store.counts()
    # The first new visit is fine, the second falls after death: the whole file is rolled back.
    with pytest.raises(StoreError, match="after death_date"):
        store.import_case(case_factory(dates=("2025-04-01", "2025-09-01")))
    assert store.counts() == before
    assert store.visit_dates("MRN-0042") == [dt.date(2025, 3, 1)]


def write_case(path, case):
    path.write_text(json.dumps(case_to_data(case), ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_the_import_command_refuses_every_file_when_one_is_bad(tmp_path, capsys):
    good = write_case(tmp_path / "good.json", demo_case("pls"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "motorchart-case/1", "patient": {"id": "P1"}, "visits": [{"date": "2025-02-30"}]}')
    db = str(tmp_path / "chart.sqlite")
    assert main(["import", good, str(bad), "--db", db]) == 2
    err = capsys.readouterr().err
    assert "bad.json: visits[0].date" in err and "nothing was imported" in err
    assert not (tmp_path / "chart.sqlite").exists()


def test_the_import_and_export_commands_round_trip_a_case_file(tmp_path, capsys):
    case = demo_case("flail_arm")
    src = write_case(tmp_path / "in.json", case)
    db = str(tmp_path / "chart.sqlite")
    assert main(["import", src, "--db", db]) == 0
    assert main(["import", src, "--db", db]) == 0  # again: every visit already there
    assert "already there" in capsys.readouterr().out
    out = tmp_path / "out.json"
    assert main(["export", "--patient", case.patient.id, "--format", "json", "-o", str(out), "--db", db]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == case_to_data(case)


def test_store_commands_give_one_line_for_bad_input(tmp_path, capsys):
    db = str(tmp_path / "chart.sqlite")
    assert main(["demo", "--patients", "3", "--db", db]) == 0
    capsys.readouterr()
    assert main(["export", "--patient", "NOBODY", "--db", db]) == 2
    assert capsys.readouterr().err.strip() == "no patient NOBODY in this chart"
    assert main(["audit", "--patient", "NOBODY", "--db", db]) == 2
    assert main(["export", "--patient", "X", "--db", str(tmp_path / "missing.sqlite")]) == 2
    assert "no chart file" in capsys.readouterr().err
    assert not (tmp_path / "missing.sqlite").exists()
    assert main(["restore", str(tmp_path / "nope.sqlite"), "--db", db]) == 2


def test_check_audit_backup_and_restore_commands(tmp_path, capsys):
    db = str(tmp_path / "chart.sqlite")
    assert main(["demo", "--patients", "4", "--seed", "7", "--db", db]) == 0
    assert main(["check", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "integrity: ok" in out and "patients: 4" in out and f"schema version: {SCHEMA_VERSION}" in out
    assert main(["audit", "--patient", "DEMO-000001", "--db", db]) == 0
    audit = " ".join(capsys.readouterr().out.split())
    assert "insert patient DEMO-000001 family name =" in audit and "birth_date" not in audit
    assert main(["backup", "--db", db]) == 0
    backup = capsys.readouterr().out.strip()
    assert main(["import", write_case(tmp_path / "x.json", demo_case("fast")), "--db", db]) == 0
    assert main(["restore", backup, "--db", db]) == 2  # no --yes: nothing replaced
    with ChartStore.open(db, readonly=True) as s:
        assert s.count_patients() == 5
    assert main(["restore", backup, "--yes", "--db", db]) == 0
    with ChartStore.open(db, readonly=True) as s:
        assert s.count_patients() == 4


def test_the_demo_clinic_is_the_same_for_the_same_seed(tmp_path):
    charts = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.sqlite"
        assert main(["demo", "--patients", "12", "--seed", "5", "--db", str(path)]) == 0
        with ChartStore.open(path, readonly=True) as s:
            charts.append([case_to_data(s.get_case(r.id)) for r in s.search_patients("", limit=100)])
    assert charts[0] == charts[1]
    assert len(charts[0]) == 12
    assert all(1 <= len(c["visits"]) <= 12 for c in charts[0])


def test_tracheostomy_date_and_milestone_notes_survive_import_export_and_are_audited(store, case_factory):
    """exam-format patient: tracheostomy_date and a note per milestone (schema migration 6)."""
    case = case_factory(dates=("2025-03-01",))
    patient = case.patient.model_copy(update={
        "gastrostomy_date": dt.date(2025, 4, 1), "gastrostomy_note": "refused",
        "niv_date": dt.date(2025, 5, 1), "niv_note": "trialled, not tolerated",
        "tracheostomy_date": dt.date(2025, 6, 1), "tracheostomy_note": "invasive ventilation",
        "death_date": dt.date(2025, 7, 1), "death_note": "respiratory failure, żona przy nim",
    })
    store.import_case(case.model_copy(update={"patient": patient}))
    back = store.export_case(patient.id).patient
    assert back == patient
    created = [e for e in store.audit_trail(patient.id) if e.table == "patients"][0]
    assert created.new["tracheostomy_date"] == "2025-06-01" and created.new["death_note"].startswith("respiratory")
