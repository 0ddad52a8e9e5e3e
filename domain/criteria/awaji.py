"""Awaji-shima (AWJ): de Carvalho M et al., Clin Neurophysiol 2008;119:497-503."""

from __future__ import annotations

from ..case import Emg
from . import CriterionInput, CriterionResult, criterion
from ._graded import evaluate_graded


def emg_lmn(e: Emg) -> bool:
    """AWJ 4.2: chronic neurogenic change (large MUPs, reduced recruitment or unstable MUPs)
    AND (active denervation OR fasciculation potentials, present or complex)."""
    chronic = bool(e.mup_large) or e.recruitment == "reduced" or bool(e.mup_unstable)
    active = (e.fibrillations or 0) >= 1 or (e.positive_sharp_waves or 0) >= 1
    fasc = e.fasciculation_potentials in ("present", "complex")
    return chronic and (active or fasc)


@criterion(
    "awaji",
    label="Awaji-shima",
    source="AWJ",
    graded=True,
    emg_lmn=emg_lmn,
    emg_rule="chronic neurogenic change with denervation or fasciculation potentials",
    clinical_lmn="option",
    emg_in_l=True,
    defines_involvement=True,  # clinical-rules 8, 10: spread, progression and phenotype read Awaji
)
def evaluate(inp: CriterionInput) -> CriterionResult:
    """AWJ 5.2: the rEEC clauses with L = clinical OR EMG LMN, and no laboratory-supported
    category: definite, probable, possible, not met."""
    return evaluate_graded(inp, crit_id="awaji", lab_supported=False)
