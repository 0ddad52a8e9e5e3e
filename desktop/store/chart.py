"""``ChartStore``: the one façade over the chart file (Anki's ``Collection``).

It takes and returns the frozen ``domain.case`` models, commits every edit as it is made (each
inside ``db.atomic()``), and classifies only through ``domain.classify.classify_case``.

Safety on open: an OS lock on ``<chart>.lock`` allows one writing process (read-only opens are
always allowed); ``PRAGMA quick_check``; a file from a newer Motorchart is refused; an older
schema is backed up, then migrated. Backups use the SQLite backup API, on close and once a day.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

from domain.case import (
    FORMAT,
    AlsfrsR,
    Case,
    CaseError,
    Emg,
    MuscleFinding,
    Patient,
    ReflexFinding,
    SignFinding,
    Visit,
    case_from_data,
)

from ._lean import Database
from .migrations import KNOWN_MIGRATIONS, SCHEMA_VERSION, migrate, migrations
from .paths import backups_dir, lock_path
from .patient_index import PatientRow, connect_read_only, count_patients, search_patients

try:  # POSIX; elsewhere the BEGIN IMMEDIATE probe is the only guard
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

DEFAULT_BACKUP_KEEP = 10
BACKUP_SUFFIX = ".sqlite"


class StoreError(Exception):
    """A clear one-line message about the chart file or a refused change."""


@dataclass(frozen=True)
class Changes:
    """What a mutation changed, for selective refreshes (Anki's ``OpChanges``).

    ``patient``: identity or milestones; ``visits``: a visit added or removed, or its flags or
    notes; ``findings``: muscle, reflex or sign rows; ``scores``: ALSFRS-R, FVC or weight;
    ``signing``: a visit signed or amended.
    """

    patient: bool = False
    visits: bool = False
    findings: bool = False
    scores: bool = False
    signing: bool = False

    def __or__(self, other: Changes) -> Changes:
        return Changes(**{f.name: getattr(self, f.name) or getattr(other, f.name) for f in fields(self)})

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class VisitMeta:
    """Who signed a visit and when; ``amended_from`` is the version this one corrects."""

    status: Literal["draft", "signed", "amended"]
    clinician: str | None
    signed_at_utc: str | None
    amended_from: int | None
    amendment_reason: str | None
    version: int = 1


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time_utc: str
    user: str
    table: str
    action: str
    patient_id: str | None
    row_key: str | None
    old: dict | None
    new: dict | None


@dataclass(frozen=True)
class ImportReport:
    """One imported case: ``conflicts`` were reported and not written (same date, other content)."""

    patient_id: str
    created: bool
    added: tuple[dt.date, ...] = ()
    unchanged: tuple[dt.date, ...] = ()
    conflicts: tuple[dt.date, ...] = ()
    patient_conflicts: tuple[str, ...] = field(default=())

    @property
    def written(self) -> bool:
        return self.created or bool(self.added)


# ------------------------------------------------------------------------------ helpers

def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _b(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


PATIENT_COLUMNS = (
    "id", "family_name", "given_names", "birth_date", "sex", "onset_date", "onset_region",
    "onset_side", "diagnosis_date", "gastrostomy_date", "niv_date", "death_date",
    "tracheostomy_date", "gastrostomy_note", "niv_note", "tracheostomy_note", "death_note",
)
_PATIENT_DATES = {
    "birth_date", "onset_date", "diagnosis_date", "gastrostomy_date", "niv_date", "death_date",
    "tracheostomy_date",
}
VISIT_VALUE_COLUMNS = (
    "progressive_by_history", "alternatives_excluded", "alsfrs_r_json", "fvc_percent",
    "weight_kg", "notes",
)
_SCORE_COLUMNS = {"alsfrs_r_json", "fvc_percent", "weight_kg"}
MUSCLE_COLUMNS = ("pos", "mrc", "wasting", "fasciculations", "other_cause", "emg_json")
REFLEX_COLUMNS = ("pos", "grade", "spread")
SIGN_COLUMNS = ("pos", "present")
FINDINGS = (  # table, key column, value columns
    ("muscle_findings", "muscle", MUSCLE_COLUMNS),
    ("reflex_findings", "reflex", REFLEX_COLUMNS),
    ("sign_findings", "sign", SIGN_COLUMNS),
)


def patient_row(p: Patient) -> dict[str, Any]:
    return {c: (_iso(getattr(p, c)) if c in _PATIENT_DATES else getattr(p, c)) for c in PATIENT_COLUMNS}


def patient_from_row(row: dict[str, Any]) -> Patient:
    return Patient.model_validate({c: row[c] for c in PATIENT_COLUMNS if row[c] is not None})


def visit_values(v: Visit) -> dict[str, Any]:
    return {
        "progressive_by_history": _b(v.progressive_by_history),
        "alternatives_excluded": _b(v.alternatives_excluded),
        "alsfrs_r_json": _json(v.alsfrs_r.model_dump(mode="json")) if v.alsfrs_r else None,
        "fvc_percent": None if v.fvc_percent is None else float(v.fvc_percent),
        "weight_kg": None if v.weight_kg is None else float(v.weight_kg),
        "notes": v.notes,
    }


def finding_rows(v: Visit) -> tuple[dict, dict, dict]:
    """The findings of a visit as ``{(name, side): (pos, values...)}`` per table."""
    muscles = {
        (f.muscle, f.side): (
            i, f.mrc, f.wasting, _b(f.fasciculations), int(f.other_cause),
            _json(f.emg.model_dump(exclude_none=True)) if f.emg is not None else None,
        )
        for i, f in enumerate(v.muscles)
    }
    reflexes = {(f.reflex, f.side): (i, f.grade, int(f.spread)) for i, f in enumerate(v.reflexes)}
    signs = {(f.sign, f.side): (i, int(f.present)) for i, f in enumerate(v.signs)}
    return muscles, reflexes, signs


def visit_from_rows(row: dict[str, Any], muscles: list, reflexes: list, signs: list) -> Visit:
    ms = tuple(
        MuscleFinding(
            muscle=m[0], side=m[1], mrc=m[3], wasting=m[4],
            fasciculations=None if m[5] is None else bool(m[5]), other_cause=bool(m[6]),
            emg=None if m[7] is None else Emg(**json.loads(m[7])),
        )
        for m in muscles
    )
    rs = tuple(ReflexFinding(reflex=r[0], side=r[1], grade=r[3], spread=bool(r[4])) for r in reflexes)
    ss = tuple(SignFinding(sign=s[0], side=s[1], present=bool(s[3])) for s in signs)
    pbh, alt = row["progressive_by_history"], row["alternatives_excluded"]
    return Visit(
        date=row["date"],
        progressive_by_history=None if pbh is None else bool(pbh),
        alternatives_excluded=None if alt is None else bool(alt),
        muscles=ms, reflexes=rs, signs=ss,
        alsfrs_r=AlsfrsR(**json.loads(row["alsfrs_r_json"])) if row["alsfrs_r_json"] else None,
        fvc_percent=row["fvc_percent"], weight_kg=row["weight_kg"], notes=row["notes"],
    )


# ------------------------------------------------------------------------------ the store

class ChartStore:
    """Open with :meth:`ChartStore.open`; close with :meth:`close` (which makes a backup)."""

    def __init__(self, path: Path, db: Database, *, readonly: bool, user: str, lock_fd: int | None):
        self.path = path
        self.db = db
        self.readonly = readonly
        self.user = user
        self._lock_fd = lock_fd
        self._catalogue = None
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
             on_checked: Callable[[str | None], None] | None = None) -> ChartStore:
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
                 exists: bool, check: bool, background: bool = False) -> ChartStore:
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

    def __enter__(self) -> ChartStore:
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

    @property
    def catalogue(self):
        if self._catalogue is None:
            from desktop.resources import load_catalogue

            self._catalogue = load_catalogue()
        return self._catalogue

    # -------------------------------------------------------------------- patients

    def add_patient(self, patient: Patient) -> Changes:
        with self._write() as db:
            if self._patient_exists(patient.id):
                raise StoreError(f"patient {patient.id} already exists")
            db["patients"].insert(patient_row(patient))
        return Changes(patient=True)

    def update_patient(self, patient: Patient) -> Changes:
        with self._write() as db:
            row = self._patient_row(patient.id)
            new = patient_row(patient)
            diff = {k: v for k, v in new.items() if row[k] != v}
            if not diff:
                return Changes()
            self._check_visits_in_life(patient)
            db["patients"].update(patient.id, diff)
        return Changes(patient=True)

    def get_patient(self, patient_id: str) -> Patient:
        return patient_from_row(self._patient_row(patient_id))

    def _patient_row(self, patient_id: str) -> dict[str, Any]:
        cur = self.db.execute("SELECT * FROM patients WHERE id = ?", [patient_id])
        row = cur.fetchone()
        if row is None:
            raise StoreError(f"no patient {patient_id} in this chart")
        return dict(zip([d[0] for d in cur.description], row))

    def _patient_exists(self, patient_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM patients WHERE id = ?", [patient_id]).fetchone() is not None

    def _check_visits_in_life(self, patient: Patient) -> None:
        for d in self.visit_dates(patient.id):
            if patient.birth_date and d < patient.birth_date:
                raise StoreError(f"patient {patient.id}: visit {d} would be before birth_date {patient.birth_date}")
            if patient.death_date and d > patient.death_date:
                raise StoreError(f"patient {patient.id}: visit {d} would be after death_date {patient.death_date}")

    def count_patients(self) -> int:
        return count_patients(self.db.conn)

    def search_patients(self, text: str, limit: int = 50) -> list[PatientRow]:
        """Patients whose family or given name or MRN starts with the words of ``text``
        (accents ignored), then those whose visit notes contain them."""
        return search_patients(self.db.conn, text, limit)

    # -------------------------------------------------------------------- visits

    def visit_dates(self, patient_id: str) -> list[dt.date]:
        return [
            dt.date.fromisoformat(r[0]) for r in self.db.execute(
                "SELECT DISTINCT date FROM visits WHERE patient_id = ? ORDER BY date", [patient_id])
        ]

    def _current(self, patient_id: str, date: dt.date) -> dict[str, Any] | None:
        cur = self.db.execute(
            "SELECT * FROM visits WHERE patient_id = ? AND date = ? ORDER BY version DESC LIMIT 1",
            [patient_id, date.isoformat()])
        row = cur.fetchone()
        return None if row is None else dict(zip([d[0] for d in cur.description], row))

    def _require_current(self, patient_id: str, date: dt.date) -> dict[str, Any]:
        row = self._current(patient_id, date)
        if row is None:
            self._patient_row(patient_id)
            raise StoreError(f"patient {patient_id} has no visit on {date.isoformat()}")
        return row

    def get_visit(self, patient_id: str, date: dt.date) -> Visit:
        row = self._require_current(patient_id, date)
        return self._load_visits([row])[0]

    def visit_status(self, patient_id: str, date: dt.date) -> str:
        return self._require_current(patient_id, date)["status"]

    def visit_meta(self, patient_id: str, date: dt.date) -> VisitMeta:
        return self._meta(self._require_current(patient_id, date))

    def _meta(self, row: dict[str, Any]) -> VisitMeta:
        amended_from = None
        if row["amended_from"] is not None:
            amended_from = row["version"] - 1
        return VisitMeta(row["status"], row["clinician"], row["signed_at_utc"], amended_from,
                         row["amendment_reason"], row["version"])

    def visit_versions(self, patient_id: str, date: dt.date) -> list[tuple[VisitMeta, Visit]]:
        """Every version of a visit, the signed original first, the current one last."""
        cur = self.db.execute("SELECT * FROM visits WHERE patient_id = ? AND date = ? ORDER BY version",
                              [patient_id, date.isoformat()])
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r)) for r in cur]
        if not rows:
            self._require_current(patient_id, date)
        return list(zip([self._meta(r) for r in rows], self._load_visits(rows)))

    def _load_visits(self, rows: list[dict[str, Any]]) -> list[Visit]:
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        marks = ",".join("?" * len(ids))
        found: dict[str, dict[int, list]] = {}
        for table, key, cols in FINDINGS:
            per: dict[int, list] = {}
            for r in self.db.execute(
                f"SELECT {key}, side, visit_id, {', '.join(cols)} FROM {table} "
                f"WHERE visit_id IN ({marks}) ORDER BY visit_id, pos", ids):
                per.setdefault(r[2], []).append((r[0], r[1]) + r[3:])
            found[table] = per
        return [
            visit_from_rows(r, found["muscle_findings"].get(r["id"], []),
                            found["reflex_findings"].get(r["id"], []),
                            found["sign_findings"].get(r["id"], []))
            for r in rows
        ]

    def _validate_visit(self, patient_id: str, visit: Visit) -> Patient:
        patient = self.get_patient(patient_id)
        data = {"format": FORMAT, "patient": patient.model_dump(mode="json", exclude_none=True),
                "visits": [visit.model_dump(mode="json", exclude_none=True)]}
        try:
            case_from_data(data, self.catalogue)
        except CaseError as e:
            raise StoreError(f"visit {visit.date.isoformat()}: " + "; ".join(e.problems)) from None
        return patient

    def save_visit(self, patient_id: str, visit: Visit) -> Changes:
        """Insert or update the draft visit of that date, writing only the rows that changed."""
        self._validate_visit(patient_id, visit)
        with self._write():
            row = self._current(patient_id, visit.date)
            if row is None:
                return self._insert_visit(patient_id, visit)
            if row["status"] != "draft":
                raise StoreError(f"the visit of {visit.date.isoformat()} is signed and cannot be "
                                 "changed; amend it instead")
            return self._update_visit(row, visit)

    def _insert_visit(self, patient_id: str, visit: Visit, *, version: int = 1,
                      amended_from: int | None = None) -> Changes:
        values = visit_values(visit)
        cur = self.db.execute(
            "INSERT INTO visits (patient_id, date, version, amended_from, "
            + ", ".join(VISIT_VALUE_COLUMNS) + ") VALUES (?, ?, ?, ?, "
            + ", ".join("?" * len(VISIT_VALUE_COLUMNS)) + ")",
            [patient_id, visit.date.isoformat(), version, amended_from,
             *(values[c] for c in VISIT_VALUE_COLUMNS)],
        )
        visit_id = cur.lastrowid
        wrote = False
        for (table, key, cols), rows in zip(FINDINGS, finding_rows(visit)):
            if rows:
                wrote = True
                self.db.conn.executemany(
                    f"INSERT INTO {table} (visit_id, {key}, side, {', '.join(cols)}) "
                    f"VALUES ({', '.join('?' * (len(cols) + 3))})",
                    [(visit_id, k[0], k[1], *v) for k, v in rows.items()],
                )
        scores = any(values[c] is not None for c in _SCORE_COLUMNS)
        return Changes(visits=True, findings=wrote, scores=scores)

    def _update_visit(self, row: dict[str, Any], visit: Visit) -> Changes:
        vid = row["id"]
        values = visit_values(visit)
        diff = {c: v for c, v in values.items() if row[c] != v}
        if diff:
            self.db.execute(
                f"UPDATE visits SET {', '.join(f'{c} = ?' for c in diff)} WHERE id = ?",
                [*diff.values(), vid])
        findings = False
        for (table, key, cols), new in zip(FINDINGS, finding_rows(visit)):
            old = {
                (r[0], r[1]): tuple(r[2:]) for r in self.db.execute(
                    f"SELECT {key}, side, {', '.join(cols)} FROM {table} WHERE visit_id = ?", [vid])
            }
            gone = [k for k in old if k not in new]
            added = [(k, v) for k, v in new.items() if k not in old]
            changed = [(k, v) for k, v in new.items() if k in old and old[k] != v]
            if gone:
                self.db.conn.executemany(
                    f"DELETE FROM {table} WHERE visit_id = ? AND {key} = ? AND side = ?",
                    [(vid, *k) for k in gone])
            if added:
                self.db.conn.executemany(
                    f"INSERT INTO {table} (visit_id, {key}, side, {', '.join(cols)}) "
                    f"VALUES ({', '.join('?' * (len(cols) + 3))})",
                    [(vid, *k, *v) for k, v in added])
            for k, v in changed:
                o = old[k]
                sets = [(c, nv) for c, ov, nv in zip(cols, o, v) if ov != nv]
                self.db.execute(
                    f"UPDATE {table} SET {', '.join(f'{c} = ?' for c, _ in sets)} "
                    f"WHERE visit_id = ? AND {key} = ? AND side = ?",
                    [*(nv for _, nv in sets), vid, *k])
            findings = findings or bool(gone or added or changed)
        return Changes(
            visits=bool(set(diff) - _SCORE_COLUMNS), findings=findings,
            scores=bool(set(diff) & _SCORE_COLUMNS),
        )

    def delete_visit(self, patient_id: str, date: dt.date) -> Changes:
        with self._write():
            row = self._require_current(patient_id, date)
            if row["status"] != "draft":
                raise StoreError(f"the visit of {date.isoformat()} is signed and cannot be deleted")
            for table, _key, _cols in FINDINGS:
                self.db.execute(f"DELETE FROM {table} WHERE visit_id = ?", [row["id"]])
            self.db.execute("DELETE FROM visits WHERE id = ?", [row["id"]])
        return Changes(visits=True, findings=True, scores=True)

    def sign_visit(self, patient_id: str, date: dt.date, *, clinician: str) -> Changes:
        clinician = (clinician or "").strip()
        if not clinician:
            raise StoreError("signing needs the clinician's name")
        with self._write():
            row = self._require_current(patient_id, date)
            if row["status"] != "draft":
                raise StoreError(f"the visit of {date.isoformat()} is already signed")
            self.db.execute(
                "UPDATE visits SET status = 'signed', clinician = ?, signed_at_utc = ? WHERE id = ?",
                [clinician, _now_utc(), row["id"]])
        return Changes(signing=True)

    def amend_visit(self, patient_id: str, date: dt.date, visit: Visit, *, clinician: str,
                    reason: str) -> Changes:
        """Correct a signed visit: a new signed version; the original stays, unchanged."""
        clinician = (clinician or "").strip()
        reason = (reason or "").strip()
        if not clinician:
            raise StoreError("an amendment needs the clinician's name")
        if not reason:
            raise StoreError("an amendment needs a reason")
        if visit.date != date:
            raise StoreError(f"an amendment keeps the visit's date ({date.isoformat()}); "
                             f"got {visit.date.isoformat()}")
        self._validate_visit(patient_id, visit)
        with self._write():
            row = self._require_current(patient_id, date)
            if row["status"] == "draft":
                raise StoreError(f"the visit of {date.isoformat()} is a draft: edit it, no amendment needed")
            old = self._load_visits([row])[0]
            self._insert_visit(patient_id, visit, version=row["version"] + 1, amended_from=row["id"])
            self.db.execute(
                "UPDATE visits SET status = 'amended', clinician = ?, signed_at_utc = ?, "
                "amendment_reason = ? WHERE patient_id = ? AND date = ? AND version = ?",
                [clinician, _now_utc(), reason, patient_id, date.isoformat(), row["version"] + 1])
        ov, nv = visit_values(old), visit_values(visit)
        return Changes(
            visits=any(ov[c] != nv[c] for c in ov if c not in _SCORE_COLUMNS),
            findings=finding_rows(old) != finding_rows(visit),
            scores=any(ov[c] != nv[c] for c in _SCORE_COLUMNS),
            signing=True,
        )

    # -------------------------------------------------------------------- cases

    def get_case(self, patient_id: str) -> Case:
        patient = self.get_patient(patient_id)
        cur = self.db.execute(
            "SELECT * FROM visits v WHERE patient_id = ? AND version = "
            "(SELECT max(version) FROM visits w WHERE w.patient_id = v.patient_id AND w.date = v.date) "
            "ORDER BY date", [patient_id])
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r)) for r in cur]
        return Case(format=FORMAT, patient=patient, visits=tuple(self._load_visits(rows)))

    export_case = get_case

    def classify(self, patient_id: str, options=None):
        from domain.classify import classify_case

        if options is None:
            options = self.criteria_options()
        return classify_case(self.get_case(patient_id), self.catalogue, options)

    def criteria_options(self):
        """The criteria options saved in the settings (``criteria_options``: ["name=value"])."""
        from domain.options import parse_option_settings

        saved = self.settings().get("criteria_options") or []
        opts, _problems = parse_option_settings([str(s) for s in saved])
        return opts

    def import_case(self, case: Case) -> ImportReport:
        """Import one case, all or nothing. A patient already here: visits are merged by date;
        a date already here with other content is a conflict, reported and not written."""
        p = case.patient
        with self._write():
            created = not self._patient_exists(p.id)
            patient_conflicts: list[str] = []
            if created:
                self.db["patients"].insert(patient_row(p))
            else:
                old = self._patient_row(p.id)
                patient_conflicts = [k for k, v in patient_row(p).items() if v is not None and old[k] != v]
            added, unchanged, conflicts = [], [], []
            for v in case.visits:
                row = None if created else self._current(p.id, v.date)
                if row is None:
                    self._insert_visit(p.id, v)
                    added.append(v.date)
                elif self._load_visits([row])[0] == v:
                    unchanged.append(v.date)
                else:
                    conflicts.append(v.date)
            if not created:
                self._check_visits_in_life(self.get_patient(p.id))
        return ImportReport(p.id, created, tuple(added), tuple(unchanged), tuple(conflicts),
                            tuple(patient_conflicts))

    # -------------------------------------------------------------------- settings and audit

    def settings(self) -> dict[str, Any]:
        return _settings(self.db.conn)

    def setting(self, key: str, default: Any = None) -> Any:
        """One setting (one indexed row, not the whole table: some are read on every edit)."""
        row = self.db.execute("SELECT value_json FROM settings WHERE key = ?", [key]).fetchone()
        return default if row is None else json.loads(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        """Set a setting; ``None`` removes it (audited like any change)."""
        encoded = _json(value)
        with self._write():
            old = self.db.execute("SELECT value_json FROM settings WHERE key = ?", [key]).fetchone()
            if value is None:
                if old is not None:
                    self.db.execute("DELETE FROM settings WHERE key = ?", [key])
            elif old is None:
                self.db.execute("INSERT INTO settings (key, value_json) VALUES (?, ?)", [key, encoded])
            elif old[0] != encoded:
                self.db.execute("UPDATE settings SET value_json = ? WHERE key = ?", [encoded, key])

    def audit_trail(self, patient_id: str | None = None) -> list[AuditEntry]:
        if patient_id is None:
            cur = self.db.execute("SELECT * FROM audit ORDER BY id")
        else:
            cur = self.db.execute("SELECT * FROM audit WHERE patient_id = ? ORDER BY id", [patient_id])
        return [
            AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6],
                       json.loads(r[7]) if r[7] else None, json.loads(r[8]) if r[8] else None)
            for r in cur
        ]

    def counts(self) -> dict[str, int]:
        q = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "patients": q("SELECT count(*) FROM patients"),
            "visits": q("SELECT count(*) FROM current_visits"),
            "signed": q("SELECT count(*) FROM current_visits WHERE status <> 'draft'"),
            "amendments": q("SELECT count(*) FROM visits WHERE amended_from IS NOT NULL"),
            "muscle_findings": q("SELECT count(*) FROM muscle_findings"),
            "reflex_findings": q("SELECT count(*) FROM reflex_findings"),
            "sign_findings": q("SELECT count(*) FROM sign_findings"),
            "audit": q("SELECT count(*) FROM audit"),
        }

    def integrity(self) -> str | None:
        """None when ``PRAGMA quick_check`` passes, else its first complaint."""
        return _quick_check(self.db.conn)

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    # -------------------------------------------------------------------- backups

    def backup_keep(self) -> int:
        return _backup_keep(self.settings())

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
