"""Classify a case: every visit's evidence, criteria, progression, spread, stages, scores and
phenotype (clinical-rules 1-10). Pure: the case, catalogue and options are passed in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .case import MRC_RANK, Case, Visit
from .catalogue import KINGS_REGIONS, REGION_RANK, REGIONS, Catalogue
from .criteria import REGISTRY, CriterionResult, Reason, Ref, frozen_maker, reason
from .evidence import SPREAD_CRITERION, EvidenceContext, VisitEvidence, visit_evidence
from .gc_pause import paused_gc
from .options import Options
from .phenotype import Phenotype, PhenotypeTracker
from .scores import (
    KINGS_CLINICAL_ALSFRS_ITEMS,
    alsfrs_subscores,
    delta_fs,
    kings_from_alsfrs,
    mitos_domains,
    months_between,
    mrc_sum_muscles,
    mrc_sum_of_grades,
    umn_score,
    umn_score_items,
)

ONSET_REGIONS = {
    "upper_limb": ("cervical",),
    "lower_limb": ("lumbosacral",),
    "trunk_axial": ("thoracic",),
    "respiratory": ("cervical",),
    "bulbar": ("bulbar",),
    "generalised": REGIONS,
}
"""Onset region -> Motorchart regions (clinical-rules 10)."""

ONSET_KINGS = {
    "bulbar": "bulbar",
    "upper_limb": "upper_limb",
    "lower_limb": "lower_limb",
    "respiratory": "diaphragm",
}
"""Onset region -> first involved King's region; trunk and generalised add none (KING; 10)."""

KINGS_RANK = {"1": 1, "2A": 2, "2B": 3, "3": 4, "4A": 5, "4B": 5, "4A+4B": 6, "5": 7}



