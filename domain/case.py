"""The case file, ``motorchart-case/1`` (shared/spec/exam-format.md), as frozen pydantic models.

These models are the one definition of the format. Catalogue-dependent checks (muscle ids,
allowed sides) run when a :class:`~domain.catalogue.Catalogue` is passed in the validation
context; :func:`parse_case` does that and turns every error into ``path: message`` lines.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .catalogue import Catalogue

FORMAT = "motorchart-case/1"

MRC_GRADES: tuple[str, ...] = (
    "0", "1", "2-", "2", "2+", "3-", "3", "3+", "4-", "4", "4+", "5-", "5",
)
"""MRC 0-5 with the MRC 2010 modifiers and local extensions, weakest first (MRC)."""
MRC_RANK = {g: i for i, g in enumerate(MRC_GRADES)}

WASTING = ("none", "mild", "moderate", "severe")
ALSFRS_ITEMS: tuple[str, ...] = (
    "speech", "salivation", "swallowing", "handwriting", "cutting_food", "dressing_hygiene",
    "turning_in_bed", "walking", "climbing_stairs", "dyspnea", "orthopnea",
    "respiratory_insufficiency",
)

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _ISO.match(value):
        raise PydanticCustomError("date", "{value} is not a date (YYYY-MM-DD)", {"value": _show(value)})
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date", "{value} is not a calendar date", {"value": _show(value)})


def _mrc(value: Any) -> str:
    if not isinstance(value, str) or value not in MRC_RANK:
        raise PydanticCustomError(
            "mrc", "{value} is not an MRC grade (one of " + " ".join(MRC_GRADES) + ")",
            {"value": _show(value)},
        )
    return value


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
Mrc = Annotated[str, BeforeValidator(_mrc)]
Grade04 = Annotated[int, Strict(), Field(ge=0, le=4)]
Bool = Annotated[bool, Strict()]
Side = Literal["left", "right", "midline"]


class _Model(BaseModel):
    # defer_build: validators are built on first use, not at import (~60 ms off every launch).
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False, defer_build=True)


MILESTONE_AND_HISTORY_DATES = (
    "onset_date", "diagnosis_date", "gastrostomy_date", "niv_date", "tracheostomy_date", "death_date",
)
"""The patient's dated facts after birth (exam-format: patient)."""


class Patient(_Model):
    id: Annotated[str, Strict(), Field(min_length=1)]
    family_name: Annotated[str, Strict()] | None = None
    given_names: Annotated[str, Strict()] | None = None
    birth_date: Date | None = None
    sex: Literal["female", "male", "other", "unknown"] | None = None
    onset_date: Date | None = None
    onset_region: (
        Literal["bulbar", "upper_limb", "lower_limb", "trunk_axial", "respiratory", "generalised"]
        | None
    ) = None
    onset_side: Literal["left", "right", "bilateral"] | None = None
    diagnosis_date: Date | None = None
    gastrostomy_date: Date | None = None
    niv_date: Date | None = None
    tracheostomy_date: Date | None = None
    death_date: Date | None = None
    gastrostomy_note: Annotated[str, Strict()] | None = None
    niv_note: Annotated[str, Strict()] | None = None
    tracheostomy_note: Annotated[str, Strict()] | None = None
    death_note: Annotated[str, Strict()] | None = None

    @field_validator("id")
    @classmethod
    def _id_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise PydanticCustomError("blank", "must not be blank")
        return v

    @model_validator(mode="after")
    def _dates_after_birth(self) -> Patient:
        if self.birth_date is None:
            return self
        for name in MILESTONE_AND_HISTORY_DATES:
            d = getattr(self, name)
            if d is not None and d < self.birth_date:
                raise PydanticCustomError(
                    "impossible_date",
                    "{name} {d} is before birth_date {b}",
                    {"name": name, "d": d.isoformat(), "b": self.birth_date.isoformat()},
                )
        return self

    @property
    def display_name(self) -> str:
        """The name as it is written in running text: given names first, except for a family
        name in Chinese, Japanese or Korean letters, which comes first as it does in those
        languages (山田 花子, 김 민준). The family name's first letter decides, whatever the given
        names are written in (山田 Hanako; Yamada 花子 stays "花子 Yamada"). The MRN when there
        is no name."""
        order = (self.family_name, self.given_names) if _family_first(self.family_name) else (
            self.given_names, self.family_name)
        parts = [p.strip() for p in order if p and p.strip()]
        return " ".join(parts) if parts else self.id


