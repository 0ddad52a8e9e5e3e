"""What a grid cell may hold, in words: parsing typed entries and showing values.

Qt-free (the window's grids and the tests share it). Every parse function raises
:class:`EntryError` with a message that says what is allowed; ``None`` always means *not
examined*, never normal. Setting the parsed value into a visit is :mod:`domain.edits`.
"""

from __future__ import annotations

from typing import Any, Callable

from domain.case import MRC_GRADES

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
