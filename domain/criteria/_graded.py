"""The graded evaluation shared by revised El Escorial and Awaji-shima (rEEC 5.1, AWJ 5.2)."""

from __future__ import annotations

from . import CATEGORY_LABELS, CriterionInput, CriterionResult, Reason, make_result, names, reason, rostral_ok


def region_lines(inp: CriterionInput, regions, *, emg_only: bool = False) -> list[Reason]:
    """For each region used, the findings that made it UMN or LMN (clinical-rules 9)."""
    out: list[Reason] = []
    for r in ("bulbar", "cervical", "thoracic", "lumbosacral"):
        if r not in regions:
            continue
        v = inp.regions[r]
        out.extend(v.umn_reasons)
        out.extend(v.emg_reasons if emg_only else v.lmn_reasons)
    return out


def context_lines(inp: CriterionInput) -> list[Reason]:
    """What was not examined or ignored, and why (clinical-rules 9)."""
    out: list[Reason] = []
    missing = inp.not_examined
    if missing:
        out.append(reason(f"Not examined: {', '.join(missing)} (not examined is not normal)."))
    out.extend(inp.ignored)
    for r in ("bulbar", "cervical", "thoracic", "lumbosacral"):
        out.extend(inp.regions[r].notes)
    return out


def pending_of(inp: CriterionInput) -> tuple[str, ...]:
    """Requirements A:3 (progression) and B (other causes excluded) not yet confirmed (rEEC)."""
    p = []
    if not inp.progression:
        p.append("progression")
    if not inp.alternatives_excluded:
        p.append("alternatives_excluded")
    return tuple(p)


_PENDING_TEXT = {
    "progression": "progression not confirmed (by history or across visits)",
    "alternatives_excluded": "other causes not recorded as excluded",
}


def evaluate_graded(inp: CriterionInput, *, crit_id: str, lab_supported: bool) -> CriterionResult:
    """rEEC 5.1 clauses 1-5 in order; Awaji uses the same without clause 3 (AWJ).

    Option ``probable_reading``: ``distributed`` (default) or ``colocated``.
    """
    U, L = inp.U, inp.L
    B = U & L
    reading = inp.options.probable_reading
    pair = rostral_ok(U, L)
    used: set[str] = set()
    emg_only = False
    if len(B) >= 3:
        cat, used = "definite", B
        clause = f"clause 1: UMN and LMN together in {len(B)} regions ({names(B)})"
    elif reading == "distributed" and U and L and len(U | L) >= 2 and pair:
        cat, used = "probable", U | L
        clause = (
            f"clause 2 (distributed reading): UMN in {names(U)}, LMN in {names(L)}, "
            f"with UMN ({pair[0]}) rostral to LMN ({pair[1]})"
        )
    elif reading == "colocated" and len(B) >= 2:
        cat, used = "probable", B
        clause = f"clause 2 (colocated reading): UMN and LMN together in {names(B)}"
    elif lab_supported and U and len(inp.L_emg) >= 2:
        cat, used, emg_only = "probable_lab_supported", U | inp.L_emg, True
        clause = (
            f"clause 3: UMN in {names(U)} and EMG LMN in {len(inp.L_emg)} regions "
            f"({names(inp.L_emg)})"
        )
    elif len(B) == 1:
        cat, used = "possible", B
        clause = f"clause 4: UMN and LMN together in one region ({names(B)})"
    elif len(U) >= 2:
        cat, used = "possible", U | L
        clause = f"clause 4: UMN in {len(U)} regions ({names(U)})"
    elif U and L and not pair:
        cat, used = "possible", U | L
        clause = (
            f"clause 4: UMN in {names(U)} and LMN in {names(L)}, "
            f"with LMN signs rostral to UMN signs"
        )
    else:
        cat = "not_met"
        if not U and not L:
            clause = "no region has UMN or LMN evidence"
        elif not U:
            clause = f"LMN in {names(L)} but no UMN evidence in any region"
        elif not L and len(U) == 1:
            clause = f"UMN in {names(U)} only, no LMN evidence"
        else:
            clause = f"UMN in {names(U)} and LMN in {names(L)} meet no clause ({reading} reading)"
        used = U | L
    head = f"{CATEGORY_LABELS[cat]}: {clause}."
    pending = pending_of(inp) if cat != "not_met" else ()
    reasons = [reason(head)]
    if lab_supported and cat in ("possible", "not_met") and U and len(inp.L_emg) == 1:
        reasons.append(
            reason(
                f"Laboratory support not reached: EMG LMN in 1 region ({names(inp.L_emg)}); "
                "2 are needed."
            )
        )
    if emg_only:
        for r in ("bulbar", "cervical", "thoracic", "lumbosacral"):
            if r in used:
                v = inp.regions[r]
                if r in U:
                    reasons.extend(v.umn_reasons)
                if r in inp.L_emg:
                    reasons.extend(v.emg_reasons)
    else:
        reasons.extend(region_lines(inp, used))
    if pending:
        reasons.append(reason("Pending: " + "; ".join(_PENDING_TEXT[p] for p in pending) + "."))
    reasons.extend(context_lines(inp))
    return make_result(
        id=crit_id, category=cat, met=None, conditions={}, pending=pending, clause=clause,
        reasons=tuple(reasons),
    )
