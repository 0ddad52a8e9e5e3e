"""The examination grid and the needle-EMG view: one table model each over the Visit, on the
base the signs grid shares (:class:`CellTableModel`).

Rows are catalogue muscles grouped by region (a header row per region); columns come from a
declarative spec tuple, left side then right side. ``data()`` reads the in-memory Visit only;
``setData()`` validates the entry and hands the new Visit to ``edit_requested`` (the session
pushes an undo command) instead of persisting anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont

from domain.case import Visit
from domain.catalogue import REGIONS, Catalogue, Muscle

from desktop.present import entries as E
from domain import edits as D
from .labels import REGION_LABELS

RowRole = Qt.ItemDataRole.UserRole + 1
ValueRole = Qt.ItemDataRole.UserRole + 2
KeyRole = Qt.ItemDataRole.UserRole + 3

GREY = QColor("#9a9a9a")
HEADER_BG = QColor("#e4e8ee")
HEADER_FG = QColor("#2b3a4d")
MIXED_BG = QColor("#e9d5f5")
HIGHLIGHT_BG = QColor("#fff07a")
UNREVIEWED_BG = QColor("#fde7c8")
ABNORMAL_FG = QColor("#b3261e")
READONLY_BG = QColor("#f4f4f4")

MIDLINE_MUSCLES = frozenset({"tongue", "palate"})
"""Examined as one midline structure: their single finding sits in the left-side columns. Any
other bulbar or thoracic muscle recorded ``midline`` (the case format allows it: exam-format.md)
gets a midline row of its own for that finding (:func:`build_rows`)."""

SIDE_LETTER = {"left": "L", "right": "R", "midline": "midline"}


@dataclass(frozen=True)
class GridRow:
    region: str
    muscle: Muscle | None = None  # None = the region header row
    midline: bool = False  # one midline finding, in the left-side columns (else left and right)

    @property
    def is_header(self) -> bool:
        return self.muscle is None

    def side_for(self, side: str) -> str | None:
        """The finding side a column's side maps to in this row (None = not applicable)."""
        if self.midline:
            return "midline" if side == "left" else None
        return side

    @property
    def sides(self) -> tuple[str, ...]:
        """The finding sides the row shows."""
        return ("midline",) if self.midline else ("left", "right")


@dataclass(frozen=True)
class Column:
    """One grid column: what it shows, how it parses typed text, where it writes."""

    header: str
    side: str | None  # None = the muscle name column
    field: str  # muscle field, EMG field, or "reflex"
    kind: str  # name | mrc | wasting | bool | reflex | grade | choice
    parse: Callable[[str], Any] | None = None
    width: int = 52

    @property
    def toggles(self) -> bool:
        return self.kind == "bool"


def _side_columns(side: str, spec: tuple[tuple[str, str, str, Callable | None], ...]) -> tuple[Column, ...]:
    s = "L" if side == "left" else "R"
    return tuple(Column(f"{s} {h}", side, field, kind, parse) for h, field, kind, parse in spec)


_EXAM_SPEC = (
    ("MRC", "mrc", "mrc", E.parse_mrc),
    ("Wast", "wasting", "wasting", E.parse_wasting),
    ("Fasc", "fasciculations", "bool", E.parse_bool),
    ("Refl", "reflex", "reflex", E.parse_reflex),
)
_EMG_SPEC = (
    ("Fib", "fibrillations", "grade", E.parse_grade04),
    ("PSW", "positive_sharp_waves", "grade", E.parse_grade04),
    ("FP", "fasciculation_potentials", "choice", E.parse_fasc_potentials),
    ("Large", "mup_large", "bool", E.parse_bool),
    ("Unst", "mup_unstable", "bool", E.parse_bool),
    ("Recr", "recruitment", "choice", E.parse_recruitment),
)
NAME_COLUMN = Column("Muscle", None, "name", "name", None, 230)
EXAM_COLUMNS: tuple[Column, ...] = (
    NAME_COLUMN, *_side_columns("left", _EXAM_SPEC), *_side_columns("right", _EXAM_SPEC)
)
EMG_COLUMNS: tuple[Column, ...] = (
    NAME_COLUMN, *_side_columns("left", _EMG_SPEC), *_side_columns("right", _EMG_SPEC)
)

