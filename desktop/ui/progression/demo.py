"""A fictional, plausible progressive patient for screenshots, benchmarks and tests.

Onset in the right hand, spread to the left arm, the legs and then bulbar muscles, with ALSFRS-R,
FVC and weight falling; some muscles are not examined at some visits, as in a real clinic.
"""

from __future__ import annotations

import datetime as dt

from domain.case import MRC_GRADES, AlsfrsR, Case, Emg, MuscleFinding, Patient, ReflexFinding, SignFinding, Visit

# muscle, side, first visit it weakens, grades lost per visit, visits at which it is not examined
_MUSCLES = (
    ("tongue", "midline", 7, 0.9, (0, 1, 2)),
    ("deltoid", "right", 1, 0.8, ()),
    ("deltoid", "left", 4, 0.6, ()),
    ("biceps", "right", 1, 0.9, ()),
    ("biceps", "left", 4, 0.7, ()),
    ("extensor_carpi_radialis", "right", 0, 1.0, ()),
    ("extensor_carpi_radialis", "left", 3, 0.8, ()),
    ("first_dorsal_interosseous", "right", 0, 1.4, ()),
    ("first_dorsal_interosseous", "left", 3, 1.0, ()),
    ("abductor_pollicis_brevis", "right", 0, 1.2, ()),
    ("iliopsoas", "right", 6, 0.7, (1,)),
    ("iliopsoas", "left", 5, 0.8, (1,)),
    ("quadriceps", "right", 6, 0.6, (1,)),
    ("quadriceps", "left", 5, 0.7, (1,)),
    ("tibialis_anterior", "right", 5, 1.0, (1,)),
    ("tibialis_anterior", "left", 3, 1.1, (1,)),
)
_ITEMS = (  # ALSFRS-R item, first visit it falls, points lost per visit
    ("handwriting", 0, 0.45), ("cutting_food", 0, 0.4), ("dressing_hygiene", 2, 0.35),
    ("climbing_stairs", 3, 0.4), ("walking", 4, 0.35), ("turning_in_bed", 5, 0.3),
    ("speech", 6, 0.4), ("swallowing", 7, 0.35), ("salivation", 8, 0.3),
    ("dyspnea", 9, 0.3), ("orthopnea", 10, 0.3), ("respiratory_insufficiency", 12, 0.25),
)


def _grade(k: int, start: int, rate: float) -> str:
    lost = max(0.0, (k - start + 1) * rate) if k >= start else 0.0
    return MRC_GRADES[max(0, len(MRC_GRADES) - 1 - round(lost))]


def _wasting(k: int, start: int, rate: float) -> str:
    lost = max(0.0, (k - start + 1) * rate) if k >= start else 0.0
    return "none" if lost < 2.5 else "mild" if lost < 5 else "moderate" if lost < 8 else "severe"


def demo_visit(k: int, date: dt.date, *, alsfrs: bool = True, gastrostomy: bool = False) -> Visit:
    muscles = []
    for mid, side, start, rate, skip in _MUSCLES:
        if k in skip:
            continue
        emg = None
        if k == 1 and mid in ("first_dorsal_interosseous", "biceps", "tibialis_anterior") and side != "midline":
            emg = Emg(fibrillations=2, positive_sharp_waves=1, fasciculation_potentials="present",
                      mup_large=True, recruitment="reduced")
        muscles.append(MuscleFinding(muscle=mid, side=side, mrc=_grade(k, start, rate),
                                     wasting=_wasting(k, start, rate),
                                     fasciculations=k >= start, emg=emg))
    if k == 1:
        muscles.append(MuscleFinding(muscle="gastrocnemius", side="left",
                                     emg=Emg(positive_sharp_waves=2, mup_large=True)))
    reflexes = [
        ReflexFinding(reflex="biceps", side="right", grade=4 if k >= 2 else 3, spread=k >= 1),
        ReflexFinding(reflex="biceps", side="left", grade=3),
        ReflexFinding(reflex="knee", side="left", grade=4 if k >= 2 else 3),
        ReflexFinding(reflex="knee", side="right", grade=3),
    ]
    if k >= 3:
        reflexes.append(ReflexFinding(reflex="jaw", side="midline", grade=4 if k >= 6 else 2))
    signs = [SignFinding(sign="babinski", side="left", present=k >= 2),
             SignFinding(sign="hoffmann", side="right", present=k >= 1)]
    if k >= 6:
        signs.append(SignFinding(sign="snout", side="midline", present=k >= 8))
    a = None
    if alsfrs:
        items = {name: max(0, 4 - int(max(0, k - start + 1) * rate)) for name, start, rate in _ITEMS}
        a = AlsfrsR(gastrostomy=gastrostomy, **items)
    fvc = None if k == 2 else float(round(max(25.0, 98.0 - 2.6 * k * (1 + k / 20))))
    weight = round(74.0 - 0.55 * k, 1)
    return Visit(date=date, progressive_by_history=True if k == 0 else None,
                 alternatives_excluded=True if k >= 1 else None,
                 muscles=tuple(muscles), reflexes=tuple(reflexes), signs=tuple(signs),
                 alsfrs_r=a, fvc_percent=fvc, weight_kg=weight)


def demo_case(n_visits: int = 10, *, alsfrs: bool = True, patient_id: str = "DEMO-0007",
              milestones: bool = False) -> Case:
    """A patient with ``n_visits`` visits (about every three months; every two from 13 on).
    ``milestones``: a gastrostomy (about 60 % of the way through the visits), NIV (75 %) and death
    five weeks after the last visit, with notes."""
    start = dt.date(2024, 6, 3)
    step = 91 if n_visits <= 12 else 61
    dated = {}
    if milestones and n_visits:
        last = start + dt.timedelta(days=step * (n_visits - 1))
        dated = dict(
            gastrostomy_date=start + dt.timedelta(days=round(step * (n_visits - 1) * 0.6) + 9),
            gastrostomy_note="RIG, tolerated well",
            niv_date=start + dt.timedelta(days=round(step * (n_visits - 1) * 0.75) + 17),
            death_date=last + dt.timedelta(days=35), death_note="respiratory failure, at home",
        )
    g = dated.get("gastrostomy_date")
    visits = tuple(demo_visit(k, start + dt.timedelta(days=step * k), alsfrs=alsfrs,
                              gastrostomy=g is not None and start + dt.timedelta(days=step * k) >= g)
                   for k in range(n_visits))
    patient = Patient(id=patient_id, family_name="Côté", given_names="Renée", birth_date=dt.date(1958, 11, 23),
                      sex="female", onset_date=dt.date(2024, 1, 15), onset_region="upper_limb",
                      onset_side="right", diagnosis_date=dt.date(2024, 7, 1), **dated)
    return Case(format="motorchart-case/1", patient=patient, visits=visits)
