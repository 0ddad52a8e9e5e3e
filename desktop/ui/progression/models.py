"""Table models of the overview: the region-by-visit matrix and the muscle-by-visit MRC heatmap.

Both are :class:`VisitColumnsTableModel` (one column per visit): immutable row snapshots
built once in ``set_rows`` (reset), and ``data()`` only reads them. Cell values come from the
classifier (:func:`desktop.compare.region_state`, the timeline) and from the recorded findings
(MRC grades); nothing here judges a finding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from desktop.compare import REGION_STATE_LABELS, region_state
from domain.case import MRC_GRADES, MRC_RANK, Case
from domain.catalogue import REGIONS, Catalogue
from domain.classify import CaseClassification

StateRole = Qt.ItemDataRole.UserRole + 1
"""The raw value behind a cell: a region state, or an MRC grade / None (not examined)."""

def _region_colours() -> dict[str, str]:
    """UMN / LMN / both in the body map's colours (``resources/bodymap``), so the matrix, the
    body map and the reports speak one colour language."""
    from desktop.bodymap import load_bodymap

    st = load_bodymap().states
    return {"not_examined": "#eeeeee", "none": "#ffffff", "umn": st["umn"].fill,
            "lmn": st["lmn"].fill, "both": st["mixed"].fill}


REGION_HEX = _region_colours()
REGION_COLOURS = {k: QColor(v) for k, v in REGION_HEX.items()}
REGION_TEXT_COLOURS = {
    "not_examined": QColor("#888888"),
    "none": QColor("#555555"),
    "umn": QColor("#ffffff"),
    "lmn": QColor("#ffffff"),
    "both": QColor("#ffffff"),
}
NOT_EXAMINED_BRUSH = QBrush(QColor("#b0b0b0"), Qt.BrushStyle.BDiagPattern)
NOT_EXAMINED_TEXT = "·"

_ORDINALS = {1: "1st", 2: "2nd", 3: "3rd"}
_CELL_TEXT = {"not_examined": "not examined", "none": "none", "umn": "UMN", "lmn": "LMN", "both": "UMN+LMN"}


def _ordinal(n: int) -> str:
    return _ORDINALS.get(n, f"{n}th")


def mrc_colour(grade: str) -> QColor:
    """5 is white; weaker grades shade from pale yellow to dark red along the ordinal scale."""
    top = MRC_RANK["5"]
    t = 1.0 - MRC_RANK[grade] / top  # 0 for 5, 1 for 0
    if t == 0:
        return QColor("#ffffff")
    stops = [(0.0, (255, 248, 214)), (0.35, (250, 190, 90)), (0.7, (222, 88, 50)), (1.0, (130, 20, 20))]
    for (t0, c0), (t1, c1) in zip(stops, stops[1:]):
        if t <= t1:
            u = (t - t0) / (t1 - t0)
            return QColor(*(round(a + (b - a) * u) for a, b in zip(c0, c1)))
    return QColor(*stops[-1][1])


def _date_header(d: dt.date) -> str:
    return d.isoformat()


class VisitColumnsTableModel(QAbstractTableModel):
    """Base of the tables whose columns are the patient's visits, oldest first.

    It holds immutable row snapshots and the visit dates, replaced together in one reset
    (``_reset``); ``data()`` only reads them. Across the top is each visit's date; a subclass
    gives a cell's roles (``_cell``) and the label down the side (``_row_header``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: tuple = ()
        self._dates: tuple[dt.date, ...] = ()

    def _reset(self, rows=(), dates=()) -> None:
        self.beginResetModel()
        self._rows, self._dates = tuple(rows), tuple(dates)
        self.endResetModel()

    @property
    def rows(self) -> tuple:
        return self._rows

    @property
    def dates(self) -> tuple[dt.date, ...]:
        """The visit of each column."""
        return self._dates

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._dates)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        return self._cell(self._rows[index.row()], index.column(), role)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._dates):
                return _date_header(self._dates[section])
            return None
        return self._row_header(self._rows[section], role) if 0 <= section < len(self._rows) else None

    def _cell(self, row, column: int, role: int):
        """A cell's value for ``role`` (the row's snapshot at the visit of ``column``)."""
        raise NotImplementedError

    def _row_header(self, row, role: int):
        """The row's label for ``role``."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class RegionRow:
    region: str
    header: str
    onset: bool
    order: int | None  # 1 = onset region / first involved; None = never involved
    contiguous: bool | None
    states: tuple[str, ...]  # one region state per visit
    new_at: tuple[bool, ...]  # the visit at which the region first became involved


def region_rows(result: CaseClassification) -> tuple[RegionRow, ...]:
    timeline = {t.region: t for t in result.timeline}
    order = {r: i + 1 for i, r in enumerate(result.spread_order)}
    rows = []
    for r in REGIONS:
        t = timeline.get(r)
        states = tuple(region_state(vc, r) for vc in result.visits)
        first = t.first_involved if t else None
        new_at = tuple(first is not None and vc.date == first for vc in result.visits)
        head = r.capitalize()
        bits = []
        if t is not None and t.onset:
            bits.append("onset")
        if r in order:
            bits.append(_ordinal(order[r]))
        if t is not None and t.contiguous is False:
            bits.append("non-contiguous")
        if bits:
            head += "  (" + ", ".join(bits) + ")"
        rows.append(RegionRow(r, head, bool(t and t.onset), order.get(r),
                              t.contiguous if t else None, states, new_at))
    return tuple(rows)


class RegionMatrixTableModel(VisitColumnsTableModel):
    """Rows: the four regions, rostral first. Columns: visit dates. Cell: none / UMN / LMN /
    UMN + LMN / not examined, with the visit a region first became involved marked."""

    _rows: tuple[RegionRow, ...]

    def __init__(self, parent=None):
        super().__init__(parent)
        self._bold = QFont()
        self._bold.setBold(True)

    def set_rows(self, result: CaseClassification | None) -> None:
        if result is None:
            self._reset()
        else:
            self._reset(region_rows(result), (vc.date for vc in result.visits))

    def _cell(self, row: RegionRow, column: int, role: int):
        state = row.states[column]
        new = row.new_at[column]
        if role == Qt.ItemDataRole.DisplayRole:
            text = _CELL_TEXT[state]
            return f"{text} ★" if new else text
        if role == StateRole:
            return state
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(REGION_COLOURS[state])
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(REGION_TEXT_COLOURS[state])
        if role == Qt.ItemDataRole.FontRole and new:
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{row.region.capitalize()} on {self._dates[column]}: {REGION_STATE_LABELS[state]}"
            if new:
                tip += " (first involved at this visit)"
            return tip
        return None

    def _row_header(self, row: RegionRow, role: int):
        if role == Qt.ItemDataRole.DisplayRole:
            return row.header
        if role == Qt.ItemDataRole.FontRole and row.onset:
            return self._bold
        return None


@dataclass(frozen=True, slots=True)
class MuscleRow:
    muscle: str
    side: str
    label: str
    region: str
    grades: tuple[str | None, ...]  # MRC per visit; None = not examined / not graded
    tips: tuple[str, ...]


_SIDE_ORDER = {"midline": 0, "right": 1, "left": 2}
_SIDE_ABBR = {"midline": "", "right": " R", "left": " L"}


def muscle_rows(case: Case, result: CaseClassification, catalogue: Catalogue) -> tuple[MuscleRow, ...]:
    """One row per muscle and side graded at any visit, in catalogue order (rostral first)."""
    position = {m.id: i for i, m in enumerate(catalogue.muscles)}
    per_visit = []
    keys: set[tuple[str, str]] = set()
    for vc in result.visits:
        states = {}
        for s in vc.evidence.muscles:
            states[s.key] = s
            if s.finding.mrc is not None:
                keys.add(s.key)
        per_visit.append(states)
    rows = []
    for mid, side in sorted(keys, key=lambda k: (position.get(k[0], 999), _SIDE_ORDER[k[1]])):
        m = catalogue.muscle[mid]
        grades, tips = [], []
        for vc, states in zip(result.visits, per_visit):
            s = states.get((mid, side))
            f = s.finding if s is not None else None
            grade = f.mrc if f is not None else None
            grades.append(grade)
            label = f"{m.name}{_SIDE_ABBR[side]}, {vc.date.isoformat()}: "
            if f is None or not f.examined:
                tips.append(label + "not examined")
                continue
            bits = [f"MRC {f.mrc}" if f.mrc else "MRC not graded"]
            if f.wasting:
                bits.append(f"wasting {f.wasting}")
            if f.fasciculations:
                bits.append("fasciculations")
            if s.umn:
                bits.append("UMN")
            if s.lmn_any:
                bits.append("LMN")
            if s.ignored:
                bits.append("attributed to another cause")
            tips.append(label + ", ".join(bits))
        rows.append(MuscleRow(mid, side, f"{m.name}{_SIDE_ABBR[side]}", m.region, tuple(grades), tuple(tips)))
    return tuple(rows)


class MrcHeatmapTableModel(VisitColumnsTableModel):
    """Rows: each muscle and side graded at any visit. Columns: visit dates. A cell is the MRC
    grade shaded from white (5) to dark red (0); not examined is a grey hatched ``·``, never a
    blank that could be read as normal."""

    _rows: tuple[MuscleRow, ...]

    def __init__(self, parent=None):
        super().__init__(parent)
        self._brushes = {g: QBrush(mrc_colour(g)) for g in MRC_GRADES}
        self._light = QBrush(QColor("#ffffff"))
        self._dark = QBrush(QColor("#222222"))
        self._grey = QBrush(QColor("#777777"))

    def set_rows(self, case: Case | None, result: CaseClassification | None, catalogue: Catalogue) -> None:
        if case is None or result is None:
            self._reset()
        else:
            self._reset(muscle_rows(case, result, catalogue), (vc.date for vc in result.visits))

    def _cell(self, row: MuscleRow, column: int, role: int):
        grade = row.grades[column]
        if role == Qt.ItemDataRole.DisplayRole:
            return grade if grade is not None else NOT_EXAMINED_TEXT
        if role == StateRole:
            return grade
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._brushes[grade] if grade is not None else NOT_EXAMINED_BRUSH
        if role == Qt.ItemDataRole.ForegroundRole:
            if grade is None:
                return self._grey
            return self._light if MRC_RANK[grade] <= MRC_RANK["3-"] else self._dark
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tips[column]
        return None

    def _row_header(self, row: MuscleRow, role: int):
        return row.label if role == Qt.ItemDataRole.DisplayRole else None
