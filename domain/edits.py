"""Qt-free edits of a visit that several callers share: reading and setting one cell (a
muscle field, a reflex, a sign), attributing muscles to another cause, the cells a visit
records, copying a visit forward, and dropping cells. The window's grids, its undo commands and
the store all edit visits through these. Pure functions over the frozen :mod:`domain.case`
models; ``None`` always means *not examined*, never normal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .case import Emg, MuscleFinding, ReflexFinding, SignFinding, Visit

EMG_FIELDS = ("fibrillations", "positive_sharp_waves", "fasciculation_potentials",
              "mup_large", "mup_unstable", "recruitment")
"""The EMG findings a cell can hold (``study_date`` is not a finding)."""


def finding_keys(visit: Visit) -> set[tuple[str, str, str, str]]:
    """Every recorded cell of a visit as (kind, id, side, field): the copy-forward marks."""
    keys: set[tuple[str, str, str, str]] = set()
    for f in visit.muscles:
        for k in ("mrc", "wasting", "fasciculations"):
            if getattr(f, k) is not None:
                keys.add(("muscle", f.muscle, f.side, k))
        if f.emg is not None:
            for k in EMG_FIELDS:
                if getattr(f.emg, k) is not None:
                    keys.add(("muscle", f.muscle, f.side, k))
    for f in visit.reflexes:
        keys.add(("reflex", f.reflex, f.side, "grade"))
    for f in visit.signs:
        keys.add(("sign", f.sign, f.side, "present"))
    return keys


def copy_forward(previous: Visit, date) -> Visit:
    """A new visit on ``date`` starting from the previous visit's examination findings.

    Scores that describe the day (ALSFRS-R, FVC, weight, notes) are not carried. Carried EMG
    keeps the date of the study it comes from (the previous visit's, or its own study date).

    The history answers (``progressive_by_history``, ``alternatives_excluded``) are not copied
    either: clinical-rules "Flags carry forward" already keeps their last recorded value at later
    visits, with the date it was recorded. Copied, they read as recorded on the new date although
    nobody asked them again, and no "not reviewed" mark covered them, so signing with
    ``carried="drop"`` kept them."""
    muscles = tuple(
        f.model_copy(update={"emg": f.emg.model_copy(update={"study_date": f.emg.study_date or previous.date})})
        if f.emg is not None else f
        for f in previous.muscles
    )
    return Visit(
        date=date,
        muscles=muscles,
        reflexes=previous.reflexes,
        signs=previous.signs,
    )


def drop_cells(visit: Visit, cells) -> Visit:
    """The visit without the given (kind, id, side, field) cells: what signing with
    ``carried="drop"`` keeps. A muscle, reflex or sign left with nothing recorded is removed."""
    cells = {tuple(c) for c in cells}
    muscles = []
    for f in visit.muscles:
        upd: dict[str, Any] = {}
        for k in ("mrc", "wasting", "fasciculations"):
            if ("muscle", f.muscle, f.side, k) in cells:
                upd[k] = None
        emg = f.emg
        if emg is not None:
            e_upd = {k: None for k in type(emg).model_fields
                     if k != "study_date" and ("muscle", f.muscle, f.side, k) in cells}
            if e_upd:
                emg = emg.model_copy(update=e_upd)
                if all(getattr(emg, k) is None for k in type(emg).model_fields if k != "study_date"):
                    emg = None
                upd["emg"] = emg
        g = f.model_copy(update=upd) if upd else f
        if g.examined or g.other_cause:
            muscles.append(g)
    reflexes = [f for f in visit.reflexes if ("reflex", f.reflex, f.side, "grade") not in cells]
    signs = [f for f in visit.signs if ("sign", f.sign, f.side, "present") not in cells]
    return visit.model_copy(update={"muscles": tuple(muscles), "reflexes": tuple(reflexes), "signs": tuple(signs)})


# ------------------------------------------------------------------------------ one cell

@dataclass(frozen=True)
class FindingIndex:
    """Fast look-ups into one Visit (the grid's data() uses these, never the DB)."""

    muscles: dict[tuple[str, str], MuscleFinding]
    reflexes: dict[tuple[str, str], ReflexFinding]
    signs: dict[tuple[str, str], SignFinding]

    @classmethod
    def of(cls, visit: Visit) -> FindingIndex:
        return cls(
            {(f.muscle, f.side): f for f in visit.muscles},
            {(f.reflex, f.side): f for f in visit.reflexes},
            {(f.sign, f.side): f for f in visit.signs},
        )


MUSCLE_FIELDS = ("mrc", "wasting", "fasciculations", "other_cause")


def muscle_value(ix: FindingIndex, muscle: str, side: str, field: str) -> Any:
    f = ix.muscles.get((muscle, side))
    if f is None:
        return None
    if field in EMG_FIELDS:
        return getattr(f.emg, field) if f.emg is not None else None
    return getattr(f, field)


def reflex_value(ix: FindingIndex, reflex: str, side: str) -> tuple[int, bool] | None:
    f = ix.reflexes.get((reflex, side))
    return None if f is None else (f.grade, f.spread)


def sign_value(ix: FindingIndex, sign: str, side: str) -> bool | None:
    f = ix.signs.get((sign, side))
    return None if f is None else f.present


def with_muscle_value(visit: Visit, muscle: str, side: str, field: str, value: Any) -> Visit:
    """The visit with one muscle field set; a finding left with nothing recorded is dropped."""
    muscles = list(visit.muscles)
    pos = next((i for i, f in enumerate(muscles) if f.muscle == muscle and f.side == side), None)
    old = muscles[pos] if pos is not None else MuscleFinding(muscle=muscle, side=side)
    if field in EMG_FIELDS:
        # An EMG entered at this visit is this visit's study (a carried row loses its date).
        emg = (old.emg or Emg()).model_copy(update={field: value, "study_date": None})
        if all(getattr(emg, k) is None for k in EMG_FIELDS):
            emg = None
        new = old.model_copy(update={"emg": emg})
    else:
        new = old.model_copy(update={field: False if (field == "other_cause" and value is None) else value})
    keep = new.examined or new.other_cause
    if pos is None:
        if keep:
            muscles.append(new)
    elif keep:
        muscles[pos] = new
    else:
        del muscles[pos]
    return visit.model_copy(update={"muscles": tuple(muscles)})


def with_other_cause(visit: Visit, targets, reason: str | None) -> Visit:
    """The visit with each (muscle, side) in ``targets`` attributed to another cause (with
    ``reason``, blank meaning none given), or with ``reason`` None that attribution cleared.
    The findings recorded stay; a finding kept only for its attribution goes when cleared."""
    on = reason is not None
    why = (reason or "").strip() or None
    muscles = list(visit.muscles)
    for muscle, side in targets:
        pos = next((i for i, f in enumerate(muscles) if f.muscle == muscle and f.side == side), None)
        old = muscles[pos] if pos is not None else MuscleFinding(muscle=muscle, side=side)
        new = old.model_copy(update={"other_cause": on, "other_cause_reason": why if on else None})
        if pos is None:
            if on:
                muscles.append(new)
        elif new.examined or on:
            muscles[pos] = new
        else:
            del muscles[pos]
    return visit.model_copy(update={"muscles": tuple(muscles)})


def with_reflex_value(visit: Visit, reflex: str, side: str, value: tuple[int, bool] | None) -> Visit:
    rest = [f for f in visit.reflexes if not (f.reflex == reflex and f.side == side)]
    if value is not None:
        old = [i for i, f in enumerate(visit.reflexes) if f.reflex == reflex and f.side == side]
        new = ReflexFinding(reflex=reflex, side=side, grade=value[0], spread=value[1])
        rest.insert(old[0] if old else len(rest), new)
    return visit.model_copy(update={"reflexes": tuple(rest)})


def with_sign_value(visit: Visit, sign: str, side: str, value: bool | None) -> Visit:
    rest = [f for f in visit.signs if not (f.sign == sign and f.side == side)]
    if value is not None:
        old = [i for i, f in enumerate(visit.signs) if f.sign == sign and f.side == side]
        rest.insert(old[0] if old else len(rest), SignFinding(sign=sign, side=side, present=value))
    return visit.model_copy(update={"signs": tuple(rest)})


CellKey = tuple[str, str, str, str]
"""(kind, id, side, field): ``("muscle", "biceps", "left", "mrc")``, ``("reflex", "knee", "right", "grade")``."""


def cell_value(ix: FindingIndex, key: CellKey) -> Any:
    """The value a cell key names in a visit (None: not examined)."""
    kind, id_, side, field = key
    if kind == "reflex":
        return reflex_value(ix, id_, side)
    if kind == "sign":
        return sign_value(ix, id_, side)
    return muscle_value(ix, id_, side, field)


def with_cell_value(visit: Visit, key: CellKey, value: Any) -> Visit:
    """The visit with the finding a cell key names set to ``value`` (None: not examined)."""
    kind, id_, side, field = key
    if kind == "reflex":
        return with_reflex_value(visit, id_, side, value)
    if kind == "sign":
        return with_sign_value(visit, id_, side, value)
    return with_muscle_value(visit, id_, side, field, value)
