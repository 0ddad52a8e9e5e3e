"""A deterministic synthetic clinic: plainly fictional patients with plausible courses.

Everything comes from the fixed reference date :data:`REFERENCE_DATE` (no clock) and, for
each patient, ``random.Random`` seeded with the clinic's seed and the patient's number
(:func:`demo_patient`), so the same seed always gives the same chart, and each patient can be
made on its own: a large clinic is made by helper processes, patient by patient.

Courses (:data:`KINDS`): classic limb onset, bulbar onset, PLS, PMA, flail arm, fast and slow
progressors. Each patient has 1 to 12 visits with clinical and EMG findings, and an ALSFRS-R
that declines at the course's rate. Visits before the last few months are signed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import datetime as dt
import random
from dataclasses import dataclass

from domain.case import (
    ALSFRS_ITEMS,
    FORMAT,
    MRC_GRADES,
    AlsfrsR,
    Case,
    Emg,
    MuscleFinding,
    Patient,
    ReflexFinding,
    SignFinding,
    Visit,
)
from domain.scores import months_between

if TYPE_CHECKING:
    from desktop.store.chart import ChartStore

REFERENCE_DATE = dt.date(2026, 6, 30)
KINDS = ("limb", "bulbar", "pls", "pma", "flail_arm", "fast", "slow")
# Non-Latin names use scripts the shipped DejaVu fonts cover (Cyrillic, Greek): CJK would print
# as empty boxes in the PDFs and in a window without CJK fonts.
CLINICIANS = ("Dr Amara Okonkwo-Bell", "Dr Renée Côté", "Dr Tomasz Wiśniewski-Lark", "Dr Ελένη Κωνσταντίνου")

GIVEN = (
    "Zofia", "Renée", "Søren", "Dmitri", "Aiko", "Mateus", "Ngozi", "Ólafur", "Chiara", "Jürgen",
    "Léa", "Björn", "Małgorzata", "Şebnem", "Tadeusz", "Ingrid", "Kwame", "Anaïs", "Yusuf", "Hana",
    "Дмитрий", "Анна", "Ελένη", "Γιώργος", "Łucja", "Şükrü", "Priya", "Rafael", "Noémie", "Eero",
)
FAMILY = (
    "Łukasiewicz-Nowak", "Côté", "Kierkegård-Ølund", "Fictionova", "Testerberg", "Brightwater",
    "Ó Dúnlaing", "Müller-Imaginär", "Ferreira-Demo", "Adebayo-Sample", "Yılmaz-Örnek", "Lindqvist",
    "Kowalczyk", "Nakamura-Kaso", "Ivanović-Primer", "Иванов", "Смирнова", "Παπαδοπούλου",
    "Παπαδάκης", "Кузнецова", "Dubois-Fictif", "Janssen-Proef", "Håkonsen", "Esposito-Finto", "Novák",
    "García-Ejemplo", "O'Placeholder", "Varga-Minta", "Mäkinen-Esimerkki", "Duarte",
)
NOTES = (
    "Riluzole started.", "Referred to speech and language therapy.", "Discussed gastrostomy.",
    "Cramps better on mexiletine.", "Physiotherapy review booked.", "Wheelchair assessment requested.",
    "Family present; questions answered.", "Sialorrhoea: glycopyrronium started.",
    "Respiratory review: consider NIV.", "Genetic counselling offered.", "Stable since last visit.",
)

# Muscles examined clinically at every visit, by region; EMG is sampled from these.
EXAM = {
    "bulbar": (("tongue", ("midline",)),),
    "cervical": (
        ("deltoid", ("left", "right")), ("biceps", ("left", "right")), ("triceps", ("left", "right")),
        ("extensor_digitorum", ("left", "right")), ("first_dorsal_interosseous", ("left", "right")),
        ("abductor_pollicis_brevis", ("left", "right")),
    ),
    "thoracic": (("thoracic_paraspinals_lower", ("midline",)),),
    "lumbosacral": (
        ("iliopsoas", ("left", "right")), ("quadriceps", ("left", "right")),
        ("tibialis_anterior", ("left", "right")), ("gastrocnemius", ("left", "right")),
    ),
}
REFLEXES = {
    "bulbar": (("jaw", ("midline",)),),
    "cervical": (("biceps", ("left", "right")), ("triceps", ("left", "right"))),
    "lumbosacral": (("knee", ("left", "right")), ("ankle", ("left", "right"))),
}
SIGNS = {
    "bulbar": (("pseudobulbar_affect", ("midline",)),),
    "cervical": (("hoffmann", ("left", "right")),),
    "lumbosacral": (("babinski", ("left", "right")),),
}
ONSET_REGION = {"upper_limb": "cervical", "lower_limb": "lumbosacral", "bulbar": "bulbar"}
SPREAD = {
    "cervical": ("cervical", "lumbosacral", "bulbar", "thoracic"),
    "lumbosacral": ("lumbosacral", "cervical", "thoracic", "bulbar"),
    "bulbar": ("bulbar", "cervical", "lumbosacral", "thoracic"),
}
ALSFRS_DOMAIN = {  # item -> region whose involvement lowers it
    "speech": "bulbar", "salivation": "bulbar", "swallowing": "bulbar",
    "handwriting": "cervical", "cutting_food": "cervical", "dressing_hygiene": "cervical",
    "turning_in_bed": "lumbosacral", "walking": "lumbosacral", "climbing_stairs": "lumbosacral",
    "dyspnea": "thoracic", "orthopnea": "thoracic", "respiratory_insufficiency": "thoracic",
}


@dataclass(frozen=True)
class Course:
    """How a course kind behaves: LMN and UMN involvement, pace (months per region, and how
    many ALSFRS-R points a region loses per month once involved)."""

    onset: tuple[str, ...]
    lmn: float
    umn: float
    months_per_region: tuple[float, float]
    points_per_month: tuple[float, float]
    regions_max: int = 4
    arms_only: bool = False


COURSES = {
    "limb": Course(("upper_limb", "lower_limb"), 1.0, 1.0, (5, 10), (0.25, 0.4)),
    "bulbar": Course(("bulbar",), 1.0, 1.0, (4, 8), (0.3, 0.45)),
    "pls": Course(("lower_limb", "bulbar"), 0.0, 1.0, (12, 24), (0.05, 0.1)),
    "pma": Course(("upper_limb", "lower_limb"), 1.0, 0.0, (6, 12), (0.2, 0.35)),
    "flail_arm": Course(("upper_limb",), 1.0, 0.3, (18, 30), (0.1, 0.2), regions_max=2, arms_only=True),
    "fast": Course(("upper_limb", "bulbar", "lower_limb"), 1.0, 1.0, (2, 4), (0.6, 0.9)),
    "slow": Course(("upper_limb", "lower_limb"), 1.0, 0.8, (14, 26), (0.06, 0.12)),
}


def _months(a: dt.date, b: dt.date) -> float:
    return months_between(a, b)  # the domain's month (days / 30.4375), as every figure counts it


def _clamp(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def make_case(rng: random.Random, kind: str, mrn: str) -> Case:
    """One fictional patient of the given course kind."""
    course = COURSES[kind]
    onset_region = rng.choice(course.onset)
    first = ONSET_REGION[onset_region]
    order = SPREAD[first]
    if course.arms_only:
        order = ("cervical", "thoracic")
    order = order[: course.regions_max]
    side = rng.choice(("left", "right"))
    birth = dt.date(rng.randint(1938, 1985), rng.randint(1, 12), rng.randint(1, 28))
    onset = REFERENCE_DATE - dt.timedelta(days=rng.randint(120, 365 * 6))
    if onset < birth + dt.timedelta(days=365 * 25):
        onset = birth + dt.timedelta(days=365 * 25 + rng.randint(0, 3000))
        onset = min(onset, REFERENCE_DATE - dt.timedelta(days=120))
    step = rng.uniform(*course.months_per_region)
    ppm = rng.uniform(*course.points_per_month)
    involved_at = {r: i * step * rng.uniform(0.8, 1.2) for i, r in enumerate(order)}

    n = rng.randint(1, 12)
    first_visit = onset + dt.timedelta(days=rng.randint(60, 400))
    dates: list[dt.date] = []
    d = first_visit
    while len(dates) < n and d <= REFERENCE_DATE:
        dates.append(d)
        d += dt.timedelta(days=rng.randint(60, 150))
    if not dates:
        dates = [min(first_visit, REFERENCE_DATE)]

    emg_visits = {0} | ({rng.randrange(len(dates))} if len(dates) > 3 else set())
    usual_weight = rng.uniform(55, 95)  # (kg, before the disease)
    visits = []
    gastrostomy = None
    niv = None
    for i, vd in enumerate(dates):
        t = _months(onset, vd)
        sev = {r: _clamp((t - at) * ppm / 12, 0, 1) if t >= at else 0.0
               for r, at in involved_at.items()}
        loss = {r: (t - at) * ppm for r, at in involved_at.items() if t >= at}
        v = _visit(rng, course, vd, i, sev, loss, side, first, i in emg_visits, kind, usual_weight)
        frs = v.alsfrs_r
        if frs and frs.swallowing <= 2 and gastrostomy is None:
            gastrostomy = vd
        if frs and (frs.orthopnea <= 2 or frs.respiratory_insufficiency <= 3) and niv is None:
            niv = vd
        if frs and gastrostomy is not None and not frs.gastrostomy:
            # The ALSFRS-R scores item 5b from the gastrostomy on (no contradiction to warn of).
            v = v.model_copy(update={"alsfrs_r": frs.model_copy(update={"gastrostomy": True})})
        visits.append(v)
    given = rng.choice(GIVEN)
    family = rng.choice(FAMILY)
    patient = Patient(
        id=mrn, family_name=family, given_names=given, birth_date=birth,
        sex=rng.choice(("female", "male")), onset_date=onset, onset_region=onset_region,
        onset_side=None if onset_region == "bulbar" else side,
        diagnosis_date=dates[0] if course.lmn and course.umn else None,
        gastrostomy_date=gastrostomy, niv_date=niv,
    )
    return Case(format=FORMAT, patient=patient, visits=tuple(visits))


def unvalidated(model: type):
    """A maker of ``model`` instances from field values, without validation: what pydantic's
    ``model_construct`` makes (the same field values, defaults filled in, the same set fields),
    in a third of its time (``model_construct`` looks up each default again on every call).
    Only for values known to be valid: the demo's findings, which the generator makes valid
    (tests validate demo cases against the catalogue, and compare this with ``model_construct``)."""
    from pydantic_core import PydanticUndefined

    # every field in the model's order (an update keeps it), required ones given by the caller
    # (like model_construct, it trusts the caller to give them)
    if any(f.default_factory is not None for f in model.model_fields.values()):
        raise TypeError(f"{model.__name__} has a default factory: one default would be shared by every instance")
    template = {name: PydanticUndefined if f.is_required() else f.default for name, f in model.model_fields.items()}
    new, setattr_ = model.__new__, object.__setattr__

    def make(**values):
        fields = template.copy()
        fields.update(values)
        obj = new(model)
        setattr_(obj, "__dict__", fields)
        setattr_(obj, "__pydantic_fields_set__", set(values))
        setattr_(obj, "__pydantic_extra__", None)
        setattr_(obj, "__pydantic_private__", None)
        return obj

    return make


_muscle, _reflex, _sign, _emg_of = map(unvalidated, (MuscleFinding, ReflexFinding, SignFinding, Emg))


# Findings are made without validation (:func:`unvalidated`; the generator only produces valid
# values, and tests validate demo cases against the catalogue): making a case takes 30% less time.
def _visit(rng, course: Course, date, index, sev, loss, onset_side, first, emg, kind, usual_weight) -> Visit:
    muscles = []
    for region, items in EXAM.items():
        s = sev.get(region, 0.0)
        for muscle, sides in items:
            for side in sides:
                ss = s * (1.0 if side in (onset_side, "midline") or region != first else 0.7)
                ss = _clamp(ss * rng.uniform(0.8, 1.2), 0, 1)
                lmn = ss * course.lmn
                weak = lmn if course.lmn else ss * 0.25
                rank = len(MRC_GRADES) - 1 - round(weak * 9)
                wasting = ("none", "mild", "moderate", "severe")[min(3, int(lmn * 4 + 0.3))] if lmn else "none"
                e = None
                if emg and (region == first or rng.random() < 0.4) and side != "midline":
                    e = _emg(rng, lmn)
                muscles.append(_muscle(
                    muscle=muscle, side=side, mrc=MRC_GRADES[max(0, rank)], wasting=wasting,
                    fasciculations=bool(lmn > 0.1 and rng.random() < 0.7), other_cause=False, emg=e,
                ))
    reflexes = []
    for region, items in REFLEXES.items():
        s = sev.get(region, 0.0)
        for reflex, sides in items:
            for side in sides:
                if course.umn and s > 0:
                    grade = 4 if s * course.umn > 0.45 else 3
                    spread = grade == 3 and rng.random() < 0.5
                elif course.lmn and s > 0.3:  # (a pure LMN course: reflexes fade before the
                    # muscle is moderately wasted, so none is "preserved in a weak, wasted muscle")
                    grade, spread = (0 if s > 0.7 else 1), False
                else:
                    grade, spread = 2, False
                reflexes.append(_reflex(reflex=reflex, side=side, grade=grade, spread=spread))
    signs = []
    for region, items in SIGNS.items():
        s = sev.get(region, 0.0)
        for sign, sides in items:
            for side in sides:
                signs.append(_sign(sign=sign, side=side,
                                         present=bool(course.umn >= 0.8 and s > 0.2 and rng.random() < 0.8)))
    items = {}
    for item in ALSFRS_ITEMS:
        region = ALSFRS_DOMAIN[item]
        lost = loss.get(region, 0.0) / 3 * rng.uniform(0.7, 1.3)
        if region == "thoracic":
            lost = max(lost, (sum(loss.values()) / 12) - 1)
        items[item] = int(_clamp(round(4 - lost), 0, 4))
    frs = AlsfrsR(**items, gastrostomy=items["swallowing"] <= 1)
    fvc = round(_clamp(105 - (12 - frs.respiratory) * 7 - rng.uniform(0, 8), 20, 130), 1)
    # the patient's own weight, lost as function is (up to about a sixth at ALSFRS-R 0), give or
    # take a kilogram between visits
    weight = round(usual_weight * (1 - 0.0035 * (48 - frs.total)) + rng.uniform(-1, 1), 1)
    notes = rng.choice(NOTES) if rng.random() < 0.35 else None
    return Visit(
        date=date, progressive_by_history=True if index else None,
        alternatives_excluded=True if index or kind == "fast" else None,
        muscles=tuple(muscles), reflexes=tuple(reflexes), signs=tuple(signs), alsfrs_r=frs,
        fvc_percent=fvc, weight_kg=_clamp(weight, 35, 140), notes=notes,
    )


def _emg(rng, lmn: float) -> Emg:
    if lmn <= 0.05:
        return _emg_of(fibrillations=0, positive_sharp_waves=0, fasciculation_potentials="absent",
                   mup_large=False, mup_unstable=False, recruitment="normal")
    active = rng.random() < 0.85
    return _emg_of(
        fibrillations=min(4, round(lmn * 4 * rng.uniform(0.6, 1.1))) if active else 0,
        positive_sharp_waves=min(4, round(lmn * 3 * rng.uniform(0.5, 1.1))) if active else 0,
        fasciculation_potentials=rng.choice(("present", "present", "complex", "absent")),
        mup_large=lmn > 0.15, mup_unstable=rng.random() < 0.5 * lmn + 0.1,
        recruitment="reduced" if lmn < 0.85 else "absent",
    )


def demo_case(kind: str = "limb", seed: int = 1) -> Case:
    """One demo patient of a course kind (``KINDS``), with at least 3 visits."""
    if kind not in COURSES:
        raise ValueError(f"{kind!r} is not a demo course (one of {', '.join(KINDS)})")
    rng = random.Random(f"{kind}-{seed}")
    for _ in range(50):
        case = make_case(rng, kind, f"DEMO-{kind.upper()}")
        if len(case.visits) >= 3:
            return case
    return case


def demo_patient(number: int, seed: int = 2026) -> tuple[Case, dict[dt.date, str]]:
    """Patient ``number`` (from 1) of the clinic ``seed``: the case, and the clinician who
    signed each of its signed visits (those before a cut-off 30-120 days before
    :data:`REFERENCE_DATE`). Made from its own ``random.Random(f"{seed}-{number}")``, so it is
    the same whoever makes it and whatever was made before it. The first patients take the
    course kinds in :data:`KINDS` order, so a small clinic has every course."""
    rng = random.Random(f"{seed}-{number}")
    kind = KINDS[number - 1] if number <= len(KINDS) else KINDS[rng.randrange(len(KINDS))]
    case = make_case(rng, kind, demo_mrn(number))
    cutoff = REFERENCE_DATE - dt.timedelta(days=rng.randint(30, 120))
    return case, {v.date: rng.choice(CLINICIANS) for v in case.visits if v.date < cutoff}


def demo_mrn(number: int) -> str:
    """The MRN of demo patient ``number``."""
    return f"DEMO-{number:06d}"


def demo_cases(n_patients: int, seed: int = 2026):
    """The clinic's cases, in MRN order, with the clinician who signed each signed visit."""
    for number in range(1, n_patients + 1):
        yield demo_patient(number, seed)


