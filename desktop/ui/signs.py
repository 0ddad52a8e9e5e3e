"""Pathological signs by region and side: one QAbstractTableModel over the Visit's signs."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QFont

from domain.case import Visit
from domain.catalogue import REGIONS, Catalogue, Sign

from . import entries as E
from .grid import (
    ABNORMAL_FG,
    GREY,
    HIGHLIGHT_BG,
    KeyRole,
    READONLY_BG,
    RowRole,
    UNREVIEWED_BG,
    ValueRole,
    CollapsibleHeaders,
    header_row_data,
)


@dataclass(frozen=True)
class SignRow:
    region: str
    sign: Sign | None = None

    @property
    def is_header(self) -> bool:
        return self.sign is None


SIGN_SIDES = ("left", "right", "midline")
_HEADERS = ("Sign", "Left", "Right", "Midline")


class SignsTableModel(CollapsibleHeaders, QAbstractTableModel):
    edit_requested = Signal(object, object, str)
    entry_refused = Signal(str)

    def __init__(self, catalogue: Catalogue, parent=None):
        super().__init__(parent)
        self.catalogue = catalogue
        self._rows: list[SignRow] = []
        for region in REGIONS:
            signs = [s for s in catalogue.signs if s.region == region]
            if signs:
                self._rows.append(SignRow(region))
                self._rows.extend(SignRow(region, s) for s in signs)
        self._visit: Visit | None = None
        self._ix = E.FindingIndex({}, {}, {})
        self._readonly = True
        self._highlight: set = set()
        self._unreviewed: set = set()
        self._bold = QFont()
        self._bold.setBold(True)

    @property
    def rows(self) -> list[SignRow]:
        return self._rows

    @property
    def visit(self) -> Visit | None:
        """The visit shown (None: no visit open)."""
        return self._visit

    def set_visit(self, visit: Visit | None, *, readonly: bool) -> None:
        self._visit = visit
        self._ix = E.FindingIndex.of(visit) if visit is not None else E.FindingIndex({}, {}, {})
        self._readonly = readonly or visit is None
        self._changed_all()

    def set_marks(self, *, highlight=None, unreviewed=None) -> None:
        if highlight is not None:
            self._highlight = highlight
        if unreviewed is not None:
            self._unreviewed = unreviewed
        self._changed_all()

    def _changed_all(self):
        self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(_HEADERS) - 1))

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(_HEADERS):
            return _HEADERS[section]
        return None

    def key(self, index):
        if not index.isValid() or index.column() == 0:
            return None
        row = self._rows[index.row()]
        side = SIGN_SIDES[index.column() - 1]
        if row.sign is None or side not in row.sign.sides:
            return None
        return ("sign", row.sign.id, side, "present")

    def value(self, index):
        k = self.key(index)
        return None if k is None else E.sign_value(self._ix, k[1], k[2])

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        row = self._rows[index.row()]
        if row.is_header or (index.column() > 0 and self.key(index) is None):
            return Qt.ItemFlag.NoItemFlags
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() > 0 and not self._readonly:
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == RowRole:
            return row
        if row.is_header:
            return header_row_data(row, index.column(), role, self._bold, self._collapsed)
        if index.column() == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"   {row.sign.name}"
            return None
        k = self.key(index)
        if k is None:
            return QBrush(READONLY_BG) if role == Qt.ItemDataRole.BackgroundRole else None
        v = self.value(index)
        if role == KeyRole:
            return k
        if role == ValueRole:
            return v
        if role == Qt.ItemDataRole.DisplayRole:
            return E.NOT_EXAMINED if v is None else ("present" if v else "absent")
        if role == Qt.ItemDataRole.EditRole:
            return "" if v is None else ("y" if v else "n")
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(GREY) if v is None else (QBrush(ABNORMAL_FG) if v else None)
        if role == Qt.ItemDataRole.BackgroundRole:
            if k[:3] in self._highlight:
                return QBrush(HIGHLIGHT_BG)
            if k in self._unreviewed:
                return QBrush(UNREVIEWED_BG)
        if role == Qt.ItemDataRole.ToolTipRole:
            return ("not examined" if v is None else ("present" if v else "absent")) + \
                "\ny = present, n = absent, Space toggles, Delete clears"
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):
        if role != Qt.ItemDataRole.EditRole or self.key(index) is None:
            return False
        if self._readonly:
            self.entry_refused.emit("This visit is signed and read-only: use Visit > Amend to change it.")
            return False
        try:
            parsed = E.parse_bool(value) if isinstance(value, str) else value
        except E.EntryError as e:
            self.entry_refused.emit(str(e).replace("yes or no", "present (y) or absent (n)"))
            return False
        return self.write(index, parsed)

    def write(self, index, parsed) -> bool:
        k = self.key(index)
        if k is None or self._visit is None:
            return False
        if self._readonly:
            self.entry_refused.emit("This visit is signed and read-only: use Visit > Amend to change it.")
            return False
        new = E.with_sign_value(self._visit, k[1], k[2], parsed)
        row = self._rows[index.row()]
        text = E.NOT_EXAMINED if parsed is None else ("present" if parsed else "absent")
        self.edit_requested.emit(new, k, f"{row.sign.name} {k[2]}: {text}")
        return True

    def toggle(self, index) -> bool:
        if self.key(index) is None:
            return False
        v = self.value(index)
        return self.write(index, not v if v is not None else True)

    def clear(self, index) -> bool:
        if self.key(index) is None or self.value(index) is None:
            return False
        return self.write(index, None)
