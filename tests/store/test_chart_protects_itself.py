"""Issue 17, point 8: the database protects itself, even from a program with foreign keys off
(the sqlite3 default), and a chart whose safety triggers are gone refuses every write."""

from __future__ import annotations

import sqlite3

import pytest

from desktop.store import ChartStore, StoreError
from desktop.store._lean import Database
from desktop.store.migrations import (
    EXPECTED_TRIGGERS,
    ORPHAN_VISIT_MESSAGE,
    PATIENT_DELETE_MESSAGE,
    migrate,
    missing_triggers,
)


@pytest.fixture
def chart(store, case_factory):
    """A closed chart with MRN-0042 and two visits, the first signed."""
    import datetime as dt

    store.import_case(case_factory())
    store.sign_visit("MRN-0042", dt.date(2025, 3, 1), clinician="Dr Test")
    path = store.path
    store.close(backup=False)
    return path


def raw(path) -> sqlite3.Connection:
    """Another program's connection: foreign keys off, as sqlite3 opens by default."""
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 0
    return conn


def test_the_expected_trigger_list_is_exactly_what_the_migrations_create(tmp_path):
    db = Database(tmp_path / "blank.sqlite")
    migrate(db)
    have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert have == set(EXPECTED_TRIGGERS)
    assert len(EXPECTED_TRIGGERS) == len(set(EXPECTED_TRIGGERS))
    assert missing_triggers(db.conn) == []


def test_a_patient_with_visits_cannot_be_deleted_even_with_foreign_keys_off(chart):
    conn = raw(chart)
    with pytest.raises(sqlite3.IntegrityError, match=PATIENT_DELETE_MESSAGE):
        conn.execute("DELETE FROM patients")
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM patients").fetchone()[0] == 1
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


def test_a_patient_without_visits_can_still_be_deleted(store, patient_factory):
    store.add_patient(patient_factory(id="MRN-LONE"))
    store.db.execute("DELETE FROM patients WHERE id = 'MRN-LONE'")
    assert store.count_patients() == 0


def test_a_changed_mrn_takes_its_visits_along_even_with_foreign_keys_off(chart):
    conn = raw(chart)
    conn.execute("UPDATE patients SET id = 'MRN-9999' WHERE id = 'MRN-0042'")
    conn.commit()
    assert {r[0] for r in conn.execute("SELECT patient_id FROM visits")} == {"MRN-9999"}
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


def test_a_visit_or_signature_cannot_be_made_an_orphan_with_foreign_keys_off(chart):
    conn = raw(chart)
    with pytest.raises(sqlite3.IntegrityError, match=ORPHAN_VISIT_MESSAGE):
        conn.execute("INSERT INTO visits (patient_id, date) VALUES ('NOBODY', '2025-01-01')")
    with pytest.raises(sqlite3.IntegrityError, match=ORPHAN_VISIT_MESSAGE):
        conn.execute("UPDATE visits SET patient_id = 'NOBODY'")  # (the signed one may change MRN only)
    with pytest.raises(sqlite3.IntegrityError, match="a signature must belong to a visit"):
        conn.execute("INSERT INTO signatures (visit_id, signed_by, signed_at_utc, version, options_json, "
                     "snapshot, sha256) VALUES (999, 'x', 'y', 1, '{}', x'00', ?)", ["0" * 64])
    conn.rollback()
    conn.close()


def test_the_app_still_renames_a_patient_with_signed_visits(chart, patient_factory):
    with ChartStore.open(chart, user="dr.test") as store:
        store.update_patient(store.get_patient("MRN-0042").model_copy(update={"id": "MRN-0043"}),
                             old_id="MRN-0042")
        assert store.visit_status("MRN-0043", __import__("datetime").date(2025, 3, 1)) == "signed"
        assert store.full_check()["foreign keys"] == []


def test_a_chart_whose_triggers_were_dropped_refuses_every_write_and_says_why(chart, patient_factory):
    conn = raw(chart)
    conn.execute("DROP TRIGGER patients_no_delete_with_visits")
    conn.execute("DROP TRIGGER visits_signed_no_delete")
    conn.commit()
    conn.close()
    store = ChartStore.open(chart, user="dr.test")
    try:
        assert store.get_patient("MRN-0042").id == "MRN-0042"  # reading still works
        with pytest.raises(StoreError) as err:
            store.add_patient(patient_factory(id="MRN-NEW"))
        message = str(err.value)
        assert "\n" not in message
        assert "safety triggers are missing (visits_signed_no_delete, patients_no_delete_with_visits)" in message
        assert "nothing can be saved" in message
        assert store.full_check()["triggers"] == ["missing trigger visits_signed_no_delete",
                                                  "missing trigger patients_no_delete_with_visits"]
    finally:
        assert store.close() is None  # no automatic backup of a tampered-with chart
    with ChartStore.open(chart, readonly=True) as ro:
        assert ro.count_patients() == 1


def test_the_full_check_finds_an_orphan_made_with_the_triggers_gone(chart):
    conn = raw(chart)
    conn.execute("DROP TRIGGER patients_no_delete_with_visits")
    conn.execute("DELETE FROM patients")
    conn.commit()
    conn.close()
    with ChartStore.open(chart, readonly=True) as store:
        deep = store.full_check()
    assert deep["integrity"] == []
    assert deep["foreign keys"] == ["2 visits row(s) refer to missing patients (rowid 1, 2)"]
    assert deep["triggers"] == ["missing trigger patients_no_delete_with_visits"]
