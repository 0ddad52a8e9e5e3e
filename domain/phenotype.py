"""Phenotype label at a visit, from the visits so far (clinical-rules 8; PLS20, PHEN, FAFL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .case import Patient
from .evidence import VisitEvidence
from .scores import add_months, years_between


@dataclass(frozen=True, slots=True)
class Phenotype:
    onset: str | None
    label: str
    provisional: bool
    final_after: dt.date | None
    reason: str

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


def phenotype_at(
    patient: Patient,
    history: list[tuple[dt.date, VisitEvidence, frozenset[str]]],
) -> Phenotype:
    """The phenotype at the last visit of ``history`` (visits so far, in date order, each with
    its evidence and the spasticity/clonus signs recorded present).

    Order: PLS (PLS20); progressive bulbar palsy, flail arm, flail leg (PHEN, FAFL); PMA; UMN
    only; UMN- or LMN-predominant; classic; undetermined. LMN evidence is per muscle (clinical,
    rEEC rule, or EMG by the Awaji predicate); UMN evidence is the rEEC/AWJ U."""
    onset = patient.onset_date
    date = history[-1][0]
    onset_label = patient.onset_region
    umn_regions: set[str] = set()
    lmn_muscles: set[tuple[str, str]] = set()
    lmn_regions: set[str] = set()
    for _, ev, _sc in history:
        for r, re_ in ev.regions.items():
            if re_.umn.get("el_escorial"):
                umn_regions.add(r)
        for s in ev.muscles:
            if not s.ignored and s.lmn_awaji:
                lmn_muscles.add(s.key)
                lmn_regions.add(s.region)

    def make(label: str, months: int | None, reason: str) -> Phenotype:
        prov, fin = _window(months, onset, date)
        return Phenotype(onset_label, label, prov, fin, reason)

    # 1. PLS (PLS20)
    limb_umn = umn_regions & {"bulbar", "cervical", "lumbosacral"}
    age_ok = (
        patient.birth_date is not None
        and onset is not None
        and years_between(patient.birth_date, onset) >= 25
    )
    if age_ok and len(limb_umn) >= 2 and not lmn_muscles:
        if date >= add_months(onset, 48):
            return Phenotype(
                onset_label, "pls_definite", False, add_months(onset, 48),
                f"UMN evidence in {', '.join(sorted(limb_umn))}, no LMN evidence, 4 years from onset (PLS20).",
            )
        if date >= add_months(onset, 24):
            return Phenotype(
                onset_label, "pls_probable", True, add_months(onset, 48),
                f"UMN evidence in {', '.join(sorted(limb_umn))}, no LMN evidence, 2 years from onset; "
                "definite from 4 years (PLS20).",
            )

    # 2. Regional variants defined by the first year (PHEN, FAFL)
    if onset is not None:
        year_end = add_months(onset, 12)
        early = [h for h in history if h[0] < year_end]
        late = [h for h in history if h[0] >= year_end]
        for label, in_territory, no_spastic, words in _VARIANTS:
            if not early:
                break

            def confined(upto) -> bool:
                for _, ev, spastic in upto:
                    if no_spastic and spastic:
                        return False
                    for s in ev.muscles:
                        if not s.ignored and s.lmn_awaji and not in_territory(s):
                            return False
                return True

            has_lmn = any(
                not s.ignored and s.lmn_awaji for _, ev, _sc in early for s in ev.muscles
            )
            if not has_lmn or not confined(early):
                continue
            if not late:
                return Phenotype(
                    onset_label, label, True, year_end,
                    f"LMN evidence confined to {words} so far; final 12 months after onset (PHEN, FAFL).",
                )
            first_late_idx = history.index(late[0])
            if confined(history[: first_late_idx + 1]):
                return Phenotype(
                    onset_label, label, False, year_end,
                    f"LMN evidence confined to {words} through the first year (PHEN, FAFL).",
                )

    # 3. PMA
    if lmn_muscles and not umn_regions:
        return make("pma", 48, "LMN evidence and no UMN evidence at any visit; final 48 months after onset.")
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
            f"UMN evidence in {len(umn_regions)} regions, LMN evidence in {len(lmn_muscles)} muscle/side(s).",
        )
    if len(lmn_regions) >= 2 and len(umn_regions) == 1:
        return make(
            "lmn_predominant", None,
            f"LMN evidence in {len(lmn_regions)} regions, UMN evidence in 1 region.",
        )
    if umn_regions or lmn_muscles:
        return make("classic", None, "UMN and LMN evidence.")
    return Phenotype(onset_label, "undetermined", True, None, "No UMN or LMN evidence recorded yet.")