_TIPS = {
    "mrc": "MRC grade: 0 1 2- 2 2+ 3- 3 3+ 4- 4 4+ 5- 5",
    "wasting": "Wasting: 0 none, 1 mild, 2 moderate, 3 severe",
    "bool": "y / n, or Space to toggle",
    "reflex": "Linked reflex, NINDS 0-4 (3 and 3+ are the same grade); add s for spread (3s)",
    "grade": "0-4",
    "choice": "type the number or the first letters",
}


def build_rows(catalogue: Catalogue, muscle_ids: set[str] | None, visit: Visit | None) -> list[GridRow]:
    """Header + muscle rows for the protocol's muscles, plus any muscle recorded in the visit.

    A muscle of :data:`MIDLINE_MUSCLES` has one midline row. Another muscle recorded ``midline``
    in the visit (a bulbar or thoracic one: thoracic paraspinals examined as one) gets a midline
    row for that finding, above its left/right row, which stays when the protocol lists the
    muscle or a side is recorded too: every recorded finding is shown and can be corrected."""
    recorded: dict[str, set[str]] = {}
    for f in visit.muscles if visit is not None else ():
        recorded.setdefault(f.muscle, set()).add(f.side)
    rows: list[GridRow] = []
    for region in REGIONS:
        muscle_rows: list[GridRow] = []
        for m in catalogue.muscles:
            if m.region != region:
                continue
            sides = recorded.get(m.id, set())
            listed = muscle_ids is None or m.id in muscle_ids
            if m.id in MIDLINE_MUSCLES:
                if listed or sides:
                    muscle_rows.append(GridRow(region, m, midline=True))
                continue
            if "midline" in sides:
                muscle_rows.append(GridRow(region, m, midline=True))
            if listed or sides - {"midline"}:
                muscle_rows.append(GridRow(region, m))
        if muscle_rows:
            rows.append(GridRow(region))
            rows.extend(muscle_rows)
    return rows


