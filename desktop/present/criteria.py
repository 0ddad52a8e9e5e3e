"""The wording of each criterion's result: the verdict, then the reason first (why it is met or
not), then the evidence the classifier names. A met/not-met framework (Gold Coast) says which
conditions failed before listing the evidence, and where a carried history flag comes from."""

from __future__ import annotations

from domain.classify import VisitClassification
from domain.criteria import CATEGORY_LABELS, REGISTRY, CriterionResult, Reason

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
        return text + (f" (pending: {pending_words(res.pending)})" if res.pending else "")
    return "met" if res.met else "not met"


def criterion_headline(cid: str, vc: VisitClassification) -> str:
    return f"{REGISTRY[cid].label}: {verdict_words(vc.criteria[cid])}"


def _source(cond: str, ok: bool, vc: VisitClassification) -> str:
    if not ok:
        return "no" if cond != "alternatives_excluded" else "no (not recorded)"
    flag = _FLAG_OF.get(cond)
    if flag is not None:
        recorded = (vc.flags_recorded or {}).get(flag)
        value = vc.progressive_by_history if flag == "progressive_by_history" else vc.alternatives_excluded
        if value and recorded is not None:
            return f"yes (recorded {recorded.isoformat()})"
        if cond == "progressive":
            return "yes (shown across visits)"
    return "yes"


def criterion_lines(cid: str, vc: VisitClassification) -> list[Reason]:
    """The reasons of one criterion, reason first (clinical-rules 9)."""
    res = vc.criteria[cid]
    if REGISTRY[cid].graded or not res.conditions:
        return list(res.reasons)
    conds = res.conditions
    failed = [c for c in CONDITION_LABELS if c in conds and not conds[c]]
    if res.met:
        head = Reason(f"Met: {res.clause}.")
    else:
        why = []
        for c in failed:
            if c == "progressive":
                why.append("progressive motor impairment not shown (not recorded by history, not seen across visits)")
            elif c == "alternatives_excluded":
                why.append("other disease processes not recorded as excluded")
            else:
                why.append(res.clause)
        head = Reason("Not met: " + "; ".join(why) + ".")
    lines = [head] + [Reason(f"{CONDITION_LABELS[c]}: {_source(c, conds[c], vc)}.") for c in CONDITION_LABELS if c in conds]
    evidence = [r for r in res.reasons[1:] if not r.text[:2] in ("1.", "2.", "3.")]
    return lines + evidence
