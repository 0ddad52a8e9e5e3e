"""File safety: opening, locking, checking, migrating, backing up and restoring the chart file.

:class:`ChartFile` owns the connection and everything about the file as a file; the clinical
façade :class:`desktop.store.chart.ChartStore` builds on it. An OS lock on ``<chart>.lock``
allows one writing process (read-only opens are always allowed); ``PRAGMA quick_check``; a file
from a newer Motorchart is refused; an older schema is backed up, then migrated. Backups use the
SQLite backup API, on close and once a day.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from ._lean import Database
from .errors import StoreError
from .migrations import KNOWN_MIGRATIONS, SCHEMA_VERSION, migrate, migrations
from .paths import backups_dir, lock_path
from .patient_index import connect_read_only
from .rows import _now_utc

try:  # POSIX; elsewhere the BEGIN IMMEDIATE probe is the only guard
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

DEFAULT_BACKUP_KEEP = 10
BACKUP_SUFFIX = ".sqlite"


class ChartFile:
    """The chart file, open: its connection, lock, integrity check and backups.

    Open with :meth:`open`; close with :meth:`close` (which makes a backup)."""

    def __init__(self, path: Path, db: Database, *, readonly: bool, user: str, lock_fd: int | None):
        self.path = path
        self.db = db
        self.readonly = readonly
        self.user = user
        self._lock_fd = lock_fd
        self._closed = False
        self._unchecked = False  # opened with check_in_background and no write made since
        self._check_thread: threading.Thread | None = None
        self._check_problem: str | None = None
        self._check_done = threading.Event()
        self._check_done.set()

    # -------------------------------------------------------------------- open / close

    @classmethod
    def open(cls, path: str | os.PathLike, *, readonly: bool = False, user: str | None = None,
             check: bool = True, daily_backup: bool = True, check_in_background: bool = False,
             on_checked: Callable[[str | None], None] | None = None) -> ChartFile:
        """Open (creating and migrating as needed) the chart at ``path``.

        ``check_in_background`` is the app's way: the integrity check (about 1 s per 150 MB)
        and then the daily backup run in a thread on their own read-only connection, so the
        window does not wait for them. Reads go ahead at once; the first write waits for the
        check and is refused, naming the newest good backup, if the file is damaged.
        ``on_checked(problem)`` is called from that thread with None or that message. A chart
        that needs upgrading is always checked first (an unchecked file is never migrated).
        """
        path = Path(path)
        user = (user or _login_name()).strip() or "unknown"
        exists = path.exists()
        if path.is_dir():
            raise StoreError(f"{path}: is a folder, not a chart file")
        if readonly and not exists:
            raise StoreError(f"{path}: no chart file there")
        lock_fd = None
        if not readonly:
            if exists and _is_read_only(path):
                raise StoreError(f"{path}: the chart file is read-only; open it read-only or make it writable")
            folder = path.parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"{folder}: cannot create the chart folder ({e.strerror})") from None
            if not os.access(folder, os.W_OK):
                raise StoreError(f"{folder}: the chart folder is read-only; open the chart read-only")
            lock_fd = _acquire_lock(path)
        try:
            store = cls._connect(path, readonly=readonly, user=user, lock_fd=lock_fd,
                                 exists=exists, check=check, background=check_in_background)
        except BaseException:
            _release_lock(lock_fd)
            raise
        if store._unchecked:
            store._start_background_check(daily_backup=daily_backup and not readonly, on_checked=on_checked)
            return store
        if on_checked is not None:
            on_checked(None)
        if not readonly and daily_backup and exists:
            try:
                store.daily_backup()
            except StoreError:
                pass  # a backup failure must not stop the clinic; close() tries again
        return store

    @classmethod
    def _connect(cls, path: Path, *, readonly: bool, user: str, lock_fd: int | None,
                 exists: bool, check: bool, background: bool = False) -> ChartFile:
        try:
            if readonly:
                conn = connect_read_only(path)
            else:
                conn = sqlite3.connect(str(path), timeout=5)
        except sqlite3.Error as e:
            raise StoreError(f"{path}: cannot open the chart file ({e})") from None
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
            if pending:
                if readonly:
                    raise StoreError(f"{path}: the chart file needs upgrading; open it once for writing")
                if not checked:
                    check_now()
                    checked = True
                if exists and _has_table(conn, "patients"):
                    _backup_file(conn, path, tag="before-upgrade", keep=None)
                migrate(db)
            store = cls(path, db, readonly=readonly, user=user, lock_fd=lock_fd)
            store._unchecked = not checked
            if not readonly:
                store._probe_writer()
                if checked:  # else the first write records the session, once the check has passed
                    store._record_session()
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
                raise StoreError(f"{path}: the chart file is read-only; open it read-only or make it writable") from None
            if "disk is full" in msg or "database or disk is full" in msg:
                raise StoreError(f"{path}: the disk is full; free some space and open the chart again") from None
            raise StoreError(f"{path}: cannot open the chart file ({msg})") from None
        except BaseException:
            conn.close()
            raise

    def _record_session(self) -> None:
        """Who writes in this session: the audit triggers read it from the one-row table."""
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO session (id, user, opened_utc) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET user = excluded.user, opened_utc = excluded.opened_utc",
                [self.user, _now_utc()],
            )

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
            conn = connect_read_only(self.path)
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
            self._checked(_damaged_message(self.path, str(e)), on_checked)
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
        if not self.readonly:
            self._record_session()

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
        """Close the chart; a writable chart first makes a rotating backup (returned)."""
        if self._closed:
            return None
        made = None
        if self._check_thread is not None:
            self._check_thread.join()  # its daily backup finishes first
        damaged = self._check_problem is not None  # never rotate good backups out for a damaged copy
        try:
            if backup and not self.readonly and not damaged:
                try:
                    made = self.backup()
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
            _release_lock(self._lock_fd)
            self._lock_fd = None
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
            raise StoreError(f"{self.path}: the chart is open read-only; nothing was changed")
        self._ensure_checked()
        try:
            with self.db.atomic():
                yield self.db
        except sqlite3.Error as e:
            raise StoreError(self._explain(e)) from None

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

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    # -------------------------------------------------------------------- backups

    def backup_keep(self) -> int:
        return _backup_keep(_settings(self.db.conn))

    def backup(self, tag: str = "") -> Path:
        """A consistent copy of the chart in the backups folder; the oldest beyond
        ``backup_keep`` are removed."""
        return _backup_file(self.db.conn, self.path, tag=tag, keep=self.backup_keep())

    def daily_backup(self) -> Path | None:
        """A backup unless one was made today (UTC); called on open, and by the app's timer
        when it stays open past midnight."""
        return self._daily_backup(self.db.conn)

    def _daily_backup(self, conn: sqlite3.Connection) -> Path | None:
        today = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d")
        if not any(b.name.startswith(f"{self.path.stem}-{today}") for b in list_backups(self.path)):
            return _backup_file(conn, self.path, tag="", keep=_backup_keep(_settings(conn)))
        return None


# ------------------------------------------------------------------------------ file-level

def _login_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _is_read_only(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not os.access(path, os.W_OK) or not (mode & 0o222)


def _acquire_lock(path: Path) -> int | None:
    lp = lock_path(path)
    try:
        fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o644)
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


def _quick_check(conn: sqlite3.Connection) -> str | None:
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as e:
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
    """The chart's backups, newest first."""
    chart = Path(chart)
    folder = backups_dir(chart)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{chart.stem}-*{BACKUP_SUFFIX}"), key=lambda p: p.name, reverse=True)


