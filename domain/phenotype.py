"""Phenotype label at a visit, from the visits so far (clinical-rules 8; PLS20, PHEN, FAFL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .case import Patient, Visit
from .catalogue import Catalogue
from .evidence import VisitEvidence
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


_VARIANTS = (
    # label, territory test on a muscle state, spasticity/clonus forbidden, words
    ("progressive_bulbar_palsy", lambda s: s.region == "bulbar", False, "the bulbar region"),
    ("flail_arm", lambda s: s.muscle.limb == "arm", True, "arm muscles"),
    ("flail_leg", lambda s: s.muscle.limb == "leg", True, "leg muscles"),
)


def _window(label_months: int | None, onset: dt.date | None, date: dt.date):
    """(provisional, final_after) for a label whose window is ``label_months`` from onset."""
    if label_months is None:
        return False, None
    if onset is None:
        return True, None
    end = add_months(onset, label_months)
    return date < end, end


class PhenotypeTracker:
    """Phenotype at each visit from the visits so far, fed one visit at a time in date order
    (clinical-rules 8; PLS20, PHEN, FAFL). Cumulative state is kept, so a history costs one pass.

    Order: PLS; progressive bulbar palsy, flail arm, flail leg; PMA; UMN only; UMN- or
    LMN-predominant; classic; undetermined. LMN evidence is per muscle (clinical, rEEC rule, or
    EMG by the Awaji predicate); UMN evidence is the rEEC/AWJ U."""

    def __init__(self, patient: Patient, catalogue: Catalogue):
        self.patient = patient
        self.catalogue = catalogue
        self.onset = patient.onset_date
        self.umn_regions: set[str] = set()
        self.lmn_muscles: set[tuple[str, str]] = set()
        self.lmn_regions: set[str] = set()
        # Per regional variant: confined through every visit so far; LMN seen in the first year;
        # the verdict at the first visit 12 months or more after onset (None until then).
        self.confined = {v[0]: True for v in _VARIANTS}
        self.early_lmn = {v[0]: False for v in _VARIANTS}
        self.final = {v[0]: None for v in _VARIANTS}
        self.year_end = add_months(self.onset, 12) if self.onset else None

    def add(self, visit: Visit, ev: VisitEvidence) -> Phenotype:
        date = visit.date
        spastic = frozenset(
            sf.sign for sf in visit.signs
            if sf.present and self.catalogue.sign[sf.sign].spasticity_or_clonus
        )
        for r, re_ in ev.regions.items():
            if re_.umn.get("el_escorial"):
                self.umn_regions.add(r)
        lmn_states = [s for s in ev.muscles if not s.ignored and s.lmn_awaji]
        for s in lmn_states:
            self.lmn_muscles.add(s.key)
            self.lmn_regions.add(s.region)
        if self.year_end is not None:
            early = date < self.year_end
            for label, in_territory, no_spastic, _w in _VARIANTS:
                if (no_spastic and spastic) or any(not in_territory(s) for s in lmn_states):
                    self.confined[label] = False
                if early and lmn_states:
                    self.early_lmn[label] = True
                if not early and self.final[label] is None:
                    self.final[label] = self.confined[label]
        return self._label(date)

    def _label(self, date: dt.date) -> Phenotype:
        onset, patient = self.onset, self.patient
        onset_label = patient.onset_region
        umn_regions, lmn_muscles = self.umn_regions, self.lmn_muscles

        def make(label: str, months: int | None, reason: str) -> Phenotype:
            prov, fin = _window(months, onset, date)
            return Phenotype(onset_label, label, prov, fin, reason)

        # 1. PLS (PLS20): age at onset >= 25, UMN in >= 2 of bulbar, upper and lower limb, no LMN.
        limb_umn = umn_regions & {"bulbar", "cervical", "lumbosacral"}
        age_ok = (
            patient.birth_date is not None
            and onset is not None
            and years_between(patient.birth_date, onset) >= 25
        )
        if age_ok and len(limb_umn) >= 2 and not lmn_muscles:
            where = ", ".join(sorted(limb_umn))
            if date >= add_months(onset, 48):
                return Phenotype(
                    onset_label, "pls_definite", False, add_months(onset, 48),
                    f"UMN evidence in {where}, no LMN evidence, 4 years from onset (PLS20).",
                )
            if date >= add_months(onset, 24):
                return Phenotype(
                    onset_label, "pls_probable", True, add_months(onset, 48),
                    f"UMN evidence in {where}, no LMN evidence, 2 years from onset; "
                    "definite from 4 years (PLS20).",
                )

        # 2. Regional variants defined by the first year (PHEN, FAFL).
        if self.year_end is not None:
            for label, _t, _n, words in _VARIANTS:
                if not self.early_lmn[label]:
                    continue
                verdict = self.final[label]
                if verdict is None and self.confined[label]:
                    return Phenotype(
                        onset_label, label, True, self.year_end,
                        f"LMN evidence confined to {words} so far; final 12 months after onset "
                        "(PHEN, FAFL).",
                    )
                if verdict:
                    return Phenotype(
                        onset_label, label, False, self.year_end,
                        f"LMN evidence confined to {words} through the first year (PHEN, FAFL).",
                    )

        # 3. PMA
        if lmn_muscles and not umn_regions:
            return make(
                "pma", 48, "LMN evidence and no UMN evidence at any visit; final 48 months after onset."
            )
        # 4. UMN only
        if umn_regions and not lmn_muscles:
            return make(
                "umn_only", 24,
                f"UMN evidence in {', '.join(sorted(umn_regions))}, no LMN evidence; "
                "PLS not established (can be considered 2 years after onset).",
            )
        # 5. Predominant forms
        if len(umn_regions) >= 2 and len(lmn_muscles) <= 2:
            return make(
                "umn_predominant", None,
                f"UMN evidence in {len(umn_regions)} regions, LMN evidence in "
                f"{len(lmn_muscles)} muscle/side(s).",
            )
        if len(self.lmn_regions) >= 2 and len(umn_regions) == 1:
            return make(
                "lmn_predominant", None,
                f"LMN evidence in {len(self.lmn_regions)} regions, UMN evidence in 1 region.",
            )
        if umn_regions or lmn_muscles:
            return make("classic", None, "UMN and LMN evidence.")
        return Phenotype(onset_label, "undetermined", True, None, "No UMN or LMN evidence recorded yet.")
