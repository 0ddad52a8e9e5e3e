"""The visit report: one visit as a clinician files it or hands it on (issue 6, item 1).

Pure: the case, its classification, the record's status (:class:`ReportMeta`), the clinic name
and the time printed are passed in; the result is the PDF's bytes. The criteria's explanations
are the classifier's own sentences, printed verbatim.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from .common import (
    ACCENT,
    MARGIN,
    Paragraph,
    ReportError,
    ReportMeta,
    STYLES,
    age_at,
    died_text,
    section,
    cell,
    fmt_date,
    fmt_datetime,
    grid_table,
    make_canvas,
    months_from_onset,
    p,
    page_size,
    patient_milestones,
    px,
)
from .fonts import SANS, SANS_BOLD

from reportlab.lib import colors  # noqa: E402  (after the fonts: common sets them up)
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.platypus import (  # noqa: E402
    CondPageBreak,
    KeepTogether,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from desktop.bodymap import load_bodymap, marker_states, muscle_state, region_umn  # noqa: E402
from desktop.resources import load_catalogue  # noqa: E402
from desktop.present.criteria import criterion_headline, criterion_lines  # noqa: E402
from desktop.present.findings import finding_words  # noqa: E402
from desktop.present.scores import score_rows  # noqa: E402
from desktop.present.words import REGION_LABELS, REGION_STATE_WORDS, onset_words, option_label, option_value, phenotype_words  # noqa: E402
from domain.case import ALSFRS_ITEMS, Case, Visit  # noqa: E402
from domain.catalogue import REGIONS  # noqa: E402
from domain.classify import CaseClassification, VisitClassification  # noqa: E402
from domain.criteria import REGISTRY  # noqa: E402

from .bodymap_drawing import body_map_drawing  # noqa: E402

SIDE_LABEL = {"left": "Left", "right": "Right", "midline": "Midline"}
from desktop.present.alsfrs import item_label  # noqa: E402  (one wording)
ALSFRS_DOMAINS = (
    ("Bulbar", "bulbar", ALSFRS_ITEMS[0:3]),
    ("Fine motor", "fine_motor", ALSFRS_ITEMS[3:6]),
    ("Gross motor", "gross_motor", ALSFRS_ITEMS[6:9]),
    ("Respiratory", "respiratory", ALSFRS_ITEMS[9:12]),
)


def _tint(hex_colour: str | None, amount: float = 0.28):
    if not hex_colour:
        return None
    c = colors.HexColor(hex_colour)
    return colors.Color(1 - amount * (1 - c.red), 1 - amount * (1 - c.green), 1 - amount * (1 - c.blue))


NR = "\u00b7"  # not recorded: never the same as absent or normal


def _yes(b: bool) -> str:
    return "yes" if b else "-"


def build_visit_report(
    case: Case,
    classification: CaseClassification,
    visit_date: dt.date,
    *,
    meta: ReportMeta | None = None,
    clinic: str | None = None,
    page_size: str = "A4",
    printed_at: dt.datetime,
    options: dict | None = None,
    recomputed: tuple[str, ...] = (),
    carried=(),
    carried_from: dt.date | None = None,
    carried_reviewed: bool = True,
) -> bytes:
    """The PDF of one visit. Raises :class:`ReportError` if the case has no visit on that date.

    ``options``: the criteria options of the printed result (for a signed visit, those it was
    signed with), printed with those that differ from the defaults highlighted; default the
    classification's. ``recomputed``: lines saying how today's computation differs from the
    signed result. ``carried``: cells (kind, id, side, field) carried from ``carried_from``
    without being re-examined (signed as carried, or, with ``carried_reviewed`` false, copied
    and not yet reviewed); they are marked in the tables."""
    meta = meta or ReportMeta()
    size = _page_size(page_size)
    visit = next((v for v in case.visits if v.date == visit_date), None)
    vc = next((c for c in classification.visits if c.date == visit_date), None)
    if visit is None or vc is None:
        raise ReportError(f"no visit on {visit_date.isoformat()} for patient {case.patient.id}")
    width = size[0] - 2 * MARGIN
    if options is None:
        options = classification.options.model_dump(mode="json")
    marks = _Carried(frozenset(tuple(c) for c in carried), carried_from, carried_reviewed)
    story = _story(case, visit, vc, meta=meta, clinic=clinic, width=width, options=options,
                   recomputed=tuple(recomputed), carried=marks)
    patient = case.patient
    footer = f"{patient.display_name} \u00b7 {patient.id} \u00b7 visit {visit_date.isoformat()}"
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=size, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN + 2, title=f"Visit report: {patient.display_name}, {visit_date.isoformat()}",
        author=clinic or "Motorchart", subject="Motor neuron disease visit report", creator="Motorchart",
        invariant=1,
    )
    doc.build(story, canvasmaker=make_canvas(footer_left=footer, printed_at=printed_at,
                                             draft=meta.status in ("draft", "amending")))
    return buf.getvalue()


def _page_size(name: str):
    return page_size(name)


# ---------------------------------------------------------------------------------- story

@dataclass(frozen=True)
class _Carried:
    cells: frozenset
    source: dt.date | None
    reviewed: bool  # signed as carried (True) or copied and not yet reviewed (False)

    def mark(self, kind: str, id_: str, side: str, field: str) -> str:
        return " *" if (kind, id_, side, field) in self.cells else ""

    def legend(self) -> str:
        where = self.source.isoformat() if self.source else "an earlier visit"
        if self.reviewed:
            return f"* carried from the visit of {where}: not re-examined at this visit."
        return f"* copied from the visit of {where} and not yet reviewed."


def _story(case: Case, visit: Visit, vc: VisitClassification, *, meta: ReportMeta, clinic: str | None,
           width: float, options: dict, recomputed: tuple[str, ...], carried: _Carried) -> list:
    first = bool(case.visits) and visit.date == case.visits[0].date
    cat = load_catalogue()
    out: list = []
    out += _header(case, visit, meta=meta, clinic=clinic, width=width)
    out += _status(meta)
    signed = " (as signed)" if meta.status in ("signed", "amended") else ""
    out.append(px(f"Conclusion{signed}: " + escape("; ".join(criterion_headline(c, vc) for c in REGISTRY)) + ".",
                  "conclusion"))
    out.append(Spacer(1, 4))
    out += _boxed(recomputed, width, RECOMPUTED_BG, RECOMPUTED_BORDER, "Recomputed")
    out += _warnings(vc, width)
    out += _regions(vc, width, first=first)
    out += _bodymap_and_scores(vc, width)
    out += _criteria(vc)
    out += _progression(vc)
    out += _examination(vc, cat, width, carried)
    out += _emg(visit, vc, width, carried)
    out += _reflexes_and_signs(visit, cat, width, carried)
    if carried.cells:
        out.append(p(carried.legend(), "muted"))
    out += _alsfrs(visit, vc, width)
    if visit.notes:
        out += section("Notes", 40)
        out += [p(line, "body") for line in visit.notes.splitlines() if line.strip()]
    out += _options(options, width)
    out += _signature(meta, width)
    return out


RECOMPUTED_BG = colors.HexColor("#E8F0FB")
RECOMPUTED_BORDER = colors.HexColor("#5B86C5")


def _boxed(lines, width: float, bg, border, title: str) -> list:
    """A tinted box of sentences, or nothing when there are none."""
    if not lines:
        return []
    body = [Paragraph(escape(t), STYLES["reason"], bulletText="\u2022") for t in lines]
    t = Table([[p(title, "h3")], *[[b] for b in body]], colWidths=[width], hAlign="LEFT")
    t.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), bg), ("BOX", (0, 0), (-1, -1), 0.8, border),
        ("LEFTPADDING", (0, 0), (-1, -1), 6), ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]))
    return [t, Spacer(1, 5)]


def _options(options: dict, width: float) -> list:
    """The criteria options the printed result used, those that differ from the defaults
    highlighted with the default beside them."""
    from domain.options import Options

    default = Options().model_dump(mode="json")
    rows = [["Criteria option", "Value", ""]]
    extra = []
    for name in default:
        value = options.get(name, default[name])
        differs = value != default[name]
        rows.append([p(option_label(name), "cell"), option_value(name, value),
                     f"differs from the default ({option_value(name, default[name])})" if differs else "default"])
        if differs:
            r = len(rows) - 1
            extra += [("BACKGROUND", (0, r), (-1, r), colors.HexColor("#FFE9B3")),
                      ("FONT", (0, r), (-1, r), SANS_BOLD, 7)]
    n = sum(1 for r in rows[1:] if r[2] != "default")
    note = (f"{n} option(s) differ from the defaults (highlighted)." if n
            else "All options are the defaults.")
    return [*section("Criteria options", 60), p(note, "muted"),
            grid_table(rows, [width * 0.32, width * 0.25, width * 0.43], extra=extra)]


def _header(case: Case, visit: Visit, *, meta: ReportMeta, clinic: str | None, width: float) -> list:
    pt = case.patient
    age = age_at(pt.birth_date, visit.date)
    born = fmt_date(pt.birth_date) + (f" (age {age} at the visit)" if age is not None else "")
    died = died_text(pt)  # printed on every report once the patient has died, whatever the visit
    onset = fmt_date(pt.onset_date)
    if pt.onset_region:
        onset += f", {onset_words(pt.onset_region)}" + (f" ({pt.onset_side})" if pt.onset_side else "")
    rows = [
        ["Patient", p(pt.display_name, "cellb"), "Visit date", p(visit.date.isoformat(), "cellb")],
        ["Identifier", p(pt.id, "cell"), "Clinician", p(meta.clinician or "-", "cell")],
        ["Born", p(born + (f"; {died}" if died else ""), "cellb" if died else "cell"), "Sex", p(pt.sex or "-", "cell")],
        ["Onset", p(onset, "cell"), "Diagnosis", p(fmt_date(pt.diagnosis_date), "cell")],
    ]
    span = []
    if patient_milestones(pt):
        # The milestones reached by this visit (a later one is not yet part of this record).
        reached = patient_milestones(pt, until=visit.date)
        text = "; ".join(
            f"{m.name} {m.date.isoformat()} ({months_from_onset(pt.onset_date, m.date)}"
            + (" from onset" if pt.onset_date else "") + (f"; {m.note}" if m.note else "") + ")"
            for m in reached) or "none by this visit"
        rows.append(["Milestones", p(text, "cell"), "", ""])
        span = [("SPAN", (1, -1), (-1, -1))]
    t = Table(rows, colWidths=[width * 0.12, width * 0.43, width * 0.13, width * 0.32], hAlign="LEFT")
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), SANS_BOLD, 7.5),
        ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#555555")),
        ("TEXTCOLOR", (2, 0), (2, -1), colors.HexColor("#555555")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, -1), (-1, -1), 0.8, ACCENT),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        *span,
    ]))
    out = []
    if clinic:
        out.append(p(clinic, "clinic"))
    out += [p("Visit report", "title"), Spacer(1, 3), t, Spacer(1, 5)]
    return out


def _status(meta: ReportMeta) -> list:
    if meta.status == "draft":
        return [p("Status: unsigned draft. The findings may still change; this is not a signed record.",
                  "note"), Spacer(1, 3)]
    if meta.status == "amending":
        return [p(f"Status: amendment in progress (version {meta.version}), not signed. The findings may "
                  "still change; the signed version stands until this one is signed.", "note"), Spacer(1, 3)]
    when = fmt_datetime(meta.signed_at) if meta.signed_at else "date not recorded"
    who = meta.clinician or "clinician not recorded"
    seal = f" Record SHA-256 {meta.sha256[:16]}\u2026" if meta.sha256 else ""
    if meta.status == "amended":
        text = (f"Amended record (version {meta.version}): amended and signed by {who} on {when}; it "
                f"replaces the version signed before. Reason for the amendment: "
                f"{meta.amendment_reason or 'not given'}.{seal}")
        return [p(text, "note"), Spacer(1, 3)]
    return [p(f"Signed by {who} on {when}.{seal}", "note"), Spacer(1, 3)]


WARN_BG = colors.HexColor("#FFF4DC")
WARN_BORDER = colors.HexColor("#D9A441")
WARN_FG = colors.HexColor("#6B4400")


def _warnings(vc: VisitClassification, width: float) -> list:
    """The classifier's warnings about missing or inconsistent data at this visit, in a tinted
    box under the conclusion they qualify; nothing when there are none."""
    if not vc.warnings:
        return []
    head = Paragraph("Warnings", ParagraphStyle("warnhead", parent=STYLES["h3"], textColor=WARN_FG,
                                                spaceBefore=0, spaceAfter=1))
    body = [Paragraph(escape(w), STYLES["reason"], bulletText="\u2022") for w in vc.warnings]
    t = Table([[[head, *body]]], colWidths=[width], hAlign="LEFT")
    t.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), WARN_BG),
        ("BOX", (0, 0), (-1, -1), 0.8, WARN_BORDER),
        ("LINEBEFORE", (0, 0), (0, -1), 3, WARN_BORDER),
        ("LEFTPADDING", (0, 0), (-1, -1), 7),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    return [t, Spacer(1, 4)]




def _regions(vc: VisitClassification, width: float, first: bool = False) -> list:
    """Each region's one state (domain: ``RegionEvidence.state``) and the evidence behind it;
    at the first visit a region involved beyond the onset region says so."""
    crits = list(REGISTRY)
    head = [p(h, "cellb") for h in ["Region", "State", "UMN", "LMN clinical"]
            + [f"EMG LMN {REGISTRY[c].source}" for c in crits] + ["Involved"]]
    rows = [head]
    for r in REGIONS:
        e = vc.evidence.regions[r]
        st = e.state()
        if st.kind == "not_examined":
            rows.append([REGION_LABELS[r], "not examined"] + [""] * (len(head) - 2))
            continue
        new = "beyond the onset region" if first else "newly involved"
        rows.append([REGION_LABELS[r], REGION_STATE_WORDS[st.kind], _yes(st.umn), _yes(e.lmn_clinical)]
                    + [_yes(e.lmn_emg[c]) for c in crits]
                    + [p((new if r in vc.new_regions else "yes") if st.involved else "-", "cell")])
    n = len(head)
    first_w = width * 0.14
    rest = (width - first_w - width * 0.16) / (n - 2)
    extra = [("ALIGN", (1, 0), (-1, -1), "CENTER")]
    for i, r in enumerate(REGIONS, start=1):
        if vc.evidence.regions[r].state().kind == "not_examined":
            extra += [("SPAN", (1, i), (-1, i)), ("TEXTCOLOR", (1, i), (-1, i), colors.HexColor("#8A5A00"))]
    return [*section("Regions"), grid_table(rows, [first_w] + [rest] * (n - 2) + [width * 0.16], extra=extra)]

def _bodymap_and_scores(vc: VisitClassification, width: float) -> list:
    bm_w = width * 0.46
    drawing = body_map_drawing(marker_states(vc), width=bm_w, bodymap=load_bodymap(),
                               umn_regions=set(region_umn(vc)))
    right_w = width - bm_w - 10
    rows = [[k, p(v, "cell")] for k, v in _score_rows(vc)]  # long values wrap inside the page
    right: list = [p("Stages and scores", "h3"), grid_table(rows, [right_w * 0.45, right_w * 0.55], header_rows=0)]
    ph = vc.phenotype
    text = phenotype_words(ph)
    if not ph.provisional and ph.final_after:  # a windowed label whose window has passed
        text += f" (final since {ph.final_after.isoformat()})"
    right += [Spacer(1, 6), p("Phenotype", "h3"), p(text, "body")]
    if ph.reason:
        right.append(p(ph.reason, "small"))
    umn = region_umn(vc)
    if umn:
        right += [Spacer(1, 6), p("Dashed outline on the body map: UMN evidence in "
                                  + ", ".join(REGION_LABELS[r] for r in umn) + " (reflexes and signs belong to "
                                  "no single muscle; each is named under Diagnostic criteria).", "small")]
    t = Table([[drawing, right]], colWidths=[bm_w + 10, right_w], hAlign="LEFT")
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("RIGHTPADDING", (0, 0), (0, 0), 10)]))
    return [CondPageBreak(drawing.height + 40), p("Body map, stages and phenotype", "h2"), t]


def _progression(vc: VisitClassification) -> list:
    """Whether progression is established, and the classifier's reasons (they may be many)."""
    out = [*section("Progression"), p("Confirmed." if vc.progression else "Not established.", "body")]
    out += [Paragraph(escape(r.text), STYLES["reason"], bulletText="\u2022") for r in vc.progression_reasons]
    if vc.new_regions:
        out.append(p("Newly involved regions: " + ", ".join(vc.new_regions) + ".", "body"))
    return out


