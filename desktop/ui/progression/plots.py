"""Plots over time for the patient overview, drawn with pyqtgraph.

Why pyqtgraph and not QtCharts:

- QtCharts ships only in ``PySide6-Addons`` (+153 MiB installed, and the installer bundle grows
  by as much), while Motorchart depends on ``PySide6-Essentials`` alone.
- pyqtgraph is pure Python on top of Qt's ``QGraphicsScene`` (plus numpy), a few MiB, maintained
  (regular releases, supports PySide6 6.x), and has a date axis (``DateAxisItem``) and legends.
- It renders with no display: under ``QT_QPA_PLATFORM=offscreen`` ``widget.grab()`` produces the
  plot, so the tests and ``motorchart screenshots`` need nothing more than the app itself.
- Its items are ordinary objects whose data can be read back (``PlotDataItem.getData()``), so the
  tests check what is plotted, not pixels.

The numbers plotted all come from :class:`domain.classify.CaseClassification` (scores, stages)
or from the case itself (FVC, weight): nothing here computes a clinical value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QVBoxLayout, QWidget

from domain.case import Case
from domain.classify import CaseClassification
from domain.scores import DAYS_PER_MONTH

pg.setConfigOptions(antialias=True, background="w", foreground="#333333")

KINGS_ORDER: tuple[str, ...] = ("1", "2A", "2B", "3", "4A", "4B", "4A+4B", "5")
"""King's stages in the order they are drawn on the y axis (display order only)."""

_PALETTE = {
    "total": "#1f3b73",
    "bulbar": "#c0392b",
    "fine_motor": "#d68910",
    "gross_motor": "#1e8449",
    "respiratory": "#7d3c98",
    "delta_fs": "#1f3b73",
    "slope": "#c0392b",
    "mrc_sum": "#1e8449",
    "umn_score": "#7d3c98",
    "fvc": "#117a8b",
    "weight": "#6e4b2a",
    "kings_clinical": "#1f3b73",
    "kings_alsfrs": "#d68910",
    "mitos": "#c0392b",
}


@dataclass(frozen=True)
class Milestone:
    """A dated milestone of the patient, as marked on the plots: ``key`` is the field's stem
    (``gastrostomy`` for ``gastrostomy_date`` and ``gastrostomy_note``), ``label`` its short name
    on the plot ("Gastrostomy refused" when the note records a refusal)."""

    key: str
    label: str
    date: dt.date
    note: str | None = None


MILESTONE_KINDS: tuple[tuple[str, str], ...] = (
    ("gastrostomy", "Gastrostomy"), ("niv", "NIV"), ("tracheostomy", "Tracheostomy"), ("death", "Death"),
)
"""The patient's milestones (``<key>_date``, ``<key>_note``) and their short names."""


def patient_milestones(patient) -> tuple[Milestone, ...]:
    """The milestones the patient has a date for, earliest first (same day: in the order of
    :data:`MILESTONE_KINDS`)."""
    out = []
    for key, name in MILESTONE_KINDS:
        date = getattr(patient, f"{key}_date", None)
        if date is None:
            continue
        note = getattr(patient, f"{key}_note", None)
        refused = key != "death" and note is not None and "refus" in note.casefold()
        out.append(Milestone(key, f"{name} refused" if refused else name, date, note))
    return tuple(sorted(out, key=lambda m: m.date))


@dataclass(frozen=True)
class Series:
    """One plotted line: its key, legend name, and the (date, value) points that have a value."""

    key: str
    name: str
    points: tuple[tuple[dt.date, float], ...]
    step: bool = False  # True: drawn as one horizontal segment per interval (a rate between visits)


@dataclass(frozen=True)
class PlotSpec:
    key: str
    title: str
    y_label: str
    y_range: tuple[float, float] | None
    series: tuple[Series, ...]
    y_ticks: tuple[tuple[float, str], ...] | None = None
    zero_based: bool = False  # the axis starts at 0, so a small change is not drawn as a large one

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)


