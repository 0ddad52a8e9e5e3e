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
    Case,
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


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, check_circular=False)
"""One encoder for every row value, read-only after import, without the circular check (the
values are trees made from the models): the text of ``json.dumps`` with these options, made
faster, as :func:`domain.signature.canonical_json` makes its own."""


def _json(value: Any) -> str:
    return _ENCODER.encode(value)


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

SNAPSHOT_LEVEL = 3
"""zlib's level for the frozen results. Measured on 2,000 of the demo's (18.3 kB of JSON each):
level 3 takes 49 µs and makes 2,055 bytes, level 6 (zlib's default) 92 µs and 1,802 bytes. A
bulk import and the demo build compress one for every signed visit, in the helpers that make
the rows; 250 bytes more a signed visit leaves the chart well within ``store.bytes_per_visit``."""


def pack_canonical(text: str) -> bytes:
    """The frozen classification, compactly: zlib over its canonical JSON ``text``
    (:func:`domain.signature.signature_hash_and_snapshot` makes it while hashing)."""
    return zlib.compress(text.encode("utf-8"), SNAPSHOT_LEVEL)


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
    same triggers fire. Visit ids are numbered from 1 here, away from the chart (in a helper
    process, say), and moved past the chart's own when written (:meth:`write`)."""

    VISIT_COLUMNS = ("id", "patient_id", "date", *VISIT_VALUE_COLUMNS)

    def __init__(self):
        self.next_id = 1
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

    def write(self, conn, offset: int = 0) -> None:
        """Insert everything gathered, patients first, and start afresh; ``offset`` is added to
        every visit id (the chart's largest id, read inside the write)."""
        if self.patients:
            conn.executemany(f"INSERT INTO patients ({', '.join(PATIENT_COLUMNS)}) "
                             f"VALUES ({', '.join('?' * len(PATIENT_COLUMNS))})", self.patients)
        if self.visits:
            conn.executemany(f"INSERT INTO visits ({', '.join(self.VISIT_COLUMNS)}) "
                             f"VALUES ({', '.join('?' * len(self.VISIT_COLUMNS))})", _shifted(self.visits, offset))
        for table, _, _ in FINDINGS:
            rows = self.findings[table]
            if rows:
                conn.executemany(FINDING_INSERT[table], _shifted(rows, offset))
                rows.clear()
        if self.marks:
            conn.executemany("INSERT INTO visit_marks (visit_id, kind, value_json) VALUES (?, ?, ?)",
                             _shifted(self.marks, offset))
        self.patients.clear()
        self.visits.clear()
        self.marks.clear()


def _shifted(rows: list[tuple], by: int) -> list[tuple]:
    """Rows whose first value is a visit id, with ``by`` added to it."""
    return [(r[0] + by, *r[1:]) for r in rows] if by else rows


def plain_visit(visit: Visit) -> Visit:
    """The visit's clinical content, without marks or a signature."""
    if visit.marks is None and visit.signature is None:
        return visit
    return visit.model_copy(update={"marks": None, "signature": None})


