"""Issue 17, point 7: exports are written through one helper (desktop.outfiles.write_atomic): an
exclusive temporary file in the target's folder, renamed onto the target. A symlink planted
under the old temporary name, or anywhere beside the target, is never followed."""

from __future__ import annotations

import json
import os
import stat

import pytest

from desktop.cli import main
from desktop.outfiles import write_atomic
from desktop.store import ChartStore
from domain.case import case_to_data
from tests.store.conftest import make_case

PID = "MRN-0042"


@pytest.fixture
def chart(tmp_path):
    path = tmp_path / "chart.sqlite"
    store = ChartStore.open(path, user="dr.test")
    try:
        store.import_case(make_case(PID))
    finally:
        store.close(backup=False)
    return path


@pytest.fixture
def victim(tmp_path):
    v = tmp_path / "elsewhere" / "precious.txt"
    v.parent.mkdir()
    v.write_text("not patient data")
    return v


def _export(chart, out) -> int:
    return main(["export", "--db", str(chart), "--patient", PID, "-o", str(out)])


def test_a_symlink_planted_as_the_old_temporary_name_is_never_written_through(chart, tmp_path, victim, capsys):
    out = tmp_path / "out.json"
    (tmp_path / "out.json.tmp").symlink_to(victim)
    assert _export(chart, out) == 0
    assert victim.read_text() == "not patient data"
    assert json.loads(out.read_text(encoding="utf-8")) == case_to_data(make_case(PID))
    assert (tmp_path / "out.json.tmp").is_symlink()  # left alone, not followed, not removed


def test_a_symlink_as_the_target_is_replaced_not_followed(chart, tmp_path, victim, capsys):
    out = tmp_path / "out.json"
    out.symlink_to(victim)
    assert _export(chart, out) == 0
    assert victim.read_text() == "not patient data"
    assert not out.is_symlink() and json.loads(out.read_text(encoding="utf-8"))["patient"]["id"] == PID


def test_an_export_leaves_no_temporary_file_and_is_readable_by_its_owner_only(chart, tmp_path, capsys):
    folder = tmp_path / "exports"
    folder.mkdir()
    assert _export(chart, folder / "out.json") == 0
    assert [p.name for p in folder.iterdir()] == ["out.json"]
    if os.name == "posix":
        assert stat.S_IMODE((folder / "out.json").stat().st_mode) == 0o600


def test_an_export_into_a_missing_folder_is_one_line(chart, tmp_path, capsys):
    assert _export(chart, tmp_path / "no" / "out.json") == 2
    assert capsys.readouterr().err.splitlines() == [f"{tmp_path / 'no'}: no such folder"]


def test_write_atomic_keeps_the_permissions_of_a_file_it_replaces(tmp_path):
    target = tmp_path / "kept.json"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, "new")
    assert target.read_text() == "new"
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"the old report")

    def refuse(*_a):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        write_atomic(target, b"%PDF new")
    assert target.read_bytes() == b"the old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_every_writer_goes_through_the_one_helper():
    """No writer of a user-chosen file builds its own temporary name any more."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "desktop"
    for path in (root / "commands" / "store.py", root / "reports" / "from_chart.py", root / "schema.py"):
        text = path.read_text(encoding="utf-8")
        assert "write_atomic" in text, path
        assert ".tmp\"" not in text and ".part\"" not in text and "write_text(" not in text, path
