"""m013: the CHECK constraints that compared a column with three or more constants are written as
OR chains (issue 20: SQLite rebuilt a small table for each such list on every prepared insert).
The rules must be exactly the old ones, on new charts and on charts upgraded with their rows."""

from __future__ import annotations

import re

import pytest
from sqlite_utils import Database

from desktop.store import ChartStore
from desktop.store.driver import sqlite3
from desktop.store.migrations import _IN_LIST, checks_without_in_lists, migrate, migrations

REWRITTEN = {  # table: the columns whose list m013 rewrites
    "patients": {"sex", "onset_side"},
    "visits": {"status"},
    "muscle_findings": {"side", "wasting"},
    "reflex_findings": {"side"},
    "sign_findings": {"side"},
    "audit": {"action"},
    "visit_marks": {"kind"},
}


def _schema(db: Database) -> dict[str, str]:
    return dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL"))


def _before_m013(path) -> Database:
    db = Database(path)
    migrations.apply(db, stop_before="m013_checks_without_in_lists")
    return db


def _closed_before_m013(path, sql: str) -> dict[str, str]:
    """A chart before m013 with ``sql`` run and committed, closed; its table definitions."""
    db = _before_m013(path)
    db.execute(sql)
    db.conn.commit()
    before = _schema(db)
    db.conn.close()
    return before


def test_a_chart_before_m013_has_the_lists_and_a_new_chart_has_none(tmp_path):
    old = _schema(_before_m013(tmp_path / "old.sqlite"))
    found = {t: {m.group(1) for m in _IN_LIST.finditer(sql)} for t, sql in old.items()}
    assert {t: cols for t, cols in found.items() if cols} == REWRITTEN
    db = Database(tmp_path / "new.sqlite")
    migrate(db)
    new = _schema(db)
    assert [t for t, sql in new.items() if _IN_LIST.search(sql)] == []
    # (two-value lists, the booleans, were never slow and stay as they were)
    assert "fasciculations IN (0, 1)" in new["muscle_findings"]
    assert set(new) == set(old)
    assert {t for t in new if new[t] != old[t]} == set(REWRITTEN)


def test_every_rewritten_rule_accepts_and_refuses_exactly_what_the_old_one_did(tmp_path):
    """Each old ``column IN (...)`` and its OR chain, evaluated by SQLite for each listed value, a
    value of another case and spelling, a number, the empty text and NULL."""
    old = _schema(_before_m013(tmp_path / "old.sqlite"))
    conn = sqlite3.connect(":memory:")
    compared = 0
    for table, sql in old.items():
        for m in _IN_LIST.finditer(sql):
            column = m.group(1)
            chain = checks_without_in_lists(m.group(0))
            assert chain.startswith("(") and " OR " in chain
            listed = re.findall(r"'[^']*'|\d+", m.group(2))
            tries = [*listed, *(v.upper() for v in listed), "'other'", "''", "0", "1", "NULL", "' left'"]
            for value in tries:
                was = conn.execute(f"SELECT {m.group(0).replace(column, value, 1)}").fetchone()[0]
                now = conn.execute(f"SELECT {chain.replace(column, value)}").fetchone()[0]
                assert was == now, (table, column, value, was, now)
                compared += 1
            assert all(conn.execute(f"SELECT {chain.replace(column, v)}").fetchone()[0] == 1 for v in listed)
    assert compared > 100


def test_a_chart_is_upgraded_with_its_rows_and_the_rules_hold_at_once(tmp_path):
    path = tmp_path / "chart.sqlite"
    db = _before_m013(path)
    db.execute("INSERT INTO patients (id, family_name, given_names, sex) VALUES ('MRN-1', 'Ødegård', 'Åse', 'female')")
    db.execute("INSERT INTO visits (id, patient_id, date) VALUES (1, 'MRN-1', '2026-11-30')")
    db.execute("INSERT INTO muscle_findings (visit_id, muscle, side, pos, mrc, wasting) "
               "VALUES (1, 'deltoid', 'left', 0, '4', 'mild')")
    db.conn.commit()
    migrate(db)  # (the same connection goes on writing after the schema changed under it)
    assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    assert db.execute("SELECT family_name, sex FROM patients").fetchall() == [("Ødegård", "female")]
    assert db.execute("SELECT side, wasting FROM muscle_findings").fetchall() == [("left", "mild")]
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        db.execute("INSERT INTO muscle_findings (visit_id, muscle, side, pos) VALUES (1, 'biceps', 'top', 1)")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        db.execute("INSERT INTO muscle_findings (visit_id, muscle, side, pos, wasting) "
                   "VALUES (1, 'biceps', 'left', 1, 'great')")
    db.execute("INSERT INTO muscle_findings (visit_id, muscle, side, pos, wasting) VALUES (1, 'tongue', 'midline', 1, NULL)")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        db.execute("UPDATE patients SET sex = 'f' WHERE id = 'MRN-1'")
    db.conn.commit()
    db.conn.close()
    # Opened again, by the store: the new text is what every connection reads.
    with ChartStore.open(path, user="dr.test", daily_backup=False) as store:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        sql = store.db.execute("SELECT sql FROM sqlite_master WHERE name = 'muscle_findings'").fetchone()[0]
        assert "side = 'midline'" in sql and "IN ('left'" not in sql
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
            store.db.execute("INSERT INTO audit (time_utc, user, table_name, action) VALUES ('t', 'u', 'x', 'erase')")
        store.db.conn.rollback()


