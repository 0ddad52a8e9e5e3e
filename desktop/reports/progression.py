"""The progression report: a patient's course across visits (issue 6, item 2).

The patient's milestones (gastrostomy, NIV, tracheostomy, death) with the months from onset to
each, the death in the header; plots of ALSFRS-R (total and the four subscores), MRC sum, UMN
score, FVC and weight, each milestone marked on them; the region-by-visit matrix (none / UMN /
LMN / both, the onset region marked, the order of spread); and a table of criteria and stages
per visit. Pure: everything is passed in, the PDF's bytes come out.
"""

from __future__ import annotations

import datetime as dt
import io
from xml.sax.saxutils import escape

from .common import (
    MARGIN,
    Milestone,
    age_at,
    died_text,
    section,
    fmt_date,
    grid_table,
    make_canvas,
    months_from_onset,
    p,
    page_size,
    patient_milestones,
    px,
    words,
)
from .fonts import SANS, SANS_BOLD

from reportlab.graphics.charts.legends import LineLegend  # noqa: E402
from reportlab.graphics.charts.lineplots import LinePlot  # noqa: E402
from reportlab.graphics.shapes import Drawing, Group, Line, String  # noqa: E402
from reportlab.graphics.widgets.markers import makeMarker  # noqa: E402
from reportlab.lib import colors  # noqa: E402
from reportlab.platypus import CondPageBreak, SimpleDocTemplate, Spacer, Table, TableStyle  # noqa: E402

from desktop.bodymap import load_bodymap  # noqa: E402
from desktop.present.criteria import highest_reached  # noqa: E402
from desktop.present.words import phenotype_words  # noqa: E402
from domain.case import Case  # noqa: E402
from domain.catalogue import REGIONS  # noqa: E402
from domain.classify import ONSET_REGIONS, CaseClassification, VisitClassification  # noqa: E402
from domain.criteria import REGISTRY  # noqa: E402

LINE_COLOURS = ("#1F3A5F", "#D55E00", "#0072B2", "#009E73", "#CC79A7")
SUBSCORE_COLOURS = ("#D55E00", "#0072B2", "#009E73", "#CC79A7")
"""Okabe-Ito colours, distinct for colour-blind readers and in print (the total keeps navy)."""
SUBSCORES = (("bulbar", "Bulbar"), ("fine_motor", "Fine motor"), ("gross_motor", "Gross motor"),
             ("respiratory", "Respiratory"))
SHORT_CATEGORY = {
    "definite": "Definite", "probable": "Probable", "probable_lab_supported": "Probable lab-supp.",
    "possible": "Possible", "not_met": "Not met",
}


def build_progression_report(
    case: Case,
    classification: CaseClassification,
    *,
    clinic: str | None = None,
    page_size: str = "A4",
    printed_at: dt.datetime,
) -> bytes:
    size = _size(page_size)
    width = size[0] - 2 * MARGIN
    story = _story(case, classification, clinic=clinic, width=width)
    pt = case.patient
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=size, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN + 2, title=f"Progression report: {pt.display_name}",
        author=clinic or "Motorchart", subject="Motor neuron disease progression report",
        creator="Motorchart", invariant=1,
    )
    footer = f"{pt.display_name} \u00b7 {pt.id} \u00b7 progression report"
    doc.build(story, canvasmaker=make_canvas(footer_left=footer, printed_at=printed_at, draft=False))
    return buf.getvalue()


def _size(name: str):
    return page_size(name)


