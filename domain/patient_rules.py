"""The rules a patient's identity, history dates and milestones must keep, in one place: the new
patient form, the edit form, the command line and import all ask here (issue 14). A whole case
(import, ``classify`` of a file, the bulk path) is checked by :func:`case_problems`, which adds
the visits' rules: none in the future, free text within its limits (issue 17).

Pure: today's date and the patient's visit dates are passed in. Each problem is one line that
names the field, as the clinician sees it.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Iterable

from .case import Case, Patient, Visit, text_problem

DATE_FIELDS = (
    "birth_date", "onset_date", "diagnosis_date", "gastrostomy_date", "niv_date",
    "tracheostomy_date", "death_date",
)
MILESTONES = ("gastrostomy_date", "niv_date", "tracheostomy_date", "death_date")
LABELS = {
    "id": "MRN", "birth_date": "Birth date", "onset_date": "Onset date",
    "diagnosis_date": "Diagnosis date", "gastrostomy_date": "Gastrostomy date",
    "niv_date": "NIV start date", "tracheostomy_date": "Tracheostomy date", "death_date": "Date of death",
    "family_name": "Family name", "given_names": "Given names", "gastrostomy_note": "Gastrostomy note",
    "niv_note": "NIV note", "tracheostomy_note": "Tracheostomy note", "death_note": "Death note",
}
TEXT_FIELDS = {  # the patient's free text and the limit it keeps (domain.case.TEXT_LIMITS)
    "family_name": "family_name", "given_names": "given_names", "gastrostomy_note": "milestone_note",
    "niv_note": "milestone_note", "tracheostomy_note": "milestone_note", "death_note": "milestone_note",
}
MRN_REQUIRED = "required (the clinic's patient identifier); it cannot be blank"


def mrn_key(mrn: str) -> str:
    """How MRNs are compared for uniqueness: trimmed, Unicode-normalised, case-folded, with
    invisible format characters (zero-width spaces and the like) removed."""
    text = unicodedata.normalize("NFKC", mrn)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return text.strip().casefold()


def mrn_problem(mrn: str) -> str | None:
    """Why ``mrn`` cannot be an MRN (one line), or None: blank or only invisible characters,
    longer than its limit, a line break or a control character, not valid text."""
    problem = _mrn_issue(mrn)
    return None if problem is None else f"{LABELS['id']}: {problem}"


def _mrn_issue(mrn: str) -> str | None:
    return text_problem(mrn, "id") or (None if mrn_key(mrn) else MRN_REQUIRED)


def patient_problems(patient: Patient, *, today: dt.date, visit_dates: Iterable[dt.date] = ()) -> list[str]:
    """Every rule the patient breaks, one line each (empty when none):

    the MRN is not blank (nor only invisible characters) and is one line of text; names and
    milestone notes are one line of text within their limits; no date is in the future; the
    diagnosis is not before onset; milestones are not before birth or onset; death is not
    before onset nor before any visit (no visit is dated after death); no visit is before
    birth."""
    return [f"{LABELS[f]}: {text}" for f, text in _patient_issues(patient, today=today, visit_dates=visit_dates)]


def _patient_issues(patient: Patient, *, today: dt.date, visit_dates: Iterable[dt.date]) -> list[tuple[str, str]]:
    """The rules of :func:`patient_problems` as ``(field, what is wrong)`` pairs."""
    out: list[tuple[str, str]] = []
    mrn = _mrn_issue(patient.id)
    if mrn:
        out.append(("id", mrn))
    for f, limit in TEXT_FIELDS.items():
        value = getattr(patient, f)
        problem = value is not None and text_problem(value, limit)
        if problem:
            out.append((f, problem))
    for f in DATE_FIELDS:
        d = getattr(patient, f)
        if d is not None and d > today:
            out.append((f, f"{d.isoformat()} is in the future (today is {today.isoformat()})"))
    birth, onset = patient.birth_date, patient.onset_date
    for f in ("onset_date", "diagnosis_date", *MILESTONES):
        d = getattr(patient, f)
        if d is not None and birth is not None and d < birth:
            out.append((f, f"{d.isoformat()} is before the birth date {birth.isoformat()}"))
    if patient.diagnosis_date and onset and patient.diagnosis_date < onset:
        out.append(("diagnosis_date", f"{patient.diagnosis_date.isoformat()} is before the onset date "
                    f"{onset.isoformat()} (the diagnosis follows the first symptoms)"))
    for f in MILESTONES:
        d = getattr(patient, f)
        if d is not None and onset is not None and d < onset:
            out.append((f, f"{d.isoformat()} is before the onset date {onset.isoformat()}"))
    dates = sorted(visit_dates)
    death = patient.death_date
    if death is not None and dates and dates[-1] > death:
        out.append(("death_date", f"{death.isoformat()} is before the visit of {dates[-1].isoformat()}"))
    if birth is not None and dates and dates[0] < birth:
        out.append(("birth_date", f"{birth.isoformat()} is after the visit of {dates[0].isoformat()}"))
    return out


def visit_problems(visit: Visit) -> list[str]:
    """The text rules of a visit, one ``path: problem`` line each (the notes, each muscle's
    other-cause reason); dates are :func:`visit_date_problem`'s."""
    out: list[str] = []
    if visit.notes is not None and (problem := text_problem(visit.notes, "notes")):
        out.append(f"notes: {problem}")
    for i, m in enumerate(visit.muscles):
        if m.other_cause_reason is not None and (problem := text_problem(m.other_cause_reason, "other_cause_reason")):
            out.append(f"muscles[{i}].other_cause_reason: {problem}")
    sig = visit.signature
    if sig is not None:
        for f in ("signed_by", "amendment_reason"):
            value = getattr(sig, f)
            if value is not None and (problem := text_problem(value, f)):
                out.append(f"signature.{f}: {problem}")
    return out


def case_problems(case: Case, *, today: dt.date) -> list[str]:
    """Every rule a whole case breaks beyond its format, one line each naming the field as the
    case file does (``patient.diagnosis_date: ...``), empty when none: the patient's rules
    (:func:`patient_problems`), no visit in the future, and each visit's text rules. The one
    check shared by import, ``classify`` of a file and the bulk path; the window and
    ``patient edit`` ask :func:`patient_problems` and :func:`visit_date_problem`, the same rules."""
    out = [f"patient.{f}: {text}" for f, text in _patient_issues(case.patient, today=today, visit_dates=[v.date for v in case.visits])]
    for v in case.visits:
        day = v.date.isoformat()
        if v.date > today:
            out.append(f"visits: the visit of {day} is in the future (today is {today.isoformat()})")
        out.extend(f"visits: the visit of {day}, {line}" for line in visit_problems(v))
    return out


def visit_date_problem(date: dt.date, patient: Patient, *, today: dt.date, taken: Iterable[dt.date] = ()) -> str | None:
    """Why a visit cannot be dated ``date`` (one line), or None: in the future, a date another
    visit of the patient already has, before birth, or after death."""
    if date > today:
        return f"{date.isoformat()} is in the future (today is {today.isoformat()})"
    if date in set(taken):
        return f"there is already a visit on {date.isoformat()}"
    if patient.birth_date and date < patient.birth_date:
        return f"{date.isoformat()} is before the birth date {patient.birth_date.isoformat()}"
    if patient.death_date and date > patient.death_date:
        return f"{date.isoformat()} is after the date of death {patient.death_date.isoformat()}"
    return None
