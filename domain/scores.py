"""Scores and stages computed from one visit (clinical-rules 7), and calendar arithmetic."""

from __future__ import annotations

import calendar
import datetime as dt

from .case import AlsfrsR, Visit
from .catalogue import MRC_SUM_MOVEMENTS, Catalogue

DAYS_PER_MONTH = 30.4375
DAYS_PER_YEAR = 365.25


def months_between(a: dt.date, b: dt.date) -> float:
    """Months from a to b: days / 30.4375 (clinical-rules 6)."""
    return (b - a).days / DAYS_PER_MONTH


def years_between(a: dt.date, b: dt.date) -> float:
    """Years from a to b: days / 365.25 (clinical-rules 6)."""
    return (b - a).days / DAYS_PER_YEAR


def add_months(d: dt.date, months: int) -> dt.date:
    """Calendar months: 2024-03-15 + 12 = 2025-03-15; a day past the month's end (29 February)
    maps to its last day (clinical-rules 8)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


def alsfrs_subscores(a: AlsfrsR) -> dict[str, int]:
    """Total 0-48 and sub-scores: bulbar 1-3, fine motor 4-6, gross motor 7-9, respiratory 10-12
    (FRS)."""
    return {
        "total": a.total,
        "bulbar": a.bulbar,
        "fine_motor": a.fine_motor,
        "gross_motor": a.gross_motor,
        "respiratory": a.respiratory,
    }


def delta_fs(a: AlsfrsR | None, onset: dt.date | None, visit_date: dt.date) -> float | None:
    """DeltaFS = (48 - total) / months from onset to the visit (DFS).

    None without ALSFRS-R or onset date, and at or before onset (clinical-rules 10)."""
    if a is None or onset is None or visit_date <= onset:
        return None
    return (48 - a.total) / months_between(onset, visit_date)


KINGS_CLINICAL_ALSFRS_ITEMS = {
    "bulbar": ("speech", "salivation", "swallowing"),
    "upper_limb": ("handwriting", "cutting_food"),
    "lower_limb": ("walking",),
    "diaphragm": ("dyspnea", "orthopnea", "respiratory_insufficiency"),
}
"""KING (Roche 2012; clinical-rules 7, 10): ALSFRS-R items below 4 that involve a King's region
for the clinical stage: bulbar 1-3, upper limb 4-5, lower limb 8, diaphragm 10-12."""

KINGS_ESTIMATE_ALSFRS_ITEMS = {
    "bulbar": ("speech", "salivation", "swallowing"),
    "upper_limb": ("handwriting", "cutting_food"),
    "lower_limb": ("walking",),
}
"""BAL (Balendra 2014; clinical-rules 7): the regions counted by the King's stage estimated from
the ALSFRS-R (bulbar 1-3, upper limb 4 or 5a, lower limb 8); breathing gives 4B there instead.
Declared beside KING's mapping on purpose: the two sources define them differently."""


def kings_from_alsfrs(a: AlsfrsR | None) -> str | None:
    """King's stage estimated from ALSFRS-R (BAL).

    4A if item 5b is used (gastrostomy); 4B if dyspnoea = 0 or respiratory insufficiency <= 3;
    both gives ``4A+4B``. Otherwise the number of involved regions: bulbar (any of items 1-3
    < 4), upper limb (item 4 or 5a < 4), lower limb (walking < 4); 1 when none."""
    if a is None:
        return None
    s4a = a.gastrostomy
    s4b = a.dyspnea == 0 or a.respiratory_insufficiency <= 3
    if s4a and s4b:
        return "4A+4B"
    if s4a:
        return "4A"
    if s4b:
        return "4B"
    n = sum(any(getattr(a, i) < 4 for i in items) for items in KINGS_ESTIMATE_ALSFRS_ITEMS.values())
    return str(max(n, 1))


def mitos_domains(a: AlsfrsR) -> list[str]:
    """MiToS lost domains (MITOS): movement (walking <= 1 or dressing <= 1); swallowing (<= 1);
    communication (speech <= 1 AND handwriting <= 1); breathing (dyspnoea <= 1 or respiratory
    insufficiency <= 2)."""
    lost = []
    if a.walking <= 1 or a.dressing_hygiene <= 1:
        lost.append("movement")
    if a.swallowing <= 1:
        lost.append("swallowing")
    if a.speech <= 1 and a.handwriting <= 1:
        lost.append("communication")
    if a.dyspnea <= 1 or a.respiratory_insufficiency <= 2:
        lost.append("breathing")
    return lost


def mrc_sum_muscles(catalogue: Catalogue) -> frozenset[str]:
    """The muscles graded by the MRC sum score's movements (KLEY)."""
    return frozenset(m.id for m in catalogue.muscles if m.mrc_sum_movement in MRC_SUM_MOVEMENTS)


def mrc_sum(visit: Visit, catalogue: Catalogue, muscles: frozenset[str] | None = None) -> int | None:
    """MRC sum score 0-60 (KLEY): shoulder abduction, elbow flexion, wrist extension, hip
    flexion, knee extension, ankle dorsiflexion on both sides; modifiers dropped (4-, 4, 4+ all
    count 4). None unless all 12 are examined. ``other_cause`` muscles still count.
    ``muscles``: :func:`mrc_sum_muscles` of the catalogue, when the caller has it already."""
    want = mrc_sum_muscles(catalogue) if muscles is None else muscles
    return mrc_sum_of_grades(((f.muscle, f.side), f.mrc) for f in visit.muscles if f.muscle in want)


def mrc_sum_of_grades(grades) -> int | None:
    """:func:`mrc_sum` of a visit's ``((muscle id, side), MRC grade or None)`` pairs, in recorded
    order, for the muscles of :func:`mrc_sum_muscles` (the others may be left out)."""
    got = {}
    for key, mrc in grades:
        if mrc is not None and key[1] in ("left", "right"):
            got[key] = int(mrc[0])
    if len(got) != 12:
        return None
    return sum(got.values())


def umn_score(visit: Visit, catalogue: Catalogue, items: tuple[frozenset[str], frozenset[str]] | None = None) -> int | None:
    """UMN score 0-16: pathologically brisk (NINDS 4, or 3 with spread) biceps,
    brachioradialis, triceps, finger-flexor, knee and ankle reflexes each side (12), extensor
    plantar each side (2), jaw jerk (1), snout (1). Counts the brisk items among those
    examined; None when none of the 16 was examined (clinical-rules 7, 10).
    ``items``: :func:`umn_score_items` of the catalogue, when the caller has it already."""
    reflexes, signs = umn_score_items(catalogue) if items is None else items
    examined = 0
    score = 0
    for rf in visit.reflexes:
        if rf.__dict__["reflex"] in reflexes:
            examined += 1
            score += rf.brisk
    for sf in visit.signs:
        d = sf.__dict__
        if d["sign"] in signs:
            examined += 1
            score += d["present"]
    return score if examined else None


def umn_score_items(catalogue: Catalogue) -> tuple[frozenset[str], frozenset[str]]:
    """The reflexes and the signs the UMN score counts (the catalogue's ``umn_score``)."""
    return (frozenset(r.id for r in catalogue.reflexes if r.umn_score),
            frozenset(s.id for s in catalogue.signs if s.umn_score))
