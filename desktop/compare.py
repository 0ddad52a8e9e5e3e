"""Compare two visits of one patient: what changed between them (Qt-free, pure).

Every judgement (UMN, LMN, involvement, criteria, scores) is the classifier's: this module only
sets two :class:`~domain.classify.VisitClassification` results side by side, plus the FVC and
weight recorded on the two :class:`~domain.case.Visit` objects. The progression view and the
reports both use it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from domain.case import MRC_RANK, WASTING, Visit
from domain.catalogue import REGIONS
from domain.classify import VisitClassification
from domain.criteria import REGISTRY, CriterionResult
from domain.evidence import MuscleState

RegionState = Literal["not_examined", "none", "umn", "lmn", "both"]

REGION_STATE_LABELS: dict[str, str] = {
    "not_examined": "not examined",
    "none": "none",
    "umn": "UMN",
    "lmn": "LMN",
    "both": "UMN + LMN",
}

def region_state(vc: VisitClassification, region: str) -> RegionState:
    """One region at one visit as the classifier judged it: not examined, none, UMN, LMN or both
    (the domain's one region state: ``RegionEvidence.state``)."""
    kind = vc.evidence.regions[region].state().kind
    return {"no_evidence": "none", "umn_lmn": "both"}.get(kind, kind)


def criterion_text(res: CriterionResult | None) -> str:
    """A criterion result as words: the category (with what is pending) or met / not met."""
    return "not met" if res is None else res.verdict_with_pending


@dataclass(frozen=True, slots=True)
class RegionChange:
    region: str
    before: RegionState
    after: RegionState

    @property
    def text(self) -> str:
        return (f"{self.region.capitalize()}: {REGION_STATE_LABELS[self.before]} → "
                f"{REGION_STATE_LABELS[self.after]}")


@dataclass(frozen=True, slots=True)
class MuscleChange:
    muscle: str
    side: str
    label: str
    before: str  # the earlier MRC grade or wasting
    after: str

    @property
    def text(self) -> str:
        return f"{self.label}: {self.before} → {self.after}"


@dataclass(frozen=True, slots=True)
class UmnSignChange:
    region: str
    text: str


@dataclass(frozen=True, slots=True)
class CriterionChange:
    criterion: str
    label: str
    before: str
    after: str
    direction: int  # +1 higher category / met, -1 lower, 0 same rank (wording may differ)

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True, slots=True)
class ScoreChange:
    name: str
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def text(self) -> str:
        return f"{self.name}: {self.before or 'not recorded'} → {self.after or 'not recorded'}"


@dataclass(frozen=True, slots=True)
class VisitComparison:
    before: dt.date
    after: dt.date
    new_regions: tuple[str, ...]
    region_changes: tuple[RegionChange, ...]
    weaker: tuple[MuscleChange, ...]
    newly_wasted: tuple[MuscleChange, ...]
    wasting_worse: tuple[MuscleChange, ...]
    new_umn_signs: tuple[UmnSignChange, ...]
    criteria: tuple[CriterionChange, ...]
    scores: tuple[ScoreChange, ...]
    not_comparable: tuple[str, ...] = ()
    """Muscles examined at the later visit but not at the earlier one: nothing can be said of
    them (not examined is not normal)."""

    @property
    def criteria_changes(self) -> tuple[CriterionChange, ...]:
        return tuple(c for c in self.criteria if c.changed)

    @property
    def score_changes(self) -> tuple[ScoreChange, ...]:
        return tuple(s for s in self.scores if s.changed)

    @property
    def nothing_changed(self) -> bool:
        return not (self.new_regions or self.region_changes or self.weaker or self.newly_wasted
                    or self.wasting_worse or self.new_umn_signs or self.criteria_changes
                    or self.score_changes)


def _states(vc: VisitClassification) -> dict[tuple[str, str], MuscleState]:
    return {s.key: s for s in vc.evidence.muscles if not s.ignored}


def _umn_signs(vc: VisitClassification) -> dict[tuple, tuple[str, str]]:
    """Every UMN reason of every region under any framework, keyed by the findings it cites."""
    out: dict[tuple, tuple[str, str]] = {}
    for r in REGIONS:
        for reasons in vc.evidence.regions[r].umn_reasons.values():
            for reason in reasons:
                key = (r, tuple(sorted((ref.kind, ref.id, ref.side) for ref in reason.refs))
                       or (reason.text,))
                out.setdefault(key, (r, reason.text))
    return out


def _fmt(x: float | int | None, fmt: str = "{}") -> str | None:
    return None if x is None else fmt.format(x)


