"""Issue 17, point 3: a healthy chart on a read-only file, folder or file system opens read-only
and says so; reading works; writes are refused in one line; nothing calls it damaged.

chmod does not stop root (CI runs as root), so Motorchart also honours the mode bits; the real
read-only file system is a read-only bind mount in a private mount namespace (``unshare``),
which binds root too (``tests/cli/test_read_only_chart.py``)."""

from __future__ import annotations

import os
import stat

import pytest

from desktop.store import ChartStore, StoreError
from desktop.store.files import read_only_reason, restore_backup
from desktop.store.patient_index import PatientIndex, connect_read_only


@pytest.fixture
def healthy(chart_path, patient_factory):
    """A closed chart that was written by the app (WAL mode, no -wal or -shm left)."""
    store = ChartStore.open(chart_path, user="dr.test")
    store.add_patient(patient_factory())
    store.close()  # (its automatic backup too)
    assert not chart_path.with_name(chart_path.name + "-wal").exists()
    return chart_path


@pytest.fixture
def read_only_folder(healthy):
    folder = healthy.parent
    mode = stat.S_IMODE(folder.stat().st_mode)
    os.chmod(folder, 0o555)
    yield healthy
    os.chmod(folder, mode)


@pytest.fixture
def read_only_file(healthy):
    os.chmod(healthy, 0o444)
    yield healthy
    os.chmod(healthy, 0o644)


def test_a_chart_in_a_read_only_folder_opens_read_only_and_says_why(read_only_folder, patient_factory):
    path = read_only_folder
    assert read_only_reason(path) == f"its folder {path.parent} is read-only"
    store = ChartStore.open(path, user="dr.test", allow_read_only=True)
    try:
        assert store.readonly and store.read_only_reason == f"its folder {path.parent} is read-only"
        assert store.get_patient("MRN-0042").family_name == "Łukasiewicz-Nowak"
        assert store.integrity() is None
        assert store.full_check() == {"integrity": [], "foreign keys": [], "triggers": [], "audit": []}
        with pytest.raises(StoreError) as err:
            store.add_patient(patient_factory(id="MRN-NEW"))
        assert str(err.value) == (f"{path}: the chart is read-only (its folder {path.parent} is read-only); "
                                  "nothing was changed")
    finally:
        store.close()
    assert sorted(os.listdir(path.parent)) == sorted(["chart.sqlite", "chart.sqlite.head", "chart.sqlite.lock", "chart-backups"])


def test_writing_to_a_chart_in_a_read_only_folder_is_refused_in_one_line_not_called_damaged(read_only_folder):
    with pytest.raises(StoreError) as err:
        ChartStore.open(read_only_folder, user="dr.test")
    message = str(err.value)
    assert "read-only" in message and "damaged" not in message and "\n" not in message
    with ChartStore.open(read_only_folder, readonly=True) as store:  # check, export, report
        assert store.count_patients() == 1


def test_a_read_only_folder_is_opened_immutable_so_sqlite_needs_no_shm_file(read_only_folder):
    conn = connect_read_only(read_only_folder)
    try:
        assert conn.execute("SELECT count(*) FROM patients").fetchone()[0] == 1
    finally:
        conn.close()
    index = PatientIndex.peek(read_only_folder)  # the window's first look at the patient list
    assert index is not None and index.count_patients() == 1
    index.close()


def test_a_read_only_chart_file_opens_read_only(read_only_file, patient_factory):
    assert read_only_reason(read_only_file) == "the chart file is read-only"
    with ChartStore.open(read_only_file, user="dr.test", allow_read_only=True) as store:
        assert store.readonly and store.read_only_reason == "the chart file is read-only"
        with pytest.raises(StoreError, match="the chart is read-only .*nothing was changed"):
            store.update_patient(patient_factory(family_name="Other"))
    with pytest.raises(StoreError, match="the chart is read-only"):
        ChartStore.open(read_only_file, user="dr.test")


def test_restoring_over_a_read_only_chart_is_refused_in_one_line(read_only_folder):
    from desktop.store import list_backups

    backup = list_backups(read_only_folder)[0]
    with pytest.raises(StoreError) as err:
        restore_backup(read_only_folder, backup)
    assert str(err.value) == (f"{read_only_folder}: the chart is read-only (its folder "
                              f"{read_only_folder.parent} is read-only); nothing was restored")
