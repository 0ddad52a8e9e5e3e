"""Inline builders for cases (Cosmic Python's make_batch_and_line): tests read as findings."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from domain.case import AlsfrsR, Case, Emg, MuscleFinding, Patient, ReflexFinding, SignFinding, Visit
from domain.catalogue import Catalogue, parse_catalogue
from domain.classify import CaseClassification, VisitClassification, classify_case
from domain.options import Options

ROOT = Path(__file__).resolve().parent.parent
D = dt.date.fromisoformat


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    d = ROOT / "resources" / "catalogue"
    return parse_catalogue(
        (d / "muscles.csv").read_text("utf-8"),
        (d / "reflexes.csv").read_text("utf-8"),
        (d / "signs.csv").read_text("utf-8"),
    )


def m(muscle: str, side: str = "right", mrc: str | None = None, wasting: str | None = None, **kw) -> MuscleFinding:
    return MuscleFinding(muscle=muscle, side=side, mrc=mrc, wasting=wasting, **kw)


def wasted(muscle: str, side: str = "right", mrc: str = "4", wasting: str = "moderate", **kw) -> MuscleFinding:
    """A weak, wasted muscle: clinical LMN under every framework."""
    return m(muscle, side, mrc, wasting, **kw)


def emg_lmn(muscle: str, side: str = "right", other_cause: bool = False, **kw) -> MuscleFinding:
    """Needle EMG meeting every framework: fibrillations, fasciculation potentials, large MUPs."""
    e = dict(fibrillations=2, positive_sharp_waves=1, fasciculation_potentials="present",
             mup_large=True, recruitment="reduced")
    e.update(kw)
    return MuscleFinding(muscle=muscle, side=side, emg=Emg(**e), other_cause=other_cause)


def r(reflex: str, side: str = "right", grade: int = 4, spread: bool = False) -> ReflexFinding:
    return ReflexFinding(reflex=reflex, side=side, grade=grade, spread=spread)


def s(sign: str, side: str = "right", present: bool = True) -> SignFinding:
    return SignFinding(sign=sign, side=side, present=present)


def alsfrs(**items) -> AlsfrsR:
    base = dict(speech=4, salivation=4, swallowing=4, handwriting=4, cutting_food=4,
                gastrostomy=False, dressing_hygiene=4, turning_in_bed=4, walking=4,
                climbing_stairs=4, dyspnea=4, orthopnea=4, respiratory_insufficiency=4)
    base.update(items)
    return AlsfrsR(**base)


def visit(date: str = "2025-03-01", *findings, progressive: bool | None = True,
          excluded: bool | None = True, **kw) -> Visit:
    muscles = tuple(f for f in findings if isinstance(f, MuscleFinding))
    reflexes = tuple(f for f in findings if isinstance(f, ReflexFinding))
    signs = tuple(f for f in findings if isinstance(f, SignFinding))
    return Visit(date=D(date), muscles=muscles, reflexes=reflexes, signs=signs,
                 progressive_by_history=progressive, alternatives_excluded=excluded, **kw)


def case(*visits: Visit, **patient) -> Case:
    p = dict(id="T-1", family_name="Testowa", given_names="Zofia", birth_date=D("1960-01-01"),
             onset_date=D("2024-09-01"), onset_region="upper_limb")
    p.update({k: (D(v) if k.endswith("_date") and isinstance(v, str) else v) for k, v in patient.items()})
    return Case(format="motorchart-case/1", patient=Patient(**p), visits=tuple(visits))


def classify(c: Case, **options) -> CaseClassification:
    return classify_case(c, catalogue(), Options(**options))


def one(*findings, **options) -> VisitClassification:
    """Classify a single visit made of these findings (progression and exclusion confirmed)."""
    return classify(case(visit("2025-03-01", *findings)), **options).visits[0]


def category(vc: VisitClassification, crit: str) -> str:
    return vc.criteria[crit].category


def U(vc: VisitClassification, crit: str = "el_escorial") -> set[str]:
    return {k for k, v in vc.evidence.regions.items() if v.umn[crit]}


def L(vc: VisitClassification, crit: str) -> set[str]:
    return {k for k, v in vc.evidence.regions.items() if v.lmn(crit)}


def L_emg(vc: VisitClassification, crit: str) -> set[str]:
    return {k for k, v in vc.evidence.regions.items() if v.lmn_emg[crit]}


def reasons(vc: VisitClassification, crit: str) -> str:
    return "\n".join(x.text for x in vc.criteria[crit].reasons)
