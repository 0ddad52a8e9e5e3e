"""Phenotype label at a visit, from the visits so far (clinical-rules 8; PLS20, PHEN, FAFL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .case import Patient, Visit
from .catalogue import Catalogue
from .evidence import SPREAD_CRITERION, MuscleState, VisitEvidence
from .scores import add_months, years_between

PHENOTYPE_NAMES = {
    "classic": "Classic",
    "pls_probable": "PLS probable",
    "pls_definite": "PLS definite",
    "umn_only": "UMN only",
    "pma": "PMA",
    "umn_predominant": "UMN-predominant",
    "lmn_predominant": "LMN-predominant",
    "flail_arm": "Flail arm",
    "flail_leg": "Flail leg",
    "progressive_bulbar_palsy": "Progressive bulbar palsy",
    "undetermined": "Undetermined",
}
"""How each phenotype label is written for people (screens, reports)."""


@dataclass(frozen=True, slots=True)
class Phenotype:
    onset: str | None
    label: str
    provisional: bool
    final_after: dt.date | None
    reason: str

    @property
    def name(self) -> str:
        """The label as written for people: "PLS probable", "Flail arm"."""
        return PHENOTYPE_NAMES[self.label]

    def as_json(self) -> dict:
        return {
            "onset": self.onset,
            "label": self.label,
            "provisional": self.provisional,
            "final_after": self.final_after.isoformat() if self.final_after else None,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class _Variant:
    """One regional variant (clinical-rules 8 item 2; PHEN, FAFL).

    ``limb`` is the catalogue ``limb`` of its territory (None: the bulbar region); ``alsfrs``
    names its own ALSFRS-R item group (items of the other groups must stay at 4 in the first
    year); ``flail``: spastic dysarthria and spasticity or clonus signs rule it out."""

    label: str
    words: str
    limb: str | None
    alsfrs: str
    flail: bool

    def in_territory(self, s: MuscleState) -> bool:
        if self.limb is None:
            return s.region == "bulbar"
        return s.muscle.limb == self.limb


_VARIANTS = (
    _Variant("progressive_bulbar_palsy", "the bulbar region", None, "bulbar", False),
    _Variant("flail_arm", "arm muscles", "arm", "arm", True),
    _Variant("flail_leg", "leg muscles", "leg", "leg", True),
)

_ALSFRS_GROUPS = {
    # ALSFRS-R items that show a region functionally involved (clinical-rules 8 item 2; FRS):
    # bulbar 1-3, arms 4-5, legs 8-9.
    "bulbar": ("speech", "salivation", "swallowing"),
    "arm": ("handwriting", "cutting_food"),
    "leg": ("walking", "climbing_stairs"),
}

WORKING_DEFINITION = "Motorchart's working definition, not a published criterion"
"""Said in the reason of UMN- and LMN-predominant (clinical-rules 8 item 5)."""


def _window(label_months: int | None, onset: dt.date | None, date: dt.date):
    """(provisional, final_after) for a label whose window is ``label_months`` from onset."""
    if label_months is None:
        return False, None
    if onset is None:
        return True, None
    end = add_months(onset, label_months)
    return date < end, end


def _n(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


class PhenotypeTracker:
    """Phenotype at each visit from the visits so far, fed one visit at a time in date order
    (clinical-rules 8; PLS20, PHEN, FAFL). Cumulative state is kept, so a history costs one pass.

    Order: PLS; progressive bulbar palsy, flail arm, flail leg; PMA; UMN only; UMN- or
    LMN-predominant; classic; undetermined. UMN evidence is the rEEC/AWJ U (section 3).

    LMN evidence (section 8) is per muscle: clinical (4.1, rEEC rule) or EMG by the Awaji
    predicate. PLS and UMN-only instead ask for no *significant* LMN degeneration (PLS20,
    Turner 2020): no clinical LMN evidence at any visit and no region meeting the Awaji regional
    EMG rule (4.3) at any visit; a muscle with EMG LMN in a region that does not meet that rule is
    an isolated finding, tolerated and named in the reason. PMA, the regional variants, the
    predominant forms and classic keep the per-muscle LMN evidence."""

    def __init__(self, patient: Patient, catalogue: Catalogue):
        self.patient = patient
        self.catalogue = catalogue
        self.onset = patient.onset_date
        self.umn_regions: set[str] = set()
        self.lmn_muscles: set[tuple[str, str]] = set()
        self.lmn_regions: set[str] = set()
        # Significant LMN degeneration (PLS20; section 8 items 1 and 4), and the isolated EMG
        # findings tolerated so far (muscle/side -> text), in the order first seen.
        self.lmn_clinical_seen = False
        self.emg_regions: set[str] = set()
        self.isolated: dict[tuple[str, str], str] = {}
        # Regional variants (PHEN, FAFL): per variant, confined at every visit so far of the
        # first year (and at the deciding visit); the verdict at the first visit 12 months or
        # more after onset (None until then; never without an onset date). Shared: LMN evidence
        # seen in the first year, and the first-year arm and leg muscle/sides with LMN evidence
        # by segment (cumulative over the first-year visits).
        self.confined = {v.label: True for v in _VARIANTS}
        self.final: dict[str, bool | None] = {v.label: None for v in _VARIANTS}
        self.early_lmn = False
        self.segments: dict[tuple[str, str], set[tuple[str, str]]] = {
            (limb, seg): set() for limb in ("arm", "leg") for seg in ("proximal", "distal")
        }
        self.year_end = add_months(self.onset, 12) if self.onset else None

    def copy(self) -> PhenotypeTracker:
        """An independent copy of what has been fed so far."""
        new = PhenotypeTracker.__new__(PhenotypeTracker)
        new.patient, new.catalogue, new.onset = self.patient, self.catalogue, self.onset
        new.umn_regions, new.lmn_muscles = set(self.umn_regions), set(self.lmn_muscles)
        new.lmn_regions = set(self.lmn_regions)
        new.lmn_clinical_seen, new.emg_regions = self.lmn_clinical_seen, set(self.emg_regions)
        new.isolated = dict(self.isolated)
        new.confined, new.final = dict(self.confined), dict(self.final)
        new.early_lmn = self.early_lmn
        new.segments = {k: set(v) for k, v in self.segments.items()}
        new.year_end = self.year_end
        return new

    def add(self, visit: Visit, ev: VisitEvidence) -> Phenotype:
        date = visit.date
        for r, re_ in ev.regions.items():
            if re_.umn.get(SPREAD_CRITERION):
                self.umn_regions.add(r)
            if re_.lmn_emg.get(SPREAD_CRITERION):
                self.emg_regions.add(r)
        # LMN evidence (s.lmn_evidence): clinical (rEEC rule), or EMG by the Awaji predicate
        lmn_states = [
            s for s in ev.muscles
            if not s.ignored and (s.lmn_clinical or s.lmn_emg.get(SPREAD_CRITERION, False))
        ]
        if lmn_states:
            regions, isolated = ev.regions, self.isolated
            for s in lmn_states:
                if s.lmn_clinical:
                    self.lmn_clinical_seen = True
                elif not regions[s.region].lmn_emg.get(SPREAD_CRITERION) and s.key not in isolated:
                    isolated[s.key] = f"{s.label} ({s.region} regional EMG rule not met)"
            self.lmn_muscles.update([s.key for s in lmn_states])
            self.lmn_regions.update([s.region for s in lmn_states])
        in_year = self.year_end is None or date < self.year_end
        if in_year or None in self.final.values():
            self._variants(visit, ev, lmn_states, in_year)
        return self._label(date)

    def _variants(self, visit: Visit, ev: VisitEvidence, lmn_states: list, in_year: bool) -> None:
        """Regional variants (clinical-rules 8 item 2; PHEN, FAFL), at a first-year visit (every
        visit without an onset date) or at the first visit 12 months or more after onset, which
        decides: the per-visit conditions must still hold there. Per visit: all LMN evidence in
        the territory; no weak or wasted muscle outside it (other_cause muscles ignored:
        clinical-rules 10); no
        ALSFRS-R item of another region below 4 (bulbar 1-3, arms 4-5, legs 8-9); for flail arm
        and leg no spastic dysarthria and no spasticity or clonus sign. The proximal/distal
        pattern is counted over the first-year visits only (see :meth:`_pattern`)."""
        sign = self.catalogue.sign
        spastic = dysarthria = False
        for sf in visit.signs:
            if sf.present:
                if sign[sf.sign].spasticity_or_clonus:
                    spastic = True
                if sf.sign == "spastic_dysarthria":
                    dysarthria = True
        a = visit.alsfrs_r
        low = (
            {g for g, items in _ALSFRS_GROUPS.items() if any(getattr(a, i) < 4 for i in items)}
            if a is not None else set()
        )
        affected = [s for s in ev.muscles if not s.ignored and (s.weak or s.wasted or s.lmn_evidence)]
        for v in _VARIANTS:
            if self.final[v.label] is not None or not self.confined[v.label]:
                continue
            if (
                any(not v.in_territory(s) for s in affected)
                or any(g != v.alsfrs for g in low)
                or (v.flail and (spastic or dysarthria))
            ):
                self.confined[v.label] = False
        if in_year:
            if lmn_states:
                self.early_lmn = True
            for s in lmn_states:
                limb, seg = s.muscle.limb, s.muscle.segment
                if limb is not None and seg is not None:
                    self.segments[limb, seg].add(s.key)
        else:
            for v in _VARIANTS:
                if self.final[v.label] is None:
                    self.final[v.label] = (
                        self.confined[v.label] and self.early_lmn and self._pattern(v)[0]
                    )

    def _pattern(self, v: _Variant) -> tuple[bool, str]:
        """The first-year LMN pattern of a flail variant (clinical-rules 8 item 2; FAFL,
        Wijesekera 2009), cumulative over the first-year visits: flail arm has LMN evidence in
        proximal arm muscles of both arms and at least as many proximal as distal arm
        muscle/sides with LMN evidence; flail leg at least as many distal as proximal leg
        muscle/sides. Returns (met, words for the reason)."""
        if v.limb is None:
            return True, ""
        prox, dist = self.segments[v.limb, "proximal"], self.segments[v.limb, "distal"]
        counts = (
            f"{len(prox)} proximal and {len(dist)} distal {v.limb} muscle/side(s) with LMN "
            "evidence in the first year"
        )
        if v.limb == "arm":
            sides = {side for _m, side in prox}
            both = {"left", "right"} <= sides
            return both and len(prox) >= len(dist), f"proximal arm LMN evidence in both arms, {counts}"
        return len(dist) >= len(prox), counts

    def _significant(self) -> bool:
        """Significant LMN degeneration at some visit (PLS20; clinical-rules 8 item 1)."""
        return self.lmn_clinical_seen or bool(self.emg_regions)

    def _tolerated(self) -> str:
        """The isolated EMG findings tolerated by PLS and UMN-only, for the reason."""
        if not self.isolated:
            return ""
        word = "finding" if len(self.isolated) == 1 else "findings"
        return f"; isolated EMG {word} tolerated: " + ", ".join(self.isolated.values())

    def _label(self, date: dt.date) -> Phenotype:
        onset, patient = self.onset, self.patient
        onset_label = patient.onset_region
        umn_regions, lmn_muscles = self.umn_regions, self.lmn_muscles

        def make(label: str, months: int | None, reason: str) -> Phenotype:
            prov, fin = _window(months, onset, date)
            return Phenotype(onset_label, label, prov, fin, reason)

        significant = self._significant()
        no_lmn = (  # said by PLS and UMN only, which need no significant LMN degeneration
            "no significant LMN degeneration (no clinical LMN evidence, no region meeting the "
            "Awaji regional EMG rule)" + self._tolerated()
        ) if not significant else ""

        # 1. PLS (PLS20): age at onset >= 25, UMN in >= 2 of bulbar, upper and lower limb, no
        # significant LMN degeneration at any visit.
        limb_umn = umn_regions & {"bulbar", "cervical", "lumbosacral"}
        age_ok = (
            patient.birth_date is not None
            and onset is not None
            and years_between(patient.birth_date, onset) >= 25
        )
        if age_ok and len(limb_umn) >= 2 and not significant:
            where = ", ".join(sorted(limb_umn))
            if date >= add_months(onset, 48):
                return Phenotype(
                    onset_label, "pls_definite", False, add_months(onset, 48),
                    f"UMN evidence in {where}, {no_lmn}; 4 years from onset (PLS20).",
                )
            if date >= add_months(onset, 24):
                return Phenotype(
                    onset_label, "pls_probable", True, add_months(onset, 48),
                    f"UMN evidence in {where}, {no_lmn}; 2 years from onset, "
                    "definite from 4 years (PLS20).",
                )

        # 2. Regional variants defined by the first year (PHEN, FAFL).
        if self.early_lmn:
            for v in _VARIANTS:
                verdict = self.final[v.label]
                if verdict is None:
                    ok, pattern = self._pattern(v)
                    if not (self.confined[v.label] and ok):
                        continue
                else:
                    if not verdict:
                        continue
                    pattern = self._pattern(v)[1]
                extra = f"; {pattern}" if pattern else ""
                nothing = (
                    "no weak or wasted muscle or ALSFRS-R item below 4 outside the territory"
                    + ("; no spastic dysarthria, spasticity or clonus" if v.flail else "")
                )
                if verdict:
                    return Phenotype(
                        onset_label, v.label, False, self.year_end,
                        f"LMN evidence confined to {v.words} through the first year{extra}; "
                        f"{nothing} (PHEN, FAFL).",
                    )
                when = (
                    "final 12 months after onset" if self.year_end is not None
                    else "onset date unknown, so it cannot become final"
                )
                return Phenotype(
                    onset_label, v.label, True, self.year_end,
                    f"LMN evidence confined to {v.words} so far{extra}; {nothing}; {when} "
                    "(PHEN, FAFL).",
                )

        # 3. PMA
        if lmn_muscles and not umn_regions:
            return make(
                "pma", 48, "LMN evidence and no UMN evidence at any visit; final 48 months after onset."
            )
        # 4. UMN only (as for PLS: no significant LMN degeneration).
        if umn_regions and not significant:
            return make(
                "umn_only", 24,
                f"UMN evidence in {', '.join(sorted(umn_regions))}, {no_lmn}; "
                "PLS not established (can be considered 2 years after onset) (PLS20).",
            )
        # 5. Predominant forms: Motorchart's own thresholds (clinical-rules 8 item 5).
        if len(umn_regions) >= 2 and len(lmn_muscles) <= 2:
            return make(
                "umn_predominant", None,
                f"UMN evidence in {len(umn_regions)} regions, LMN evidence in "
                f"{_n(len(lmn_muscles), 'muscle/side')} ({WORKING_DEFINITION}).",
            )
        if len(self.lmn_regions) >= 2 and len(umn_regions) == 1:
            return make(
                "lmn_predominant", None,
                f"LMN evidence in {len(self.lmn_regions)} regions, UMN evidence in 1 region "
                f"({WORKING_DEFINITION}).",
            )
        if umn_regions or lmn_muscles:
            return make("classic", None, "UMN and LMN evidence.")
        return Phenotype(onset_label, "undetermined", True, None, "No UMN or LMN evidence recorded yet.")