class CellTableModel(QAbstractTableModel):
    """Base of the finding grids (examination, needle EMG, signs): finding rows under region
    header rows, over one frozen Visit.

    What the three share lives here: which cells show which finding (``_cells``), reading a
    cell's value, the rule that a signed visit (or none) is read-only, the edits (``write``,
    ``toggle``, ``clear``: each hands a new Visit to ``edit_requested``, the session pushes the
    undo command) and the repaints (an edit of the open visit, a mark or a fold repaints only
    the cells whose look changed). Subclasses give each cell's key (``_cell_key``), how typed
    text is parsed (``_parse``), what an edit is called (``_edit_label``) and how a cell or a
    row's name looks (``_cell_data``, ``_name_data``)."""

    edit_requested = Signal(object, object, str)  # new Visit, cell key (None: several), action text
    entry_refused = Signal(str)  # the message saying what is allowed
    READONLY_MESSAGE = "This visit is signed and read-only: use Visit > Amend to change it."

    def __init__(self, catalogue: Catalogue, parent=None):
        super().__init__(parent)
        self.catalogue = catalogue
        self._rows: list = []
        self._visit: Visit | None = None
        self._ix = NO_FINDINGS
        self._readonly = True
        self._highlight: set[tuple[str, str, str]] = set()
        self._unreviewed: set[tuple[str, str, str, str]] = set()
        self._collapsed: frozenset = frozenset()
        self._cells: dict[tuple[str, str, str], list[tuple[int, int, tuple]]] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    # -------------------------------------------------------------- what subclasses give
    def _cell_key(self, row, column: int) -> tuple[str, str, str, str] | None:
        """(kind, id, side, field) of the finding a cell shows, None if not applicable."""
        raise NotImplementedError

    def _is_entry_column(self, column: int) -> bool:
        """Whether a column shows findings (else it is the row's name)."""
        return column > 0

    def _parse(self, column: int, text: str) -> Any:
        """The value typed text means in a column; raises ``EntryError`` saying what is allowed."""
        raise NotImplementedError

    def _toggles(self, column: int) -> bool:
        """Whether Space toggles the column's cells (yes/no findings)."""
        return False

    def _edit_label(self, row, column: int, key: tuple, value: Any) -> str:
        """The undo entry's text for setting a cell to ``value``."""
        raise NotImplementedError

    def _name_data(self, row, role):
        return None

    def _cell_data(self, column: int, key: tuple, value: Any, role):
        """The roles a finding cell's look depends on: text, colours, font, tooltip."""
        return None

    def _repaint_finding(self, kind: str, id_: str, side: str, old, new, cells: set) -> bool:
        """Add the cells a changed finding repaints beyond its own changed values (True: all
        it repaints is added)."""
        return False

    # -------------------------------------------------------------- loading
    def set_rows(self, rows: list) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._index_cells()
        self.endResetModel()

    def _index_cells(self) -> None:
        """Where each finding is shown: (kind, id, side) -> [(row, column, cell key)], so a
        change repaints its own cells and no others."""
        cells: dict[tuple[str, str, str], list[tuple[int, int, tuple]]] = {}
        for r, row in enumerate(self._rows):
            if row.is_header:
                continue
            for c in range(self.columnCount()):
                k = self._cell_key(row, c)
                if k is not None:
                    cells.setdefault(k[:3], []).append((r, c, k))
        self._cells = cells

    def set_visit(self, visit: Visit | None, *, readonly: bool) -> None:
        readonly = readonly or visit is None
        if visit is self._visit and readonly == self._readonly:
            return  # the same snapshot (a status or marks change reloads the same visit)
        old_ix, old_visit, old_ro = self._ix, self._visit, self._readonly
        self._visit = visit
        self._ix = D.FindingIndex.of(visit) if visit is not None else NO_FINDINGS
        self._readonly = readonly
        same_visit = (
            old_visit is not None and visit is not None and old_visit.date == visit.date
            and old_ro == self._readonly
        )
        if not same_visit:
            self._changed_all()  # another visit, or every cell's flags changed
            return
        # An edit of the same visit: repaint only the cells whose value changed (a full
        # dataChanged re-queried every cell and cost ~100 ms per keystroke on a full grid).
        cells: set[tuple[int, int]] = set()
        for kind, old, new in (("muscle", old_ix.muscles, self._ix.muscles),
                               ("reflex", old_ix.reflexes, self._ix.reflexes),
                               ("sign", old_ix.signs, self._ix.signs)):
            for id_, side in _diff(old, new):
                if self._repaint_finding(kind, id_, side, old.get((id_, side)), new.get((id_, side)), cells):
                    continue
                for r, c, k in self._cells.get((kind, id_, side), ()):
                    if D.cell_value(old_ix, k) != D.cell_value(self._ix, k):
                        cells.add((r, c))
        self._changed_cells(cells)

    def set_marks(self, *, highlight=None, unreviewed=None) -> None:
        self._changed_cells(self._marked(highlight, unreviewed))

    def _marked(self, highlight, unreviewed) -> set[tuple[int, int]]:
        """Take the findings to highlight and the cells not reviewed; the cells that changed."""
        cells: set[tuple[int, int]] = set()
        if highlight is not None:
            for k3 in self._highlight ^ set(highlight):
                cells.update((r, c) for r, c, _k in self._cells.get(tuple(k3), ()))
            self._highlight = highlight
        if unreviewed is not None:
            for k in self._unreviewed ^ set(unreviewed):
                cells.update((r, c) for r, c, kk in self._cells.get(tuple(k[:3]), ()) if kk == tuple(k))
            self._unreviewed = unreviewed
        return cells

    def set_collapsed(self, regions) -> None:
        """The view tells which regions are folded (their header rows say so)."""
        regions = frozenset(regions)
        if regions == self._collapsed:
            return
        self._collapsed = regions
        for r, row in enumerate(self._rows):
            if row.is_header:
                i = self.index(r, 0)
                self.dataChanged.emit(i, i)

    def _changed_all(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, self.columnCount() - 1))

    def _changed_cells(self, cells: set[tuple[int, int]]) -> None:
        """dataChanged for each run of adjacent changed cells in a row."""
        run = None
        for r, c in sorted(cells):
            if run is not None and r == run[0] and c == run[2] + 1:
                run[2] = c
                continue
            if run is not None:
                self.dataChanged.emit(self.index(run[0], run[1]), self.index(run[0], run[2]))
            run = [r, c, c]
        if run is not None:
            self.dataChanged.emit(self.index(run[0], run[1]), self.index(run[0], run[2]))

    @property
    def rows(self) -> list:
        return self._rows

    @property
    def visit(self) -> Visit | None:
        """The visit shown (None: no visit open)."""
        return self._visit

    @property
    def readonly(self) -> bool:
        """A signed visit (or none open) takes no entries."""
        return self._readonly

    # -------------------------------------------------------------- shape and reading
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self._rows[index.row()].is_header:
            return Qt.ItemFlag.NoItemFlags
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self._is_entry_column(index.column()):
            return f
        if self.key(index) is None:
            return Qt.ItemFlag.NoItemFlags
        if not self._readonly:
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def key(self, index: QModelIndex):
        if not index.isValid():
            return None
        return self._cell_key(self._rows[index.row()], index.column())

    def value(self, index: QModelIndex) -> Any:
        """The cell's recorded value; None = not examined (never a normal value)."""
        k = self.key(index)
        return None if k is None else D.cell_value(self._ix, k)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == RowRole:
            return row
        if row.is_header:
            return header_row_data(row, index.column(), role, self._bold, self._collapsed)
        if not self._is_entry_column(index.column()):
            return self._name_data(row, role)
        k = self._cell_key(row, index.column())
        if k is None:
            return QBrush(READONLY_BG) if role == Qt.ItemDataRole.BackgroundRole else None
        if role == KeyRole:
            return k
        value = D.cell_value(self._ix, k)
        if role == ValueRole:
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            if k[:3] in self._highlight:
                return QBrush(HIGHLIGHT_BG)
            if k in self._unreviewed:
                return QBrush(UNREVIEWED_BG)
        return self._cell_data(index.column(), k, value, role)

    # -------------------------------------------------------------- editing
    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or self.key(index) is None:
            return False
        if self._readonly:
            self.entry_refused.emit(self.READONLY_MESSAGE)
            return False
        try:
            parsed = self._parse(index.column(), value) if isinstance(value, str) else value
        except E.EntryError as e:
            self.entry_refused.emit(str(e))
            return False
        return self.write(index, parsed)

    def write(self, index: QModelIndex, parsed: Any) -> bool:
        """Ask for the visit with this cell set to an already-valid value (None: not examined)."""
        k = self.key(index)
        if k is None or self._visit is None:
            return False
        if self._readonly:
            self.entry_refused.emit(self.READONLY_MESSAGE)
            return False
        new = D.with_cell_value(self._visit, k, parsed)
        label = self._edit_label(self._rows[index.row()], index.column(), k, parsed)
        self.edit_requested.emit(new, k, label)
        return True

    def toggle(self, index: QModelIndex) -> bool:
        """Space: yes becomes no, no and not examined become yes."""
        if self.key(index) is None or not self._toggles(index.column()):
            return False
        v = self.value(index)
        return self.write(index, not v if v is not None else True)

    def clear(self, index: QModelIndex) -> bool:
        """Delete: the cell becomes not examined."""
        if self.key(index) is None or self.value(index) is None:
            return False
        return self.write(index, None)


