"""Issue 18, point 1: encryption at rest with SQLCipher, on real files.

The key scheme (a random chart key wrapped by Argon2id and by a recovery key in ``<chart>.key``),
the chart and its -wal and backups encrypted with it, a plain chart converted in place, the
passphrase changed, the key renewed with older backups still opening with the older passphrase.
Every test here uses the cheap Argon2 hook (``cheap_kdf``) except the one that checks the
production parameters."""

from __future__ import annotations

import json
import os

import pytest

from desktop.store import ChartStore, StoreError, keys, restore_backup
from desktop.store import backups as B
from desktop.store.driver import file_kind, sqlite3
from desktop.store.migrations import SCHEMA_VERSION, migrations
from desktop.store.paths import backups_dir
from tests.store.conftest import make_case, make_patient, make_visit

PASS = "correct horse battery"
NAME = "Zebedeeson-Quirkwhistle"
NOTE = "Xylophonic tremor noted"


def _case(pid: str = "MRN-7001"):
    case = make_case(pid)
    patient = make_patient(pid, family_name=NAME, given_names="Ottoline")
    visits = tuple(v.model_copy(update={"notes": NOTE}) for v in case.visits)
    return case.model_copy(update={"patient": patient, "visits": visits})


def _encrypted(path, passphrase: str = PASS, pid: str = "MRN-7001"):
    setup = keys.create_encrypted(path, passphrase, user="dr.test")
    store = ChartStore.open(path, key=setup.key, user="dr.test", daily_backup=False)
    store.import_case(_case(pid))
    store.close(backup=False)
    return setup


def _files(path):
    """Every file beside the chart and in its backups folder."""
    out = [p for p in path.parent.iterdir() if p.is_file()]
    if backups_dir(path).is_dir():
        out += [p for p in backups_dir(path).iterdir() if p.is_file()]
    return out


def _leaks(files, *needles: str) -> list[str]:
    found = []
    for f in files:
        data = f.read_bytes()
        for n in needles:
            for enc in ("utf-8", "utf-16-le", "utf-16-be"):
                if n.encode(enc) in data:
                    found.append(f"{f.name}: {n} ({enc})")
    return found


# ------------------------------------------------------------------ the driver

def test_sqlite_utils_uses_the_stores_driver_so_its_error_handling_works_encrypted(tmp_path):
    import sqlcipher3
    import sqlite_utils.db
    import sqlite_utils.utils

    from desktop.store._lean import Database

    assert sqlite_utils.utils.sqlite3 is sqlcipher3 and sqlite_utils.db.sqlite3 is sqlcipher3
    assert sqlite_utils.db.OperationalError is sqlcipher3.dbapi2.OperationalError
    conn = sqlite3.connect(str(tmp_path / "x.sqlite"))
    conn.execute(f"PRAGMA key = \"x'{os.urandom(32).hex()}'\"")
    db = Database(conn)
    db["t"].insert({"id": 1, "name": "a"}, pk="id")
    db["missing"].drop(ignore=True)  # catches the driver's OperationalError
    assert db.query("UPDATE t SET name = 'b' RETURNING name").__next__() == {"name": "b"}
    assert file_kind(tmp_path / "x.sqlite") == "encrypted"


# ------------------------------------------------------------------ round trips

def test_an_encrypted_chart_opens_with_its_key_and_refuses_without_it(tmp_path, cheap_kdf):
    path = tmp_path / "chart.sqlite"
    setup = _encrypted(path)
    assert keys.is_encrypted(path) and file_kind(path) == "encrypted"
    assert len(setup.recovery_key) == 39 and setup.recovery_key.count("-") == 7
    assert setup.recovery_key not in keys.key_file(path).read_text()
    keys.forget_keys()
    with pytest.raises(keys.ChartLocked, match="encrypted; unlock it with its passphrase"):
        ChartStore.open(path, user="dr.test")
    with pytest.raises(keys.WrongPassphrase, match="the passphrase is wrong"):
        keys.unlock(path, "not the passphrase")
    key = keys.unlock(path, PASS)
    assert key == setup.key and "raw" not in repr(key)
    with ChartStore.open(path, key=key, user="dr.test") as store:
        assert store.encrypted
        assert store.get_patient("MRN-7001").family_name == NAME
    keys.forget_keys()
    assert keys.unlock(path, setup.recovery_key.lower().replace("-", " ")) == setup.key  # the recovery key


