"""What the visit and progression reports share: page sizes, styles, the page furniture (header
line, footer "page x of y" with the time printed, the DRAFT watermark) and small text helpers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

from .fonts import FALLBACK, MONO, SANS, SANS_BOLD, SANS_OBLIQUE, text_runs, use_report_fonts, with_fallback

use_report_fonts()

from reportlab import rl_config  # noqa: E402

# Binary (Flate only) streams: ASCII85 on top makes the files a quarter bigger and, in pure
# Python, costs a third of a report's build time.
rl_config.useA85 = 0

from reportlab.lib import colors  # noqa: E402
from reportlab.lib.pagesizes import A4, LETTER  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfbase.pdfmetrics import stringWidth  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402
from reportlab.platypus import CondPageBreak, Table, TableStyle  # noqa: E402
from reportlab.platypus import Paragraph as _Paragraph  # noqa: E402

from domain.scores import months_between  # noqa: E402

PAGE_SIZES = {"A4": A4, "letter": LETTER}
MARGIN = 14 * mm

GRID = colors.HexColor("#B8B8B8")
HEAD_BG = colors.HexColor("#E8ECF1")
MUTED = colors.HexColor("#555555")
ACCENT = colors.HexColor("#1F3A5F")


class ReportError(ValueError):
    """A report cannot be built from what was given (unknown visit date, bad page size)."""


@dataclass(frozen=True, slots=True)
class ReportMeta:
    """What the report says about the visit's record, without needing the store: its status,
    who signed it and when, and why it was amended."""

    status: Literal["draft", "signed", "amending", "amended"] = "draft"
    clinician: str | None = None
    signed_at: dt.datetime | None = None
    amendment_reason: str | None = None
    version: int = 1
    sha256: str | None = None  # the signature's hash, printed so a paper copy names its record

    @classmethod
    def from_visit_meta(cls, vm) -> ReportMeta:
        """From the store's ``VisitMeta`` (status, clinician, signed_at_utc, amendment_reason)."""
        signed = getattr(vm, "signed_at_utc", None)
        if isinstance(signed, str):
            signed = dt.datetime.fromisoformat(signed.replace("Z", "+00:00"))
        return cls(status=vm.status, clinician=getattr(vm, "clinician", None), signed_at=signed,
                   amendment_reason=getattr(vm, "amendment_reason", None),
                   version=getattr(vm, "version", 1) or 1)


def page_size(name: str) -> tuple[float, float]:
    key = {"a4": "A4", "letter": "letter", "us-letter": "letter"}.get(name.lower())
    if key is None:
        raise ReportError(f"page size {name!r}: use A4 or letter")
    return PAGE_SIZES[key]


def style(name: str, **kw) -> ParagraphStyle:
    base = dict(fontName=SANS, fontSize=8.5, leading=10.8, textColor=colors.black)
    base.update(kw)
    return ParagraphStyle(name, **base)


STYLES = {
    "clinic": style("clinic", fontName=SANS_BOLD, fontSize=12, leading=15, textColor=ACCENT),
    "title": style("title", fontName=SANS_BOLD, fontSize=15, leading=19),
    "h2": style("h2", fontName=SANS_BOLD, fontSize=10.5, leading=13, spaceBefore=8, spaceAfter=3,
                textColor=ACCENT),
    "h3": style("h3", fontName=SANS_BOLD, fontSize=9, leading=11.5, spaceBefore=4, spaceAfter=1,
                keepWithNext=1),
    "body": style("body"),
    "small": style("small", fontSize=7.5, leading=9.4),
    "muted": style("muted", fontSize=7.5, leading=9.4, textColor=MUTED),
    "cell": style("cell", fontSize=7.5, leading=9.2),
    "cellb": style("cellb", fontName=SANS_BOLD, fontSize=7.5, leading=9.2),
    "reason": style("reason", fontSize=8, leading=10, leftIndent=10, bulletIndent=2),
    "conclusion": style("conclusion", fontName=SANS_BOLD, fontSize=9.5, leading=12.5),
    "note": style("note", fontName=SANS_OBLIQUE, fontSize=8.5, leading=11),
    "mono": style("mono", fontName=MONO, fontSize=8, leading=10),
}


class Paragraph(_Paragraph):
    """reportlab's paragraph, with the letters DejaVu lacks written in the fallback font
    (:func:`desktop.reports.fonts.with_fallback`): every paragraph of a report is made here."""

    def __init__(self, text, style=None, *args, **kwargs):
        super().__init__(with_fallback(text) if isinstance(text, str) else text, style, *args, **kwargs)


def draw_text(canvas, x: float, y: float, text: str, font: str, size: float) -> None:
    """``text`` drawn on ``canvas`` from ``x`` (its left edge), the letters DejaVu lacks in the
    fallback font; the canvas is left with ``font`` set."""
    for run, f in ((run, FALLBACK if fb else font) for run, fb in text_runs(text)):
        canvas.setFont(f, size)
        canvas.drawString(x, y, run)
        x += stringWidth(run, f, size)
    canvas.setFont(font, size)


