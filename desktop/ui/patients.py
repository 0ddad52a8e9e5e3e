"""Patient list with incremental search, the new-patient dialog and the patient header."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from domain.case import Patient

RowRole = Qt.ItemDataRole.UserRole + 1
REGION_NAMES = {"bulbar": "bulbar", "upper_limb": "upper limb", "lower_limb": "lower limb",
                "trunk_axial": "trunk/axial", "respiratory": "respiratory", "generalised": "generalised"}


class PatientTableModel(QAbstractTableModel):
    """Rows are ``PatientRow`` snapshots from ``store.search_patients``."""

    HEADERS = ("Name", "MRN", "Born", "Visits", "Last visit")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list = []

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        if role == RowRole:
            return r
        if role == Qt.ItemDataRole.DisplayRole:
            c = index.column()
            if c == 0:
                name = ", ".join(p for p in (r.family_name, r.given_names) if p)
                return name or "(no name)"
            if c == 1:
                return r.id
            if c == 2:
                return r.birth_date.isoformat() if r.birth_date else "·"
            if c == 3:
                return str(r.n_visits)
            if c == 4:
                return r.last_visit.isoformat() if r.last_visit else "·"
        return None


class PatientListView(QWidget):
    patient_selected = Signal(str)

    def __init__(self, store, parent=None):
        super().__init__(parent)
        self.store = store
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.search = QLineEdit()
        self.search.setObjectName("patientSearch")
        self.search.setPlaceholderText("Search name or MRN (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        lay.addWidget(self.search)
        self.model = PatientTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("patientTable")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(22)
        lay.addWidget(self.table)
        self.count = QLabel()
        lay.addWidget(self.count)
        self.search.textChanged.connect(self.refresh)
        self.search.returnPressed.connect(self._open_first)
        self.table.activated.connect(self._open)
        self.table.clicked.connect(self._open)
        self.refresh()

    def refresh(self, *_a) -> None:
        rows = self.store.search_patients(self.search.text(), limit=200)
        self.model.set_rows(rows)
        total = self.store.count_patients()
        self.count.setText(f"{len(rows)} shown of {total} patients")

    def _open_first(self) -> None:
        if self.model.rowCount():
            self.table.setCurrentIndex(self.model.index(0, 0))
            self._open(self.model.index(0, 0))

    def _open(self, index) -> None:
        row = index.data(RowRole)
        if row is not None:
            self.patient_selected.emit(row.id)


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

        from domain.case import format_errors

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


def _years(a: dt.date, b: dt.date) -> float:
    return (b - a).days / 365.25


class PatientHeader(QLabel):
    """Name, MRN, age, time since onset, onset region, latest criteria."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("patientHeader")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setStyleSheet("QLabel#patientHeader { background:#f3f6fa; padding:6px; border-bottom:1px solid #d0d7e2 }")
        session.patient_changed.connect(self.refresh)
        session.classified.connect(self.refresh)
        session.state_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        from domain.criteria import REGISTRY

        p = self.session.patient
        if p is None:
            self.setText("<span style='color:#777'>No patient open: choose one on the left or "
                         "create one (Ctrl+Shift+N)</span>")
            return
        today = dt.date.today()
        bits = [f"<b style='font-size:14pt'>{_esc(p.display_name)}</b>", f"MRN {_esc(p.id)}"]
        if p.birth_date:
            bits.append(f"age {int(_years(p.birth_date, today))}")
        if p.onset_date:
            months = (today - p.onset_date).days / 30.4375
            bits.append(f"{months:.0f} months since onset")
        if p.onset_region:
            side = f" ({p.onset_side})" if p.onset_side else ""
            bits.append(f"onset {REGION_NAMES[p.onset_region]}{side}")
        line2 = []
        cc = self.session.case_classification
        if cc is not None and cc.visits:
            last = cc.visits[-1]
            for cid, crit in REGISTRY.items():
                res = last.criteria[cid]
                line2.append(f"{crit.label}: <b>{res.verdict}</b>")
            line2.insert(0, f"Visit {last.date.isoformat()}")
        s = self.session
        if s.visit is not None:
            st = s.status or "draft"
            if s.amend_reason is not None:
                st = f"amending ({_esc(s.amend_reason)})"
            colour = {"draft": "#1b5e9a", "signed": "#1b6e20", "amended": "#1b6e20"}.get(s.status, "#8a5a00")
            line2.append(f"<span style='color:{colour}'><b>{st}</b></span>")
            if s.unreviewed:
                line2.append(f"<span style='color:#8a5a00'>{len(s.unreviewed)} carried findings not reviewed</span>")
        self.setText(" · ".join(bits) + "<br>" + " · ".join(line2))


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
