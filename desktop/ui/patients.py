"""Patient list with incremental search, and the patient header (the new-patient form is in
:mod:`desktop.ui.new_patient`). This module is on the launch path: Qt widgets only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import datetime as dt

from PySide6.QtCore import Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QHeaderView, QLabel, QLineEdit, QTableView, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from desktop.ui.session import VisitSession

RowRole = 0x0100 + 1  # Qt.ItemDataRole.UserRole + 1: the row's patient id
"""Plain ints, not ``Qt`` enums, on the launch path: the first use of PySide6's ``Qt`` namespace
builds its ~90 enum types (~25 ms), which the window can do after it is on screen."""
REGION_NAMES = {"bulbar": "bulbar", "upper_limb": "upper limb", "lower_limb": "lower limb",
                "trunk_axial": "trunk/axial", "respiratory": "respiratory", "generalised": "generalised"}


class PatientTableModel(QStandardItemModel):
    """Rows are ``PatientRow`` snapshots from ``search_patients``, held as C++ items: painting
    the list calls no Python (a Python ``headerData`` alone would build the ``Qt`` enums)."""

    HEADERS = ("Name", "MRN", "Born", "Visits", "Last visit")

    def __init__(self, parent=None):
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))

    def set_rows(self, rows) -> None:
        self.setRowCount(0)
        for r in rows:
            name = ", ".join(p for p in (r.family_name, r.given_names) if p) or "(no name)"
            cells = [QStandardItem(t) for t in (
                name, r.id, r.birth_date.isoformat() if r.birth_date else "·", str(r.n_visits),
                r.last_visit.isoformat() if r.last_visit else "·")]
            for c in cells:  # read-only: the view has no edit triggers
                c.setData(r.id, RowRole)
            cells[0].setToolTip(f"{name} ({r.id})")  # the whole name where the column cuts it short
            self.appendRow(cells)


class PatientListView(QWidget):
    """Search box, patient table and count. ``source`` answers ``search_patients`` and
    ``count_patients``: the ``ChartStore``, or at launch a read-only ``PatientIndex``."""

    patient_selected = Signal(str)
    LIMIT = 200  # rows shown for a search (the count below says how many there are)
    SHELL_LIMIT = 60  # before the store is attached: a screenful

    def __init__(self, source, parent=None, *, limit: int = LIMIT):
        super().__init__(parent)
        self.source = source
        self.limit = limit
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.search = QLineEdit()
        self.search.setObjectName("patientSearch")
        self.search.setPlaceholderText("Search name or MRN (Ctrl+F)")
        # (its clear button comes with finish(): making it loads an icon, ~1 ms of the launch)
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

    def finish(self) -> None:
        """What the list adds once the window is on screen: the search box's clear button
        (shown only once something is typed, so the first paint is the same without it)."""
        self.search.setClearButtonEnabled(True)

    def set_source(self, source, *, limit: int = LIMIT) -> None:
        """Answer from ``source`` from now on (the store, once it is open)."""
        self.source = source
        self.limit = limit
        self.refresh()

    def refresh(self, *_a) -> None:
        rows = self.source.search_patients(self.search.text(), limit=self.limit)
        self.model.set_rows(rows)
        total = self.source.count_patients()
        self.count.setText(f"{len(rows)} shown of {total} patients")

    def select(self, patient_id: str | None) -> bool:
        """Make the row of ``patient_id`` current, if the list shows it (opens nothing)."""
        for r in range(self.model.rowCount()):
            if self.model.index(r, 0).data(RowRole) == patient_id:
                self.table.setCurrentIndex(self.model.index(r, 0))
                return True
        return False

    def _open_first(self) -> None:
        if self.model.rowCount():
            self.table.setCurrentIndex(self.model.index(0, 0))
            self._open(self.model.index(0, 0))

    def _open(self, index) -> None:
        patient_id = index.data(RowRole)
        if patient_id is not None:
            self.patient_selected.emit(patient_id)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years of age on ``day`` (a birthday counts from that day)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


class PatientHeader(QLabel):
    """Name, MRN, age (or the date of death and the age at death), time since onset, onset
    region, latest criteria. A double-click asks to edit the patient's details."""

    edit_requested = Signal()

    def __init__(self, session: VisitSession, parent=None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("patientHeader")
        from PySide6.QtCore import Qt  # attached after launch (see RowRole)

        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setStyleSheet("QLabel#patientHeader { background:#f3f6fa; padding:6px; border-bottom:1px solid #d0d7e2 }")
        self.setToolTip("Double-click to edit the patient's details and milestones")
        session.changed.connect(self._on_changed)
        self.refresh()

    def _on_changed(self, ch) -> None:
        if ch.patient_shown or ch.visit or ch.state or ch.classification:
            self.refresh()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.session.patient is not None:
            self.edit_requested.emit()
        super().mouseDoubleClickEvent(event)

    def refresh(self) -> None:
        from domain.criteria import REGISTRY
        from domain.scores import months_between

        p = self.session.patient
        if p is None:
            self.setText("<span style='color:#777'>No patient open: choose one on the left or "
                         "create one (Ctrl+Shift+N)</span>")
            return
        today = dt.date.today()
        bits = [f"<b style='font-size:14pt'>{_esc(p.display_name)}</b>", f"MRN {_esc(p.id)}"]
        if p.death_date:
            aged = f", age {age_on(p.birth_date, p.death_date)}" if p.birth_date else ""
            bits.append(f"<b>died {p.death_date.isoformat()}</b>{aged}")
        elif p.birth_date:
            bits.append(f"age {age_on(p.birth_date, today)}")
        if p.onset_date:
            months = months_between(p.onset_date, p.death_date or today)
            bits.append(f"{months:.0f} months from onset to death" if p.death_date
                        else f"{months:.0f} months since onset")
        if p.onset_region:
            side = f" ({p.onset_side})" if p.onset_side else ""
            bits.append(f"onset {REGION_NAMES[p.onset_region]}{side}")
        line2 = []
        last = self.session.classification  # the open visit, as signed when it is signed
        if last is not None:
            for cid, crit in REGISTRY.items():
                res = last.criteria[cid]
                line2.append(f"{crit.label}: <b>{res.verdict}</b>")
            line2.insert(0, f"Visit {last.date.isoformat()}")
        s = self.session
        if s.visit is not None:
            st = s.status or "draft"
            if s.amending:
                st = "amending (a draft beside the signed version)"
            colour = {"draft": "#1b5e9a", "signed": "#1b6e20", "amended": "#1b6e20"}.get(s.status, "#8a5a00")
            line2.append(f"<span style='color:{colour}'><b>{st}</b></span>")
            if s.unreviewed:
                line2.append(f"<span style='color:#8a5a00'>{len(s.unreviewed)} carried findings not reviewed</span>")
        self.setText(" · ".join(bits) + "<br>" + " · ".join(line2))


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
