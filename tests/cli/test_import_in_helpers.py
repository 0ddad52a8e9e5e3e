"""Issue 20: a bulk `motorchart import` reads, checks and turns its files into rows in helper
processes, and the chart is written by the command's own process. The chart it gives, and
everything it prints, must be what the same import done all in one process gives: new patients,
a file merged into a patient the chart has, two files of one patient in one run, a signed visit
changed after signing (refused, the run goes on), and an invalid file (the run refused, nothing
written). Real charts and case files in tmp_path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import desktop.commands.import_reading as import_command
from desktop.cli import main
from desktop.store import ChartStore
from desktop.store.demo import build_demo
from domain.case import case_to_data
from tests.store.conftest import make_case
from tests.store.conftest import process_alive as _alive

PID = "MRN-0042"
FILES = 70  # (more than PARALLEL_FROM: the helpers do the reading)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> list[Path]:
    """A demo clinic exported as case files (most visits signed, with their frozen result), one
    file of a patient the target chart has, a second file of a patient met earlier in the run,
    and one signed visit edited after signing."""
    d = tmp_path_factory.mktemp("clinic")
    store = ChartStore.open(d / "source.sqlite", user="dr.source", daily_backup=False)
    try:
        build_demo(store, FILES, 7)
        files = []
        for pid in store.all_patient_ids():
            f = d / f"{pid}.json"
            f.write_text(json.dumps(case_to_data(store.export_case(pid)), ensure_ascii=False, indent=1), "utf-8")
            files.append(f)
    finally:
        store.close(backup=False)
    tampered = json.loads(files[5].read_text("utf-8"))
    signed = next(v for v in tampered["visits"] if "signature" in v)
    signed["notes"] = "edited after signing"
    files[5].write_text(json.dumps(tampered, ensure_ascii=False), "utf-8")
    known = d / "known.json"
    known.write_text(json.dumps(case_to_data(make_case(PID, dates=("2025-03-01", "2025-07-10")))), "utf-8")
    again = json.loads(files[10].read_text("utf-8"))
    again["visits"] = again["visits"][:1]  # the same first visit: "already there"
    (d / "again.json").write_text(json.dumps(again, ensure_ascii=False), "utf-8")
    return [known, *files, d / "again.json"]


def _chart(path: Path) -> Path:
    store = ChartStore.open(path, user="dr.test", daily_backup=False)
    try:
        store.import_case(make_case(PID, dates=("2025-03-01",)))
    finally:
        store.close(backup=False)
    return path


def _import(chart: Path, files, capsys, *, helpers: bool, monkeypatch):
    import desktop.store.helpers

    monkeypatch.setattr(import_command, "PARALLEL_FROM", 64 if helpers else 10**9)
    monkeypatch.setattr(desktop.store.helpers, "cores", lambda: 2)  # (helpers even on a one-core runner)
    rc = main(["import", "--db", str(chart), *map(str, files)])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _content(chart: Path) -> dict:
    """Everything the import wrote but the times and the chain's links: every patient exported,
    the signatures' rows, the audit's rows."""
    store = ChartStore.open(chart, readonly=True, check=False)
    try:
        cases = {pid: case_to_data(store.export_case(pid)) for pid in store.all_patient_ids()}
        counts = store.counts()
    finally:
        store.close(backup=False)
    with sqlite3.connect(chart) as db:
        sigs = db.execute("SELECT visit_id, signed_by, signed_at_utc, version, options_json, snapshot, "
                          "context_json, sha256 FROM signatures ORDER BY visit_id").fetchall()
        audit = db.execute("SELECT table_name, action, patient_id, row_key, old_json, new_json "
                           "FROM audit ORDER BY id").fetchall()
    return {"cases": cases, "counts": counts, "signatures": sigs, "audit": audit}


def _read(paths, *, workers: int, held_bytes: int | None = None):
    """``read_files`` as the import runs it: (problems, prepared files, held, whether helpers
    read them, a comparable form of each file's rows)."""
    import datetime as dt

    with import_command.import_helpers(len(paths), workers=workers) as helpers:
        problems, stream = import_command.read_files(paths, today=dt.date.today(), helpers=helpers,
                                                     held_bytes=held_bytes)
        files = list(stream)
    rows = [(p.path, p.problems, p.prepared if isinstance(p.prepared, str)  # (the tampered one: its refusal)
             else (p.prepared.patient, p.prepared.dates, p.prepared.snapshots, vars(p.prepared.rows.rows),
                   p.prepared.rows.signatures, p.prepared.rows.signed)) for p in files]
    return problems, files, stream.held, stream.in_helpers, rows


def test_helpers_send_back_the_rows_this_process_makes(clinic):
    paths = [str(f) for f in clinic]
    problems, files, held, in_helpers, rows = _read(paths, workers=2)
    assert in_helpers and problems == [] and held == len(paths)
    assert [p.path for p in files] == paths and all(p.case is None for p in files)
    assert rows == _read(paths, workers=1)[4]


def test_an_import_in_helpers_writes_and_says_what_one_process_does(clinic, tmp_path, capsys, monkeypatch):
    parallel = _chart(tmp_path / "parallel.sqlite")
    serial = _chart(tmp_path / "serial.sqlite")
    got = _import(parallel, clinic, capsys, helpers=True, monkeypatch=monkeypatch)
    expected = _import(serial, clinic, capsys, helpers=False, monkeypatch=monkeypatch)
    assert got == expected
    rc, out, err = got
    assert rc == 2
    assert len(err.splitlines()) == 1
    assert err.startswith(f"{clinic[6]}: refused: patient {clinic[6].stem}: visit ")
    assert "does not match its signature" in err and "its content was changed after signing" in err
    lines = out.splitlines()
    assert lines[0] == f"{clinic[0]}: merged into {PID}: 1 visit(s) added, 1 already there"
    assert lines[-2].startswith(f"{clinic[-1]}: merged into {clinic[11].stem}: 0 visit(s) added, 1 already there")
    assert lines[-1].startswith(f"{len(clinic) - 1} imported, 1 refused (")
    added = sum(int(line.split(": ")[-1].split(" visit(s) added")[0]) for line in lines[:-1])
    already = sum(int(line.split(", ")[-1].split(" already there")[0]) for line in lines[:-1] if "already" in line)
    assert lines[-1].endswith(f"({added} visit(s) added, {already} already there)") and added > 100
    assert _content(parallel) == _content(serial)
    assert _content(parallel)["counts"]["patients"] == FILES  # PID, and the clinic but the refused one


@pytest.mark.parametrize("held", [0, 60_000])
def test_an_import_over_its_memory_bound_reads_the_rest_again_and_writes_the_same(clinic, tmp_path, capsys,
                                                                                  monkeypatch, held):
    """The first pass holds the rows of the first files only up to HELD_BYTES; the others are
    only checked then, and read again for their rows while the chart is written. Nothing held
    (0) or some files held (60 kB): the same chart and the same lines as all held."""
    bounded = _chart(tmp_path / "bounded.sqlite")
    whole = _chart(tmp_path / "whole.sqlite")
    monkeypatch.setattr(import_command, "HELD_BYTES", held)
    got = _import(bounded, clinic, capsys, helpers=True, monkeypatch=monkeypatch)
    monkeypatch.setattr(import_command, "HELD_BYTES", 2**40)
    expected = _import(whole, clinic, capsys, helpers=True, monkeypatch=monkeypatch)
    assert got == expected and got[0] == 2
    assert _content(bounded) == _content(whole)


@pytest.mark.parametrize("workers", [2, 1])
def test_the_first_pass_holds_a_prefix_of_the_rows_up_to_its_bound(clinic, workers):
    """What the first pass holds, with helpers or without: the rows of the first files until
    ``held_bytes`` is reached; the rest are read again, and give the same rows."""
    paths = [str(f) for f in clinic]
    whole = _read(paths, workers=workers, held_bytes=2**40)
    assert whole[2] == len(paths) and whole[3] == (workers > 1)
    for bound in (30_000, 0):
        problems, _files, held, _, rows = _read(paths, workers=workers, held_bytes=bound)
        assert problems == [] and rows == whole[4]  # (held or read again: the same rows)
        if bound == 0:
            assert held == 0
        else:  # (a prefix, up to the first file that reached the bound)
            assert 0 < held < len(paths)


def _killing_read(path, today, format):
    """``_read_for_import`` that kills the helper reading the 30th file (as the kernel's
    out-of-memory killer would)."""
    import os

    if os.environ.get("MOTORCHART_TEST_WRITER") != str(os.getpid()) and path.endswith("DEMO-000030.json"):
        os._exit(9)
    return _READ(path, today, format)


_READ = import_command._read_for_import


@pytest.mark.parametrize("held_bytes", [2**40, 0])
def test_a_helper_killed_while_reading_leaves_this_process_to_read_the_rest(clinic, monkeypatch, held_bytes):
    """A helper killed mid-import (out of memory?): this process reads the files the helpers
    had not given back, on the same terms (rows held up to the bound), and the rows are the
    same."""
    import os

    paths = [str(f) for f in clinic]
    expected = _read(paths, workers=1)[4]
    monkeypatch.setenv("MOTORCHART_TEST_WRITER", str(os.getpid()))
    monkeypatch.setattr(import_command, "_read_for_import", _killing_read)
    problems, _files, held, in_helpers, rows = _read(paths, workers=2, held_bytes=held_bytes)
    assert problems == [] and rows == expected
    assert held == (len(paths) if held_bytes else 0)


def test_a_file_changed_after_the_check_and_read_again_is_refused_alone(clinic, tmp_path, capsys, monkeypatch):
    """Past the memory bound a file is read twice (checked, then read for its rows): if it no
    longer reads as a valid case the second time, that file is refused and the run goes on."""
    chart = _chart(tmp_path / "chart.sqlite")
    marker = tmp_path / "read-once"
    read = import_command._read_for_import
    victim = str(clinic[30])

    def changed_after_its_check(path, today, format):  # (in the helpers: a file says what was read)
        from desktop.cli import UserError

        if path == victim:
            if marker.exists():
                raise UserError(f"{path}: not valid JSON: Expecting value (line 1, column 1)")
            marker.write_text("checked")
        return read(path, today, format)

    monkeypatch.setattr(import_command, "_read_for_import", changed_after_its_check)
    monkeypatch.setattr(import_command, "HELD_BYTES", 0)
    rc, out, err = _import(chart, clinic, capsys, helpers=True, monkeypatch=monkeypatch)
    assert rc == 2 and "Traceback" not in err
    assert f"{victim}: refused: {victim}: not valid JSON: Expecting value (line 1, column 1)" in err.splitlines()
    assert out.splitlines()[-1].startswith(f"{len(clinic) - 2} imported, 2 refused (")  # (and the tampered one)


def test_an_invalid_file_among_many_refuses_the_run_and_nothing_is_written(clinic, tmp_path, capsys, monkeypatch):
    chart = _chart(tmp_path / "chart.sqlite")
    before = _content(chart)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "motorchart-case/1", "patient": {"id": "MRN-9", "id": "MRN-10"}, "visits": []}',
                   "utf-8")
    rc, out, err = _import(chart, [*clinic[:40], bad, *clinic[40:]], capsys, helpers=True, monkeypatch=monkeypatch)
    assert rc == 2 and out == ""
    assert err.splitlines() == [f'{bad}: the key "id" is written twice in one object', "nothing was imported"]
    assert _content(chart) == before