def _story(case: Case, cl: CaseClassification, *, clinic: str | None, width: float) -> list:
    out: list = []
    pt = case.patient
    if clinic:
        out.append(p(clinic, "clinic"))
    out.append(p("Progression report", "title"))
    out.append(Spacer(1, 3))
    dates = [v.date for v in case.visits]
    milestones = patient_milestones(pt)
    last = dates[-1] if dates else None
    age = age_at(pt.birth_date, last) if last else None
    onset = fmt_date(pt.onset_date)
    if pt.onset_region:
        onset += f", {words(pt.onset_region)}" + (f" ({pt.onset_side})" if pt.onset_side else "")
    rows = [
        ["Patient", p(pt.display_name, "cellb"), "Visits",
         p(f"{len(dates)}" + (f", {dates[0].isoformat()} to {last.isoformat()}" if dates else ""), "cell")],
        ["Identifier", p(pt.id, "cell"), "Sex", p(pt.sex or "-", "cell")],
        ["Born", p(fmt_date(pt.birth_date) + (f" (age {age} at the last visit)" if age is not None else ""), "cell"),
         "Diagnosis", p(fmt_date(pt.diagnosis_date), "cell")],
        ["Onset", p(onset, "cell"), "", ""],
    ]
    extra = []
    died = died_text(pt)
    if died:
        # The death stands out under the identity: date, age and the cause as noted.
        cause = f" \u00b7 cause: {pt.death_note.strip()}" if (pt.death_note or "").strip() else ""
        rows.append(["Died", p(died.removeprefix("died ") + cause, "cellb"), "", ""])
        extra += [("SPAN", (1, -1), (-1, -1)), ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#EDEDED")),
                  ("LINEBEFORE", (0, -1), (0, -1), 2.5, colors.HexColor("#222222")),
                  ("TEXTCOLOR", (0, -1), (0, -1), colors.HexColor("#222222")),
                  ("LEFTPADDING", (0, -1), (0, -1), 4), ("TOPPADDING", (0, -1), (-1, -1), 2.5),
                  ("BOTTOMPADDING", (0, -1), (-1, -1), 2.5)]
    t = Table(rows, colWidths=[width * 0.12, width * 0.43, width * 0.17, width * 0.28], hAlign="LEFT")
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), SANS_BOLD, 7.5),
        ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#555555")),
        ("TEXTCOLOR", (2, 0), (2, -1), colors.HexColor("#555555")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, -1), (-1, -1), 0.8, colors.HexColor("#1F3A5F")),
        ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        *extra,
    ]))
    out += [t, Spacer(1, 5)]
    out += _milestones(pt, milestones, width)
    if not cl.visits:
        out.append(p("No visits recorded.", "body"))
        return out
    out += _highest(cl)
    out += _plots(case, cl, width)
    out += _matrix(case, cl, width)
    out += _criteria_table(cl, width)
    return out


def _milestones(pt, milestones: list[Milestone], width: float) -> list:
    """The milestones with their dates, the months from onset to each (days / 30.4375) and
    their notes; nothing when the patient has none."""
    if not milestones:
        return []
    rows = [[p(h, "cellb") for h in ("Milestone", "Date", "From onset", "Note")]]
    for m in milestones:
        rows.append([m.name, m.date.isoformat(), months_from_onset(pt.onset_date, m.date),
                     p(m.note or "-", "cell")])
    w = [width * 0.16, width * 0.13, width * 0.2]
    w.append(width - sum(w))
    return [grid_table(rows, w, zebra=False), Spacer(1, 5)]


def _highest(cl: CaseClassification) -> list:
    parts = [f"{label}: {verdict}" + (f" ({date.isoformat()})" if date else "")
             for label, verdict, date in highest_reached(cl)]
    out = [px("Highest reached: " + escape("; ".join(parts)) + ".", "conclusion")]
    if cl.spread_order:
        out.append(p("Order of spread: " + " \u2192 ".join(cl.spread_order) + ".", "body"))
    return out + [Spacer(1, 4)]


# ------------------------------------------------------------------------------------ plots

def _series(case: Case, cl: CaseClassification):
    out: dict[str, list[tuple[int, float]]] = {k: [] for k in
                                              ("total", *dict(SUBSCORES), "mrc_sum", "umn_score", "fvc", "weight",
                                               "delta_fs", "slope")}
    for v, vc in zip(case.visits, cl.visits):
        x = v.date.toordinal()
        if vc.alsfrs_r:
            for k in ("total", *dict(SUBSCORES)):
                out[k].append((x, vc.alsfrs_r[k]))
        if vc.mrc_sum is not None:
            out["mrc_sum"].append((x, vc.mrc_sum))
        if vc.umn_score is not None:
            out["umn_score"].append((x, vc.umn_score))
        if v.fvc_percent is not None:
            out["fvc"].append((x, v.fvc_percent))
        if v.weight_kg is not None:
            out["weight"].append((x, v.weight_kg))
        if vc.delta_fs is not None:
            out["delta_fs"].append((x, vc.delta_fs))
        if vc.alsfrs_r_slope is not None:
            out["slope"].append((x, vc.alsfrs_r_slope))
    return out


