"""Issue 18, point 4: a tamper-evident audit trail. Each row is chained to the one before it
(SHA-256, HMAC-SHA-256 for an encrypted chart); the newest link is kept beside the chart and in
each backup; the user is the operating-system account, never a row of the file. Each way of
tampering is done here the way another program would (the standard library's sqlite3 on the
real file), and ``full_check`` must name where."""

from __future__ import annotations

import datetime as dt
import os
import pwd
import sqlite3
from contextlib import contextmanager

import pytest

from desktop.store import ChartStore, StoreError, restore_backup
from desktop.store import audit_chain as ac
from desktop.store._lean import Database
from desktop.store.migrations import AUDIT_MESSAGE, migrations


@pytest.fixture
def chart(store, case_factory):
    """A closed chart with MRN-0042, two visits (the first signed) and a setting: a trail of a
    few dozen rows."""
    store.import_case(case_factory())
    store.sign_visit("MRN-0042", dt.date(2025, 3, 1), clinician="Dr Test")
    store.set_setting("clinic", "Neurology")
    path = store.path
    store.close(backup=False)
    return path


def raw(path) -> sqlite3.Connection:
    """Another program's connection: no Motorchart function or TEMP trigger."""
    return sqlite3.connect(path)


@contextmanager
def without_trigger(conn, name):
    """Drop a trigger, tamper, put it back as it was (so the trigger check stays quiet)."""
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [name]).fetchone()[0]
    conn.execute(f"DROP TRIGGER {name}")
    yield
    conn.execute(sql)
    conn.commit()


def rows(path):
    """(id, time, user) of every audit row, and (first, last, user, link) of every link."""
    conn = raw(path)
    try:
        return (conn.execute("SELECT id, time_utc, user FROM audit ORDER BY id").fetchall(),
                conn.execute("SELECT first_id, last_id, user, link FROM audit_links ORDER BY last_id").fetchall())
    finally:
        conn.close()


def audit_problems(path):
    with ChartStore.open(path, readonly=True) as store:
        return store.full_check()["audit"]


# ------------------------------------------------------------------------------ whole

def test_every_row_is_linked_in_order_by_its_writer_and_the_head_is_kept_beside_the_chart(chart):
    trail, links = rows(chart)
    # patient, two visits (each one row with its findings, issue 20), signing, signature, setting
    assert len(trail) == 6 and [r[0] for r in trail] == list(range(1, len(trail) + 1))
    # one link per write (import, signing, setting), covering its rows in order, naming who wrote them
    assert len(links) == 3 and links[0][0] == 1 and links[-1][1] == len(trail)
    assert all(b[0] == a[1] + 1 for a, b in zip(links, links[1:]))
    assert {link[2] for link in links} == {"dr.test"} and {r[2] for r in trail} == {""}
    assert audit_problems(chart) == []
    head = ac.read_head(chart)
    assert (head["id"], head["chain"], head["scheme"]) == (len(trail), links[-1][3], "sha256")
    assert oct(os.stat(ac.head_path(chart)).st_mode & 0o777) == "0o600"
    with ChartStore.open(chart, readonly=True) as store:
        assert {e.user for e in store.audit_trail()} == {"dr.test"}


def test_a_bulk_write_is_linked_in_blocks(tmp_path):
    from desktop.store.demo import build_demo

    with ChartStore.open(tmp_path / "chart.sqlite", user="dr.test") as store:
        build_demo(store, 60, 2026)  # enough rows for more than one block
        trail, links = rows(store.path)
        assert max(last - first + 1 for first, last, _, _ in links) == ac.BLOCK_ROWS
        assert store.full_check()["audit"] == []


def test_the_user_is_the_operating_system_account_not_an_environment_variable(tmp_path, monkeypatch, patient_factory):
    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    with ChartStore.open(tmp_path / "chart.sqlite") as store:
        store.add_patient(patient_factory())
        assert store.audit_trail()[-1].user == pwd.getpwuid(os.getuid()).pw_name


