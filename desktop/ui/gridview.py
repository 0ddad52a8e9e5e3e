"""Keyboard-first table view for the findings models.

Type a value straight into a cell (the editor opens on the first key); Enter moves down, Tab
right, arrows move; Space toggles yes/no cells; Delete clears (not examined); Ctrl+Return
confirms carried-forward cells. A refused entry keeps the cursor in place and the model's
message goes to the status bar.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QAbstractItemDelegate, QAbstractItemView, QTableView

from .grid import REGION_LABELS, RowRole


class FindingsView(QTableView):
    message = Signal(str)
    confirm_requested = Signal(object)  # set of cell keys

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.setModel(model)
        self._refused = False
        self.collapsed: set[str] = set()
        self.setEditTriggers(QAbstractItemView.EditTrigger.AnyKeyPressed
                             | QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setTabKeyNavigation(True)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(22)
        self.setAlternatingRowColors(False)
        self.setWordWrap(False)
        model.entry_refused.connect(self._on_refused)
        model.modelReset.connect(self._apply_spans)
        self._apply_spans()
        cols = getattr(model, "COLUMNS", None)
        if cols:
            for i, c in enumerate(cols):
                self.setColumnWidth(i, c.width)
        else:
            self.setColumnWidth(0, 260)

    # ---------------------------------------------------------------- regions
    def _apply_spans(self) -> None:
        self.clearSpans()
        m = self.model()
        for r in range(m.rowCount()):
            row = m.index(r, 0).data(RowRole)
            if row.is_header:
                self.setSpan(r, 0, 1, m.columnCount())
                self._label_header(r, row.region)
            else:
                self.setRowHidden(r, row.region in self.collapsed)
        first = self.first_row()
        if first is not None and not self.currentIndex().isValid():
            self.setCurrentIndex(m.index(first, 1))

    def _label_header(self, r: int, region: str) -> None:
        pass  # the arrow is drawn by the header text below

    def first_row(self, region: str | None = None) -> int | None:
        m = self.model()
        for r in range(m.rowCount()):
            row = m.index(r, 0).data(RowRole)
            if not row.is_header and (region is None or row.region == region) and not self.isRowHidden(r):
                return r
        return None

    def toggle_region(self, region: str) -> None:
        if region in self.collapsed:
            self.collapsed.discard(region)
        else:
            self.collapsed.add(region)
        m = self.model()
        for r in range(m.rowCount()):
            row = m.index(r, 0).data(RowRole)
            if not row.is_header and row.region == region:
                self.setRowHidden(r, region in self.collapsed)
        state = "collapsed" if region in self.collapsed else "expanded"
        self.message.emit(f"{REGION_LABELS[region]} {state} (click its header to toggle)")

    def jump_to_region(self, region: str) -> bool:
        if region in self.collapsed:
            self.toggle_region(region)
        r = self.first_row(region)
        if r is None:
            return False
        col = max(self.currentIndex().column(), 1)
        self.setCurrentIndex(self.model().index(r, col))
        self.scrollTo(self.currentIndex(), QAbstractItemView.ScrollHint.PositionAtTop)
        self.setFocus()
        return True

    def mousePressEvent(self, event):
        idx = self.indexAt(event.position().toPoint())
        if idx.isValid():
            row = idx.data(RowRole)
            if row is not None and row.is_header:
                self.toggle_region(row.region)
                return
        super().mousePressEvent(event)

    # ---------------------------------------------------------------- keys
    def keyPressEvent(self, event):
        key = event.key()
        mods = event.modifiers()
        idx = self.currentIndex()
        m = self.model()
        if self.state() != QAbstractItemView.State.EditingState:
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if mods & Qt.KeyboardModifier.ControlModifier:
                    keys = {m.key(i) for i in self.selectedIndexes() or [idx]} - {None}
                    self.confirm_requested.emit(keys)
                    return
                self._move(QAbstractItemView.CursorAction.MoveDown)
                return
            editable = bool(idx.flags() & Qt.ItemFlag.ItemIsEditable)
            if key in (Qt.Key.Key_Space, Qt.Key.Key_Delete, Qt.Key.Key_Backspace) \
                    and m.key(idx) is not None and not editable:
                self.message.emit("This visit is signed and read-only: use Visit > Amend to change it.")
                return
            if key == Qt.Key.Key_Space and not mods:
                if hasattr(m, "toggle") and m.toggle(idx):
                    return
                if m.key(idx) is not None:
                    self.message.emit("Space toggles yes/no cells; type a value here instead.")
                return
            if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                for i in self.selectedIndexes() or [idx]:
                    m.clear(i)
                return
        super().keyPressEvent(event)

    def _move(self, action) -> None:
        nxt = self.moveCursor(action, Qt.KeyboardModifier.NoModifier)
        if nxt.isValid():
            self.setCurrentIndex(nxt)

    def edit(self, index, trigger=QAbstractItemView.EditTrigger.AllEditTriggers, event=None):
        if event is None:
            return super().edit(index, trigger, event)
        ok = super().edit(index, trigger, event)
        if not ok and trigger == QAbstractItemView.EditTrigger.AnyKeyPressed and event is not None \
                and event.type() == QEvent.Type.KeyPress and event.text().strip() \
                and self.model().key(index) is not None and not (index.flags() & Qt.ItemFlag.ItemIsEditable):
            self.message.emit("This visit is signed and read-only: use Visit > Amend to change it.")
        return ok

    def closeEditor(self, editor, hint):
        refused = self._refused
        self._refused = False
        H = QAbstractItemDelegate.EndEditHint
        super().closeEditor(editor, H.NoHint)
        if refused or hint == H.RevertModelCache:
            return
        if hint == H.EditNextItem:
            self._move(QAbstractItemView.CursorAction.MoveNext)
        elif hint == H.EditPreviousItem:
            self._move(QAbstractItemView.CursorAction.MovePrevious)
        elif hint == H.SubmitModelCache:
            self._move(QAbstractItemView.CursorAction.MoveDown)

    def _on_refused(self, text: str) -> None:
        self._refused = True
        # The status bar carries the message (a QToolTip popup outliving its view aborted
        # offscreen test runs, so none is shown).
        self.message.emit(text)
