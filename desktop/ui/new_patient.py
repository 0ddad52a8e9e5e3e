"""The patient form, for a new patient and for editing one: identifiers, birth date, sex, onset
date, region and side, diagnosis date, and the milestones (gastrostomy, NIV start,
tracheostomy, death), each a date and a note. The store checks every rule
(``domain.patient_rules``); a refusal shows as one line in the form and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
)

from desktop.store.errors import StoreError

from .patients import REGION_NAMES

if TYPE_CHECKING:
    from desktop.store.chart import ChartStore
    from desktop.ui.session import VisitSession
    from domain.case import Patient

MILESTONES = (  # (field prefix, label, what the note is for)
    ("gastrostomy", "Gastrostomy", "e.g. PEG, or \"gastrostomy refused\""),
    ("niv", "NIV start", "e.g. nocturnal BiPAP, or \"NIV refused\""),
    ("tracheostomy", "Tracheostomy", "e.g. invasive ventilation"),
    ("death", "Death", "e.g. cause, place"),
)
_NOT_RECORDED = "· not recorded"
SEXES = ("female", "male", "other", "unknown")
SIDES = ("left", "right", "bilateral")


def _parse_date(text: str, label: str) -> dt.date | None:
    t = text.strip()
    if not t:
        return None
    try:
        return dt.date.fromisoformat(t)
    except ValueError:
        raise ValueError(f"{label}: {t!r} is not a date (YYYY-MM-DD)") from None


def _date_edit() -> QLineEdit:
    e = QLineEdit()
    e.setPlaceholderText("YYYY-MM-DD")
    return e


class PatientDialog(QDialog):
    """The patient form. Without ``patient`` it adds a new patient (``store.add_patient``);
    with one it edits it (``session.update_patient`` when a session is given, which re-opens
    the patient, else ``store.update_patient``); a changed MRN renames the patient."""

    def __init__(self, store: ChartStore, parent=None, *, patient: Patient | None = None,
                 session: VisitSession | None = None):
        super().__init__(parent)
        self.store = store
        self.session = session
        self.original = patient
        self.patient: Patient | None = None
        self.setWindowTitle("Edit patient" if patient is not None else "New patient")
        form = QFormLayout(self)
        self.mrn = QLineEdit()
        self.family = QLineEdit()
        self.given = QLineEdit()
        self.birth = _date_edit()
        self.sex = QComboBox()
        self.sex.addItems([_NOT_RECORDED, *SEXES])
        self.onset = _date_edit()
        self.region = QComboBox()
        self.region.addItems([_NOT_RECORDED, *REGION_NAMES])
        self.side = QComboBox()
        self.side.addItems([_NOT_RECORDED, *SIDES])
        self.diagnosis = _date_edit()
        for name, w in (("MRN *", self.mrn), ("Family name", self.family), ("Given names", self.given),
                        ("Birth date", self.birth), ("Sex", self.sex), ("Onset date", self.onset),
                        ("Onset region", self.region), ("Onset side", self.side),
                        ("Diagnosis date", self.diagnosis)):
            form.addRow(name, w)

        box = QGroupBox("Milestones")
        box.setObjectName("milestones")
        grid = QGridLayout(box)
        grid.addWidget(QLabel("<i>Date</i>"), 0, 1)
        grid.addWidget(QLabel("<i>Note</i>"), 0, 2)
        self.milestone_dates: dict[str, QLineEdit] = {}
        self.milestone_notes: dict[str, QLineEdit] = {}
        for i, (key, label, hint) in enumerate(MILESTONES, start=1):
            date, note = _date_edit(), QLineEdit()
            date.setObjectName(f"{key}Date")
            note.setObjectName(f"{key}Note")
            note.setPlaceholderText(hint)
            note.setMinimumWidth(220)
            grid.addWidget(QLabel(label), i, 0)
            grid.addWidget(date, i, 1)
            grid.addWidget(note, i, 2)
            self.milestone_dates[key], self.milestone_notes[key] = date, note
        form.addRow(box)

        self.problem = QLabel()
        self.problem.setObjectName("problemLabel")
        self.problem.setStyleSheet("color:#b3261e")
        self.problem.setWordWrap(True)
        form.addRow(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        if patient is not None:
            self.fill(patient)

    # ---------------------------------------------------------------- the fields
    def fill(self, p: Patient) -> None:
        def choose(cb: QComboBox, value: str | None, values) -> None:
            cb.setCurrentIndex(0 if value is None else 1 + list(values).index(value))

        day = lambda d: d.isoformat() if d else ""  # noqa: E731
        self.mrn.setText(p.id)
        self.family.setText(p.family_name or "")
        self.given.setText(p.given_names or "")
        self.birth.setText(day(p.birth_date))
        choose(self.sex, p.sex, SEXES)
        self.onset.setText(day(p.onset_date))
        choose(self.region, p.onset_region, REGION_NAMES)
        choose(self.side, p.onset_side, SIDES)
        self.diagnosis.setText(day(p.diagnosis_date))
        for key, _label, _hint in MILESTONES:
            self.milestone_dates[key].setText(day(getattr(p, f"{key}_date")))
            self.milestone_notes[key].setText(getattr(p, f"{key}_note") or "")

    def build(self) -> Patient:
        """The patient from the fields, or ValueError with one clear line. The MRN is checked
        here by the domain's own rule (``domain.patient_rules.mrn_problem``: blank or only
        invisible characters, too long, a control character); the rules between dates and
        on the text are the store's, the same ``domain.patient_rules``: see :meth:`accept`."""
        from pydantic import ValidationError

        from domain.case import Patient, format_errors
        from domain.patient_rules import mrn_problem

        mrn = self.mrn.text().strip()
        problem = mrn_problem(mrn)
        if problem:
            raise ValueError(problem)
        choice = lambda cb: cb.currentText() if cb.currentIndex() > 0 else None  # noqa: E731
        data = dict(
            id=mrn,
            family_name=self.family.text().strip() or None,
            given_names=self.given.text().strip() or None,
            birth_date=_parse_date(self.birth.text(), "Birth date"),
            sex=choice(self.sex),
            onset_date=_parse_date(self.onset.text(), "Onset date"),
            onset_region=choice(self.region),
            onset_side=choice(self.side),
            diagnosis_date=_parse_date(self.diagnosis.text(), "Diagnosis date"),
        )
        for key, label, _hint in MILESTONES:
            data[f"{key}_date"] = _parse_date(self.milestone_dates[key].text(), f"{label} date")
            data[f"{key}_note"] = self.milestone_notes[key].text().strip() or None
        try:
            return Patient(**data)
        except ValidationError as e:
            raise ValueError(format_errors(e)[0].replace("_", " ")) from None

    def accept(self) -> None:
        try:
            patient = self.build()
            if self.original is None:
                self.store.add_patient(patient)
            elif self.session is not None:
                self.session.update_patient(patient)
            else:
                self.store.update_patient(patient, old_id=self.original.id)
        except (ValueError, StoreError) as e:  # the form's and the store's rules: one line
            self.problem.setText(str(e))
            return
        self.patient = patient
        super().accept()


class NewPatientDialog(PatientDialog):
    """The form for a new patient."""

    def __init__(self, store: ChartStore, parent=None):
        super().__init__(store, parent)
