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
from domain.criteria import CATEGORY_LABELS, REGISTRY

from .grid import GREY, REGION_LABELS

RefsRole = Qt.ItemDataRole.UserRole + 1
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
        self.criteria.setWordWrap(True)
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
                item.setText(text)
                item.setForeground(QBrush(colour) if colour else QBrush())
                if c == 3 and text == "mixed":
                    item.setBackground(QColor("#e9d5f5"))
                else:
                    item.setBackground(QBrush())

    def _fill_criteria(self, vc) -> None:
        tree = self.criteria
        tree.blockSignals(True)
        expanded = {tree.topLevelItem(i).text(0).split(":")[0]
                    for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).isExpanded()}
        tree.clear()
        if vc is None:
            tree.addTopLevelItem(QTreeWidgetItem(["No visit yet"]))
            tree.blockSignals(False)
            return
        for cid, crit in REGISTRY.items():
            res = vc.criteria[cid]
            if res.category is not None:
                verdict = CATEGORY_LABELS[res.category]
            else:
                verdict = "met" if res.met else "not met"
            top = QTreeWidgetItem([f"{crit.label}: {verdict}"])
            top.setFont(0, self._bold)
            top.setForeground(0, QBrush(_MET if res.reached else QColor("#333333")))
            all_refs = set()
            for reason in res.reasons:
                refs = {(r.kind, r.id, r.side) for r in reason.refs}
                all_refs |= refs
                child = QTreeWidgetItem([reason.text])
                child.setData(0, RefsRole, refs)
                child.setToolTip(0, reason.text)
                top.addChild(child)
            for p in res.pending:
                child = QTreeWidgetItem([f"Pending: {p}"])
                child.setForeground(0, QBrush(_PENDING))
                child.setToolTip(0, p)
                top.addChild(child)
            if res.clause:
                top.setToolTip(0, res.clause)
            top.setData(0, RefsRole, all_refs)
            tree.addTopLevelItem(top)
            top.setExpanded(not expanded or crit.label in expanded)
        if vc.not_examined:
            tree.addTopLevelItem(QTreeWidgetItem(
                ["Not examined: " + ", ".join(REGION_LABELS[r] for r in vc.not_examined)]))
        tree.blockSignals(False)

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
        plabel = phen.label.replace("_", " ") + (" (provisional)" if phen.provisional else "")
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
        self.scores.setText("<table cellspacing=2>" + "".join(
            f"<tr><td><b>{k}</b>&nbsp;</td><td>{v}</td></tr>" for k, v in rows) + "</table>")

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