class MonthAxis(pg.AxisItem):
    """The time axis, labelled by month ("2024-03") at whole months, as many labels as fit
    (every plot, the narrow left column too, says which months it shows; the PDF does the same)."""

    STEPS = (1, 2, 3, 4, 6, 12, 24, 36)
    LABEL_WIDTH = 52  # pixels a "2024-03" label needs, with its gap

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803  (pyqtgraph's names)
        if not maxVal > minVal:
            return []
        utc = dt.timezone.utc
        a = dt.datetime.fromtimestamp(minVal, utc)
        b = dt.datetime.fromtimestamp(maxVal, utc)
        months = (b.year - a.year) * 12 + b.month - a.month + 1
        fit = max(2, int(size / self.LABEL_WIDTH))
        step = next((s for s in self.STEPS if months / s <= fit + 1), self.STEPS[-1])
        y, m = a.year, a.month
        m0 = ((y * 12 + m - 1 + step - 1) // step) * step  # the first month start on the step
        ticks = []
        while True:
            ty, tm = divmod(m0, 12)
            t = dt.datetime(ty, tm + 1, 1, tzinfo=utc).timestamp()
            if t > maxVal:
                break
            if t >= minVal:
                ticks.append(t)
            m0 += step
        return [(step * DAYS_PER_MONTH * 86400, ticks)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        return [dt.datetime.fromtimestamp(v, dt.timezone.utc).strftime("%Y-%m") for v in values]


def _ts(d: dt.date) -> float:
    return dt.datetime(d.year, d.month, d.day, 12, tzinfo=dt.timezone.utc).timestamp()


def plot_specs(case: Case, result: CaseClassification) -> tuple[PlotSpec, ...]:
    """What to plot, read from the classification and the case (no computation of scores)."""
    vcs = result.visits
    visits = case.visits

    def pts(get) -> tuple[tuple[dt.date, float], ...]:
        out = []
        for vc, v in zip(vcs, visits):
            val = get(vc, v)
            if val is not None:
                out.append((vc.date, float(val)))
        return tuple(out)

    def sub(name):
        return lambda vc, v: vc.alsfrs_r[name] if vc.alsfrs_r else None

    # The slope belongs to the interval ending at a visit: from the previous visit with ALSFRS-R.
    slope_pts: list[tuple[dt.date, float]] = []
    prev: dt.date | None = None
    for vc in vcs:
        if vc.alsfrs_r is None:
            continue
        if prev is not None and vc.alsfrs_r_slope is not None:
            slope_pts += [(prev, vc.alsfrs_r_slope), (vc.date, vc.alsfrs_r_slope)]
        prev = vc.date

    kings_pos = {k: float(i) for i, k in enumerate(KINGS_ORDER)}
    return (
        PlotSpec("alsfrs_total", "ALSFRS-R total", "points", (0, 48),
                 (Series("alsfrs_total", "Total (0-48)", pts(sub("total"))),)),
        PlotSpec("alsfrs_subscores", "ALSFRS-R subscores", "points", (0, 12), (
            Series("alsfrs_bulbar", "Bulbar", pts(sub("bulbar"))),
            Series("alsfrs_fine_motor", "Fine motor", pts(sub("fine_motor"))),
            Series("alsfrs_gross_motor", "Gross motor", pts(sub("gross_motor"))),
            Series("alsfrs_respiratory", "Respiratory", pts(sub("respiratory"))),
        )),
        PlotSpec("decline", "ALSFRS-R rate of decline", "points/month", None, (
            Series("delta_fs", "ΔFS: (48 − total) / months since onset",
                   pts(lambda vc, v: vc.delta_fs)),
            Series("slope", "slope between visits: points lost / month",
                   tuple(slope_pts), step=True),
        )),
        PlotSpec("mrc_sum", "MRC sum score", "0-60", (0, 60),
                 (Series("mrc_sum", "MRC sum", pts(lambda vc, v: vc.mrc_sum)),)),
        PlotSpec("umn_score", "UMN score", "0-16", (0, 16),
                 (Series("umn_score", "UMN score", pts(lambda vc, v: vc.umn_score)),)),
        PlotSpec("fvc", "FVC", "% predicted", None,
                 (Series("fvc", "FVC % predicted", pts(lambda vc, v: v.fvc_percent)),), zero_based=True),
        PlotSpec("weight", "Weight", "kg", None,
                 (Series("weight", "Weight (kg)", pts(lambda vc, v: v.weight_kg)),), zero_based=True),
        PlotSpec("kings", "King's stage", "stage", (-0.3, len(KINGS_ORDER) - 0.7), (
            Series("kings_clinical", "clinical",
                   pts(lambda vc, v: kings_pos.get(vc.kings_clinical))),
            Series("kings_alsfrs", "from ALSFRS-R",
                   pts(lambda vc, v: kings_pos.get(vc.kings_alsfrs) if vc.kings_alsfrs else None)),
        ), y_ticks=tuple((float(i), k) for i, k in enumerate(KINGS_ORDER))),
        PlotSpec("mitos", "MiToS stage", "stage", (-0.3, 5.3),
                 (Series("mitos", "MiToS (0-5)", pts(lambda vc, v: vc.mitos)),),
                 y_ticks=tuple((float(i), str(i)) for i in range(6))),
    )


_MILESTONE_PENS = {
    "death": pg.mkPen("#222222", width=1.6),
    "other": pg.mkPen("#6b6b6b", width=1.2, style=Qt.PenStyle.DashLine),
}
_MILESTONE_FONT = QFont("DejaVu Sans", 7)

_SYMBOLS = (("o", "●"), ("s", "■"), ("t", "▼"), ("d", "◆"))


def _colour(s: Series) -> str:
    return _PALETTE.get(s.key.removeprefix("alsfrs_"), "#333333")


def _title_html(spec: PlotSpec) -> str:
    """The title, and for several series a legend under it (a legend inside the plot would hide
    the lines it explains)."""
    html = f"<b>{spec.title}</b>"
    if len(spec.series) > 1:
        keys = []
        j = 0
        for s in spec.series:
            mark = "▬" if s.step else _SYMBOLS[j % 4][1]
            j += 0 if s.step else 1
            keys.append(f"<span style='color:{_colour(s)}'>{mark}&nbsp;{s.name}</span>")
        lines, line, width = [], [], 0
        for s, k in zip(spec.series, keys):
            if line and width + len(s.name) > 26:
                lines.append(line)
                line, width = [], 0
            line.append(k)
            width += len(s.name) + 3
        lines.append(line)
        html += "<br><span style='font-size:8pt; font-weight:normal'>" + "<br>".join(
            "&nbsp;&nbsp;".join(ln) for ln in lines) + "</span>"
    return html


class ProgressionPlots(QWidget):
    """A grid of small plots sharing the visit dates on their x axes.

    ``series[key]`` is the pyqtgraph item of each plotted line, ``no_data[plot_key]`` the text
    shown in a plot with nothing to draw and ``milestone_lines[plot_key]`` the vertical lines
    (``pg.InfiniteLine``, labelled) marking the patient's milestones, so tests read back what is
    on screen (:meth:`milestones_shown`)."""

    COLUMNS = 3
    TITLE_HEIGHT = 46

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout_widget = pg.GraphicsLayoutWidget()
        self._layout_widget.ci.setSpacing(6)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._layout_widget)
        self.plot_items: dict[str, pg.PlotItem] = {}
        self.series: dict[str, pg.PlotDataItem] = {}
        self.no_data: dict[str, pg.TextItem] = {}
        self.specs: dict[str, PlotSpec] = {}
        self.milestones: tuple[Milestone, ...] = ()
        self.milestone_lines: dict[str, list[pg.InfiniteLine]] = {}
        self._built = False

    def _build(self, specs: tuple[PlotSpec, ...]) -> None:
        """Create the plot items once; later patients only replace their data."""
        for i, spec in enumerate(specs):
            row, col = divmod(i, self.COLUMNS)
            pi = self._layout_widget.addPlot(
                row=row, col=col, axisItems={"bottom": MonthAxis(orientation="bottom")}
            )
            pi.setTitle(_title_html(spec), size="10pt")
            pi.titleLabel.setMinimumWidth(0)  # the title must not decide the column's width:
            pi.setPreferredWidth(300)  # equal preferred widths give equal columns
            pi.titleLabel.setMaximumHeight(self.TITLE_HEIGHT)  # room for two legend lines,
            pi.layout.setRowFixedHeight(0, self.TITLE_HEIGHT)  # the same in every plot
            pi.setLabel("left", spec.y_label)
            # No SI prefixes: a slope of 0.67 points/month is written 0.67, not 670 with "x0.001".
            pi.getAxis("left").enableAutoSIPrefix(False)
            pi.getAxis("left").setWidth(54)  # equal plot areas, aligned down each column
            # Horizontal grid lines at the major ticks only: the grid is most of the paint time.
            pi.showGrid(x=False, y=True, alpha=0.3)
            pi.getAxis("left").setStyle(maxTickLevel=0)
            pi.setMenuEnabled(False)
            pi.hideButtons()
            pi.getViewBox().setMouseEnabled(x=False, y=False)  # an overview: every plot shows
            # all visits on the same date range (set in set_data), nothing to pan or zoom
            for j, s in enumerate(spec.series):
                colour = QColor(_colour(s))
                if s.step:
                    item = pi.plot([], [], name=s.name, connect="pairs",
                                   pen=pg.mkPen(colour, width=3, cap=Qt.PenCapStyle.FlatCap))
                else:
                    symbol = _SYMBOLS[j % 4][0]
                    item = pi.plot([], [], name=s.name, pen=pg.mkPen(colour, width=2),
                                   symbol=symbol, symbolSize=6, symbolBrush=colour,
                                   symbolPen=pg.mkPen(colour))
                self.series[s.key] = item
            if spec.y_ticks:
                pi.getAxis("left").setTicks([list(spec.y_ticks)])
            text = pg.TextItem("", color="#777777", anchor=(0.5, 0.5))
            text.setFont(QFont("DejaVu Sans", 10))
            pi.addItem(text, ignoreBounds=True)
            self.no_data[spec.key] = text
            self.plot_items[spec.key] = pi
            self.milestone_lines[spec.key] = []
        layout = self._layout_widget.ci.layout
        for c in range(self.COLUMNS):
            layout.setColumnStretchFactor(c, 1)
        for r in range((len(specs) + self.COLUMNS - 1) // self.COLUMNS):
            layout.setRowStretchFactor(r, 1)
        self._built = True

    def set_data(self, case: Case | None, result: CaseClassification | None) -> None:
        specs = plot_specs(case, result) if case is not None and result is not None else None
        if not self._built:
            self._build(specs or plot_specs(_EMPTY_CASE, _EMPTY_RESULT))
        if specs is None:
            specs = plot_specs(_EMPTY_CASE, _EMPTY_RESULT)
        self.specs = {s.key: s for s in specs}
        dates = [vc.date for vc in result.visits] if result else []
        self.milestones = patient_milestones(case.patient) if case is not None else ()
        span = dates + [m.date for m in self.milestones]  # a death after the last visit shows too
        if span:
            x0, x1 = _ts(min(span)), _ts(max(span))
            pad = max((x1 - x0) * 0.05, 20 * 86400)
            x_range = (x0 - pad, x1 + pad)
        else:
            x_range = None
        for spec in specs:
            pi = self.plot_items[spec.key]
            for s in spec.series:
                xs = [_ts(d) for d, _ in s.points]
                ys = [y for _, y in s.points]
                self.series[s.key].setData(xs, ys)
            text = self.no_data[spec.key]
            if spec.empty:
                why = "No visits recorded" if not dates else f"No {spec.title} recorded"
                text.setText(why)
            else:
                text.setText("")
            if x_range:
                pi.setXRange(*x_range, padding=0)
                mid = (x_range[0] + x_range[1]) / 2
            else:
                pi.setXRange(0, 1, padding=0)
                mid = 0.5
            pi.getAxis("bottom").setStyle(showValues=bool(x_range))  # no dates: no date labels
            # An empty plot without a fixed scale (FVC, weight, ΔFS) shows no made-up values.
            pi.getAxis("left").setStyle(showValues=not (spec.empty and spec.y_range is None))
            lo, hi = self._y_range(spec)
            pi.setYRange(lo, hi, padding=0.02)
            text.setPos(mid, (lo + hi) / 2)
            self._mark_milestones(spec.key, x_range, (lo, hi))

    # Where each milestone's label ends along its line (fraction of the y range, from the
    # bottom): the top, unless a milestone close before it already has its label there.
    _LABEL_SLOTS = (0.98, 0.6, 0.25)

    def _mark_milestones(self, plot_key: str, x_range: tuple[float, float] | None,
                         y_range: tuple[float, float]) -> None:
        """Show one vertical line per milestone in this plot, its label written up along it.
        Lines and labels are made once and reused (a patient with fewer milestones hides the
        rest); a plain ``TextItem`` placed here costs less than the line's own label, which
        re-places itself on every change."""
        pi = self.plot_items[plot_key]
        marks = self.milestone_lines[plot_key]
        while len(marks) < len(self.milestones):
            line = pg.InfiniteLine(angle=90, movable=False)
            line.setZValue(-5)  # under the data
            label = pg.TextItem("", color="#333333", anchor=(1, 1), angle=90, fill=(255, 255, 255, 170))
            label.setFont(_MILESTONE_FONT)
            label.setZValue(-4)
            pi.addItem(line, ignoreBounds=True)
            pi.addItem(label, ignoreBounds=True)
            line.label = label
            marks.append(line)
        width = (x_range[1] - x_range[0]) if x_range else 1.0
        lo, hi = y_range
        placed: list[tuple[float, int]] = []  # (x, slot) of the labels so far
        for line, m in zip(marks, self.milestones):
            x = _ts(m.date)
            busy = {slot for x_, slot in placed if abs(x - x_) < width * 0.07}
            slot = next((i for i in range(len(self._LABEL_SLOTS)) if i not in busy), 0)
            placed.append((x, slot))
            line.setPen(_MILESTONE_PENS["death" if m.key == "death" else "other"])
            line.setValue(x)
            label = line.label
            if label.toPlainText() != m.label:
                label.setText(m.label)
            label.setPos(x, lo + (hi - lo) * self._LABEL_SLOTS[slot])
            tip = f"{m.label}: {m.date.isoformat()}" + (f" ({m.note})" if m.note else "")
            line.setToolTip(tip)
            label.setToolTip(tip)
            line.setVisible(True)
            label.setVisible(True)
        for line in marks[len(self.milestones):]:
            line.setVisible(False)
            line.label.setVisible(False)

    def milestones_shown(self, plot_key: str) -> list[tuple[str, float]]:
        """(label, x) of each milestone line visible in one plot (x as on the date axis)."""
        return [(line.label.toPlainText(), line.value()) for line in self.milestone_lines[plot_key]
                if line.isVisible() and line.label.isVisible()]

    @staticmethod
    def _y_range(spec: PlotSpec) -> tuple[float, float]:
        if spec.y_range is not None:
            return spec.y_range
        ys = [y for s in spec.series for _, y in s.points]
        if not ys:
            return (0.0, 1.0)
        lo, hi = min(ys), max(ys)
        span = hi - lo
        pad = span * 0.15 if span else max(abs(hi) * 0.1, 1.0)
        lo = lo - pad
        if min(ys) >= 0:
            lo = max(lo, 0.0)
        if spec.zero_based:
            lo = 0.0
        return (lo, hi + pad)

    def grab_layout(self):
        return self._layout_widget


def _empty():
    from domain.case import Patient
    from domain.options import Options

    case = Case(format="motorchart-case/1", patient=Patient(id="-"), visits=())
    result = CaseClassification(visits=(), highest={}, timeline=(), spread_order=(), options=Options())
    return case, result


_EMPTY_CASE, _EMPTY_RESULT = _empty()