def _date_label(v: float) -> str:
    return dt.date.fromordinal(int(round(v))).strftime("%Y-%m")


MARK_LABELS = {"gastrostomy": "Gastrostomy", "niv": "NIV", "tracheostomy": "Tracheostomy", "death": "Death"}


def _marks(lp: LinePlot, marks: list[Milestone]) -> Group:
    """A vertical line per milestone across the plot area, its short name written up along it
    ("refused" added when the note says so, as on the screen's plots; dashed grey, death solid
    black); a label close after another is written lower down its line."""
    g = Group()
    vmin, vmax = lp.xValueAxis.valueMin, lp.xValueAxis.valueMax
    top = lp.y + lp.height
    placed: list[tuple[float, int]] = []  # (x, slot): a label close after another goes lower
    for m in marks:
        x = lp.x + (m.date.toordinal() - vmin) / (vmax - vmin) * lp.width
        busy = {slot for x_, slot in placed if abs(x - x_) < 8}
        slot = next(i for i in range(len(marks) + 1) if i not in busy)
        placed.append((x, slot))
        death = m.key == "death"
        colour = colors.HexColor("#222222" if death else "#6B6B6B")
        g.add(Line(x, lp.y, x, top, strokeColor=colour, strokeWidth=0.9 if death else 0.6,
                   strokeDashArray=None if death else [2, 1.5]))
        refused = not death and m.note is not None and "refus" in m.note.casefold()
        label = Group(String(0, 0, MARK_LABELS[m.key] + (" refused" if refused else ""), fontName=SANS,
                             fontSize=5.5, textAnchor="end", fillColor=colour))
        label.translate(x - 1.2, top - 1.5 - lp.height * (0, 0.4, 0.7)[slot % 3])
        label.rotate(90)
        g.add(label)
    return g


