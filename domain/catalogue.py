"""The muscle, reflex and sign catalogue: parsed from CSV text into frozen models.

The domain never reads files: `desktop` reads `resources/catalogue/*.csv` and hands the text
to :func:`parse_catalogue`. Adding a muscle is one row in `muscles.csv`.
"""

from __future__ import annotations

import csv
import io
import re
from functools import cached_property

from pydantic import BaseModel, ConfigDict

REGIONS: tuple[str, ...] = ("bulbar", "cervical", "thoracic", "lumbosacral")
"""The four regions, rostral to caudal (rEEC, AWJ, GCC)."""

REGION_RANK = {r: i for i, r in enumerate(REGIONS)}
SIDES = ("left", "right", "midline")
KINGS_REGIONS = ("bulbar", "upper_limb", "lower_limb", "diaphragm")
SEGMENTS = ("proximal", "distal")
"""A limb muscle's segment (muscles.csv ``segment``): used by the flail arm and flail leg
patterns (clinical-rules 8; FAFL)."""
MRC_SUM_MOVEMENTS = (
    "shoulder_abduction",
    "elbow_flexion",
    "wrist_extension",
    "hip_flexion",
    "knee_extension",
    "ankle_dorsiflexion",
)

_ROOT_SEGMENTS = {"C": 8, "T": 12, "L": 5, "S": 5}
_ROOT_ORDER = [f"{p}{n}" for p in "CTLS" for n in range(1, _ROOT_SEGMENTS[p] + 1)]
_ROOT_INDEX = {r: i for i, r in enumerate(_ROOT_ORDER)}
_CRANIAL = re.compile(r"^CN (I|II|III|IV|V|VI|VII|VIII|IX|X|XI|XII)$")


class CatalogueError(ValueError):
    """A catalogue file is inconsistent; the message names the file, row and column."""


def parse_roots(text: str) -> tuple[str, ...]:
    """Expand a root range such as ``C5-T1`` or ``CN XII`` into its ordered roots.

    Raises ValueError naming the text when it is not a spinal root range or a cranial nerve.
    """
    text = text.strip()
    if _CRANIAL.match(text):
        return (text,)
    parts = text.split("-")
    if len(parts) not in (1, 2) or any(p not in _ROOT_INDEX for p in parts):
        raise ValueError(f'"{text}" is not a root or root range (e.g. C5-C6, CN XII)')
    lo, hi = _ROOT_INDEX[parts[0]], _ROOT_INDEX[parts[-1]]
    if hi < lo:
        raise ValueError(f'"{text}" runs backwards')
    return tuple(_ROOT_ORDER[lo : hi + 1])


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Muscle(_Frozen):
    """One catalogue muscle (shared/reference/muscles.csv)."""

    id: str
    name: str
    region: str
    roots: tuple[str, ...]
    principal_roots: tuple[str, ...]
    roots_text: str
    principal_roots_text: str
    nerve: str
    linked_reflex: str | None = None
    thoracic_emg_qualifies: bool = False
    mrc_sum_movement: str | None = None
    kings_region: str | None = None
    limb: str | None = None
    segment: str | None = None  # proximal | distal, limb muscles only (clinical-rules 8; FAFL)

    @property
    def spinal_accessory(self) -> bool:
        """Sternocleidomastoid and trapezius: the muscles moved by option ``scm_region``."""
        return self.nerve == "spinal_accessory"


class Reflex(_Frozen):
    id: str
    name: str
    region: str
    sides: tuple[str, ...]
    umn_score: bool


class Sign(_Frozen):
    id: str
    name: str
    region: str
    sides: tuple[str, ...]
    requires_option: str | None = None
    umn_score: bool
    spasticity_or_clonus: bool
    kings_region: str | None = None
    """The King's region a present sign involves functionally: spasticity signs only (KING,
    Roche 2012; clinical-rules 7). Reflexes and other pathological signs involve none."""


class Catalogue(_Frozen):
    muscles: tuple[Muscle, ...]
    reflexes: tuple[Reflex, ...]
    signs: tuple[Sign, ...]

    @cached_property
    def muscle(self) -> dict[str, Muscle]:
        return {m.id: m for m in self.muscles}

    @cached_property
    def reflex(self) -> dict[str, Reflex]:
        return {r.id: r for r in self.reflexes}

    @cached_property
    def sign(self) -> dict[str, Sign]:
        return {s.id: s for s in self.signs}

    @cached_property
    def muscles_by_reflex(self) -> dict[str, tuple[Muscle, ...]]:
        out: dict[str, list[Muscle]] = {}
        for m in self.muscles:
            if m.linked_reflex:
                out.setdefault(m.linked_reflex, []).append(m)
        return {k: tuple(v) for k, v in out.items()}


def _rows(name: str, text: str, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    missing = [c for c in columns if c not in header]
    if missing:
        raise CatalogueError(f"{name}: missing column(s) {', '.join(missing)}")
    extra = [c for c in header if c not in columns]
    if extra:
        raise CatalogueError(f"{name}: unknown column(s) {', '.join(extra)}")
    rows = []
    seen: set[str] = set()
    for lineno, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items()}
        rid = row["id"]
        if not re.fullmatch(r"[a-z][a-z0-9_]*", rid):
            raise CatalogueError(f'{name} line {lineno}: id "{rid}" must be lower_snake_case')
        if rid in seen:
            raise CatalogueError(f'{name} line {lineno}: id "{rid}" appears twice')
        seen.add(rid)
        rows.append((lineno, row))
    return rows