def _score_rows(vc: VisitClassification) -> list[list[str]]:
    """Stages and scores: the presentation package's rows (the panel and summary print the same),
    without the phenotype and progression, which have their own blocks here."""
    return [[k, v] for k, v in score_rows(vc) if k not in ("Phenotype", "Progression")]

def _criteria(vc: VisitClassification) -> list:
    out: list = [*section("Diagnostic criteria")]
    for cid in REGISTRY:
        block = [p(criterion_headline(cid, vc), "h3")]
        block += [Paragraph(escape(r.text), STYLES["reason"], bulletText="\u2022") for r in criterion_lines(cid, vc)]
        out.append(KeepTogether(block[:4]))
        out += block[4:]
    return out


def _examination(vc: VisitClassification, cat, width: float, carried: _Carried) -> list:
    bm = load_bodymap()
    by_muscle: dict[str, dict[str, object]] = {}
    region_of: dict[str, str] = {}
    for s in vc.evidence.muscles:  # every recorded row: one with nothing recorded says "not examined"
        by_muscle.setdefault(s.muscle.id, {})[s.finding.side] = s
        region_of[s.muscle.id] = s.region  # the effective region (options may move SCM/trapezius)
    if not by_muscle:
        return [*section("Examination"), p("No muscle examined at this visit.", "body")]
    sides = ["left", "right"] + (["midline"] if any("midline" in d for d in by_muscle.values()) else [])
    per_side = ["MRC", "Wasting", "Fasc.", "Finding"]
    rows = [["Muscle"] + sum([[SIDE_LABEL[sd], "", "", ""] for sd in sides], []), [""] + per_side * len(sides)]
    extra = [
        ("FONT", (0, 0), (-1, -1), SANS, 7, 8.6), ("FONT", (0, 0), (-1, 1), SANS_BOLD, 6.5, 8),
        ("LEFTPADDING", (1, 0), (-1, -1), 1.5), ("RIGHTPADDING", (1, 0), (-1, -1), 1.5),
        ("SPAN", (0, 0), (0, 1)), ("ALIGN", (1, 0), (-1, -1), "CENTER"),
    ]
    for i, _sd in enumerate(sides):
        c0 = 1 + 4 * i
        extra += [("SPAN", (c0, 0), (c0 + 3, 0)), ("LINEBEFORE", (c0, 0), (c0, -1), 1.0, colors.HexColor("#6B7C93"))]
    name_w = width * 0.22
    for region in REGIONS:
        muscles = [m for m in cat.muscles if m.id in by_muscle and region_of[m.id] == region]
        if not muscles:
            continue
        extra += [("SPAN", (0, len(rows)), (-1, len(rows))), ("BACKGROUND", (0, len(rows)), (-1, len(rows)), colors.HexColor("#EEF1F5")),
                  ("FONT", (0, len(rows)), (-1, len(rows)), SANS_BOLD, 7, 8.6), ("ALIGN", (0, len(rows)), (-1, len(rows)), "LEFT")]
        rows.append([region.capitalize()] + [""] * (4 * len(sides)))
        for m in muscles:
            row = [cell(m.name, name_w)]
            for j, sd in enumerate(sides):
                s = by_muscle[m.id].get(sd)
                if s is None:
                    row += ["", "", "", ""]
                    continue
                f = s.finding
                state = muscle_state(s)
                c = lambda field: carried.mark("muscle", m.id, sd, field)  # noqa: E731
                row += [(f.mrc or NR) + c("mrc"), (f.wasting or NR) + c("wasting"),
                        (NR if f.fasciculations is None else ("yes" if f.fasciculations else "no")) + c("fasciculations"),
                        cell(finding_words(s), (width - name_w) / len(sides) * 0.40)]
                tint = _tint(bm.states[state].fill)
                if tint is not None:
                    c = 1 + 4 * j + 3
                    extra.append(("BACKGROUND", (c, len(rows)), (c, len(rows)), tint))
            rows.append(row)
    gw = (width - name_w) / len(sides)
    widths = [name_w] + [gw * k for k in (0.15, 0.28, 0.17, 0.40)] * len(sides)
    return [*section("Examination"),
            p("Recorded muscles by region: MRC grade, wasting, clinical fasciculations and what the muscle "
              "shows; \u00b7 = not recorded (never the same as normal or absent).", "muted"),
            grid_table(rows, widths, header_rows=2, zebra=False, extra=extra)]