def _chart(title: str, series: list[tuple[str, list[tuple[int, float]]]], *, xmin: int, xmax: int,
           ymin: float | None, ymax: float | None, width: float, height: float, unit: str = "",
           marks: list[Milestone] = (), colours: tuple[str, ...] = LINE_COLOURS) -> Drawing:
    d = Drawing(width, height)
    d.add(String(0, height - 10, title, fontName=SANS_BOLD, fontSize=8.5))
    has_data = any(pts for _, pts in series)
    legend_h = 22 if len(series) > 1 else 0
    lp = LinePlot()
    lp.x, lp.y = 30, 18 + legend_h
    lp.width, lp.height = width - 40, height - 34 - legend_h
    if not has_data:
        d.add(String(width / 2, height / 2 - 4, "not recorded", fontName=SANS, fontSize=8, textAnchor="middle",
                     fillColor=colors.HexColor("#777777")))
        return d
    lp.data = [pts if pts else [(xmin, ymin or 0)] for _, pts in series]
    for i, (_, pts) in enumerate(series):
        line = lp.lines[i]
        line.strokeColor = colors.HexColor(colours[i % len(colours)])
        line.strokeWidth = 1.2
        line.symbol = makeMarker("FilledCircle", size=3.2 if len(pts) < 15 else 2.2)
        line.symbol.fillColor = line.strokeColor
        line.symbol.strokeColor = line.strokeColor
        if not pts:
            line.strokeWidth = 0
            line.symbol = None
    span = max(xmax - xmin, 1)
    pad = max(span * 0.04, 10)
    lp.xValueAxis.valueMin = xmin - pad
    lp.xValueAxis.valueMax = xmax + pad
    n_ticks = 5 if span > 120 else 2
    lp.xValueAxis.valueSteps = ([xmin + span * i / (n_ticks - 1) for i in range(n_ticks)]
                                if xmax > xmin else [xmin])
    lp.xValueAxis.labelTextFormat = _date_label
    lp.xValueAxis.labels.fontName = SANS
    lp.xValueAxis.labels.fontSize = 6.5
    lp.xValueAxis.labels.dy = -3
    lp.xValueAxis.tickDown = 2
    lp.yValueAxis.tickLeft = 2
    values = [y for _, pts in series for _, y in pts]
    lo = ymin if ymin is not None else min(values)
    hi = ymax if ymax is not None else max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    if ymin is None or ymax is None:
        margin = (hi - lo) * 0.1
        lo, hi = (lo - margin if ymin is None else lo), (hi + margin if ymax is None else hi)
    lp.yValueAxis.valueMin, lp.yValueAxis.valueMax = lo, hi
    lp.yValueAxis.labels.fontName = SANS
    lp.yValueAxis.labels.fontSize = 6.5
    lp.yValueAxis.labelTextFormat = "%g"
    lp.yValueAxis.visibleGrid = True
    lp.yValueAxis.gridStrokeColor = colors.HexColor("#E2E2E2")
    lp.yValueAxis.gridStrokeWidth = 0.4
    lp.xValueAxis.strokeColor = lp.yValueAxis.strokeColor = colors.HexColor("#777777")
    d.add(lp)
    if marks:
        d.add(_marks(lp, marks))
    if unit:
        d.add(String(width, height - 10, unit, fontName=SANS, fontSize=7, textAnchor="end",
                     fillColor=colors.HexColor("#555555")))
    if len(series) > 1:
        lg = LineLegend()
        lg.x, lg.y = 30, 18
        lg.fontName, lg.fontSize = SANS, 6.5
        lg.alignment = "right"
        lg.columnMaximum = 2
        lg.deltax = (width - 40) / 2
        lg.deltay = 10
        lg.dx, lg.dy = 8, 2
        lg.subCols.rpad = 2
        lg.colorNamePairs = [(colors.HexColor(colours[i % len(colours)]), name)
                             for i, (name, _) in enumerate(series)]
        d.add(lg)
    return d


def _plots(case: Case, cl: CaseClassification, width: float) -> list:
    s = _series(case, cl)
    marks = patient_milestones(case.patient)
    xs = [v.date.toordinal() for v in case.visits] + [m.date.toordinal() for m in marks]
    xmin, xmax = min(xs), max(xs)
    cw, ch = (width - 12) / 2, 150
    kw = dict(xmin=xmin, xmax=xmax, width=cw, height=ch, marks=marks)
    charts = [
        _chart("ALSFRS-R total", [("Total", s["total"])], ymin=0, ymax=48, unit="points, 0-48", **kw),
        _chart("ALSFRS-R subscores", [(label, s[k]) for k, label in SUBSCORES], ymin=0, ymax=12,
               unit="points, 0-12", colours=SUBSCORE_COLOURS, **kw),
        _chart("MRC sum score", [("MRC sum", s["mrc_sum"])], ymin=0, ymax=60, unit="0-60", **kw),
        _chart("UMN score", [("UMN score", s["umn_score"])], ymin=0, ymax=16, unit="0-16", **kw),
        _chart("FVC", [("FVC", s["fvc"])], ymin=0, ymax=None, unit="% predicted", **kw),
        _chart("Weight", [("Weight", s["weight"])], ymin=0, ymax=None, unit="kg", **kw),
        _chart("ALSFRS-R rate of decline", [("ΔFS since onset", s["delta_fs"]),
                                            ("Slope since previous visit", s["slope"])],
               ymin=None, ymax=None, unit="points lost / month", **kw),
    ]
    rows = [charts[i:i + 2] for i in range(0, len(charts), 2)]
    t = Table(rows, colWidths=[cw + 12, cw], hAlign="LEFT")
    t.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                           ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [*section("Scores over time"), t]


# ----------------------------------------------------------------------------- tables

