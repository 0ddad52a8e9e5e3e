"""The grid repaints only what an edit changed, and what it shows is always what a grid built
afresh from the same session would show."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt

from desktop.ui.grid import HIGHLIGHT_BG, MIXED_BG
from desktop.ui.visit_editor import VisitEditorView

ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole,
         Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.FontRole)


def _plain(v):
    """A comparable form of a role's value (brushes by colour, fonts by description)."""
    if v is None or isinstance(v, (str, int, float, bool, frozenset, tuple)):
        return v
    if hasattr(v, "color"):
        return ("brush", v.color().name(), int(v.style().value))
    if hasattr(v, "toString"):
        return ("font", v.toString())
    return repr(v)


def grid_snapshot(model):
    return {(r, c): tuple(_plain(model.index(r, c).data(role)) for role in ROLES)
            for r in range(model.rowCount()) for c in range(model.columnCount())}


class Repaints:
    """The cells a model announced as changed (dataChanged ranges)."""

    def __init__(self, model):
        self.cells: set[tuple[int, int]] = set()
        model.dataChanged.connect(self._on)

    def _on(self, tl, br, roles=()):
        self.cells |= {(r, c) for r in range(tl.row(), br.row() + 1) for c in range(tl.column(), br.column() + 1)}

    def take(self) -> set[tuple[int, int]]:
        out, self.cells = self.cells, set()
        return out


def cell(model, muscle, field, side):
    return model.index(model.row_of(muscle), model.column_of(field, side))


EDITS = [  # (muscle, field, side, typed): weak, wasted, brisk reflexes, then taken back
    ("biceps", "mrc", "right", "4-"), ("biceps", "wasting", "right", "2"), ("biceps", "reflex", "right", "4"),
    ("first_dorsal_interosseous", "mrc", "left", "3"), ("first_dorsal_interosseous", "wasting", "left", "1"),
    ("quadriceps", "mrc", "left", "4"), ("quadriceps", "wasting", "left", "1"), ("quadriceps", "reflex", "left", "3"),
    ("tongue", "wasting", "left", "2"), ("masseter", "reflex", "left", "4"), ("deltoid", "fasciculations", "left", "y"),
    ("biceps", "reflex", "right", "2"), ("quadriceps", "mrc", "left", "5"), ("deltoid", "mrc", "right", "2"),
]


def test_an_edit_repaints_every_grid_cell_it_changed_and_few_others(visit_window):
    w = visit_window
    model = w.editor.exam_model
    repaints = Repaints(model)
    for muscle, field, side, typed in EDITS:
        before = grid_snapshot(model)
        repaints.take()
        assert model.setData(cell(model, muscle, field, side), typed)
        after = grid_snapshot(model)
        changed = {k for k in after if after[k] != before[k]}
        announced = repaints.take()
        assert changed <= announced, (muscle, field, side, typed)
        assert len(announced) <= len(changed) + 2  # no whole rows, let alone the whole grid
    # The first edit repaints its own cell only.
    w.undo_action.trigger()
    before = grid_snapshot(model)
    repaints.take()
    model.setData(cell(model, "deltoid", "mrc", "right"), "3")
    edited = cell(model, "deltoid", "mrc", "right")
    assert repaints.take() == {(edited.row(), edited.column())}
    assert {k for k, v in grid_snapshot(model).items() if v != before[k]} == {(edited.row(), edited.column())}


def test_mixed_and_highlighted_cells_follow_edits_and_the_selected_reason(visit_window):
    w = visit_window
    model = w.editor.exam_model
    repaints = Repaints(model)
    for field, typed in (("mrc", "4"), ("wasting", "2"), ("reflex", "3")):
        model.setData(cell(model, "biceps", field, "right"), typed)
    mrc = cell(model, "biceps", "mrc", "right")
    name = model.index(mrc.row(), 0)
    assert mrc.data(Qt.ItemDataRole.BackgroundRole).color() == MIXED_BG  # UMN and LMN in biceps R
    assert name.data(Qt.ItemDataRole.BackgroundRole).color() == MIXED_BG
    assert "UMN + LMN" in name.data(Qt.ItemDataRole.ToolTipRole)
    repaints.take()
    model.setData(cell(model, "biceps", "reflex", "right"), "1")  # not preserved any more: not mixed
    assert mrc.data(Qt.ItemDataRole.BackgroundRole) is None
    assert name.data(Qt.ItemDataRole.BackgroundRole) is None
    assert {(mrc.row(), mrc.column()), (name.row(), 0)} <= repaints.take()
    model.setData(cell(model, "biceps", "reflex", "right"), "3")

    # Selecting a reason highlights the findings behind it, and only those cells repaint.
    tree = w.panel.criteria
    reason = next(tree.topLevelItem(0).child(j) for j in range(tree.topLevelItem(0).childCount())
                  if "Biceps reflex R" in tree.topLevelItem(0).child(j).text(0))
    before = grid_snapshot(model)
    repaints.take()
    tree.setCurrentItem(reason)
    reflex = cell(model, "biceps", "reflex", "right")
    for idx in (mrc, reflex):
        assert idx.data(Qt.ItemDataRole.BackgroundRole).color() == HIGHLIGHT_BG
    changed = {k for k, v in grid_snapshot(model).items() if v != before[k]}
    assert changed == repaints.take() and (reflex.row(), reflex.column()) in changed
    tree.clearSelection()
    assert reflex.data(Qt.ItemDataRole.BackgroundRole) is None
    assert mrc.data(Qt.ItemDataRole.BackgroundRole).color() == MIXED_BG


def test_the_grid_after_edits_copy_forward_and_confirmation_matches_a_fresh_grid(visit_window, qtbot):
    w = visit_window
    model = w.editor.exam_model
    for muscle, field, side, typed in EDITS[:8]:
        model.setData(cell(model, muscle, field, side), typed)
    assert w.session.new_visit(dt.date(2025, 9, 1), copy_from_previous=True)
    model.setData(cell(model, "biceps", "mrc", "right"), "3")  # touched: reviewed
    w.session.confirm_reviewed({("muscle", "quadriceps", "left", "mrc")})

    def fresh():
        editor = VisitEditorView(w.session, w.catalogue)
        qtbot.addWidget(editor)
        editor.set_protocol(w.editor.protocol)
        w.session.set_options(w.session.options)  # reclassify: the new editor marks mixed cells
        return grid_snapshot(editor.exam_model)

    assert w.session.unreviewed and model._mixed
    assert grid_snapshot(model) == fresh()
    w.undo_action.trigger()
    w.undo_action.trigger()
    assert grid_snapshot(model) == fresh()
