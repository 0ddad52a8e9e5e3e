"""Issue 20: the audit trail stored as compact diffs (m012), still complete, readable and
tamper-evident. A visit stored with its findings is one audit row with the findings nested; an
update records the columns it changed; nothing is recorded twice."""

from __future__ import annotations

import datetime as dt
import json

from desktop.store import ChartStore
from desktop.store._lean import Database
from desktop.store.migrations import migrations
from domain.case import MuscleFinding
from tests.store.conftest import write_outside

D1 = dt.date(2025, 3, 1)


def raw_rows(store):
    return store.db.execute("SELECT table_name, action, row_key, old_json, new_json FROM audit ORDER BY id").fetchall()


def test_a_visit_stored_with_its_findings_is_one_audit_row_holding_them(store, patient_factory, visit_factory):
    store.add_patient(patient_factory())
    before = len(raw_rows(store))
    visit = visit_factory()
    store.save_visit("MRN-0042", visit)
    added = raw_rows(store)[before:]
    assert [(t, a) for t, a, *_ in added] == [("visits", "insert")]
    stored = json.loads(added[0][4])
    assert stored["muscle_findings"]["columns"][:2] == ["muscle", "side"]  # a table: names once, then rows
    entry = store.audit_trail("MRN-0042")[-1]
    assert (entry.table, entry.action, entry.row_key, entry.old) == ("visits", "insert", "2025-03-01 v1", None)
    muscles = {(m["muscle"], m["side"]): m for m in entry.new["muscle_findings"]}
    assert len(muscles) == len(visit.muscles)
    for m in visit.muscles:
        assert muscles[(m.muscle, m.side)].get("mrc") == m.mrc
    assert len(entry.new["reflex_findings"]) == len(visit.reflexes)
    assert "emg_json" not in muscles[(visit.muscles[0].muscle, visit.muscles[0].side)] or visit.muscles[0].emg
    assert all(v is not None for v in entry.new.values())  # empty columns are left out


def test_an_update_records_only_what_changed_on_both_sides(store, patient_factory, visit_factory):
    store.add_patient(patient_factory())
    visit = visit_factory()
    store.save_visit("MRN-0042", visit)
    before = len(raw_rows(store))
    muscles = (visit.muscles[0].model_copy(update={"mrc": "2", "wasting": "severe"}),) + visit.muscles[1:]
    store.save_visit("MRN-0042", visit.model_copy(update={"muscles": muscles, "fvc_percent": 71.5}))
    added = raw_rows(store)[before:]
    assert sorted((t, a) for t, a, *_ in added) == [("muscle_findings", "update"), ("visits", "update")]
    finding = next(r for r in added if r[0] == "muscle_findings")
    assert json.loads(finding[4]) == {"mrc": "2", "wasting": "severe"}
    assert set(json.loads(finding[3])) == {"mrc", "wasting"}
    # a value cleared: stored on the old side only; readers see it become None
    store.save_visit("MRN-0042", visit.model_copy(update={"muscles": muscles, "fvc_percent": None}))
    last = store.audit_trail("MRN-0042")[-1]
    assert (last.table, last.old, last.new) == ("visits", {"fvc_percent": 71.5}, {"fvc_percent": None})


def test_a_visit_signed_in_the_write_that_stores_it_reads_in_order(store, patient_factory, case_factory):
    case = case_factory()
    signed = case.visits[0].date
    store.add_cases([(case, {signed: "Dr Renée Côté"})])
    trail = [(e.table, e.action, e.row_key) for e in store.audit_trail(case.patient.id)]
    key = f"{signed.isoformat()} v1"
    inserted, updated = trail.index(("visits", "insert", key)), trail.index(("visits", "update", key))
    assert inserted < updated and trail[updated - 1] == ("signatures", "insert", key)
    assert store.full_check()["audit"] == []