def test_a_key_is_never_used_where_it_does_not_belong(tmp_path, cheap_kdf):
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    sa = _encrypted(a)
    sb = _encrypted(b)
    with pytest.raises(StoreError, match="damaged, or its key file belongs to another chart"):
        ChartStore.open(a, key=sb.key, user="dr.test")
    plain = tmp_path / "plain.sqlite"
    ChartStore.open(plain, user="dr.test").close(backup=False)
    with pytest.raises(StoreError, match="not encrypted"):
        ChartStore.open(plain, key=sa.key, user="dr.test")
    with pytest.raises(StoreError, match="no key file holds this key"):
        ChartStore.open(tmp_path / "new.sqlite", key=sa.key, user="dr.test")
    with pytest.raises(StoreError, match="a chart is already there"):
        keys.create_encrypted(plain, PASS)
    with pytest.raises(StoreError, match="too short"):
        keys.create_encrypted(tmp_path / "weak.sqlite", "short")
    assert not (tmp_path / "weak.sqlite").exists() and not keys.key_file(tmp_path / "weak.sqlite").exists()


def test_migrations_fts_wal_triggers_and_backups_all_work_encrypted(tmp_path, cheap_kdf):
    path = tmp_path / "chart.sqlite"
    setup = _encrypted(path)
    with ChartStore.open(path, key=setup.key, user="dr.test") as store:
        assert migrations.pending(store.db) == [] and store.schema_version == SCHEMA_VERSION
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert [r.id for r in store.search_patients("zebedee")] == ["MRN-7001"]  # FTS5 on names
        assert [r.id for r in store.search_patients("xylophonic")] == ["MRN-7001"]  # and on notes
        with pytest.raises(sqlite3.IntegrityError):  # the chart's triggers protect its patients
            store.db.execute("DELETE FROM patients WHERE id = 'MRN-7001'")
        assert store.full_check() == {"integrity": [], "foreign keys": [], "triggers": []} or \
            not any(store.full_check().values())
        store.add_patient(make_patient("MRN-7002", family_name="Second"))
        backup = store.backup()
    assert backup.name.endswith(".sqlite.enc") and file_kind(backup) == "encrypted"
    assert B.backup_problem(backup) is None
    assert B.holdings(backup).patients == {"MRN-7001", "MRN-7002"}
    assert keys.backup_key_file(path, setup.key.key_id).exists()
    with ChartStore.open(backup, readonly=True, user="dr.test") as old:  # a backup opens read-only
        assert old.count_patients() == 2
    # restore into a chart elsewhere, and over the chart itself
    other = tmp_path / "elsewhere" / "chart.sqlite"
    restore_backup(other, backup)
    assert keys.read_key_file(keys.key_file(other))["key_id"] == setup.key.key_id
    with ChartStore.open(other, user="dr.test") as store:
        assert store.count_patients() == 2 and store.encrypted
    with ChartStore.open(path, key=setup.key, user="dr.test") as store:
        store.add_patient(make_patient("MRN-7003", family_name="Third"))
    saved = restore_backup(path, backup)
    assert saved.name.endswith("-before-restore.sqlite.enc")
    with ChartStore.open(path, user="dr.test") as store:
        assert store.count_patients() == 2


def test_no_patient_name_is_in_the_raw_bytes_of_the_chart_its_wal_or_its_backups(tmp_path, cheap_kdf):
    path = tmp_path / "chart.sqlite"
    setup = _encrypted(path)
    store = ChartStore.open(path, key=setup.key, user="dr.test")
    try:
        store.import_case(_case("MRN-7004"))
        store.save_visit("MRN-7004", make_visit("2025-09-09", notes=NOTE + " again"))
        wal = path.with_name(path.name + "-wal")
        assert wal.stat().st_size > 0  # the new rows are in the -wal now
        store.backup()
        assert _leaks([path, wal], NAME, NOTE, "Ottoline", "MRN-7004") == []
    finally:
        store.close()
    files = _files(path)
    assert [f for f in files if f.name.endswith(".sqlite.enc")]
    assert _leaks(files, NAME, NOTE, "Ottoline", "MRN-700") == []


# ------------------------------------------------------------------ passphrase and key changes

