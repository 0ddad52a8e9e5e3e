"""Live classification panel: regions UMN/LMN/mixed, the criteria with reasons, stages, scores.

Reconciled with ``session.classification`` on every edit: only the cells and rows whose text
changed are touched, and nothing in the panel changes its size hint (an edit must not re-lay
out the window). The visit's warnings (missing or inconsistent data) show in a box under the
title, only while there are any; the box is touched only when they change. Selecting a reason
emits the findings behind it (``refs_selected``) so the grid can highlight those cells.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPalette, QStaticText
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.present.criteria import criterion_lines
from desktop.present.words import pending_words
from domain.catalogue import REGIONS
from domain.criteria import REGISTRY

from .grid import GREY, REGION_LABELS

RefsRole = Qt.ItemDataRole.UserRole + 1
_MET = "#1b6e20"
_NOT_MET = "#333333"
_PENDING = "#8a5a00"
_WARN_BG = "#fff4dc"
_WARN_BORDER = "#d9a441"
_WARN_FG = "#6b4400"
from desktop.present.scores import SCORE_SHORT as SCORE_ROWS  # noqa: E402  (the panel's short labels)

if TYPE_CHECKING:
    from desktop.ui.session import VisitSession
NOT_RECORDED = "·"


_Spec = tuple  # (shown text, tooltip, foreground colour name or None, bold, refs or None)


def _spec(full: str, *, tip: str | None = None, fg: str | None = None, bold: bool = False,
          refs: frozenset | None = None) -> _Spec:
    """What one tree row shows: the whole reason (the column is wide; scroll sideways), also in
    the tooltip and, when selected, wrapped under the tree."""
    return (full, full if tip is None else tip, fg, bold, refs)


class _StaticTextDelegate(QStyledItemDelegate):
    """Draws a row's text from a cache of shaped, elided ``QStaticText`` per (text, width, font).

    A reason added or dropped makes the tree repaint every visible row, and the style shaped
    (and for long reasons elided, shaping again) each row's text on every repaint: that was
    most of the panel's paint time. Background, selection and focus are still drawn by the style.
    """

    _LIMIT = 4096  # cached texts; cleared when full (widths change only when the panel is resized)
    _ENABLED = QStyle.StateFlag.State_Enabled.value
    _ACTIVE = QStyle.StateFlag.State_Active.value
    _SELECTED = QStyle.StateFlag.State_Selected.value

    def __init__(self, parent=None):
        super().__init__(parent)
        self._texts: dict[tuple[str, int, str], QStaticText] = {}
        self._margins: dict[int, int] = {}  # per style: QCommonStyle's horizontal text margin

    def paint(self, painter, option, index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        if not text:
            return
        # As QCommonStyle lays out an item view text: inside the focus-frame margin, centred.
        margin = self._margins.get(id(style))
        if margin is None:
            margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
            self._margins[id(style)] = margin
        rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        rect.adjust(margin, 0, -margin, 0)
        font = opt.font
        key = (text, rect.width(), font.key())
        st = self._texts.get(key)
        if st is None:
            if len(self._texts) >= self._LIMIT:
                self._texts.clear()
            st = QStaticText(QFontMetrics(font).elidedText(text, opt.textElideMode, rect.width()))
            st.setTextFormat(Qt.TextFormat.PlainText)
            st.prepare(font=font)
            self._texts[key] = st
        state = opt.state.value
        group = (QPalette.ColorGroup.Disabled if not state & self._ENABLED else QPalette.ColorGroup.Active
                 if state & self._ACTIVE else QPalette.ColorGroup.Inactive)
        role = QPalette.ColorRole.HighlightedText if state & self._SELECTED else QPalette.ColorRole.Text
        painter.save()
        painter.setFont(font)
        painter.setPen(opt.palette.color(group, role))
        painter.drawStaticText(QPointF(rect.x(), rect.y() + (rect.height() - st.size().height()) / 2), st)
        painter.restore()


class ClassificationView(QWidget):
    refs_selected = Signal(object)  # set of (kind, id, side)

    def __init__(self, session: VisitSession, parent=None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("classificationPanel")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        title = QLabel("<b>Classification</b> (updates as you type)")
        lay.addWidget(title)

        self.signed_label = QLabel()
        self.signed_label.setObjectName("signedBanner")
        self.signed_label.setAccessibleName("Signed result")
        self.signed_label.setTextFormat(Qt.TextFormat.RichText)
        self.signed_label.setWordWrap(True)
        self.signed_label.setStyleSheet("QLabel#signedBanner { background: #E8F0FB; border: 1px solid #5B86C5;"
                                        " border-radius: 3px; padding: 3px; color: #1F3B73; }")
        self.signed_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.signed_label.hide()
        lay.addWidget(self.signed_label)
        self._signed_text = ""

        self.warnings_box, self.warnings_text = self._warnings_box()
        lay.addWidget(self.warnings_box)
        self._warnings: tuple[str, ...] = ()

        self.regions = QTableWidget(len(REGIONS), 4)
        self.regions.setObjectName("regionTable")
        self.regions.setHorizontalHeaderLabels(["Region", "UMN", "LMN", "State"])
        self.regions.verticalHeader().hide()
        self.regions.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.regions.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.regions.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.regions.setFixedHeight(self.regions.horizontalHeader().height() + 4 * 26 + 6)
        for r in range(len(REGIONS)):
            self.regions.setRowHeight(r, 26)
        lay.addWidget(self.regions)

        self.criteria = QTreeWidget()
        self.criteria.setObjectName("criteriaTree")
        self.criteria.setHeaderLabels(["Criteria and reasons"])
        # One line per reason (full text in the tooltip): wrapped rows made every keystroke
        # re-measure each row, the bulk of the edit-to-panel time.
        self.criteria.setWordWrap(False)
        self.criteria.setUniformRowHeights(True)
        self.criteria.setItemDelegate(_StaticTextDelegate(self.criteria))
        # Nothing is cut off: a long reason runs on in one wide column (scroll sideways), and the
        # selected one is shown whole, wrapped, under the tree. The column's width is fixed, so
        # an edit never re-measures it.
        self.criteria.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.criteria.header().setStretchLastSection(False)
        self.criteria.header().resizeSection(0, 1600)
        self.criteria.itemSelectionChanged.connect(self._on_select)
        lay.addWidget(self.criteria, 1)
        self.reason_text = QLabel()
        self.reason_text.setObjectName("selectedReason")
        self.reason_text.setWordWrap(True)
        self.reason_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason_text.setStyleSheet("color:#333333;")
        self.reason_text.hide()
        lay.addWidget(self.reason_text)

        self.scores = self._scores_table()
        lay.addWidget(self.scores)
        self._bold = QFont()
        self._bold.setBold(True)
        self._region_rows: list = [None] * len(REGIONS)
        self._shown: list[tuple[_Spec | None, list[_Spec]]] = []  # per top-level row: its spec, its children's
        session.changed.connect(self._on_changed)
        self.refresh()

    def _on_changed(self, ch) -> None:
        if ch.classification:
            self.refresh()

    def _warnings_box(self) -> tuple[QFrame, QLabel]:
        """A tinted box: a warning icon, "Warnings" and one bullet per sentence, word-wrapped.
        Hidden while the visit has none. Its size changes only when the warnings do."""
        box = QFrame()
        box.setObjectName("warningsBox")
        box.setAccessibleName("Warnings")
        box.setStyleSheet(f"QFrame#warningsBox {{ background: {_WARN_BG}; border: 1px solid {_WARN_BORDER};"
                          " border-radius: 3px; }")
        row = QHBoxLayout(box)
        row.setContentsMargins(6, 4, 6, 4)
        row.setSpacing(6)
        icon = QLabel()
        size = QFontMetrics(self.font()).height()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size, size))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        text = QLabel()
        text.setObjectName("warningsText")
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        text.setStyleSheet(f"color: {_WARN_FG}; background: transparent; border: none;")
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(text, 1)
        box.hide()
        return box, text

    def _scores_table(self) -> QTableWidget:
        """Stages and scores, one row each, in a table of fixed height: a changed value repaints
        its cell only. (A word-wrapped rich-text label re-measured itself on every new text and
        made the whole window lay out again on every keystroke.)"""
        t = QTableWidget(len(SCORE_ROWS), 2)
        t.setObjectName("scoresTable")
        t.horizontalHeader().hide()
        t.verticalHeader().hide()
        t.setShowGrid(False)
        t.setFrameShape(QTableWidget.Shape.NoFrame)
        t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        t.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        t.setWordWrap(False)
        t.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        t.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        pal = t.palette()
        pal.setColor(QPalette.ColorRole.Base, pal.color(QPalette.ColorRole.Window))
        t.setPalette(pal)
        bold = QFont(t.font())
        bold.setBold(True)
        head = t.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        t.setColumnWidth(0, max(QFontMetrics(bold).horizontalAdvance(k) for k in SCORE_ROWS) + 16)
        row_height = QFontMetrics(bold).height() + 3
        t.verticalHeader().setMinimumSectionSize(row_height)
        t.verticalHeader().setDefaultSectionSize(row_height)
        for r, name in enumerate(SCORE_ROWS):
            key = QTableWidgetItem(name)
            key.setFont(bold)
            t.setItem(r, 0, key)
            t.setItem(r, 1, QTableWidgetItem(""))
        t.setFixedHeight(len(SCORE_ROWS) * row_height + 2)
        return t

    # ------------------------------------------------------------------
    def refresh(self) -> None:
        vc = self.session.classification
        self._fill_signed(getattr(self.session, "shown", None))
        self._fill_warnings(vc)
        self._fill_regions(vc)
        self._fill_criteria(vc)
        self._fill_scores(vc)
        if self.criteria.selectedItems():
            self._on_select()  # the highlight follows the findings the reason now names

    def _fill_signed(self, shown) -> None:
        """For a signed visit: who signed it, that the panel shows the result as signed, and
        the "Recomputed" lines when today's computation differs (issue 13). Touched only when
        its text changes."""
        text = ""
        if shown is not None and shown.signature is not None:
            sig = shown.signature
            what = "Amendment" if sig.version > 1 else "Visit"
            text = (f"<b>{what} signed by {escape(sig.signed_by)}</b>, {escape(sig.signed_at[:16].replace('T', ' '))}"
                    f" UTC (version {sig.version}): the result as signed.")
            if shown.recomputed:
                text += "".join(f"<br>\u25b8 {escape(line)}" for line in shown.recomputed)
        if text == self._signed_text:
            return
        self._signed_text = text
        self.signed_label.setText(text)
        self.signed_label.setVisible(bool(text))

    def signed_shown(self) -> str:
        """The signed banner's plain text (empty while hidden)."""
        if self.signed_label.isHidden():
            return ""
        from PySide6.QtGui import QTextDocument

        doc = QTextDocument()
        doc.setHtml(self._signed_text)
        return doc.toPlainText()

    def _fill_warnings(self, vc) -> None:
        """Show the visit's warnings; an edit that leaves them as they were touches nothing
        (new text or showing the box re-lays out the panel, so only a change may do it)."""
        warnings = tuple(vc.warnings) if vc is not None else ()
        if warnings == self._warnings:
            return
        self._warnings = warnings
        if warnings:
            rows = "".join(f"<tr><td>\u2022</td><td>{escape(w)}</td></tr>" for w in warnings)
            self.warnings_text.setText(f"<b>Warnings</b><table cellspacing='0' cellpadding='1'>{rows}</table>")
        self.warnings_box.setVisible(bool(warnings))

    def _fill_regions(self, vc) -> None:
        for i, region in enumerate(REGIONS):
            cells = [REGION_LABELS[region], "", "", ""]
            colour = None
            if vc is not None:
                ev = vc.evidence.regions[region]
                st = ev.state()  # the domain's one region state (reports and summary use it too)
                if st.kind == "not_examined":
                    cells[1:] = ["·", "·", "not examined"]
                    colour = GREY
                else:
                    cells[1] = "UMN" if st.umn else "–"
                    cells[2] = ("LMN" if st.lmn_clinical else "LMN (EMG)") if st.lmn else "–"
                    cells[3] = {"umn_lmn": "mixed", "umn": "UMN", "lmn": "LMN"}.get(st.kind, "no evidence")
            state = (tuple(cells), colour.name() if colour else None)
            if self._region_rows[i] == state:
                continue
            self._region_rows[i] = state
            for c, text in enumerate(cells):
                item = self.regions.item(i, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.regions.setItem(i, c, item)
                item.setText(text)
                item.setForeground(QBrush(colour) if colour else QBrush())
                if c == 3 and text == "mixed":
                    item.setBackground(QColor("#e9d5f5"))
                else:
                    item.setBackground(QBrush())

    def _fill_criteria(self, vc) -> None:
        """Reconcile the tree with the classification in place: rebuilding it on every
        keystroke re-laid out the whole panel (16 ms of the 16 ms budget). Each row's last
        applied spec is kept, so an unchanged row costs one tuple comparison, not a round of
        reads through the item."""
        tree = self.criteria
        tree.blockSignals(True)
        tops: list[tuple[_Spec, list[_Spec]]] = []
        if vc is None:
            tops.append((_spec("No visit yet"), []))
        else:
            for cid, crit in REGISTRY.items():
                res = vc.criteria[cid]
                children = []
                all_refs: set = set()
                for reason in criterion_lines(cid, vc):  # the reason first, then the evidence
                    refs = frozenset((r.kind, r.id, r.side) for r in reason.refs)
                    all_refs |= refs
                    children.append(_spec(reason.text, refs=refs))
                for p in res.pending:
                    words = pending_words((p,))
                    children.append(_spec(f"Pending: {words}", fg=_PENDING, tip=words))
                tops.append((_spec(f"{crit.label}: {res.verdict}", bold=True,
                                   fg=_MET if res.reached else _NOT_MET,
                                   tip=res.clause or "", refs=frozenset(all_refs)), children))
            if vc.not_examined:
                tops.append((_spec("Not examined: " + ", ".join(REGION_LABELS[r] for r in vc.not_examined)), []))
        shown = self._shown
        while tree.topLevelItemCount() > len(tops):
            tree.takeTopLevelItem(tree.topLevelItemCount() - 1)
            shown.pop()
        for i, (spec, children) in enumerate(tops):
            item = tree.topLevelItem(i)
            new = item is None
            if new:
                item = QTreeWidgetItem()
                tree.addTopLevelItem(item)
                shown.append((None, []))
            old_spec, old_children = shown[i]
            if spec != old_spec:
                self._apply(item, spec, old_spec)
            while item.childCount() > len(children):
                item.takeChild(item.childCount() - 1)
                old_children.pop()
            for j, cspec in enumerate(children):
                if j < len(old_children):
                    if cspec != old_children[j]:
                        self._apply(item.child(j), cspec, old_children[j])
                        old_children[j] = cspec
                else:
                    child = QTreeWidgetItem()
                    item.addChild(child)
                    self._apply(child, cspec, None)
                    old_children.append(cspec)
            shown[i] = (spec, old_children)
            if new:
                item.setExpanded(True)
        tree.blockSignals(False)

    def _apply(self, item: QTreeWidgetItem, spec: _Spec, old: _Spec | None) -> None:
        """Set an item's text, tooltip, colour, font and refs, touching only what changed
        since ``old`` (the spec last applied to this item, None for a new item)."""
        text, tip, fg, bold, refs = spec
        o_text, o_tip, o_fg, o_bold, o_refs = old if old is not None else (None, None, None, False, None)
        if text != o_text:
            item.setText(0, text)
        if tip != o_tip:
            item.setToolTip(0, tip)
        if fg != o_fg:
            if fg is None:
                item.setData(0, Qt.ItemDataRole.ForegroundRole, None)
            else:
                item.setForeground(0, QBrush(QColor(fg)))
        if bold != o_bold:
            item.setFont(0, self._bold if bold else QFont())
        if refs != o_refs:
            item.setData(0, RefsRole, refs)

    def _fill_scores(self, vc) -> None:
        for r, (value, tip) in enumerate(score_rows(vc)):
            item = self.scores.item(r, 1)
            if item.text() != value:  # an unchanged cell is not repainted
                item.setText(value)
                item.setForeground(QBrush(GREY) if value == NOT_RECORDED else QBrush())
            if item.toolTip() != tip:
                item.setToolTip(tip)

    def score_text(self, name: str) -> str:
        """The value shown beside ``name`` (one of SCORE_ROWS) in the scores table."""
        return self.scores.item(SCORE_ROWS.index(name), 1).text()

    def _on_select(self) -> None:
        items = self.criteria.selectedItems()
        full = items[0].toolTip(0) or items[0].text(0) if items else ""
        if full != self.reason_text.text():
            self.reason_text.setText(full)
            self.reason_text.setVisible(bool(full))
        refs = set()
        for it in items:
            refs |= set(it.data(0, RefsRole) or ())
        self.refs_selected.emit(refs)

    # test and screenshot helpers
    def warnings_shown(self) -> tuple[str, ...]:
        """The warnings the panel shows (empty while the box is hidden)."""
        return self._warnings if not self.warnings_box.isHidden() else ()

    def criterion_text(self, cid: str) -> str:
        label = REGISTRY[cid].label
        for i in range(self.criteria.topLevelItemCount()):
            t = self.criteria.topLevelItem(i).text(0)
            if t.startswith(label + ":"):
                return t
        return ""


def score_rows(vc) -> list[tuple[str, str]]:
    """(value, tooltip) for each of SCORE_ROWS, from the presentation package's rows (the
    reports and the summary print the same); ``·`` where nothing is recorded, all empty without
    a visit."""
    if vc is None:
        return [("", "")] * len(SCORE_ROWS)
    from desktop.present.scores import score_rows as rows

    # The tooltip repeats the value with the full label: the narrow panel may cut it short.
    return [(v, "" if v == NOT_RECORDED else f"{label}: {v}") for label, v in rows(vc)]
