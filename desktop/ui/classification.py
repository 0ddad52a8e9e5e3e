"""Live classification panel: regions UMN/LMN/mixed, the criteria with reasons, stages, scores.

Rebuilt from ``session.classification`` on every edit. Selecting a reason emits the findings
behind it (``refs_selected``) so the grid can highlight those cells.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.catalogue import REGIONS
from domain.criteria import REGISTRY

from .grid import GREY, REGION_LABELS

RefsRole = Qt.ItemDataRole.UserRole + 1
_SHOWN = 90  # characters of a reason shown in the tree row
_MET = QColor("#1b6e20")
_PENDING = QColor("#8a5a00")


class ClassificationView(QWidget):
    refs_selected = Signal(object)  # set of (kind, id, side)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("classificationPanel")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        title = QLabel("<b>Classification</b> (updates as you type)")
        lay.addWidget(title)

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
        self.criteria.itemSelectionChanged.connect(self._on_select)
        lay.addWidget(self.criteria, 1)

        self.scores = QLabel()
        self.scores.setObjectName("scoresLabel")
        self.scores.setWordWrap(True)
        self.scores.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.scores)
        self._bold = QFont()
        self._bold.setBold(True)
        session.classified.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------
    def refresh(self) -> None:
        vc = self.session.classification
        self._fill_regions(vc)
        self._fill_criteria(vc)
        self._fill_scores(vc)

    def _fill_regions(self, vc) -> None:
        for i, region in enumerate(REGIONS):
            cells = [REGION_LABELS[region], "", "", ""]
            colour = None
            if vc is not None:
                ev = vc.evidence.regions[region]
                umn = ev.umn.get("el_escorial", False)
                lmn = ev.lmn("el_escorial") or ev.lmn("awaji")
                if not ev.examined:
                    cells[1:] = ["·", "·", "not examined"]
                    colour = GREY
                else:
                    cells[1] = "UMN" if umn else "–"
                    cells[2] = ("LMN" if ev.lmn("el_escorial") else "LMN (EMG)") if lmn else "–"
                    cells[3] = "mixed" if umn and lmn else ("UMN" if umn else ("LMN" if lmn else "no evidence"))
            for c, text in enumerate(cells):
                item = self.regions.item(i, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.regions.setItem(i, c, item)
                if item.text() == text and c != 3:
                    continue
                item.setText(text)
                item.setForeground(QBrush(colour) if colour else QBrush())
                if c == 3 and text == "mixed":
                    item.setBackground(QColor("#e9d5f5"))
                else:
                    item.setBackground(QBrush())

    def _fill_criteria(self, vc) -> None:
        """Reconcile the tree with the classification in place: rebuilding it on every
        keystroke re-laid out the whole panel (16 ms of the 16 ms budget)."""
        tree = self.criteria
        tree.blockSignals(True)
        tops: list[tuple[dict, list[dict]]] = []
        if vc is None:
            tops.append(({"text": "No visit yet"}, []))
        else:
            for cid, crit in REGISTRY.items():
                res = vc.criteria[cid]
                verdict = res.verdict
                children = []
                all_refs: set = set()
                for reason in res.reasons:
                    refs = frozenset((r.kind, r.id, r.side) for r in reason.refs)
                    all_refs |= refs
                    children.append({"text": reason.text, "refs": refs})
                for p in res.pending:
                    children.append({"text": f"Pending: {p}", "fg": _PENDING, "tip": p})
                tops.append(({
                    "text": f"{crit.label}: {verdict}", "bold": True,
                    "fg": _MET if res.reached else QColor("#333333"),
                    "tip": res.clause or None, "refs": frozenset(all_refs),
                }, children))
            if vc.not_examined:
                tops.append(({"text": "Not examined: " + ", ".join(REGION_LABELS[r] for r in vc.not_examined)}, []))
        while tree.topLevelItemCount() > len(tops):
            tree.takeTopLevelItem(tree.topLevelItemCount() - 1)
        for i, (spec, children) in enumerate(tops):
            item = tree.topLevelItem(i)
            new = item is None
            if new:
                item = QTreeWidgetItem()
                tree.addTopLevelItem(item)
            self._apply(item, spec)
            while item.childCount() > len(children):
                item.takeChild(item.childCount() - 1)
            for j, cspec in enumerate(children):
                child = item.child(j)
                if child is None:
                    child = QTreeWidgetItem()
                    item.addChild(child)
                self._apply(child, cspec)
            if new:
                item.setExpanded(True)
        tree.blockSignals(False)

    def _apply(self, item: QTreeWidgetItem, spec: dict) -> None:
        """Set an item's text, tooltip, colour, font and refs, touching only what changed."""
        full = spec["text"]
        # Shaping and eliding ~45 long reasons on every repaint was most of the panel's cost;
        # show the first words (the panel is narrow) and the whole reason in the tooltip.
        text = full if len(full) <= _SHOWN else full[: _SHOWN - 1] + "…"
        if item.text(0) != text:
            item.setText(0, text)
        tip = spec.get("tip", full)
        if item.toolTip(0) != (tip or ""):
            item.setToolTip(0, tip or "")
        fg = spec.get("fg")
        if fg is not None and item.foreground(0).color() != fg:
            item.setForeground(0, QBrush(fg))
        elif fg is None and item.data(0, Qt.ItemDataRole.ForegroundRole) is not None:
            item.setData(0, Qt.ItemDataRole.ForegroundRole, None)
        bold = spec.get("bold", False)
        if item.font(0).bold() != bold:
            item.setFont(0, self._bold if bold else QFont())
        refs = spec.get("refs")
        if item.data(0, RefsRole) != refs:
            item.setData(0, RefsRole, refs)

    def _fill_scores(self, vc) -> None:
        if vc is None:
            self.scores.setText("")
            return
        def fmt(v, nd=2):
            if v is None:
                return "<span style='color:#9a9a9a'>·</span>"
            return f"{v:.{nd}f}" if isinstance(v, float) else str(v)
        a = vc.alsfrs_r
        alsfrs = (f"{a['total']}/48 (bulbar {a['bulbar']}, fine {a['fine_motor']}, gross "
                  f"{a['gross_motor']}, resp {a['respiratory']})") if a else fmt(None)
        phen = vc.phenotype
        plabel = phen.name + (" (provisional)" if phen.provisional else "")
        rows = [
            ("King's (clinical)", vc.kings_clinical),
            ("King's (ALSFRS-R)", fmt(vc.kings_alsfrs)),
            ("MiToS", fmt(vc.mitos)),
            ("ALSFRS-R", alsfrs),
            ("ΔFS (onset)", fmt(vc.delta_fs)),
            ("Slope since last", fmt(vc.alsfrs_r_slope)),
            ("MRC sum", fmt(vc.mrc_sum)),
            ("UMN score", fmt(vc.umn_score)),
            ("Phenotype", plabel),
            ("Progression", "confirmed" if vc.progression else "not shown"),
        ]
        html = "<table cellspacing=2>" + "".join(
            f"<tr><td><b>{k}</b>&nbsp;</td><td>{v}</td></tr>" for k, v in rows) + "</table>"
        if html != self.scores.text():  # a rich-text label re-lays out on every setText
            self.scores.setText(html)

    def _on_select(self) -> None:
        items = self.criteria.selectedItems()
        refs = set()
        for it in items:
            refs |= set(it.data(0, RefsRole) or ())
        self.refs_selected.emit(refs)

    # test and screenshot helpers
    def criterion_text(self, cid: str) -> str:
        label = REGISTRY[cid].label
        for i in range(self.criteria.topLevelItemCount()):
            t = self.criteria.topLevelItem(i).text(0)
            if t.startswith(label + ":"):
                return t
        return ""