def test_a_new_passphrase_rewraps_the_key_for_the_chart_and_its_backups(tmp_path, cheap_kdf):
    path = tmp_path / "chart.sqlite"
    setup = _encrypted(path)
    with ChartStore.open(path, key=setup.key, user="dr.test") as store:
        backup = store.backup()
    keys.change_passphrase(path, setup.key, "a brand new passphrase")
    keys.forget_keys()
    with pytest.raises(keys.WrongPassphrase):
        keys.unlock(path, PASS)
    assert keys.unlock(path, "a brand new passphrase") == setup.key
    assert keys.unlock(path, setup.recovery_key) == setup.key  # the recovery key is unchanged
    copy = keys.read_key_file(keys.backup_key_file(path, setup.key.key_id))
    assert copy == keys.read_key_file(keys.key_file(path))
    assert B.backup_problem(backup) is None


def test_a_new_key_keeps_older_backups_opening_with_the_old_passphrase(tmp_path, cheap_kdf):
    path = tmp_path / "chart.sqlite"
    old = _encrypted(path)
    with ChartStore.open(path, key=old.key, user="dr.test") as store:
        old_backup = store.backup()
    new = keys.rekey_chart(path, old.key, "the second passphrase")
    assert new.key != old.key and new.recovery_key != old.recovery_key
    keys.forget_keys()
    with pytest.raises(keys.WrongPassphrase):
        keys.unlock(path, PASS)
    assert keys.unlock(path, "the second passphrase") == new.key
    with ChartStore.open(path, user="dr.test") as store:
        assert store.get_patient("MRN-7001").family_name == NAME
        new_backup = store.backup()
    assert B.backup_problem(new_backup) is None
    assert B.backup_problem(old_backup) == B.LOCKED  # its key is not unlocked: not damage
    assert B.holdings(old_backup) is None  # so rotation never removes it
    assert keys.unlock_older(path, PASS) == [old.key]  # the old passphrase opens the old key
    assert B.backup_problem(old_backup) is None
    with ChartStore.open(old_backup, readonly=True, user="dr.test") as store:
        assert store.count_patients() == 1
    # the old backup restores over the chart: the chart takes the old key again
    restore_backup(path, old_backup)
    keys.forget_keys()
    assert keys.unlock(path, PASS) == old.key
    with ChartStore.open(path, user="dr.test") as store:
        assert store.count_patients() == 1


def test_a_rekey_stopped_between_its_renames_or_a_lost_key_file_is_repaired_from_the_backups_folder(
        tmp_path, cheap_kdf):
    path = tmp_path / "chart.sqlite"
    old = _encrypted(path)
    old_doc = keys.read_key_file(keys.key_file(path))
    new = keys.rekey_chart(path, old.key, "the second passphrase")
    keys.write_key_file(keys.key_file(path), old_doc)  # as if stopped before the key file's rename
    keys.forget_keys()
    assert keys.unlock(path, "the second passphrase") == new.key
    assert keys.read_key_file(keys.key_file(path))["key_id"] == new.key.key_id  # repaired
    keys.key_file(path).unlink()
    keys.forget_keys()
    assert keys.unlock(path, "the second passphrase") == new.key
    assert keys.key_file(path).exists()
    for p in backups_dir(path).glob("*.key.*"):
        p.unlink()
    keys.key_file(path).unlink()
    with pytest.raises(keys.KeyFileMissing, match="key file .* is missing"):
        keys.unlock(path, "the second passphrase")


# ------------------------------------------------------------------ converting a plain chart

def test_encrypting_a_plain_chart_converts_it_and_its_backups_and_leaves_no_plain_copy(tmp_path, cheap_kdf):
    path = tmp_path / "chart.sqlite"
    with ChartStore.open(path, user="dr.test") as store:
        store.import_case(_case())
        store.backup()
        store.backup(tag="before-upgrade")
    damaged = backups_dir(path) / B.backup_name(path, "manual")
    damaged.write_bytes(b"\x1f\x8b not really a gzip")
    plain = [p for p in _files(path) if p.suffix in (".gz", ".sqlite") and p != damaged]
    assert _leaks(plain, NAME)  # the plain chart and backups show the name
    report = keys.encrypt_chart(path, PASS)
    assert file_kind(path) == "encrypted" and keys.is_encrypted(path)
    assert len(report.converted) == 3  # the daily, the manual and the before-upgrade backups
    assert report.left_plain == (damaged,)
    assert sorted(p.name.rsplit("-", 1)[-1] for p in report.converted if "-b" in p.name) == ["upgrade.sqlite.enc"]
    assert not [p for p in _files(path) if p.name.endswith((".sqlite.gz", "-wal", "-shm")) and p != damaged]
    assert _leaks([p for p in _files(path) if p != damaged], NAME, NOTE) == []
    keys.forget_keys()
    key = keys.unlock(path, PASS)
    assert key == report.key
    with ChartStore.open(path, user="dr.test") as store:
        assert store.get_patient("MRN-7001").family_name == NAME
        assert [r.id for r in store.search_patients(NAME[:6])] == ["MRN-7001"]
        assert not any(store.full_check().values())
    for made in report.converted:
        assert B.backup_problem(made) is None and B.holdings(made).patients == {"MRN-7001"}


