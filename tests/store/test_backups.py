"""Issue 17, points 1 and 2: a missing or emptied chart is never recreated silently beside its
backups; backups are compressed, at most one automatic a day, rotated by generations, never
losing a patient; every format is read back; killed backups leave nothing behind."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from desktop.store import ChartStore, StoreError, list_backups, restore_backup
from desktop.store import backups as B
from desktop.store.demo import demo_cases
from desktop.store.errors import ChartMissing
from desktop.store.paths import backups_dir


def _chart_with(path: Path, n: int = 12, seed: int = 4) -> list[str]:
    store = ChartStore.open(path, user="dr.test")
    ids = []
    for case, _ in demo_cases(n, seed=seed):
        store.import_case(case)
        ids.append(case.patient.id)
    store.close(backup=False)
    return ids


def _retime(backup: Path, when: dt.datetime) -> Path:
    """Rename a backup as if it had been made at ``when`` (UTC): its time is in its name."""
    chart_stem = backup.name.split("-2")[0]
    info = B.parse_backup(backup.parent / f"{chart_stem}.sqlite", backup)
    target = backup.with_name(B.backup_name(Path(f"{chart_stem}.sqlite"), info.tag, when))
    backup.rename(target)
    return target


# ------------------------------------------------------------------ 1. missing or empty chart

def test_an_emptied_chart_beside_its_backups_is_refused_naming_the_newest_good_backup(chart_path):
    _chart_with(chart_path)
    store = ChartStore.open(chart_path, user="dr.test")
    good = store.backup()
    store.close(backup=False)
    chart_path.write_bytes(b"")  # `: > chart.sqlite`
    for _ in range(3):  # the issue's repeated imports: each one is refused, nothing is rotated
        with pytest.raises(ChartMissing) as err:
            ChartStore.open(chart_path, user="dr.test")
        message = str(err.value)
        assert "\n" not in message
        assert "the chart file is empty (0 bytes)" in message
        assert f"the newest good backup is {good} (12 patients)" in message
        assert f"restore it with: motorchart restore {good} --db {chart_path} --yes" in message
        assert "add --new" in message
        assert err.value.backup == good and err.value.patients == 12 and err.value.empty
    assert chart_path.stat().st_size == 0  # nothing was created in it
    assert good in list_backups(chart_path)


def test_a_missing_chart_beside_its_backups_is_refused_for_writing_and_reading(chart_path):
    _chart_with(chart_path)
    with ChartStore.open(chart_path, user="dr.test") as store:
        store.backup()
    chart_path.unlink()
    with pytest.raises(ChartMissing, match="the chart file is missing, but backups of it exist"):
        ChartStore.open(chart_path, user="dr.test")
    with pytest.raises(ChartMissing, match="missing") as err:
        ChartStore.open(chart_path, readonly=True)
    assert "--new" not in str(err.value)  # reading never creates a chart: no --new to suggest
    assert not chart_path.exists()


def test_new_starts_an_empty_chart_beside_old_backups_which_are_all_kept(chart_path, patient_factory):
    _chart_with(chart_path)
    store = ChartStore.open(chart_path, user="dr.test")
    before = set(list_backups(chart_path)) | {store.backup()}
    store.close(backup=False)
    chart_path.unlink()
    store = ChartStore.open(chart_path, user="dr.test", new=True)
    store.add_patient(patient_factory())
    assert store.count_patients() == 1
    store.close()
    assert before <= set(list_backups(chart_path))


def test_a_chart_path_with_no_backups_is_created_as_before(tmp_path):
    path = tmp_path / "fresh" / "chart.sqlite"
    store = ChartStore.open(path, user="dr.test")
    assert store.count_patients() == 0
    store.close(backup=False)
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    ChartStore.open(empty, user="dr.test").close(backup=False)  # an empty file with no backups: built
    assert empty.stat().st_size > 0


def test_restoring_a_compressed_backup_brings_an_emptied_chart_back(chart_path):
    ids = _chart_with(chart_path)
    with ChartStore.open(chart_path, user="dr.test") as store:
        good = store.backup()
    chart_path.write_bytes(b"")
    assert restore_backup(chart_path, good) is None  # an empty file holds nothing to keep
    with ChartStore.open(chart_path, user="dr.test") as store:
        assert sorted(r.id for r in store.search_patients("", limit=100)) == sorted(ids)


def test_the_window_chooses_to_restore_start_new_or_quit(chart_path):
    ids = _chart_with(chart_path)
    with ChartStore.open(chart_path, user="dr.test") as store:
        store.backup()
    chart_path.unlink()
    asked = []
    assert ChartStore.open_choosing(chart_path, choose=lambda m: asked.append(m) or "quit") is None
    assert isinstance(asked[0], ChartMissing) and not chart_path.exists()
    store = ChartStore.open_choosing(chart_path, choose=lambda m: "restore", user="dr.test")
    assert store.count_patients() == len(ids)
    store.close(backup=False)
    chart_path.unlink()
    store = ChartStore.open_choosing(chart_path, choose=lambda m: "new", user="dr.test")
    assert store.count_patients() == 0
    store.close(backup=False)


# ------------------------------------------------------------------ 2. format and volume

def test_a_backup_is_one_compressed_gzip_of_the_sqlite_file_with_its_manifest(tmp_path):
    path = tmp_path / "clinic.sqlite"
    ids = _chart_with(path, n=30)
    with ChartStore.open(path, user="dr.test") as store:
        if sys.platform.startswith("linux"):
            io = Path("/proc/self/io")
            # bytes sent to the disk (the page image is taken in a RAM file system, not on disk)
            written = lambda: int(dict(l.split(": ") for l in io.read_text().splitlines())["write_bytes"])  # noqa: E731
            w0 = written()
            backup = store.backup()
            w = written() - w0
            assert w < backup.stat().st_size + 65536  # written once, compressed: no plain copy first
        else:  # pragma: no cover
            backup = store.backup()
    raw = gzip.decompress(backup.read_bytes())  # any gzip reader gives back the SQLite file
    assert raw[:16] == b"SQLite format 3\x00"
    assert raw[18:20] == b"\x01\x01"  # a rollback-journal file: no -wal or -shm needed to read it
    ratio = len(raw) / backup.stat().st_size
    assert ratio > 3, ratio
    manifest = B.read_manifest(backup)
    assert manifest["format"] == "motorchart-backup/1" and sorted(manifest["patients"]) == sorted(ids)
    assert B.backup_problem(backup) is None
    assert not [p for p in backups_dir(path).iterdir() if p.name.endswith(".partial")]


def test_a_chart_too_large_to_copy_in_memory_goes_through_a_scratch_file(tmp_path, monkeypatch):
    path = tmp_path / "clinic.sqlite"
    ids = _chart_with(path, n=5)
    monkeypatch.setattr(B, "SERIALIZE_LIMIT", 0)
    with ChartStore.open(path, user="dr.test") as store:
        backup = store.backup()
    assert sorted(B.read_manifest(backup)["patients"]) == sorted(ids)
    assert B.backup_problem(backup) is None
    assert sorted(p.name for p in backups_dir(path).iterdir()) == sorted(b.name for b in list_backups(path))
    with ChartStore.open(backup, readonly=True) as copy:
        assert copy.count_patients() == 5


def test_at_most_one_automatic_backup_a_day(chart_path, patient_factory):
    store = ChartStore.open(chart_path, user="dr.test")
    store.add_patient(patient_factory())
    first = store.close()  # a new chart: its first automatic backup at close
    assert first is not None and B.parse_backup(chart_path, first).automatic
    for i in range(4):  # four more write sessions the same day: no more automatic backups
        s = ChartStore.open(chart_path, user="dr.test")
        s.add_patient(patient_factory(id=f"MRN-{i}"))
        assert s.close() is None
    assert [i.path for i in B.backup_infos(chart_path) if i.automatic] == [first]


def test_the_next_day_the_first_open_makes_the_days_backup(chart_path, patient_factory):
    store = ChartStore.open(chart_path, user="dr.test")
    store.add_patient(patient_factory())
    yesterday = _retime(store.close(), dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))
    store = ChartStore.open(chart_path, user="dr.test")  # before any change: the state it was left in
    autos = [i.path for i in B.backup_infos(chart_path) if i.automatic]
    assert len(autos) == 2 and autos[1] == yesterday
    assert store.close() is None


def test_old_uncompressed_backups_are_listed_checked_held_and_restored(chart_path):
    ids = _chart_with(chart_path, n=6)
    folder = backups_dir(chart_path)
    folder.mkdir(exist_ok=True)
    old = folder / "chart-20250101T090000000000Z.sqlite"  # as earlier versions wrote them
    src, dest = sqlite3.connect(chart_path), sqlite3.connect(old)
    src.backup(dest)
    dest.execute("PRAGMA journal_mode = DELETE")
    src.close()
    dest.close()
    assert list_backups(chart_path) == [old]
    assert B.backup_problem(old) is None
    assert B.holdings(old).patients == frozenset(ids)
    with ChartStore.open(chart_path, user="dr.test") as store:
        store.add_patient(store.get_patient(ids[0]).model_copy(update={"id": "MRN-NEW"}))
    saved = restore_backup(chart_path, old)
    assert saved.name.endswith("-before-restore.sqlite.gz")
    with ChartStore.open(chart_path, readonly=True) as store:
        assert store.count_patients() == 6


def test_a_killed_backups_partial_files_are_removed_at_the_next_open_but_not_a_live_one(chart_path):
    _chart_with(chart_path, n=2)
    folder = backups_dir(chart_path)
    folder.mkdir(exist_ok=True)
    dead = folder / "chart-20260101T000000000000Z.sqlite.gz.partial"
    dead.write_bytes(b"\x1f\x8b" + b"x" * 5000)
    old_style = folder / "chart-20250101T000000000000Z.sqlite.partial"
    old_style.write_bytes(b"SQLite format 3\x00" + b"x" * 5000)
    live = folder / "chart-20260101T000000000001Z.sqlite.gz.partial"
    live.write_bytes(b"\x1f\x8b" + b"y" * 5000)
    fd = os.open(live, os.O_RDONLY)
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)  # a backup still being written, by another process
        ChartStore.open(chart_path, user="dr.test", daily_backup=False).close(backup=False)
    finally:
        os.close(fd)
    assert not dead.exists() and not old_style.exists()
    assert live.exists()
    ChartStore.open(chart_path, user="dr.test", daily_backup=False).close(backup=False)
    assert not live.exists()  # its writer is gone now


def test_a_damaged_compressed_backup_is_skipped_and_refused_by_restore(chart_path):
    _chart_with(chart_path, n=3)
    store = ChartStore.open(chart_path, user="dr.test")
    older = store.backup()
    time.sleep(0.01)
    newer = store.backup()
    store.close(backup=False)
    data = bytearray(newer.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit in the middle: gzip's CRC catches it
    newer.write_bytes(bytes(data))
    assert B.backup_problem(newer) is not None
    chart_path.unlink()
    with pytest.raises(ChartMissing, match=f"the newest good backup is {older}"):
        ChartStore.open(chart_path)
    with pytest.raises(StoreError, match="damaged"):
        restore_backup(chart_path, newer)
    assert not chart_path.exists()


# ------------------------------------------------------------------ rotation

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.timezone.utc)


def _infos(days: list[int], tag: str = "") -> list[B.BackupInfo]:
    return [B.BackupInfo(Path(f"/b/chart-{d}-{tag}.sqlite.gz"), NOW - dt.timedelta(days=d), tag) for d in days]


def test_rotation_keeps_7_daily_4_weekly_and_12_monthly_generations():
    infos = _infos(list(range(400)))  # one automatic backup every day for 400 days
    everyone = B.Holdings(frozenset({"A"}))
    removed = {i.made for i in B.plan_rotation(infos, lambda i: everyone, tz=dt.timezone.utc)}
    kept = sorted((i.made for i in infos if i.made not in removed), reverse=True)
    assert kept[:7] == [NOW - dt.timedelta(days=d) for d in range(7)]  # the last 7 days
    weeks = {tuple(k.isocalendar())[:2] for k in kept}
    months = {(k.year, k.month) for k in kept}
    assert len(kept) <= 7 + 4 + 12 and len(months) == 12 and len(weeks) >= 4
    assert min(kept) > NOW - dt.timedelta(days=366)  # the oldest month kept is within the year


def test_rotation_never_removes_manual_before_upgrade_or_before_restore_backups():
    infos = _infos(list(range(60))) + _infos([300, 200], "manual") + _infos([250], "before-restore") \
        + _infos([350], "before-upgrade")
    removed = B.plan_rotation(infos, lambda i: B.Holdings(frozenset({"A"})), tz=dt.timezone.utc)
    assert removed and all(i.automatic for i in removed)


def test_rotation_keeps_a_backup_holding_a_patient_no_newer_backup_holds():
    infos = _infos(list(range(100)))
    lost = infos[80]  # 80 days ago, the only backup that still has patient B

    def held(i):
        return B.Holdings(frozenset({"A", "B"}) if i is lost else frozenset({"A"}))

    removed = B.plan_rotation(infos, held, tz=dt.timezone.utc)
    assert lost not in removed
    assert infos[81] in removed  # an older one whose patients the kept ones hold still goes


def test_rotation_follows_renamed_patients_and_keeps_what_it_cannot_read():
    infos = _infos(list(range(100)))
    old_mrn = infos[90]
    unreadable = infos[85]

    def held(i):
        if i is unreadable:
            return None
        if i.made <= old_mrn.made:
            return B.Holdings(frozenset({"MRN-1"}))
        return B.Holdings(frozenset({"MRN-2"}), renamed=frozenset({"MRN-1"}))  # the MRN was corrected

    removed = B.plan_rotation(infos, held, tz=dt.timezone.utc)
    assert old_mrn in removed and unreadable not in removed


def test_rotation_on_real_files_after_the_issues_twelve_imports_keeps_the_good_copies(chart_path):
    ids = _chart_with(chart_path, n=30)
    store = ChartStore.open(chart_path, user="dr.test", daily_backup=False)
    manual = store.backup()
    store.close(backup=False)
    now = dt.datetime.now(dt.timezone.utc)
    autos = []
    for day in range(52, 12, -1):  # 40 days of automatic backups of the 30-patient chart
        b = ChartStore.open(chart_path, user="dr.test", daily_backup=False)
        made = B.write_backup(b.db.conn, chart_path, tag="")
        b.close(backup=False)
        autos.append(_retime(made, now - dt.timedelta(days=day)))
    chart_path.unlink()  # the chart is lost; someone starts a new one on purpose (--new) ...
    for day in range(12, -1, -1):  # ... and works in it on 13 days, one automatic backup a day
        s = ChartStore.open(chart_path, user="dr.test", new=not chart_path.exists())
        s.close()  # the day's automatic backup (on open, or on close for a new chart), then rotation
        made = B.automatic_today(chart_path)
        assert made is not None
        if day:
            _retime(made.path, now - dt.timedelta(days=day))
    left = list_backups(chart_path)
    assert manual in left
    survivors = [b for b in left if b in autos]
    assert survivors, "rotation removed every backup of the 30 patients"
    assert B.holdings(survivors[0]).patients == frozenset(ids)
    assert len(survivors) < len(autos)  # the copies that add nothing were rotated away
    assert len([b for b in left if B.parse_backup(chart_path, b).automatic]) <= 7 + 4 + 12