SIGNED_AT = "T17:30:00.000000Z"
"""The time of day the demo's visits were signed (UTC), after each visit's date."""


def demo_item(job: tuple[int, int]) -> tuple[Case, dict[dt.date, tuple[str, str]]]:
    """``(number, seed)`` → what :meth:`ChartStore.add_cases` takes for demo patient ``number``:
    its case, and each signed visit's clinician and signing time. Run where the patient's rows
    are made (in a helper process for a large clinic)."""
    case, signed = demo_patient(*job)
    return case, {d: (c, d.isoformat() + SIGNED_AT) for d, c in signed.items()}


HELPERS_FROM = 500
"""Patients from which the demo clinic's patients are made, classified and signed by helper
processes (:mod:`desktop.store.helpers`); the window's own demo clinic (200) is made here."""


def build_demo(store: ChartStore, n_patients: int = 200, seed: int = 2026, *, progress=None) -> int:
    """Add a demo clinic to an open writable store through the façade's bulk path
    (:meth:`ChartStore.add_cases`: one transaction, signatures as in the clinic; each patient
    made, classified and signed where its rows are made: by helper processes from
    :data:`HELPERS_FROM` patients); returns the patient count. Refused, with nothing written,
    if the chart already holds one of its demo patients."""
    from .errors import StoreError
    from .helpers import cores

    from domain.patient_rules import mrn_key

    known = store.mrn_keys()  # (MRNs compared as the import compares them: case and spaces aside)
    taken = [known[key] for key in (mrn_key(demo_mrn(k)) for k in range(1, n_patients + 1)) if key in known]
    if taken:
        raise StoreError(f"the chart already holds demo patient {taken[0]}")
    conn = store.db.conn
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute("PRAGMA cache_size = -131072")  # 128 MiB: the audit and search indexes grow fast
    try:
        return store.add_cases(((k, seed) for k in range(1, n_patients + 1)), make=demo_item,
                               progress=(lambda i, _n: progress(i, n_patients)) if progress else None,
                               workers=cores() if n_patients >= HELPERS_FROM else 1)
    finally:
        conn.execute(f"PRAGMA cache_size = {cache}")