def p(text: str, st: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped: names may hold & or <)."""
    return Paragraph(escape(text), STYLES[st])


def px(markup: str, st: str = "body") -> Paragraph:
    """A paragraph of reportlab markup (callers escape the data inside)."""
    return Paragraph(markup, STYLES[st])


def section(title: str, min_space: float = 90) -> list:
    """A section heading that moves to the next page unless ``min_space`` points of its content
    fit below it (a heading never ends a page; a long table still starts on the same page)."""
    return [CondPageBreak(min_space), p(title, "h2")]


def cell(text: str, width: float, st: str = "cell"):
    """Plain text when it fits on one line in ``width`` points (cheap to lay out and draw), else a
    wrapping paragraph."""
    style_ = STYLES[st]
    if stringWidth(text, style_.fontName, style_.fontSize) <= width - 6.5:
        return text
    return p(text, st)


def grid_table(rows: list[list], col_widths: list[float], *, header_rows: int = 1, zebra: bool = True,
               extra: list | None = None, repeat: bool = True) -> Table:
    """A compact table with a shaded header, thin grid and the report font everywhere."""
    t = Table(rows, colWidths=col_widths, repeatRows=header_rows if repeat else 0, hAlign="LEFT")
    cmds = [
        ("FONT", (0, 0), (-1, -1), SANS, 7.5, 9.2),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        cmds += [("FONT", (0, 0), (-1, header_rows - 1), SANS_BOLD, 7.5, 9.2),
                 ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD_BG)]
    if zebra:
        for i in range(header_rows, len(rows)):
            if (i - header_rows) % 2 == 1:
                cmds.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#F6F7F9")))
    t.setStyle(TableStyle(cmds + (extra or [])))
    return t


def fmt_date(d: dt.date | None) -> str:
    return d.isoformat() if d else "-"


def fmt_datetime(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M") + (f" {t.tzname()}" if t.tzinfo else "")


def age_at(birth: dt.date | None, on: dt.date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


MILESTONES: tuple[tuple[str, str], ...] = (
    ("gastrostomy", "Gastrostomy"), ("niv", "NIV"), ("tracheostomy", "Tracheostomy"), ("death", "Death"),
)
"""The patient's milestones: ``<key>_date`` and ``<key>_note`` on ``domain.case.Patient``, and
the name printed."""

@dataclass(frozen=True, slots=True)
class Milestone:
    key: str
    name: str
    date: dt.date
    note: str | None


def patient_milestones(patient, *, until: dt.date | None = None) -> list[Milestone]:
    """The milestones the patient has a date for (on or before ``until`` when given), earliest
    first; on the same day in the order of :data:`MILESTONES`."""
    out = []
    for key, name in MILESTONES:
        date = getattr(patient, f"{key}_date", None)
        if date is None or (until is not None and date > until):
            continue
        note = (getattr(patient, f"{key}_note", None) or "").strip() or None
        out.append(Milestone(key, name, date, note))
    return sorted(out, key=lambda m: m.date)


def months_from_onset(onset: dt.date | None, date: dt.date) -> str:
    """"14.2 months" from onset to ``date`` (days / 30.4375, one decimal), or "onset date
    unknown"."""
    if onset is None:
        return "onset date unknown"
    months = months_between(onset, date)
    if months < 0:
        return f"{-months:.1f} months before onset"
    return f"{months:.1f} months"


def died_text(patient) -> str | None:
    """"died 2025-11-30, age 67" (the age when the birth date is known), or None while alive."""
    if patient.death_date is None:
        return None
    age = age_at(patient.birth_date, patient.death_date)
    return f"died {patient.death_date.isoformat()}" + (f", age {age}" if age is not None else "")


def words(ident: str | None) -> str:
    return (ident or "").replace("_", " ")


def make_canvas(*, footer_left: str, printed_at: dt.datetime, draft: bool):
    """A canvas class that knows the page count when it saves: it draws the footer ("page x of
    y", the time printed) and, on drafts, a DRAFT watermark over every page."""

    class ReportCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for n, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._furniture(n, total)
                super().showPage()
            super().save()

        def _furniture(self, n: int, total: int):
            w, h = self._pagesize
            self.saveState()
            self.setStrokeColor(GRID)
            self.setLineWidth(0.5)
            self.line(MARGIN, MARGIN - 3 * mm, w - MARGIN, MARGIN - 3 * mm)
            self.setFont(SANS, 7)
            self.setFillColor(MUTED)
            draw_text(self, MARGIN, MARGIN - 7 * mm, footer_left, SANS, 7)  # (the patient's name)
            self.drawRightString(w - MARGIN, MARGIN - 7 * mm,
                                 f"Printed {fmt_datetime(printed_at)} \u00b7 page {n} of {total}")
            if draft:
                self.setFont(SANS_BOLD, 110)
                self.setFillColor(colors.HexColor("#C0392B"))
                self.setFillAlpha(0.13)
                self.translate(w / 2, h / 2)
                self.rotate(52)
                self.drawCentredString(0, -38, "DRAFT")
            self.restoreState()

    return ReportCanvas