def newest_good_backup(chart: Path | str) -> Path | None:
    for b in list_backups(chart):
        try:
            conn = connect_read_only(b)
            try:
                if _quick_check(conn) is None and _has_table(conn, "patients"):
                    return b
            finally:
                conn.close()
        except sqlite3.Error:
            continue
    return None


def _settings(conn: sqlite3.Connection) -> dict[str, Any]:
    return {k: json.loads(v) for k, v in conn.execute("SELECT key, value_json FROM settings")}


def _backup_keep(settings: dict[str, Any]) -> int:
    try:
        n = int(settings.get("backup_keep", DEFAULT_BACKUP_KEEP))
    except (TypeError, ValueError):
        n = DEFAULT_BACKUP_KEEP
    return max(1, n)


def _damaged_message(path: Path, problem: str) -> str:
    good = newest_good_backup(path)
    first = problem.splitlines()[0] if problem else "integrity check failed"
    if good is None:
        return f"{path}: the chart file is damaged ({first}) and no good backup was found"
    return (f"{path}: the chart file is damaged ({first}); the newest good backup is {good} "
            f"(restore it with: motorchart restore {good} --yes)")


def _backup_file(conn: sqlite3.Connection, chart: Path, *, tag: str, keep: int | None) -> Path:
    folder = backups_dir(chart)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{chart.stem}-{stamp}{'-' + tag if tag else ''}{BACKUP_SUFFIX}"
    target = folder / name
    partial = folder / (name + ".partial")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(str(partial))
        try:
            conn.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as e:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
        raise StoreError(f"{folder}: the backup could not be written ({e})") from None
    if keep is not None:
        plain = [b for b in list_backups(chart) if not b.name.endswith(f"-before-upgrade{BACKUP_SUFFIX}")
                 and not b.name.endswith(f"-before-restore{BACKUP_SUFFIX}")]
        for old in plain[keep:]:
            try:
                old.unlink()
            except OSError:
                pass
    return target