def _emg(visit: Visit, vc: VisitClassification, width: float, carried: _Carried) -> list:
    crits = list(REGISTRY)
    sampled = [s for s in vc.evidence.muscles if s.finding.emg is not None]
    if not sampled:
        return [*section("EMG"), p("No needle EMG recorded at this visit.", "body")]
    head = [p(h, "cellb") for h in ["Muscle", "Side", "Fibs", "PSW", "Fasc. potentials", "Large MUPs",
                                     "Unstable MUPs", "Recruit­ment"] + [f"LMN {REGISTRY[c].source}" for c in crits]]
    rows = [head]
    fmt = lambda v: "-" if v is None else ("yes" if v is True else "no" if v is False else str(v))  # noqa: E731
    for s in sampled:
        e = s.finding.emg
        side = s.finding.side
        c = lambda field, v: fmt(v) + carried.mark("muscle", s.muscle.id, side, field)  # noqa: E731
        name = s.muscle.name
        if e.study_date is not None and e.study_date != visit.date:
            name += f" (EMG of {e.study_date.isoformat()})"
        rows.append([cell(name, width * 0.22), SIDE_LABEL[side].lower(), c("fibrillations", e.fibrillations),
                     c("positive_sharp_waves", e.positive_sharp_waves),
                     c("fasciculation_potentials", e.fasciculation_potentials), c("mup_large", e.mup_large),
                     c("mup_unstable", e.mup_unstable), c("recruitment", e.recruitment)]
                    + [_yes(s.lmn_emg.get(cid, False)) for cid in crits])
    fixed = [0.22, 0.07, 0.055, 0.055, 0.1, 0.08, 0.09, 0.11]
    crit_w = (1 - sum(fixed)) / len(crits)
    widths = [width * f for f in fixed] + [width * crit_w] * len(crits)
    return [*section("EMG"), grid_table(rows, widths,
                                       extra=[("ALIGN", (1, 0), (-1, -1), "CENTER")])]


