"""Qt-free edits of a visit that several callers share: the cells a visit records, copying a
visit forward, and dropping cells (issue 14; issue 16 moves the window's visit edits here).
Pure functions over the frozen :mod:`domain.case` models."""

from __future__ import annotations

from typing import Any

from .case import Visit

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
    keeps the date of the study it comes from (the previous visit's, or its own study date)."""
    muscles = tuple(
        f.model_copy(update={"emg": f.emg.model_copy(update={"study_date": f.emg.study_date or previous.date})})
        if f.emg is not None else f
        for f in previous.muscles
    )
    return Visit(
        date=date,
        progressive_by_history=previous.progressive_by_history,
        alternatives_excluded=previous.alternatives_excluded,
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
