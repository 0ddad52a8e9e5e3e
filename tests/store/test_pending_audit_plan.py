"""The audit row of a stored visit is written from the visits waiting for it, each looked up by
id, not by scanning every visit of the chart (issue 20: selected from the view alone, SQLite's
planner read the whole ``visits`` table on every new visit, amendment and imported file)."""

from __future__ import annotations

from sqlite_utils import Database

from desktop.store import ChartStore
from desktop.store.migrations import FLUSH_AUDIT, PENDING_VIEW, flush_pending_audit, migrate

AUDIT_COLUMNS = "time_utc, user, table_name, action, patient_id, row_key, old_json, new_json"
FLUSH_SELECT = FLUSH_AUDIT.split(") ", 1)[1] + " ORDER BY p.visit_id"
"""The ``SELECT`` :func:`flush_pending_audit` inserts into the audit."""
VIEW_ALONE = f"SELECT {AUDIT_COLUMNS} FROM {PENDING_VIEW} ORDER BY visit_id"
"""What it selected before: the view alone."""


def _plan(db: Database, sql: str) -> list[str]:
    return [row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()]


def _chart_with_visits(path, n: int) -> Database:
    """A chart of ``n`` stored visits with findings (their audit rows written, as a write leaves
    them), then the last three pending again, as a new write leaves them before its flush."""
    db = Database(path)
    migrate(db)
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
    return db


def test_the_flush_reads_the_pending_visits_first_and_looks_each_visit_up_by_id(tmp_path):
    db = _chart_with_visits(tmp_path / "chart.sqlite", 40)
    # (what this mends: the view alone is planned as a scan of every visit, in id order)
    assert _plan(db, VIEW_ALONE)[0] == "SCAN v"
    for analysed in (False, True):  # (Motorchart never runs ANALYZE; statistics change nothing)
        if analysed:
            db.execute("ANALYZE")
        plan = _plan(db, FLUSH_SELECT)
        assert plan[0] == "SCAN p", plan
        assert "SCAN v" not in plan, plan
        assert "SEARCH v USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan


def test_the_flush_writes_the_rows_the_view_gives_in_visit_order_and_skips_those_kept(tmp_path):
    db = _chart_with_visits(tmp_path / "chart.sqlite", 30)
    expected = db.execute(VIEW_ALONE).fetchall()
    assert len(expected) == 3
    last = db.execute("SELECT max(id) FROM audit").fetchone()[0]
    assert flush_pending_audit(db.conn, keep=(29,)) == 2
    written = db.execute(f"SELECT {AUDIT_COLUMNS} FROM audit WHERE id > ? ORDER BY id", [last]).fetchall()
    assert [r[1:] for r in written] == [r[1:] for r in (expected[0], expected[2])]  # (all but the time)
    assert [r[5] for r in written] == [r[5] for r in (expected[0], expected[2])]
    assert '"muscle_findings"' in written[0][-1]
    assert db.execute("SELECT visit_id FROM audit_pending").fetchall() == [(29,)]


def test_a_new_visit_through_the_store_gets_its_one_audit_row(tmp_path, case_factory):
    """The store's own writes go through the flush: one audit row for the visit with its
    findings nested, nothing left pending."""
    import datetime as dt

    with ChartStore.open(tmp_path / "chart.sqlite", user="dr.test", daily_backup=False) as store:
        store.import_case(case_factory("MRN-Ø1", dates=("2026-01-05",)), today=dt.date(2026, 12, 3))
        store.new_visit("MRN-Ø1", dt.date(2026, 3, 2), copy_forward=True)
        rows = store.db.execute("SELECT row_key, new_json FROM audit WHERE table_name = 'visits' "
                                "AND action = 'insert' ORDER BY id").fetchall()
        assert [key for key, _ in rows] == ["2026-01-05 v1", "2026-03-02 v1"]
        assert all('"muscle_findings"' in new for _, new in rows)
        assert store.db.execute("SELECT count(*) FROM audit_pending").fetchone()[0] == 0
