"""m014: the audit row of a stored visit is written from the visits waiting for it, each looked
up by id, not by scanning every visit of the chart (issue 20: with m012's plain join, SQLite's
planner read the whole ``visits`` table on every save, signature and imported file)."""

from __future__ import annotations

from sqlite_utils import Database

from desktop.store.migrations import PENDING_VIEW, migrate, migrations

FLUSH_SELECT = (f"SELECT time_utc, user, table_name, action, patient_id, row_key, old_json, new_json "
                f"FROM {PENDING_VIEW} ORDER BY visit_id")
"""What :func:`desktop.store.migrations.flush_pending_audit` inserts into the audit."""


def _plan(db: Database) -> list[str]:
    return [row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + FLUSH_SELECT).fetchall()]


def _chart_before_m014(path) -> Database:
    """A chart as m013 left it: m012 made the view with a plain join (today m012 calls the
    view's maker as m014 left it, so the old text is put back)."""
    db = Database(path)
    migrations.apply(db, stop_before="m014_pending_audit_reads_pending_visits_first")
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", [PENDING_VIEW]).fetchone()[0]
    assert sql.count("CROSS JOIN") == 1
    db.execute(f"DROP VIEW {PENDING_VIEW}")
    db.execute(sql.replace("CROSS JOIN", "JOIN"))
    db.conn.commit()
    return db


def _with_visits(db: Database, n: int) -> None:
    """``n`` stored visits with findings (their audit rows written, as a write leaves them),
    then the last three pending again, as a new write would leave them before its flush."""
    db.execute("INSERT INTO patients (id, family_name, given_names) VALUES ('MRN-1', 'Ødegård', 'Åse')")
    for i in range(1, n + 1):
        db.execute("INSERT INTO visits (id, patient_id, date, notes) VALUES (?, 'MRN-1', ?, ?)",
                   [i, f"{2000 + i // 12:04d}-{1 + i % 12:02d}-01", f"visite n° {i}"])
        db.execute("INSERT INTO muscle_findings (visit_id, muscle, side, pos, mrc, wasting) "
                   "VALUES (?, 'deltoid', 'left', 0, '4', 'mild'), (?, 'tongue', 'midline', 1, NULL, 'severe')",
                   [i, i])
        db.execute("INSERT INTO reflex_findings (visit_id, reflex, side, pos, grade) VALUES (?, 'biceps', 'right', 0, 3)",
                   [i])
    db.execute("DELETE FROM audit_pending")
    db.execute("INSERT INTO audit_pending (visit_id) SELECT id FROM visits WHERE id > ?", [n - 3])


def test_the_flush_reads_the_pending_visits_first_and_looks_each_up_by_id(tmp_path):
    old = _chart_before_m014(tmp_path / "old.sqlite")
    _with_visits(old, 40)
    # (what m014 mends: the plain join scanned every visit, in id order, to spare the sort)
    assert _plan(old)[0] == "SCAN v"
    db = Database(tmp_path / "new.sqlite")
    migrate(db)
    _with_visits(db, 40)
    db.execute("ANALYZE")  # (statistics do not change the order either)
    plan = _plan(db)
    assert plan[0] == "SCAN p", plan
    assert plan[1].startswith("SEARCH v USING INTEGER PRIMARY KEY"), plan
    assert not any(step.startswith("SCAN v") for step in plan), plan


def test_an_upgraded_chart_writes_the_same_audit_rows_as_before(tmp_path):
    db = _chart_before_m014(tmp_path / "chart.sqlite")
    _with_visits(db, 30)
    before = db.execute(FLUSH_SELECT).fetchall()
    db.conn.commit()
    migrate(db)
    after = db.execute(FLUSH_SELECT).fetchall()
    assert len(after) == 3
    assert [r[1:] for r in after] == [r[1:] for r in before]  # (all but the time written)
    assert '"muscle_findings"' in after[0][-1] and "Ødegård" not in after[0][-1]
    view = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", [PENDING_VIEW]).fetchone()[0]
    new = Database(tmp_path / "new.sqlite")
    migrate(new)
    assert new.execute("SELECT sql FROM sqlite_master WHERE name = ?", [PENDING_VIEW]).fetchone()[0] == view
    assert "CROSS JOIN visits v" in view