@dataclass(frozen=True, slots=True)
class VisitClassification:
    date: dt.date
    evidence: VisitEvidence
    criteria: dict[str, CriterionResult]
    progressive_by_history: bool | None
    alternatives_excluded: bool
    progression: bool
    progression_reasons: tuple[Reason, ...]
    alsfrs_r: dict[str, int] | None
    delta_fs: float | None
    alsfrs_r_slope: float | None
    kings_alsfrs: str | None
    kings_clinical: str
    kings_regions: tuple[str, ...]
    mitos: int | None
    mrc_sum: int | None
    umn_score: int | None
    phenotype: Phenotype
    regions_involved: tuple[str, ...]
    new_regions: tuple[str, ...]
    flags_recorded: dict[str, dt.date | None] | None = None
    """The date of the visit that recorded each history flag in force (they carry forward)."""
    warnings: tuple[str, ...] = ()
    """Sentences for the clinician about missing or inconsistent data at this visit
    (clinical-rules 10; exam-format: ``warnings``)."""

    @property
    def not_examined(self) -> list[str]:
        return [r for r in REGIONS if not self.evidence.regions[r].examined]

    def as_json(self) -> dict:
        crit = {}
        for cid, res in self.criteria.items():
            if res.category is not None:
                d = {"category": res.category, "pending": list(res.pending)}
            else:
                d = {"met": bool(res.met), **res.conditions}
            d["clause"] = res.clause
            d["reasons"] = [r.text for r in res.reasons]
            d["reason_refs"] = [[ref.as_json() for ref in r.refs] for r in res.reasons]
            crit[cid] = d
        return {
            "date": self.date.isoformat(),
            "muscles": [m.as_json() for m in self.evidence.muscles],
            "regions": {r: self.evidence.regions[r].as_json() for r in REGIONS},
            "not_examined": self.not_examined,
            "criteria": crit,
            "progression": {
                "confirmed": self.progression,
                "progressive_by_history": self.progressive_by_history,
                "alternatives_excluded": self.alternatives_excluded,
                "recorded": {k: (d.isoformat() if d else None) for k, d in (self.flags_recorded or {}).items()},
                "reasons": [r.text for r in self.progression_reasons],
            },
            "alsfrs_r": self.alsfrs_r,
            "delta_fs": self.delta_fs,
            "alsfrs_r_slope": self.alsfrs_r_slope,
            "staging": {
                "kings_alsfrs": self.kings_alsfrs,
                "kings_clinical": self.kings_clinical,
                "kings_regions": list(self.kings_regions),
                "mitos": self.mitos,
            },
            "mrc_sum": self.mrc_sum,
            "umn_score": self.umn_score,
            "phenotype": self.phenotype.as_json(),
            "spread": {
                "regions_involved": list(self.regions_involved),
                "new_regions": list(self.new_regions),
            },
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class RegionTimeline:
    region: str
    first_umn: dt.date | None
    first_lmn: dt.date | None
    first_both: dt.date | None
    first_involved: dt.date | None
    onset: bool
    contiguous: bool | None  # None for the onset region and uninvolved regions


@dataclass(frozen=True, slots=True)
class CaseClassification:
    visits: tuple[VisitClassification, ...]
    highest: dict[str, tuple[CriterionResult | None, dt.date | None]]
    timeline: tuple[RegionTimeline, ...]
    spread_order: tuple[str, ...]
    options: Options

    def as_json(self) -> dict:
        highest = {}
        for cid, (res, date) in self.highest.items():
            iso = date.isoformat() if date else None
            if REGISTRY[cid].graded:
                highest[cid] = {"category": res.category if res else "not_met", "date": iso}
            else:
                highest[cid] = {"met": bool(res and res.met), "date": iso}
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {
            "format": "motorchart-classification/1",
            "options": self.options.model_dump(),
            "summary": {
                "highest": highest,
                "spread": {
                    "onset_regions": [t.region for t in self.timeline if t.onset],
                    "order": list(self.spread_order),
                    "regions": {
                        t.region: {
                            "first_umn": iso(t.first_umn),
                            "first_lmn": iso(t.first_lmn),
                            "first_both": iso(t.first_both),
                            "first_involved": iso(t.first_involved),
                            "onset": t.onset,
                            "contiguous": t.contiguous,
                        }
                        for t in self.timeline
                    },
                },
            },
            "visits": [v.as_json() for v in self.visits],
        }


_make_visit_classification = frozen_maker(VisitClassification)


def _carried(visits: list[Visit], name: str) -> list[tuple[bool | None, dt.date | None]]:
    """History flags keep their last recorded value until recorded again (clinical-rules 10):
    per visit, (the value in force, the date of the visit that recorded it)."""
    out: list[tuple[bool | None, dt.date | None]] = []
    last: tuple[bool | None, dt.date | None] = (None, None)
    for v in visits:
        val = getattr(v, name)
        if val is not None:
            last = (val, v.date)
        out.append(last)
    return out


class FindingsProgression:
    """Progression shown by findings across visits (clinical-rules 6, 10), fed in date order.

    At each visit, against the earlier ones: a region newly involved (UMN or Awaji LMN now, never
    involved at any earlier visit, and examined without such evidence at an earlier visit:
    evidence that comes back after a normal examination is not spread); within a region involved
    at this visit or at any earlier one, a muscle/side newly abnormal (weak or LMN where its previous examination found
    it neither, comparing only what was examined then) or an MRC grade that fell on the full
    ordinal scale since its previous examination."""

    def __init__(self, options: Options):
        self.rule = options.clinical_lmn_rule
        self.ever_involved: set[str] = set()
        # Dates are kept as the ISO text the reasons quote.
        self.last_examined: dict[str, str] = {}
        # Per muscle/side, one record (replaced, never changed): its previous examination and
        # that visit's date; its previous MRC grade (None: never graded), the grade's rank and
        # date; and the (ref,) its reasons point at.
        self.prev: dict[tuple[str, str], tuple] = {}

    def copy(self) -> FindingsProgression:
        """An independent copy of what has been fed so far (the muscle states are shared)."""
        new = FindingsProgression.__new__(FindingsProgression)
        new.rule = self.rule
        new.ever_involved = set(self.ever_involved)
        new.last_examined = dict(self.last_examined)
        new.prev = dict(self.prev)
        return new

    def add(self, date: dt.date, ev: VisitEvidence, now: set[str]) -> list[Reason]:
        reasons: list[Reason] = []
        ever, last_examined = self.ever_involved, self.last_examined
        for r in REGIONS:
            if r in now and r not in ever and r in last_examined:
                reasons.append(
                    reason(
                        f"{r.capitalize()} newly involved (examined without UMN or LMN evidence on "
                        f"{last_examined[r]})."
                    )
                )
        clinical_needs_wasting = self.rule == "wasting_required"
        prev = self.prev
        counted = now | ever  # involved at this visit or any earlier one (10)
        iso = date.isoformat()
        # This visit is remembered once every muscle is compared (each muscle/side is recorded
        # once a visit; should one appear twice, each is compared with the earlier visits and
        # the last is remembered, as in order). A muscle not examined is neither.
        seen: dict[tuple[str, str], tuple] = {}
        spread, rank_of = SPREAD_CRITERION, MRC_RANK
        for s in ev.muscles:
            if s.ignored or not s.examined:
                continue
            key = s.key
            mrc = s.finding.mrc
            rank = -1 if mrc is None else rank_of[mrc]
            rec = prev.get(key)
            if rec is not None:
                refs = rec[5]
                if s.region in counted:
                    p = rec[0]
                    # p.lmn_evidence, spelt out: clinical (rEEC rule) or EMG LMN (Awaji)
                    if not (p.weak or p.lmn_clinical or p.lmn_emg.get(spread, False)):
                        pf = p.finding
                        newly = []
                        if s.weak and pf.mrc is not None:
                            newly.append(f"MRC {mrc}")
                        if s.lmn_clinical and (
                            pf.wasting is not None or (not clinical_needs_wasting and pf.mrc is not None)
                        ):
                            newly.append("clinical LMN")
                        if s.lmn_emg.get(SPREAD_CRITERION) and pf.emg is not None:
                            newly.append("EMG LMN")
                        if newly:
                            reasons.append(
                                reason(f"{s.label} newly abnormal ({', '.join(newly)}; normal on {rec[1]}).", refs)
                            )
                    if mrc is not None and rank < rec[3]:  # lower than the last grade (-1: none)
                        reasons.append(reason(f"{s.label} MRC fell from {rec[2]} ({rec[4]}) to {mrc}.", refs))
            else:
                refs = (s.ref,)
            if mrc is not None:
                seen[key] = (s, iso, mrc, rank, iso, refs)
            else:  # examined without an MRC grade: the last grade stands
                cur = seen.get(key) or rec
                seen[key] = (s, iso, None, -1, None, refs) if cur is None else (s, iso, *cur[2:5], refs)
        # Remember this visit for the next ones.
        ever |= now
        for r, e in ev.regions.items():
            if e.examined and r not in now:
                last_examined[r] = iso
        prev.update(seen)
        return reasons


def _kings_involvement(visit: Visit, ev: VisitEvidence, catalogue: Catalogue,
                       muscle_regions: dict[str, str | None] | None = None) -> set[str]:
    """King's regions *functionally* involved at one visit (KING, Roche 2012; clinical-rules 7,
    10): one of the region's muscles weak or wasted (``other_cause`` muscles ignored); a
    spasticity sign of the region present (the catalogue's sign ``kings_region``: spastic
    dysarthria or slowed tongue for bulbar, arm spasticity, leg spasticity); or its ALSFRS-R
    items below 4 (bulbar 1-3, upper limb 4-5, lower limb 8, diaphragm 10-12). Reflexes and
    pathological signs (brisk jaw jerk, Hoffmann, Babinski, clonus) alone never involve a region.
    ``muscle_regions``: each catalogue muscle's ``kings_region`` by id, when the caller has it."""
    if muscle_regions is None:
        out = {s.muscle.kings_region for s in ev.muscles if (s.weak or s.wasted) and not s.ignored}
    else:
        ids = {s.key[0] for s in ev.muscles if (s.weak or s.wasted) and not s.ignored}
        out = {muscle_regions[m] for m in ids}
    out.discard(None)
    out.discard("")
    signs = visit.signs
    if signs:
        sign = catalogue.sign
        for sf in signs:
            d = sf.__dict__
            if d["present"]:
                kr = sign[d["sign"]].kings_region
                if kr:
                    out.add(kr)
    a = visit.alsfrs_r
    if a is not None:
        items = a.__dict__
        for kr, names in KINGS_CLINICAL_ALSFRS_ITEMS.items():
            for i in names:
                if items[i] < 4:
                    out.add(kr)
                    break
    return out


def _refused(note: str | None) -> bool:
    """A milestone note that records a refusal ("gastrostomy refused"; exam-format: patient)."""
    return note is not None and "refus" in note.casefold()


def _milestone_warnings(patient, visit: Visit) -> list[str]:
    """Where the ALSFRS-R records a milestone that has no date, or contradicts one
    (clinical-rules 10, King's clinical): item 5b (gastrostomy) with no gastrostomy date or
    before it; item 5a after the gastrostomy date (unless the note records a refusal);
    respiratory insufficiency <= 3 (ventilatory support) before any tracheostomy, with no NIV
    date or before it."""
    a = visit.alsfrs_r
    if a is None:
        return []
    out: list[str] = []
    day = visit.date
    g = patient.gastrostomy_date
    if a.gastrostomy:
        if g is None:
            out.append("ALSFRS-R item 5b records a gastrostomy; no gastrostomy date is recorded.")
        elif day < g:
            out.append(
                f"ALSFRS-R item 5b records a gastrostomy on {day.isoformat()}, before the "
                f"gastrostomy date {g.isoformat()}."
            )
    elif g is not None and day > g and not _refused(patient.gastrostomy_note):
        out.append(
            f"ALSFRS-R item 5a (no gastrostomy) is scored on {day.isoformat()}, after the "
            f"gastrostomy date {g.isoformat()}."
        )
    ri = a.respiratory_insufficiency
    t = patient.tracheostomy_date
    if ri <= 3 and not (t is not None and t <= day):  # invasive ventilation explains it
        n = patient.niv_date
        if n is None:
            out.append(
                f"ALSFRS-R respiratory insufficiency {ri} records ventilatory support; no NIV "
                "date is recorded."
            )
        elif day < n:
            out.append(
                f"ALSFRS-R respiratory insufficiency {ri} records ventilatory support on "
                f"{day.isoformat()}, before the NIV date {n.isoformat()}."
            )
    return out


class EvidenceCache:
    """What a caller that classifies on every keystroke keeps between calls: each visit's
    evidence, and the fold's state after each visit of the case classified last.

    Evidence is keyed by the visit object itself (frozen models: an edited visit is a new
    object) together with the catalogue and options; the cache holds the visit, so its identity
    cannot be reused. The fold's states let :func:`classify_case` start again from the first
    visit that is not the same object as last time (every result of a visit depends on that
    visit and the earlier ones only), when the catalogue, options and patient are the same.
    Owned and passed in by the caller: the domain keeps no module state."""

    def __init__(self, size: int = 256):
        self.size = size
        self._items: dict[tuple[int, int, Options], tuple[Visit, VisitEvidence]] = {}
        self._contexts: dict[tuple[int, Options], tuple[Catalogue, EvidenceContext]] = {}
        self._chain_of: tuple | None = None  # (catalogue, options, patient) of the chain
        self._chain: list[tuple[Visit, _Fold, VisitClassification]] = []

    def context(self, catalogue: Catalogue, options: Options) -> EvidenceContext:
        """The evidence context of a catalogue and options, kept across calls."""
        key = (id(catalogue), options)
        hit = self._contexts.get(key)
        if hit is not None and hit[0] is catalogue:
            return hit[1]
        if len(self._contexts) >= 4:
            self._contexts.pop(next(iter(self._contexts)))
        ctx = EvidenceContext(catalogue, options)
        self._contexts[key] = (catalogue, ctx)
        return ctx

    def evidence(self, visit: Visit, catalogue: Catalogue, options: Options,
                 context: EvidenceContext | None = None) -> VisitEvidence:
        key = (id(visit), id(catalogue), options)
        hit = self._items.get(key)
        if hit is not None and hit[0] is visit:
            return hit[1]
        ev = visit_evidence(visit, catalogue, options, context or self.context(catalogue, options))
        if len(self._items) >= self.size:
            self._items.pop(next(iter(self._items)))
        self._items[key] = (visit, ev)
        return ev

    def resume(self, visits, patient, catalogue: Catalogue, options: Options):
        """(n, fold, results): the first ``n`` visits are the same objects as last time (same
        catalogue, options and patient), ``results`` their classifications, ``fold`` an
        independent copy of the state after them (None when n is 0). Forgets the rest."""
        of = self._chain_of
        if of is None or of[0] is not catalogue or of[1] != options or not (of[2] is patient or of[2] == patient):
            self._chain_of, self._chain = (catalogue, options, patient), []
            return 0, None, []
        chain = self._chain
        n = 0
        for visit, link in zip(visits, chain):
            if visit is not link[0]:
                break
            n += 1
        del chain[n:]
        if n == 0:
            return 0, None, []
        return n, chain[-1][1].copy(), [link[2] for link in chain]

    def remember(self, visit: Visit, fold: _Fold, result: VisitClassification) -> None:
        """The next visit of the chain: its classification and (a copy of) the state after it."""
        self._chain.append((visit, fold.copy(), result))


class ProgressionTracker:
    """Progression confirmed at each visit (clinical-rules 6, 10): the history flag in force,
    or shown by findings across visits (which stays confirmed), with its reasons."""

    def __init__(self, options: Options):
        self.findings = FindingsProgression(options)
        self.shown = False
        self.shown_reasons: list[Reason] = []

    def copy(self) -> ProgressionTracker:
        new = ProgressionTracker.__new__(ProgressionTracker)
        new.findings = self.findings.copy()
        new.shown, new.shown_reasons = self.shown, list(self.shown_reasons)
        return new

    def add(self, visit: Visit, ev: VisitEvidence, involved: set[str], history: bool | None) -> tuple[bool, tuple[Reason, ...]]:
        new = self.findings.add(visit.date, ev, involved)
        if new:
            self.shown, self.shown_reasons = True, new
        reasons: list[Reason] = []
        if history:
            reasons.append(reason("Progressive by history (recorded by the clinician)."))
        if self.shown:
            reasons.extend(self.shown_reasons if new else [reason("Progression shown at an earlier visit.")])
        return bool(history) or self.shown, tuple(reasons)


class KingsClinicalTracker:
    """King's clinical stage at each visit (KING; clinical-rules 7, 10): the King's regions
    involved so far (from the onset region on), the milestones dated or recorded by the ALSFRS-R
    so far; never goes down."""

    def __init__(self, patient, catalogue: Catalogue):
        self.patient, self.catalogue = patient, catalogue
        self.muscle_regions = {m.id: m.kings_region for m in catalogue.muscles}  # read-only, shared by copies
        self.regions: set[str] = {ONSET_KINGS[patient.onset_region]} if patient.onset_region in ONSET_KINGS else set()
        self.gastrostomy = self.ventilation = False
        self.best = (0, "1")

    def copy(self) -> KingsClinicalTracker:
        new = KingsClinicalTracker.__new__(KingsClinicalTracker)
        new.patient, new.catalogue = self.patient, self.catalogue
        new.muscle_regions = self.muscle_regions
        new.regions = set(self.regions)
        new.gastrostomy, new.ventilation, new.best = self.gastrostomy, self.ventilation, self.best
        return new

    def add(self, visit: Visit, ev: VisitEvidence) -> tuple[str, tuple[str, ...]]:
        self.regions |= _kings_involvement(visit, ev, self.catalogue, self.muscle_regions)
        a = visit.alsfrs_r
        if a is not None:
            self.gastrostomy = self.gastrostomy or a.gastrostomy
            self.ventilation = self.ventilation or a.respiratory_insufficiency <= 3
        stage = _kings_clinical(self.patient, visit.date, len(self.regions),
                                alsfrs_gastrostomy=self.gastrostomy, alsfrs_ventilation=self.ventilation)
        if KINGS_RANK[stage] >= self.best[0]:
            self.best = (KINGS_RANK[stage], stage)
        return self.best[1], tuple(r for r in KINGS_REGIONS if r in self.regions)


class MitosTracker:
    """MiToS (MITOS; clinical-rules 7, 10): null at a visit without ALSFRS-R, else the running
    maximum of lost domains over visits with ALSFRS-R; 5 once the death date is reached."""

    def __init__(self, patient):
        self.death = patient.death_date
        self.best: int | None = None

    def copy(self) -> MitosTracker:
        new = MitosTracker.__new__(MitosTracker)
        new.death, new.best = self.death, self.best
        return new

    def add(self, visit: Visit) -> int | None:
        a = visit.alsfrs_r
        if a is not None:
            lost = len(mitos_domains(a))
            self.best = lost if self.best is None else max(self.best, lost)
        if self.death is not None and self.death <= visit.date:
            return 5
        return self.best if a is not None else None


class SlopeTracker:
    """ALSFRS-R slope (clinical-rules 10): (previous total - this total) / months since the
    previous visit with an ALSFRS-R, positive = decline; null at the first."""

    def __init__(self):
        self.previous: tuple[dt.date, int] | None = None

    def copy(self) -> SlopeTracker:
        new = SlopeTracker()
        new.previous = self.previous
        return new

    def add(self, visit: Visit) -> float | None:
        a = visit.alsfrs_r
        if a is None:
            return None
        slope = None
        if self.previous is not None:
            m = months_between(self.previous[0], visit.date)
            slope = (self.previous[1] - a.total) / m if m > 0 else None
        self.previous = (visit.date, a.total)
        return slope


class SpreadTracker:
    """Spread (clinical-rules 10): regions involved at a visit not involved at any earlier one,
    never counting the onset region(s)."""

    def __init__(self, onset_regions: set[str]):
        self.onset = onset_regions
        self.ever: set[str] = set()

    def copy(self) -> SpreadTracker:
        new = SpreadTracker(self.onset)
        new.ever = set(self.ever)
        return new

    def add(self, involved: set[str]) -> tuple[str, ...]:
        new = tuple(r for r in REGIONS if r in involved and r not in self.ever and r not in self.onset)
        self.ever |= involved
        return new


class _Fold:
    """The fold of :func:`classify_case` after the visits fed so far: one tracker per concern
    (progression, King's, MiToS, slope, spread, phenotype). :meth:`step` classifies the next
    visit; :meth:`copy` is an independent state to go on from later (the trackers' own
    containers are copied; the evidence they point at is read-only and shared)."""

    __slots__ = (
        "catalogue",
        "kings",
        "mitos",
        "mrc_muscles",
        "options",
        "patient",
        "phenotypes",
        "progression",
        "slope",
        "spread",
        "umn_items",
    )

    def __init__(self, patient, catalogue: Catalogue, options: Options, onset_regions: set[str]):
        self.patient, self.catalogue, self.options = patient, catalogue, options
        self.mrc_muscles = mrc_sum_muscles(catalogue)
        self.umn_items = umn_score_items(catalogue)
        self.progression = ProgressionTracker(options)
        self.kings = KingsClinicalTracker(patient, catalogue)
        self.mitos, self.slope = MitosTracker(patient), SlopeTracker()
        self.spread = SpreadTracker(onset_regions)
        self.phenotypes = PhenotypeTracker(patient, catalogue)

    def copy(self) -> _Fold:
        new = _Fold.__new__(_Fold)
        new.patient, new.catalogue, new.options = self.patient, self.catalogue, self.options
        new.mrc_muscles, new.umn_items = self.mrc_muscles, self.umn_items
        new.progression, new.kings = self.progression.copy(), self.kings.copy()
        new.mitos, new.slope = self.mitos.copy(), self.slope.copy()
        new.spread, new.phenotypes = self.spread.copy(), self.phenotypes.copy()
        return new

    def step(self, visit: Visit, ev: VisitEvidence, history, excluded) -> VisitClassification:
        """Classify the next visit from its evidence and the history flags in force
        (``(value, date recorded)`` each), and remember it for the next ones."""
        patient, catalogue, options = self.patient, self.catalogue, self.options
        involved = ev.involved()
        hist, hist_on = history
        alt, alt_on = bool(excluded[0]), excluded[1]
        confirmed, prog_reasons = self.progression.add(visit, ev, involved, hist)
        criteria = {
            cid: c.evaluate(ev.criterion_input(cid, progression=confirmed, alternatives_excluded=alt, options=options))
            for cid, c in REGISTRY.items()
        }
        a = visit.alsfrs_r
        kings_stage, kings_regions = self.kings.add(visit, ev)
        return _make_visit_classification(
            date=visit.date,
            evidence=ev,
            criteria=criteria,
            progressive_by_history=hist,
            alternatives_excluded=alt,
            flags_recorded={"progressive_by_history": hist_on, "alternatives_excluded": alt_on},
            progression=confirmed,
            progression_reasons=prog_reasons,
            alsfrs_r=alsfrs_subscores(a) if a else None,
            delta_fs=delta_fs(a, patient.onset_date, visit.date),
            alsfrs_r_slope=self.slope.add(visit),
            kings_alsfrs=kings_from_alsfrs(a),
            kings_clinical=kings_stage,
            kings_regions=kings_regions,
            mitos=self.mitos.add(visit),
            mrc_sum=mrc_sum_of_grades(
                (s.key, s.finding.mrc) for s in ev.muscles if s.key[0] in self.mrc_muscles),
            umn_score=umn_score(visit, catalogue, self.umn_items),
            phenotype=self.phenotypes.add(visit, ev),
            regions_involved=tuple(r for r in REGIONS if r in involved),
            new_regions=self.spread.add(involved),
            warnings=tuple(_milestone_warnings(patient, visit)),
        )


def classify_case(
    case: Case,
    catalogue: Catalogue,
    options: Options | None = None,
    *,
    cache: EvidenceCache | None = None,
    context: EvidenceContext | None = None,
) -> CaseClassification:
    """Classify every visit of a case in date order (clinical-rules sections 1-10): a fold over
    the visits with one tracker per concern (progression, King's, MiToS, slope, spread,
    phenotype), each fed the visit and its evidence.

    ``cache`` (optional) reuses the evidence of visits unchanged since the last call, and the
    fold up to the first visit that changed. Without one, ``context`` (optional, made from the
    same catalogue and options) lets several cases share one evidence context: it remembers
    only what the catalogue and options decide, never a patient (the demo clinic's helpers
    classify 25 patients with one, 16% less time classifying)."""
    # The fold makes tens of thousands of small objects that all live on in the result: the
    # cyclic garbage collector would traverse them again and again (about 8% of a cold 30-visit
    # history), so it is paused for the call.
    with paused_gc():
        return _classify_case(case, catalogue, options, cache, context)


def _classify_case(case: Case, catalogue: Catalogue, options: Options | None,
                   cache: EvidenceCache | None, context: EvidenceContext | None = None) -> CaseClassification:
    options = options or Options()
    if context is not None and cache is not None:
        raise ValueError("a cache keeps its own evidence context: give one or the other")
    if context is not None and (context.catalogue is not catalogue or context.options != options):
        raise ValueError("the evidence context was made from another catalogue or other options")
    patient = case.patient
    visits = case.visits
    onset_regions = set(ONSET_REGIONS.get(patient.onset_region or "", ()))
    history = _carried(visits, "progressive_by_history")
    excluded = _carried(visits, "alternatives_excluded")

    if cache is None:
        ctx = context if context is not None else EvidenceContext(catalogue, options)
        fold = _Fold(patient, catalogue, options, onset_regions)
        out: list[VisitClassification] = []
        for k, visit in enumerate(visits):
            out.append(fold.step(visit, visit_evidence(visit, catalogue, options, ctx), history[k], excluded[k]))
    else:
        ctx = cache.context(catalogue, options)
        start, fold, out = cache.resume(visits, patient, catalogue, options)
        if fold is None:
            fold = _Fold(patient, catalogue, options, onset_regions)
        for k in range(start, len(visits)):
            visit = visits[k]
            vc = fold.step(visit, cache.evidence(visit, catalogue, options, ctx), history[k], excluded[k])
            out.append(vc)
            cache.remember(visit, fold, vc)

    timeline, order = _timeline(out, onset_regions)
    return CaseClassification(
        visits=tuple(out), highest=highest_reached(out), timeline=timeline, spread_order=order,
        options=options,
    )


def highest_reached(visits) -> dict[str, tuple[CriterionResult | None, dt.date | None]]:
    """Per criterion, the highest result reached at any visit (as shown at that visit,
    whatever its pending items) and the first date it was reached (clinical-rules 10)."""
    highest: dict[str, tuple[CriterionResult | None, dt.date | None]] = {}
    for cid in REGISTRY:
        best, best_date = None, None
        for vc in visits:
            res = vc.criteria.get(cid)
            if res is not None and res.reached and (best is None or res.rank > best.rank):
                best, best_date = res, vc.date
        highest[cid] = (best, best_date)
    return highest


def _kings_clinical(
    patient, date: dt.date, n_regions: int, *, alsfrs_gastrostomy: bool = False,
    alsfrs_ventilation: bool = False,
) -> str:
    """King's clinical stage at a date (KING; clinical-rules 7, 10).

    5 once the death date is reached. 4A: gastrostomy provided or refused (its date reached),
    or ALSFRS-R item 5b at this or an earlier visit (``alsfrs_gastrostomy``). 4B: NIV provided,
    trialled or refused (its date reached), a tracheostomy date reached (invasive ventilation),
    or ALSFRS-R respiratory insufficiency <= 3 at this or an earlier visit
    (``alsfrs_ventilation``). Both give ``4A+4B``. Otherwise 3 for three or more King's
    regions, 2B for two, 2A for one once the diagnosis date is reached, 1 before."""
    reached = lambda d: d is not None and d <= date  # noqa: E731
    if reached(patient.death_date):
        return "5"
    g = reached(patient.gastrostomy_date) or alsfrs_gastrostomy
    n = reached(patient.niv_date) or reached(patient.tracheostomy_date) or alsfrs_ventilation
    if g and n:
        return "4A+4B"
    if g:
        return "4A"
    if n:
        return "4B"
    if n_regions >= 3:
        return "3"
    if n_regions == 2:
        return "2B"
    if patient.diagnosis_date is not None and patient.diagnosis_date <= date:
        return "2A"
    return "1"


def _timeline(visits: list[VisitClassification], onset_regions: set[str]):
    """Regional spread timeline (clinical-rules 6): first UMN, LMN and both per region, the
    order of spread and whether each new region was contiguous with an involved one."""
    firsts: dict[str, dict[str, dt.date | None]] = {
        r: {"umn": None, "lmn": None, "both": None, "inv": None} for r in REGIONS
    }
    for vc in visits:
        for r in REGIONS:
            e = vc.evidence.regions[r]
            u = e.umn.get(SPREAD_CRITERION, False)
            lmn = e.lmn(SPREAD_CRITERION)
            f = firsts[r]
            if u and f["umn"] is None:
                f["umn"] = vc.date
            if lmn and f["lmn"] is None:
                f["lmn"] = vc.date
            if u and lmn and f["both"] is None:
                f["both"] = vc.date
            if (u or lmn) and f["inv"] is None:
                f["inv"] = vc.date
    # Order: onset region(s) first, then by first involvement date, rostral first on ties.
    order = [r for r in REGIONS if r in onset_regions]
    rest = sorted(
        (r for r in REGIONS if r not in onset_regions and firsts[r]["inv"] is not None),
        key=lambda r: (firsts[r]["inv"], REGION_RANK[r]),
    )
    involved_so_far = set(order)
    contiguous: dict[str, bool] = {}
    for r in rest:
        before = involved_so_far | {
            x for x in REGIONS if firsts[x]["inv"] is not None and firsts[x]["inv"] < firsts[r]["inv"]
        }
        contiguous[r] = any(abs(REGION_RANK[r] - REGION_RANK[x]) == 1 for x in before) if before else False
        involved_so_far.add(r)
    order += rest
    timeline = tuple(
        RegionTimeline(
            region=r,
            first_umn=firsts[r]["umn"],
            first_lmn=firsts[r]["lmn"],
            first_both=firsts[r]["both"],
            first_involved=firsts[r]["inv"],
            onset=r in onset_regions,
            contiguous=contiguous.get(r),
        )
        for r in REGIONS
    )
    return timeline, tuple(order)


__all__ = ["classify_case", "CaseClassification", "EvidenceCache", "VisitClassification", "Ref"]
