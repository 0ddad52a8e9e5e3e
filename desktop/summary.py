"""Readable terminal summary of a classification (`motorchart classify FILE`)."""

from __future__ import annotations

from domain.case import Case
from domain.catalogue import REGIONS
from domain.classify import CaseClassification, VisitClassification
from domain.criteria import REGISTRY

from .present.criteria import criterion_headline, criterion_lines, highest_reached  # noqa: F401  (re-exported)
from .present.findings import finding_words
from .present.scores import score_rows
from .present.terminal import plain
from .present.words import REGION_LABELS, REGION_STATE_WORDS, REGION_WORDS, onset_words




def _yn(b: bool) -> str:
    return "yes" if b else "-"


def region_table(vc: VisitClassification) -> list[str]:
    """Each region's one state (domain: UMN of rEEC/AWJ, LMN by Awaji) and where its LMN
    evidence comes from."""
    crit_ids = list(REGISTRY)
    head = f"  {'region':<12} {'state':<12} {'UMN':<4} {'LMN clin':<9} " + " ".join(
        f"{'EMG ' + REGISTRY[c].source:<9}" for c in crit_ids
    )
    lines = [head, "  " + "-" * (len(head) - 2)]
    for r in REGIONS:
        e = vc.evidence.regions[r]
        st = e.state()
        name = REGION_LABELS[r]
        if st.kind == "not_examined":
            lines.append(f"  {name:<12} {'not examined'}")
            continue
        lines.append(
            f"  {name:<12} {REGION_STATE_WORDS[st.kind]:<12} {_yn(st.umn):<4} {_yn(e.lmn_clinical):<9} "
            + " ".join(f"{_yn(e.lmn_emg[c]):<9}" for c in crit_ids)
        )
    return lines


def muscle_lines(vc: VisitClassification) -> list[str]:
    """Each recorded muscle/side with what it shows (never "normal" for a weak or denervated
    muscle; "not examined" for a row with nothing recorded)."""
    if not vc.evidence.muscles:
        return []
    out = ["  Muscles:"]
    for s in vc.evidence.muscles:
        f = s.finding
        bits = [b for b in (f"MRC {f.mrc}" if f.mrc else "", f"wasting {f.wasting}" if f.wasting else "") if b]
        detail = f" ({', '.join(bits)})" if bits else ""
        out.append(f"    {s.label}: {finding_words(s)}{detail}")
    return out


def warning_lines(vc: VisitClassification) -> list[str]:
    """The visit's warnings (missing or inconsistent data), first in its block so they are read
    before the classification they qualify; nothing when there are none."""
    if not vc.warnings:
        return []
    return ["  Warnings:"] + [f"    ! {w}" for w in vc.warnings]


def render_summary(case: Case, result: CaseClassification) -> str:
    p = case.patient
    out = [f"Patient {plain(p.display_name)} ({plain(p.id)})"]
    if p.onset_date:
        out[0] += f", onset {p.onset_date.isoformat()}" + (f" ({onset_words(p.onset_region)})" if p.onset_region else "")
    if not result.visits:
        out.append("No visits.")
        return "\n".join(out) + "\n"
    for vc in result.visits:
        out.append("")
        out.append(f"Visit {vc.date.isoformat()}")
        out.extend(warning_lines(vc))
        out.extend(region_table(vc))
        out.extend(muscle_lines(vc))
        for cid in REGISTRY:
            out.append(f"  {criterion_headline(cid, vc)}")
            for r in criterion_lines(cid, vc):
                out.append(f"    - {r.text}")
        out.append("  " + "; ".join(f"{k}: {v}" for k, v in score_rows(vc) if v != "·"))
        if vc.new_regions:
            what = "Involved beyond the onset region" if vc is result.visits[0] else "Newly involved regions"
            out.append(f"  {what}: {', '.join(REGION_WORDS[r] for r in vc.new_regions)}")
    out.append("")
    out.append("Highest reached:")
    for label, verdict, date in highest_reached(result):
        out.append(f"  {label}: {verdict}" + (f" on {date.isoformat()}" if date else ""))
    return "\n".join(out) + "\n"
