"""Gold Coast (GCC): Shefner JM et al., Clin Neurophysiol 2020;131:1975-1978."""

from __future__ import annotations

from ..case import Emg
from ..catalogue import Sign
from . import CriterionInput, CriterionResult, criterion, make_result, names, reason
from ._graded import context_lines, region_lines


def emg_lmn(e: Emg) -> bool:
    """GCC 4.2: large MUPs AND (fibrillations OR positive sharp waves OR fasciculation
    potentials). Reduced recruitment or instability alone is not chronic change."""
    fasc = e.fasciculation_potentials in ("present", "complex")
    active = (e.fibrillations or 0) >= 1 or (e.positive_sharp_waves or 0) >= 1
    return bool(e.mup_large) and (active or fasc)


NOT_IN_GCC_UMN_LIST = frozenset({"pseudobulbar_affect", "gag_brisk"})
"""Bulbar signs the rEEC and Awaji count as UMN evidence but the GCC list does not
(clinical-rules 3: "pseudobulbar affect; brisk gag: rEEC and AWJ only")."""


def umn_sign(sign: Sign) -> bool:
    """GCC 5.1 UMN list (clinical-rules 3): every catalogue sign but pseudobulbar affect and the
    brisk gag reflex."""
    return sign.id not in NOT_IN_GCC_UMN_LIST


@criterion(
    "gold_coast",
    label="Gold Coast",
    source="GCC",
    graded=False,
    emg_lmn=emg_lmn,
    emg_rule="large MUPs with fibrillations, positive sharp waves or fasciculation potentials",
    clinical_lmn="weak_and_wasted",
    emg_in_l=True,
    umn_sign=umn_sign,
)
def evaluate(inp: CriterionInput) -> CriterionResult:
    """GCC 5.3: met when (1) progressive motor impairment, (2) the UMN/LMN clause, and
    (3) other disease processes excluded. Option ``gcc_reading``: ``literal`` (default):
    (U and L non-empty) or |L| >= 2; ``same_region``: |U & L| >= 1 or |L| >= 2."""
    U, L = inp.U, inp.L
    if inp.options.gcc_reading == "literal":
        if U and L:
            umn_lmn, clause = True, f"UMN in {names(U)} and LMN in {names(L)}"
        elif len(L) >= 2:
            umn_lmn, clause = True, f"LMN in {len(L)} regions ({names(L)})"
        else:
            umn_lmn = False
            clause = (
                f"needs UMN and LMN evidence, or LMN in 2 regions (UMN: {names(U)}; "
                f"LMN: {names(L)})"
            )
    else:
        B = U & L
        if B:
            umn_lmn, clause = True, f"UMN and LMN together in {names(B)} (same-region reading)"
        elif len(L) >= 2:
            umn_lmn, clause = True, f"LMN in {len(L)} regions ({names(L)})"
        else:
            umn_lmn = False
            clause = (
                "needs UMN and LMN in one region, or LMN in 2 regions "
                f"(UMN: {names(U)}; LMN: {names(L)}; same-region reading)"
            )
    met = inp.progression and umn_lmn and inp.alternatives_excluded
    mark = lambda ok: "yes" if ok else "no"  # noqa: E731
    reasons = [
        reason(f"{'Met' if met else 'Not met'}: {clause}."),
        reason(f"1. Progressive motor impairment: {mark(inp.progression)}."),
        reason(f"2. UMN and LMN / LMN in 2 regions: {mark(umn_lmn)}."),
        reason(f"3. Other disease processes excluded: {mark(inp.alternatives_excluded)}."),
    ]
    reasons.extend(region_lines(inp, U | L))
    reasons.extend(context_lines(inp))
    return make_result(
        id="gold_coast",
        category=None,
        met=met,
        conditions={
            "progressive": inp.progression,
            "umn_lmn": umn_lmn,
            "alternatives_excluded": inp.alternatives_excluded,
        },
        pending=(),
        clause=clause,
        reasons=tuple(reasons),
    )
