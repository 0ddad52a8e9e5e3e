"""The schema: built by numbered migrations, STRICT, with triggers and full-text search."""

from __future__ import annotations

import sqlite3

import pytest

from sqlite_utils import Database

from desktop.store import ChartStore
from desktop.store.backups import expanded
from desktop.store.migrations import KNOWN_MIGRATIONS, SCHEMA_VERSION, migrate, migrations

EXPECTED_VISIT_COLUMNS = {
    "id": int, "patient_id": str, "date": str, "version": int, "status": str, "clinician": str,
    "signed_at_utc": str, "amended_from": int, "amendment_reason": str,
    "progressive_by_history": int, "alternatives_excluded": int, "alsfrs_r_json": str,
    "fvc_percent": float, "weight_kg": float, "notes": str,
}


def test_migrating_a_blank_chart_creates_the_tables_columns_triggers_and_search(tmp_path):
    db = Database(tmp_path / "blank.sqlite")
    migrate(db)
    assert db["visits"].columns_dict == EXPECTED_VISIT_COLUMNS
    assert db["muscle_findings"].columns_dict == {
        "visit_id": int, "muscle": str, "side": str, "pos": int, "mrc": str, "wasting": str,
        "fasciculations": int, "other_cause": int, "emg_json": str, "other_cause_reason": str,
    }
    assert set(db["patients"].columns_dict) >= {"id", "family_name", "given_names", "onset_date",
                                                "gastrostomy_date", "niv_date", "death_date"}
    assert db["audit"].columns_dict == {
        "id": int, "time_utc": str, "user": str, "table_name": str, "action": str,
        "patient_id": str, "row_key": str, "old_json": str, "new_json": str,
    }
    assert db["audit_links"].columns_dict == {"last_id": int, "first_id": int, "user": str, "link": str}
    assert "session" not in db.table_names()  # m010: the user is no longer a writable row
    for table in ("patients", "visits", "muscle_findings", "reflex_findings", "sign_findings",
                  "settings", "audit", "audit_links"):
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
        assert sql.rstrip().endswith(("STRICT", "WITHOUT ROWID")), table
    assert [fk.other_table for fk in db["muscle_findings"].foreign_keys] == ["visits"]
    assert {fk.other_table for fk in db["visits"].foreign_keys} == {"patients", "visits"}
    triggers = {t.name for t in db.triggers}
    assert {"visits_signed_no_update", "visits_signed_no_delete", "muscle_findings_signed_no_insert",
            "audit_no_update", "audit_no_delete", "visits_audit_update", "sign_findings_audit_delete",
            "patients_ai", "patients_ad", "patients_au", "visits_ai"} <= triggers
    assert db["patients"].detect_fts() == "patients_fts"
    assert db["visits"].detect_fts() == "visits_fts"
    assert db.journal_mode == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(KNOWN_MIGRATIONS)
    assert migrations.pending(db) == []


def test_migrating_again_changes_nothing(tmp_path):
    db = Database(tmp_path / "blank.sqlite")
    migrate(db)
    before = db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    migrate(db)
    assert db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall() == before


def test_an_older_chart_is_backed_up_then_upgraded(tmp_path, patient_factory):
    path = tmp_path / "old.sqlite"
    db = Database(path)
    migrations.apply(db, stop_before="m004_full_text_search")
    db.execute("PRAGMA foreign_keys = ON")
    db["patients"].insert({"id": "MRN-1", "family_name": "Côté", "given_names": "Renée"})
    db.conn.close()

    store = ChartStore.open(path, user="dr.test")
    try:
        assert store.schema_version == SCHEMA_VERSION
        assert [r.id for r in store.search_patients("cote")] == ["MRN-1"]
    finally:
        store.close(backup=False)
    backups = list((tmp_path / "old-backups").glob("*-before-upgrade.sqlite.gz"))
    assert len(backups) == 1
    with expanded(backups[0]) as copy:
        old = sqlite3.connect(copy)
        assert old.execute("SELECT family_name FROM patients").fetchall() == [("Côté",)]
        assert not old.execute("SELECT 1 FROM sqlite_master WHERE name = 'patients_fts'").fetchall()
        old.close()


@pytest.mark.parametrize("older", [None, "m006_tracheostomy_and_milestone_notes"])
def test_a_chart_built_or_upgraded_is_written_through_a_connection_that_did_not_migrate_it(tmp_path, older,
                                                                                          monkeypatch):
    """Issue 20: a connection that ran the migrations stays slower for every later statement
    (importing into a chart just made: 3.7-3.9 ms a file against 2.9-3.0), so the store reopens
    its connection once the schema is built or upgraded, set up as at any open."""
    import desktop.store.files as files
    from desktop.store.driver import sqlite3 as driver
    from tests.store.conftest import make_case

    path = tmp_path / "chart.sqlite"
    if older is not None:
        old = Database(path)
        migrations.apply(old, stop_before=older)
        old.conn.close()
    migrating: list = []
    real = files.migrate

    def spy(db, **kw):
        migrating.append(db.conn)
        return real(db, **kw)

    monkeypatch.setattr(files, "migrate", spy)
    store = ChartStore.open(path, user="dr.test", daily_backup=False)
    try:
        assert len(migrating) == 1 and store.db.conn is not migrating[0]
        with pytest.raises(driver.ProgrammingError):  # (closed)
            migrating[0].execute("SELECT 1")
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2
        store.import_case(make_case("MRN-1"))
        assert store.schema_version == SCHEMA_VERSION and store.full_check()["triggers"] == []
    finally:
        store.close(backup=False)
    ChartStore.open(path, user="dr.test", daily_backup=False).close(backup=False)
    assert len(migrating) == 1  # (a chart up to date: nothing migrated, the connection kept)
