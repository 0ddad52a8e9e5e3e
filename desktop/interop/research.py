"""The de-identified research export (issue 19, point 2): per-domain CSV files in the style of
PRO-ACT, keyed by a random ``subject_id``, with a data dictionary describing every column.

HIPAA Safe Harbor, by construction rather than by filtering:

- Only coded values and numbers are written: no name, MRN, clinician, visit note, milestone
  note, other-cause reason or amendment reason is ever read into a row. Every cell is ASCII.
- No calendar date: every time is whole days from the patient's first exported visit (day 0;
  onset and diagnosis are usually negative).
- Age at the first visit in whole years; a patient who is 90 or older at any exported time
  point (a visit, onset, diagnosis, a milestone, death) gets ``90+`` and no number, so no
  numeric age plus a day count can reveal an age over 89. There is no birth year column.
- ``subject_id`` is random (:meth:`desktop.store.chart.ChartStore.research_subjects`), never
  derived from an identifier; the mapping stays in the chart. Rows are sorted by subject id,
  so their order says nothing about MRNs or the order patients were charted in.

What is exported: each patient's visits as recorded, signed (or amended) visits only unless
``include_drafts``; a patient with no exported visit is left out (there is no day 0). Criteria,
phenotype and stages of a signed visit are those frozen when it was signed; a draft's (or a
visit signed before results were frozen) are computed with the chart's criteria options
(``visits.csv``: ``results``).

Functional core, imperative shell: :func:`gather` reads the chart, :func:`research_rows`
builds the rows (pure), :func:`stage_files` and :func:`publish_files` write the files (all
or none), and :func:`export_research` ties them together.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.case import ALSFRS_ITEMS, MRC_GRADES, Patient, Visit, VisitMarks

if TYPE_CHECKING:  # pragma: no cover
    from desktop.store.chart import ChartStore
    from domain.catalogue import Catalogue

AGE_CAP = 90
"""Ages from this one on are written ``90+`` (HIPAA Safe Harbor: ages over 89)."""
AGE_CAPPED = "90+"
YES, NO = "yes", "no"
DICTIONARY = "data_dictionary.csv"


# ---------------------------------------------------------------------------- the columns

@dataclass(frozen=True)
class Column:
    name: str
    type: str  # text, integer, number, category, yes/no, integer or 90+
    unit: str
    description: str
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    file: str
    description: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


SUBJECT = Column("subject_id", "text", "", "Random research subject id (three groups of four letters). "
                 "The same in every file, and in every export of this chart unless new ids were asked "
                 "for; only the chart can link it to a patient.")
VISIT_DAY = Column("visit_day", "integer", "days", "Days from the subject's first exported visit (day 0).")
SIDES = ("left", "right", "midline")


ALSFRS_NUMBERS = {
    "speech": "q1", "salivation": "q2", "swallowing": "q3", "handwriting": "q4", "cutting_food": "q5",
    "dressing_hygiene": "q6", "turning_in_bed": "q7", "walking": "q8", "climbing_stairs": "q9",
    "dyspnea": "q10", "orthopnea": "q11", "respiratory_insufficiency": "q12",
}
"""ALSFRS-R item numbers (item 5 is 5a or 5b, a column each)."""


def _alsfrs_columns() -> tuple[Column, ...]:
    items = []
    numbers = ALSFRS_NUMBERS
    grades = tuple(str(i) for i in range(5))
    for item in ALSFRS_ITEMS:
        if item == "cutting_food":
            items.append(Column("q5a_cutting_food", "integer", "points",
                                "Item 5a, cutting food and handling utensils (no gastrostomy); "
                                "blank when item 5b was scored.", grades))
            items.append(Column("q5b_cutting_food_gastrostomy", "integer", "points",
                                "Item 5b, cutting food and handling utensils with a gastrostomy; "
                                "blank when item 5a was scored.", grades))
            continue
        label = item.replace("_", " ")
        items.append(Column(f"{numbers[item]}_{item}", "integer", "points",
                            f"Item {numbers[item][1:]}, {label} (4 normal, 0 worst).", grades))
    return (
        *items,
        Column("total", "integer", "points", "ALSFRS-R total, items 1-12 (48 normal, 0 worst)."),
        Column("bulbar", "integer", "points", "Bulbar subscore: items 1-3 (0-12)."),
        Column("fine_motor", "integer", "points", "Fine motor subscore: items 4, 5a or 5b, 6 (0-12)."),
        Column("gross_motor", "integer", "points", "Gross motor subscore: items 7-9 (0-12)."),
        Column("respiratory", "integer", "points", "Respiratory subscore: items 10-12 (0-12)."),
    )


def research_tables(catalogue: Catalogue) -> tuple[Table, ...]:
    """Every file of the export and its columns, in order: the one definition the rows, the
    headers and the data dictionary are made from. Criteria columns follow the registry and
    muscle values the catalogue, so adding either needs no change here."""
    from domain.catalogue import REGIONS
    from domain.criteria import CATEGORY_ORDER, REGISTRY
    from domain.phenotype import PHENOTYPE_NAMES

    yes_no = (YES, NO)
    criteria = tuple(
        Column(cid, "category", "", f"{c.label} ({c.source}) at this visit."
               + (" Categories, lowest first." if c.graded else ""),
               CATEGORY_ORDER if c.graded else ("met", "not_met"))
        for cid, c in REGISTRY.items()
    )
    return (
        Table("demographics.csv", "One row per subject.", (
            SUBJECT,
            Column("sex", "category", "", "Sex as recorded; blank when not recorded.",
                   ("female", "male", "other", "unknown")),
            Column("age_at_first_visit", "integer or 90+", "years",
                   "Completed years of age at day 0. 90+ (and no number) when the subject is 90 or older "
                   "at any time point of this export; blank when the birth date is not recorded."),
        )),
        Table("als_history.csv", "One row per subject: onset and diagnosis.", (
            SUBJECT,
            Column("onset_region", "category", "", "Region of symptom onset.",
                   ("bulbar", "upper_limb", "lower_limb", "trunk_axial", "respiratory", "generalised")),
            Column("onset_side", "category", "", "Side of a limb onset.", ("left", "right", "bilateral")),
            Column("onset_day", "integer", "days", "Symptom onset, days from day 0 (usually negative)."),
            Column("diagnosis_day", "integer", "days", "Diagnosis, days from day 0 (zero or negative when "
                   "diagnosed by the first visit)."),
        )),
        Table("visits.csv", "One row per exported visit.", (
            SUBJECT, VISIT_DAY,
            Column("visit_status", "category", "", "signed; amended (a signed correction); draft (not "
                   "signed, exported only when drafts were asked for).", ("signed", "amended", "draft")),
            Column("results", "category", "", "Where this visit's criteria, phenotype and stages come "
                   "from: signed (frozen when the visit was signed) or computed (with the chart's "
                   "current criteria options).", ("signed", "computed")),
        )),
        Table("alsfrs_r.csv", "One row per visit with a complete ALSFRS-R (revised ALS Functional "
              "Rating Scale).", (SUBJECT, VISIT_DAY, *_alsfrs_columns())),
        Table("fvc.csv", "One row per visit with a forced vital capacity.", (
            SUBJECT, VISIT_DAY,
            Column("fvc_percent_predicted", "number", "% predicted", "Forced vital capacity."),
        )),
        Table("weight.csv", "One row per visit with a weight.", (
            SUBJECT, VISIT_DAY,
            Column("weight_kg", "number", "kg", "Body weight."),
        )),
        Table("diagnostic_criteria.csv", "One row per visit: diagnostic criteria and phenotype.", (
            SUBJECT, VISIT_DAY, *criteria,
            Column("phenotype", "category", "", "Phenotype label at this visit.", tuple(PHENOTYPE_NAMES)),
            Column("phenotype_provisional", "yes/no", "", "yes while the label can still change "
                   "(its observation window is not over).", yes_no),
        )),
        Table("staging.csv", "One row per visit: King's and MiToS stages.", (
            SUBJECT, VISIT_DAY,
            Column("kings_clinical", "category", "", "King's clinical stage (regions involved, "
                   "gastrostomy, ventilation, death).", ("1", "2A", "2B", "3", "4A", "4B", "4A+4B", "5")),
            Column("kings_from_alsfrs_r", "category", "", "King's stage estimated from the ALSFRS-R; blank "
                   "without one.", ("1", "2", "3", "4A", "4B", "4A+4B")),
            Column("mitos", "integer", "stage", "MiToS stage (domains lost); blank without an ALSFRS-R.",
                   ("0", "1", "2", "3", "4", "5")),
        )),
        Table("milestones.csv", "One row per milestone reached.", (
            SUBJECT,
            Column("milestone", "category", "", "gastrostomy; niv (non-invasive ventilation); "
                   "tracheostomy.", ("gastrostomy", "niv", "tracheostomy")),
            Column("milestone_day", "integer", "days", "Days from day 0."),
            Column("refused", "yes/no", "", "yes when the chart records the milestone as refused "
                   "(the day is then the day of the refusal).", yes_no),
        )),
        Table("death.csv", "One row per subject.", (
            SUBJECT,
            Column("died", "yes/no", "", "yes when a death is recorded.", yes_no),
            Column("death_day", "integer", "days", "Days from day 0; blank when alive."),
        )),
        Table("muscle_mrc.csv", "One row per muscle and side graded on the MRC scale at a visit.", (
            SUBJECT, VISIT_DAY,
            Column("muscle", "category", "", "Muscle (Motorchart catalogue id).",
                   tuple(m.id for m in catalogue.muscles)),
            Column("side", "category", "", "Side examined.", SIDES),
            Column("region", "category", "", "Region of the muscle.", REGIONS),
            Column("mrc", "category", "grade", "MRC grade with modifiers, weakest first.", MRC_GRADES),
            Column("carried", "yes/no", "", "yes when the grade was carried from an earlier visit, not "
                   "examined again at this one.", yes_no),
            Column("other_cause", "yes/no", "", "yes when the clinician attributed this muscle's findings "
                   "to another cause (the classification ignores it).", yes_no),
        )),
        Table(DICTIONARY, "One row per column of every file, this one included.", (
            Column("file", "text", "", "The file the column is in."),
            Column("column", "text", "", "The column's name (its header)."),
            Column("type", "category", "", "What its values are.",
                   ("text", "integer", "number", "category", "yes/no", "integer or 90+")),
            Column("unit", "text", "", "Unit of a number (blank for codes)."),
            Column("description", "text", "", "What the column holds. A blank cell in any file means "
                   "not recorded."),
            Column("allowed_values", "text", "", "Every value a category may take, separated by ' | '; "
                   "blank for free numbers and ids."),
        )),
    )


# ---------------------------------------------------------------------------- the chart's side

@dataclass(frozen=True)
class ExportVisit:
    visit: Visit
    status: str  # signed, amended, draft
    results: dict[str, Any]  # the visit's classification (VisitClassification.as_json form)
    results_from: str  # signed, computed


@dataclass(frozen=True)
class Record:
    """One patient's exported record, as read from the chart (identified)."""

    patient_id: str
    patient: Patient
    visits: tuple[ExportVisit, ...]