def _reflexes_and_signs(visit: Visit, cat, width: float, carried: _Carried) -> list:
    out: list = [*section("Reflexes and signs")]
    refl: dict[str, dict[str, str]] = {}
    for f in visit.reflexes:
        txt = (str(f.grade) + (" with spread" if f.spread else "") + (" (brisk)" if f.brisk else "")
               + carried.mark("reflex", f.reflex, f.side, "grade"))
        refl.setdefault(f.reflex, {})[f.side] = txt
    half = (width - 8) / 2
    left: list
    if refl:
        rows = [["Reflex (NINDS 0-4)", "Left", "Right", "Midline"]]
        rows += [[p(cat.reflex[r.id].name, "cell")] + [p(refl[r.id].get(sd, ""), "cell") for sd in ("left", "right", "midline")]
                 for r in cat.reflexes if r.id in refl]
        left = [grid_table(rows, [half * 0.34, half * 0.22, half * 0.22, half * 0.22])]
    else:
        left = [p("No reflexes recorded.", "body")]
    sg: dict[str, dict[str, str]] = {}
    for f in visit.signs:
        sg.setdefault(f.sign, {})[f.side] = ("present" if f.present else "absent") + carried.mark(
            "sign", f.sign, f.side, "present")
    if sg:
        rows = [["Sign", "Left", "Right", "Midline"]]
        rows += [[p(cat.sign[s.id].name, "cell"), sg[s.id].get("left", ""), sg[s.id].get("right", ""),
                  sg[s.id].get("midline", "")] for s in cat.signs if s.id in sg]
        right = [grid_table(rows, [half * 0.46, half * 0.18, half * 0.18, half * 0.18])]
    else:
        right = [p("No signs recorded.", "body")]
    t = Table([[left, right]], colWidths=[half + 8, half], hAlign="LEFT")
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return out + [t]


