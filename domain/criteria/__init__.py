"""Registry of diagnostic criteria.

Each criterion is one module in this package that decorates its ``evaluate`` function with
:func:`criterion`; the module declares what the classifier must compute for it (its EMG
predicate for a muscle, which clinical LMN rule it uses, whether EMG counts in L, which
pathological signs are UMN evidence, whether it grades or is met or not, and whether it defines
a region's involvement). Adding a
criterion means adding one module here: the classifier, the JSON output, the CLI, the grid and
the reports iterate :data:`REGISTRY`.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable, Literal

from ..case import Emg
from ..catalogue import REGION_RANK, REGIONS, Sign

CATEGORY_ORDER: tuple[str, ...] = (
    "not_met", "possible", "probable_lab_supported", "probable", "definite",
)
"""Categories, lowest first (rEEC/AWJ)."""
CATEGORY_RANK = {c: i for i, c in enumerate(CATEGORY_ORDER)}
CATEGORY_LABELS = {
    "definite": "Clinically definite",
    "probable": "Clinically probable",
    "probable_lab_supported": "Clinically probable, laboratory-supported",
    "possible": "Clinically possible",
    "not_met": "Not met",
}


@dataclass(frozen=True, slots=True)
class Ref:
    """A finding an explanation points at: ``("muscle", id, side)``, ``("reflex", ...)``, ``("sign", ...)``."""

    kind: str
    id: str
    side: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id, "side": self.side}


@dataclass(frozen=True, slots=True)
class Reason:
    """One line of explanation and the findings behind it."""

    text: str
    refs: tuple[Ref, ...] = ()


_new_object = object.__new__
_set_text = Reason.text.__set__  # the slots' own setters: no frozen-dataclass __setattr__
_set_refs = Reason.refs.__set__


def reason(text: str, refs: tuple[Ref, ...] = ()) -> Reason:
    """``Reason(text, refs)``, the same frozen object, made without the dataclass ``__init__``
    (a frozen dataclass sets each field through ``object.__setattr__``): about 40% cheaper.
    For the classifier, which makes thousands of explanation lines for a long history."""
    r = _new_object(Reason)
    _set_text(r, text)
    _set_refs(r, refs)
    return r


def frozen_maker(cls):
    """A constructor for the slotted dataclass ``cls`` that takes every field (by position in
    field order, or by name; no defaults) and makes the same object as ``cls(...)`` does,
    without the dataclass ``__init__``: a frozen one sets each field through
    ``object.__setattr__`` (about three times slower; see :func:`reason`), and calling a class
    costs more than calling a function. For the objects the classifier makes for every muscle,
    region, criterion and visit. No field may have ``init=False`` or a ``__post_init__`` to run."""
    fields = dataclasses.fields(cls)
    if getattr(cls, "__post_init__", None) is not None or not all(f.init for f in fields):
        raise TypeError(f"{cls.__name__}: frozen_maker needs plain fields")
    names = [f.name for f in fields]
    ns = {"_new": object.__new__, "_cls": cls, **{f"_set_{n}": getattr(cls, n).__set__ for n in names}}
    if cls.__dataclass_params__.frozen:
        body = "".join(f"    _set_{n}(o, {n})\n" for n in names)
    else:
        body = "".join(f"    o.{n} = {n}\n" for n in names)
    exec(f"def make({', '.join(names)}):\n    o = _new(_cls)\n{body}    return o\n", ns)  # noqa: S102
    make = ns["make"]
    make.__qualname__ = make.__name__ = f"make_{cls.__name__}"
    make.__doc__ = f"``{cls.__name__}(...)``, every field given: see :func:`frozen_maker`."
    return make


@dataclass(frozen=True, slots=True)
class RegionView:
    """What one criterion sees of one region: U and L with the lines that justify them."""

    region: str
    examined: bool
    umn: bool
    lmn: bool
    lmn_emg: bool
    umn_reasons: tuple[Reason, ...]
    lmn_reasons: tuple[Reason, ...]
    emg_reasons: tuple[Reason, ...]
    notes: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class CriterionInput:
    regions: dict[str, RegionView]
    progression: bool
    alternatives_excluded: bool
    options: object  # domain.options.Options
    ignored: tuple[Reason, ...] = ()

    @property
    def U(self) -> set[str]:
        return {r for r, v in self.regions.items() if v.umn}

    @property
    def L(self) -> set[str]:
        return {r for r, v in self.regions.items() if v.lmn}

    @property
    def L_emg(self) -> set[str]:
        return {r for r, v in self.regions.items() if v.lmn_emg}

    @property
    def not_examined(self) -> list[str]:
        return [r for r in REGIONS if not self.regions[r].examined]


@dataclass(frozen=True, slots=True)
class CriterionResult:
    id: str
    category: str | None = None  # graded criteria
    met: bool | None = None  # met / not met criteria
    conditions: dict[str, bool] = field(default_factory=dict)
    pending: tuple[str, ...] = ()
    clause: str = ""
    reasons: tuple[Reason, ...] = ()

    @property
    def rank(self) -> int:
        """Comparable strength: category rank, or 0/1 for met."""
        if self.category is not None:
            return CATEGORY_RANK[self.category]
        return int(bool(self.met))

    @property
    def reached(self) -> bool:
        return self.rank > 0

    @property
    def verdict(self) -> str:
        """The result in words: "Clinically probable", "Not met" for graded criteria; "met" or
        "not met" for the others."""
        if self.category is not None:
            return CATEGORY_LABELS[self.category]
        return "met" if self.met else "not met"

    @property
    def verdict_with_pending(self) -> str:
        """The verdict and what is still pending: "Clinically probable (pending: progression)"."""
        if not self.pending:
            return self.verdict
        return f"{self.verdict} (pending: {', '.join(p.replace('_', ' ') for p in self.pending)})"


make_region_view = frozen_maker(RegionView)
make_criterion_input = frozen_maker(CriterionInput)
make_result = frozen_maker(CriterionResult)


@dataclass(frozen=True, slots=True)
class Criterion:
    id: str
    label: str
    source: str
    graded: bool
    emg_lmn: Callable[[Emg], bool]
    emg_rule: str
    clinical_lmn: Literal["option", "weak_and_wasted"]
    emg_in_l: bool
    evaluate: Callable[[CriterionInput], CriterionResult]
    defines_involvement: bool = False
    """Its U and L say whether a region is involved: for spread, progression, the phenotype and
    every display of a region's state (clinical-rules 8, 10). Exactly one criterion says so."""
    umn_sign: Callable[[Sign], bool] = lambda sign: True
    """Whether a present pathological sign of the catalogue is UMN evidence in this criterion
    (its UMN list, clinical-rules 3); every sign by default. Reflexes count alike everywhere."""