_STATE_CELL = {"not_examined": "not examined", "no_evidence": "none", "umn": "UMN", "lmn": "LMN",
               "umn_lmn": "both"}


def _region_cell(vc: VisitClassification, region: str) -> str:
    """The region's one state (domain: ``RegionEvidence.state``)."""
    return _STATE_CELL[vc.evidence.regions[region].state().kind]


def _matrix(case: Case, cl: CaseClassification, width: float) -> list:
    onset = set(ONSET_REGIONS.get(case.patient.onset_region or "", ()))
    states = load_bodymap().states
    fills = {"UMN": states["umn"].fill, "LMN": states["lmn"].fill, "both": states["mixed"].fill}
    head = [p("Visit", "cellb")] + [
        p(r.capitalize() + (" (onset)" if r in onset else ""), "cellb") for r in REGIONS] + [p("New regions", "cellb")]
    rows = [head]
    extra = [("ALIGN", (1, 1), (-1, -1), "CENTER")]
    for r in REGIONS:
        if r in onset:
            c = 1 + REGIONS.index(r)
            extra.append(("BACKGROUND", (c, 0), (c, 0), colors.HexColor("#F6D8B8")))
    for i, vc in enumerate(cl.visits, start=1):
        cells = [_region_cell(vc, r) for r in REGIONS]
        rows.append([vc.date.isoformat()] + cells + [", ".join(vc.new_regions) or "-"])
        for j, c in enumerate(cells, start=1):
            if c in fills:
                col = colors.HexColor(fills[c])
                tint = colors.Color(1 - 0.35 * (1 - col.red), 1 - 0.35 * (1 - col.green), 1 - 0.35 * (1 - col.blue))
                extra.append(("BACKGROUND", (j, i), (j, i), tint))
            elif c == "not examined":
                extra.append(("TEXTCOLOR", (j, i), (j, i), colors.HexColor("#8A8A8A")))
    dw = width * 0.14
    rw = (width - dw - width * 0.22) / len(REGIONS)
    return [CondPageBreak(120), p("Regions by visit", "h2"),
            p("UMN and LMN evidence per region (Awaji-shima reading: clinical or EMG LMN). "
              "The onset region is marked.", "muted"),
            grid_table(rows, [dw] + [rw] * len(REGIONS) + [width * 0.22], zebra=False, extra=extra)]


def _crit_text(res) -> str:
    if res.category is not None:
        return SHORT_CATEGORY.get(res.category, res.category) + (" (pending)" if res.pending else "")
    return "met" if res.met else "not met"


def _criteria_table(cl: CaseClassification, width: float) -> list:
    crits = list(REGISTRY)
    head = [p(h, "cellb") for h in ["Visit"] + [REGISTRY[c].label for c in crits]
            + ["King's clinical", "King's ALSFRS-R", "MiToS", "ALSFRS-R", "ΔFS", "Slope", "Phenotype"]]
    rows = [head]
    rate = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    for vc in cl.visits:
        ph = phenotype_words(vc.phenotype)
        rows.append([vc.date.isoformat()] + [p(_crit_text(vc.criteria[c]), "cell") for c in crits]
                    + [vc.kings_clinical, vc.kings_alsfrs or "-", "-" if vc.mitos is None else str(vc.mitos),
                       f"{vc.alsfrs_r['total']}" if vc.alsfrs_r else "-", rate(vc.delta_fs),
                       rate(vc.alsfrs_r_slope), p(ph, "cell")])
    fixed = [0.1] + [0.1] * len(crits) + [0.08, 0.085, 0.055, 0.07, 0.06, 0.06]
    widths = [width * f for f in fixed]
    widths.append(width - sum(widths))
    return [CondPageBreak(80), p("Criteria and stages by visit", "h2"),
            p("ΔFS: ALSFRS-R points lost per month since onset; slope: points lost per month since "
              "the previous visit with an ALSFRS-R.", "muted"),
            grid_table(rows, widths, extra=[("ALIGN", (len(crits) + 1, 1), (-2, -1), "CENTER")])]