@dataclass(frozen=True)
class Subject:
    """One patient under a research subject id: what the rows are made from."""

    subject_id: str
    patient: Patient
    visits: tuple[ExportVisit, ...]


@dataclass(frozen=True)
class ResearchExport:
    """What an export wrote (or would write)."""

    folder: Path | None
    files: tuple[str, ...]
    subjects: int
    visits: int
    left_out: tuple[str, ...] = ()  # MRNs with no exported visit (said to the clinic only)
    new_ids: int = 0
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the clinic (it names no patient)."""
        line = (f"research export: {self.subjects} subject(s), {self.visits} visit(s), "
                f"{len(self.files)} files in {self.folder}")
        if self.left_out:
            line += f"; {len(self.left_out)} patient(s) left out (no exported visit)"
        if self.new_ids:
            line += f"; {self.new_ids} new subject id(s) kept in the chart"
        return line


def gather(store: ChartStore, patient_ids: list[str], *,
           include_drafts: bool = False) -> tuple[list[Record], list[str]]:
    """Read what the export needs from the chart: (records, MRNs left out for want of an
    exported visit). Each visit's record is :meth:`ChartStore.export_case`'s (an open amendment
    is not part of the record until it is signed)."""
    from domain.case import FORMAT, Case
    from domain.classify import classify_case

    records, left_out = [], []
    options = None
    for pid in patient_ids:
        case = store.export_case(pid)
        statuses = []
        for v in case.visits:
            if v.signature is not None:
                statuses.append("amended" if v.signature.version > 1 else "signed")
            else:
                st = store.visit_status(pid, v.date)
                statuses.append("draft" if st == "draft" else "amended" if st == "amended" else "signed")
        keep = [i for i, st in enumerate(statuses) if include_drafts or st != "draft"]
        if not keep:
            left_out.append(pid)
            continue
        computed = None
        if any(case.visits[i].signature is None for i in keep):
            if options is None:
                options = store.criteria_options()
            plain = tuple(v.model_copy(update={"marks": None, "signature": None}) for v in case.visits)
            computed = classify_case(Case(format=FORMAT, patient=case.patient, visits=plain),
                                     store.catalogue, options).visits
        visits = []
        for i in keep:
            v = case.visits[i]
            if v.signature is not None:
                results, source = v.signature.classification, "signed"
            else:
                results, source = computed[i].as_json(), "computed"
            visits.append(ExportVisit(v, statuses[i], results, source))
        records.append(Record(pid, case.patient, tuple(visits)))
    return records, left_out


# ---------------------------------------------------------------------------- the rows (pure)

def _completed_years(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _yn(value: bool) -> str:
    return YES if value else NO


def _refused(note: str | None) -> bool:
    """The classifier's rule for a refused milestone (domain.classify: the note says "refus");
    only this yes/no leaves the chart, never the note."""
    return note is not None and "refus" in note.casefold()


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(round(float(value), 2))


MILESTONES = ("gastrostomy", "niv", "tracheostomy")


def subject_rows(s: Subject, catalogue: Catalogue) -> dict[str, list[dict[str, str]]]:
    """One subject's rows, per file (values as text; '' is not recorded)."""
    from domain.criteria import REGISTRY

    p = s.patient
    day0 = s.visits[0].visit.date
    day = lambda d: "" if d is None else str((d - day0).days)  # noqa: E731
    sid = s.subject_id
    out: dict[str, list[dict[str, str]]] = {}
    add = lambda f, **row: out.setdefault(f, []).append({"subject_id": sid, **row})  # noqa: E731

    exported = [ev.visit.date for ev in s.visits]
    exported += [d for d in (p.onset_date, p.diagnosis_date, p.death_date,
                             *(getattr(p, f"{m}_date") for m in MILESTONES)) if d is not None]
    age = ""
    if p.birth_date is not None:
        oldest = _completed_years(p.birth_date, max(exported))
        age = AGE_CAPPED if oldest >= AGE_CAP else str(_completed_years(p.birth_date, day0))
    add("demographics.csv", sex=p.sex or "", age_at_first_visit=age)
    add("als_history.csv", onset_region=p.onset_region or "", onset_side=p.onset_side or "",
        onset_day=day(p.onset_date), diagnosis_day=day(p.diagnosis_date))
    for m in MILESTONES:
        d = getattr(p, f"{m}_date")
        if d is not None:
            add("milestones.csv", milestone=m, milestone_day=day(d), refused=_yn(_refused(getattr(p, f"{m}_note"))))
    add("death.csv", died=_yn(p.death_date is not None), death_day=day(p.death_date))

    order = {m.id: i for i, m in enumerate(catalogue.muscles)}
    for ev in s.visits:
        v, vd = ev.visit, day(ev.visit.date)
        add("visits.csv", visit_day=vd, visit_status=ev.status, results=ev.results_from)
        a = v.alsfrs_r
        if a is not None:
            items = {f"{n}_{item}": str(getattr(a, item)) for item, n in ALSFRS_NUMBERS.items()
                     if item != "cutting_food"}
            items["q5a_cutting_food"] = "" if a.gastrostomy else str(a.cutting_food)
            items["q5b_cutting_food_gastrostomy"] = str(a.cutting_food) if a.gastrostomy else ""
            add("alsfrs_r.csv", visit_day=vd, **items, total=str(a.total),
                bulbar=str(a.bulbar), fine_motor=str(a.fine_motor), gross_motor=str(a.gross_motor),
                respiratory=str(a.respiratory))
        if v.fvc_percent is not None:
            add("fvc.csv", visit_day=vd, fvc_percent_predicted=_number(v.fvc_percent))
        if v.weight_kg is not None:
            add("weight.csv", visit_day=vd, weight_kg=_number(v.weight_kg))
        r = ev.results
        crit = r.get("criteria") or {}
        values = {}
        for cid, c in REGISTRY.items():
            res = crit.get(cid)
            if res is None:
                values[cid] = ""
            elif c.graded:
                values[cid] = res.get("category") or ""
            else:
                values[cid] = "met" if res.get("met") else "not_met"
        ph = r.get("phenotype") or {}
        add("diagnostic_criteria.csv", visit_day=vd, **values, phenotype=ph.get("label") or "",
            phenotype_provisional="" if not ph else _yn(bool(ph.get("provisional"))))
        st = r.get("staging") or {}
        mitos = st.get("mitos")
        add("staging.csv", visit_day=vd, kings_clinical=st.get("kings_clinical") or "",
            kings_from_alsfrs_r=st.get("kings_alsfrs") or "", mitos="" if mitos is None else str(mitos))
        marks = v.marks or VisitMarks()
        carried = {(k[1], k[2]) for k in (*marks.carried, *marks.not_reviewed) if k[0] == "muscle" and k[3] == "mrc"}
        for f in sorted(v.muscles, key=lambda f: (order.get(f.muscle, len(order)), SIDES.index(f.side))):
            if f.mrc is None:
                continue
            m = catalogue.muscle.get(f.muscle)
            add("muscle_mrc.csv", visit_day=vd, muscle=f.muscle, side=f.side, region=m.region if m else "",
                mrc=f.mrc, carried=_yn((f.muscle, f.side) in carried), other_cause=_yn(f.other_cause))
    return out


