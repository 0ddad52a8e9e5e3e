"""A chart from an older Motorchart: `motorchart upgrade` upgrades it (after a backup), any
command that changes it says in one line that it did, and a reading command names the way."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from domain.case import Patient

from desktop.cli import main
from desktop.store import ChartStore
from desktop.store.migrations import SCHEMA_VERSION, migrations


def _older_chart(path):
    """A chart as the Motorchart before m013 left it (schema 12), with a patient written by the
    store: made now, then its table definitions, migration record and version put back."""
    store = ChartStore.open(path, user="dr.test", daily_backup=False)
    store.add_patient(Patient(id="MRN-1", family_name="Ødegård", given_names="Åse"))
    store.close(backup=False)
    ref = Database(path.with_name("reference.sqlite"))
    migrations.apply(ref, stop_before="m013_checks_without_in_lists")
    old = ref.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    ref.conn.close()
    path.with_name("reference.sqlite").unlink()
    db = Database(path)
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    db.execute("PRAGMA writable_schema = ON")
    db.conn.executemany("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                        [(sql, name) for name, sql in old])
    db.execute(f"PRAGMA schema_version = {version + 1}")
    db.execute("PRAGMA writable_schema = OFF")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm013_checks_without_in_lists'")
    db.execute("PRAGMA user_version = 12")
    db.conn.commit()
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert "side IN ('left', 'right', 'midline')" in db.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'muscle_findings'").fetchone()[0]
    db.conn.close()
    return path


def _version(path) -> int:
    db = Database(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.conn.close()


def test_upgrade_upgrades_once_and_says_where_the_chart_as_it_was_is(tmp_path, capsys):
    path = _older_chart(tmp_path / "clinic chart.sqlite")
    assert main(["upgrade", "--db", str(path)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"{path}: upgraded the chart from schema 12 to schema {SCHEMA_VERSION}; "
                          "a Motorchart older than this one can no longer open it (the chart as it was: ")
    backups = list((tmp_path / "clinic chart-backups").glob("*-before-upgrade.sqlite.gz"))
    assert len(backups) == 1 and str(backups[0].name) in out
    assert _version(path) == SCHEMA_VERSION
    assert main(["upgrade", "--db", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: already at schema {SCHEMA_VERSION}, this Motorchart's; nothing to upgrade"
    assert main(["check", "--db", str(path)]) == 0


def test_a_reading_command_names_the_upgrade_and_changes_nothing(tmp_path, capsys):
    path = _older_chart(tmp_path / "clinic chart.sqlite")
    before = path.read_bytes()
    assert main(["check", "--db", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{path}: the chart was written by an older Motorchart (schema 12; this one uses schema "
                   f"{SCHEMA_VERSION}) and must be upgraded once: run `motorchart upgrade --db '{path}'` or open it "
                   "in the window (a backup is made first)"]
    assert path.read_bytes() == before and _version(path) == 12


def test_a_command_that_changes_the_chart_says_it_upgraded_it_even_if_it_then_fails(tmp_path, capsys):
    path = _older_chart(tmp_path / "chart.sqlite")
    assert main(["sign", "--db", str(path), "--patient", "MRN-1", "--visit", "2020-01-01", "--by", "Dr X"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"{path}: upgraded the chart from schema 12 to schema {SCHEMA_VERSION}")
    assert err[1] == "patient MRN-1 has no visit on 2020-01-01"
    assert _version(path) == SCHEMA_VERSION


def test_the_store_tells_what_an_open_upgraded(tmp_path):
    path = _older_chart(tmp_path / "chart.sqlite")
    with pytest.raises(Exception, match="motorchart upgrade --db"):
        ChartStore.open(path, readonly=True)
    store = ChartStore.open(path, user="dr.test", daily_backup=False)
    try:
        up = store.upgrade
        assert (up.old, up.new) == (12, SCHEMA_VERSION) and up.backup.is_file()
    finally:
        store.close(backup=False)
    store = ChartStore.open(path, user="dr.test", daily_backup=False)
    try:
        assert store.upgrade is None
    finally:
        store.close(backup=False)


def test_a_backup_from_before_the_upgrade_is_not_sent_to_the_upgrade_command(tmp_path, capsys):
    """The before-upgrade backup is a compressed file of the old schema: reading it here cannot
    work, and `upgrade` refuses a backup; the message says what can be done with it instead."""
    path = _older_chart(tmp_path / "chart.sqlite")
    assert main(["upgrade", "--db", str(path)]) == 0
    backup = next((tmp_path / "chart-backups").glob("*-before-upgrade.sqlite.gz"))
    capsys.readouterr()
    assert main(["audit", "--db", str(backup), "--patient", "MRN-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"{backup}: a backup made by an older Motorchart (schema 12; this one reads schema {SCHEMA_VERSION}): "
        "the Motorchart that made it can read it, or restore it (motorchart restore ")
    assert "motorchart upgrade" not in err[0]
