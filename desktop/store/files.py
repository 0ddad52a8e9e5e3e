"""File safety: opening, locking, checking, migrating, backing up and restoring the chart file.

:class:`ChartFile` owns the connection and everything about the file as a file; the clinical
façade :class:`desktop.store.chart.ChartStore` builds on it. An OS lock on ``<chart>.lock``
allows one writing process (read-only opens are always allowed); ``PRAGMA quick_check``; a file
from a newer Motorchart is refused; an older schema is backed up, then migrated. A chart whose
safety triggers are missing opens but refuses every write. A chart that is missing or empty
while backups of it exist is not created again unless asked (``new=True``). A chart in a
read-only folder or file opens read-only (``allow_read_only``) or is refused for writing in one
line. Backups (:mod:`desktop.store.backups`): compressed, at most one automatic backup a day,
rotated by generations.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from . import audit_chain
from ._lean import Database
from .backups import (
    COMPRESSED_SUFFIX,
    ENCRYPTED_SUFFIX,
    Generations,
    audit_heads,
    automatic_today,
    backup_infos,
    backup_problem,
    expanded,
    holdings,
    is_compressed,
    remove_partials,
    rotate,
    write_backup,
)
from .driver import apply_key, file_kind, sqlite3
from .errors import ChartMissing, StoreError
from .migrations import (KNOWN_MIGRATIONS, SCHEMA_VERSION, flush_pending_audit, migrate, migrations,
                         missing_triggers, pending_visits)
from .paths import backups_dir, chart_path, lock_path
from .patient_index import connect_read_only, folder_is_read_only
from .private import create_private_file, open_private, private_folder

try:  # POSIX; elsewhere the BEGIN IMMEDIATE probe is the only guard
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

BACKUP_SUFFIX = COMPRESSED_SUFFIX


def _schema_words(version: int) -> str:
    """A chart's schema as the messages name it (``PRAGMA user_version``; 0 before m001 set it)."""
    return f"schema {version}" if version else "an older schema"


@dataclass(frozen=True)
class Upgrade:
    """An existing chart's schema upgraded as it was opened for writing: from ``old`` (its
    ``PRAGMA user_version``; 0 before m001 recorded one) to ``new``, after a backup (``backup``)."""

    old: int
    new: int
    backup: Path

    def message(self, path: Path) -> str:
        """One line for the clinician: what happened, what it means for older copies of
        Motorchart, and where the chart as it was is kept."""
        return (f"{path}: upgraded the chart from {_schema_words(self.old)} to schema {self.new}; a Motorchart older than this one "
                f"can no longer open it (the chart as it was: {self.backup})")


def _fresh_connection(conn, path: Path, key) -> tuple[Any, Database]:
    """A new connection to the chart in place of ``conn``, which has just built or upgraded its
    schema, set up as :meth:`ChartFile._connect` sets one up (issue 20).

    A connection that ran the migrations (``ALTER TABLE``, ``CREATE TRIGGER``...) stays slower
    for every later statement than one opened on the finished schema: a bare ``BEGIN
    IMMEDIATE``, ``SELECT``, ``COMMIT`` took 11 µs against 7.7 µs, and importing case files
    into the chart just created 3.7-3.9 ms a file against 2.9-3.0 ms (``motorchart import
    --new`` and ``motorchart demo`` write through the connection that created the chart). Not
    the write-ahead log, the temporary database, the pragmas or the memory released (each ruled
    out by measuring); per-connection state the schema changes leave behind (SQLite's lookaside
    memory for short-lived objects, say). Reconnecting costs about a millisecond, once per
    chart created or upgraded."""
    conn.close()
    conn = sqlite3.connect(str(path), timeout=5)
    apply_key(conn, key.raw if key is not None else None)
    db = Database(conn, execute_plugins=False)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = FULL")
    return conn, db


def _written_by_older(path: Path, version: int) -> str:
    """The start of every message about a chart an older Motorchart wrote."""
    return (f"{path}: the chart was written by an older Motorchart ({_schema_words(version)}; this one uses "
            f"schema {SCHEMA_VERSION})")


class UpgradeNeeded(StoreError):
    """A chart from an older Motorchart, opened read-only: it must be upgraded first."""

    def __init__(self, path: Path, version: int):
        super().__init__(
            f"{_written_by_older(path, version)} "
            f"and must be upgraded once: run `motorchart upgrade --db {shlex.quote(str(path))}` or open it in the "
            "window (a backup is made first)")
        self.version = version

    def for_backup(self, backup: Path) -> StoreError:
        """The same, said of a compressed backup, which is never upgraded in place."""
        return StoreError(
            f"{backup}: a backup made by an older Motorchart ({_schema_words(self.version)}; this one reads "
            f"schema {SCHEMA_VERSION}): "
            f"the Motorchart that made it can read it, or restore it ({restore_command(None, backup)}; the "
            "current chart is kept aside) and it is upgraded as it opens")