def backup_chart(chart: Path | str, tag: str = "manual") -> Path:
    """A consistent copy of the chart in its backups folder (``<stem>-<time>-<tag>.sqlite``),
    made through a read-only connection with SQLite's online backup API: no writer lock is
    taken, so it works while the app has the chart open for writing. The chart is checked
    first (a damaged chart is never copied over good backups); the oldest plain backups
    beyond the chart's ``backup_keep`` are removed, as on close."""
    chart = Path(chart)
    if chart.is_dir():
        raise StoreError(f"{chart}: is a folder, not a chart file")
    if not chart.is_file():
        raise StoreError(f"{chart}: no chart file there")
    try:
        conn = connect_read_only(chart)
    except sqlite3.Error as e:
        raise StoreError(f"{chart}: cannot open the chart file ({e})") from None
    try:
        problem = _quick_check(conn)
        if problem:
            raise StoreError(_damaged_message(chart, problem))
        if not _has_table(conn, "patients"):
            raise StoreError(f"{chart}: this SQLite file is not a Motorchart chart")
        keep = _backup_keep(_settings(conn)) if _has_table(conn, "settings") else DEFAULT_BACKUP_KEEP
        return _backup_file(conn, chart, tag=tag, keep=keep)
    except sqlite3.DatabaseError as e:
        raise StoreError(_damaged_message(chart, str(e))) from None
    finally:
        conn.close()


def restore_backup(chart: Path | str, backup: Path | str) -> Path | None:
    """Replace the chart with a backup (the chart must not be open for writing elsewhere).

    A readable current chart is first backed up (``-before-restore``); a damaged one is moved
    aside as ``<name>.damaged-<time>``. Returns that saved copy, if any."""
    chart, backup = Path(chart), Path(backup)
    if not backup.is_file():
        raise StoreError(f"{backup}: no such backup file")
    try:
        src = connect_read_only(backup)
    except sqlite3.Error as e:
        raise StoreError(f"{backup}: cannot open the backup ({e})") from None
    try:
        problem = _quick_check(src)
        if problem:
            raise StoreError(f"{backup}: the backup is damaged ({problem}); choose another")
        if not _has_table(src, "patients"):
            raise StoreError(f"{backup}: not a Motorchart chart backup")
        _refuse_newer(src, backup)
        if chart.exists() and _is_read_only(chart):
            raise StoreError(f"{chart}: the chart file is read-only; nothing was restored")
        chart.parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire_lock(chart)
        saved = None
        try:
            if chart.exists():
                cur = sqlite3.connect(str(chart))
                try:
                    healthy = _quick_check(cur) is None
                    if healthy:
                        saved = _backup_file(cur, chart, tag="before-restore", keep=None)
                finally:
                    cur.close()
                if not healthy:
                    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
                    saved = chart.with_name(f"{chart.name}.damaged-{stamp}")
                    os.replace(chart, saved)
                    for ext in ("-wal", "-shm"):
                        side = chart.with_name(chart.name + ext)
                        if side.exists():
                            os.replace(side, saved.with_name(saved.name + ext))
            dest = sqlite3.connect(str(chart))
            try:
                src.backup(dest)
                dest.execute("PRAGMA journal_mode = WAL")
            finally:
                dest.close()
        finally:
            _release_lock(fd)
        return saved
    finally:
        src.close()
