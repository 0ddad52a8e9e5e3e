"""Issue 18, point 3: what holds patient data is readable by its owner only, whatever the umask
(these tests run under umask 022, the usual default, which made every file 0644 before)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from desktop.store import ChartStore, restore_backup
from desktop.store.audit_chain import head_path
from desktop.store.paths import backups_dir, chart_path, data_folder, lock_path
from desktop.store.private import exposed_files


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_chart_its_wal_shm_lock_and_head_files_are_0600_and_its_new_folders_0700(tmp_path, patient_factory):
    there = tmp_path / "home"
    there.mkdir()
    os.chmod(there, 0o755)
    path = there / "clinic" / "charts" / "chart.sqlite"
    store = ChartStore.open(path, user="dr.test")
    try:
        store.add_patient(patient_factory())
        wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
        assert wal.exists() and shm.exists()  # (while the chart is open)
        for f in (path, wal, shm, lock_path(path), head_path(path)):
            assert mode(f) == 0o600, f
    finally:
        store.close(backup=False)
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700  # every folder Motorchart made for it
    assert mode(there) == 0o755  # a folder that was there is left as it was


def test_a_chart_built_in_an_empty_file_is_made_private(tmp_path):
    path = tmp_path / "chart.sqlite"
    path.write_bytes(b"")
    os.chmod(path, 0o644)
    ChartStore.open(path, user="dr.test", new=True).close(backup=False)
    assert mode(path) == 0o600


def test_backups_and_their_folder_are_private(tmp_path, patient_factory):
    path = tmp_path / "chart.sqlite"
    store = ChartStore.open(path, user="dr.test")
    store.add_patient(patient_factory())
    manual = store.backup()
    automatic = store.close()  # the day's automatic backup
    assert automatic is not None
    for f in (manual, automatic):
        assert mode(f) == 0o600, f
    assert mode(backups_dir(path)) == 0o700


def test_a_restored_chart_is_private(tmp_path, patient_factory):
    path = tmp_path / "chart.sqlite"
    with ChartStore.open(path, user="dr.test") as store:
        store.add_patient(patient_factory())
        backup = store.backup()
    for f in path.parent.glob("chart.sqlite*"):
        f.unlink()
    restore_backup(path, backup)
    assert mode(path) == 0o600
    with ChartStore.open(path, user="dr.test") as store:
        assert store.count_patients() == 1
        assert mode(Path(f"{path}-wal")) == 0o600


def test_the_default_data_folder_is_0700_even_when_it_was_there_before(tmp_path, monkeypatch):
    monkeypatch.delenv("MOTORCHART_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    folder = data_folder()
    assert folder == tmp_path / "share" / "motorchart"
    folder.mkdir(parents=True)
    os.chmod(folder, 0o755)  # as an earlier version left it
    ChartStore.open(chart_path(None), user="dr.test").close(backup=False)
    assert mode(folder) == 0o700
    assert mode(chart_path(None)) == 0o600
    assert mode(tmp_path / "share") == 0o755  # the shared parent is not Motorchart's


def test_a_chart_readable_by_others_is_left_as_it_is_and_named(tmp_path, patient_factory):
    path = tmp_path / "chart.sqlite"
    with ChartStore.open(path, user="dr.test") as store:
        store.add_patient(patient_factory())
        backup = store.backup()
    assert exposed_files(path) == []
    os.chmod(path, 0o644)
    os.chmod(backup, 0o640)
    ChartStore.open(path, user="dr.test").close(backup=False)
    assert mode(path) == 0o644  # an existing chart keeps its mode: check warns about it
    assert exposed_files(path) == [(path, 0o644), (backup, 0o640)]
