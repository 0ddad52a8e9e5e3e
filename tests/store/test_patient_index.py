"""The launch's read-only patient index: the same answers as the store, or None to defer."""

from __future__ import annotations

import sqlite3

import pytest

from desktop.store import ChartStore
from desktop.store import migrations as store_migrations
from desktop.store.patient_index import SCHEMA_VERSION, PatientIndex


def test_the_light_schema_version_is_the_number_of_migrations():
    assert SCHEMA_VERSION == store_migrations.SCHEMA_VERSION == len(store_migrations.KNOWN_MIGRATIONS)


@pytest.fixture
def filled(chart_path, case_factory, patient_factory, visit_factory):
    store = ChartStore.open(chart_path, user="dr.test")
    store.import_case(case_factory("MRN-0042"))
    for pid, family, given in (("MRN-1", "Côté", "Renée"), ("MRN-2", "Иванов", "Дмитрий"),
                               ("MRN-3", "Kierkegård-Ølund", "Søren"), ("A-77", None, None)):
        store.add_patient(patient_factory(pid).model_copy(update={"family_name": family, "given_names": given}))
    store.save_visit("MRN-2", visit_factory("2025-05-05", notes="Fasciculations in the tongue"))
    store.close(backup=False)
    reader = ChartStore.open(chart_path, readonly=True)  # takes no writer lock, like the peek
    yield reader
    reader.close()


@pytest.mark.parametrize("text", ["", "cote", "Côté", "Søren", "soren", "ive", "Ив", "MRN-", "MRN-2", "tongue", "A-7",
                                  "nobody"])
def test_a_peek_answers_searches_exactly_as_the_store_does(filled, chart_path, text):
    index = PatientIndex.peek(chart_path)
    try:
        assert index.search_patients(text, limit=50) == filled.search_patients(text, limit=50)
        assert index.count_patients() == filled.count_patients() == 5
    finally:
        index.close()


def test_a_peek_sees_what_the_writer_opened_after_it_commits(filled, chart_path, patient_factory):
    index = PatientIndex.peek(chart_path)  # the launch: the peek first, then the app's writer
    writer = ChartStore.open(chart_path, user="dr.test")
    writer.add_patient(patient_factory("MRN-9"))
    assert [r.id for r in index.search_patients("MRN-9")] == ["MRN-9"]
    writer.close(backup=False)
    index.close()


def test_a_peek_defers_to_the_full_open_when_it_has_something_to_say(tmp_path, chart_path, filled):
    filled.close()
    assert PatientIndex.peek(tmp_path / "missing.sqlite") is None
    assert PatientIndex.peek(tmp_path) is None  # a folder
    text = tmp_path / "notes.txt"
    text.write_text("not a chart\n" * 100)
    assert PatientIndex.peek(text) is None
    raw = sqlite3.connect(chart_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")  # a newer Motorchart's file
    raw.close()
    assert PatientIndex.peek(chart_path) is None


def test_a_peek_defers_while_another_process_writes_to_the_chart(filled, chart_path):
    """A writer holds the lock: the app must say so before any window."""
    writer = ChartStore.open(chart_path, user="elsewhere")
    assert PatientIndex.peek(chart_path) is None
    writer.close(backup=False)
    index = PatientIndex.peek(chart_path)
    assert index is not None and index.count_patients() == 5
    index.close()
    # the peek's own probe never stops a writer from opening
    ChartStore.open(chart_path, user="dr.next").close(backup=False)


def test_a_version_left_unrecorded_after_the_last_migration_is_recorded_by_the_next_open(filled, chart_path):
    """A process that applied every migration but ended before recording the schema version
    (migrate's last step): the peek then defers at every launch until a writable open records
    it (nothing is pending, so nothing else would)."""
    filled.close()
    conn = sqlite3.connect(chart_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    conn.commit()
    conn.close()
    assert PatientIndex.peek(chart_path) is None
    ChartStore.open(chart_path, readonly=True).close()  # (a reader changes nothing)
    assert PatientIndex.peek(chart_path) is None
    store = ChartStore.open(chart_path, user="dr.test")
    assert store.upgrade is None  # (no migration ran: no backup, no notice)
    store.close(backup=False)
    conn = sqlite3.connect(chart_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    index = PatientIndex.peek(chart_path)
    assert index is not None and [r.id for r in index.search_patients("Côté")] == ["MRN-1"]
    index.close()
