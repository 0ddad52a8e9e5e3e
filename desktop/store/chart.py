"""``ChartStore``: the one façade over the chart file (Anki's ``Collection``).

It takes and returns the frozen ``domain.case`` models, commits every edit as it is made (each
inside ``db.atomic()``), and classifies only through ``domain.classify.classify_case``. The file
itself (opening, locking, checks, backups, restore) is :mod:`desktop.store.files`; the mapping
of models to rows is :mod:`desktop.store.rows`.
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from domain.case import FORMAT, Case, CaseError, Patient, Visit, VisitMarks, case_from_data
from domain.edits import drop_cells

from .errors import StoreError
from .files import (
    BACKUP_SUFFIX,
    ChartFile,
    _settings,
    list_backups,
    newest_good_backup,
    restore_backup,
)
from .migrations import flush_pending_audit
from .patient_index import PatientRow, count_patients, search_patients
from .rows import (
    _SCORE_COLUMNS,
    FINDING_INSERT,
    FINDINGS,
    MARK_KINDS,
    MARK_SIGNED,
    PATIENT_COLUMNS,
    SIGNATURE_INSERT,
    VISIT_VALUE_COLUMNS,
    PreparedImport,
    SignedVersion,
    VisitRows,
    _json,
    _now_utc,
    finding_rows,
    marks_from_values,
    marks_to_values,
    new_case_rows,
    patient_from_row,
    patient_row,
    plain_visit,
    prepare_import,
    sealed_signature,
    signed_version,
    visit_from_rows,
    visit_rows,
    visit_values,
)

__all__ = [
    "AuditEntry", "BACKUP_SUFFIX", "Changes", "ChartStore", "FINDINGS",
    "ImportReport", "MARK_KINDS", "SignedVersion", "PATIENT_COLUMNS", "PatientRow", "StoreError", "VISIT_VALUE_COLUMNS", "VisitMeta",
    "finding_rows", "list_backups", "newest_good_backup", "patient_row", "restore_backup", "visit_values",
]


@dataclass(frozen=True)
class Changes:
    """What a mutation changed, for selective refreshes (Anki's ``OpChanges``).

    ``patient``: identity or milestones; ``visits``: a visit added or removed, or its flags or
    notes; ``findings``: muscle, reflex or sign rows; ``scores``: ALSFRS-R, FVC or weight;
    ``signing``: a visit signed, an amendment opened, signed or discarded; ``marks``: the
    marks kept with a visit (not reviewed, carried, a part-scored ALSFRS-R).
    """

    patient: bool = False
    visits: bool = False
    findings: bool = False
    scores: bool = False
    signing: bool = False
    marks: bool = False

    def __or__(self, other: Changes) -> Changes:
        return Changes(**{f.name: getattr(self, f.name) or getattr(other, f.name) for f in fields(self)})

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class VisitMeta:
    """Who signed a visit and when; ``amended_from`` is the version this one corrects.

    ``status``: ``draft``; ``signed``; ``amending`` (an amendment of a signed visit is open:
    a draft version beside the signed one); ``amended`` (a signed amendment)."""

    status: Literal["draft", "signed", "amending", "amended"]
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
    """One imported case (written whole): the patient it went to (``created`` or matched by its
    MRN, trimmed and case-folded), the visits ``added`` and those ``unchanged`` (already there
    with the same content). A case that conflicts is refused (:class:`ImportRefused`), never
    reported here; ``conflicts`` and ``patient_conflicts`` are therefore always empty."""

    patient_id: str
    created: bool
    added: tuple[dt.date, ...] = ()
    unchanged: tuple[dt.date, ...] = ()
    conflicts: tuple[dt.date, ...] = ()
    patient_conflicts: tuple[str, ...] = field(default=())

    @property
    def written(self) -> bool:
        return self.created or bool(self.added)


def _status(row: dict[str, Any]) -> str:
    """The visit lifecycle of a version row: draft, signed, amending, amended."""
    if row["status"] == "draft" and row["amended_from"] is not None:
        return "amending"
    return row["status"]


def _check_signing_text(clinician: str, reason: str | None = None) -> None:
    """The signer's name and an amendment's reason keep the case format's text rules, so every
    signed visit can be exported and imported again (domain.case.text_problem)."""
    from domain.case import text_problem

    for what, value, field in (("the clinician's name", clinician, "signed_by"),
                               ("the amendment's reason", reason, "amendment_reason")):
        problem = value is not None and text_problem(value, field)
        if problem:
            raise StoreError(f"{what} {problem}")


JOB_PATIENTS = 25
"""Patients in one job of :meth:`ChartStore.add_cases`'s helpers, and in one of its writes."""


def _case_rows_job(job) -> list[tuple[str, VisitRows | str]]:
    """The rows of some new patients (:func:`desktop.store.rows.new_case_rows`), in a helper
    process or this one: ``(chunk of items, options, today, make)``; an item is ``(case,
    {date: clinician or (clinician, signing time)})``, or what ``make`` turns into one."""
    from desktop.resources import load_catalogue
    from domain.evidence import EvidenceContext
    from domain.gc_pause import paused_gc

    chunk, options, today, make = job
    catalogue = load_catalogue()  # (the store's own: ChartStore.catalogue)
    context = EvidenceContext(catalogue, options)  # (what the catalogue and options decide, once a job)
    out = []
    with paused_gc():
        for item in chunk:
            case, signed = make(item) if make is not None else item
            signed = {d: (c if isinstance(c, tuple) else (c, None)) for d, c in (signed or {}).items()}
            out.append((case.patient.id, new_case_rows(case, signed, catalogue, options, today, context)))
    return out


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

    def add_patient(self, patient: Patient, *, today: dt.date | None = None) -> Changes:
        """Add a new patient; refused (one line naming the field) when a rule of
        :mod:`domain.patient_rules` is broken or the MRN is taken (trimmed and case-folded)."""
        with self._write() as db:
            self._check_patient(patient, today=today, visit_dates=(), current_id=None)
            db["patients"].insert(patient_row(patient))
        return Changes(patient=True)

    def update_patient(self, patient: Patient, *, old_id: str | None = None,
                       today: dt.date | None = None) -> Changes:
        """Change a patient's details, milestones included; ``old_id`` renames the MRN (every
        visit, signature and audit row stays with the patient). Every change is audited."""
        old_id = old_id or patient.id
        with self._write() as db:
            row = self._patient_row(old_id)
            self._check_patient(patient, today=today, visit_dates=self.visit_dates(old_id), current_id=old_id)
            if patient.id != old_id:
                self._rename(old_id, patient.id)
                row = self._patient_row(patient.id)
            new = patient_row(patient)
            diff = {k: v for k, v in new.items() if row[k] != v}
            if diff:
                db["patients"].update(patient.id, diff)
            elif patient.id == old_id:
                return Changes()
        return Changes(patient=True)

    def _check_patient(self, patient: Patient, *, today, visit_dates, current_id: str | None) -> None:
        from domain.patient_rules import mrn_key, patient_problems

        problems = patient_problems(patient, today=today or dt.date.today(), visit_dates=visit_dates)
        if problems:
            raise StoreError("; ".join(problems))
        key = mrn_key(patient.id)
        for other in self._ids_with_mrn_key(key):
            if other != current_id:
                if other == patient.id:
                    raise StoreError(f"MRN: patient {other} already exists")
                raise StoreError(f"MRN: {patient.id} is already used by patient {other} "
                                 "(MRNs are compared ignoring case and surrounding spaces)")

    def _rename(self, old_id: str, new_id: str) -> None:
        """Move a patient to a new MRN inside the caller's transaction (foreign keys checked at
        commit); the old MRN is kept as an alias so the audit trail still finds its rows."""
        self.db.execute("PRAGMA defer_foreign_keys = ON")
        self.db.execute("UPDATE patients SET id = ? WHERE id = ?", [new_id, old_id])
        self.db.execute("UPDATE visits SET patient_id = ? WHERE patient_id = ?", [new_id, old_id])
        self.db.execute("INSERT INTO patient_aliases (old_id, new_id, renamed_utc) VALUES (?, ?, ?)",
                        [old_id, new_id, _now_utc()])

    def patient_ids(self, patient_id: str) -> list[str]:
        """The patient's MRN and every earlier MRN it had (newest first)."""
        ids, seen = [patient_id], {patient_id}
        i = 0
        while i < len(ids):
            for (old,) in self.db.execute(
                    "SELECT old_id FROM patient_aliases WHERE new_id = ? ORDER BY renamed_utc DESC", [ids[i]]):
                if old not in seen:
                    seen.add(old)
                    ids.append(old)
            i += 1
        return ids

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
        """``draft``, ``signed``, ``amending`` (an amendment is open) or ``amended``."""
        return _status(self._require_current(patient_id, date))

    def visit_meta(self, patient_id: str, date: dt.date) -> VisitMeta:
        return self._meta(self._require_current(patient_id, date))

    def _meta(self, row: dict[str, Any]) -> VisitMeta:
        amended_from = None
        if row["amended_from"] is not None:
            amended_from = row["version"] - 1
        return VisitMeta(_status(row), row["clinician"], row["signed_at_utc"], amended_from,
                         row["amendment_reason"], row["version"])

    def visit_uuids(self, patient_id: str) -> dict[dt.date, str]:
        """Each visit's random UUID (m011 ``visit_identifiers``), kept through amendments, a
        corrected MRN and a re-dated draft: the identifier other systems keep (the FHIR
        Encounter's)."""
        return {dt.date.fromisoformat(d): u for d, u in self.db.execute(
            "SELECT date, uuid FROM visit_identifiers WHERE patient_id = ? ORDER BY date", [patient_id])}

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
        from domain.patient_rules import visit_problems

        problems = visit_problems(visit)
        if problems:
            raise StoreError(f"visit {visit.date.isoformat()}: " + "; ".join(problems))
        return patient

    def save_visit(self, patient_id: str, visit: Visit) -> Changes:
        """Insert or update the draft visit of that date, writing only the rows that changed.

        Only the findings and scores are written: marks have :meth:`set_visit_marks`, and a
        signature is made by signing, never saved."""
        visit = plain_visit(visit)
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
                      amended_from: int | None = None, return_id: bool = False) -> Changes | int:
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
        for (table, _key, _cols), rows in zip(FINDINGS, finding_rows(visit)):
            if rows:
                wrote = True
                self.db.conn.executemany(FINDING_INSERT[table], [(visit_id, k[0], k[1], *v) for k, v in rows.items()])
        if return_id:
            return visit_id
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
                self.db.conn.executemany(FINDING_INSERT[table], [(vid, *k, *v) for k, v in added])
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

    def new_visit(self, patient_id: str, date: dt.date, *, copy_forward: bool = False,
                  today: dt.date | None = None) -> Changes:
        """Start a visit on ``date``: empty, or copying the previous visit's examination
        forward (those cells marked not reviewed, carried EMG keeping its study date). Refused
        when the date is in the future, taken, before birth or after death."""
        from domain.edits import copy_forward as copy, finding_keys
        from domain.patient_rules import visit_date_problem

        with self._write():
            patient = self.get_patient(patient_id)
            dates = self.visit_dates(patient_id)
            problem = visit_date_problem(date, patient, today=today or dt.date.today(), taken=dates)
            if problem:
                raise StoreError(f"patient {patient_id}: cannot start a visit on {date.isoformat()}: {problem}")
            before = [d for d in dates if d < date]
            visit, marks = Visit(date=date), VisitMarks()
            if copy_forward and before:
                prev = self._load_visits([self._require_current(patient_id, before[-1])])[0]
                visit = copy(prev, date)
                cells = tuple(sorted(finding_keys(visit)))
                if cells:
                    marks = VisitMarks(not_reviewed=cells, carried_from=prev.date)
            self._validate_visit(patient_id, visit)
            vid = self._insert_visit(patient_id, visit, return_id=True)
            self._write_marks(vid, marks)
        return Changes(visits=True, findings=bool(visit.muscles or visit.reflexes or visit.signs),
                       marks=not marks.empty)

    def redate_visit(self, patient_id: str, date: dt.date, new_date: dt.date, *,
                     today: dt.date | None = None) -> Changes:
        """Give a draft visit another date (a visit created by mistake on the wrong day); a
        signed visit, a taken date, a future date, or one before birth or after death is refused."""
        from domain.patient_rules import visit_date_problem

        with self._write():
            row = self._require_current(patient_id, date)
            if row["status"] != "draft" or row["amended_from"] is not None:
                raise StoreError(f"the visit of {date.isoformat()} is signed: its date cannot be changed")
            if new_date == date:
                return Changes()
            patient = self.get_patient(patient_id)
            problem = visit_date_problem(new_date, patient, today=today or dt.date.today(),
                                         taken=self.visit_dates(patient_id))
            if problem:
                raise StoreError(f"the visit of {date.isoformat()} cannot move to {new_date.isoformat()}: {problem}")
            self.db.execute("UPDATE visits SET date = ? WHERE id = ?", [new_date.isoformat(), row["id"]])
        return Changes(visits=True)

    def delete_visit(self, patient_id: str, date: dt.date) -> Changes:
        """Delete a draft visit with its findings and marks; a signed visit is refused."""
        with self._write():
            row = self._require_current(patient_id, date)
            if row["status"] != "draft":
                raise StoreError(f"the visit of {date.isoformat()} is signed and cannot be deleted")
            if row["amended_from"] is not None:
                raise StoreError(f"the visit of {date.isoformat()} has an amendment open: discard the "
                                 "amendment; a signed visit cannot be deleted")
            self._delete_row(row["id"])
        return Changes(visits=True, findings=True, scores=True)

    def _delete_row(self, visit_id: int) -> None:
        self.db.execute("DELETE FROM visit_marks WHERE visit_id = ?", [visit_id])
        for table, _key, _cols in FINDINGS:
            self.db.execute(f"DELETE FROM {table} WHERE visit_id = ?", [visit_id])
        self.db.execute("DELETE FROM visits WHERE id = ?", [visit_id])

    # -------------------------------------------------------------------- marks

    def visit_marks(self, patient_id: str, date: dt.date) -> VisitMarks:
        """The marks kept with the current version of a visit (not findings)."""
        return self._marks(self._require_current(patient_id, date)["id"])

    def _marks(self, visit_id: int) -> VisitMarks:
        values = {k: json.loads(v) for k, v in self.db.execute(
            "SELECT kind, value_json FROM visit_marks WHERE visit_id = ?", [visit_id])}
        return marks_from_values(values)

    def set_visit_marks(self, patient_id: str, date: dt.date, marks: VisitMarks | None) -> Changes:
        """Replace the draft marks of a visit (not reviewed cells, a part-scored ALSFRS-R);
        rows that do not change are not written. Carried marks are the signing's to write."""
        marks = marks or VisitMarks()
        with self._write():
            row = self._require_current(patient_id, date)
            if row["status"] != "draft":
                raise StoreError(f"the visit of {date.isoformat()} is signed; its marks cannot be changed")
            self._write_marks(row["id"], marks, kinds=("not_reviewed", "alsfrs_draft"))
        return Changes(marks=True)

    def _write_marks(self, visit_id: int, marks: VisitMarks, *, kinds=MARK_KINDS) -> None:
        new = marks_to_values(marks)
        old = {k: v for k, v in self.db.execute(
            "SELECT kind, value_json FROM visit_marks WHERE visit_id = ?", [visit_id])}
        for kind in kinds:
            value = new.get(kind)
            encoded = None if value is None else _json(value)
            if encoded == old.get(kind):
                continue
            if encoded is None:
                self.db.execute("DELETE FROM visit_marks WHERE visit_id = ? AND kind = ?", [visit_id, kind])
            elif kind in old:
                self.db.execute("UPDATE visit_marks SET value_json = ? WHERE visit_id = ? AND kind = ?",
                                [encoded, visit_id, kind])
            else:
                self.db.execute("INSERT INTO visit_marks (visit_id, kind, value_json) VALUES (?, ?, ?)",
                                [visit_id, kind, encoded])

    # -------------------------------------------------------------------- signing

    def sign_visit(self, patient_id: str, date: dt.date, *, clinician: str,
                   carried: Literal["keep", "drop"] | None = None) -> Changes:
        """Sign a draft visit: in the same transaction, freeze its classification, the criteria
        options, the program and catalogue versions and the SHA-256 over its content
        (:mod:`domain.signature`).

        Cells copied forward and still not reviewed need a choice: ``carried="drop"`` removes
        them from this visit; ``"keep"`` signs them marked as carried from their visit. A
        part-scored ALSFRS-R (not a scale) is not part of the record and is dropped."""
        clinician = (clinician or "").strip()
        if not clinician:
            raise StoreError("signing needs the clinician's name")
        _check_signing_text(clinician)
        if carried not in (None, "keep", "drop"):
            raise StoreError(f"carried must be keep or drop, not {carried!r}")
        with self._write():
            row = self._require_current(patient_id, date)
            where = f"patient {patient_id}: the visit of {date.isoformat()}"
            if row["status"] != "draft":
                raise StoreError(f"{where} is already signed")
            if row["amended_from"] is not None:
                raise StoreError(f"{where} is an open amendment: sign the amendment with its reason")
            marks = self._marks(row["id"])
            visit = self._load_visits([row])[0]
            changes = Changes(signing=True)
            kept = VisitMarks()
            if marks.not_reviewed:
                n = len(marks.not_reviewed)
                source = marks.carried_from.isoformat() if marks.carried_from else "an earlier visit"
                if carried is None:
                    raise StoreError(
                        f"{where} has {n} cell(s) copied from {source} and not reviewed: review them, or "
                        "sign them marked as carried (--carried keep) or drop them from this visit "
                        "(--carried drop)")
                if carried == "drop":
                    visit = drop_cells(visit, marks.not_reviewed)
                    changes = changes | self._update_visit(row, visit)
                else:
                    kept = VisitMarks(carried=marks.not_reviewed, carried_from=marks.carried_from)
            self._write_marks(row["id"], kept)
            self._sign_row(patient_id, row, visit.model_copy(update={"marks": kept}), clinician,
                           reason=None, previous=None)
        return changes

    def begin_amendment(self, patient_id: str, date: dt.date) -> Changes:
        """Open an amendment of a signed visit: version n+1, a draft, editable and undoable like
        any draft, beside the signed version, which stays unchanged."""
        with self._write():
            row = self._require_current(patient_id, date)
            if row["status"] == "draft":
                if row["amended_from"] is not None:
                    raise StoreError(f"the visit of {date.isoformat()} already has an amendment open")
                raise StoreError(f"the visit of {date.isoformat()} is a draft: edit it, no amendment needed")
            visit = self._load_visits([row])[0]
            new_id = self._insert_visit(patient_id, visit, version=row["version"] + 1,
                                        amended_from=row["id"], return_id=True)
            carried = self._marks(row["id"])
            if carried.carried:
                self._write_marks(new_id, carried, kinds=("carried",))
        return Changes(signing=True)

    def discard_amendment(self, patient_id: str, date: dt.date) -> Changes:
        """Drop an open amendment; the signed version is the visit again."""
        with self._write():
            row = self._require_current(patient_id, date)
            if row["status"] != "draft" or row["amended_from"] is None:
                raise StoreError(f"the visit of {date.isoformat()} has no amendment open")
            self._delete_row(row["id"])
        return Changes(signing=True, findings=True, scores=True, visits=True)

    def sign_amendment(self, patient_id: str, date: dt.date, *, clinician: str, reason: str) -> Changes:
        """Sign an open amendment once, with its reason; it becomes the visit's signed version,
        chained to the version it corrects by that version's hash."""
        clinician = (clinician or "").strip()
        reason = (reason or "").strip()
        if not clinician:
            raise StoreError("an amendment needs the clinician's name")
        if not reason:
            raise StoreError("an amendment needs a reason")
        _check_signing_text(clinician, reason)
        with self._write():
            row = self._require_current(patient_id, date)
            if row["status"] != "draft" or row["amended_from"] is None:
                raise StoreError(f"the visit of {date.isoformat()} has no amendment open")
            marks = self._marks(row["id"])
            self._write_marks(row["id"], VisitMarks(carried=marks.carried, carried_from=marks.carried_from))
            previous = self.db.execute("SELECT sha256 FROM signatures WHERE visit_id = ?",
                                       [row["amended_from"]]).fetchone()
            visit = self._load_visits([row])[0].model_copy(
                update={"marks": VisitMarks(carried=marks.carried, carried_from=marks.carried_from)})
            self._sign_row(patient_id, row, visit, clinician, reason=reason,
                           previous=previous[0] if previous else None)
        return Changes(signing=True)

    def amend_visit(self, patient_id: str, date: dt.date, visit: Visit, *, clinician: str,
                    reason: str) -> Changes:
        """Correct a signed visit in one step (open an amendment, write ``visit``, sign it with
        ``reason``); the signed original stays, unchanged."""
        if visit.date != date:
            raise StoreError(f"an amendment keeps the visit's date ({date.isoformat()}); "
                             f"got {visit.date.isoformat()}")
        if not (clinician or "").strip():
            raise StoreError("an amendment needs the clinician's name")
        if not (reason or "").strip():
            raise StoreError("an amendment needs a reason")
        self._validate_visit(patient_id, visit)
        with self._write():
            row = self._require_current(patient_id, date)
            if row["status"] == "draft" and row["amended_from"] is None:
                raise StoreError(f"the visit of {date.isoformat()} is a draft: edit it, no amendment needed")
            old = self._load_visits([row])[0]
            if row["status"] != "draft":
                self.begin_amendment(patient_id, date)
            self._update_visit(self._require_current(patient_id, date), visit)
            self.sign_amendment(patient_id, date, clinician=clinician, reason=reason)
        ov, nv = visit_values(old), visit_values(visit)
        return Changes(
            visits=any(ov[c] != nv[c] for c in ov if c not in _SCORE_COLUMNS),
            findings=finding_rows(old) != finding_rows(visit),
            scores=any(ov[c] != nv[c] for c in _SCORE_COLUMNS),
            signing=True,
        )

    def _sign_row(self, patient_id: str, row: dict[str, Any], visit: Visit, clinician: str, *,
                  reason: str | None, previous: str | None, signed_at: str | None = None) -> str:
        """Freeze the result of one visit version and sign it (inside the caller's transaction)."""
        from domain.classify import classify_case

        options = self.criteria_options()
        version = 1
        if row["amended_from"] is not None:
            before = self.db.execute("SELECT version FROM signatures WHERE visit_id = ?",
                                     [row["amended_from"]]).fetchone()
            version = (before[0] if before else row["version"] - 1) + 1
        patient = self.get_patient(patient_id)
        earlier = self._current_visits(patient_id, before=visit.date)
        case = Case(format=FORMAT, patient=patient, visits=(*earlier, visit.model_copy(update={"marks": None})))
        snapshot = classify_case(case, self.catalogue, options).visits[-1].as_json()
        return self._seal(row["id"], visit, snapshot, patient, earlier, clinician, options,
                          version=version, reason=reason, previous=previous, signed_at=signed_at)

    def _seal(self, visit_id: int, visit: Visit, snapshot: dict, patient: Patient, earlier: list[Visit],
              clinician: str, options, *, version: int, reason: str | None, previous: str | None,
              signed_at: str | None) -> str:
        """Store one signature (:func:`desktop.store.rows.sealed_signature`: the frozen result,
        the options, the versions and the hash over them and the visit's content) and mark the
        version signed; returns the hash."""
        from domain.signature import signing_context

        sha, row, mark = sealed_signature(
            visit, snapshot, clinician=clinician, options=options.model_dump(mode="json"), version=version,
            reason=reason, previous=previous, signed_at=signed_at, context=signing_context(patient, earlier))
        flush_pending_audit(self.db.conn, self._pending_before)  # the visit's audit row before its signature
        self.db.execute(SIGNATURE_INSERT, [visit_id, *row])
        self.db.execute(MARK_SIGNED, [*mark, visit_id])
        return sha

    def signature(self, patient_id: str, date: dt.date) -> SignedVersion | None:
        """The signature of the visit's record: its newest signed version (while an amendment is
        open, the version it corrects), or None for a visit never signed."""
        row = self.db.execute(
            "SELECT s.visit_id FROM signatures s JOIN visits v ON v.id = s.visit_id "
            "WHERE v.patient_id = ? AND v.date = ? ORDER BY v.version DESC LIMIT 1",
            [patient_id, date.isoformat()]).fetchone()
        return None if row is None else self._signature_row(row[0])

    def verify_signatures(self) -> list[str]:
        """Recompute every signature's hash and chain link; one line per signed visit whose
        content (or frozen result) no longer matches, naming the patient and visit date."""
        from domain.signature import signature_sha256

        problems: list[str] = []
        cur = self.db.execute(
            "SELECT s.*, v.patient_id, v.date, v.amended_from, v.status FROM signatures s "
            "JOIN visits v ON v.id = s.visit_id ORDER BY v.patient_id, v.date, s.version")
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r)) for r in cur]
        by_visit = {r["visit_id"]: r for r in rows}
        vrows = self._rows_by_id([r["visit_id"] for r in rows])
        visits = dict(zip([r["id"] for r in vrows], self._load_visits(vrows)))
        for r in rows:
            where = f"patient {r['patient_id']}: the signed visit of {r['date']} (version {r['version']})"
            try:
                sv = signed_version(r)
                visit = visits[r["visit_id"]].model_copy(update={"marks": self._marks(r["visit_id"])})
                ok = signature_sha256(visit, sv.fields()) == r["sha256"]
            except Exception as e:  # noqa: BLE001  (a damaged snapshot is a mismatch, not a crash)
                problems.append(f"{where} cannot be read back ({e})")
                continue
            if not ok:
                problems.append(f"{where} no longer matches its signature: its content or frozen result "
                                "was changed outside Motorchart")
            elif r["status"] == "draft":
                problems.append(f"{where} is signed but marked as a draft: changed outside Motorchart")
            prev = by_visit.get(r["amended_from"]) if r["amended_from"] is not None else None
            if prev is not None and prev["sha256"] != r["previous_sha256"]:
                problems.append(f"{where} does not chain to the version it corrects (version {prev['version']})")
        missing = self.db.execute(
            "SELECT patient_id, date, version FROM visits v WHERE status <> 'draft' "
            "AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.visit_id = v.id) "
            "AND NOT EXISTS (SELECT 1 FROM legacy_signed l WHERE l.visit_id = v.id)").fetchall()
        for pid, date, version in missing:
            problems.append(f"patient {pid}: the signed visit of {date} (version {version}) has no "
                            "signature record: its signature was removed outside Motorchart")
        return problems

    def signature_counts(self) -> tuple[int, int]:
        """(signed versions with a signature, visits signed before signatures were recorded)."""
        q = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return q("SELECT count(*) FROM signatures"), q("SELECT count(*) FROM legacy_signed")

    def _rows_by_id(self, ids: list[int]) -> list[dict[str, Any]]:
        if not ids:
            return []
        cur = self.db.execute(f"SELECT * FROM visits WHERE id IN ({','.join('?' * len(ids))})", ids)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur]

    def _current_visits(self, patient_id: str, *, before: dt.date | None = None) -> list[Visit]:
        cur = self.db.execute(
            "SELECT * FROM visits v WHERE patient_id = ? AND version = "
            "(SELECT max(version) FROM visits w WHERE w.patient_id = v.patient_id AND w.date = v.date) "
            + ("AND date < ? " if before else "") + "ORDER BY date",
            [patient_id, *([before.isoformat()] if before else [])])
        cols = [d[0] for d in cur.description]
        return self._load_visits([dict(zip(cols, r)) for r in cur])

    # -------------------------------------------------------------------- cases

    def get_case(self, patient_id: str) -> Case:
        """The patient and the current version of every visit (an open amendment included):
        what the window edits and the classifier reads. Plain visits: no marks, no signature."""
        return Case(format=FORMAT, patient=self.get_patient(patient_id),
                    visits=tuple(self._current_visits(patient_id)))

    def export_case(self, patient_id: str) -> Case:
        """The patient's record as a case file: each visit's current record (the signed version
        while an amendment is open) with its marks and, when signed, its ``signature``
        (exam-format: ``visits[].signature``)."""
        patient = self.get_patient(patient_id)
        cur = self.db.execute("SELECT * FROM visits WHERE patient_id = ? ORDER BY date, version", [patient_id])
        cols = [d[0] for d in cur.description]
        by_date: dict[str, dict[str, Any]] = {}
        for r in cur:
            row = dict(zip(cols, r))
            if row["status"] == "draft" and row["amended_from"] is not None:
                continue  # an open amendment is not part of the record until it is signed
            by_date[row["date"]] = row
        rows = list(by_date.values())
        visits = []
        for row, visit in zip(rows, self._load_visits(rows)):
            marks = self._marks(row["id"])
            sig = self._signature_row(row["id"])
            visits.append(visit.model_copy(update={
                "marks": None if marks.empty else marks,
                "signature": None if sig is None else sig.as_signature(),
            }))
        return Case(format=FORMAT, patient=patient, visits=tuple(visits))

    # -------------------------------------------------------------------- research subjects

    SUBJECT_ID_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"
    """A subject id's letters: consonants only (no digits, no vowels), so a random id never
    spells a name or a word, nor looks like a date or a number (issue 19)."""

    def all_patient_ids(self) -> list[str]:
        """Every patient's MRN, in MRN order."""
        return [r[0] for r in self.db.execute("SELECT id FROM patients ORDER BY id")]

    def patients_with_signed_visits(self) -> list[str]:
        """The MRNs of the patients with at least one signed visit (those a research export
        holds unless it asks for drafts too), in MRN order."""
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT patient_id FROM visits WHERE status <> 'draft' ORDER BY patient_id")]

    def research_subject_ids(self) -> dict[str, str]:
        """Every research subject id the chart has given (MRN -> subject id). The mapping is kept
        only here (m011 ``research_subjects``; it follows a corrected MRN), so the clinic can
        re-identify a subject of a de-identified export and nobody else can."""
        return dict(self.db.execute("SELECT patient_id, subject_id FROM research_subjects"))

    @contextmanager
    def research_subjects(self, patient_ids, *, new: bool = False):
        """``with store.research_subjects(ids) as subjects:`` the subject id of each patient
        (MRN -> subject id), giving a random one (:mod:`secrets`, never derived from the MRN) to
        each patient without one, or with ``new`` to each of them, their old ids forgotten.
        The ids are written in one transaction that commits when the block ends without an
        error: an export that fails inside the block leaves the mapping as it was. With nothing
        to write (every patient has an id, not ``new``) no transaction is opened, so a read-only
        chart is fine. An unknown MRN is refused before anything is written."""
        ids = list(dict.fromkeys(patient_ids))
        for pid in ids:
            self._patient_row(pid)  # no such patient: one line
        have = self.research_subject_ids()
        missing = ids if new else [p for p in ids if p not in have]
        if not missing:
            yield {p: have[p] for p in ids}
            return
        with self._write():
            taken = set(have.values())
            if new:
                self.db.conn.executemany("DELETE FROM research_subjects WHERE patient_id = ?",
                                         [(p,) for p in missing])
            made = {}
            for pid in missing:
                sid = self._new_subject_id()
                while sid in taken:  # pragma: no cover  (20**12, about 2**52, ids)
                    sid = self._new_subject_id()
                taken.add(sid)
                made[pid] = sid
            now = _now_utc()
            self.db.conn.executemany(
                "INSERT INTO research_subjects (patient_id, subject_id, assigned_utc) VALUES (?, ?, ?)",
                [(pid, sid, now) for pid, sid in made.items()])
            yield {p: made.get(p) or have[p] for p in ids}

    def assign_research_subjects(self, patient_ids, *, new: bool = False) -> dict[str, str]:
        """:meth:`research_subjects`, committed at once (the window gives ids before its
        background export, which reads them through a connection of its own)."""
        with self.research_subjects(patient_ids, new=new) as subjects:
            return subjects

    @classmethod
    def _new_subject_id(cls) -> str:
        import secrets

        letters = "".join(secrets.choice(cls.SUBJECT_ID_LETTERS) for _ in range(12))
        return f"{letters[:4]}-{letters[4:8]}-{letters[8:]}"

    def _signature_row(self, visit_id: int) -> SignedVersion | None:
        cur = self.db.execute("SELECT * FROM signatures WHERE visit_id = ?", [visit_id])
        row = cur.fetchone()
        return None if row is None else signed_version(dict(zip([d[0] for d in cur.description], row)))

    def classify(self, patient_id: str, options=None):
        """Classify the patient's current visits with the chart's criteria options (the same
        options as the reports and the window) unless ``options`` are given."""
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

    def set_criteria_options(self, options) -> Changes:
        """Save the chart's criteria options (only those that differ from the defaults). Signed
        visits keep the options and conclusion they were signed with."""
        from domain.options import options_to_settings

        self.set_setting("criteria_options", options_to_settings(options) or None)
        return Changes(visits=True)

    def import_case(self, case: Case, *, today: dt.date | None = None,
                    visit_uuids: dict[dt.date, str] | None = None,
                    mrn_keys: dict[str, str] | None = None) -> ImportReport:
        """Import one case, all or nothing: either every visit it adds is written, or nothing.

        The case must keep every rule of :func:`domain.patient_rules.case_problems` (no visit in
        the future, no diagnosis before onset, a real MRN, ...). Its patient is the chart's
        patient with the same MRN compared trimmed and case-folded (``"DEMO-000001 "`` and
        ``demo-000001`` are DEMO-000001), else a new patient (its MRN trimmed). Into a known
        patient visits are merged by date; the case is refused whole (:class:`ImportRefused`)
        when it conflicts with the chart: a patient field the file gives differs from the
        chart's, a date already here holds other content, or a visit would fall before birth or
        after death.

        A visit with a ``signature`` comes in signed, with its frozen result, after its hash is
        verified; a visit whose content no longer matches its signature refuses the whole file.

        ``visit_uuids`` (date -> UUID, from a FHIR bundle's Encounter identifiers) keeps the
        identifiers the visits had where they came from: each added visit takes its UUID unless
        another visit of this chart holds it already (then it keeps the one made for it).

        ``mrn_keys`` (from :meth:`mrn_keys`, kept by a caller importing many files, issue 20):
        the chart's patients by MRN key, so a new patient is not looked for among all of them;
        a patient this import creates is added to it."""
        report = self.import_prepared(prepare_import(case, today or dt.date.today()), case=case,
                                      visit_uuids=visit_uuids, mrn_keys=mrn_keys)
        assert report is not None  # (given the case, a known patient is merged)
        return report

    def import_prepared(self, prepared: PreparedImport, *, case: Case | None = None,
                        visit_uuids: dict[dt.date, str] | None = None,
                        mrn_keys: dict[str, str] | None = None) -> ImportReport | None:
        """:meth:`import_case` of a case already checked and turned into rows
        (:func:`desktop.store.rows.prepare_import`, which a bulk import runs in helper
        processes). A new patient is written from those rows; into a patient the chart has,
        the visits are merged from ``case``, and without it nothing is written and None is
        returned (the caller then imports the case itself)."""
        from .errors import NOT_IMPORTED, ImportRefused

        p = prepared.patient
        with self._write():
            pid = self._find_patient_id(p.id, mrn_keys)
            created = pid is None
            if created:
                pid = p.id
                if mrn_keys is not None:
                    mrn_keys[prepared.key] = pid  # (a refused file rolls back; the key is then unused)
                self._write_visit_rows(prepared.rows)
                added, unchanged = list(prepared.dates), []
            elif case is None:
                return None
            else:
                self._refuse_patient_conflicts(pid, p)
                visits, unchanged, conflicts = [], [], []
                for v in case.visits:
                    row = self._current(pid, v.date)
                    if row is None:
                        visits.append(v)
                    elif (why := self._difference(row, v)) is None:
                        unchanged.append(v.date)
                    else:
                        conflicts.append(f"{v.date.isoformat()} ({why})")
                if conflicts:
                    raise ImportRefused(
                        f"patient {pid}: the chart already has a different visit on {', '.join(conflicts)}; "
                        f"{NOT_IMPORTED}")
                chart = self.get_patient(pid)
                for v in visits:
                    if chart.birth_date and v.date < chart.birth_date:
                        raise ImportRefused(f"patient {pid}: visit {v.date.isoformat()} would be before "
                                            f"birth_date {chart.birth_date.isoformat()}; {NOT_IMPORTED}")
                    if chart.death_date and v.date > chart.death_date:
                        raise ImportRefused(f"patient {pid}: visit {v.date.isoformat()} would be after "
                                            f"death_date {chart.death_date.isoformat()}; {NOT_IMPORTED}")
                self._write_visit_rows(visit_rows(pid, visits, prepared.snapshots))
                added = [v.date for v in visits]
            for d in added:
                u = (visit_uuids or {}).get(d)
                if u and not self.db.execute("SELECT 1 FROM visit_identifiers WHERE uuid = ?", [u]).fetchone():
                    self.db.execute("UPDATE visit_identifiers SET uuid = ? WHERE patient_id = ? AND date = ?",
                                    [u, pid, d.isoformat()])
        return ImportReport(pid, created, tuple(added), tuple(unchanged))

    def _find_patient_id(self, mrn: str, keys: dict[str, str] | None = None) -> str | None:
        """The chart's patient with this MRN, compared trimmed, normalised and case-folded
        (:func:`domain.patient_rules.mrn_key`), or None. ``keys``: :meth:`mrn_keys`."""
        from domain.patient_rules import mrn_key

        if self._patient_exists(mrn):
            return mrn
        if keys is not None:
            found = keys.get(mrn_key(mrn))
            return found if found is not None and self._patient_exists(found) else None
        found = self._ids_with_mrn_key(mrn_key(mrn))
        return found[0] if found else None

    def _ids_with_mrn_key(self, key: str) -> list[str]:
        """The chart's patients whose MRN has the key ``key`` (:func:`domain.patient_rules.mrn_key`).

        SQLite narrows the patients down first, so a chart of 20,000 does not have each MRN's
        key made in Python at every patient saved (25 ms): an MRN of printable ASCII letters
        only has for its key its ``lower(trim(...))`` in SQLite (Unicode normalisation, the
        format characters and Python's case folding change nothing there, and a space is its
        only white space), so only those equal to ``key``, and every MRN holding another
        character (a tab, an accent, a full-width letter...), are compared by their key."""
        from domain.patient_rules import mrn_key

        rows = self.db.execute("SELECT id FROM patients WHERE id GLOB '*[^ -~]*' OR lower(trim(id)) = ? "
                               "ORDER BY id", [key])
        return [other for (other,) in rows if mrn_key(other) == key]

    def mrn_keys(self) -> dict[str, str]:
        """Every patient of the chart by the key its MRN is compared by."""
        from domain.patient_rules import mrn_key

        return {mrn_key(pid): pid for (pid,) in self.db.execute("SELECT id FROM patients")}

    def _refuse_patient_conflicts(self, pid: str, incoming: Patient) -> None:
        """ImportRefused naming each field the incoming patient gives with a value other than
        the chart's (its id aside, matched already)."""
        from .errors import NOT_IMPORTED, ImportRefused

        old = self._patient_row(pid)
        new = patient_row(incoming)
        shown = lambda v: "not recorded" if v is None else str(v)  # noqa: E731
        differ = [f"{k} (chart: {shown(old[k])}, file: {shown(v)})" for k, v in new.items()
                  if k != "id" and v is not None and old[k] != v]
        if differ:
            raise ImportRefused(f"patient {pid}: the file differs from the chart in {', '.join(differ)}; "
                                f"{NOT_IMPORTED} (correct the file, or the chart with "
                                "`motorchart patient edit`, then import again)")

    def add_cases(self, items, *, make=None, progress=None, batch: int = JOB_PATIENTS, workers: int = 1) -> int:
        """Add new patients with their visits in bulk, in one transaction, and sign the visits
        listed for each: ``items`` yields ``(case, {date: clinician or (clinician, time)})``,
        or, with ``make`` (a module-level function: it may run in a helper process), what
        ``make`` turns into that where the rows are made (the demo clinic sends patient
        numbers, so that its cases are made, and never copied, there).
        The façade's bulk path (the demo clinic): prepared ``executemany``
        inserts, the same row mapping, triggers and audit as single writes, and signatures made
        as :meth:`sign_visit` makes them (:func:`desktop.store.rows.new_case_rows`: one
        classification per patient). With ``workers`` > 1, helper processes
        (:mod:`desktop.store.helpers`) make the rows while this process writes, ``batch``
        patients at a time: a short write keeps them busy (they make four jobs of
        :data:`JOB_PATIENTS` ahead each; at 500 a write they sat idle during each, and the demo
        build ran about 10% slower on two cores). A write a job rather than four: the first
        rows are written as soon as they come and the last write, with the helpers done, is
        short (building the 2,100-patient demo clinic on two cores, this process waited
        0.6-0.85 s for rows at 100 a write, 0.2-0.3 s at 25). A case that
        breaks a rule of :func:`domain.patient_rules.case_problems`, or a patient already in
        the chart (MRNs compared trimmed and case-folded, in the chart and among those added),
        refuses them all. Returns the number of patients added."""
        from domain.gc_pause import paused_gc
        from domain.patient_rules import mrn_key

        conn = self.db.conn
        options = self.criteria_options()
        today = dt.date.today()
        from .helpers import chunks

        jobs = chunks(items, JOB_PATIENTS)
        pool = None
        if workers > 1:
            from .helpers import helper_pool

            self.catalogue  # noqa: B018  (loaded before the helpers fork: they inherit it)
            pool = helper_pool(workers)
        if pool is None:
            made = (_case_rows_job((chunk, options, today, make)) for chunk in jobs)
        else:
            from .helpers import in_order

            made = in_order(pool, _case_rows_job, ((chunk, options, today, make) for chunk in jobs),
                            ahead=4 * workers)
        n = 0
        with paused_gc(), self._write():
            taken = set(self.mrn_keys())
            parts: list[VisitRows] = []

            def flush():
                if not parts:
                    return
                offset = self._next_visit_id() - 1
                rows, bases = VisitRows.merged(parts)
                rows.write(conn, offset)
                flush_pending_audit(conn, self._pending_before)  # each visit's audit row before its signing
                for part, base in zip(parts, bases):
                    part.sign(conn, offset + base)
                parts.clear()

            try:
                for chunk in made:
                    for pid, rows in chunk:
                        key = mrn_key(pid)
                        if key in taken:
                            raise StoreError(f"patient {pid} already exists (MRNs are compared ignoring case and "
                                             "surrounding spaces); nothing was added")
                        if isinstance(rows, str):
                            raise StoreError(rows)
                        taken.add(key)
                        parts.append(rows)
                        n += 1
                        if len(parts) >= batch:
                            flush()
                            if progress:
                                progress(n, None)
                flush()
            finally:
                if pool is not None:
                    pool.shutdown(wait=False, cancel_futures=True)
        return n

    def _next_visit_id(self) -> int:
        """The id the next visit will have (inside a write)."""
        return (self.db.conn.execute("SELECT max(id) FROM visits").fetchone()[0] or 0) + 1

    def _write_visit_rows(self, rows: VisitRows) -> None:
        """Insert prepared visits (:class:`desktop.store.rows.VisitRows`) with prepared
        ``executemany`` inserts after the chart's last visit id; a signed visit's audit row is
        written before its signature."""
        offset = self._next_visit_id() - 1
        rows.write(self.db.conn, offset)
        if rows.signatures:
            flush_pending_audit(self.db.conn, self._pending_before)  # the visits' audit rows before their signatures
            rows.sign(self.db.conn, offset)

    def _difference(self, row: dict[str, Any], v: Visit) -> str | None:
        """How the chart's current version of a visit differs from an imported one, in a few
        words for a refusal, or None when they are the same record (the same content, and the
        same signature or none on both sides)."""
        if self._load_visits([row])[0] != plain_visit(v):
            return "other findings or values"
        status = row["status"]
        sig = self._signature_row(row["id"]) if status != "draft" else None
        if v.signature is None:
            return None if sig is None else f"{status} in the chart since; the file's is a draft"
        if sig is None:
            return ("a draft in the chart; the file's is signed" if status == "draft"
                    else f"{status} in the chart but its signature is missing (see motorchart check)")
        return None if sig.sha256 == v.signature.sha256 else "the same content, another signature"

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
        """The audit trail, or a patient's (under every MRN the patient has had). Each entry
        names who wrote it as its link in the audit chain records (:mod:`desktop.store.audit_chain`)."""
        from .audit_chain import user_sql
        from .migrations import expand_audit

        cols = f"id, time_utc, {user_sql()}, table_name, action, patient_id, row_key, old_json, new_json"
        if patient_id is None:
            cur = self.db.execute(f"SELECT {cols} FROM audit ORDER BY id")
        else:
            ids = self.patient_ids(patient_id)
            cur = self.db.execute(f"SELECT {cols} FROM audit WHERE patient_id IN ({','.join('?' * len(ids))}) "
                                  "ORDER BY id", ids)
        return [
            AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6],
                       *expand_audit(r[4], json.loads(r[7]) if r[7] else None, json.loads(r[8]) if r[8] else None))
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
