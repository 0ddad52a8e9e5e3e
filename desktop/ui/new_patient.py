"""The new-patient form: identifiers, birth date, sex, onset date, region and side, diagnosis
date; validated, with one clear line naming what is wrong."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit

from .patients import REGION_NAMES

if TYPE_CHECKING:
    from domain.case import Patient


def _parse_date(text: str, label: str) -> dt.date | None:
    t = text.strip()
    if not t:
        return None
    try:
        return dt.date.fromisoformat(t)
    except ValueError:
        raise ValueError(f"{label}: {t!r} is not a date (YYYY-MM-DD)") from None


class NewPatientDialog(QDialog):
    """Identifiers, birth date, sex, onset date, region and side, diagnosis date; validated."""

    def __init__(self, store, parent=None):
        super().__init__(parent)
        self.store = store
        self.patient: Patient | None = None
        self.setWindowTitle("New patient")
        form = QFormLayout(self)
        self.mrn = QLineEdit()
        self.family = QLineEdit()
        self.given = QLineEdit()
        self.birth = QLineEdit()
        self.birth.setPlaceholderText("YYYY-MM-DD")
        self.sex = QComboBox()
        self.sex.addItems(["· not recorded", "female", "male", "other", "unknown"])
        self.onset = QLineEdit()
        self.onset.setPlaceholderText("YYYY-MM-DD")
        self.region = QComboBox()
        self.region.addItems(["· not recorded", *REGION_NAMES])
        self.side = QComboBox()
        self.side.addItems(["· not recorded", "left", "right", "bilateral"])
        self.diagnosis = QLineEdit()
        self.diagnosis.setPlaceholderText("YYYY-MM-DD")
        for name, w in (("MRN *", self.mrn), ("Family name", self.family), ("Given names", self.given),
                        ("Birth date", self.birth), ("Sex", self.sex), ("Onset date", self.onset),
                        ("Onset region", self.region), ("Onset side", self.side),
                        ("Diagnosis date", self.diagnosis)):
            form.addRow(name, w)
        self.problem = QLabel()
        self.problem.setObjectName("problemLabel")
        self.problem.setStyleSheet("color:#b3261e")
        self.problem.setWordWrap(True)
        form.addRow(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def build(self) -> Patient:
        """The patient from the fields, or ValueError with one clear line."""
        from pydantic import ValidationError

        from domain.case import Patient, format_errors

        mrn = self.mrn.text().strip()
        if not mrn:
            raise ValueError("MRN: required (the clinic's patient identifier)")
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
        today = dt.date.today()
        for k in ("birth_date", "onset_date", "diagnosis_date"):
            if data[k] is not None and data[k] > today:
                raise ValueError(f"{k.replace('_', ' ').capitalize()}: {data[k]} is in the future")
        if data["diagnosis_date"] and data["onset_date"] and data["diagnosis_date"] < data["onset_date"]:
            raise ValueError(f"Diagnosis date: {data['diagnosis_date']} is before the onset date "
                             f"{data['onset_date']} (the diagnosis follows the first symptoms)")
        try:
            return Patient(**data)
        except ValidationError as e:
            raise ValueError(format_errors(e)[0].replace("_", " ")) from None

    def accept(self) -> None:
        try:
            patient = self.build()
            self.store.add_patient(patient)
        except Exception as e:  # ValueError from the form, StoreError (MRN exists)
            self.problem.setText(str(e))
            return
        self.patient = patient
        super().accept()