_FAMILY_FIRST = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9D),  # half-width katakana
    (0x20000, 0x3134F),  # CJK Unified Ideographs Extensions B to G (and the compatibility supplement)
)


def _family_first(family: str | None) -> bool:
    """Whether a family name is written in Chinese, Japanese or Korean letters (its first letter)."""
    if not family:
        return False
    first = ord(family.strip()[:1] or " ")
    return any(lo <= first <= hi for lo, hi in _FAMILY_FIRST)


class Emg(_Model):
    """Needle EMG of one muscle; absent means not sampled."""

    fibrillations: Grade04 | None = None
    positive_sharp_waves: Grade04 | None = None
    fasciculation_potentials: Literal["absent", "present", "complex"] | None = None
    mup_large: Bool | None = None
    mup_unstable: Bool | None = None
    recruitment: Literal["normal", "reduced", "early", "absent"] | None = None
    study_date: Date | None = None
    """The date of the EMG study this row comes from, when it is not the visit's date (for
    example carried forward from an earlier visit; exam-format: ``muscles[].emg``)."""


class MuscleFinding(_Model):
    muscle: str
    side: Side
    mrc: Mrc | None = None
    wasting: Literal["none", "mild", "moderate", "severe"] | None = None
    fasciculations: Bool | None = None
    other_cause: Bool = False
    other_cause_reason: Annotated[str, Strict(), Field(max_length=200)] | None = None
    """What the findings are attributed to (e.g. "L5 radiculopathy"); only with other_cause."""
    emg: Emg | None = None

    @field_validator("muscle")
    @classmethod
    def _known_muscle(cls, v: str, info: ValidationInfo) -> str:
        cat = _catalogue(info)
        if cat is not None and v not in cat.muscle:
            raise PydanticCustomError("unknown_muscle", "{v} is not a catalogue muscle", {"v": _show(v)})
        return v

    @model_validator(mode="after")
    def _reason_needs_other_cause(self) -> MuscleFinding:
        if self.other_cause_reason is not None and not self.other_cause:
            raise PydanticCustomError(
                "other_cause_reason", "other_cause_reason: given without other_cause: true")
        return self

    @model_validator(mode="after")
    def _midline_only_axial(self, info: ValidationInfo) -> MuscleFinding:
        cat = _catalogue(info)
        if cat is not None and self.side == "midline" and self.muscle in cat.muscle:
            region = cat.muscle[self.muscle].region
            if region not in ("bulbar", "thoracic"):
                raise PydanticCustomError(
                    "side",
                    "side: {m} is a {r} muscle: use left or right (only bulbar and thoracic "
                    "muscles may be midline)",
                    {"m": self.muscle, "r": region},
                )
        return self

    @property
    def examined(self) -> bool:
        """A recorded finding (MRC, wasting, fasciculations or EMG) makes the muscle examined."""
        return (
            self.mrc is not None
            or self.wasting is not None
            or self.fasciculations is not None
            or self.emg is not None
        )


class ReflexFinding(_Model):
    reflex: str
    side: Side
    grade: Grade04
    spread: Bool = False

    @model_validator(mode="after")
    def _known(self, info: ValidationInfo) -> ReflexFinding:
        cat = _catalogue(info)
        if cat is None:
            return self
        r = cat.reflex.get(self.reflex)
        if r is None:
            raise PydanticCustomError(
                "unknown_reflex", "reflex: {v} is not a reflex (one of {ok})",
                {"v": _show(self.reflex), "ok": ", ".join(cat.reflex)},
            )
        if self.side not in r.sides:
            raise PydanticCustomError(
                "side", "side: {r} reflex is recorded {ok}, not {s}",
                {"r": r.id, "ok": " or ".join(r.sides), "s": self.side},
            )
        return self

    @property
    def brisk(self) -> bool:
        """Pathologically brisk: NINDS 4, or NINDS 3 with spread (NINDS; clinical-rules 3)."""
        return self.grade == 4 or (self.grade == 3 and self.spread)


