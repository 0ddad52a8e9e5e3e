"""What one recorded muscle/side shows, in words: normal, weak, wasted, EMG abnormal not meeting
the criteria, LMN, UMN, UMN + LMN, not examined, other cause. "·" (not examined) is never
"normal", and a weak or denervated muscle is never called normal."""

from __future__ import annotations

from domain.evidence import MuscleState

from .messages import say

FINDING_KINDS = ("not_examined", "other_cause", "mixed", "umn", "lmn", "emg_abnormal",
                 "weak_wasted", "weak", "wasted", "fasciculations", "normal")


def emg_abnormal(emg) -> bool:
    """Any abnormal needle EMG finding, whether or not it meets a criterion's LMN predicate."""
    if emg is None:
        return False
    return bool(
        (emg.fibrillations or 0) >= 1 or (emg.positive_sharp_waves or 0) >= 1
        or emg.fasciculation_potentials in ("present", "complex") or emg.mup_large or emg.mup_unstable
        or emg.recruitment in ("reduced", "absent", "early")
    )


def finding_kind(s: MuscleState) -> str:
    """The most telling description of one muscle/side (first of :data:`FINDING_KINDS` that
    applies after the evidence kinds)."""
    if s.ignored:
        return "other_cause"
    if not s.examined:
        return "not_examined"
    if s.mixed:
        return "mixed"
    if s.umn:
        return "umn"
    if s.lmn_any:
        return "lmn"
    if emg_abnormal(s.finding.emg):
        return "emg_abnormal"
    if s.weak and s.wasted:
        return "weak_wasted"
    if s.weak:
        return "weak"
    if s.wasted:
        return "wasted"
    if s.finding.fasciculations:
        return "fasciculations"
    return "normal"


def finding_words(s: MuscleState) -> str:
    """The finding in words; LMN says where it comes from (clinical, EMG or both)."""
    kind = finding_kind(s)
    if kind == "other_cause" and s.finding.other_cause_reason:
        from .terminal import plain

        return say("finding.other_cause_reason", reason=plain(s.finding.other_cause_reason))
    words = say(f"finding.{kind}")
    if kind in ("lmn", "mixed"):
        clinical = s.lmn_clinical or s.lmn_clinical_gold_coast
        emg = any(s.lmn_emg.values())
        words += " (" + ("clinical and EMG" if clinical and emg else "clinical" if clinical else "EMG") + ")"
    return words