REGISTRY: dict[str, Criterion] = {}


def criterion(
    id: str,
    *,
    label: str,
    source: str,
    graded: bool,
    emg_lmn: Callable[[Emg], bool],
    emg_rule: str,
    clinical_lmn: Literal["option", "weak_and_wasted"],
    emg_in_l: bool,
    defines_involvement: bool = False,
    umn_sign: Callable[[Sign], bool] | None = None,
):
    """Register a criterion's ``evaluate`` function under ``id`` (import order = display order)."""

    def register(fn: Callable[[CriterionInput], CriterionResult]):
        if id in REGISTRY:
            raise ValueError(f"criterion {id!r} registered twice")
        REGISTRY[id] = Criterion(
            id=id, label=label, source=source, graded=graded, emg_lmn=emg_lmn,
            emg_rule=emg_rule, clinical_lmn=clinical_lmn, emg_in_l=emg_in_l, evaluate=fn,
            defines_involvement=defines_involvement,
            **({"umn_sign": umn_sign} if umn_sign is not None else {}),
        )
        return fn

    return register


def rostral_ok(U: set[str], L: set[str]) -> tuple[str, str] | None:
    """A (UMN region, LMN region) pair with the UMN region strictly rostral, or None (rEEC)."""
    for u in sorted(U, key=REGION_RANK.__getitem__):
        for l in sorted(L, key=REGION_RANK.__getitem__):
            if REGION_RANK[u] < REGION_RANK[l]:
                return (u, l)
    return None


def names(regions) -> str:
    ordered = [r for r in REGIONS if r in regions]
    return ", ".join(ordered) if ordered else "none"


# Importing each module registers it. The built-in three first, in display order.
_BUILTIN = ("el_escorial", "awaji", "gold_coast")
for _name in _BUILTIN:
    importlib.import_module(f"{__name__}.{_name}")
for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _mod not in _BUILTIN and not _mod.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod}")


def involvement_criterion() -> str:
    """The id of the one criterion that defines regional involvement (``defines_involvement``)."""
    ids = [c.id for c in REGISTRY.values() if c.defines_involvement]
    if len(ids) != 1:
        raise RuntimeError(f"exactly one criterion must define involvement; found {ids or 'none'}")
    return ids[0]