def test_a_file_changed_between_its_check_and_its_merge_is_refused_alone(clinic, tmp_path, capsys, monkeypatch):
    """A file whose patient the chart has is read again by the writer; if it no longer reads as a
    valid case then (it was changed meanwhile), that file is refused and the run goes on."""
    import os

    from desktop.cli import UserError

    chart = _chart(tmp_path / "chart.sqlite")
    writer, read = os.getpid(), import_command._read_for_import

    def changed_meanwhile(path, today, format):
        if os.getpid() == writer and path == str(clinic[0]):
            raise UserError(f"{path}: not valid JSON: Expecting value (line 1, column 1)")
        return read(path, today, format)

    monkeypatch.setattr(import_command, "_read_for_import", changed_meanwhile)
    rc, out, err = _import(chart, clinic, capsys, helpers=True, monkeypatch=monkeypatch)
    assert rc == 2
    assert f"{clinic[0]}: refused: {clinic[0]}: not valid JSON: Expecting value (line 1, column 1)" in err.splitlines()
    assert out.splitlines()[-1].startswith(f"{len(clinic) - 2} imported, 2 refused (")
    assert "Traceback" not in err


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process tree from /proc (Linux)")
@pytest.mark.parametrize("stop", ["SIGKILL", "SIGINT"])
def test_an_import_stopped_while_its_helpers_read_leaves_no_helper_and_no_chart(clinic, tmp_path, stop):
    """Killed (SIGKILL) or interrupted (Ctrl+C) while the helpers read its files, the command
    takes its helpers with it and has written nothing."""
    import signal
    import subprocess
    import sys
    import time

    chart = tmp_path / "chart.sqlite"
    files = [str(f) for f in clinic] * 40  # (long enough to be stopped while reading)
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from desktop.cli import main; sys.exit(main(sys.argv[1:]))",
         "import", "--db", str(chart), *files],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[2],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 30
        while len(helpers := _children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(helpers) >= 2, "the helpers did not start"
        proc.send_signal(getattr(signal, stop))
        _out, err = proc.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while any(map(_alive, helpers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_alive, helpers))
        assert not chart.exists()
        if stop == "SIGINT":
            assert proc.returncode == 130 and b"Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process tree from /proc (Linux)")