def _alsfrs(visit: Visit, vc: VisitClassification, width: float) -> list:
    out: list = [*section("ALSFRS-R")]
    a = visit.alsfrs_r
    if a is None:
        out.append(p("ALSFRS-R not recorded at this visit.", "body"))
    else:
        rows = [["Domain", "Items", "", "", "Subscore"]]
        for label, key, items in ALSFRS_DOMAINS:
            cells = []
            for it in items:
                name = item_label(it, gastrostomy=a.gastrostomy)
                cells.append(f"{name}: {getattr(a, it)}")
            rows.append([label] + cells + [f"{vc.alsfrs_r[key]}/12"])
        rows.append(["Total", "", "", "", f"{vc.alsfrs_r['total']}/48"])
        w = [width * 0.13, width * 0.24, width * 0.24, width * 0.27, width * 0.12]
        out.append(grid_table(rows, w, extra=[("SPAN", (1, 0), (3, 0)), ("SPAN", (0, 5), (3, 5)),
                                              ("FONT", (0, 5), (-1, 5), SANS_BOLD, 7.5),
                                              ("ALIGN", (4, 0), (4, -1), "CENTER")]))
    vitals = []
    vitals.append(f"FVC {visit.fvc_percent:g}% predicted" if visit.fvc_percent is not None else "FVC not recorded")
    vitals.append(f"weight {visit.weight_kg:g} kg" if visit.weight_kg is not None else "weight not recorded")
    out += [Spacer(1, 3), p("; ".join(vitals) + ".", "body")]
    return out


def _signature(meta: ReportMeta, width: float) -> list:
    signed = meta.status in ("signed", "amended")
    rows = [
        ["Clinician", meta.clinician or "", "Signed", fmt_datetime(meta.signed_at) if signed and meta.signed_at else "not signed"],
        ["Signature", "", "Date", ""],
    ]
    t = Table(rows, colWidths=[width * 0.13, width * 0.42, width * 0.1, width * 0.35], rowHeights=[16, 26],
              hAlign="LEFT")
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), "DejaVuSans", 8),
        ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#555555")),
        ("TEXTCOLOR", (2, 0), (2, -1), colors.HexColor("#555555")),
        ("LINEBELOW", (1, 1), (1, 1), 0.6, colors.black),
        ("LINEBELOW", (3, 1), (3, 1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ]))
    return [KeepTogether([Spacer(1, 10), p("Signature", "h2"), t])]
