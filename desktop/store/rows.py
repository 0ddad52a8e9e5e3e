"""Row mapping: the frozen ``domain.case`` models to and from the chart's table rows.

Pure functions, no connection: the façade (:mod:`desktop.store.chart`) and the bulk demo
builder share them, so a visit is written the same way on every path.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from dataclasses import dataclass
from typing import Any

from domain.case import (
    AlsfrsR,
    Emg,
    MuscleFinding,
    Patient,
    ReflexFinding,
    Signature,
    SignFinding,
    Visit,
    VisitMarks,
)


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
MUSCLE_COLUMNS = ("pos", "mrc", "wasting", "fasciculations", "other_cause", "emg_json", "other_cause_reason")
REFLEX_COLUMNS = ("pos", "grade", "spread")
SIGN_COLUMNS = ("pos", "present")
FINDINGS = (  # table, key column, value columns
    ("muscle_findings", "muscle", MUSCLE_COLUMNS),
    ("reflex_findings", "reflex", REFLEX_COLUMNS),
    ("sign_findings", "sign", SIGN_COLUMNS),
)


FINDING_INSERT = {
    table: f"INSERT INTO {table} (visit_id, {key}, side, {', '.join(cols)}) VALUES ({', '.join('?' * (len(cols) + 3))})"
    for table, key, cols in FINDINGS
}
"""Each findings table's insert of one row: ``(visit_id, name, side, *values)``."""


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
            _json(f.emg.model_dump(mode="json", exclude_none=True)) if f.emg is not None else None,
            f.other_cause_reason,
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
            other_cause_reason=m[8],
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


# ------------------------------------------------------------------------------ visit marks

MARK_KINDS = ("not_reviewed", "carried", "alsfrs_draft")


def marks_from_values(values: dict[str, Any]) -> VisitMarks:
    """``visit_marks`` rows (kind -> decoded value_json) as :class:`VisitMarks`."""
    nr = values.get("not_reviewed") or {}
    ca = values.get("carried") or {}
    source = ca.get("from") or nr.get("from")
    return VisitMarks(
        not_reviewed=tuple(tuple(k) for k in nr.get("cells", ())),
        carried=tuple(tuple(k) for k in ca.get("cells", ())),
        carried_from=source,
        alsfrs_draft=values.get("alsfrs_draft") or None,
    )


def marks_to_values(marks: VisitMarks) -> dict[str, Any]:
    """The ``visit_marks`` rows of :class:`VisitMarks` (kind -> value); empty kinds are absent."""
    source = _iso(marks.carried_from)
    out: dict[str, Any] = {}
    if marks.not_reviewed:
        out["not_reviewed"] = {"cells": sorted(list(k) for k in marks.not_reviewed), "from": source}
    if marks.carried:
        out["carried"] = {"cells": sorted(list(k) for k in marks.carried), "from": source}
    if marks.alsfrs_draft:
        out["alsfrs_draft"] = dict(marks.alsfrs_draft)
    return out


# ------------------------------------------------------------------------------ signatures

def pack_snapshot(classification: dict[str, Any]) -> bytes:
    """The frozen classification, compactly: zlib over its canonical JSON."""
    from domain.signature import canonical_json

    return zlib.compress(canonical_json(classification).encode("utf-8"), 9)


def unpack_snapshot(blob: bytes) -> dict[str, Any]:
    return json.loads(zlib.decompress(blob).decode("utf-8"))


@dataclass(frozen=True)
class SignedVersion:
    """One signature as stored: the frozen result and what the hash covers."""

    signed_by: str
    signed_at: str
    version: int
    amendment_reason: str | None
    options: dict[str, Any]
    classification: dict[str, Any]
    program_version: str | None
    catalogue_version: str | None
    previous_sha256: str | None
    sha256: str
    context: dict[str, Any] | None

    def fields(self) -> dict[str, Any]:
        """The fields the hash covers (domain.signature.SIGNATURE_FIELDS)."""
        return {
            "signed_by": self.signed_by, "signed_at": self.signed_at, "version": self.version,
            "amendment_reason": self.amendment_reason, "options": self.options,
            "classification": self.classification, "program_version": self.program_version,
            "catalogue_version": self.catalogue_version, "previous_sha256": self.previous_sha256,
        }

    def as_signature(self) -> Signature:
        return Signature(**self.fields(), sha256=self.sha256)


def signed_version(row: dict[str, Any]) -> SignedVersion:
    return SignedVersion(
        signed_by=row["signed_by"], signed_at=row["signed_at_utc"], version=row["version"],
        amendment_reason=row["amendment_reason"], options=json.loads(row["options_json"]),
        classification=unpack_snapshot(row["snapshot"]), program_version=row["program_version"],
        catalogue_version=row["catalogue_version"], previous_sha256=row["previous_sha256"],
        sha256=row["sha256"], context=json.loads(row["context_json"]) if row["context_json"] else None,
    )


# ------------------------------------------------------------------------------ bulk writing

class BulkRows:
    """Rows of new visits gathered for prepared ``executemany`` inserts (issue 20: the bulk
    paths, ``ChartStore.add_cases`` and ``ChartStore.import_case``): the same row mapping as a
    single write (:func:`visit_values`, :func:`finding_rows`, :func:`marks_to_values`), and the
    same triggers fire. Visit ids are handed out from ``next_id`` (the chart's largest id plus
    one, read inside the write)."""

    VISIT_COLUMNS = ("id", "patient_id", "date", *VISIT_VALUE_COLUMNS)

    def __init__(self, next_id: int):
        self.next_id = next_id
        self.patients: list[tuple] = []
        self.visits: list[tuple] = []
        self.findings: dict[str, list[tuple]] = {t: [] for t, _, _ in FINDINGS}
        self.marks: list[tuple] = []

    def add_patient(self, p: Patient) -> None:
        self.patients.append(tuple(patient_row(p).values()))

    def add_visit(self, patient_id: str, v: Visit, marks: VisitMarks | None = None) -> int:
        """Gather one visit (its marks: ``marks``); returns the id it will have."""
        vid = self.next_id
        self.next_id += 1
        vals = visit_values(v)
        self.visits.append((vid, patient_id, v.date.isoformat(), *(vals[c] for c in VISIT_VALUE_COLUMNS)))
        for (t, _, _), rows in zip(FINDINGS, finding_rows(v)):
            self.findings[t].extend((vid, k[0], k[1], *val) for k, val in rows.items())
        if marks is not None:
            self.marks.extend((vid, kind, _json(value)) for kind, value in marks_to_values(marks).items())
        return vid

    def write(self, conn) -> None:
        """Insert everything gathered, patients first, and start afresh."""
        if self.patients:
            conn.executemany(f"INSERT INTO patients ({', '.join(PATIENT_COLUMNS)}) "
                             f"VALUES ({', '.join('?' * len(PATIENT_COLUMNS))})", self.patients)
        if self.visits:
            conn.executemany(f"INSERT INTO visits ({', '.join(self.VISIT_COLUMNS)}) "
                             f"VALUES ({', '.join('?' * len(self.VISIT_COLUMNS))})", self.visits)
        for table, _, _ in FINDINGS:
            rows = self.findings[table]
            if rows:
                conn.executemany(FINDING_INSERT[table], rows)
                rows.clear()
        if self.marks:
            conn.executemany("INSERT INTO visit_marks (visit_id, kind, value_json) VALUES (?, ?, ?)", self.marks)
        self.patients.clear()
        self.visits.clear()
        self.marks.clear()
