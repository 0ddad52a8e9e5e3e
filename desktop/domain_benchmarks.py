"""Domain figures for `motorchart bench`: classifying a full visit, a 30-visit history, and the
same history again after one cell edit (what the window does on each keystroke)."""

from __future__ import annotations

import datetime as dt

from domain.case import AlsfrsR, Case, Emg, MuscleFinding, Patient, ReflexFinding, SignFinding, Visit
from domain.classify import EvidenceCache, classify_case
from domain.edits import with_cell_value

from .bench import figure, median_ms
from .resources import load_catalogue

_GRADES = ("5", "4+", "4", "4-", "3", "2")


def full_visit(date: dt.date, k: int = 0) -> Visit:
    """Every catalogue muscle on both sides (midline for bulbar/thoracic too) with clinical and
    EMG findings, every reflex and sign."""
    cat = load_catalogue()
    muscles = []
    for i, m in enumerate(cat.muscles):
        sides = ("left", "right")
        for j, side in enumerate(sides):
            n = i + j + k
            muscles.append(
                MuscleFinding(
                    muscle=m.id, side=side, mrc=_GRADES[n % len(_GRADES)],
                    wasting=("none", "mild", "moderate")[n % 3], fasciculations=n % 2 == 0,
                    emg=Emg(fibrillations=n % 3, positive_sharp_waves=(n + 1) % 2,
                            fasciculation_potentials=("absent", "present", "complex")[n % 3],
                            mup_large=n % 2 == 1, mup_unstable=n % 4 == 0,
                            recruitment=("normal", "reduced")[n % 2]),
                )
            )
    reflexes = [ReflexFinding(reflex=r.id, side=s, grade=(2 + k) % 5, spread=k % 2 == 0)
                for r in cat.reflexes for s in r.sides]
    signs = [SignFinding(sign=s.id, side=sd, present=(k % 2 == 0)) for s in cat.signs for sd in s.sides]
    v = max(0, 4 - k // 8)
    alsfrs = AlsfrsR(speech=v, salivation=4, swallowing=v, handwriting=v, cutting_food=v,
                     gastrostomy=False, dressing_hygiene=4, turning_in_bed=4, walking=v,
                     climbing_stairs=3, dyspnea=4, orthopnea=4, respiratory_insufficiency=4)
    return Visit(date=date, progressive_by_history=True, alternatives_excluded=True,
                 muscles=tuple(muscles), reflexes=tuple(reflexes), signs=tuple(signs),
                 alsfrs_r=alsfrs, fvc_percent=90 - k, weight_kg=70 - k / 10)


def full_case(n_visits: int) -> Case:
    start = dt.date(2024, 1, 10)
    visits = tuple(full_visit(start + dt.timedelta(days=91 * k), k) for k in range(n_visits))
    return Case(format="motorchart-case/1",
                patient=Patient(id="BENCH-1", birth_date=dt.date(1960, 1, 1),
                                onset_date=dt.date(2023, 6, 1), onset_region="upper_limb"),
                visits=visits)


@figure("classify.full_visit", target=2.0, unit="ms",
        description="classify one visit with every muscle, both sides, clinical and EMG")
def _full_visit(quick: bool):
    case, cat = full_case(1), load_catalogue()
    return median_ms(lambda: classify_case(case, cat), 20 if quick else 200), "ms"


@figure("classify.history_30_visits", target=25.0, unit="ms",
        description="classify a 30-visit history of full visits, cold (no cache)")
def _history(quick: bool):
    case, cat = full_case(30), load_catalogue()
    return median_ms(lambda: classify_case(case, cat), 3 if quick else 30, warmup=1), "ms"


def edited_cases(case: Case, n: int):
    """``n`` successive states of ``case``, each with one MRC cell of its last visit edited
    (through ``domain.edits``, as the grid does): a new object for that visit only."""
    last = case.visits[-1]
    f = last.muscles[0]
    grades = ("4", "3", "4-", "2", "4+")
    for i in range(n):
        last = with_cell_value(last, ("muscle", f.muscle, f.side, "mrc"), grades[i % len(grades)])
        case = case.model_copy(update={"visits": case.visits[:-1] + (last,)})
        yield case


@figure("classify.history_30_after_one_edit", target=8.0, unit="ms",
        description="classify the 30-visit history again after one cell edit in its last visit, "
                    "with an EvidenceCache warmed on the state before the edit (the window's session)")
def _after_one_edit(quick: bool):
    case, cat = full_case(30), load_catalogue()
    repeat, warmup = (20, 3) if quick else (200, 3)
    cache = EvidenceCache()
    classify_case(case, cat, cache=cache)  # the window's state before the first edit
    states = edited_cases(case, repeat + warmup)
    return median_ms(lambda: classify_case(next(states), cat, cache=cache), repeat, warmup=warmup), "ms"