def compare_visits(
    before: VisitClassification,
    after: VisitClassification,
    before_visit: Visit,
    after_visit: Visit,
) -> VisitComparison:
    """What changed from ``before`` to ``after`` (two visits of the same patient, earlier first).

    - regions newly involved (involved now, not at the earlier visit) and every region whose
      state (none / UMN / LMN / both / not examined) differs;
    - muscles weaker: an MRC grade recorded at both visits that fell on the full ordinal scale;
    - muscles newly wasted: wasting recorded ``none`` before and present now; wasting worse:
      present at both and more severe now (a muscle not examined before is not "newly"
      anything: not examined is not normal; those are listed as not comparable);
    - new UMN signs: UMN evidence citing findings not cited at the earlier visit;
    - each criterion before and after; scores, stages, FVC and weight before and after.
    Muscles attributed to another cause are left out, as the criteria leave them out.
    """
    if before.date != before_visit.date or after.date != after_visit.date:
        raise ValueError("each visit must be passed with its own classification")
    if after.date < before.date:
        raise ValueError(f"the later visit ({after.date}) is before the earlier one ({before.date})")

    new_regions = tuple(r for r in after.regions_involved if r not in before.regions_involved)
    region_changes = tuple(
        RegionChange(r, region_state(before, r), region_state(after, r))
        for r in REGIONS
        if region_state(before, r) != region_state(after, r)
    )

    b_states, weaker, wasted, worse, unknown = _states(before), [], [], [], []
    for s in after.evidence.muscles:
        if s.ignored or not s.examined:
            continue
        p = b_states.get(s.key)
        if p is None or not p.examined:
            unknown.append(s.label)
            continue
        f, pf = s.finding, p.finding
        if f.mrc is not None and pf.mrc is not None and MRC_RANK[f.mrc] < MRC_RANK[pf.mrc]:
            weaker.append(MuscleChange(s.muscle.id, f.side, s.label, pf.mrc, f.mrc))
        if s.wasted and pf.wasting is not None and not p.wasted:
            wasted.append(MuscleChange(s.muscle.id, f.side, s.label, pf.wasting, f.wasting))
        elif s.wasted and p.wasted and WASTING.index(f.wasting) > WASTING.index(pf.wasting):
            worse.append(MuscleChange(s.muscle.id, f.side, s.label, pf.wasting, f.wasting))

    b_signs, a_signs = _umn_signs(before), _umn_signs(after)
    new_umn = tuple(UmnSignChange(*v) for k, v in a_signs.items() if k not in b_signs)

    criteria = []
    for cid, c in REGISTRY.items():
        rb, ra = before.criteria.get(cid), after.criteria.get(cid)
        rank_b = rb.rank if rb else 0
        rank_a = ra.rank if ra else 0
        criteria.append(CriterionChange(
            cid, c.label, criterion_text(rb), criterion_text(ra),
            (rank_a > rank_b) - (rank_a < rank_b),
        ))

    ab, aa = before.alsfrs_r, after.alsfrs_r
    scores = (
        ScoreChange("ALSFRS-R total", _fmt(ab and ab["total"], "{}/48"), _fmt(aa and aa["total"], "{}/48")),
        ScoreChange("MRC sum", _fmt(before.mrc_sum, "{}/60"), _fmt(after.mrc_sum, "{}/60")),
        ScoreChange("UMN score", _fmt(before.umn_score, "{}/16"), _fmt(after.umn_score, "{}/16")),
        ScoreChange("FVC", _fmt(before_visit.fvc_percent, "{:g}%"), _fmt(after_visit.fvc_percent, "{:g}%")),
        ScoreChange("Weight", _fmt(before_visit.weight_kg, "{:g} kg"), _fmt(after_visit.weight_kg, "{:g} kg")),
        ScoreChange("King's (clinical)", before.kings_clinical, after.kings_clinical),
        ScoreChange("King's (from ALSFRS-R)", before.kings_alsfrs, after.kings_alsfrs),
        ScoreChange("MiToS", _fmt(before.mitos), _fmt(after.mitos)),
    )
    return VisitComparison(
        before=before.date,
        after=after.date,
        new_regions=new_regions,
        region_changes=region_changes,
        weaker=tuple(weaker),
        newly_wasted=tuple(wasted),
        wasting_worse=tuple(worse),
        new_umn_signs=new_umn,
        criteria=tuple(criteria),
        scores=scores,
        not_comparable=tuple(unknown),
    )


__all__ = [
    "compare_visits", "region_state", "criterion_text", "VisitComparison", "RegionChange",
    "MuscleChange", "UmnSignChange", "CriterionChange", "ScoreChange", "REGION_STATE_LABELS",
]
