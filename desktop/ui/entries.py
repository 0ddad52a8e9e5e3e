"""What a cell may hold: parsing typed entries, showing values, and rewriting a frozen Visit.

Qt-free on purpose (the grid models, the undo commands and the tests share it). Every parse
function raises :class:`EntryError` with a message that says what is allowed; ``None`` always
means *not examined*, never normal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from domain.edits import EMG_FIELDS, copy_forward, finding_keys  # noqa: F401  (Qt-free edits live in the domain)
from domain.case import MRC_GRADES, Emg, MuscleFinding, ReflexFinding, SignFinding, Visit

NOT_EXAMINED = "·"
"""How a not-examined (None) value is drawn, in grey, everywhere."""

CLEAR_WORDS = ("", ".", "-", "?", "ne")


class EntryError(ValueError):
    """A typed entry that is not allowed; the message says what is allowed."""


# ------------------------------------------------------------------------------ parsers

def _clear(text: str) -> bool:
    return text.strip().lower() in CLEAR_WORDS


def parse_mrc(text: str) -> str | None:
    t = text.strip().replace("−", "-")
    if _clear(t) and t != "-":
        return None
    if t in MRC_GRADES:
        return t
    raise EntryError(f'"{text}" is not an MRC grade: type one of {" ".join(MRC_GRADES)} '
                     "(Delete clears: not examined)")


_WASTING = {"0": "none", "n": "none", "no": "none", "none": "none",
            "1": "mild", "mi": "mild", "mild": "mild",
            "2": "moderate", "mo": "moderate", "mod": "moderate", "moderate": "moderate",
            "3": "severe", "s": "severe", "se": "severe", "sev": "severe", "severe": "severe"}


def parse_wasting(text: str) -> str | None:
    t = text.strip().lower()
    if _clear(t):
        return None
    if t in _WASTING:
        return _WASTING[t]
    raise EntryError(f'"{text}" is not a wasting grade: type 0 none, 1 mild, 2 moderate or '
                     "3 severe (Delete clears)")


_YES = ("y", "yes", "1", "+", "t", "true", "p", "present")
_NO = ("n", "no", "0", "f", "false", "a", "absent", "-", "−")  # "−": absent, as charted on paper


def parse_bool(text: str) -> bool | None:
    t = text.strip().lower()
    if t in _YES:
        return True
    if t in _NO:
        return False
    if _clear(t):
        return None
    raise EntryError(f'"{text}" is not allowed here: type y (+) or n (−), or press Space to toggle '
                     "(Delete clears)")


_SPREAD_SUFFIXES = ("spread", "sp", "s")


def parse_reflex(text: str) -> tuple[int, bool] | None:
    """NINDS grade 0-4, as ``3`` or in the usual ``3+`` notation (the same grade: "+" is not
    spread, which would make a UMN sign of a merely brisk reflex); a trailing ``s`` records
    spread to adjacent segments (clinical-rules.md, Reflexes): ``3s``."""
    t = text.strip().lower().replace(" ", "")
    if _clear(t):
        return None
    spread = False
    for suffix in _SPREAD_SUFFIXES:
        if t.endswith(suffix) and len(t) > len(suffix):
            t, spread = t[:-len(suffix)], True
            break
    if t.endswith("+") and len(t) == 2:
        t = t[:-1]
    if t in ("0", "1", "2", "3", "4"):
        return (int(t), spread)
    raise EntryError(f'"{text}" is not a reflex grade: type NINDS 0-4 (3 or 3+), add s for spread '
                     "(3s) (Delete clears)")


def parse_grade04(text: str) -> int | None:
    t = text.strip()
    if _clear(t):
        return None
    if t in ("0", "1", "2", "3", "4"):
        return int(t)
    raise EntryError(f'"{text}" is not allowed: type a grade 0-4 (Delete clears)')


def _choice_parser(label: str, choices: tuple[str, ...]) -> Callable[[str], str | None]:
    def parse(text: str) -> str | None:
        t = text.strip().lower()
        if _clear(t):
            return None
        if t.isdigit() and int(t) < len(choices):
            return choices[int(t)]
        hits = [c for c in choices if c.startswith(t)]
        if len(hits) == 1:
            return hits[0]
        allowed = ", ".join(f"{i} {c}" for i, c in enumerate(choices))
        raise EntryError(f'"{text}" is not a {label}: type {allowed} (Delete clears)')

    return parse


parse_fasc_potentials = _choice_parser("fasciculation potential grade",
                                       ("absent", "present", "complex"))
parse_recruitment = _choice_parser("recruitment", ("normal", "reduced", "early", "absent"))


# ------------------------------------------------------------------------------ display

def show(value: Any, kind: str) -> str:
    if value is None:
        return NOT_EXAMINED
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "reflex":
        grade, spread = value
        return f"{grade} sp" if spread else str(grade)
    if kind == "wasting":
        return {"none": "none", "mild": "mild", "moderate": "mod", "severe": "sev"}[value]
    return str(value)


# ------------------------------------------------------------------------------ visit access

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


