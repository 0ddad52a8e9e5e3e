"""The live classification panel and the grid repaint only what an edit changed, and what they
show is always what a panel or model built afresh from the same session would show."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication

from desktop.ui.classification import SCORE_ROWS, ClassificationView, RefsRole
from desktop.ui.grid import GREY, HIGHLIGHT_BG, MIXED_BG
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


def panel_snapshot(panel: ClassificationView):
    tree = []
    for i in range(panel.criteria.topLevelItemCount()):
        top = panel.criteria.topLevelItem(i)
        for it in [top] + [top.child(j) for j in range(top.childCount())]:
            tree.append((it.parent() is not None, it.text(0), it.toolTip(0), _plain(it.foreground(0)),
                         it.font(0).bold(), it.data(0, RefsRole)))
    regions = [(panel.regions.item(r, c).text(), _plain(panel.regions.item(r, c).foreground()),
                _plain(panel.regions.item(r, c).background()))
               for r in range(panel.regions.rowCount()) for c in range(panel.regions.columnCount())]
    scores = [(panel.scores.item(r, 0).text(), panel.scores.item(r, 1).text(),
               panel.scores.item(r, 1).toolTip(), _plain(panel.scores.item(r, 1).foreground()))
              for r in range(panel.scores.rowCount())]
    warnings = (panel.warnings_box.isHidden(), panel.warnings_text.text())
    return tree, regions, scores, warnings


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


class LayoutRequests(QObject):
    def __init__(self, widget):
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def cell(model, muscle, field, side):
    return model.index(model.row_of(muscle), model.column_of(field, side))


EDITS = [  # (muscle, field, side, typed): weak, wasted, brisk reflexes, then taken back
    ("biceps", "mrc", "right", "4-"), ("biceps", "wasting", "right", "2"), ("biceps", "reflex", "right", "4"),
    ("first_dorsal_interosseous", "mrc", "left", "3"), ("first_dorsal_interosseous", "wasting", "left", "1"),
    ("quadriceps", "mrc", "left", "4"), ("quadriceps", "wasting", "left", "1"), ("quadriceps", "reflex", "left", "3"),
    ("tongue", "wasting", "left", "2"), ("masseter", "reflex", "left", "4"), ("deltoid", "fasciculations", "left", "y"),
    ("biceps", "reflex", "right", "2"), ("quadriceps", "mrc", "left", "5"), ("deltoid", "mrc", "right", "2"),
]


def test_the_panel_after_each_edit_shows_what_a_fresh_panel_shows(visit_window, qtbot):
    w = visit_window
    model = w.editor.exam_model
    for muscle, field, side, typed in EDITS:
        assert model.setData(cell(model, muscle, field, side), typed)
        QApplication.processEvents()
        fresh = ClassificationView(w.session)
        qtbot.addWidget(fresh)
        assert panel_snapshot(w.panel) == panel_snapshot(fresh), (muscle, field, side, typed)
    for _ in range(len(EDITS)):  # and back to an empty visit
        w.undo_action.trigger()
        fresh = ClassificationView(w.session)
        qtbot.addWidget(fresh)
        assert panel_snapshot(w.panel) == panel_snapshot(fresh)
    assert w.panel.criterion_text("el_escorial").endswith("Not met")


def test_the_scores_table_shows_the_new_scores_when_the_edit_returns(visit_window):
    w = visit_window
    model = w.editor.exam_model
    assert w.panel.score_text("UMN score") == "·" and w.panel.score_text("ALSFRS-R") == "·"
    assert w.panel.scores.item(SCORE_ROWS.index("UMN score"), 1).foreground().color() == GREY
    model.setData(cell(model, "biceps", "reflex", "right"), "4")  # brisk: counts
    assert w.panel.score_text("UMN score") == "1/16"
    model.setData(cell(model, "biceps", "reflex", "right"), "2")  # examined, not brisk
    assert w.panel.score_text("UMN score") == "0/16"
    assert w.panel.scores.item(SCORE_ROWS.index("UMN score"), 1).foreground().style() == Qt.BrushStyle.NoBrush
    h = w.editor.history_view
    for i, cb in enumerate(h.items.values()):
        cb.setCurrentIndex(5 if i else 3)  # 4s, speech 2
        cb.activated.emit(cb.currentIndex())
    assert w.panel.score_text("ALSFRS-R") == "46/48"
    assert w.panel.score_text("ALSFRS-R subscores") == "bulbar 10, fine motor 12, gross motor 12, respiratory 12"
    assert [w.panel.scores.item(r, 0).text() for r in range(w.panel.scores.rowCount())] == list(SCORE_ROWS)


def test_an_edit_never_re_lays_out_the_panel(visit_window):
    """Every part of the panel keeps its size hint when its text changes: a word-wrapped
    rich-text scores label used to make the whole window lay out again on every keystroke."""
    w = visit_window
    model = w.editor.exam_model
    QApplication.processEvents()
    requests = LayoutRequests(w.panel)
    before = panel_snapshot(w.panel)
    for muscle, field, side, typed in EDITS[:6]:
        model.setData(cell(model, muscle, field, side), typed)
        QApplication.processEvents()
    assert panel_snapshot(w.panel) != before  # the criteria and the scores did change
    assert requests.count == 0


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


def test_reasons_are_drawn_as_the_default_delegate_draws_them(visit_window):
    """The tree draws its rows from cached static text; they must look as Qt's own delegate
    draws them (colours, bold headings, elided long reasons, the selected row)."""
    from PySide6.QtWidgets import QStyledItemDelegate

    w = visit_window
    model = w.editor.exam_model
    for muscle, field, side, typed in EDITS[:10]:
        model.setData(cell(model, muscle, field, side), typed)
    tree = w.panel.criteria
    tree.setCurrentItem(tree.topLevelItem(0).child(1))
    QApplication.processEvents()
    ours = tree.viewport().grab().toImage()
    cached = tree.itemDelegate()
    tree.setItemDelegate(QStyledItemDelegate(tree))
    QApplication.processEvents()
    default = tree.viewport().grab().toImage()
    tree.setItemDelegate(cached)
    assert ours.size() == default.size()
    differ = sum(ours.pixel(x, y) != default.pixel(x, y)
                 for y in range(0, ours.height()) for x in range(0, ours.width()))
    assert differ <= ours.width() * ours.height() // 200  # identical here; sub-pixel slack elsewhere
