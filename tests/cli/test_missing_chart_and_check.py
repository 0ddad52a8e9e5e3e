"""Issue 17 on the command line: a missing or emptied chart is refused with the exact restore
command (which works as printed), `--new` starts a new one; `check` runs the full integrity
and foreign-key checks, verifies the safety triggers and sums up the backups."""

from __future__ import annotations

import re
import shlex
import sqlite3

import pytest

from desktop.cli import main
from desktop.store import ChartStore, list_backups
from desktop.store.paths import backups_dir


@pytest.fixture
def demo_chart(tmp_path, capsys):
    path = tmp_path / "clinic.sqlite"
    assert main(["demo", "--db", str(path), "--patients", "4"]) == 0
    assert main(["export", "--db", str(path), "--patient", "DEMO-000001", "-o", str(tmp_path / "one.json")]) == 0
    capsys.readouterr()
    return path


def test_an_emptied_chart_is_refused_and_the_printed_restore_command_brings_it_back(demo_chart, capsys):
    before = set(list_backups(demo_chart))
    demo_chart.write_bytes(b"")
    one = str(demo_chart.parent / "one.json")
    for _ in range(3):
        assert main(["import", "--db", str(demo_chart), one]) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and "the chart file is empty (0 bytes), but backups of it exist" in err[0]
    assert set(list_backups(demo_chart)) == before and demo_chart.stat().st_size == 0
    command = re.search(r"restore it with: (motorchart restore .*? --yes)", err[0]).group(1)
    argv = shlex.split(command)
    assert argv[:2] == ["motorchart", "restore"]
    assert main(argv[1:]) == 0  # exactly as printed
    capsys.readouterr()
    assert main(["check", "--db", str(demo_chart)]) == 0
    assert "patients: 4" in capsys.readouterr().out.splitlines()


def test_new_starts_a_new_chart_where_backups_of_one_exist(demo_chart, capsys):
    demo_chart.unlink()
    one = str(demo_chart.parent / "one.json")
    assert main(["import", "--db", str(demo_chart), one]) == 2
    assert "the chart file is missing" in capsys.readouterr().err
    assert main(["import", "--db", str(demo_chart), "--new", one]) == 0
    with ChartStore.open(demo_chart, readonly=True) as store:
        assert store.count_patients() == 1


def test_commands_that_need_the_chart_name_the_backup_when_it_is_missing(demo_chart, capsys):
    demo_chart.unlink()
    for argv in (["check"], ["export", "--patient", "DEMO-000001"], ["sign", "--patient", "X", "--visit",
                                                                      "2025-01-01", "--by", "me"]):
        assert main([*argv, "--db", str(demo_chart)]) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and "the newest good backup is" in err[0], argv
    assert not demo_chart.exists()


def test_check_runs_the_full_checks_and_sums_up_the_backups(demo_chart, capsys):
    assert main(["backup", "--db", str(demo_chart)]) == 0
    backup = capsys.readouterr().out.strip()
    assert main(["restore", backup, "--yes", "--db", str(demo_chart)]) == 0
    assert main(["restore", backup, "--yes", "--db", str(demo_chart)]) == 0
    capsys.readouterr()
    assert main(["check", "--db", str(demo_chart)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "integrity: ok" in out and "foreign keys: ok" in out
    assert any(re.fullmatch(r"triggers: ok \(\d+\)", line) for line in out)
    backups_line = next(line for line in out if line.startswith("backups: "))
    assert re.match(r"backups: 2 \(1 automatic, 1 manual\), [\d.]+ KB; newest .*\(ok, compressed, 4 patient\(s\)\)",
                    backups_line), backups_line
    restores = next(line for line in out if line.startswith("before-restore copies: "))
    assert re.match(r"before-restore copies: 2, [\d.]+ KB in total \(kept", restores), restores


def test_check_reads_every_backup_format_old_and_new(demo_chart, capsys):
    folder = backups_dir(demo_chart)
    old = folder / "clinic-20250101T090000000000Z.sqlite"  # uncompressed, as earlier versions wrote
    src, dest = sqlite3.connect(demo_chart), sqlite3.connect(old)
    src.backup(dest)
    dest.execute("PRAGMA journal_mode = DELETE")
    src.close()
    dest.close()
    assert main(["check", "--db", str(demo_chart), "--backups"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"  {old}: ok, uncompressed, 4 patient(s)" in out
    assert sum(": ok, compressed, 4 patient(s)" in line for line in out) == 1
    assert main(["restore", str(old), "--yes", "--db", str(demo_chart)]) == 0
    assert main(["check", "--db", str(old)]) == 0  # a backup can be checked as a chart, too


def test_check_fails_naming_a_missing_trigger_and_an_orphaned_visit(demo_chart, capsys):
    conn = sqlite3.connect(demo_chart)
    conn.execute("DROP TRIGGER patients_no_delete_with_visits")
    conn.execute("DELETE FROM patients WHERE id = 'DEMO-000002'")
    conn.commit()
    conn.close()
    assert main(["check", "--db", str(demo_chart)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "integrity: ok" in out
    assert "foreign keys: 1 problem(s)" in out
    assert any(line.startswith("  ") and "visits row(s) refer to missing patients" in line for line in out)
    assert any(line.startswith("triggers: 1 of ") and "missing" in line for line in out)
    assert "  missing trigger patients_no_delete_with_visits" in out
    assert main(["visit", "new", "--db", str(demo_chart), "--patient", "DEMO-000001", "--date", "2026-01-05"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "safety triggers are missing (patients_no_delete_with_visits)" in err[0]


@pytest.mark.parametrize("content, says", [
    (b"hello\n", "not a Motorchart chart or backup"),  # no encrypted file has that size
    (bytes(range(256)) * 32, "no key this chart holds opens it"),  # 8 KiB: an encrypted file's shape
])
def test_restoring_a_file_that_is_not_a_backup_says_so_and_changes_nothing(demo_chart, tmp_path, capsys,
                                                                           content, says):
    """A new user's report: ``restore`` of a text file said it was encrypted with an older key,
    on a chart that was never encrypted."""
    stranger = tmp_path / "g.sqlite"
    stranger.write_bytes(content)
    chart_before = demo_chart.read_bytes()
    backups_before = set(list_backups(demo_chart))
    assert main(["restore", str(stranger), "--yes", "--db", str(demo_chart)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and says in err[0] and err[0].endswith("nothing was restored")
    assert demo_chart.read_bytes() == chart_before and set(list_backups(demo_chart)) == backups_before
