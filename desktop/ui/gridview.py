"""Keyboard-first table view for the findings models.

Type a value straight into a cell (the editor opens on the first key); Enter moves down, Tab
right, arrows move; Space toggles yes/no cells; Delete clears (not examined); Ctrl+Return
confirms carried-forward cells; in the muscle grids Ctrl+Shift+O attributes the muscle (the
cell's side, or both sides from its name) to another cause, asking a short reason, and again
clears it; the context menu has both. A refused entry keeps the cursor in place and the
model's message goes to the status bar.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemDelegate, QAbstractItemView, QInputDialog, QMenu, QTableView

from .grid import REGION_LABELS, RowRole


class FindingsView(QTableView):
    message = Signal(str)
    confirm_requested = Signal(object)  # set of cell keys

    OTHER_CAUSE_KEY = (Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    ATTRIBUTE_TEXT = "Attribute to another cause…"
    CLEAR_TEXT = "Clear other cause"

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

    def currentChanged(self, current, previous) -> None:  # noqa: N802  (Qt's name)
        """Moving to another column says what it takes (the wasting scale, the MRC grades)
        before anything is typed, not only after a refused entry."""
        super().currentChanged(current, previous)
        cols = getattr(self.model(), "COLUMNS", None)
        if not cols or not current.isValid() or (previous.isValid() and previous.column() == current.column()):
            return
        from .grid import _TIPS

        tip = _TIPS.get(cols[current.column()].kind)
        if tip and cols[current.column()].side is not None:
            self.message.emit(tip)

    # ---------------------------------------------------------------- regions
    def _apply_spans(self) -> None:
        self.clearSpans()
        m = self.model()
        for r in range(m.rowCount()):
            row = m.index(r, 0).data(RowRole)
            if row.is_header:
                self.setSpan(r, 0, 1, m.columnCount())  # the model's header text draws the fold arrow
            else:
                self.setRowHidden(r, row.region in self.collapsed)
        self.ensure_current()
        if hasattr(m, "set_collapsed"):
            m.set_collapsed(self.collapsed)

    def ensure_current(self) -> None:
        """Make the first cell that takes an entry current if none is, so the arrow keys work."""
        if not self.currentIndex().isValid():
            first = self._entry_cell(0, forward=True)
            if first is not None:
                self.go_to(first)

    def go_to(self, index) -> None:
        """Make ``index`` the one current and selected cell. (QTableView.setCurrentIndex reads
        the keyboard modifiers: during Ctrl+1 it added the cell to the selection, so Delete then
        cleared cells in other regions too.)"""
        self.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)

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
        if hasattr(m, "set_collapsed"):
            m.set_collapsed(self.collapsed)
        cur = self.currentIndex()
        if cur.isValid() and self.isRowHidden(cur.row()):
            # never leave the cursor (and typing) in a hidden row: the next shown row takes it
            below = [r for r in range(cur.row(), m.rowCount()) if self._shown_data_row(r)]
            above = [r for r in range(cur.row(), -1, -1) if self._shown_data_row(r)]
            target = (below or above or [None])[0]
            if target is None:
                self.selectionModel().clear()
            else:
                self.go_to(self._cell_in_row(target, cur.column()))
        state = "collapsed" if region in self.collapsed else "expanded"
        self.message.emit(f"{REGION_LABELS[region]} {state} (click its header to toggle)")

    def _shown_data_row(self, r: int) -> bool:
        row = self.model().index(r, 0).data(RowRole)
        return not row.is_header and not self.isRowHidden(r)

    def jump_to_region(self, region: str) -> bool:
        if region in self.collapsed:
            self.toggle_region(region)
        r = self.first_row(region)
        if r is None:
            return False
        self.go_to(self._cell_in_row(r, self.currentIndex().column()))
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
            if (key, mods) == self.OTHER_CAUSE_KEY and hasattr(m, "set_other_cause"):
                self.toggle_other_cause()
                return
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if mods & Qt.KeyboardModifier.ControlModifier:
                    keys = {m.key(i) for i in self.selectedIndexes() or [idx]} - {None}
                    self.confirm_requested.emit(keys)
                    return
                self._move(QAbstractItemView.CursorAction.MoveDown)
                return
            if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and not (mods & Qt.KeyboardModifier.ControlModifier):
                back = key == Qt.Key.Key_Backtab or bool(mods & Qt.KeyboardModifier.ShiftModifier)
                self._move(QAbstractItemView.CursorAction.MovePrevious if back
                           else QAbstractItemView.CursorAction.MoveNext)
                return
            editable = bool(idx.flags() & Qt.ItemFlag.ItemIsEditable)
            if key in (Qt.Key.Key_Space, Qt.Key.Key_Delete, Qt.Key.Key_Backspace) \
                    and m.key(idx) is not None and not editable:
                self.message.emit(self._not_editable_message())
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

    # ---------------------------------------------------------------- other cause
    def _other_cause_targets(self) -> list[tuple[str, str]]:
        m = self.model()
        return m.other_cause_targets(self.selectedIndexes() or [self.currentIndex()])

    def _may_attribute(self, targets) -> bool:
        if not targets:
            self.message.emit("Move to a muscle's row first (its name for both sides, a cell for that side).")
            return False
        if self.model().visit is None or self.model().readonly:
            self.message.emit(self._not_editable_message())
            return False
        return True

    def toggle_other_cause(self) -> None:
        """Ctrl+Shift+O: attribute the muscle to another cause (asking why), or, when it
        already is, clear that."""
        m = self.model()
        targets = self._other_cause_targets()
        if targets and all(m.other_cause_of(*t)[0] for t in targets):
            self.clear_other_cause(targets)
        else:
            self.attribute_other_cause(targets)

    def attribute_other_cause(self, targets=None) -> None:
        m = self.model()
        targets = self._other_cause_targets() if targets is None else targets
        if not self._may_attribute(targets):
            return
        reasons = {m.other_cause_of(*t)[1] for t in targets} - {None}
        what = m.targets_text(targets)
        reason, ok = QInputDialog.getText(
            self, "Attribute to another cause",
            f"What explains the findings in {what}? (a short reason, e.g. L5 radiculopathy; "
            "the classifier will ignore this muscle)",
            text=next(iter(reasons)) if len(reasons) == 1 else "")
        if not ok:
            return
        if m.set_other_cause(targets, reason) and all(m.other_cause_of(*t)[0] for t in targets):
            why = f" ({reason.strip()})" if reason.strip() else ""
            self.message.emit(f"{what} attributed to another cause{why}: the classifier ignores it "
                              "(Ctrl+Shift+O again clears).")

    def clear_other_cause(self, targets=None) -> None:
        m = self.model()
        targets = self._other_cause_targets() if targets is None else targets
        if not self._may_attribute(targets):
            return
        targets = [t for t in targets if m.other_cause_of(*t)[0]]
        if targets and m.set_other_cause(targets, None) and not any(m.other_cause_of(*t)[0] for t in targets):
            self.message.emit(f"{m.targets_text(targets)}: no longer attributed to another cause.")

    def context_menu(self) -> QMenu | None:
        """The cell's menu: the other-cause entries in the muscle grids."""
        m = self.model()
        if not hasattr(m, "set_other_cause"):
            return None
        targets = self._other_cause_targets()
        menu = QMenu(self)
        attribute = menu.addAction(f"{self.ATTRIBUTE_TEXT}\tCtrl+Shift+O")
        clear = menu.addAction(self.CLEAR_TEXT)
        editable = bool(targets) and m.visit is not None and not m.readonly
        attribute.setEnabled(editable)
        clear.setEnabled(editable and any(m.other_cause_of(*t)[0] for t in targets))
        attribute.triggered.connect(lambda: self.attribute_other_cause(targets))
        clear.triggered.connect(lambda: self.clear_other_cause(targets))
        return menu

    def contextMenuEvent(self, event) -> None:  # noqa: N802 (Qt name)
        idx = self.indexAt(event.pos())
        if idx.isValid() and idx not in self.selectedIndexes():
            self.go_to(idx)
        menu = self.context_menu()
        if menu is not None:
            self.run_menu(menu, event.globalPos())
            menu.deleteLater()

    def run_menu(self, menu: QMenu, pos) -> None:
        """Show the context menu until an entry is chosen (tests replace this: PySide6's
        ``QMenu.exec`` cannot be patched)."""
        menu.exec(pos)

    def _move(self, action) -> None:
        nxt = self.moveCursor(action, Qt.KeyboardModifier.NoModifier)
        if not nxt.isValid():
            return
        A = QAbstractItemView.CursorAction
        if nxt.column() == 0 and action in (A.MoveNext, A.MovePrevious):
            # Tab runs over the cells that take entries: past a row's last one to the next
            # row's first, never onto the name column (where typing did nothing)
            nxt = self._entry_cell(nxt.row(), forward=action == A.MoveNext)
            if nxt is None:
                return
        self.go_to(nxt)

    def _entry_cell(self, row: int, *, forward: bool):
        """The first (forward) or, in the row above, the last cell after/before a name cell."""
        m = self.model()
        rows = range(row, m.rowCount()) if forward else range(row - 1, -1, -1)
        for r in rows:
            if not self._shown_data_row(r):
                continue
            cols = range(1, m.columnCount()) if forward else range(m.columnCount() - 1, 0, -1)
            for c in cols:
                if m.index(r, c).flags() & Qt.ItemFlag.ItemIsSelectable:
                    return m.index(r, c)
        return None

    def _cell_in_row(self, row: int, column: int):
        """Row ``row`` at ``column`` if that cell takes entries, else the row's first that does
        (a midline row has no right-side cells)."""
        idx = self.model().index(row, max(column, 1))
        if idx.flags() & Qt.ItemFlag.ItemIsSelectable:
            return idx
        return self._entry_cell(row, forward=True) or self.model().index(row, 0)

    def _not_editable_message(self) -> str:
        if self.model().visit is None:
            return "No visit is open: choose one in the Visit list or start one (Ctrl+N)."
        return "This visit is signed and read-only: use Visit > Amend to change it."

    def edit(self, index, trigger=QAbstractItemView.EditTrigger.AllEditTriggers, event=None):
        if event is None:
            return super().edit(index, trigger, event)
        ok = super().edit(index, trigger, event)
        if not ok and trigger == QAbstractItemView.EditTrigger.AnyKeyPressed and event is not None \
                and event.type() == QEvent.Type.KeyPress and event.text().strip():
            if self.model().key(index) is None:
                self.message.emit("Names are not typed over: move to a finding's cell (Tab or the arrows).")
            elif not (index.flags() & Qt.ItemFlag.ItemIsEditable):
                self.message.emit(self._not_editable_message())
        return ok

    def commit_editor(self) -> None:
        """An entry still being typed in a cell is stored now, as Enter would, and its editor
        closed without moving (before a report, a backup or the window's lock)."""
        if self.state() != QAbstractItemView.State.EditingState:
            return
        editor = self.indexWidget(self.currentIndex())
        if editor is None:
            return
        self.commitData(editor)
        self.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)

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