def _choice(name, lineno, column, value, allowed, *, optional=False):
    if optional and value == "":
        return None
    if value not in allowed:
        raise CatalogueError(
            f'{name} line {lineno}: {column} "{value}" is not one of {", ".join(allowed)}'
        )
    return value


def _sides(name, lineno, value) -> tuple[str, ...]:
    """The space-separated sides of a reflex or sign row, each one of :data:`SIDES`."""
    sides = tuple(value.split())
    for s in sides or ("",):
        _choice(name, lineno, "sides", s, SIDES)
    return sides


def _yes_no(name, lineno, column, value):
    if value in ("", "no"):
        return False
    if value == "yes":
        return True
    raise CatalogueError(f'{name} line {lineno}: {column} "{value}" must be yes, no or empty')


def parse_catalogue(muscles_csv: str, reflexes_csv: str, signs_csv: str) -> Catalogue:
    """Parse and cross-check the three catalogue files.

    Errors (one :class:`CatalogueError`) name the file, line and column: an unknown region, a
    bad root, a linked reflex that does not exist, an unknown side, a duplicate id.
    """
    reflexes = []
    for lineno, r in _rows(
        "reflexes.csv", reflexes_csv, ("id", "name", "region", "sides", "umn_score")
    ):
        n = "reflexes.csv"
        sides = _sides(n, lineno, r["sides"])
        reflexes.append(
            Reflex(
                id=r["id"],
                name=r["name"],
                region=_choice(n, lineno, "region", r["region"], REGIONS),
                sides=sides,
                umn_score=_yes_no(n, lineno, "umn_score", r["umn_score"]),
            )
        )
    reflex_ids = {r.id for r in reflexes}

    signs = []
    for lineno, r in _rows(
        "signs.csv",
        signs_csv,
        (
            "id", "name", "region", "sides", "requires_option",
            "umn_score", "spasticity_or_clonus", "kings_region",
        ),
    ):
        n = "signs.csv"
        sides = _sides(n, lineno, r["sides"])
        signs.append(
            Sign(
                id=r["id"],
                name=r["name"],
                region=_choice(n, lineno, "region", r["region"], REGIONS),
                sides=sides,
                requires_option=r["requires_option"] or None,
                umn_score=_yes_no(n, lineno, "umn_score", r["umn_score"]),
                spasticity_or_clonus=_yes_no(
                    n, lineno, "spasticity_or_clonus", r["spasticity_or_clonus"]
                ),
                kings_region=_choice(
                    n, lineno, "kings_region", r["kings_region"], KINGS_REGIONS, optional=True
                ),
            )
        )

    muscles = []
    for lineno, r in _rows(
        "muscles.csv",
        muscles_csv,
        (
            "id", "name", "region", "roots", "principal_roots", "nerve", "linked_reflex",
            "thoracic_emg_qualifies", "mrc_sum_movement", "kings_region", "limb", "segment",
        ),
    ):
        n = "muscles.csv"
        region = _choice(n, lineno, "region", r["region"], REGIONS)
        try:
            roots = parse_roots(r["roots"])
        except ValueError as e:
            raise CatalogueError(f"{n} line {lineno}: roots {e}") from None
        try:
            principal = parse_roots(r["principal_roots"])
        except ValueError as e:
            raise CatalogueError(f"{n} line {lineno}: principal_roots {e}") from None
        if not set(principal) <= set(roots):
            raise CatalogueError(
                f'{n} line {lineno}: principal_roots "{r["principal_roots"]}" '
                f'lie outside roots "{r["roots"]}"'
            )
        if not r["nerve"]:
            raise CatalogueError(f"{n} line {lineno}: nerve is empty")
        linked = r["linked_reflex"] or None
        if linked is not None and linked not in reflex_ids:
            raise CatalogueError(
                f'{n} line {lineno}: linked_reflex "{linked}" is not a reflex in reflexes.csv'
            )
        tq = r["thoracic_emg_qualifies"]
        if tq and region != "thoracic":
            raise CatalogueError(
                f"{n} line {lineno}: thoracic_emg_qualifies is only for thoracic muscles"
            )
        limb = _choice(n, lineno, "limb", r["limb"], ("arm", "leg"), optional=True)
        segment = _choice(n, lineno, "segment", r["segment"], SEGMENTS, optional=True)
        if segment is not None and limb is None:
            raise CatalogueError(
                f'{n} line {lineno}: segment "{segment}" is only for limb muscles (limb is empty)'
            )
        muscles.append(
            Muscle(
                id=r["id"],
                name=r["name"],
                region=region,
                roots=roots,
                principal_roots=principal,
                roots_text=r["roots"],
                principal_roots_text=r["principal_roots"],
                nerve=r["nerve"],
                linked_reflex=linked,
                thoracic_emg_qualifies=_yes_no(n, lineno, "thoracic_emg_qualifies", tq),
                mrc_sum_movement=_choice(
                    n, lineno, "mrc_sum_movement", r["mrc_sum_movement"], MRC_SUM_MOVEMENTS,
                    optional=True,
                ),
                kings_region=_choice(
                    n, lineno, "kings_region", r["kings_region"], KINGS_REGIONS, optional=True
                ),
                limb=limb,
                segment=segment,
            )
        )
    movements = [m.mrc_sum_movement for m in muscles if m.mrc_sum_movement]
    for mv in MRC_SUM_MOVEMENTS:
        if movements.count(mv) != 1:
            raise CatalogueError(
                f"muscles.csv: mrc_sum_movement {mv} must name exactly one muscle "
                f"(found {movements.count(mv)})"
            )
    return Catalogue(muscles=tuple(muscles), reflexes=tuple(reflexes), signs=tuple(signs))