class ChartFile:
    """The chart file, open: its connection, lock, integrity check and backups.

    Open with :meth:`open`; close with :meth:`close` (which makes the day's backup if due)."""

    def __init__(self, path: Path, db: Database, *, readonly: bool, user: str, lock_fd: int | None):
        self.path = path
        self.db = db
        self.readonly = readonly
        self.user = user
        self._lock_fd = lock_fd
        self._closed = False
        self.read_only_reason: str | None = None  # why a chart asked for writing opened read-only
        self._write_refusal: str | None = None  # set when the chart's safety triggers are missing
        self._cleanup: Callable[[], None] | None = None  # removes an expanded backup's copy
        self.key = None  # an encrypted chart's ChartKey (desktop.store.keys), else None
        self.chain_key: bytes | None = None  # the audit chain's HMAC key (encrypted charts), else None
        self._write_depth = 0  # nested _write() blocks: the outermost one links the audit rows
        self._pending_before: tuple[int, ...] = ()  # visits left pending by another program
        self._head_fd: int | None = None  # the head file, open while the chart is open for writing
        self._head: audit_chain.Head | None = None  # the head last written beside the chart
        self._head_ok = False  # the head file agrees with the chart: it may move forward
        self._head_since: str | None = None  # when the chart was started or last restored
        self._unchecked = False  # opened with check_in_background and no write made since
        self.upgrade: Upgrade | None = None  # this open upgraded an existing chart's schema
        self._check_thread: threading.Thread | None = None
        self._check_problem: str | None = None
        self._check_done = threading.Event()
        self._check_done.set()

    # -------------------------------------------------------------------- open / close

    @classmethod
    def open(cls, path: str | os.PathLike, *, readonly: bool = False, user: str | None = None,
             check: bool = True, daily_backup: bool = True, check_in_background: bool = False,
             on_checked: Callable[[str | None], None] | None = None, new: bool = False,
             allow_read_only: bool = False, key=None) -> ChartFile:
        """Open (creating and migrating as needed) the chart at ``path``.

        An encrypted chart (issue 18) opens with ``key`` (a :class:`desktop.store.keys.ChartKey`
        from ``keys.unlock``), by default one unlocked in this process; without one it raises
        :class:`desktop.store.keys.ChartLocked`. A new encrypted chart is made by
        ``keys.create_encrypted`` (its key file first), not here.

        A chart that is missing or empty (0 bytes) while backups of it exist raises
        :class:`ChartMissing` (naming the newest good backup and the restore command) unless
        ``new`` asks for a new, empty chart there. A chart asked for writing whose file or
        folder is read-only is refused in one line, or with ``allow_read_only`` opened
        read-only (``read_only_reason`` says why). ``readonly`` also opens a compressed backup
        (through a temporary expanded copy).

        ``check_in_background`` is the app's way: the integrity check (about 1 s per 150 MB)
        and then the daily backup run in a thread on their own read-only connection, so the
        window does not wait for them. Reads go ahead at once; the first write waits for the
        check and is refused, naming the newest good backup, if the file is damaged.
        ``on_checked(problem)`` is called from that thread with None or that message. A chart
        that needs upgrading is always checked first (an unchecked file is never migrated).
        """
        path = Path(path)
        user = (user or _login_name()).strip() or "unknown"
        if path.is_dir():
            raise StoreError(f"{path}: is a folder, not a chart file")
        exists, empty = _exists_and_empty(path)
        reason = None
        if not readonly and exists and is_compressed(path):
            raise StoreError(f"{path}: is a compressed backup, not a chart; restore it with: "
                             f"{restore_command(None, path)}")
        key = _chart_key(path, key, exists=exists and not empty)
        if not readonly and exists:
            reason = read_only_reason(path)
            if reason and allow_read_only:
                readonly = True
            elif reason:
                raise StoreError(read_only_message(path, reason))
        if readonly:
            if not exists or empty:
                missing = missing_chart(path, empty=empty, creating=False)
                if missing is not None:
                    raise missing
                raise StoreError(f"{path}: the chart file is empty (0 bytes)" if empty else f"{path}: no chart file there")
            if is_compressed(path):
                return cls._open_compressed(path, user=user)
        lock_fd = None
        if not readonly:
            if (empty or not exists) and not new:
                missing = missing_chart(path, empty=empty)
                if missing is not None:
                    raise missing
            folder = path.parent
            try:
                private_folder(folder)
            except OSError as e:
                raise StoreError(f"{folder}: cannot create the chart folder ({e.strerror})") from None
            if folder_is_read_only(folder):
                raise StoreError(f"{path}: cannot create a chart there: the folder {folder} is read-only")
            lock_fd = _acquire_lock(path)
        try:
            if not readonly:
                exists, empty = _exists_and_empty(path)  # again, now that the lock is held
                if (empty or not exists) and not new:
                    missing = missing_chart(path, empty=empty)
                    if missing is not None:
                        raise missing
                remove_partials(path)
                if empty:
                    exists = False  # a new chart is built in the empty file
            store = cls._connect(path, readonly=readonly, user=user, lock_fd=lock_fd,
                                 exists=exists, check=check, background=check_in_background, key=key)
        except BaseException:
            _release_lock(lock_fd)
            raise
        store.read_only_reason = reason
        if store._unchecked:
            store._start_background_check(daily_backup=daily_backup and not readonly and store._write_refusal is None,
                                          on_checked=on_checked)
            return store
        if on_checked is not None:
            on_checked(None)
        if not readonly and daily_backup and exists and store._write_refusal is None:
            try:
                store.daily_backup()
            except StoreError:
                pass  # a backup failure must not stop the clinic; close() tries again
        return store

    @classmethod
    def open_choosing(cls, path: str | os.PathLike, *, choose: Callable[[ChartMissing], str],
                      **kwargs) -> ChartFile | None:
        """:meth:`open`, for the window: when the chart is missing or empty beside backups of
        it, ``choose(missing)`` decides: ``"restore"`` restores the newest good backup
        (``missing.backup``) and opens it, ``"new"`` starts a new, empty chart there, anything
        else opens nothing (None). Qt-free: the window supplies the dialog as ``choose``."""
        try:
            return cls.open(path, **kwargs)
        except ChartMissing as missing:
            choice = choose(missing)
            if choice == "restore" and missing.backup is not None:
                restore_backup(path, missing.backup)
                return cls.open(path, **kwargs)
            if choice == "new":
                return cls.open(path, **{**kwargs, "new": True})
            return None

    @classmethod
    def _open_compressed(cls, path: Path, *, user: str) -> ChartFile:
        """A compressed backup, read-only, through an expanded copy removed on close."""
        ctx = expanded(path)
        plain = ctx.__enter__()
        try:
            store = cls._connect(plain, readonly=True, user=user, lock_fd=None, exists=True, check=True)
        except BaseException as e:
            ctx.__exit__(None, None, None)
            if isinstance(e, UpgradeNeeded):
                raise e.for_backup(path) from None
            if isinstance(e, StoreError):
                raise StoreError(str(e).replace(str(plain), str(path))) from None
            raise
        store.path = path
        store._cleanup = lambda: ctx.__exit__(None, None, None)
        return store

    @classmethod
    def _connect(cls, path: Path, *, readonly: bool, user: str, lock_fd: int | None,
                 exists: bool, check: bool, background: bool = False, key=None) -> ChartFile:
        try:
            if readonly:
                conn = connect_read_only(path, key=key)
            else:
                if not exists:  # private before SQLite creates it (its -wal and -shm take its mode)
                    create_private_file(path)
                conn = sqlite3.connect(str(path), timeout=5)
                apply_key(conn, key.raw if key is not None else None)
        except sqlite3.Error as e:
            raise StoreError(f"{path}: cannot open the chart file ({e})") from None
        except OSError as e:
            raise StoreError(f"{path}: cannot create the chart file ({e.strerror or e})") from None
        if key is not None and exists:
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError as e:
                conn.close()
                if "not a database" in str(e):
                    raise StoreError(_damaged_message(path, "it cannot be decrypted with its key: the file is "
                                                            "damaged, or its key file belongs to another chart")) from None
                raise StoreError(f"{path}: cannot open the chart file ({e})") from None
        chain_key = audit_chain.chain_key_of(key)
        try:
            db = Database(conn, execute_plugins=False)
            checked = not (exists and check)

            def check_now():
                problem = _quick_check(conn)
                if problem:
                    raise StoreError(_damaged_message(path, problem))

            if not checked and not background:
                check_now()
                checked = True
            _refuse_newer(conn, path)
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA synchronous = FULL")
            pending = migrations.pending(db) if _has_table(conn, "_sqlite_migrations") else ["all"]
            upgrade = None
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if pending:
                if readonly:
                    reason = read_only_reason(path)
                    if reason:
                        raise StoreError(f"{_written_by_older(path, version)} and must be upgraded once, which a "
                                         f"read-only chart cannot be ({reason}); copy it to a writable folder and "
                                         "open it there")
                    raise UpgradeNeeded(path, version)
                if not checked:
                    check_now()
                    checked = True
                if exists and _has_table(conn, "patients"):
                    upgrade = Upgrade(version, SCHEMA_VERSION, write_backup(conn, path, tag="before-upgrade", key=key))
                migrate(db, chain_key=chain_key)
                conn, db = _fresh_connection(conn, path, key)
            elif not readonly and version < SCHEMA_VERSION:
                # Every migration applied, but the process that applied the last one ended before
                # it recorded the version (migrate's last step): recorded now, else every launch
                # would take the slow way to the patient list (PatientIndex.peek checks it).
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            store = cls(path, db, readonly=readonly, user=user, lock_fd=lock_fd)
            store.upgrade = upgrade
            store.key = key
            store.chain_key = chain_key
            store._unchecked = not checked
            if not readonly:
                missing = missing_triggers(conn)
                if missing:
                    store._write_refusal = missing_triggers_message(path, missing)
            if not readonly:
                store._probe_writer()
                if store._write_refusal is None:
                    store._start_head(new=not exists)
            return store
        except StoreError:
            conn.close()
            raise
        except sqlite3.DatabaseError as e:
            conn.close()
            msg = str(e)
            if "not a database" in msg or "malformed" in msg:
                raise StoreError(_damaged_message(path, msg)) from None
            if "readonly" in msg or "read-only" in msg:
                raise StoreError(read_only_message(path, read_only_reason(path) or "the file system is read-only")) from None
            if "disk is full" in msg or "database or disk is full" in msg:
                raise StoreError(f"{path}: the disk is full; free some space and open the chart again") from None
            if readonly and "unable to open" in msg and folder_is_read_only(path.parent):
                raise StoreError(
                    f"{path}: cannot read the chart: its folder is read-only and it was not closed cleanly "
                    f"(its -wal file needs a -shm file beside it); copy the chart with its -wal file to a "
                    "writable folder and open it there") from None
            raise StoreError(f"{path}: cannot open the chart file ({msg})") from None
        except BaseException:
            conn.close()
            raise

    # ------------------------------------------------------------- the audit chain's head

    def _start_head(self, *, new: bool) -> None:
        """At a writing open: a new chart starts its head file (and the time it was started,
        before which backups are not compared); an existing one may move its head file forward
        only while the file agrees with the chart (a head that says rows were cut off the end is
        evidence: it stays until a backup is restored)."""
        if new:
            self._head_since, self._head_ok = audit_chain.now_utc(), True
        else:
            recorded = audit_chain.read_head(self.path)
            if isinstance(recorded, dict):
                self._head = audit_chain.Head.from_json(recorded)
                since = recorded.get("since_utc")
                self._head_since = since if isinstance(since, str) else None
            try:
                self._head_ok = audit_chain.head_consistent(self.db.conn, self.path, self.chain_key)
            except sqlite3.Error:  # (a damaged chart is the integrity check's to report)
                self._head_ok = False
                return
        self._advance_head()

    def _advance_head(self) -> None:
        """After a commit: the newest audit row goes to the head file beside the chart (one
        indexed read; the file is written only when rows were added)."""
        if not self._head_ok or self.db.conn.in_transaction:
            return
        head = audit_chain.last_row(self.db.conn)
        if head == self._head:
            return
        data = audit_chain.head_bytes(head, audit_chain.scheme(self.chain_key), since_utc=self._head_since)
        try:
            if self._head_fd is None:
                self._head_fd = open_private(audit_chain.head_path(self.path), os.O_RDWR)
            if os.pwrite(self._head_fd, data, 0) != len(data):  # one sector, in place
                raise OSError("short write")
        except (OSError, AttributeError):  # (no pwrite on Windows: a new file, renamed)
            try:
                audit_chain.write_head(self.path, head, audit_chain.scheme(self.chain_key), since_utc=self._head_since)
            except OSError:
                return  # the chart is saved; the head file catches up at the next write
        self._head = head

    # ------------------------------------------------------------- the background check

    def _start_background_check(self, *, daily_backup: bool, on_checked) -> None:
        self._check_done.clear()
        self._check_thread = threading.Thread(
            target=self._background_check, args=(daily_backup, on_checked),
            name="motorchart-integrity-check", daemon=True)
        self._check_thread.start()

    def _background_check(self, daily_backup: bool, on_checked) -> None:
        problem = None
        try:
            conn = connect_read_only(self.path, key=self.key)
            try:
                found = _quick_check(conn)
                if found:
                    problem = _damaged_message(self.path, found)
                self._checked(problem, on_checked)
                if not problem and daily_backup:
                    try:
                        self._daily_backup(conn)
                    except StoreError:
                        pass  # a backup failure must not stop the clinic; close() tries again
            finally:
                conn.close()
        except sqlite3.Error as e:
            problem = (_damaged_message(self.path, str(e)) if _is_damage(str(e))
                       else f"{self.path}: the integrity check could not run ({e}); nothing can be saved until it has")
            self._checked(problem, on_checked)
        except Exception as e:  # noqa: BLE001  (whatever it is, writes must not go ahead unchecked)
            self._checked(f"{self.path}: the integrity check could not run ({e})", on_checked)

    def _checked(self, problem: str | None, on_checked) -> None:
        if self._check_done.is_set():
            return
        self._check_problem = problem
        self._check_done.set()  # writes may go ahead (or are refused) from here
        if on_checked is not None:
            try:
                on_checked(problem)
            except Exception:  # noqa: BLE001  (a caller's callback must not change the verdict)
                pass

    def wait_checked(self) -> str | None:
        """Wait for a background integrity check; None if the chart is sound (or was checked
        on open), else the one-line message that refuses writes."""
        self._check_done.wait()
        return self._check_problem

    def _ensure_checked(self) -> None:
        if not self._unchecked:
            return
        problem = self.wait_checked()
        if problem:
            raise StoreError(problem)
        self._unchecked = False

    def _probe_writer(self) -> None:
        try:
            self.db.conn.execute("BEGIN IMMEDIATE")
            self.db.conn.execute("ROLLBACK")
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                raise StoreError(f"{self.path}: another program is writing to this chart; "
                                 "close it there or open the chart read-only") from None
            raise

    def close(self, *, backup: bool = True) -> Path | None:
        """Close the chart; a writable chart first makes the day's automatic backup if none
        was made today (returned, else None), then rotation."""
        if self._closed:
            return None
        made = None
        if self._check_thread is not None:
            self._check_thread.join()  # its daily backup finishes first
        # never rotate good backups out for a damaged or tampered-with copy
        damaged = self._check_problem is not None or self._write_refusal is not None
        try:
            if backup and not self.readonly and not damaged:
                try:
                    made = self.daily_backup()  # the day's automatic backup, unless already made
                except StoreError:
                    made = None
            if not self.readonly and not damaged:
                try:
                    self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error:
                    pass
            self.db.conn.close()
        finally:
            self._closed = True
            if self._head_fd is not None:
                os.close(self._head_fd)
                self._head_fd = None
            _release_lock(self._lock_fd)
            self._lock_fd = None
            if self._cleanup is not None:
                self._cleanup()
                self._cleanup = None
        return made

    def __enter__(self) -> ChartFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -------------------------------------------------------------------- writing

    @contextmanager
    def _write(self) -> Iterator[Database]:
        if self._closed:
            raise StoreError(f"{self.path}: the chart is closed")
        if self.readonly:
            if self.read_only_reason:
                raise StoreError(f"{self.path}: the chart is read-only ({self.read_only_reason}); nothing was changed")
            raise StoreError(f"{self.path}: the chart is open read-only; nothing was changed")
        if self._write_refusal is not None:
            raise StoreError(self._write_refusal)
        self._ensure_checked()
        outer = self._write_depth == 0
        conn = self.db.conn
        # The outermost write takes the write lock first (BEGIN IMMEDIATE, waiting up to the busy
        # timeout for a backup's read or another writer): a deferred transaction that reads and
        # then writes fails at once, without waiting, when the file moved on in between.
        began = outer and not conn.in_transaction
        self._write_depth += 1
        try:
            if began:
                conn.execute("BEGIN IMMEDIATE")
            with self.db.atomic():
                if outer:
                    start = audit_chain.last_audit_id(conn)
                    self._pending_before = pending_visits(conn)
                yield self.db
                if outer:  # the audit rows of the visits it stored, then who wrote the rows this
                    # write added and their link, before the commit
                    flush_pending_audit(conn, self._pending_before)
                    audit_chain.seal(conn, start, self.user, self.chain_key)
            if began:
                conn.execute("COMMIT")
        except sqlite3.Error as e:
            if began and conn.in_transaction:
                conn.rollback()
            raise StoreError(self._explain(e)) from None
        except BaseException:
            if began and conn.in_transaction:
                conn.rollback()
            raise
        finally:
            self._write_depth -= 1
        if outer:
            self._advance_head()

    @contextmanager
    def synced_together(self, then: Callable[[], None] | None = None) -> Iterator[Callable[[], None]]:
        """Many writes made safe on disk together (a bulk import's files, issue 20): each write
        still commits alone, all or nothing, but its commit is not flushed to the disk one by
        one; the ``sync`` this yields flushes every commit made so far, and is called on the way
        out too, even by an error or a second Ctrl+C. Report a write as saved only once ``sync``
        has returned: ``then`` is called after each sync that succeeded, and never again once
        one has failed (a second fsync after a failed one may succeed with the pages lost).

        Meanwhile ``PRAGMA synchronous = NORMAL``: in WAL mode a commit is then written to the
        write-ahead log and left to the operating system, so it survives the program being
        killed or crashing; only a power cut or a system crash before the next ``sync`` can
        lose such commits, whole (never half of one: SQLite's WAL guarantee), and ``sync`` is
        what ``FULL`` does at every commit: an ``fsync`` of the write-ahead log (a checkpoint
        syncs the log before it and the chart after it; a log started afresh is synced by
        SQLite). The log is opened once, here, and that file is fsynced each time. On a file
        system that refused WAL (rollback journal), or with no log file to hold, nothing
        changes: every commit stays synced. Each fsync costs about 0.5 ms on this machine type,
        a quarter of writing a case file. An ``OSError`` from ``sync`` is a
        :class:`StoreError`."""
        conn = self.db.conn
        fd = None
        if not self.readonly and conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
            log = conn.execute("PRAGMA database_list").fetchone()[2] + "-wal"
            try:
                fd = os.open(log, os.O_RDWR)  # (Windows flushes only a file open for writing)
            except OSError:  # (no log to hold: every commit stays synced)
                fd = None
        failed: list[str] = []

        def sync() -> None:
            if failed:
                raise StoreError(failed[0])
            if fd is not None:
                try:
                    os.fsync(fd)
                except OSError as e:
                    failed.append(f"{self.path}: the last changes could not be made safe on disk ({e.strerror})")
                    raise StoreError(failed[0]) from None
            if then is not None:
                then()

        try:
            if fd is not None:
                conn.execute("PRAGMA synchronous = NORMAL")
            try:
                yield sync
            finally:  # (on the way out, even by an error or a second Ctrl+C: what was committed is kept)
                if not failed:
                    sync()
        finally:
            if fd is not None:
                os.close(fd)
                if conn.in_transaction:  # (an interrupt before a failed write's rollback: finish it)
                    conn.rollback()
                conn.execute("PRAGMA synchronous = FULL")

    def _explain(self, e: sqlite3.Error) -> str:
        msg = str(e)
        if "full" in msg:
            return (f"{self.path}: the disk is full; the last change was not saved "
                    "(everything saved before is safe); free some space and try again")
        if "readonly" in msg or "read-only" in msg:
            return f"{self.path}: the chart file is read-only; the last change was not saved"
        if "malformed" in msg or "not a database" in msg:
            return _damaged_message(self.path, msg)
        if "locked" in msg or "busy" in msg:
            return f"{self.path}: another program is using this chart; the last change was not saved"
        return msg


    def integrity(self) -> str | None:
        """None when ``PRAGMA quick_check`` passes, else its first complaint."""
        return _quick_check(self.db.conn)

    def full_check(self) -> dict[str, list[str]]:
        """The deep check (``motorchart check``, Chart > Check): SQLite's full
        ``integrity_check``, ``foreign_key_check``, every expected trigger and the audit chain
        (:meth:`audit_problems`). Each key (``integrity``, ``foreign keys``, ``triggers``,
        ``audit``) maps to its problems ([] when sound)."""
        conn = self.db.conn
        out: dict[str, list[str]] = {}
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            out["integrity"] = [] if rows == ["ok"] else rows[:20]
        except sqlite3.DatabaseError as e:
            out["integrity"] = [str(e)]
        try:
            fk: dict[tuple[str, str], list] = {}
            for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check"):
                fk.setdefault((table, parent), []).append(rowid)
            out["foreign keys"] = [
                f"{len(ids)} {table} row(s) refer to missing {parent} (rowid {', '.join(map(str, ids[:5]))}"
                f"{', ...' if len(ids) > 5 else ''})" for (table, parent), ids in fk.items()]
        except sqlite3.DatabaseError as e:
            out["foreign keys"] = [str(e)]
        try:
            out["triggers"] = [f"missing trigger {t}" for t in missing_triggers(conn)]
        except sqlite3.DatabaseError as e:
            out["triggers"] = [str(e)]
        try:
            out["audit"] = self.audit_problems()
        except sqlite3.DatabaseError as e:
            out["audit"] = [f"the audit trail could not be read ({e})"]
        return out

    def audit_problems(self) -> list[str]:
        """The audit chain walked from its first row (:func:`desktop.store.audit_chain.verify_chain`),
        then its newest row against the head file beside the chart and the heads its backups
        recorded (rows cut off the end): one line per break, naming the row; [] when whole."""
        conn = self.db.conn
        problems, _rows = audit_chain.verify_chain(conn, self.chain_key)
        pending = pending_visits(conn)
        if pending:
            problems.append(f"{len(pending)} visit(s) were stored without their audit row "
                            f"({_named_visits(conn, pending)}): written outside Motorchart")
        # A visit another program inserted, then struck from the pending list (audit_pending is
        # bookkeeping, not protected like the audit): it has no audit row of its creation.
        unrecorded = tuple(r[0] for r in conn.execute(
            "SELECT id FROM visits EXCEPT SELECT json_extract(new_json, '$.id') FROM audit "
            "WHERE table_name = 'visits' AND action = 'insert' ORDER BY 1") if r[0] not in pending)
        if unrecorded:
            problems.append(f"{len(unrecorded)} visit(s) have no audit row of their creation "
                            f"({_named_visits(conn, unrecorded)}): written outside Motorchart, or that row "
                            "was removed")
        if self._cleanup is None:  # (a compressed backup opened through a copy has no head file)
            problems += audit_chain.head_problems(conn, self.path, key=self.chain_key,
                                                  last=audit_chain.last_row(conn), backups=audit_heads(self.path))
        return problems

    @property
    def encrypted(self) -> bool:
        """Whether the chart is encrypted (issue 18): its backups are too."""
        return self.key is not None

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    # -------------------------------------------------------------------- backups

    def backup_generations(self) -> Generations:
        return _generations(self.db.conn)

    def backup(self, tag: str = "manual") -> Path:
        """A compressed, consistent copy of the chart in the backups folder, never rotated
        away (``manual`` unless another tag is given)."""
        if self.readonly:
            raise StoreError(f"{self.path}: the chart is open read-only; use motorchart backup")
        return write_backup(self.db.conn, self.path, tag=tag, key=self.key)

    def daily_backup(self) -> Path | None:
        """The day's automatic backup unless one was made today (local day), then rotation;
        called on open, on close, and by the app's timer when it stays open past midnight."""
        return self._daily_backup(self.db.conn)

    def _daily_backup(self, conn: sqlite3.Connection) -> Path | None:
        if automatic_today(self.path) is not None:
            return None
        made = write_backup(conn, self.path, tag="", key=self.key)
        try:
            rotate(self.path, _generations(conn))
        except (OSError, sqlite3.Error):
            pass  # rotation can wait for the next backup
        return made