class SignFinding(_Model):
    sign: str
    side: Side
    present: Bool

    @model_validator(mode="after")
    def _known(self, info: ValidationInfo) -> SignFinding:
        cat = _catalogue(info)
        if cat is None:
            return self
        s = cat.sign.get(self.sign)
        if s is None:
            raise PydanticCustomError(
                "unknown_sign", "sign: {v} is not a sign (one of {ok})",
                {"v": _show(self.sign), "ok": ", ".join(cat.sign)},
            )
        if self.side not in s.sides:
            raise PydanticCustomError(
                "side", "side: {g} is recorded {ok}, not {s}",
                {"g": s.id, "ok": " or ".join(s.sides), "s": self.side},
            )
        return self


class AlsfrsR(_Model):
    """ALSFRS-R (FRS): 12 items 0-4; ``cutting_food`` is 5a, or 5b when ``gastrostomy``."""

    speech: Grade04
    salivation: Grade04
    swallowing: Grade04
    handwriting: Grade04
    cutting_food: Grade04
    gastrostomy: Bool
    dressing_hygiene: Grade04
    turning_in_bed: Grade04
    walking: Grade04
    climbing_stairs: Grade04
    dyspnea: Grade04
    orthopnea: Grade04
    respiratory_insufficiency: Grade04

    @property
    def total(self) -> int:
        return sum(getattr(self, k) for k in ALSFRS_ITEMS)

    @property
    def bulbar(self) -> int:
        return self.speech + self.salivation + self.swallowing

    @property
    def fine_motor(self) -> int:
        return self.handwriting + self.cutting_food + self.dressing_hygiene

    @property
    def gross_motor(self) -> int:
        return self.turning_in_bed + self.walking + self.climbing_stairs

    @property
    def respiratory(self) -> int:
        return self.dyspnea + self.orthopnea + self.respiratory_insufficiency


CellKey = tuple[str, str, str, str]
"""One recorded cell of a visit: (kind, id, side, field), e.g. ("muscle", "biceps", "right", "mrc")."""


class VisitMarks(_Model):
    """Marks kept with a visit that are not findings (the classifier ignores them).

    ``not_reviewed``: cells copied forward from ``carried_from`` and not yet reviewed (a draft);
    ``carried``: cells signed as carried from ``carried_from`` without being re-examined;
    ``alsfrs_draft``: the items of an ALSFRS-R scored in part (a draft; the scale is stored whole)."""

    not_reviewed: tuple[tuple[str, str, str, str], ...] = ()
    carried: tuple[tuple[str, str, str, str], ...] = ()
    carried_from: Date | None = None
    alsfrs_draft: dict[str, Annotated[int, Strict(), Field(ge=0, le=4)] | Bool] | None = None

    @property
    def empty(self) -> bool:
        return not (self.not_reviewed or self.carried or self.alsfrs_draft)


_HEX64 = r"^[0-9a-f]{64}$"