class FindingsTableModel(CellTableModel):
    """Base of the two muscle views; subclasses give the column spec."""

    COLUMNS: tuple[Column, ...] = ()

    def __init__(self, catalogue: Catalogue, parent=None):
        super().__init__(catalogue, parent)
        self._mixed: set[tuple[str, str]] = set()
        self._states: dict[tuple[str, str], Any] = {}
        self._name_rows: dict[str, list[int]] = {}  # (a muscle may have a midline row too)
        self._italic = QFont()
        self._italic.setItalic(True)

    # -------------------------------------------------------------- loading
    def _index_cells(self) -> None:
        """The base's cell index, and the row of each muscle's name."""
        super()._index_cells()
        self._name_rows = {}
        for r, row in enumerate(self._rows):
            if row.muscle is not None:
                self._name_rows.setdefault(row.muscle.id, []).append(r)

    def _repaint_finding(self, kind, id_, side, old, new, cells) -> bool:
        names = self._name_rows.get(id_, ()) if kind == "muscle" else ()
        if names and self.SHOWS_EMG_DATES and _study_date(old) != _study_date(new):
            cells.update((name, 0) for name in names)  # "EMG of DATE" after the name
        if kind == "muscle" and _attribution(old) != _attribution(new):
            # attributed to another cause, or no more: the side's cells grey, the name's label
            cells.update((r, c) for r, c, _k in self._cells.get((kind, id_, side), ()))
            cells.update((name, 0) for name in names)
            return True
        return False

    def set_marks(self, *, mixed=None, states=None, highlight=None, unreviewed=None) -> None:
        cells = self._marked(highlight, unreviewed)

        def name(muscle_id: str) -> None:
            cells.update((r, 0) for r in self._name_rows.get(muscle_id, ()))

        if mixed is not None:
            for m, side in self._mixed ^ set(mixed):  # background of the cells and the name
                cells.update((r, c) for r, c, _k in self._cells.get(("muscle", m, side), ()))
                name(m)
            self._mixed = mixed
        if states is not None:
            for m, _side in _diff(self._states, states):  # the name's tooltip
                name(m)
            self._states = states
        self._changed_cells(cells)

    def row_of(self, muscle_id: str) -> int | None:
        for i, r in enumerate(self._rows):
            if r.muscle is not None and r.muscle.id == muscle_id:
                return i
        return None

    def column_of(self, field: str, side: str) -> int:
        for i, c in enumerate(self.COLUMNS):
            if c.field == field and c.side == side:
                return i
        raise KeyError((field, side))

    # -------------------------------------------------------------- shape
    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.COLUMNS):
            col = self.COLUMNS[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return col.header
            if role == Qt.ItemDataRole.ToolTipRole and col.kind in _TIPS:
                return _TIPS[col.kind]
        return None

    # -------------------------------------------------------------- cell keys and values
    def _key(self, row: GridRow, col: Column) -> tuple[str, str, str, str] | None:
        """(kind, id, side, field) of the finding a cell shows, None if not applicable."""
        if row.muscle is None or col.side is None:
            return None
        side = row.side_for(col.side)
        if side is None:
            return None
        if col.field == "reflex":
            rid = row.muscle.linked_reflex
            if rid is None:
                return None
            rsides = self.catalogue.reflex[rid].sides
            if "midline" in rsides:
                if col.side != "left":
                    return None
                side = "midline"
            return ("reflex", rid, side, "grade")
        return ("muscle", row.muscle.id, side, col.field)

    def _cell_key(self, row: GridRow, column: int):
        return self._key(row, self.COLUMNS[column])

    def _is_entry_column(self, column: int) -> bool:
        return self.COLUMNS[column].side is not None

    def _parse(self, column: int, text: str) -> Any:
        return self.COLUMNS[column].parse(text)

    def _toggles(self, column: int) -> bool:
        return self.COLUMNS[column].toggles

    def _edit_label(self, row: GridRow, column: int, key, value) -> str:
        col = self.COLUMNS[column]
        return f"{row.muscle.name} {col.header}: {E.show(value, col.kind)}"

    def _cell_data(self, column: int, k, value, role):
        col = self.COLUMNS[column]
        if role == Qt.ItemDataRole.DisplayRole:
            return E.show(value, col.kind)
        if role == Qt.ItemDataRole.EditRole:
            return "" if value is None else E.show(value, col.kind).replace(" sp", "s")
        if role == Qt.ItemDataRole.ForegroundRole:
            if value is None or (k[0] == "muscle" and self._other_cause(k[1], k[2])):
                return QBrush(GREY)
            if _abnormal(col, value):
                return QBrush(ABNORMAL_FG)
            return None
        if role == Qt.ItemDataRole.BackgroundRole:  # below the base's highlight and not reviewed
            if k[0] == "muscle" and (k[1], k[2]) in self._mixed:
                return QBrush(MIXED_BG)
            return None
        if role == Qt.ItemDataRole.FontRole and k in self._unreviewed:
            return self._italic
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = "not examined" if value is None else E.show(value, col.kind)
            if k in self._unreviewed:
                tip += " (carried forward, not reviewed: edit it or press Ctrl+Return to confirm)"
            if k[0] == "muscle" and (k[1], k[2]) in self._mixed:
                tip += " (UMN and LMN in this muscle)"
            if k[0] == "muscle" and self._other_cause(k[1], k[2]):
                why = self._ix.muscles[(k[1], k[2])].other_cause_reason
                tip += (f" (attributed to another cause{': ' + why if why else ''}: the classifier "
                        "ignores this muscle; Ctrl+Shift+O clears)")
            return f"{tip}\n{_TIPS.get(col.kind, '')}"
        return None

    SHOWS_EMG_DATES = False

    def _emg_of(self, muscle_id: str) -> str:
        """ "EMG of DATE" for a muscle whose EMG comes from another visit's study (carried)."""
        if not self.SHOWS_EMG_DATES or self._visit is None:
            return ""
        dates = set()
        for side in ("left", "right", "midline"):
            f = self._ix.muscles.get((muscle_id, side))
            if f is not None and f.emg is not None and f.emg.study_date not in (None, self._visit.date):
                dates.add(f.emg.study_date)
        return "  \u00b7 EMG of " + ", ".join(d.isoformat() for d in sorted(dates)) if dates else ""

    # -------------------------------------------------------------- other cause
    def _other_cause(self, muscle_id: str, side: str) -> bool:
        f = self._ix.muscles.get((muscle_id, side))
        return f is not None and f.other_cause

    def other_cause_of(self, muscle_id: str, side: str) -> tuple[bool, str | None]:
        """Whether the muscle's side is attributed to another cause, and the reason given."""
        f = self._ix.muscles.get((muscle_id, side))
        return (True, f.other_cause_reason) if f is not None and f.other_cause else (False, None)

    def _other_cause_label(self, row: GridRow) -> str:
        """ "(other cause: reason)" after the name; with the side when only one side is."""
        m, sides = row.muscle, row.sides
        flagged = [(s, self._ix.muscles[(m.id, s)].other_cause_reason) for s in sides if self._other_cause(m.id, s)]
        if not flagged:
            return ""
        if len(flagged) == len(sides) and len({r for _s, r in flagged}) == 1:
            why = flagged[0][1]
            return f" (other cause: {why})" if why else " (other cause)"
        return " (" + "; ".join(f"{SIDE_LETTER[s]} other cause" + (f": {r}" if r else "") for s, r in flagged) + ")"

    def _all_other_cause(self, row: GridRow) -> bool:
        return all(self._other_cause(row.muscle.id, s) for s in row.sides)

    def other_cause_targets(self, indexes) -> list[tuple[str, str]]:
        """The (muscle, side) findings the given cells belong to: a finding cell its side, the
        name cell every side of its muscle."""
        out: list[tuple[str, str]] = []
        for idx in indexes:
            if not idx.isValid():
                continue
            row = self._rows[idx.row()]
            if row.muscle is None:
                continue
            col = self.COLUMNS[idx.column()]
            sides = [row.side_for(col.side)] if col.side is not None else [row.side_for(s) for s in ("left", "right")]
            for side in sides:
                if side is not None and (row.muscle.id, side) not in out:
                    out.append((row.muscle.id, side))
        return out

    def targets_text(self, targets) -> str:
        names: dict[str, list[str]] = {}
        for muscle, side in targets:
            names.setdefault(self.catalogue.muscle[muscle].name, []).append(SIDE_LETTER[side])
        return ", ".join(f"{n} {' and '.join(s)}" if s != ["midline"] else n for n, s in names.items())

    def set_other_cause(self, targets, reason: str | None) -> bool:
        """Ask for the visit with ``targets`` attributed to another cause (``reason`` None:
        the attribution cleared): one undoable edit."""
        if self._visit is None or self._readonly or not targets:
            return False
        new = D.with_other_cause(self._visit, targets, reason)
        if new == self._visit:
            return False
        what = self.targets_text(targets)
        label = (f"{what}: other cause" + (f" ({reason.strip()})" if reason and reason.strip() else "")
                 if reason is not None else f"{what}: other cause cleared")
        self.edit_requested.emit(new, None, label)
        return True

    def _name_data(self, row: GridRow, role):
        m = row.muscle
        if role == Qt.ItemDataRole.DisplayRole:
            return (f"   {m.name}" + (" (midline)" if row.midline else "") + self._emg_of(m.id)
                    + self._other_cause_label(row))
        if role == Qt.ItemDataRole.ToolTipRole:
            st = [self._states.get((m.id, s)) for s in ("left", "right", "midline")]
            labels = [s for s in st if s]
            extra = ("\n" + "\n".join(labels)) if labels else ""
            oc = self._other_cause_label(row).strip()
            if oc:
                extra += f"\nAttributed to another cause {oc}: the classifier ignores it (Ctrl+Shift+O clears)"
            return f"{m.name}: {m.nerve.replace('_', ' ')}, {m.roots_text}{extra}"
        if role == Qt.ItemDataRole.ForegroundRole and self._all_other_cause(row):
            return QBrush(GREY)
        if role == Qt.ItemDataRole.BackgroundRole:
            if any((m.id, s) in self._mixed for s in ("left", "right", "midline")):
                return QBrush(MIXED_BG)
        return None


def _abnormal(col: Column, value: Any) -> bool:
    if col.kind == "mrc":
        return value != "5"
    if col.kind == "wasting":
        return value != "none"
    if col.kind == "bool":
        return bool(value)
    if col.kind == "reflex":
        return value[0] == 4 or (value[0] == 3 and value[1])
    if col.kind == "grade":
        return value > 0
    if col.kind == "choice":
        return value not in ("absent", "normal")
    return False


class ExamTableModel(FindingsTableModel):
    """Clinical examination: MRC, wasting, fasciculations, linked reflex, left then right."""

    COLUMNS = EXAM_COLUMNS


class EmgTableModel(FindingsTableModel):
    """Needle EMG of the same rows: fibrillations ... recruitment, left then right."""

    COLUMNS = EMG_COLUMNS
    SHOWS_EMG_DATES = True  # a carried EMG row says which study it comes from


def _diff(old: dict, new: dict) -> set:
    """Keys whose value differs between two dicts (added, removed or changed). Findings an
    edit did not touch are the same objects, so identity settles most keys without comparing
    models field by field."""
    out = set()
    for k in old.keys() | new.keys():
        a, b = old.get(k), new.get(k)
        if a is not b and a != b:
            out.add(k)
    return out


def _attribution(f) -> tuple[bool, str | None]:
    return (True, f.other_cause_reason) if f is not None and f.other_cause else (False, None)


def _study_date(f):
    return f.emg.study_date if f is not None and f.emg is not None else None


NO_FINDINGS = D.FindingIndex({}, {}, {})
"""The index of no visit."""


def header_row_data(row, column: int, role, bold_font, collapsed=frozenset()):
    """What a region header row shows (the examination, EMG and signs grids share it): dark
    text (it takes no entries, but it is not disabled) and whether the region is folded."""
    if role == Qt.ItemDataRole.DisplayRole and column == 0:
        if row.region in collapsed:
            return f"▸ {REGION_LABELS[row.region]} (folded: click to show)"
        return f"▾ {REGION_LABELS[row.region]}"
    if role == Qt.ItemDataRole.BackgroundRole:
        return QBrush(HEADER_BG)
    if role == Qt.ItemDataRole.ForegroundRole:
        return QBrush(HEADER_FG)
    if role == Qt.ItemDataRole.FontRole:
        return bold_font
    return None