# ------------------------------------------------------------------------------ file-level

def _chart_key(path: Path, key, *, exists: bool):
    """The key to open ``path`` with: ``key``, or for an encrypted chart one unlocked in this
    process (ChartLocked when none is); None for a plain chart (a key given for a plain chart,
    or for a new chart whose key file does not hold it, is refused)."""
    from . import keys

    kind = file_kind(path) if exists else "missing"
    if kind == "encrypted":
        key = key or keys.key_for(path)
        if key is None and not (keys.is_encrypted(path) or path.name.endswith(ENCRYPTED_SUFFIX)):
            return None  # no key file anywhere: a damaged plain chart, which the open reports as such
        if key is None:
            raise keys.ChartLocked(f"{path}: the chart is encrypted; unlock it with its passphrase")
        keys.remember(key)
        return key
    if key is None:
        return None
    if kind == "plain":
        raise StoreError(f"{path}: the chart is not encrypted (encrypt it with: motorchart encrypt)")
    doc = keys._read_quietly(keys.key_file(path))
    if doc is None or doc.get("key_id") != key.key_id:
        raise StoreError(f"{path}: no key file holds this key; an encrypted chart is created with its key file "
                         "(keys.create_encrypted)")
    keys.remember(key)
    return key


def _login_name() -> str:
    """The operating-system account running Motorchart (the audit's user): from the account
    database, not from environment variables that anyone can set (``USER``, ``LOGNAME``)."""
    try:
        import pwd
    except ImportError:  # pragma: no cover  (Windows: the logged-in user)
        import getpass

        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid {os.getuid()}"


