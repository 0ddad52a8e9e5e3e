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
    "rate": "{value:.2f} points/month",
    "out_of": "{value}/{top}",
    "kings_with_regions": "{stage} ({regions})",
    "subscores": "bulbar {bulbar}, fine motor {fine_motor}, gross motor {gross_motor}, respiratory {respiratory}",
    "progression.confirmed": "confirmed",
    "progression.not_shown": "not shown",
    # phenotype
    "phenotype.provisional_until": "{name} (provisional until {date})",
    "phenotype.provisional": "{name} (provisional)",
    # criteria
    "criterion.headline": "{label}: {verdict}",
    "criterion.pending": "{verdict} (pending: {items})",
    "criterion.met": "met",
    "criterion.not_met": "not met",
    "criterion.met_because": "Met: {clause}.",
    "criterion.not_met_because": "Not met: {why}.",
    "criterion.not_progressive": "progressive motor impairment not shown (not recorded by history, not seen across visits)",
    "criterion.not_excluded": "other disease processes not recorded as excluded",
    "criterion.condition": "{label}: {value}.",
    "condition.yes": "yes",
    "condition.no": "no",
    "condition.no_not_recorded": "no (not recorded)",
    "condition.recorded": "yes (recorded {date})",
    "condition.shown": "yes (shown across visits)",
}


def say(key: str, **params) -> str:
    """The message ``key`` with its parameters filled in."""
    return MESSAGES[key].format(**params)