def test_a_visit_another_program_inserts_is_named_by_check_and_not_claimed(store, chart_path, patient_factory,
                                                                          visit_factory):
    store.add_patient(patient_factory())
    store.close(backup=False)
    write_outside(chart_path, "INSERT INTO visits (patient_id, date, version) VALUES ('MRN-0042', '2025-05-05', 1)")
    with ChartStore.open(chart_path, user="dr.test") as again:
        again.set_setting("clinic", "Neurology")  # a write of Motorchart does not flush it as its own
        problems = again.full_check()["audit"]
        assert len(problems) == 1 and "MRN-0042 2025-05-05 v1" in problems[0] and "outside Motorchart" in problems[0]
        assert not any(e.row_key == "2025-05-05 v1" for e in again.audit_trail("MRN-0042"))


def test_a_visit_another_program_inserts_and_strikes_from_the_pending_list_is_named_by_check(
        store, chart_path, patient_factory, case_factory):
    """audit_pending is bookkeeping, not protected like the audit: a visit whose pending mark
    another program deleted still has no audit row of its creation, and check says so."""
    store.import_case(case_factory())  # two visits stored by Motorchart: recorded
    store.close(backup=False)
    write_outside(chart_path, "INSERT INTO visits (patient_id, date, version) VALUES ('MRN-0042', '2025-05-05', 1)",
                  "DELETE FROM audit_pending")
    with ChartStore.open(chart_path, user="dr.test") as again:
        problems = again.full_check()["audit"]
        assert problems == ["1 visit(s) have no audit row of their creation (MRN-0042 2025-05-05 v1): "
                            "written outside Motorchart, or that row was removed"]
        again.delete_visit("MRN-0042", dt.date(2025, 5, 5))  # the clinician removes it: recorded, sound again
        assert again.full_check()["audit"] == []


def test_a_chart_from_before_keeps_its_full_rows_and_its_chain(tmp_path):
    # the trail as schema 11 wrote it: a file migrated to m011 only, written with its triggers
    path2 = tmp_path / "old2.sqlite"
    db = Database(path2)
    migrations.apply(db, stop_before="m012_compact_audit")
    db.execute("INSERT INTO patients (id, family_name) VALUES ('MRN-1', 'Côté')")
    db.execute("INSERT INTO visits (patient_id, date, version) VALUES ('MRN-1', '2025-01-02', 1)")
    db.execute("INSERT INTO muscle_findings (visit_id, muscle, side, pos, mrc) VALUES (1, 'deltoid', 'left', 0, '4')")
    from desktop.store import audit_chain

    audit_chain.seal(db.conn, 0, "dr.old", None)
    db.execute("PRAGMA user_version = 11")
    db.conn.commit()
    old_rows = db.execute("SELECT id, new_json FROM audit ORDER BY id").fetchall()
    db.conn.close()
    assert len(old_rows) == 3 and "null" in old_rows[0][1]  # whole rows, empty columns included
    with ChartStore.open(path2, user="dr.test") as store:
        assert store.db.execute("SELECT id, new_json FROM audit WHERE id <= 3 ORDER BY id").fetchall() == old_rows
        store.save_visit("MRN-1", store.get_visit("MRN-1", dt.date(2025, 1, 2)).model_copy(
            update={"muscles": (MuscleFinding(muscle="deltoid", side="left", mrc="3"),)}))
        assert store.full_check()["audit"] == []
        last = store.audit_trail("MRN-1")[-1]
        assert (last.old, last.new) == ({"mrc": "4"}, {"mrc": "3"})


def test_the_audit_command_lists_a_stored_visits_findings_in_words(tmp_path, capsys):
    from desktop.cli import main

    db = str(tmp_path / "clinic.sqlite")
    assert main(["demo", "--db", db, "--patients", "1"]) == 0
    capsys.readouterr()
    assert main(["audit", "--db", db, "--patient", "DEMO-000001"]) == 0
    lines = capsys.readouterr().out.splitlines()
    visit = next(line for line in lines if " insert visit " in line)
    assert "muscle = tongue, side = midline" in visit and "[" not in visit.split("muscle")[1][:40]
    assert main(["audit", "--db", db, "--patient", "DEMO-000001", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    inserted = next(r for r in rows if r["table"] == "visits" and r["action"] == "insert")
    assert inserted["new"]["muscle_findings"][0]["muscle"] == "tongue"
