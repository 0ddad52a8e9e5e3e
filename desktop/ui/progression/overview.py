"""The patient overview: plots over time, the region-by-visit matrix with the order of spread,
the muscle-by-visit MRC heatmap, the highest criteria category ever met and the phenotype.

Everything shown is read from :class:`domain.classify.CaseClassification` and the case itself.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.compare import criterion_text
from domain.case import Case
from domain.catalogue import Catalogue
from domain.classify import CaseClassification
from domain.criteria import REGISTRY

from .models import REGION_HEX, MrcHeatmapTableModel, RegionMatrixTableModel
from .plots import ProgressionPlots

NO_VISITS = "No visits recorded"


def phenotype_text(result: CaseClassification) -> tuple[str, str, str]:
    """(label, status, reason) of the phenotype at the latest visit."""
    if not result.visits:
        return NO_VISITS, "", ""
    ph = result.visits[-1].phenotype
    label = ph.name
    if ph.provisional:
        status = f"provisional, final on {ph.final_after.isoformat()}" if ph.final_after else \
            "provisional (no final date: onset date not recorded)" if ph.label != "undetermined" else "provisional"
    else:  # a label without a window (classic, predominant) needs no tag
        status = f"final since {ph.final_after.isoformat()}" if ph.final_after else ""
    return label, status, ph.reason


def highest_text(result: CaseClassification, cid: str) -> tuple[str, str]:
    """(category, date) of the highest result ever reached under one framework."""
    res, date = result.highest.get(cid, (None, None))
    if not result.visits:
        return NO_VISITS, ""
    if res is None:
        return "Not met at any visit", ""
    return criterion_text(res).capitalize(), f"first on {date.isoformat()}" if date else ""


def spread_text(result: CaseClassification) -> str:
    if not result.visits:
        return ""
    timeline = {t.region: t for t in result.timeline}
    if not result.spread_order:
        return "Order of spread: no region involved yet."
    parts = []
    for r in result.spread_order:
        t = timeline[r]
        bit = r.capitalize()
        if t.onset:
            bit += " (onset)"
        elif t.first_involved:
            bit += f" ({t.first_involved.isoformat()}"
            bit += ", non-contiguous)" if t.contiguous is False else ")"
        parts.append(bit)
    return "Order of spread: " + " → ".join(parts)


def _section(title: str) -> QLabel:
    lab = QLabel(f"<b>{title}</b>")
    lab.setStyleSheet("font-size: 11pt; margin-top: 4px;")
    return lab


def _table() -> QTableView:
    t = QTableView()
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    t.setWordWrap(False)
    t.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)  # the latest visit whole
    t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    t.verticalHeader().setDefaultSectionSize(20)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    t.horizontalHeader().setDefaultSectionSize(78)
    t.setStyleSheet("QTableView { gridline-color: #d0d0d0; font-size: 9pt; }")
    return t


class _Stack(QStackedWidget):
    """A table, or a clear message when there is nothing to show."""

    def __init__(self, table: QTableView):
        super().__init__()
        self.table = table
        self.message = QLabel("")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("color: #777777; font-size: 11pt; padding: 12px;")
        self.addWidget(table)
        self.addWidget(self.message)

    def show_message(self, text: str | None) -> None:
        self.message.setText(text or "")
        self.setCurrentIndex(1 if text else 0)


class OverviewView(QWidget):
    """The patient overview: plots, region-by-visit matrix, MRC heatmap, highest criteria and
    phenotype. Call :meth:`set_patient` with a case and its classification (``None, None``
    clears it)."""

    def __init__(self, parent: QWidget | None = None, *, catalogue: Catalogue | None = None):
        super().__init__(parent)
        if catalogue is None:
            from desktop.resources import load_catalogue

            catalogue = load_catalogue()
        self._catalogue = catalogue
        self.case: Case | None = None
        self.result: CaseClassification | None = None

        self.title = QLabel("")
        self.title.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.plots = ProgressionPlots()

        # Summary: highest category per framework, phenotype.
        summary = QFrame()
        summary.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(summary)
        grid.setContentsMargins(8, 6, 8, 6)
        grid.setVerticalSpacing(2)
        grid.addWidget(QLabel("<b>Highest category ever met</b>"), 0, 0, 1, 3)
        self.highest_labels: dict[str, QLabel] = {}
        self.highest_dates: dict[str, QLabel] = {}
        for i, (cid, c) in enumerate(REGISTRY.items(), start=1):
            grid.addWidget(QLabel(c.label), i, 0)
            self.highest_labels[cid] = QLabel("")
            self.highest_labels[cid].setStyleSheet("font-weight: bold;")
            self.highest_dates[cid] = QLabel("")
            self.highest_dates[cid].setStyleSheet("color: #555555;")
            grid.addWidget(self.highest_labels[cid], i, 1)
            grid.addWidget(self.highest_dates[cid], i, 2)
        n = len(REGISTRY) + 1
        grid.addWidget(QLabel("<b>Phenotype</b>"), n, 0)
        self.phenotype_label = QLabel("")
        self.phenotype_label.setStyleSheet("font-weight: bold;")
        self.phenotype_status = QLabel("")
        self.phenotype_status.setStyleSheet("color: #555555;")
        grid.addWidget(self.phenotype_label, n, 1)
        grid.addWidget(self.phenotype_status, n, 2)
        grid.setColumnStretch(2, 1)

        self.region_model = RegionMatrixTableModel(self)
        self.region_table = _table()
        self.region_table.setModel(self.region_model)
        self.region_table.horizontalHeader().setDefaultSectionSize(100)
        self.region_table.verticalHeader().setDefaultSectionSize(24)
        self.region_table.horizontalHeader().setFixedHeight(24)
        self.region_table.setFixedHeight(
            24 + 4 * 24 + 4 + self.region_table.horizontalScrollBar().sizeHint().height()
        )
        self.region_stack = _Stack(self.region_table)
        self.region_stack.setFixedHeight(self.region_table.height())
        self.spread_label = QLabel("")
        self.spread_label.setWordWrap(True)
        legend = QLabel(
            f"<span style='background:{REGION_HEX['umn']};color:white'>&nbsp;UMN&nbsp;</span> "
            f"<span style='background:{REGION_HEX['lmn']};color:white'>&nbsp;LMN&nbsp;</span> "
            f"<span style='background:{REGION_HEX['both']};color:white'>&nbsp;UMN+LMN&nbsp;</span> "
            "<span style='background:#eeeeee;color:#888888'>&nbsp;not examined&nbsp;</span> "
            "&nbsp;★ first involved (UMN and LMN as Awaji-shima counts them)"
        )
        legend.setStyleSheet("font-size: 9pt;")

        self.heatmap_model = MrcHeatmapTableModel(self)
        self.heatmap_table = _table()
        self.heatmap_table.setModel(self.heatmap_model)
        self.heatmap_table.horizontalHeader().setDefaultSectionSize(78)
        self.heatmap_stack = _Stack(self.heatmap_table)
        hm_legend = QLabel("MRC grade: white = 5, shading to dark red = 0; grey hatched · = not examined")
        hm_legend.setStyleSheet("font-size: 9pt;")

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(4, 0, 0, 0)
        rl.addWidget(summary)
        rl.addWidget(_section("Regions by visit"))
        rl.addWidget(self.region_stack)
        rl.addWidget(legend)
        rl.addWidget(self.spread_label)
        rl.addWidget(_section("MRC grades by visit"))
        rl.addWidget(self.heatmap_stack, 1)
        rl.addWidget(hm_legend)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.plots)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.splitter = splitter

        # Wide (its own window, a big screen): plots beside the tables. Narrow (a tab beside the
        # visit editor): plots above the tables, scrolled vertically; see _arrange.
        self._body = QWidget()
        body = QVBoxLayout(self._body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(splitter)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self._body)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.title)
        lay.addWidget(self.scroll, 1)
        self.set_patient(None, None)

    def set_patient(self, case: Case | None, classification: CaseClassification | None) -> None:
        if (case is None) != (classification is None):
            raise ValueError("pass a case with its classification, or neither")
        if case is not None and len(case.visits) != len(classification.visits):
            raise ValueError("the classification does not belong to this case")
        self.case, self.result = case, classification
        self.plots.set_data(case, classification)
        self.region_model.set_rows(classification)
        self.heatmap_model.set_rows(case, classification, self._catalogue)
        if case is None:
            self.title.setText("No patient selected")
            for cid in REGISTRY:
                self.highest_labels[cid].setText("")
                self.highest_dates[cid].setText("")
            self.phenotype_label.setText("")
            self.phenotype_status.setText("")
            self.spread_label.setText("")
            self.region_stack.show_message("No patient selected")
            self.heatmap_stack.show_message("No patient selected")
            return
        p = case.patient
        n = len(case.visits)
        bits = [f"{p.display_name} ({p.id})"]
        if p.onset_date:
            onset = f"onset {p.onset_date.isoformat()}"
            if p.onset_region:
                onset += f" ({p.onset_region.replace('_', ' ')})"
            bits.append(onset)
        if p.death_date:
            died = f"died {p.death_date.isoformat()}"
            if p.birth_date:
                years = p.death_date.year - p.birth_date.year - (
                    (p.death_date.month, p.death_date.day) < (p.birth_date.month, p.birth_date.day))
                died += f" (age {years})"
            bits.append(died)
        bits.append(f"{n} visit{'s' if n != 1 else ''}" if n else NO_VISITS.lower())
        self.title.setText(" · ".join(bits))
        for cid in REGISTRY:
            cat, date = highest_text(classification, cid)
            self.highest_labels[cid].setText(cat)
            self.highest_dates[cid].setText(date)
        label, status, reason = phenotype_text(classification)
        self.phenotype_label.setText(label)
        self.phenotype_status.setText(status)
        self.phenotype_label.setToolTip(reason)
        self.spread_label.setText(spread_text(classification))
        self.region_stack.show_message(None if n else NO_VISITS)
        if not n:
            self.heatmap_stack.show_message(NO_VISITS)
        elif not self.heatmap_model.rowCount():
            self.heatmap_stack.show_message("No MRC grades recorded at any visit")
        else:
            self.heatmap_stack.show_message(None)
        self._scroll_to_latest()
        QTimer.singleShot(0, self, self._scroll_to_latest)

    def _scroll_to_latest(self) -> None:
        """Show the most recent visits: scroll both tables to their last column (again once the
        widget has its size, since the scroll range depends on it)."""
        for table in (self.region_table, self.heatmap_table):
            bar = table.horizontalScrollBar()
            bar.setValue(bar.maximum())

    def showEvent(self, event):  # noqa: N802 (Qt name)
        super().showEvent(event)
        QTimer.singleShot(0, self, self._scroll_to_latest)

    WIDE = 1250  # px: below this the plots go above the tables
    NARROW_HEIGHT = 1400  # px of content when stacked: three plot rows and both tables

    def _arrange(self) -> None:
        wide = self.width() >= self.WIDE
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.splitter.orientation() != orientation:
            self.splitter.setOrientation(orientation)
            half = self.NARROW_HEIGHT // 2
            self.splitter.setSizes([3000, 2000] if wide else [half + 100, half - 100])
        self._body.setMinimumHeight(0 if wide else self.NARROW_HEIGHT)

    def resizeEvent(self, event):  # noqa: N802
        self._arrange()
        super().resizeEvent(event)
        QTimer.singleShot(0, self, self._scroll_to_latest)


class ProgressionView(QWidget):
    """What the main window embeds beside the visit editor: the overview, the body map and the
    visit comparison as tabs over one patient. ``set_patient`` updates the overview at once and
    the other two when their tab is first shown, so opening a patient costs one view."""

    TABS = ("Overview", "Body map", "Compare visits")

    def __init__(self, parent: QWidget | None = None, *, catalogue: Catalogue | None = None):
        super().__init__(parent)
        from .bodymap_view import BodyMapView
        from .compare_view import CompareView

        if catalogue is None:
            from desktop.resources import load_catalogue

            catalogue = load_catalogue()
        self.overview = OverviewView(catalogue=catalogue)
        self.bodymap = BodyMapView(catalogue=catalogue)
        self.compare = CompareView()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for w, name in zip((self.overview, self.bodymap, self.compare), self.TABS):
            self.tabs.addTab(w, name)
        self._stale: set[QWidget] = set()
        self.tabs.currentChanged.connect(self._feed_current)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tabs)
        self.case: Case | None = None
        self.result: CaseClassification | None = None

    def set_patient(self, case: Case | None, classification: CaseClassification | None) -> None:
        self.overview.set_patient(case, classification)  # validates the pair first
        self.case, self.result = case, classification
        self._stale = {self.bodymap, self.compare}
        self._feed_current()

    def _feed_current(self, *_):
        w = self.tabs.currentWidget()
        if w in self._stale:
            self._stale.discard(w)
            w.set_patient(self.case, self.result)