def research_rows(subjects: list[Subject], catalogue: Catalogue) -> dict[str, list[dict[str, str]]]:
    """Every file's rows (the data dictionary's included), subjects in subject-id order."""
    tables = research_tables(catalogue)
    rows: dict[str, list[dict[str, str]]] = {t.file: [] for t in tables}
    for s in sorted(subjects, key=lambda s: s.subject_id):
        for f, rs in subject_rows(s, catalogue).items():
            rows[f].extend(rs)
    rows[DICTIONARY] = [
        {"file": t.file, "column": c.name, "type": c.type, "unit": c.unit, "description": c.description,
         "allowed_values": " | ".join(c.allowed)}
        for t in tables for c in t.columns
    ]
    return rows


def csv_text(table: Table, rows: list[dict[str, str]]) -> str:
    """A file's text: RFC 4180 CSV, a header line, then the rows in the table's column order;
    ASCII only (a non-ASCII cell would be something that is not a code: refused)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    names = table.names
    w.writerow(names)
    expected = set(names)
    for r in rows:
        if r.keys() != expected:
            raise ValueError(f"{table.file}: a row has the columns {sorted(r)}, not {list(names)}")
        w.writerow([r[n] for n in names])
    text = buf.getvalue()
    if not text.isascii():
        raise ValueError(f"{table.file}: a value is not plain ASCII: refusing to write it")
    return text


# ---------------------------------------------------------------------------- the files

def folder_problem(folder: Path) -> str | None:
    """Why the export cannot go to ``folder`` (checked before anything is written), or None.
    A missing folder is made (its parent must exist); files of an earlier export there are
    replaced, other files are left alone."""
    if folder.exists() and not folder.is_dir():
        return f"{folder}: is a file, not a folder"
    if not folder.exists() and not folder.parent.is_dir():
        return f"{folder.parent}: no such folder"
    where = folder if folder.exists() else folder.parent
    if not os.access(where, os.W_OK | os.X_OK):
        return f"{where}: the folder is read-only"
    return None


def stage_files(folder: Path, texts: dict[str, str]) -> Path:
    """Write every file into a new private staging folder inside ``folder`` (a missing
    ``folder`` is made, mode 0700), each through :func:`desktop.outfiles.write_atomic` (mode
    0600); :func:`publish_files` then renames them into place. Raises OSError, leaving nothing
    behind (not even a folder it made)."""
    from desktop.outfiles import write_atomic

    made = not folder.exists()
    folder.mkdir(mode=0o700, exist_ok=True)
    staging = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=".research-export.", dir=folder))
        for name, text in texts.items():
            write_atomic(staging / name, text)
    except BaseException:
        discard(staging, folder if made else None)
        raise
    return staging


def publish_files(staging: Path, folder: Path) -> tuple[str, ...]:
    """Rename the staged files into ``folder`` (replacing an earlier export's) and remove the
    staging folder."""
    from desktop.outfiles import sync_folder

    names = tuple(sorted(p.name for p in staging.iterdir()))
    for name in names:
        os.replace(staging / name, folder / name)
    staging.rmdir()
    sync_folder(folder)
    return names


def discard(staging: Path | None, made: Path | None = None) -> None:
    """Remove a staging folder, and the export folder when this export made it and it is empty."""
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)
    if made is not None:
        try:
            made.rmdir()
        except OSError:
            pass


def export_research(store: ChartStore, folder: Path, *, patient_ids: list[str] | None = None,
                    new_ids: bool = False, include_drafts: bool = False) -> ResearchExport:
    """Export ``patient_ids`` (default: every patient) de-identified to ``folder``.

    Subject ids are given (or with ``new_ids`` replaced) in the same transaction as the export:
    if the files cannot be written, the chart's mapping is left as it was. Raises StoreError (an
    unknown MRN, nothing to export, a read-only chart that would need new ids) or OSError."""
    from desktop.store.errors import StoreError

    start = time.perf_counter()
    ids = list(dict.fromkeys(patient_ids)) if patient_ids else store.all_patient_ids()
    if not ids:
        raise StoreError("the chart has no patients to export")
    catalogue = store.catalogue
    before = store.research_subject_ids()
    made = None if folder.exists() else folder
    staging = None
    for pid in ids:
        store.get_patient(pid)  # an unknown MRN: one line, before anything is read or written
    records, left_out = gather(store, ids, include_drafts=include_drafts)
    if not records:
        raise StoreError("nothing to export: no " + ("" if include_drafts else "signed ")
                         + "visit of " + ("these patients" if patient_ids else "any patient")
                         + " is in the chart; nothing was written")
    exported = [r.patient_id for r in records]
    try:
        # Only exported patients get an id. The ids commit when the block ends, after every
        # file is staged and before any is put in place: a failure before leaves the mapping as
        # it was, and no file is ever published with ids the chart does not hold.
        with store.research_subjects(exported, new=new_ids) as subject_ids:
            subjects = [Subject(subject_ids[r.patient_id], r.patient, r.visits) for r in records]
            rows = research_rows(subjects, catalogue)
            texts = {t.file: csv_text(t, rows[t.file]) for t in research_tables(catalogue)}
            staging = stage_files(folder, texts)
        files = publish_files(staging, folder)
    except BaseException:
        discard(staging, made)
        raise
    new = sum(1 for p in exported if subject_ids[p] != before.get(p))
    return ResearchExport(folder, files, len(subjects), sum(len(s.visits) for s in subjects),
                          tuple(left_out), new, time.perf_counter() - start,
                          {f: len(r) for f, r in rows.items()})