@pytest.mark.parametrize("held_bytes", [None, 0])
def test_ctrl_c_while_an_import_writes_finishes_the_file_and_says_what_was_not_imported(clinic, tmp_path, held_bytes):
    """Ctrl+C once the files are checked and being written: the file being written is finished
    and reported, nothing after it is written, and the summary says how many were not imported
    (exit status 130, no traceback). Every patient reported is in the chart, and no other. With
    the rows held (None: the default bound) or read again by the helpers meanwhile (0)."""
    import os
    import signal
    import subprocess
    import sys

    chart = tmp_path / "chart.sqlite"
    files = [str(f) for f in clinic] * 20  # (long enough to be stopped while writing)
    bound = "" if held_bytes is None else f"import desktop.commands.import_reading as s; s.HELD_BYTES = {held_bytes}; "
    proc = subprocess.Popen(
        [sys.executable, "-c", bound + "import sys; from desktop.cli import main; sys.exit(main(sys.argv[1:]))",
         "import", "--db", str(chart), *files],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
        env=dict(os.environ, PYTHONUNBUFFERED="1"), preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        reported = [proc.stdout.readline() for _ in range(5)]  # (five files written and reported)
        assert all(": new patient " in line or ": merged into " in line for line in reported), reported
        proc.send_signal(signal.SIGINT)
        out = proc.stdout.read()  # (not communicate(): it would skip the lines readline() buffered)
        err = proc.stderr.read()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = reported + out.splitlines(keepends=True)
    summary = lines[-1].strip()
    assert proc.returncode == 130 and "Traceback" not in err
    assert summary.endswith("— interrupted (Ctrl+C)")
    imported, refused = int(summary.split(" imported")[0]), int(summary.split(", ")[1].split(" refused")[0])
    not_tried = int(summary.split(", ")[2].split(" not imported")[0])
    assert imported == len(lines) - 1 and imported + refused + not_tried == len(files) and not_tried > 0, summary
    new = {line.split(": new patient ")[1].split(":")[0] for line in lines[:-1] if ": new patient " in line}
    with sqlite3.connect(chart) as conn:
        assert {pid for (pid,) in conn.execute("SELECT id FROM patients")} == new


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="a real fsync spied on (Linux)")
def test_each_files_line_is_printed_only_once_its_commit_is_safe_on_disk(clinic, tmp_path, capsys, monkeypatch):
    """The files' commits are made safe on disk a few at a time (ChartFile.synced_together):
    each line is printed after the fsync that covers its file, never before, in the files'
    order, and the patients it names are in the chart by then, for any reader."""
    import os

    import desktop.commands.store as store_command

    chart = _chart(tmp_path / "chart.sqlite")
    events: list = []
    real_fsync, real_print = os.fsync, store_command._HeldLines.print

    def fsync(fd):
        if os.readlink(f"/proc/self/fd/{fd}") == os.path.realpath(chart) + "-wal":
            events.append("sync")
        return real_fsync(fd)

    def print_held(self):
        from desktop.store.driver import sqlite3 as driver  # (the store's SQLite: two copies of it in one
        # process would not see each other's locks)

        lines = list(self._lines)
        other = driver.connect(chart)
        try:
            ids = {pid for (pid,) in other.execute("SELECT id FROM patients")}
        finally:
            other.close()
        for line, error in lines:
            if not error:
                pid = line.split(": new patient " if ": new patient " in line else ": merged into ")[1].split(":")[0]
                assert pid in ids, line
        events.append(len(lines))
        real_print(self)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(store_command._HeldLines, "print", print_held)
    monkeypatch.setattr(store_command._HeldLines, "FILES", 8)
    monkeypatch.setattr(store_command._HeldLines, "SECONDS", 3600)
    rc, out, err = _import(chart, clinic, capsys, helpers=True, monkeypatch=monkeypatch)
    assert rc == 2 and len(err.splitlines()) == 1  # (the signed visit edited after signing)
    assert len(clinic) % 8 == 0  # (the last sync, on the way out, has nothing left to print)
    assert events == ["sync", 8] * (len(clinic) // 8) + ["sync", 0], events
    assert [line.split(": ")[0] for line in out.splitlines()[:-1]] == [str(f) for f in clinic if f != clinic[6]]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="a real fsync made to fail (Linux)")
