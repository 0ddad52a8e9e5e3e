"""Issue 20: a bulk import's commits are made safe on disk together (ChartFile.synced_together).
Each file is still its own transaction; meanwhile SQLite leaves each commit to the operating
system (synchronous = NORMAL), so a killed program loses none of them, and ``sync`` flushes the
write-ahead log, as FULL does at every commit. Real charts in tmp_path, a real killed process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from desktop.store import ChartStore, StoreError
from desktop.store.driver import sqlite3  # (the store's SQLite: two copies in one process miss each other's locks)
from tests.store.conftest import make_case


def _synchronous(store) -> int:
    return store.db.execute("PRAGMA synchronous").fetchone()[0]


LINUX = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="names an fd's file from /proc (Linux)")


def _log(chart_path) -> str:
    return os.path.realpath(chart_path) + "-wal"


@pytest.fixture
def fsyncs(monkeypatch):
    """The paths of the files fsynced, in order (the real fsync still runs)."""
    done: list[str] = []
    real = os.fsync

    def spy(fd):
        done.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return done


@LINUX
def test_commits_inside_are_visible_at_once_and_the_log_is_fsynced_at_each_sync_and_on_the_way_out(
        chart_path, fsyncs):
    store = ChartStore.open(chart_path, user="dr.test", daily_backup=False)
    told: list[int] = []
    try:
        assert _synchronous(store) == 2  # FULL: every commit flushed
        with store.synced_together(then=lambda: told.append(len(fsyncs))) as sync:
            assert _synchronous(store) == 1  # NORMAL: left to the operating system
            store.import_case(make_case("MRN-1"))
            other = sqlite3.connect(chart_path)  # (committed: another reader sees it)
            try:
                assert other.execute("SELECT count(*) FROM patients").fetchone()[0] == 1
            finally:
                other.close()
            assert fsyncs == [] and told == []
            sync()
            assert fsyncs == [_log(chart_path)] and told == [1]
            store.import_case(make_case("MRN-2"))
        assert fsyncs == [_log(chart_path)] * 2 and told == [1, 2]
        assert _synchronous(store) == 2
    finally:
        store.close(backup=False)


@LINUX
def test_an_error_inside_still_syncs_what_was_committed_and_restores_full(chart_path, fsyncs):
    store = ChartStore.open(chart_path, user="dr.test", daily_backup=False)
    try:
        with pytest.raises(KeyboardInterrupt):
            with store.synced_together():
                store.import_case(make_case("MRN-1"))
                raise KeyboardInterrupt  # (a second Ctrl+C)
        assert fsyncs == [_log(chart_path)] and _synchronous(store) == 2
    finally:
        store.close(backup=False)


def test_a_failing_fsync_is_one_clear_line_and_nothing_is_reported_saved_after_it(chart_path, monkeypatch):
    """Once an fsync failed, no later sync reports anything saved: on Linux a second fsync
    after an I/O error may succeed with the failed pages dropped."""
    store = ChartStore.open(chart_path, user="dr.test", daily_backup=False)
    told: list[str] = []
    real = os.fsync
    calls: list[int] = []

    def fails_once(fd):
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(5, "Input/output error")
        return real(fd)

    message = f"{chart_path}: the last changes could not be made safe on disk (Input/output error)"
    try:
        with pytest.raises(StoreError) as e:
            with store.synced_together(then=lambda: told.append("saved")) as sync:
                store.import_case(make_case("MRN-1"))
                monkeypatch.setattr(os, "fsync", fails_once)
                try:
                    sync()
                except StoreError as first:
                    assert str(first) == message
                store.import_case(make_case("MRN-2"))
                sync()  # (refused too, without another fsync)
        assert str(e.value) == message
        assert told == [] and len(calls) == 1 and _synchronous(store) == 2
    finally:
        monkeypatch.undo()
        store.close(backup=False)


@LINUX
@pytest.mark.parametrize("why", ["rollback journal", "no log file"])
def test_without_a_write_ahead_log_to_hold_every_commit_stays_synced(chart_path, fsyncs, monkeypatch, why):
    """A file system that refused WAL (the chart in rollback-journal mode), or no log file to
    open: synchronous stays FULL, nothing is fsynced by hand, and each sync still says so."""
    store = ChartStore.open(chart_path, user="dr.test", daily_backup=False)
    real_open = os.open

    def no_log(path, *args, **kw):
        if str(path).endswith("-wal"):
            raise FileNotFoundError(2, "No such file or directory")
        return real_open(path, *args, **kw)

    try:
        if why == "rollback journal":
            assert store.db.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
        else:
            monkeypatch.setattr(os, "open", no_log)
        told: list[int] = []
        with store.synced_together(then=lambda: told.append(1)) as sync:
            assert _synchronous(store) == 2
            store.import_case(make_case("MRN-1"))
            sync()
        assert fsyncs == [] and told == [1, 1] and _synchronous(store) == 2
    finally:
        monkeypatch.undo()
        store.close(backup=False)


KILLED = textwrap.dedent("""
    import sys
    from desktop.store import ChartStore
    from tests.store.conftest import make_case
    store = ChartStore.open(sys.argv[1], user="writer", daily_backup=False)
    with store.synced_together():
        for i in range(10_000):
            store.import_case(make_case(f"MRN-{i:05d}"))
            print(i, flush=True)  # (committed, not yet synced)
""")


def test_a_writer_killed_between_syncs_loses_no_commit(chart_path, tmp_path):
    """With synchronous = NORMAL a commit is the operating system's once SQLite returns: a
    SIGKILL after the last sync loses none of them (only a power cut could, and then whole
    ones, whose lines were never printed). What this shows is that the grouping weakens
    nothing against a killed program; the fsync itself is pinned by the tests above."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(chart_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=root)
    try:
        committed = [int(proc.stdout.readline()) for _ in range(40)]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert committed == list(range(40))
    store = ChartStore.open(chart_path, user="dr.test", daily_backup=False)
    try:
        assert store.integrity() is None
        ids = store.all_patient_ids()
        assert {f"MRN-{i:05d}" for i in committed} <= set(ids) and len(ids) < 10_000
        assert all(problems == [] for problems in store.full_check().values())
    finally:
        store.close(backup=False)
