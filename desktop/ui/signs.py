"""Pathological signs by region and side: one QAbstractTableModel over the Visit's signs."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush

from domain.catalogue import REGIONS, Catalogue, Sign

from desktop.present import entries as E
from .grid import ABNORMAL_FG, GREY, CellTableModel


@dataclass(frozen=True)
class SignRow:
    region: str
    sign: Sign | None = None

    @property
    def is_header(self) -> bool:
        return self.sign is None


SIGN_SIDES = ("left", "right", "midline")
_HEADERS = ("Sign", "Left", "Right", "Midline")


class SignsTableModel(CellTableModel):
    """Rows: the catalogue's signs under their region; columns: the sign, left, right, midline.
    A cell is present, absent or not examined; writing, toggling, clearing, the read-only rule
    and the repaints are the base's (:class:`desktop.ui.grid.CellTableModel`)."""

    def __init__(self, catalogue: Catalogue, parent=None):
        super().__init__(catalogue, parent)
        rows: list[SignRow] = []
        for region in REGIONS:
            signs = [s for s in catalogue.signs if s.region == region]
            if signs:
                rows.append(SignRow(region))
                rows.extend(SignRow(region, s) for s in signs)
        self.set_rows(rows)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(_HEADERS):
            return _HEADERS[section]
        return None

    def _cell_key(self, row: SignRow, column: int):
        if row.sign is None or column == 0:
            return None
        side = SIGN_SIDES[column - 1]
        if side not in row.sign.sides:
            return None
        return ("sign", row.sign.id, side, "present")

    def _parse(self, column: int, text: str) -> bool | None:
        return E.parse_bool(text)

    def _toggles(self, column: int) -> bool:
        return True

    def _edit_label(self, row: SignRow, column: int, key, value) -> str:
        return f"{row.sign.name} {key[2]}: {_shown(value)}"

    def _name_data(self, row: SignRow, role):
        return f"   {row.sign.name}" if role == Qt.ItemDataRole.DisplayRole else None

    def _cell_data(self, column: int, k, v, role):
        if role == Qt.ItemDataRole.DisplayRole:
            return _shown(v)
        if role == Qt.ItemDataRole.EditRole:
            return "" if v is None else ("y" if v else "n")
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(GREY) if v is None else (QBrush(ABNORMAL_FG) if v else None)
        if role == Qt.ItemDataRole.ToolTipRole:
            return ("not examined" if v is None else ("present" if v else "absent")) + \
                "\ny = present, n = absent, Space toggles, Delete clears"
        return None


def _shown(v: bool | None) -> str:
    return E.NOT_EXAMINED if v is None else ("present" if v else "absent")
