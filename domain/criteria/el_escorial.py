"""Revised El Escorial (rEEC): Brooks BR et al., ALS Other Motor Neuron Disord 2000;1:293-299."""

from __future__ import annotations

from ..case import Emg
from . import CriterionInput, CriterionResult, criterion
from ._graded import evaluate_graded


def emg_lmn(e: Emg) -> bool:
    """rEEC 4.2: active denervation (fibrillations or positive sharp waves >= 1) AND chronic
    neurogenic change (large MUPs, reduced recruitment or unstable MUPs). Fasciculation
    potentials do not count."""
    active = (e.fibrillations or 0) >= 1 or (e.positive_sharp_waves or 0) >= 1
    chronic = bool(e.mup_large) or e.recruitment == "reduced" or bool(e.mup_unstable)
    return active and chronic


@criterion(
    "el_escorial",
    label="Revised El Escorial",
    source="rEEC",
    graded=True,
    emg_lmn=emg_lmn,
    emg_rule="active denervation and chronic neurogenic change",
    clinical_lmn="option",
    emg_in_l=False,
)
def evaluate(inp: CriterionInput) -> CriterionResult:
    """rEEC 5.1: definite, probable, probable laboratory-supported, possible, not met.

    L is clinical only; EMG LMN (rEEC predicate, region rule 4.3) is used only for the
    laboratory-supported category (rEEC; clinical-rules 4.4)."""
    return evaluate_graded(inp, crit_id="el_escorial", lab_supported=True)