class Signature(_Model):
    """A signed version of a visit as exported (exam-format: ``visits[].signature``): who
    signed it and when, the criteria options and the classification as signed, and the SHA-256
    over the visit's canonical content, that snapshot, the signer, the time and the previous
    version's hash (:mod:`domain.signature`). The classifier ignores it."""

    signed_by: Annotated[str, Strict(), Field(min_length=1)]
    signed_at: Annotated[str, Strict(), Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")]
    version: Annotated[int, Strict(), Field(ge=1)]
    amendment_reason: Annotated[str, Strict()] | None = None
    options: dict[str, Any]
    classification: dict[str, Any]
    program_version: Annotated[str, Strict()] | None = None
    catalogue_version: Annotated[str, Strict()] | None = None
    previous_sha256: Annotated[str, Strict(), Field(pattern=_HEX64)] | None = None
    sha256: Annotated[str, Strict(), Field(pattern=_HEX64)]


class Visit(_Model):
    date: Date
    progressive_by_history: Bool | None = None
    alternatives_excluded: Bool | None = None
    muscles: tuple[MuscleFinding, ...] = ()
    reflexes: tuple[ReflexFinding, ...] = ()
    signs: tuple[SignFinding, ...] = ()
    alsfrs_r: AlsfrsR | None = None
    fvc_percent: Annotated[float, Field(ge=0, le=200)] | None = None
    weight_kg: Annotated[float, Field(ge=1, le=400)] | None = None
    notes: Annotated[str, Strict()] | None = None
    marks: VisitMarks | None = None
    """Not findings: copy-forward and draft marks (the chart keeps them with the visit)."""
    signature: Signature | None = None
    """Exports of signed visits only; verified on import (:mod:`domain.signature`)."""

    @field_validator("fvc_percent", "weight_kg", mode="before")
    @classmethod
    def _number_not_bool(cls, v: Any) -> Any:
        if isinstance(v, bool) or (v is not None and not isinstance(v, (int, float))):
            raise PydanticCustomError("number", "{v} is not a number", {"v": _show(v)})
        return v

    @field_validator("muscles")
    @classmethod
    def _unique_muscles(cls, v: tuple[MuscleFinding, ...]) -> tuple[MuscleFinding, ...]:
        _unique(v, lambda f: (f.muscle, f.side), "muscle", "muscles")
        return v

    @field_validator("reflexes")
    @classmethod
    def _unique_reflexes(cls, v: tuple[ReflexFinding, ...]) -> tuple[ReflexFinding, ...]:
        _unique(v, lambda f: (f.reflex, f.side), "reflex", "reflexes")
        return v

    @field_validator("signs")
    @classmethod
    def _unique_signs(cls, v: tuple[SignFinding, ...]) -> tuple[SignFinding, ...]:
        _unique(v, lambda f: (f.sign, f.side), "sign", "signs")
        return v


def _unique(items, key, what, field):
    seen: dict[tuple[str, str], int] = {}
    for i, f in enumerate(items):
        k = key(f)
        if k in seen:
            raise PydanticCustomError(
                "duplicate",
                "[{i}]: {what} {name} {side} is recorded twice (also at [{j}])",
                {"i": i, "j": seen[k], "what": what, "name": k[0], "side": k[1]},
            )
        seen[k] = i


class Case(_Model):
    """One patient and that patient's visits; visits are sorted by date when read."""

    format: Literal["motorchart-case/1"]
    patient: Patient
    visits: tuple[Visit, ...]

    @field_validator("visits")
    @classmethod
    def _sorted_unique_dates(cls, v: tuple[Visit, ...]) -> tuple[Visit, ...]:
        seen: dict[dt.date, int] = {}
        for i, visit in enumerate(v):
            if visit.date in seen:
                raise PydanticCustomError(
                    "duplicate",
                    "[{i}].date: two visits on {d} (also visits[{j}])",
                    {"i": i, "j": seen[visit.date], "d": visit.date.isoformat()},
                )
            seen[visit.date] = i
        return tuple(sorted(v, key=lambda x: x.date))

    @model_validator(mode="after")
    def _visits_in_life(self) -> Case:
        p = self.patient
        for visit in self.visits:
            if p.birth_date and visit.date < p.birth_date:
                raise PydanticCustomError(
                    "impossible_date", "visits: visit {d} is before birth_date {b}",
                    {"d": visit.date.isoformat(), "b": p.birth_date.isoformat()},
                )
            if p.death_date and visit.date > p.death_date:
                raise PydanticCustomError(
                    "impossible_date", "visits: visit {d} is after death_date {b}",
                    {"d": visit.date.isoformat(), "b": p.death_date.isoformat()},
                )
        return self


def _catalogue(info: ValidationInfo) -> Catalogue | None:
    ctx = info.context
    return ctx.get("catalogue") if isinstance(ctx, dict) else None


# ---------------------------------------------------------------- parsing with clear errors

class CaseError(ValueError):
    """Invalid case input; ``problems`` holds one ``path: message`` line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# ---------------------------------------------------------------- limits of what a case may hold

MAX_CASE_FILE_BYTES = 64 * 1024 * 1024
"""A case file is at most 64 MiB (a signed export is about 60 kB per visit, so 500 visits fit)."""
MAX_VISITS = 500
"""Visits in one case (a patient seen monthly for 40 years)."""
MAX_NESTING = 32
"""JSON nesting levels (a signed export reaches 11)."""
MAX_TEXT = 20_000
"""Characters in any string of a case file (checked before the models see it); the fields of
:data:`TEXT_LIMITS` have their own limit, never above this one."""
TEXT_LIMITS: dict[str, tuple[int, bool]] = {
    # field: (characters at most, free text: may span lines and keep control characters)
    "id": (64, False),
    "family_name": (200, False),
    "given_names": (200, False),
    "milestone_note": (1_000, False),
    "notes": (20_000, True),
    "other_cause_reason": (200, False),
    "signed_by": (200, False),
    "amendment_reason": (2_000, True),
}
"""Characters per text field, and whether it is free text (only visit notes and amendment
reasons are: they may span lines). Every limit is checked by :func:`text_problem`."""
assert all(limit <= MAX_TEXT for limit, _ in TEXT_LIMITS.values())
MAX_PROBLEM_LINES = 20

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def text_problem(value: str, field: str | None = None) -> str | None:
    """Why ``value`` cannot be the text of ``field`` (a key of :data:`TEXT_LIMITS`; None: any
    other string, which has only the :data:`MAX_TEXT` limit), or None: a lone UTF-16 surrogate
    (not text at all), too many characters, or, in a one-line field (an MRN, a name, a
    milestone note), a control character: a line break, an escape sequence. Free text (visit
    notes, an amendment reason) keeps its control characters: pasted text may hold some, and
    the command line strips them when it prints (``desktop.present.terminal``)."""
    m = _SURROGATE.search(value)
    if m:
        return f"is not valid text: it holds a lone UTF-16 surrogate (U+{ord(m.group()):04X})"
    limit, multiline = TEXT_LIMITS.get(field, (MAX_TEXT, True)) if field else (MAX_TEXT, True)
    if len(value) > limit:
        return f"is {len(value):,} characters long (at most {limit:,} characters)"
    if field is None or multiline:
        return None  # free text keeps what it holds; the command line strips controls when printing
    m = _CONTROL_ONE_LINE.search(value)
    if m is None:
        return None
    if m.group() in "\r\n":
        return "holds a line break (it must be one line)"
    return f"holds a control character (U+{ord(m.group()):04X}), which is not text"


_PATIENT_TEXT = {"id": "id", "family_name": "family_name", "given_names": "given_names",
                 "gastrostomy_note": "milestone_note", "niv_note": "milestone_note",
                 "tracheostomy_note": "milestone_note", "death_note": "milestone_note"}


def _text_field(loc: tuple[Any, ...]) -> str | None:
    """The :data:`TEXT_LIMITS` field a string at ``loc`` of a case file is, or None."""
    if len(loc) == 2 and loc[0] == "patient":
        return _PATIENT_TEXT.get(loc[1])
    if len(loc) < 3 or loc[0] != "visits":
        return None
    if len(loc) == 3 and loc[2] == "notes":
        return "notes"
    if len(loc) == 5 and loc[2] == "muscles" and loc[4] == "other_cause_reason":
        return "other_cause_reason"
    if len(loc) == 4 and loc[2] == "signature" and loc[3] in ("signed_by", "amendment_reason"):
        return loc[3]
    return None


_TEXT_KEYS = frozenset({*_PATIENT_TEXT, "notes", "other_cause_reason", "signed_by", "amendment_reason"})
"""The keys under which :func:`_text_field` can find a text field."""


def _scan(data: Any) -> list[str]:
    """What makes decoded JSON unsafe to validate further, one ``path: message`` line each
    (at most :data:`MAX_PROBLEM_LINES`): nesting deeper than :data:`MAX_NESTING`, more than
    :data:`MAX_VISITS` visits, a string (or key) that is not valid text or longer than
    :data:`MAX_TEXT`, a text field of :data:`TEXT_LIMITS` that breaks its rule (so the file's
    JSON path is named). Iterative, so no depth can exhaust the stack.

    Issue 20 (bulk import): a signed visit carries its frozen result, so most of a case file's
    strings lie deep in it. Each node is therefore stacked with its parent's entry and its key,
    and a path is spelled out only where it is needed: for the strings shallow enough to be a
    text field (:func:`_text_field`) and for a problem. An ASCII string holds no surrogate."""
    problems: list[str] = []
    visits = data.get("visits") if isinstance(data, dict) else None
    if isinstance(visits, list) and len(visits) > MAX_VISITS:
        problems.append(f"visits: {len(visits):,} visits; a case holds at most {MAX_VISITS}")

    def loc_of(entry) -> tuple[Any, ...]:
        keys = []
        while entry is not None:
            entry, key = entry
            keys.append(key)
        return tuple(reversed(keys))

    # (node, depth, entry): entry is (parent's entry, key), None for the root
    stack: list[tuple[Any, int, Any]] = [(data, 0, None)]
    pop, push = stack.pop, stack.append
    while stack and len(problems) <= MAX_PROBLEM_LINES:
        node, depth, entry = pop()
        if isinstance(node, str):
            if depth <= 5 and entry[1] in _TEXT_KEYS:
                problem = text_problem(node, _text_field(loc_of(entry)))
            elif len(node) > MAX_TEXT or not (node.isascii() or _SURROGATE.search(node) is None):
                problem = text_problem(node)
            else:
                continue
            if problem:
                problems.append(f"{_path(loc_of(entry))}: {problem}")
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth >= MAX_NESTING:
            problems.append(f"{_path(loc_of(entry)) or 'the file'}: nested more than {MAX_NESTING} levels deep")
            continue
        if isinstance(node, dict):
            for k, v in reversed(node.items()):
                if not k.isascii() and _SURROGATE.search(k):
                    problems.append(f"{_path(loc_of(entry)) or 'the file'}: a key is not valid text "
                                    "(it holds a lone UTF-16 surrogate)")
                elif isinstance(v, (str, dict, list)):
                    push((v, depth + 1, (entry, k)))
        else:
            for i in range(len(node) - 1, -1, -1):
                v = node[i]
                if isinstance(v, (str, dict, list)):
                    push((v, depth + 1, (entry, i)))
    if len(problems) > MAX_PROBLEM_LINES:
        problems[MAX_PROBLEM_LINES:] = ["... and more problems (only the first "
                                        f"{MAX_PROBLEM_LINES} are listed)"]
    return problems


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_STRING_LITERAL = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_INNERMOST = re.compile(rb"\{\}|\[\]")
_NOT_BRACKETS_OR_QUOTES = bytes(b for b in range(256) if b not in b'"[]{}')


def _quote_every(raw: bytes, window: int) -> bool:
    """Whether each whole ``window`` of ``raw`` (from its start, side by side) holds a quote: then
    no run of ``2 * window`` bytes is without one, since such a run would hold a whole window."""
    find = raw.find
    return all(find(b'"', i, i + window) >= 0 for i in range(0, len(raw) - window + 1, window))


def _clean_by_its_text(raw: bytes, data: Any) -> bool:
    """Whether the JSON text ``raw`` (which decoded to ``data``) shows, without walking every
    string, that :func:`_scan` would find nothing: no surrogate escape (only those can put a
    lone surrogate in a string of strictly valid UTF-8 text, which :func:`parse_case` makes
    sure ``raw`` is), no string literal of :data:`MAX_TEXT` bytes or
    more (a character takes at least one; in a file without escaped quotes, no stretch that
    long without a quote, which may also send a string of half that to the walk), brackets
    outside the literals nested at most :data:`MAX_NESTING` deep (innermost pairs removed level
    by level), at most :data:`MAX_VISITS` visits, and every text field of :data:`TEXT_LIMITS`
    within its rule. False only sends the file to :func:`_scan`, which names each problem
    exactly (issue 20: the walk was most of a bulk import's time). Most files hold no
    backslash at all; then neither escape is looked for, and the text is read in three passes
    of C (0.36 ms for a demo case file of 220 kB, against 0.86 ms splitting it at every quote)."""
    escapes = b"\\" in raw  # (one byte: found at memory speed; most files hold no escape at all)
    if escapes and _SURROGATE_ESCAPE.search(raw):
        return False
    if escapes and b'\\"' in raw:  # an escaped quote: the string literals must be matched one by one
        literals = _STRING_LITERAL.findall(raw)
        if max(map(len, literals), default=0) >= MAX_TEXT:
            return False
        brackets = _STRING_LITERAL.sub(b"", raw).translate(None, _NOT_BRACKETS)
    else:  # every quote opens or closes a literal
        if not _quote_every(raw, MAX_TEXT // 2):
            return False  # (a run of MAX_TEXT bytes without a quote holds a whole window)
        # only the quotes and brackets kept, then every other stretch between quotes (a literal's
        # brackets) dropped: the brackets outside the literals, in order
        brackets = b"".join(raw.translate(None, _NOT_BRACKETS_OR_QUOTES).split(b'"')[0::2])
    for _ in range(MAX_NESTING):
        if not brackets:
            break
        brackets = _INNERMOST.sub(b"", brackets)
    if brackets:
        return False
    if not isinstance(data, dict):
        return False
    patient, visits = data.get("patient"), data.get("visits")
    fields: list[tuple[Any, str]] = []
    if isinstance(patient, dict):
        fields += [(patient.get(k), f) for k, f in _PATIENT_TEXT.items()]
    if isinstance(visits, list):
        if len(visits) > MAX_VISITS:
            return False
        for v in visits:
            if not isinstance(v, dict):
                continue
            fields.append((v.get("notes"), "notes"))
            muscles, signature = v.get("muscles"), v.get("signature")
            if isinstance(muscles, list):
                fields += [(m.get("other_cause_reason"), "other_cause_reason") for m in muscles if isinstance(m, dict)]
            if isinstance(signature, dict):
                fields += [(signature.get(k), k) for k in ("signed_by", "amendment_reason")]
    return not any(isinstance(value, str) and text_problem(value, field) for value, field in fields)


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # (the dict is built in C; the loop only runs on a duplicate)
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_GENERIC = {
    "missing": "is required",
    "extra_forbidden": "is not a known key",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing": "must be a whole number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "tuple_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dataclass_type": "must be an object",
}


def format_errors(err: ValidationError, prefix: str = "") -> list[str]:
    """One line per problem: ``visits[2].muscles[5].mrc: "6" is not an MRC grade ...``."""
    lines = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        msg = e["msg"]
        typ = e["type"]
        if typ in _GENERIC:
            msg = _GENERIC[typ]
        elif typ == "literal_error":
            expected = e.get("ctx", {}).get("expected", "")
            msg = f"{_show(e.get('input'))} is not one of {expected.replace(chr(39), '')}"
        elif typ in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            msg = f"{_show(e.get('input'))} is out of range ({msg.lower()})"
        elif typ == "too_short":
            msg = "must not be empty"
        # Messages of our own may carry a sub-path ("[3]: ...", "side: ...").
        path = _path(loc)
        m = re.match(r"^(\[\d+\](?:\.\w+)?|\w+): (.*)$", msg, re.S)
        if m and typ not in _GENERIC:
            sub, msg = m.group(1), m.group(2)
            path = path + sub if sub.startswith("[") else (path + "." if path else "") + sub
        path = prefix + path
        lines.append(f"{path}: {msg}" if path else msg)
    return lines


_NOT_UTF8 = "the file is not UTF-8 text"


def parse_case(text: str | bytes, catalogue: Catalogue) -> Case:
    """Read a case file's JSON text into a :class:`Case`, or raise :class:`CaseError`.

    Rejects a key written twice in one object, NaN/Infinity, a file over
    :data:`MAX_CASE_FILE_BYTES`, JSON nested deeper than :data:`MAX_NESTING`, and everything the
    models reject. File bytes must be UTF-8 (a byte order mark allowed): decoded strictly here,
    since ``json.loads`` would also take UTF-16 or UTF-32 and let the bytes of a lone surrogate
    through, which the quick check of the text (:func:`_clean_by_its_text`) must never see.
    """
    if len(text) > MAX_CASE_FILE_BYTES:
        raise CaseError([f"the file is larger than {MAX_CASE_FILE_BYTES // 2**20} MB, the most a case "
                         "file may be"])
    raw: bytes | None = None
    if isinstance(text, bytes):
        if b"\x00" in text:  # (never in JSON text; UTF-16 and UTF-32 hold them)
            raise CaseError([_NOT_UTF8])
        try:
            raw, text = text, text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CaseError([_NOT_UTF8]) from None
    try:
        data = json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant
        )
    except RecursionError:
        raise CaseError([f"not valid JSON for a case: nested more than {MAX_NESTING} levels deep"]) from None
    except _DuplicateKey as e:
        raise CaseError([f'the key "{e.args[0]}" is written twice in one object']) from None
    except json.JSONDecodeError as e:
        raise CaseError([f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"]) from None
    except ValueError as e:
        raise CaseError([f"not valid JSON: {e}"]) from None
    if raw is None:
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in the text itself: _scan names where
            raw = None
    return case_from_data(data, catalogue, scanned=raw is not None and _clean_by_its_text(raw, data))


def case_from_data(data: Any, catalogue: Catalogue, *, scanned: bool = False) -> Case:
    """Validate already-decoded JSON data against the format and the catalogue (``scanned``:
    :func:`_clean_by_its_text` showed that :func:`_scan` would find nothing)."""
    if not isinstance(data, dict):
        raise CaseError(["the file must hold a JSON object"])
    problems = [] if scanned else _scan(data)
    if problems:
        raise CaseError(problems)
    if data.get("format") != FORMAT and "format" in data:
        raise CaseError([f"format: {_show(data.get('format'))} is not {FORMAT}"])
    try:
        return Case.model_validate(data, context={"catalogue": catalogue})
    except ValidationError as e:
        raise CaseError(format_errors(e)) from None


def case_to_data(case: Case) -> dict[str, Any]:
    """The JSON form of a case, omitting not-recorded (None) values."""
    return case.model_dump(mode="json", exclude_none=True)


def case_json_schema(catalogue: Catalogue) -> dict[str, Any]:
    """The JSON Schema of ``motorchart-case/1`` with catalogue ids as enums."""
    schema = Case.model_json_schema(mode="validation")
    schema["$id"] = "https://motorchart.invalid/schema/motorchart-case-1.json"
    schema["title"] = "Motorchart case file, motorchart-case/1"
    defs = schema.get("$defs", {})
    defs["MuscleFinding"]["properties"]["muscle"] = {
        "enum": [m.id for m in catalogue.muscles], "title": "Muscle",
    }
    defs["ReflexFinding"]["properties"]["reflex"] = {
        "enum": [r.id for r in catalogue.reflexes], "title": "Reflex",
    }
    defs["SignFinding"]["properties"]["sign"] = {
        "enum": [s.id for s in catalogue.signs], "title": "Sign",
    }
    defs["MuscleFinding"]["properties"]["mrc"] = {
        "anyOf": [{"enum": list(MRC_GRADES), "type": "string"}, {"type": "null"}],
        "default": None, "title": "MRC grade",
    }
    return schema