def test_a_forged_session_row_does_not_change_who_audit_rows_name(chart, patient_factory):
    conn = raw(chart)  # the writable session row is gone (m010); planting one changes nothing
    conn.execute("CREATE TABLE session (id INTEGER PRIMARY KEY, user TEXT NOT NULL, opened_utc TEXT)")
    conn.execute("INSERT INTO session VALUES (1, 'mallory', '2025-01-01')")
    conn.commit()
    conn.close()
    with ChartStore.open(chart, user="dr.test") as store:
        store.add_patient(patient_factory(id="MRN-NEW"))
        assert {e.user for e in store.audit_trail("MRN-NEW")} == {"dr.test"}
        assert store.full_check()["audit"] == []


def test_the_audit_and_its_links_are_append_only(chart):
    conn = raw(chart)
    for sql in ("UPDATE audit SET user = 'someone' WHERE id = 1",
                "DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)",
                "UPDATE audit_links SET user = 'someone'",
                "DELETE FROM audit_links"):
        with pytest.raises(sqlite3.IntegrityError, match=AUDIT_MESSAGE):
            conn.execute(sql)
    conn.close()


# ------------------------------------------------------------------------------ tampering

def test_a_change_made_by_another_program_is_named_with_its_row(chart):
    conn = raw(chart)
    conn.execute("UPDATE patients SET death_note = 'refused' WHERE id = 'MRN-0042'")
    conn.commit()
    conn.close()
    last = rows(chart)[0][-1]
    assert audit_problems(chart) == [
        f"audit row {last[0]} ({last[1]}, patients update MRN-0042): no link covers it: written outside Motorchart"]
    with ChartStore.open(chart, readonly=True) as store:
        assert store.audit_trail()[-1].user == ac.OUTSIDE_USER


def test_audit_rows_inserted_directly_are_named(chart):
    n = len(rows(chart)[0])
    conn = raw(chart)
    conn.execute("INSERT INTO audit (time_utc, user, table_name, action, patient_id, row_key, old_json, new_json) "
                 "VALUES ('2025-03-01T09:00:00.000Z', 'dr.test', 'patients', 'update', 'MRN-0042', 'MRN-0042', "
                 "'{\"death_date\":\"2025-02-01\"}', '{\"death_date\":null}')")
    conn.execute("INSERT INTO audit (time_utc, user, table_name, action) "
                 "VALUES ('2025-03-01T09:00:01.000Z', '', 'settings', 'insert')")
    conn.execute("INSERT INTO audit_links (first_id, last_id, user, link) VALUES (?, ?, 'dr.test', ?)",
                 [n + 2, n + 2, "ab" * 32])  # a link made up for the second one
    conn.commit()
    conn.close()
    assert audit_problems(chart) == [
        f"audit row {n + 1} (2025-03-01T09:00:00.000Z, patients update MRN-0042): no link covers it: written "
        "outside Motorchart",
        f"audit row {n + 2} (2025-03-01T09:00:01.000Z, settings insert), written by dr.test, does not match its "
        "link: changed outside Motorchart, or a row was slipped in among them, or the link was changed",
    ]


def test_rows_removed_from_the_middle_are_named(chart):
    trail, _ = rows(chart)
    conn = raw(chart)
    with without_trigger(conn, "audit_no_delete"):
        conn.execute("DELETE FROM audit WHERE id = 2")  # the first visit, inside the import's rows
    conn.close()
    assert audit_problems(chart) == [
        f"audit row 2 is missing (between row 1 of {trail[0][1]} and row 3 of {trail[2][1]}): "
        "removed outside Motorchart",
        "1 visit(s) have no audit row of their creation (MRN-0042 2025-03-01 v1): written outside Motorchart, "
        "or that row was removed"]