def test_a_failed_sync_says_which_files_are_written_but_not_confirmed_on_disk(clinic, tmp_path, capsys, monkeypatch):
    """An fsync of the log that fails (a failing disk): the files written since the last sync
    are named on stderr as written but not confirmed safe on disk, none of them on stdout as
    imported, then the error in one line (exit status 2); nothing after is written."""
    import os

    import desktop.commands.store as store_command

    chart = _chart(tmp_path / "chart.sqlite")
    real_fsync = os.fsync
    wal = os.path.realpath(chart) + "-wal"
    syncs: list[int] = []

    def fsync(fd):
        if os.readlink(f"/proc/self/fd/{fd}") == wal:
            syncs.append(fd)
            if len(syncs) == 2:
                raise OSError(5, "Input/output error")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(store_command._HeldLines, "FILES", 8)
    monkeypatch.setattr(store_command._HeldLines, "SECONDS", 3600)
    rc, out, err = _import(chart, clinic, capsys, helpers=False, monkeypatch=monkeypatch)
    assert rc == 2 and len(syncs) == 2
    assert [line.split(": ")[0] for line in out.splitlines()] == [str(f) for f in clinic[:8] if f != clinic[6]]
    assert err.startswith(f"{clinic[6]}: refused: ")  # (the signed visit edited after signing: in the first eight)
    unconfirmed = [line for line in err.splitlines() if line.endswith("(written, but not confirmed safe on disk)")]
    assert [line.split(": ")[0] for line in unconfirmed] == [str(f) for f in clinic[8:16]]
    assert err.splitlines()[-1] == (f"{chart}: the last changes could not be made safe on disk "
                                    "(Input/output error)")
    with sqlite3.connect(chart) as conn:  # (closed by now: the standard library may read it)
        assert conn.execute("SELECT count(*) FROM patients").fetchone()[0] == 15  # (PID, and 14 new of 15 files)
