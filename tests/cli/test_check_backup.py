"""`motorchart check` verifies signatures; `motorchart backup` works while the chart is open."""

from __future__ import annotations

import sqlite3

import pytest

from desktop.cli import main
from desktop.store import ChartStore, list_backups
from desktop.store.backups import expanded
from tests.store.conftest import make_case


@pytest.fixture
def demo_chart(tmp_path, capsys):
    path = tmp_path / "clinic.sqlite"
    assert main(["demo", "--db", str(path), "--patients", "3"]) == 0
    capsys.readouterr()
    return path


def _signed_count(path) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("SELECT count(*) FROM signatures").fetchone()[0]
    finally:
        conn.close()


# ------------------------------------------------------------------------------ check

def test_check_reports_signatures_ok(demo_chart, capsys):
    n = _signed_count(demo_chart)
    assert n > 0
    assert main(["check", "--db", str(demo_chart)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "integrity: ok" in out
    assert f"signatures: ok ({n} signed versions)" in out


def test_check_on_a_chart_without_signed_visits(tmp_path, capsys):
    path = tmp_path / "chart.sqlite"
    store = ChartStore.open(path, user="dr.test")
    store.import_case(make_case())
    store.close(backup=False)
    assert main(["check", "--db", str(path)]) == 0
    assert "signatures: ok (0 signed versions)" in capsys.readouterr().out.splitlines()


def test_check_exits_1_naming_a_signed_visit_changed_outside_the_app(demo_chart, capsys):
    conn = sqlite3.connect(str(demo_chart))
    try:
        visit_id, pid, date, muscle, side, mrc = conn.execute(
            "SELECT v.id, v.patient_id, v.date, m.muscle, m.side, m.mrc FROM visits v "
            "JOIN muscle_findings m ON m.visit_id = v.id "
            "WHERE v.status = 'signed' AND m.mrc IS NOT NULL ORDER BY v.patient_id, v.date LIMIT 1").fetchone()
        triggers = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'muscle_findings' "
            "AND name LIKE '%signed_no_update'")]
        assert "muscle_findings_signed_no_update" in triggers
        for t in triggers:
            conn.execute(f"DROP TRIGGER {t}")
        conn.execute("UPDATE muscle_findings SET mrc = ? WHERE visit_id = ? AND muscle = ? AND side = ?",
                     ["0" if mrc != "0" else "5", visit_id, muscle, side])
        conn.commit()
    finally:
        conn.close()

    assert main(["check", "--db", str(demo_chart)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "integrity: ok" in out
    assert any(line.startswith("signatures: 1 problem(s)") for line in out)
    bad = [line for line in out if pid in line and date in line]
    assert len(bad) == 1
    assert "no longer matches its signature" in bad[0]


# ------------------------------------------------------------------------------ backup

def test_backup_works_while_the_chart_is_open_for_writing(tmp_path, capsys):
    path = tmp_path / "clinic.sqlite"
    writer = ChartStore.open(path, user="dr.test")
    try:
        writer.import_case(make_case("MRN-0001"))
        before = set(list_backups(path))
        assert main(["backup", "--db", str(path)]) == 0
        cap = capsys.readouterr()
        assert cap.err == ""
        made = set(list_backups(path)) - before
        assert len(made) == 1
        backup = made.pop()
        assert cap.out == f"{backup}\n"
        assert backup.name.endswith("-manual.sqlite.gz")
        # the writer keeps working after the backup
        writer.import_case(make_case("MRN-0002"))
    finally:
        writer.close(backup=False)
    with expanded(backup) as plain:  # a gzip file holding the SQLite file
        conn = sqlite3.connect(str(plain))
        try:
            assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            assert [r[0] for r in conn.execute("SELECT id FROM patients")] == ["MRN-0001"]
        finally:
            conn.close()
    copy = ChartStore.open(backup, readonly=True)
    try:
        assert copy.visit_dates("MRN-0001")
    finally:
        copy.close()


def test_backup_of_a_demo_chart_keeps_its_signatures(demo_chart, capsys):
    assert main(["backup", "--db", str(demo_chart)]) == 0
    backup = capsys.readouterr().out.strip()
    chart = ChartStore.open(demo_chart, readonly=True)
    copy = ChartStore.open(backup, readonly=True)
    try:
        assert copy.verify_signatures() == []
        assert copy.counts() == chart.counts()
    finally:
        copy.close()
        chart.close()


def test_backup_of_a_missing_chart_is_one_line_and_creates_nothing(tmp_path, capsys):
    path = tmp_path / "none.sqlite"
    assert main(["backup", "--db", str(path)]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err.splitlines() == [f"{path}: no chart file there"]
    assert not path.exists()
    assert list_backups(path) == []


def test_backup_refuses_a_file_that_is_not_a_chart(tmp_path, capsys):
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    assert main(["backup", "--db", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [f"{path}: this SQLite file is not a Motorchart chart"]
    assert list_backups(path) == []


def test_check_names_a_backup_cut_short_and_the_next_change_removes_it(demo_chart, capsys):
    """A backup killed while it was written leaves ``<name>.partial``: not a backup, so ``check``
    does not count it, but names it (a tryout found a 17.8 MB one that ``check`` never mentioned),
    and the next change to the chart removes it."""
    from desktop.store.backups import backups_dir

    folder = backups_dir(demo_chart)
    folder.mkdir(exist_ok=True)
    partial = folder / "clinic-2026-12-02T100000Z-daily.sqlite.gz.partial"
    partial.write_bytes(b"\x1f\x8b" + bytes(4094))
    main(["check", "--db", str(demo_chart), "--backups"])
    out = capsys.readouterr().out.splitlines()
    assert "unfinished backups: 1, 4.1 KB (cut short: Motorchart was stopped while writing them; not backups, " \
           "removed at the next change to the chart)" in out
    assert f"  {partial}" in out
    store = ChartStore.open(demo_chart, user="dr.test", daily_backup=False)
    store.set_setting("tryout", 1)
    store.close(backup=False)
    assert not partial.exists()
    main(["check", "--db", str(demo_chart), "--backups"])
    assert not any(line.startswith("unfinished backups") for line in capsys.readouterr().out.splitlines())
