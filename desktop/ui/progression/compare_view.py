"""Compare two visits: pick an earlier and a later visit, see what changed.

The comparison is :func:`desktop.compare.compare_visits` (Qt-free); this widget only lists it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.compare import VisitComparison, compare_visits
from domain.case import Case
from domain.classify import CaseClassification

SECTIONS: tuple[tuple[str, str], ...] = (
    ("new_regions", "Regions newly involved"),
    ("region_changes", "Regions that changed"),
    ("weaker", "Muscles weaker (MRC fell)"),
    ("newly_wasted", "Muscles newly wasted"),
    ("wasting_worse", "Muscles more wasted"),
    ("not_comparable", "Examined now, not at the earlier visit (cannot be compared)"),
    ("new_umn_signs", "New UMN signs"),
    ("criteria", "Criteria"),
    ("scores", "Scores, stages, FVC and weight"),
)
NOTHING = "none"


def comparison_lines(cmp: VisitComparison) -> dict[str, list[tuple[str, bool]]]:
    """Section -> lines as (text, changed). Criteria and scores list every row, the unchanged
    ones marked as such, so the absence of change is stated rather than implied."""
    out: dict[str, list[tuple[str, bool]]] = {
        "new_regions": [(r.capitalize(), True) for r in cmp.new_regions],
        "region_changes": [(c.text, True) for c in cmp.region_changes],
        "weaker": [(f"{m.label}: MRC {m.before} → {m.after}", True) for m in cmp.weaker],
        "newly_wasted": [(f"{m.label}: wasting {m.before} → {m.after}", True) for m in cmp.newly_wasted],
        "wasting_worse": [(f"{m.label}: wasting {m.before} → {m.after}", True) for m in cmp.wasting_worse],
        "not_comparable": [(", ".join(cmp.not_comparable), False)] if cmp.not_comparable else [],
        "new_umn_signs": [(u.text, True) for u in cmp.new_umn_signs],
        "criteria": [
            (f"{c.label}: {c.before} → {c.after}" if c.changed else f"{c.label}: {c.after} (unchanged)",
             c.changed)
            for c in cmp.criteria
        ],
        "scores": [
            (s.text if s.changed else f"{s.name}: {s.after or 'not recorded'} (unchanged)", s.changed)
            for s in cmp.scores
        ],
    }
    return out


class CompareView(QWidget):
    """Two visit pickers (earlier, later) over one patient and the list of what changed."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.case: Case | None = None
        self.result: CaseClassification | None = None
        self.comparison: VisitComparison | None = None

        self.title = QLabel("")
        self.title.setStyleSheet("font-size: 12pt; font-weight: bold;")
        self.before_combo = QComboBox()
        self.after_combo = QComboBox()
        self.before_combo.currentIndexChanged.connect(self._refresh)
        self.after_combo.currentIndexChanged.connect(self._refresh)
        self.message = QLabel("")
        self.message.setStyleSheet("color: #777777; font-size: 11pt; padding: 8px;")
        self.message.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setStyleSheet("QTreeWidget { font-size: 10pt; }")

        pick = QHBoxLayout()
        pick.addWidget(QLabel("Earlier visit"))
        pick.addWidget(self.before_combo)
        pick.addSpacing(16)
        pick.addWidget(QLabel("Later visit"))
        pick.addWidget(self.after_combo)
        pick.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.title)
        lay.addLayout(pick)
        lay.addWidget(self.message)
        lay.addWidget(self.tree, 1)
        self.set_patient(None, None)

    def set_patient(self, case: Case | None, classification: CaseClassification | None,
                    before: int | None = None, after: int | None = None) -> None:
        """Show a patient; by default compare the last two visits."""
        if (case is None) != (classification is None):
            raise ValueError("pass a case with its classification, or neither")
        self.case, self.result = case, classification
        n = len(classification.visits) if classification else 0
        for combo in (self.before_combo, self.after_combo):
            combo.blockSignals(True)
            combo.clear()
            if classification:
                combo.addItems([vc.date.isoformat() for vc in classification.visits])
            combo.setEnabled(n > 1)
            combo.blockSignals(False)
        self.title.setText("Compare visits" + (f" · {case.patient.display_name} ({case.patient.id})" if case else ""))
        if n >= 2:
            self.before_combo.blockSignals(True)
            self.before_combo.setCurrentIndex(n - 2 if before is None else before)
            self.before_combo.blockSignals(False)
            self.after_combo.blockSignals(True)
            self.after_combo.setCurrentIndex(n - 1 if after is None else after)
            self.after_combo.blockSignals(False)
        self._refresh()

    def select(self, before: int, after: int) -> None:
        self.before_combo.setCurrentIndex(before)
        self.after_combo.setCurrentIndex(after)
        self._refresh()

    def _show_message(self, text: str) -> None:
        self.comparison = None
        self.tree.clear()
        self.tree.setVisible(False)
        self.message.setText(text)
        self.message.setVisible(True)

    def _refresh(self, *_):
        if self.case is None or self.result is None:
            self._show_message("No patient selected")
            return
        n = len(self.result.visits)
        if n == 0:
            self._show_message("No visits recorded: nothing to compare.")
            return
        if n == 1:
            self._show_message(
                f"Only one visit ({self.result.visits[0].date.isoformat()}): comparing needs two."
            )
            return
        b, a = self.before_combo.currentIndex(), self.after_combo.currentIndex()
        if b == a:
            self._show_message("Pick two different visits.")
            return
        if b > a:
            b, a = a, b  # always earlier → later
        cmp = compare_visits(self.result.visits[b], self.result.visits[a],
                             self.case.visits[b], self.case.visits[a])
        self.comparison = cmp
        self.message.setVisible(cmp.nothing_changed)
        self.message.setText(f"Nothing changed between {cmp.before} and {cmp.after}." if cmp.nothing_changed else "")
        self.tree.setVisible(True)
        self.tree.clear()
        bold = QFont()
        bold.setBold(True)
        grey = QBrush(QColor("#888888"))
        lines = comparison_lines(cmp)
        for key, heading in SECTIONS:
            top = QTreeWidgetItem([heading])
            top.setFont(0, bold)
            top.setData(0, Qt.ItemDataRole.UserRole, key)
            self.tree.addTopLevelItem(top)
            entries = lines[key] or [(NOTHING, False)]
            for text, changed in entries:
                child = QTreeWidgetItem(["    " + text])
                child.setData(0, Qt.ItemDataRole.UserRole, text)
                if not changed:
                    child.setForeground(0, grey)
                top.addChild(child)
            top.setExpanded(True)
        self.title.setText(f"Compare visits · {self.case.patient.display_name} ({self.case.patient.id}) · "
                           f"{cmp.before} → {cmp.after}")

    def lines(self, section: str) -> list[str]:
        """The texts listed under one section, as shown."""
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.data(0, Qt.ItemDataRole.UserRole) == section:
                return [top.child(j).data(0, Qt.ItemDataRole.UserRole) for j in range(top.childCount())]
        return []