def test_an_sqlite_that_refuses_to_write_its_schema_keeps_the_lists_and_the_chart_opens(tmp_path, monkeypatch):
    """A "defensive" SQLite ignores ``PRAGMA writable_schema = ON`` and then refuses the
    ``UPDATE`` of ``sqlite_master`` ("may not be modified"), as any SQLite does without that
    pragma: m013 then changes nothing (the same rules, written as before) instead of leaving a
    chart that cannot be opened."""
    import desktop.store.migrations as m

    path = tmp_path / "chart.sqlite"
    db = _before_m013(path)
    before = _schema(db)
    monkeypatch.setattr(m, "WRITABLE_SCHEMA_ON", "PRAGMA writable_schema")  # (reads it: stays off)
    migrate(db)
    assert migrations.pending(db) == []
    assert _schema(db) == before
    assert db.execute("PRAGMA writable_schema").fetchone()[0] == 0
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        db.execute("INSERT INTO audit (time_utc, user, table_name, action) VALUES ('t', 'u', 'x', 'erase')")
    db.conn.close()
    with ChartStore.open(path, user="dr.test", daily_backup=False) as store:
        assert store.db.execute("PRAGMA quick_check").fetchone()[0] == "ok"


def test_any_other_error_inside_m013_fails_the_upgrade_and_leaves_the_chart_as_it_was(tmp_path, monkeypatch):
    """Only the refusal above is taken as "keep the lists": another error (here a broken
    statement, standing in for a full disk) rolls the migration back and is reported, and the
    next open tries again."""
    import desktop.store.migrations as m
    from desktop.store import StoreError

    path = tmp_path / "chart.sqlite"
    before = _closed_before_m013(path, "PRAGMA user_version = 12")
    monkeypatch.setattr(m, "SCHEMA_TEXT_UPDATE", "UPDATE sqlite_master SET nothing = ? WHERE name = ?")
    with pytest.raises(StoreError, match="nothing"):
        ChartStore.open(path, user="dr.test", daily_backup=False)
    db = Database(path)
    assert _schema(db) == before
    assert [x.name for x in migrations.pending(db)] == ["m013_checks_without_in_lists"]
    assert db.execute("PRAGMA writable_schema").fetchone()[0] == 0
    db.conn.close()
    monkeypatch.undo()
    with ChartStore.open(path, user="dr.test", daily_backup=False) as store:
        assert store.upgrade is not None and [t for t, sql in _schema(store.db).items() if _IN_LIST.search(sql)] == []


_KILLED_MID_MIGRATION = r"""
import os, sys
from sqlite_utils import Database
from desktop.store.migrations import migrations
db = Database(sys.argv[1])
# (dies when the schema text is written and the schema version is about to be raised, before
# the migration's transaction commits)
db.conn.set_trace_callback(lambda sql: os._exit(9) if sql.startswith("PRAGMA schema_version =") else None)
migrations.apply(db)
"""


def test_a_process_killed_inside_m013_leaves_the_chart_as_it_was_and_it_upgrades_next_time(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "chart.sqlite"
    before = _closed_before_m013(path, "INSERT INTO patients (id, family_name, given_names) VALUES ('MRN-1', '山田', '花子')")
    done = subprocess.run([sys.executable, "-c", _KILLED_MID_MIGRATION, str(path)], capture_output=True, timeout=120)
    assert done.returncode == 9, done.stderr[-2000:]
    db = Database(path)
    assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    assert _schema(db) == before
    assert [m.name for m in migrations.pending(db)] == ["m013_checks_without_in_lists"]
    migrate(db)
    assert [t for t, sql in _schema(db).items() if _IN_LIST.search(sql)] == []
    assert db.execute("SELECT family_name FROM patients").fetchall() == [("山田",)]
    assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
