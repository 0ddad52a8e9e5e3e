"""Issue 17, point 3, on a real read-only file system: the command line in a private mount
namespace where the chart's folder is a read-only bind mount (binding root too, unlike chmod).

`check`, `export` and `report` work and say the chart is read-only; every write is refused in
one line, exit status 2, never a traceback and never "damaged"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli import main

REPO = Path(__file__).resolve().parents[2]
_MOUNT = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'


def _read_only_prefix(folder: Path) -> list[str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("no unshare(1) here to make a read-only file system")
    base = [unshare, "--mount"] if os.geteuid() == 0 else [unshare, "--user", "--map-root-user", "--mount"]
    prefix = [*base, "sh", "-c", _MOUNT, str(folder)]
    probe = subprocess.run([*prefix, "sh", "-c", 'touch "$0/probe"', str(folder)], capture_output=True, text=True)
    if probe.returncode == 0 or "Read-only file system" not in probe.stderr:
        pytest.skip(f"cannot make a read-only bind mount here ({probe.stderr.strip() or 'it stayed writable'})")
    return prefix


def motorchart_read_only(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([*_read_only_prefix(folder), sys.executable, "-m", "desktop", *args],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)


@pytest.fixture
def chart(tmp_path, capsys):
    folder = tmp_path / "share"
    folder.mkdir()
    path = folder / "clinic.sqlite"
    assert main(["demo", "--db", str(path), "--patients", "3"]) == 0
    capsys.readouterr()
    return path


def test_check_export_and_report_work_on_a_read_only_file_system(chart, tmp_path):
    r = motorchart_read_only(chart.parent, "check", "--db", str(chart))
    assert r.returncode == 0, r.stderr
    assert "access: read-only (it is on a read-only file system)" in r.stdout
    assert "integrity: ok" in r.stdout and "triggers: ok" in r.stdout
    assert r.stderr == ""

    out = tmp_path / "DEMO-000001.json"
    r = motorchart_read_only(chart.parent, "export", "--db", str(chart), "--patient", "DEMO-000001", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["patient"]["id"] == "DEMO-000001"

    pdf = tmp_path / "progression.pdf"
    r = motorchart_read_only(chart.parent, "report", "--db", str(chart), "--patient", "DEMO-000001",
                             "--progression", "-o", str(pdf))
    assert r.returncode == 0, r.stderr
    assert pdf.read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize("args", [
    ("options", "--set", "probable_reading=colocated"),
    ("visit", "new", "--patient", "DEMO-000001", "--date", "2026-01-05"),
    ("patient", "edit", "--patient", "DEMO-000001", "--set", "niv_note=refused"),
    ("backup",),
])
def test_every_write_to_a_read_only_file_system_is_refused_in_one_line(chart, args):
    before = chart.read_bytes()
    r = motorchart_read_only(chart.parent, *args, "--db", str(chart))
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "read-only" in lines[0], r.stderr
    assert "Traceback" not in r.stderr and "damaged" not in r.stderr
    assert chart.read_bytes() == before


def test_restore_onto_a_read_only_file_system_is_refused_in_one_line(chart):
    from desktop.store import list_backups

    backup = list_backups(chart)[0]
    r = motorchart_read_only(chart.parent, "restore", str(backup), "--yes", "--db", str(chart))
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        f"{chart}: the chart is read-only (it is on a read-only file system); nothing was restored"]