def test_an_edited_row_is_named_with_the_rows_written_with_it(chart):
    _, links = rows(chart)
    conn = raw(chart)
    with without_trigger(conn, "audit_no_update"):
        conn.execute("UPDATE audit SET new_json = replace(new_json, 'Zofia', 'Zosia') WHERE id = 1")
    conn.close()
    trail, _ = rows(chart)
    first, last = links[0][:2]
    assert audit_problems(chart) == [
        f"audit rows {first} to {last} ({trail[first - 1][1]} to {trail[last - 1][1]}, written by dr.test) do not "
        "match their link: changed outside Motorchart, or a row was slipped in among them, or the link was changed"]


def test_rows_removed_from_the_end_without_their_link_are_named(chart):
    trail, _ = rows(chart)
    conn = raw(chart)
    with without_trigger(conn, "audit_no_delete"):
        conn.execute("DELETE FROM audit WHERE id = ?", [len(trail)])
    conn.close()
    assert audit_problems(chart) == [
        f"audit row {len(trail)} is missing (after row {len(trail) - 1} of {trail[-2][1]}): removed outside Motorchart"]


def cut_last_write(path) -> tuple[int, int]:
    """Cut the last write's rows and its link off the end, as someone hiding it would; returns
    (rows before, rows after)."""
    trail, links = rows(path)
    keep = links[-2][1]
    conn = raw(path)
    with without_trigger(conn, "audit_no_delete"), without_trigger(conn, "audit_links_no_delete"):
        conn.execute("DELETE FROM audit WHERE id > ?", [keep])
        conn.execute("DELETE FROM audit_links WHERE last_id > ?", [keep])
    conn.close()
    return len(trail), keep


def test_rows_cut_off_the_end_with_their_link_are_found_by_the_head_file(chart, patient_factory):
    trail, _ = rows(chart)
    n, keep = cut_last_write(chart)
    assert audit_problems(chart) == [
        f"the audit trail ends at row {keep} of {trail[keep - 1][1]}, but the head file {ac.head_path(chart)} "
        f"records row {n} of {trail[-1][1]}: rows {keep + 1} to {n} were cut off the end outside Motorchart "
        "(or the chart file was replaced by an older copy)"]
    # the app goes on writing, but never moves that evidence forward
    with ChartStore.open(chart, user="dr.test") as store:
        store.add_patient(patient_factory(id="MRN-NEW"))
        store.set_setting("note", 1)
        assert store.full_check()["audit"] == [
            f"the audit trail up to row {n} differs from what the head file {ac.head_path(chart)} records "
            f"({trail[-1][1]}): it was rewritten outside Motorchart (or the chart file was replaced by another one)"]
    assert ac.read_head(chart)["id"] == n


def test_rows_cut_off_the_end_are_found_by_a_backup_when_the_head_file_is_gone_too(chart):
    with ChartStore.open(chart, user="dr.test") as store:
        backup = store.backup()
    trail, _ = rows(chart)
    n, keep = cut_last_write(chart)
    ac.head_path(chart).unlink()
    problems = audit_problems(chart)
    assert len(problems) == 1
    assert problems[0].startswith(f"the audit trail ends at row {keep} of {trail[keep - 1][1]}, but the backup "
                                  f"{backup.name} (made ")
    assert f"records row {n} of {trail[-1][1]}: rows {keep + 1} to {n} were cut off the end" in problems[0]


def test_a_dropped_audit_trigger_is_named_and_refuses_writes(chart, patient_factory):
    conn = raw(chart)
    conn.execute("DROP TRIGGER patients_audit_update")
    conn.execute("DROP TRIGGER audit_links_no_delete")
    conn.commit()
    conn.close()
    with ChartStore.open(chart, user="dr.test") as store:
        assert store.full_check()["triggers"] == ["missing trigger patients_audit_update",
                                                  "missing trigger audit_links_no_delete"]
        with pytest.raises(StoreError, match="safety triggers are missing"):
            store.add_patient(patient_factory(id="MRN-NEW"))


# ------------------------------------------------------------------------------ not tampering

