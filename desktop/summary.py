"""Readable terminal summary of a classification (`motorchart classify FILE`)."""

from __future__ import annotations

from domain.case import Case
from domain.catalogue import REGIONS
from domain.classify import CaseClassification, VisitClassification
from domain.criteria import CATEGORY_LABELS, REGISTRY


def _yn(b: bool) -> str:
    return "yes" if b else "-"


def region_table(vc: VisitClassification) -> list[str]:
    crit_ids = list(REGISTRY)
    head = f"  {'region':<12} {'examined':<9} {'UMN':<4} {'LMN clin':<9} " + " ".join(
        f"{'EMG ' + REGISTRY[c].source:<9}" for c in crit_ids
    )
    lines = [head, "  " + "-" * (len(head) - 2)]
    for r in REGIONS:
        e = vc.evidence.regions[r]
        if not e.examined:
            lines.append(f"  {r:<12} {'NOT EXAMINED'}")
            continue
        lines.append(
            f"  {r:<12} {'yes':<9} {_yn(e.umn['el_escorial']):<4} {_yn(e.lmn_clinical):<9} "
            + " ".join(f"{_yn(e.lmn_emg[c]):<9}" for c in crit_ids)
        )
    return lines


def warning_lines(vc: VisitClassification) -> list[str]:
    """The visit's warnings (missing or inconsistent data), first in its block so they are read
    before the classification they qualify; nothing when there are none."""
    if not vc.warnings:
        return []
    return ["  Warnings:"] + [f"    ! {w}" for w in vc.warnings]


def criterion_headline(cid: str, vc: VisitClassification) -> str:
    return f"{REGISTRY[cid].label}: {vc.criteria[cid].verdict_with_pending}"


def render_summary(case: Case, result: CaseClassification) -> str:
    p = case.patient
    out = [f"Patient {p.display_name} ({p.id})"]
    if p.onset_date:
        out[0] += f", onset {p.onset_date.isoformat()}" + (f" ({p.onset_region.replace('_', ' ')})" if p.onset_region else "")
    if not result.visits:
        out.append("No visits.")
        return "\n".join(out) + "\n"
    for vc in result.visits:
        out.append("")
        out.append(f"Visit {vc.date.isoformat()}")
        out.extend(warning_lines(vc))
        out.extend(region_table(vc))
        mixed = [m.label for m in vc.evidence.muscles if m.mixed]
        if mixed:
            out.append(f"  Mixed UMN+LMN muscles: {', '.join(mixed)}")
        for cid in REGISTRY:
            out.append(f"  {criterion_headline(cid, vc)}")
            for r in vc.criteria[cid].reasons:
                out.append(f"    - {r.text}")
        scores = []
        if vc.alsfrs_r:
            scores.append(f"ALSFRS-R {vc.alsfrs_r['total']}/48")
        if vc.delta_fs is not None:
            scores.append(f"DeltaFS {vc.delta_fs:.2f}/month")
        if vc.alsfrs_r_slope is not None:
            scores.append(f"slope since previous {vc.alsfrs_r_slope:.2f}/month")
        if vc.mrc_sum is not None:
            scores.append(f"MRC sum {vc.mrc_sum}/60")
        if vc.umn_score is not None:
            scores.append(f"UMN score {vc.umn_score}/16")
        scores.append(f"King's {vc.kings_clinical} (clinical)")
        if vc.kings_alsfrs:
            scores.append(f"King's {vc.kings_alsfrs} (from ALSFRS-R)")
        if vc.mitos is not None:
            scores.append(f"MiToS {vc.mitos}")
        out.append("  " + "; ".join(scores))
        ph = vc.phenotype
        ph_text = f"  Phenotype: {ph.name}"
        if ph.provisional:
            ph_text += " (provisional" + (f" until {ph.final_after.isoformat()}" if ph.final_after else "") + ")"
        out.append(ph_text)
        if vc.new_regions:
            out.append(f"  New regions: {', '.join(vc.new_regions)}")
    out.append("")
    out.append("Highest reached:")
    for cid, (res, date) in result.highest.items():
        if res is None:
            out.append(f"  {REGISTRY[cid].label}: not met")
        elif res.category is not None:
            out.append(f"  {REGISTRY[cid].label}: {CATEGORY_LABELS[res.category]} on {date.isoformat()}")
        else:
            out.append(f"  {REGISTRY[cid].label}: met on {date.isoformat()}")
    return "\n".join(out) + "\n"
