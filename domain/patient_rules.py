"""The rules a patient's identity, history dates and milestones must keep, in one place: the new
patient form, the edit form, the command line and import all ask here (issue 14).

Pure: today's date and the patient's visit dates are passed in. Each problem is one line that
names the field, as the clinician sees it.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Iterable

from .case import Patient

DATE_FIELDS = (
    "birth_date", "onset_date", "diagnosis_date", "gastrostomy_date", "niv_date",
    "tracheostomy_date", "death_date",
)
MILESTONES = ("gastrostomy_date", "niv_date", "tracheostomy_date", "death_date")
LABELS = {
    "id": "MRN", "birth_date": "Birth date", "onset_date": "Onset date",
    "diagnosis_date": "Diagnosis date", "gastrostomy_date": "Gastrostomy date",
    "niv_date": "NIV start date", "tracheostomy_date": "Tracheostomy date", "death_date": "Date of death",
}


def mrn_key(mrn: str) -> str:
    """How MRNs are compared for uniqueness: trimmed, Unicode-normalised, case-folded, with
    invisible format characters (zero-width spaces and the like) removed."""
    text = unicodedata.normalize("NFKC", mrn)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return text.strip().casefold()


def patient_problems(patient: Patient, *, today: dt.date, visit_dates: Iterable[dt.date] = ()) -> list[str]:
    """Every rule the patient breaks, one line each (empty when none):

    the MRN is not blank (nor only invisible characters); no date is in the future; the
    diagnosis is not before onset; milestones are not before birth or onset; death is not
    before onset nor before any visit (no visit is dated after death); no visit is before
    birth."""
    out: list[str] = []
    if not mrn_key(patient.id):
        out.append("MRN: required (the clinic's patient identifier); it cannot be blank")
    for f in DATE_FIELDS:
        d = getattr(patient, f)
        if d is not None and d > today:
            out.append(f"{LABELS[f]}: {d.isoformat()} is in the future (today is {today.isoformat()})")
    birth, onset = patient.birth_date, patient.onset_date
    for f in ("onset_date", "diagnosis_date", *MILESTONES):
        d = getattr(patient, f)
        if d is not None and birth is not None and d < birth:
            out.append(f"{LABELS[f]}: {d.isoformat()} is before the birth date {birth.isoformat()}")
    if patient.diagnosis_date and onset and patient.diagnosis_date < onset:
        out.append(f"Diagnosis date: {patient.diagnosis_date.isoformat()} is before the onset date "
                   f"{onset.isoformat()} (the diagnosis follows the first symptoms)")
    for f in MILESTONES:
        d = getattr(patient, f)
        if d is not None and onset is not None and d < onset:
            out.append(f"{LABELS[f]}: {d.isoformat()} is before the onset date {onset.isoformat()}")
    dates = sorted(visit_dates)
    death = patient.death_date
    if death is not None and dates and dates[-1] > death:
        out.append(f"Date of death: {death.isoformat()} is before the visit of {dates[-1].isoformat()}")
    if birth is not None and dates and dates[0] < birth:
        out.append(f"Birth date: {birth.isoformat()} is after the visit of {dates[0].isoformat()}")
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