def test_a_restore_from_an_older_backup_is_not_taken_for_rows_cut_off(chart, patient_factory):
    with ChartStore.open(chart, user="dr.test") as store:
        older = store.backup()
        store.add_patient(patient_factory(id="MRN-LATER"))
        store.backup()  # a newer backup holding rows the restored chart will not have
    restore_backup(chart, older)
    assert audit_problems(chart) == []
    with ChartStore.open(chart, user="dr.test") as store:
        store.add_patient(patient_factory(id="MRN-AFTER"))  # the same ids again, other rows
        assert store.full_check()["audit"] == []


def test_a_new_chart_started_beside_an_old_ones_backups_is_not_compared_with_them(chart, patient_factory):
    with ChartStore.open(chart, user="dr.test") as store:
        store.backup()
    chart.unlink()
    with ChartStore.open(chart, user="dr.test", new=True) as store:
        store.add_patient(patient_factory(id="MRN-NEW"))
        assert store.full_check()["audit"] == []


def test_an_older_chart_has_its_existing_rows_chained_in_order_keeping_their_users(tmp_path, patient_factory):
    path = tmp_path / "old.sqlite"
    db = Database(path)
    migrations.apply(db, stop_before="m010_tamper_evident_audit")
    db.execute("INSERT INTO session (id, user, opened_utc) VALUES (1, 'dr.before', '2025-01-01')")
    db["patients"].insert({"id": "MRN-1", "family_name": "Côté"})
    db["patients"].update("MRN-1", {"given_names": "Renée"})
    db.conn.commit()
    db.conn.close()
    with ChartStore.open(path, user="dr.after") as store:
        store.add_patient(patient_factory(id="MRN-2"))
        trail = store.audit_trail()
        assert [e.user for e in trail] == ["dr.before", "dr.before", "dr.after"]
        assert store.full_check()["audit"] == []
        assert "session" not in store.db.table_names()


def test_the_links_of_an_encrypted_chart_are_keyed(tmp_path, patient_factory):
    from desktop.store import keys

    path = tmp_path / "secret.sqlite"
    with keys.cheap_kdf_for_tests():
        keys.create_encrypted(path, "correct horse battery staple")
    with ChartStore.open(path, user="dr.test") as store:
        store.add_patient(patient_factory())
        assert store.chain_key is not None and store.chain_key != store.key.raw
        assert store.full_check()["audit"] == []
        problems, n = ac.verify_chain(store.db.conn, None)  # plain SHA-256 does not reproduce them
        assert n > 0 and problems and all("not match" in line for line in problems)
        assert ac.read_head(path)["scheme"] == "hmac-sha256"


def test_the_payload_is_unambiguous():
    assert ac.audit_payload([1, None, "a:b", ""]) == b"i1:1-s3:a:bs0:"
    assert ac.audit_payload(["ab", "c"]) != ac.audit_payload(["a", "bc"])
    assert ac.audit_payload([None]) != ac.audit_payload(["-"])
    row = (1, "2025-01-01T00:00:00.000Z", "", "settings", "insert", None, "k", None, "{}")
    assert ac.block_link(None, "dr.a", [row]) != ac.block_link(None, "dr.b", [row])  # the link covers the user
    assert ac.block_link(None, "dr.a", [row]) != ac.block_link(None, "dr.a", [row], b"k" * 32)


def test_relinking_under_a_new_key_keeps_what_each_link_covers(chart):
    conn = raw(chart)
    before = conn.execute("SELECT first_id, last_id, user FROM audit_links ORDER BY last_id").fetchall()
    assert ac.verify_chain(conn, None)[0] == []
    conn.execute("BEGIN IMMEDIATE")
    assert ac.relink(conn, b"k" * 32) == len(before)
    conn.execute("COMMIT")
    assert conn.execute("SELECT first_id, last_id, user FROM audit_links ORDER BY last_id").fetchall() == before
    assert ac.verify_chain(conn, b"k" * 32)[0] == []
    assert ac.verify_chain(conn, None)[0] != []
    with pytest.raises(sqlite3.IntegrityError, match=AUDIT_MESSAGE):  # append-only again
        conn.execute("DELETE FROM audit_links")
    conn.close()