SIGNATURE_INSERT = (
    "INSERT INTO signatures (visit_id, signed_by, signed_at_utc, version, amendment_reason, options_json, "
    "program_version, catalogue_version, snapshot, context_json, previous_sha256, sha256) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
"""One signature row: ``(visit_id, *signature_row(...))``."""

MARK_SIGNED = ("UPDATE visits SET status = ?, clinician = ?, signed_at_utc = ?, amendment_reason = ? "
               "WHERE id = ?")
"""Marks a stored version signed: ``(status, clinician, signed_at, reason, visit_id)``."""


def signature_row(fields: dict[str, Any], sha: str, context: dict | None, snapshot: bytes) -> tuple:
    """A signature's row after its visit id (:data:`SIGNATURE_INSERT`); ``snapshot``: the
    packed frozen result (:func:`pack_canonical`)."""
    return (fields["signed_by"], fields["signed_at"], fields["version"], fields["amendment_reason"],
            _json(fields["options"]), fields["program_version"], fields["catalogue_version"], snapshot,
            None if context is None else _json(context), fields["previous_sha256"], sha)


def sealed_signature(visit: Visit, snapshot: dict[str, Any], *, clinician: str, options: dict[str, Any],
                     version: int, reason: str | None, previous: str | None, signed_at: str | None,
                     context: dict | None, content: str | None = None) -> tuple[str, tuple, tuple]:
    """A signature made for ``visit`` with its frozen result ``snapshot``, the options it was
    computed with (``options``, as JSON), the program's and the catalogue's versions and the
    hash over them and the visit's content (``content``: its canonical JSON, made already):
    ``(sha256, the signature's row after its visit id, the MARK_SIGNED values before it)``.
    The one place a signature is made: signing, amending and the bulk paths all come here."""
    from domain import __version__
    from domain.signature import signature_hash_and_snapshot

    from desktop.resources import catalogue_version

    fields = {
        "signed_by": clinician,
        "signed_at": signed_at or _now_utc(),
        "version": version,
        "amendment_reason": reason,
        "options": options,
        "classification": snapshot,
        "program_version": __version__,
        "catalogue_version": catalogue_version(),
        "previous_sha256": previous,
    }
    sha, frozen = signature_hash_and_snapshot(visit, fields, content=content)
    return (sha, signature_row(fields, sha, context, pack_canonical(frozen)),
            ("amended" if version > 1 else "signed", clinician, fields["signed_at"], reason))


@dataclass
class VisitRows:
    """Visits ready to insert: their rows (ids from 1), and the signatures and status updates of
    those that came signed, by the same ids (:meth:`write` shifts them to the chart's)."""

    rows: BulkRows
    signatures: list[tuple]
    signed: list[tuple]

    def write(self, conn, offset: int) -> None:
        """Insert the rows, visit ids from ``offset + 1`` (their signatures: :meth:`sign`, after
        the visits' audit rows are written)."""
        self.rows.write(conn, offset)

    def sign(self, conn, offset: int) -> None:
        """Insert the signatures and mark their visits signed."""
        if self.signatures:
            conn.executemany(SIGNATURE_INSERT, [(vid + offset, *rest) for vid, *rest in self.signatures])
            conn.executemany(MARK_SIGNED, [(*rest, vid + offset) for vid, *rest in self.signed])

    @classmethod
    def merged(cls, parts: list[VisitRows]) -> tuple[VisitRows, list[int]]:
        """One :class:`VisitRows` of many (their visits numbered on, in order) for one set of
        inserts, and where each part's ids start (minus one), for its :meth:`sign`."""
        out = BulkRows()
        bases, base = [], 0
        for part in parts:
            bases.append(base)
            rows = part.rows
            out.patients += rows.patients
            out.visits += _shifted(rows.visits, base)
            for table, found in rows.findings.items():
                out.findings[table] += _shifted(found, base)
            out.marks += _shifted(rows.marks, base)
            base += len(rows.visits)
        return cls(out, [], []), bases


def visit_rows(patient_id: str, visits: list[Visit], snapshots: dict[dt.date, bytes],
               patient: Patient | None = None) -> VisitRows:
    """The rows of imported visits (and of ``patient``, a new one): a visit that comes signed
    keeps its signature, with its frozen result packed already (``snapshots``: date -> bytes
    of :func:`pack_canonical`), and only its carried marks (draft marks cannot be part of a
    signed visit)."""
    from domain.signature import signature_fields

    bulk = BulkRows()
    if patient is not None:
        bulk.add_patient(patient)
    signatures, signed = [], []
    for v in visits:
        marks = v.marks or VisitMarks()
        sig = v.signature
        if sig is not None:
            marks = VisitMarks(carried=marks.carried, carried_from=marks.carried_from)
        vid = bulk.add_visit(patient_id, plain_visit(v), marks)
        if sig is not None:
            signatures.append((vid, *signature_row(signature_fields(sig), sig.sha256, None, snapshots[v.date])))
            signed.append((vid, "amended" if sig.version > 1 else "signed", sig.signed_by, sig.signed_at,
                           sig.amendment_reason))
    return VisitRows(bulk, signatures, signed)


def new_case_rows(case: Case, signed: dict[dt.date, tuple[str, str | None]], catalogue, options,
                  today: dt.date, context=None) -> VisitRows | str:
    """The rows of a case added as a new patient, with the visits listed in ``signed``
    (date -> clinician, signing time) signed as :meth:`ChartStore.sign_visit` signs them (one
    classification of the case; the context of each signature from content hashes made once
    a visit); or the line saying which rule of :func:`domain.patient_rules.case_problems` it
    breaks. Pure, so the bulk path can run it in helper processes. ``context``: an evidence
    context of the catalogue and options, shared by the cases of one job
    (:func:`domain.classify.classify_case`)."""
    from domain.classify import classify_case
    from domain.patient_rules import case_problems
    from domain.signature import content_json, content_sha256, patient_facts_sha256, signing_context

    pid = case.patient.id
    problems = case_problems(case, today=today)
    if problems:
        return f"patient {pid}: {'; '.join(problems)}; nothing was added"
    bulk = BulkRows()
    bulk.add_patient(case.patient)
    vids = {v.date: bulk.add_visit(pid, v) for v in case.visits}
    signatures, marks = [], []
    if signed:
        results = classify_case(case, catalogue, options, context=context).visits
        texts = {v.date: content_json(v) for v in case.visits}
        contents = {d: content_sha256(None, text) for d, text in texts.items()}
        facts = patient_facts_sha256(case.patient)
        options_json = options.model_dump(mode="json")
        for v, vc in zip(case.visits, results):
            if v.date in signed:
                clinician, at = signed[v.date]
                context = signing_context(case.patient, [e for e in case.visits if e.date < v.date],
                                          hashes=contents, facts=facts)
                _sha, row, mark = sealed_signature(v, vc.as_json(), clinician=clinician, options=options_json,
                                                   version=1, reason=None, previous=None, signed_at=at,
                                                   context=context, content=texts[v.date])
                signatures.append((vids[v.date], *row))
                marks.append((vids[v.date], *mark))
    return VisitRows(bulk, signatures, marks)


@dataclass
class PreparedImport:
    """A case checked and turned into rows without the chart (:func:`prepare_import`), so that
    a bulk import can do this part in helper processes (issue 20) and the chart's writer only
    inserts. ``rows`` are the rows of the whole case as a new patient; into a patient the chart
    has, the visits are merged from the case itself (:meth:`ChartStore.import_case`)."""

    patient: Patient
    """As the file gives it, but its id (MRN) trimmed."""
    key: str
    """Its MRN as compared (:func:`domain.patient_rules.mrn_key`)."""
    dates: tuple[dt.date, ...]
    snapshots: dict[dt.date, bytes]
    rows: VisitRows


def prepare_import(case: Case, today: dt.date) -> PreparedImport:
    """Check a case for import and make its rows: every rule of
    :func:`domain.patient_rules.case_problems`, no draft marks on a signed visit, and every
    signature verified against its visit (a visit changed after signing refuses the file).
    Raises :class:`desktop.store.errors.ImportRefused` naming the problem."""
    from domain.patient_rules import case_problems, mrn_key
    from domain.signature import verified_snapshot

    from .errors import NOT_IMPORTED, ImportRefused

    p = case.patient
    problems = case_problems(case, today=today)
    if problems:
        raise ImportRefused(f"patient {p.id}: {'; '.join(problems)}; {NOT_IMPORTED}")
    snapshots: dict[dt.date, bytes] = {}
    for v in case.visits:
        if v.signature is not None:
            if v.marks is not None and (v.marks.not_reviewed or v.marks.alsfrs_draft):
                raise ImportRefused(f"patient {p.id}: visit {v.date.isoformat()} is signed but carries "
                                    f"draft marks (not reviewed, a part-scored ALSFRS-R); {NOT_IMPORTED}")
            snapshot = verified_snapshot(v, v.signature)
            if snapshot is None:
                raise ImportRefused(
                    f"patient {p.id}: visit {v.date.isoformat()} does not match its signature "
                    f"(signed by {v.signature.signed_by} at {v.signature.signed_at}): its content was "
                    f"changed after signing; {NOT_IMPORTED}")
            snapshots[v.date] = pack_canonical(snapshot)
    pid = p.id.strip()
    if pid != p.id:
        p = p.model_copy(update={"id": pid})
    return PreparedImport(p, mrn_key(pid), tuple(v.date for v in case.visits), snapshots,
                          visit_rows(pid, list(case.visits), snapshots, patient=p))
