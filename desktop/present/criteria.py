"""The wording of each criterion's result: the verdict, then the reason first (why it is met or
not), then the evidence the classifier names. A met/not-met framework (Gold Coast) says which
conditions failed before listing the evidence, and where a carried history flag comes from."""

from __future__ import annotations

import datetime as dt

from domain.classify import CaseClassification, VisitClassification
from domain.criteria import CATEGORY_LABELS, REGISTRY, CriterionResult, Reason

from .messages import say
from .words import pending_words

CONDITION_LABELS = {
    "progressive": "1. Progressive motor impairment",
    "umn_lmn": "2. UMN and LMN signs, or LMN signs in two regions",
    "alternatives_excluded": "3. Other disease processes excluded",
}
_FLAG_OF = {"progressive": "progressive_by_history", "alternatives_excluded": "alternatives_excluded"}


def verdict_words(res: CriterionResult) -> str:
    """"Clinically possible (pending: progression, other causes excluded)", "met", "not met"."""
    if res.category is not None:
        text = CATEGORY_LABELS[res.category]
        return say("criterion.pending", verdict=text, items=pending_words(res.pending)) if res.pending else text
    return say("criterion.met") if res.met else say("criterion.not_met")


def highest_reached(result: CaseClassification) -> list[tuple[str, str, dt.date | None]]:
    """(framework label, the highest result in words, the date first reached) for each
    framework, in registry order: "Clinically probable", "met", or "not met" with no date."""
    out = []
    for cid, (res, date) in result.highest.items():
        if res is None:
            out.append((REGISTRY[cid].label, "not met", None))
        else:
            verdict = CATEGORY_LABELS[res.category] if res.category is not None else "met"
            out.append((REGISTRY[cid].label, verdict, date))
    return out


def criterion_headline(cid: str, vc: VisitClassification) -> str:
    return say("criterion.headline", label=REGISTRY[cid].label, verdict=verdict_words(vc.criteria[cid]))


def _source(cond: str, ok: bool, vc: VisitClassification) -> str:
    if not ok:
        return say("condition.no") if cond != "alternatives_excluded" else say("condition.no_not_recorded")
    flag = _FLAG_OF.get(cond)
    if flag is not None:
        recorded = (vc.flags_recorded or {}).get(flag)
        value = vc.progressive_by_history if flag == "progressive_by_history" else vc.alternatives_excluded
        if value and recorded is not None:
            return say("condition.recorded", date=recorded.isoformat())
        if cond == "progressive":
            return say("condition.shown")
    return say("condition.yes")


def criterion_lines(cid: str, vc: VisitClassification) -> list[Reason]:
    """The reasons of one criterion, reason first (clinical-rules 9)."""
    res = vc.criteria[cid]
    if REGISTRY[cid].graded or not res.conditions:
        return list(res.reasons)
    conds = res.conditions
    failed = [c for c in CONDITION_LABELS if c in conds and not conds[c]]
    if res.met:
        head = Reason(say("criterion.met_because", clause=res.clause))
    else:
        why = []
        for c in failed:
            if c == "progressive":
                why.append(say("criterion.not_progressive"))
            elif c == "alternatives_excluded":
                why.append(say("criterion.not_excluded"))
            else:
                why.append(res.clause)
        head = Reason(say("criterion.not_met_because", why="; ".join(why)))
    lines = [head] + [Reason(say("criterion.condition", label=CONDITION_LABELS[c], value=_source(c, conds[c], vc)))
                      for c in CONDITION_LABELS if c in conds]
    evidence = [r for r in res.reasons[1:] if not r.text[:2] in ("1.", "2.", "3.")]
    return lines + evidence
