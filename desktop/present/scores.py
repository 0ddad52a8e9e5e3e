"""Stages and scores of one visit as rows (label, value): the panel, both reports and the
terminal summary print the same rows with the same words."""

from __future__ import annotations

from domain.classify import VisitClassification

from .messages import say
from .words import KINGS_REGION_LABELS, phenotype_words

SCORE_LABELS = (
    "King's stage (clinical)", "King's stage (from ALSFRS-R)", "MiToS stage", "ALSFRS-R total",
    "ALSFRS-R subscores", "ΔFS since onset", "ALSFRS-R slope since previous", "MRC sum score",
    "UMN score", "Phenotype", "Progression",
)


SCORE_SHORT = ("King's (clinical)", "King's (ALSFRS-R)", "MiToS", "ALSFRS-R", "ALSFRS-R subscores",
               "ΔFS (onset)", "Slope since last", "MRC sum", "UMN score", "Phenotype", "Progression")
"""The same rows' labels where space is short (the classification panel); the full label is the
row's tooltip."""


def score_rows(vc: VisitClassification) -> list[tuple[str, str]]:
    """(label, value) for each of :data:`SCORE_LABELS`; "·" where nothing is recorded."""
    nr = say("not_recorded")
    a = vc.alsfrs_r
    rate = lambda v: nr if v is None else say("rate", value=v)  # noqa: E731
    out_of = lambda v, top: nr if v is None else say("out_of", value=v, top=top)  # noqa: E731
    kings = vc.kings_clinical
    if vc.kings_regions:
        kings = say("kings_with_regions", stage=kings,
                    regions=", ".join(KINGS_REGION_LABELS[r] for r in vc.kings_regions))
    values = [
        kings,
        vc.kings_alsfrs or nr,
        nr if vc.mitos is None else str(vc.mitos),
        out_of(a["total"] if a else None, 48),
        say("subscores", **{k: a[k] for k in ("bulbar", "fine_motor", "gross_motor", "respiratory")}) if a else nr,
        rate(vc.delta_fs),
        rate(vc.alsfrs_r_slope),
        out_of(vc.mrc_sum, 60),
        out_of(vc.umn_score, 16),
        phenotype_words(vc.phenotype),
        say("progression.confirmed") if vc.progression else say("progression.not_shown"),
    ]
    return list(zip(SCORE_LABELS, values))