def _is_read_only(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not os.access(path, os.W_OK) or not (mode & 0o222)


def _exists_and_empty(path: Path) -> tuple[bool, bool]:
    try:
        return True, path.stat().st_size == 0
    except FileNotFoundError:
        return False, False
    except OSError:
        return path.exists(), False


def read_only_reason(path: Path | str) -> str | None:
    """Why the chart at ``path`` cannot be written (its file or its folder is read-only, by
    permissions or a read-only file system), or None. Root ignores permissions: the mode bits
    count too, so that a chart made read-only with chmod is treated as read-only by everyone."""
    path = Path(path)
    try:
        if os.statvfs(path.parent).f_flag & os.ST_RDONLY:
            return "it is on a read-only file system"
    except (OSError, AttributeError):  # (no statvfs on Windows)
        pass
    if path.exists() and _is_read_only(path):
        return "the chart file is read-only"
    if folder_is_read_only(path.parent):
        return f"its folder {path.parent} is read-only"
    return None


def read_only_message(path: Path, reason: str) -> str:
    return (f"{path}: the chart is read-only ({reason}); it can be read (check, export, report) but "
            "nothing can be changed")


def _acquire_lock(path: Path) -> int | None:
    lp = lock_path(path)
    try:
        fd = open_private(lp, os.O_RDWR)
    except OSError as e:
        raise StoreError(f"{lp}: cannot create the chart's lock file ({e.strerror})") from None
    if fcntl is None:  # pragma: no cover
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        try:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        except OSError:
            holder = ""
        os.close(fd)
        who = f" (process {holder})" if holder.isdigit() else ""
        raise StoreError(f"{path}: this chart is already open for writing in another Motorchart{who}; "
                         "close it there, or open this one read-only") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def _release_lock(fd: int | None) -> None:
    if fd is None:
        return
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


def _is_damage(msg: str) -> bool:
    """Whether an SQLite error says the file itself is damaged (not locked, busy or unopenable)."""
    return any(w in msg for w in ("malformed", "not a database", "corrupt", "disk I/O error"))


def _quick_check(conn: sqlite3.Connection) -> str | None:
    """None when ``PRAGMA quick_check`` passes, else its complaint. A file that cannot be
    opened at all (permissions, a missing ``-shm`` in a read-only folder) is not called damaged:
    that error is raised."""
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as e:
        if isinstance(e, sqlite3.OperationalError) and not _is_damage(str(e)):
            raise
        return str(e)
    return None if rows == ["ok"] else "; ".join(rows[:3])


def _refuse_newer(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    unknown: list[str] = []
    if _has_table(conn, "_sqlite_migrations"):
        unknown = [r[0] for r in conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = 'motorchart'")
            if r[0] not in KNOWN_MIGRATIONS]
    if version > SCHEMA_VERSION or unknown:
        raise StoreError(
            f"{path}: this chart was written by a newer Motorchart (schema {max(version, SCHEMA_VERSION + 1)}; "
            f"this version reads up to {SCHEMA_VERSION}); update Motorchart to open it")
    if version == 0 and not _has_table(conn, "_sqlite_migrations"):
        others = conn.execute("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchone()[0]
        if others:
            raise StoreError(f"{path}: this SQLite file is not a Motorchart chart")


def list_backups(chart: Path | str) -> list[Path]:
    """The chart's backups, newest first: the compressed ones and the uncompressed ones that
    earlier versions wrote."""
    return [i.path for i in backup_infos(chart)]


def newest_good_backup(chart: Path | str) -> Path | None:
    """The newest backup that reads back whole (:func:`desktop.store.backups.backup_problem`)."""
    for i in backup_infos(chart):
        if backup_problem(i.path) is None:
            return i.path
    return None


def restore_command(chart: Path | str | None, backup: Path | str) -> str:
    """The exact command that restores ``backup`` over ``chart`` (``--db`` unless it is the
    default chart), quoted for a POSIX shell."""
    import shlex

    parts = ["motorchart", "restore", shlex.quote(str(backup))]
    if chart is not None:
        chart = Path(chart)
        try:
            default = chart_path(None)
        except Exception:  # noqa: BLE001  (no user data folder: always name the chart)
            default = None
        if default is None or chart.absolute() != default.absolute():
            parts += ["--db", shlex.quote(str(chart))]
    return " ".join(parts + ["--yes"])


def missing_chart(path: Path | str, *, empty: bool | None = None, creating: bool = True) -> ChartMissing | None:
    """The refusal to create a chart at ``path`` (missing, or empty) while backups of one are
    there, or None when there are none (a new chart is then made as usual). Qt-free: the window
    shows its message and offers to restore ``backup`` or start a new chart."""
    path = Path(path)
    infos = backup_infos(path)
    if not infos:
        return None
    if empty is None:
        empty = _exists_and_empty(path)[1]
    what = "empty (0 bytes)" if empty else "missing"
    new = "; or add --new to start a new, empty chart there" if creating else ""
    good = newest_good_backup(path)
    if good is None:
        return ChartMissing(
            f"{path}: the chart file is {what}, and none of its {len(infos)} backup(s) in {backups_dir(path)} "
            f"reads back whole; nothing was created{new}", path=path, empty=empty)
    held = holdings(good)
    n = len(held.patients) if held is not None else None
    count = f" ({n} patient{'s' if n != 1 else ''})" if n is not None else ""
    return ChartMissing(
        f"{path}: the chart file is {what}, but backups of it exist; nothing was created; the newest good "
        f"backup is {good}{count}; restore it with: {restore_command(path, good)}{new}",
        path=path, backup=good, patients=n, empty=empty)


def missing_triggers_message(path: Path, missing: list[str]) -> str:
    names = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return (f"{path}: the chart's safety triggers are missing ({names}): it was changed outside "
            "Motorchart, so nothing can be saved to it; run motorchart check, and restore a backup")


def _settings(conn: sqlite3.Connection) -> dict[str, Any]:
    return {k: json.loads(v) for k, v in conn.execute("SELECT key, value_json FROM settings")}


def _generations(conn: sqlite3.Connection) -> Generations:
    try:
        return Generations.from_setting(_settings(conn).get("backup_generations"))
    except (sqlite3.Error, ValueError):
        return Generations()


def _damaged_message(path: Path, problem: str) -> str:
    good = newest_good_backup(path)
    first = problem.splitlines()[0] if problem else "integrity check failed"
    if good is None:
        return f"{path}: the chart file is damaged ({first}) and no good backup was found"
    return (f"{path}: the chart file is damaged ({first}); the newest good backup is {good} "
            f"(restore it with: {restore_command(path, good)})")


def backup_chart(chart: Path | str, tag: str = "manual", *, key=None) -> Path:
    """A compressed, consistent copy of the chart in its backups folder
    (``<stem>-<time>-<tag>.sqlite.gz``; an encrypted chart's is encrypted with its key,
    ``key`` or one unlocked in this process: ``.sqlite.enc``), made through a read-only
    connection: no writer lock is taken, so it works while the app has the chart open for
    writing. The chart is checked first (a damaged chart is never copied beside good
    backups); a manual backup is never rotated away."""
    chart = Path(chart)
    if chart.is_dir():
        raise StoreError(f"{chart}: is a folder, not a chart file")
    if not chart.is_file():
        raise StoreError(f"{chart}: no chart file there")
    exists, empty = _exists_and_empty(chart)
    if empty:
        missing = missing_chart(chart, empty=True)
        raise missing if missing is not None else StoreError(f"{chart}: the chart file is empty (0 bytes)")
    if is_compressed(chart):
        raise StoreError(f"{chart}: is a compressed backup already, not a chart")
    folder = backups_dir(chart)
    where = folder if folder.is_dir() else chart.parent
    if folder_is_read_only(where):
        reason = read_only_reason(chart) or f"{where} is read-only"
        raise StoreError(f"{chart}: the chart is read-only ({reason}); no backup can be written beside it "
                         f"(copy the chart elsewhere to keep a copy)")
    key = _chart_key(chart, key, exists=True)
    try:
        conn = connect_read_only(chart, key=key)
    except sqlite3.Error as e:
        raise StoreError(f"{chart}: cannot open the chart file ({e})") from None
    try:
        problem = _quick_check(conn)
        if problem:
            raise StoreError(_damaged_message(chart, problem))
        if not _has_table(conn, "patients"):
            raise StoreError(f"{chart}: this SQLite file is not a Motorchart chart")
        return write_backup(conn, chart, tag=tag, key=key)
    except sqlite3.DatabaseError as e:
        if _is_damage(str(e)):
            raise StoreError(_damaged_message(chart, str(e))) from None
        raise StoreError(f"{chart}: the chart could not be read for the backup ({e}); try again") from None
    finally:
        conn.close()


def restore_backup(chart: Path | str, backup: Path | str) -> Path | None:
    """Replace the chart with a backup (the chart must not be open for writing elsewhere); any
    backup format Motorchart writes, compressed or not.

    A readable current chart is first backed up (``-before-restore``); a damaged one is moved
    aside as ``<name>.damaged-<time>``; an empty (0-byte) one is removed. Returns the saved
    copy, if any. The chart is replaced in one SQLite transaction: a restore that is killed
    leaves the chart as it was.

    Encryption (issue 18): an encrypted backup needs its key unlocked in this process (and an
    encrypted chart its own); the restored chart is encrypted with the backup's key, and the
    chart's key file becomes that key's (from the copy in the backups folder). When the keys
    differ (a backup made before a ``rekey --new-key``), the chart is rebuilt in a new file
    that replaces it by a rename. A plain backup does not replace an encrypted chart."""
    chart, backup = Path(chart), Path(backup)
    if not backup.is_file():
        raise StoreError(f"{backup}: no such backup file")
    if chart.is_dir():
        raise StoreError(f"{chart}: is a folder, not a chart file")
    reason = read_only_reason(chart)
    if reason:
        raise StoreError(f"{chart}: the chart is read-only ({reason}); nothing was restored")
    try:
        private_folder(chart.parent)
    except OSError as e:
        raise StoreError(f"{chart.parent}: cannot create the chart folder ({e.strerror})") from None
    from . import keys

    backup_key = chart_key = key_doc = None
    if file_kind(backup) == "encrypted":
        backup_key = keys.key_for(backup)
        if backup_key is None and not backup.name.endswith(ENCRYPTED_SUFFIX):
            pass  # not named as an encrypted backup: a damaged plain one, reported as such below
        elif backup_key is None:
            raise keys.ChartLocked(f"{backup}: the backup is encrypted with a key not unlocked here; give the "
                                   "passphrase of the time it was made; nothing was restored")
        key_doc = keys.key_document(chart, backup_key, also=[backup.parent]) if backup_key else None
        if backup_key is not None and key_doc is None:
            raise keys.KeyFileMissing(f"{backup}: no key file of this backup's key was found beside the chart or "
                                      "in its backups folder; nothing was restored")
    if keys.is_encrypted(chart):
        chart_key = keys.key_for(chart)
        if chart_key is None:
            raise keys.ChartLocked(f"{chart}: the chart is encrypted; unlock it with its passphrase; "
                                   "nothing was restored")
        if backup_key is None:
            raise StoreError(f"{backup}: a plain backup cannot replace an encrypted chart; restore it to "
                             "another file (--db), then encrypt that with: motorchart encrypt")
    with expanded(backup, folder=backups_dir(chart)) as plain:
        try:
            src = connect_read_only(plain, key=backup_key)
        except sqlite3.Error as e:
            raise StoreError(f"{backup}: cannot open the backup ({e})") from None
        try:
            try:
                problem = _quick_check(src)
                if problem:
                    raise StoreError(f"{backup}: the backup is damaged ({problem}); choose another")
                if not _has_table(src, "patients"):
                    raise StoreError(f"{backup}: not a Motorchart chart backup")
                _refuse_newer(src, backup)
            except sqlite3.Error as e:
                raise StoreError(f"{backup}: cannot read the backup ({e}); choose another") from None
            fd = _acquire_lock(chart)
            try:
                saved = _set_aside(chart, chart_key)
                if backup_key is not None and file_kind(chart) not in ("missing", "empty") and (
                        chart_key is None or chart_key.key_id != backup_key.key_id):
                    _restore_by_rename(src, chart, backup_key, key_doc)
                else:
                    if key_doc is not None and chart_key is None:
                        keys.write_key_file(keys.key_file(chart), key_doc)  # before the chart is encrypted
                    create_private_file(chart)
                    dest = sqlite3.connect(str(chart))
                    try:
                        apply_key(dest, backup_key.raw if backup_key is not None else None)
                        src.backup(dest)
                        dest.execute("PRAGMA journal_mode = WAL")
                    finally:
                        dest.close()
            except (sqlite3.Error, OSError) as e:
                raise StoreError(f"{chart}: the backup could not be restored ({e}); the chart is as it was") from None
            finally:
                _release_lock(fd)
            _restart_head(chart, src)
            return saved
        finally:
            src.close()


def _restart_head(chart: Path, restored) -> None:
    """After a restore: the head file beside the chart is the restored trail's, and backups made
    before now are not compared with it (they may hold rows the restore discarded). If it cannot
    be written, the old one goes (it would call the restore rows cut off the end)."""
    try:
        audit_chain.write_head(chart, audit_chain.last_row(restored), None, since_utc=audit_chain.now_utc())
    except OSError:
        try:
            audit_chain.head_path(chart).unlink(missing_ok=True)
        except OSError:
            pass


def _restore_by_rename(src, chart: Path, key, key_doc: dict) -> None:
    """Restore an encrypted backup over a chart of another key (or a plain one): the backup is
    copied into a new file beside the chart, which then replaces it by a rename; the chart's key
    file follows (a stop between the two leaves both keys findable: ``keys.unlock`` tries the
    backups folder's copies)."""
    from desktop.outfiles import sync_folder

    from . import keys

    tmp = chart.with_name(chart.name + ".restoring.partial")
    for side in ("", "-journal", "-wal", "-shm"):
        Path(str(tmp) + side).unlink(missing_ok=True)
    create_private_file(tmp)
    dest = sqlite3.connect(str(tmp))
    try:
        apply_key(dest, key.raw)
        src.backup(dest)
        dest.execute("PRAGMA journal_mode = WAL")
    finally:
        dest.close()
    cur = sqlite3.connect(str(chart), timeout=5)  # the chart's -wal, emptied into it before the rename
    try:
        if file_kind(chart) == "plain":
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error:
        pass
    finally:
        cur.close()
    for side in ("-wal", "-shm", "-journal"):
        Path(str(chart) + side).unlink(missing_ok=True)
    os.replace(tmp, chart)
    sync_folder(chart.parent)
    keys.write_key_file(keys.key_file(chart), key_doc)


def _set_aside(chart: Path, key=None) -> Path | None:
    """Before a restore: a compressed ``before-restore`` backup of a readable chart (an
    encrypted one's is encrypted with ``key``); a damaged one moved aside; an empty one
    removed."""
    exists, empty = _exists_and_empty(chart)
    if not exists:
        return None
    wal = chart.with_name(chart.name + "-wal")
    if empty and not wal.exists():
        chart.unlink()
        return None
    healthy = False
    if not empty:
        cur = sqlite3.connect(str(chart))
        try:
            apply_key(cur, key.raw if key is not None else None)
            try:
                healthy = _quick_check(cur) is None
            except sqlite3.DatabaseError as e:
                if not _is_damage(str(e)):  # locked, busy: not a reason to set a chart aside as damaged
                    raise StoreError(f"{chart}: the chart could not be read ({e}); nothing was restored") from None
                healthy = False
            if healthy:
                return write_backup(cur, chart, tag="before-restore", key=key)
        finally:
            cur.close()
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    saved = chart.with_name(f"{chart.name}.damaged-{stamp}")
    os.replace(chart, saved)
    for ext in ("-wal", "-shm"):
        side = chart.with_name(chart.name + ext)
        if side.exists():
            os.replace(side, saved.with_name(saved.name + ext))
    return saved


def _named_visits(conn, ids: tuple[int, ...]) -> str:
    """The first five of these visits as "MRN date vN", for a problem line."""
    rows = conn.execute(f"SELECT patient_id, date, version FROM visits WHERE id IN ({', '.join(map(str, ids[:5]))}) "
                        "ORDER BY id").fetchall()
    return ", ".join(f"{p} {d} v{v}" for p, d, v in rows) + (", ..." if len(ids) > 5 else "")