def test_encrypting_refuses_a_chart_open_for_writing_or_already_encrypted(tmp_path, cheap_kdf):
    path = tmp_path / "chart.sqlite"
    store = ChartStore.open(path, user="dr.test")
    try:
        with pytest.raises(StoreError, match="already open for writing"):
            keys.encrypt_chart(path, PASS)
    finally:
        store.close(backup=False)
    assert file_kind(path) == "plain"
    keys.encrypt_chart(path, PASS)
    with pytest.raises(StoreError, match="encrypted already"):
        keys.encrypt_chart(path, PASS)


# ------------------------------------------------------------------ the key file

def test_the_key_file_records_production_argon2_parameters_outside_the_test_hook(tmp_path):
    path = tmp_path / "chart.sqlite"
    keys.create_encrypted(path, PASS)
    doc = json.loads(keys.key_file(path).read_text())
    slot = next(s for s in doc["slots"] if s["kind"] == "passphrase")
    assert slot["kdf"]["name"] == "argon2id"
    assert (slot["kdf"]["memory_cost"], slot["kdf"]["time_cost"]) == (65536, 3)  # 64 MiB, 3 passes
    assert slot["aead"] == "aes-256-gcm" and {s["kind"] for s in doc["slots"]} == {"passphrase", "recovery"}
    assert os.stat(keys.key_file(path)).st_mode & 0o077 == 0
    keys.forget_keys()
    assert keys.unlock(path, PASS).key_id == doc["key_id"]
    keys.forget_keys()


def test_fields_other_features_keep_in_the_key_file_survive_a_new_passphrase(tmp_path, cheap_kdf):
    path = tmp_path / "chart.sqlite"
    setup = _encrypted(path)
    keys.update_key_file(path, audit_head={"n": 3})
    keys.change_passphrase(path, setup.key, "another passphrase")
    assert keys.read_key_file(keys.key_file(path))["audit_head"] == {"n": 3}
    with pytest.raises(ValueError):
        keys.update_key_file(path, slots=[])


def test_without_an_os_keyring_backend_the_passphrase_path_works_alone(tmp_path, cheap_kdf):
    path = tmp_path / "chart.sqlite"
    setup = _encrypted(path)
    pytest.importorskip("keyring")
    import keyring
    from keyring.backends.fail import Keyring as NoBackend

    if not isinstance(keyring.get_keyring(), NoBackend):  # pragma: no cover  (a desktop with a keyring)
        pytest.skip("this system has a keyring backend")
    assert not keys.keyring_available()
    assert keys.save_to_keyring(path, setup.key) is False
    assert keys.unlock_from_keyring(path) is None
    keys.forget_in_keyring(path)
    keys.forget_keys()
    assert keys.unlock(path, PASS) == setup.key


def test_the_copy_check_finds_a_row_that_differs(tmp_path):
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    for path, name in ((a, "Ada"), (b, "Adb")):
        conn = sqlite3.connect(str(path))
        conn.execute("CREATE TABLE patients (id TEXT PRIMARY KEY, family_name TEXT)")
        conn.execute("INSERT INTO patients VALUES ('M1', ?), ('M2', 'Same')", [name])
        conn.commit()
        conn.close()
    conn = sqlite3.connect(str(a))
    conn.execute("ATTACH DATABASE ? AS other", [str(b)])
    assert keys._differences(conn, "other") == ["table patients: 1 rows differ"]
    conn.execute("UPDATE other.patients SET family_name = 'Ada' WHERE id = 'M1'")
    assert keys._differences(conn, "other") == []
    conn.close()
