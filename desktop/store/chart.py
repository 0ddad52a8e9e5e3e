"""``ChartStore``: the one façade over the chart file (Anki's ``Collection``).

It takes and returns the frozen ``domain.case`` models, commits every edit as it is made (each
inside ``db.atomic()``), and classifies only through ``domain.classify.classify_case``. The file
itself (opening, locking, checks, backups, restore) is :mod:`desktop.store.files`; the mapping
of models to rows is :mod:`desktop.store.rows`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from domain.case import FORMAT, Case, CaseError, Patient, Visit, case_from_data

from .errors import StoreError
from .files import (
    BACKUP_SUFFIX,
    DEFAULT_BACKUP_KEEP,
    ChartFile,
    _settings,
    list_backups,
    newest_good_backup,
    restore_backup,
)
from .patient_index import PatientRow, count_patients, search_patients
from .rows import (
    _SCORE_COLUMNS,
    FINDINGS,
    PATIENT_COLUMNS,
    VISIT_VALUE_COLUMNS,
    _json,
    _now_utc,
    finding_rows,
    patient_from_row,
    patient_row,
    visit_from_rows,
    visit_values,
)

__all__ = [
    "AuditEntry", "BACKUP_SUFFIX", "Changes", "ChartStore", "DEFAULT_BACKUP_KEEP", "FINDINGS",
    "ImportReport", "PATIENT_COLUMNS", "PatientRow", "StoreError", "VISIT_VALUE_COLUMNS", "VisitMeta",
    "finding_rows", "list_backups", "newest_good_backup", "patient_row", "restore_backup", "visit_values",
]


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


class ChartStore(ChartFile):
    """The clinical façade: patients, visits, signing, cases, settings and the audit trail.

    Open with :meth:`ChartStore.open`; close with :meth:`close` (which makes a backup)."""

    _catalogue = None

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
