"""Crashes, full disks, read-only, corrupt and newer files, and a second writer: real files, real processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from desktop.store import ChartStore, StoreError, list_backups
from desktop.store.demo import demo_cases
from domain.case import case_to_data

WRITER = textwrap.dedent("""
    import sys
    from desktop.store import ChartStore
    from desktop.store.demo import demo_cases
    store = ChartStore.open(sys.argv[1], user="writer")
    print("open", flush=True)
    for case, _signed in demo_cases(int(sys.argv[2]), seed=11):
        store.import_case(case)
        print(case.patient.id, flush=True)
    print("done", flush=True)
    if len(sys.argv) > 3:
        import time; time.sleep(60)
""")


def start_writer(path, n, *, linger=False):
    args = [sys.executable, "-c", WRITER, str(path), str(n)] + (["linger"] if linger else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "open", proc.stderr.read()
    return proc


def test_a_writer_killed_mid_import_leaves_a_sound_file_with_only_whole_patients(chart_path):
    proc = start_writer(chart_path, 400)
    committed = [proc.stdout.readline().strip() for _ in range(25)]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    expected = {case.patient.id: case for case, _ in demo_cases(400, seed=11)}

    store = ChartStore.open(chart_path, user="dr.test")  # the lock died with the writer
    try:
        assert store.integrity() is None
        ids = [r.id for r in store.search_patients("", limit=1000)]
        assert set(committed) <= set(ids)
        assert len(ids) < 400
        for pid in ids:
            assert case_to_data(store.get_case(pid)) == case_to_data(expected[pid])
    finally:
        store.close(backup=False)


def test_a_second_writer_is_refused_clearly_and_readers_are_allowed(chart_path):
    proc = start_writer(chart_path, 2, linger=True)
    try:
        assert proc.stdout.readline().strip() == "DEMO-000001"
        assert proc.stdout.readline().strip() == "DEMO-000002"
        assert proc.stdout.readline().strip() == "done"
        with pytest.raises(StoreError, match="already open for writing in another Motorchart .process"):
            ChartStore.open(chart_path, user="dr.second")
        with ChartStore.open(chart_path, readonly=True) as reader:
            assert reader.count_patients() == 2
    finally:
        proc.kill()
        proc.wait()
    with ChartStore.open(chart_path, user="dr.second") as store:
        assert store.count_patients() == 2


def test_a_full_disk_gives_a_clear_error_and_loses_nothing(store, chart_path):
    cases = [c for c, _ in demo_cases(3, seed=3)]
    store.import_case(cases[0])
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(StoreError, match="disk is full; the last change was not saved"):
        for case in cases[1:]:
            store.import_case(case)
    store.db.execute("PRAGMA max_page_count = 1073741823")
    assert store.integrity() is None
    assert case_to_data(store.get_case(cases[0].patient.id)) == case_to_data(cases[0])
    store.close(backup=False)
    with ChartStore.open(chart_path, readonly=True) as again:
        assert again.count_patients() == 1
        assert case_to_data(again.get_case(cases[0].patient.id)) == case_to_data(cases[0])


def test_a_read_only_file_is_refused_for_writing_and_opens_read_only(store, chart_path, patient_factory):
    store.add_patient(patient_factory())
    store.close(backup=False)
    os.chmod(chart_path, 0o444)
    try:
        with pytest.raises(StoreError, match=r"the chart is read-only \(the chart file is read-only\); it can be "
                                             "read .* but nothing can be changed"):
            ChartStore.open(chart_path, user="dr.test")
        with ChartStore.open(chart_path, readonly=True) as ro:
            assert ro.get_patient("MRN-0042").family_name == "Łukasiewicz-Nowak"
    finally:
        os.chmod(chart_path, 0o644)


def corrupt(path, at: int, length: int = 4096):
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(b"\xa5" * length)


def test_a_corrupt_file_is_refused_naming_the_newest_good_backup(chart_path):
    store = ChartStore.open(chart_path, user="dr.test")
    for case, _ in demo_cases(20, seed=4):
        store.import_case(case)
    store.backup()
    time.sleep(0.01)
    newest = store.close()
    size = chart_path.stat().st_size
    corrupt(chart_path, size // 2, 8192)
    with pytest.raises(StoreError, match="damaged") as err:
        ChartStore.open(chart_path, user="dr.test")
    assert f"the newest good backup is {newest}" in str(err.value)
    assert "\n" not in str(err.value)
    # the backup it names really holds the data
    with ChartStore.open(newest, readonly=True) as b:
        assert b.count_patients() == 20


def test_a_damaged_newest_backup_is_skipped(chart_path, patient_factory):
    store = ChartStore.open(chart_path, user="dr.test")
    store.add_patient(patient_factory())
    older = store.backup()
    time.sleep(0.01)
    newer = store.backup()
    store.close(backup=False)
    corrupt(newer, 0, 100)
    corrupt(chart_path, 0, 100)
    with pytest.raises(StoreError, match=f"the newest good backup is {older}"):
        ChartStore.open(chart_path)


def test_a_chart_from_a_newer_motorchart_is_refused_and_left_untouched(store, chart_path, patient_factory):
    store.add_patient(patient_factory())
    store.close(backup=False)
    raw = sqlite3.connect(chart_path)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    before = chart_path.read_bytes()
    for readonly in (False, True):
        with pytest.raises(StoreError, match="newer Motorchart .* update Motorchart"):
            ChartStore.open(chart_path, readonly=readonly)
    assert chart_path.read_bytes() == before


def test_manual_backups_are_compressed_kept_and_open_read_only(store, chart_path):
    store.set_setting("clinic", "Backups")
    made = []
    for _ in range(5):
        made.append(store.backup())
        time.sleep(0.002)
    assert list_backups(chart_path) == made[::-1]  # manual backups are never rotated away
    assert all(b.name.endswith("-manual.sqlite.gz") for b in made)
    with ChartStore.open(made[-1], readonly=True) as b:
        assert b.settings()["clinic"] == "Backups"


def test_closing_makes_a_backup_and_opening_makes_one_a_day(chart_path, patient_factory):
    store = ChartStore.open(chart_path, user="dr.test")
    store.add_patient(patient_factory())
    assert list_backups(chart_path) == []  # a new chart has nothing to back up yet
    on_close = store.close()
    assert list_backups(chart_path) == [on_close]
    ChartStore.open(chart_path).close(backup=False)
    assert list_backups(chart_path) == [on_close]  # already one today


# ------------------------------------------------------------------ the app's background check

def _chart_with_patients(chart_path, n=20):
    store = ChartStore.open(chart_path, user="dr.test")
    for case, _ in demo_cases(n, seed=4):
        store.import_case(case)
    store.backup()
    time.sleep(0.01)
    return store.close()


def test_a_background_check_refuses_the_first_write_to_a_damaged_file(chart_path, patient_factory):
    newest = _chart_with_patients(chart_path)
    corrupt(chart_path, chart_path.stat().st_size // 2, 8192)
    heard = []
    store = ChartStore.open(chart_path, user="dr.test", check_in_background=True, on_checked=heard.append)
    before = list_backups(chart_path)
    problem = store.wait_checked()
    assert "damaged" in problem and f"the newest good backup is {newest}" in problem
    with pytest.raises(StoreError, match="damaged"):
        store.add_patient(patient_factory(id="MRN-NEW"))
    store.close()
    assert heard == [problem]
    assert list_backups(chart_path) == before  # no damaged copy rotated the good backups out


def test_a_background_check_of_a_sound_chart_lets_writes_through_as_the_right_user(chart_path, patient_factory):
    _chart_with_patients(chart_path)
    for b in list_backups(chart_path):
        b.unlink()  # so the daily backup is due
    heard = []
    store = ChartStore.open(chart_path, user="dr.background", check_in_background=True, on_checked=heard.append)
    assert store.count_patients() == 20  # reads do not wait for the check
    store.add_patient(patient_factory(id="MRN-NEW"))
    assert heard == [None]
    assert store.audit_trail("MRN-NEW")[-1].user == "dr.background"
    store.close(backup=False)
    assert len(list_backups(chart_path)) == 1  # the daily backup, made by the check's thread


def test_a_new_chart_needs_no_background_check(chart_path):
    heard = []
    store = ChartStore.open(chart_path, user="dr.test", check_in_background=True, on_checked=heard.append)
    assert store.wait_checked() is None and heard == [None]
    store.close(backup=False)
