"""Message templates with named parameters: one place to translate the reader's words later."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # muscle findings
    "finding.not_examined": "not examined",
    "finding.other_cause": "other cause",
    "finding.other_cause_reason": "other cause: {reason}",
    "finding.mixed": "UMN + LMN",
    "finding.umn": "UMN",
    "finding.lmn": "LMN",
    "finding.emg_abnormal": "EMG abnormal, not LMN by any criteria",
    "finding.weak_wasted": "weak and wasted, not LMN by the chosen rule",
    "finding.weak": "weak, not wasted",
    "finding.wasted": "wasted, not weak",
    "finding.fasciculations": "fasciculations only",
    "finding.normal": "normal",
    # pending and provisional
    "pending": "pending: {items}",
    "provisional_until": "provisional until {date}",
    "provisional": "provisional",
    "recorded_on": "yes (recorded {date})",
    # scores
    "not_recorded": "·",
}


def say(key: str, **params) -> str:
    """The message ``key`` with its parameters filled in."""
    return MESSAGES[key].format(**params)
