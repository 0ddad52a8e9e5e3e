"""Per-visit evidence: each muscle's UMN/LMN findings and each region's UMN/LMN evidence.

Pure functions over one :class:`~domain.case.Visit`; the criteria consume the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

from pydantic import BaseModel

from .case import MRC_RANK, WASTING, Emg, MuscleFinding, ReflexFinding, Visit
from .catalogue import REGIONS, Catalogue, Muscle, Sign, parse_roots
from .criteria import (
    REGISTRY,
    CriterionInput,
    Reason,
    Ref,
    RegionView,
    frozen_maker,
    involvement_criterion,
    make_criterion_input,
    make_region_view,
    reason,
)
from .options import Options

WASTING_RANK = {w: i for i, w in enumerate(WASTING)}
SIDE_ABBR = {"left": "L", "right": "R", "midline": ""}


def _side(side: str) -> str:
    a = SIDE_ABBR[side]
    return f" {a}" if a else ""


@dataclass(slots=True, eq=False)
class MuscleState:
    """One recorded muscle/side at one visit, with every per-muscle conclusion.

    A read-only snapshot by convention (not ``frozen``: frozen dataclasses set each field
    through ``object.__setattr__``, which doubled the cost of classifying a full visit)."""

    finding: MuscleFinding
    muscle: Muscle
    region: str
    examined: bool
    ignored: bool
    weak: bool
    wasted: bool
    lmn_clinical: bool  # rEEC/AWJ rule (option clinical_lmn_rule)
    lmn_clinical_gold_coast: bool  # weak and wasted (GCC)
    lmn_emg: dict[str, bool]  # per registered criterion; one dict per distinct EMG row, shared
    umn: bool
    umn_reason: str | None
    key: tuple[str, str]  # (muscle id, side)
    ref: Ref
    label: str  # "First dorsal interosseous R"

    @property
    def lmn_any(self) -> bool:
        return self.lmn_clinical or self.lmn_clinical_gold_coast or any(self.lmn_emg.values())

    @property
    def lmn_evidence(self) -> bool:
        """Per-muscle LMN evidence used by progression, spread and phenotype: clinical (rEEC
        rule) or EMG by the predicate of the criterion that defines involvement (Awaji;
        clinical-rules 8)."""
        return self.lmn_clinical or self.lmn_emg.get(SPREAD_CRITERION, False)

    @property
    def mixed(self) -> bool:
        """UMN and LMN evidence in the same muscle."""
        return self.umn and self.lmn_any

    def as_json(self) -> dict:
        return {
            "muscle": self.muscle.id,
            "side": self.finding.side,
            "region": self.region,
            "examined": self.examined,
            "other_cause": self.ignored,
            "weak": self.weak,
            "wasted": self.wasted,
            "umn": self.umn,
            "umn_reason": self.umn_reason,
            "lmn_clinical": self.lmn_clinical,
            "lmn_clinical_gold_coast": self.lmn_clinical_gold_coast,
            "lmn_emg": dict(self.lmn_emg),
            "mixed": self.mixed,
        }


SPREAD_CRITERION = involvement_criterion()
"""The framework whose U and L say whether a region is involved, for spread, progression, the
phenotype and every display of a region's state (clinical-rules 8, 10)."""

REGION_STATES = ("not_examined", "no_evidence", "umn", "lmn", "umn_lmn")


@dataclass(frozen=True, slots=True)
class RegionState:
    """A region's state as every reader sees it, defined once (clinical-rules 10: involved =
    UMN of rEEC/AWJ or LMN by Awaji): ``kind`` is one of :data:`REGION_STATES`;
    ``lmn_clinical`` and ``lmn_emg`` say where the LMN evidence comes from."""

    examined: bool
    umn: bool
    lmn: bool
    lmn_clinical: bool
    lmn_emg: bool

    @property
    def kind(self) -> str:
        if not self.examined and not (self.umn or self.lmn):
            return "not_examined"
        if self.umn and self.lmn:
            return "umn_lmn"
        return "umn" if self.umn else "lmn" if self.lmn else "no_evidence"

    @property
    def involved(self) -> bool:
        return self.umn or self.lmn


@dataclass(frozen=True, slots=True)
class RegionEvidence:
    """One region at one visit: UMN per criterion, clinical and EMG LMN, and the explanations."""

    region: str
    examined: bool
    umn: dict[str, bool]
    umn_reasons: dict[str, tuple[Reason, ...]]
    lmn_clinical: bool
    lmn_clinical_gold_coast: bool
    lmn_clinical_reasons: tuple[Reason, ...]
    lmn_clinical_gold_coast_reasons: tuple[Reason, ...]
    lmn_emg: dict[str, bool]
    emg_reasons: dict[str, tuple[Reason, ...]]
    emg_notes: dict[str, tuple[Reason, ...]]
    notes: tuple[Reason, ...]

    def lmn(self, crit_id: str) -> bool:
        c = REGISTRY[crit_id]
        clin = self.lmn_clinical if c.clinical_lmn == "option" else self.lmn_clinical_gold_coast
        return clin or (c.emg_in_l and self.lmn_emg[crit_id])

    def view(self, crit_id: str) -> RegionView:
        c = REGISTRY[crit_id]
        if c.clinical_lmn == "option":
            clin, clin_r = self.lmn_clinical, self.lmn_clinical_reasons
        else:
            clin, clin_r = self.lmn_clinical_gold_coast, self.lmn_clinical_gold_coast_reasons
        emg = self.lmn_emg[crit_id]
        lmn_r = clin_r + (self.emg_reasons[crit_id] if c.emg_in_l else ())
        notes = self.notes + self.emg_notes[crit_id]
        return make_region_view(  # region, examined, umn, lmn, lmn_emg, umn_reasons, lmn_reasons, emg_reasons, notes
            self.region, self.examined, self.umn[crit_id], clin or (c.emg_in_l and emg), emg,
            self.umn_reasons[crit_id], lmn_r, self.emg_reasons[crit_id], notes,
        )

    def state(self) -> RegionState:
        """The one region state (clinical-rules 10): UMN of rEEC/AWJ, LMN by Awaji."""
        c = SPREAD_CRITERION
        return RegionState(
            examined=self.examined, umn=self.umn.get(c, False), lmn=self.lmn(c),
            lmn_clinical=self.lmn_clinical, lmn_emg=self.lmn_emg.get(c, False),
        )

    def as_json(self) -> dict:
        first = next(iter(REGISTRY))
        return {
            "examined": self.examined,
            "umn": self.umn[first],
            "umn_gold_coast": self.umn.get("gold_coast", self.umn[first]),
            "umn_by_criterion": dict(self.umn),
            "lmn_clinical": self.lmn_clinical,
            "lmn_clinical_gold_coast": self.lmn_clinical_gold_coast,
            "lmn_emg": dict(self.lmn_emg),
            "lmn": {c: self.lmn(c) for c in REGISTRY},
        }


@dataclass(frozen=True, slots=True)
class VisitEvidence:
    muscles: tuple[MuscleState, ...]
    regions: dict[str, RegionEvidence]
    ignored: tuple[Reason, ...]

    def criterion_input(
        self, crit_id: str, *, progression: bool, alternatives_excluded: bool, options: Options
    ) -> CriterionInput:
        return make_criterion_input(
            regions={r: self.regions[r].view(crit_id) for r in REGIONS},
            progression=progression,
            alternatives_excluded=alternatives_excluded,
            options=options,
            ignored=self.ignored,
        )

    def involved(self) -> set[str]:
        """Regions with UMN (rEEC/AWJ) or LMN (Awaji) evidence (clinical-rules 10, spread)."""
        c = SPREAD_CRITERION
        return {r for r, e in self.regions.items() if e.umn.get(c, False) or e.lmn(c)}


_make_state = frozen_maker(MuscleState)
_make_region_evidence = frozen_maker(RegionEvidence)
_make_visit_evidence = frozen_maker(VisitEvidence)


def _roots_conflict(a: Muscle, b: Muscle, rule: str) -> str | None:
    """Why two muscles do not count as different roots under option ``root_rule``
    (clinical-rules 4.3), or None when they do.

    ``no_shared_principal`` (default): their principal roots have no root in common, so no
    single root lesion explains both (EDC and FDI share C8: no). ``principal_differs``: the
    principal root sets are not identical. ``disjoint``: the full root ranges share no root."""
    return _conflict(a.principal_roots, b.principal_roots, a.roots, b.roots, a.principal_roots_text, rule)


@lru_cache(maxsize=4096)
def _conflict(pa: tuple[str, ...], pb: tuple[str, ...], ra: tuple[str, ...], rb: tuple[str, ...],
              pa_text: str, rule: str) -> str | None:
    """:func:`_roots_conflict` on the muscles' root tuples (memoised: a pure function of
    catalogue facts, asked for the same pairs at every visit)."""
    if rule == "principal_differs":
        if set(pa) == set(pb):
            return f"share principal roots {pa_text}"
        return None
    if rule == "no_shared_principal":
        common = [r for r in pa if r in set(pb)]
        if common:
            plural = "s" if len(common) > 1 else ""
            return f"share principal root{plural} {_root_list(common)}"
        return None
    common = [r for r in ra if r in set(rb)]
    if common:
        return f"share root{'s' if len(common) > 1 else ''} {', '.join(common)} (disjoint rule)"
    return None


def _distinct(a: Muscle, b: Muscle, rule: str) -> bool:
    """Two muscles of different peripheral nerves and different roots (clinical-rules 4.3,
    option ``root_rule``): they count as two in the cervical and lumbosacral EMG rule."""
    return a.nerve != b.nerve and _roots_conflict(a, b, rule) is None


def _root_list(roots: list[str]) -> str:
    """``C8`` or ``C5-C6`` for a run of consecutive roots, else ``C5, C7``."""
    if len(roots) == 1:
        return roots[0]
    try:
        if list(parse_roots(f"{roots[0]}-{roots[-1]}")) == roots:
            return f"{roots[0]}-{roots[-1]}"
    except ValueError:
        pass
    return ", ".join(roots)


def _emg_region(region: str, pos: list[MuscleState], ctx: EvidenceContext) -> tuple:
    """EMG LMN in a region (clinical-rules 4.3, same for all frameworks), from the region's
    muscles with EMG LMN by one criterion's predicate (``pos``, in recorded order, not empty).

    bulbar: one muscle; thoracic: one qualifying muscle (paraspinals at or below T6, abdominal
    wall); cervical and lumbosacral: two muscles of different peripheral nerves and different
    roots (option ``root_rule``). Returns what holds whichever the criterion, which
    :func:`_emg_lines` words for each: ``("met", body, refs)``, ``("notes", lines)``,
    ``("one", state)`` or ``("none", body, refs)``."""
    if region == "bulbar":
        return "met", f"{', '.join([s.label for s in pos])}.", tuple([s.ref for s in pos])
    if region == "thoracic":
        ok = [s for s in pos if s.muscle.thoracic_emg_qualifies]
        if ok:
            return "met", f"{', '.join([s.label for s in ok])}.", tuple([s.ref for s in ok])
        return "notes", tuple(
            reason(
                f"{s.label}: EMG LMN but does not qualify for thoracic EMG evidence "
                "(paraspinals at or below T6 or abdominal wall are needed).",
                (s.ref,),
            )
            for s in pos
        )
    # cervical / lumbosacral: two muscles, different nerves and different roots.
    distinct = ctx.distinct_from
    for i, a in enumerate(pos):
        row = distinct(a.muscle)
        for b in pos[i + 1 :]:
            ok = row.get(b.key[0])
            if ok is None:
                ok = row[b.key[0]] = _distinct(a.muscle, b.muscle, ctx.options.root_rule)
            if ok:
                others = [s for s in pos if s is not a and s is not b]
                extra = f"; also {', '.join([s.label for s in others])}" if others else ""
                body = (
                    f"{a.label} ({a.muscle.nerve.replace('_', ' ')} nerve, "
                    f"{a.muscle.principal_roots_text}) and {b.label} "
                    f"({b.muscle.nerve.replace('_', ' ')} nerve, {b.muscle.principal_roots_text}), "
                    f"different nerves and roots{extra}."
                )
                return "met", body, tuple([s.ref for s in pos])
    if len(pos) == 1:
        return "one", pos[0]
    parts = []
    for i, a in enumerate(pos):
        for b in pos[i + 1 :]:
            if a.muscle.nerve == b.muscle.nerve:
                parts.append(
                    f"{a.label} and {b.label} share the {a.muscle.nerve.replace('_', ' ')} nerve"
                )
            else:
                parts.append(
                    f"{a.label} and {b.label} "
                    f"{_roots_conflict(a.muscle, b.muscle, ctx.options.root_rule)}"
                )
            if len(parts) >= 4:
                break
        if len(parts) >= 4:
            break
    return "none", "; ".join(parts) + ".", tuple([s.ref for s in pos])


def _emg_lines(region: str, found: tuple, crit_id: str) -> tuple[bool, tuple[Reason, ...], tuple[Reason, ...]]:
    """A region's EMG LMN under one criterion (:func:`_emg_region`), in words: (met, evidence
    lines, lines explaining a miss)."""
    kind = found[0]
    c = REGISTRY[crit_id]
    if kind == "met":
        tag = f"{region.capitalize()} EMG LMN ({c.label}: {c.emg_rule})"
        return True, (reason(f"{tag}: {found[1]}", found[2]),), ()
    if kind == "notes":
        return False, (), found[1]
    if kind == "one":
        s = found[1]
        why = (
            f"{region.capitalize()} EMG ({c.label}) not met: only {s.label} "
            "has EMG LMN; two muscles of different nerves and roots are needed."
        )
        return False, (), (reason(why, (s.ref,)),)
    return False, (), (reason(f"{region.capitalize()} EMG ({c.label}) not met: {found[1]}", found[2]),)


def _reflex_label(reflex_name: str, side: str, grade: int, spread: bool) -> str:
    sp = " with spread" if spread else ""
    return f"{reflex_name} reflex{_side(side)} {grade}{sp}"


_fields_of = BaseModel.__dict__["__dict__"].__get__
"""A pydantic model's field values (its ``__dict__``), read through the descriptor itself: an
attribute read on a pydantic model goes through its ``__getattr__`` hook and looks up three
names on its class, and when two model classes are read in turn those lookups can evict each
other from the interpreter's type cache (seen between ``MuscleFinding`` and ``Emg`` on Python
3.11: the muscle states of a 30-visit history took a tenth longer, walking class hierarchies).
The descriptor involves no lookup on the model's class."""

_REFLEX_ROW = itemgetter("reflex", "side", "grade", "spread")
"""A reflex finding's fields, from its ``__dict__``: the key of its line in
:attr:`EvidenceContext.lines` (a sign's key there is ``(sign, side)``)."""

_REFLEX_AT = itemgetter("reflex", "side")
_SIGN_ROW = itemgetter("sign", "side", "present")
_brisk = ReflexFinding.brisk.fget
"""``ReflexFinding.brisk`` (NINDS; clinical-rules 3), called without the attribute read."""

_EMG_ROW = itemgetter(*Emg.model_fields)
"""Every field of an EMG row, as one tuple, read from the model's ``__dict__`` (where pydantic
keeps every field's value): the key of the EMG predicates' memo."""


class EvidenceContext:
    """What the evidence of every visit shares under one catalogue and one set of options,
    worked out once rather than at each visit (a memo of pure functions of the catalogue, the
    options and the finding; it changes no result):

    - per recorded muscle/side (:meth:`slot`): its catalogue muscle, its region (option
      ``scm_region``), label, key, ref and the key of its linked reflex;
    - per distinct EMG row (:meth:`emg_lmn`): each criterion's EMG predicate (clinical-rules
      4.2), and the criteria it meets;
    - per pair of muscles (:meth:`distinct_from`): different nerves and roots (4.3,
      ``root_rule``);
    - per pathological sign (:meth:`sign_criteria`): the criteria whose UMN list holds it (3);
    - per reflex and sign finding (:attr:`lines`): its region and explanation line;
    - per muscle with clinical LMN evidence (:meth:`clin_label`): its words in that line.

    Owned by the caller: one :func:`visit_evidence` or :func:`~domain.classify.classify_case`
    call, or an :class:`~domain.classify.EvidenceCache` (the domain keeps no module state)."""

    __slots__ = (
        "_emg_fns",
        "_pairs",
        "_refs",
        "_signs",
        "catalogue",
        "clin_labels",
        "crit_ids",
        "emg_memo",
        "lines",
        "lmn_of",
        "lmn_rule",
        "no_emg",
        "options",
        "preserved",
        "reflex_words",
        "rule_words",
        "slots",
    )

    _MEMO = 8192
    """Distinct EMG rows, and clinical LMN labels, remembered (they are few)."""

    def __init__(self, catalogue: Catalogue, options: Options):
        self.catalogue = catalogue
        self.options = options
        self.crit_ids = tuple(REGISTRY)
        self.lmn_rule = options.clinical_lmn_rule
        # The preserved-reflex options (clinical-rules 3): lowest NINDS grade, highest MRC rank,
        # least wasting rank.
        self.preserved = (options.preserved_reflex_min_grade, MRC_RANK[options.preserved_reflex_max_mrc],
                          WASTING_RANK[options.preserved_reflex_min_wasting])
        self.rule_words = options.clinical_lmn_rule.replace("_", " ")
        self.no_emg: dict[str, bool] = {c: False for c in self.crit_ids}
        self._emg_fns = tuple((c, REGISTRY[c].emg_lmn) for c in self.crit_ids)
        self.slots: dict[str, dict[str, tuple]] = {}
        self.emg_memo: dict[tuple, tuple[dict[str, bool], tuple[str, ...]]] = {}
        self._pairs: dict[str, dict[str, bool]] = {}
        self._refs: dict[tuple[str, str, str], tuple[Ref]] = {}
        self._signs: dict[str, tuple[str, ...]] = {}
        self.clin_labels: dict[tuple[str, str | None, str | None], str] = {}
        # per reflex finding (reflex, side, grade, spread) or sign (sign, side): its region and line
        self.lines: dict[tuple, tuple] = {}
        # per reflex finding (reflex, side, grade, spread): its words and whether it is brisk
        self.reflex_words: dict[tuple, tuple[str, bool]] = {}
        # per MRC grade, per wasting grade (None: not recorded): see lmn_for
        self.lmn_of: dict[str | None, dict[str | None, tuple[bool, bool, bool, bool]]] = {}

    def lmn_for(self, mrc: str | None, wasting: str | None) -> tuple[bool, bool, bool, bool]:
        """(weak, wasted, clinical LMN for rEEC/AWJ, weak and wasted) of a muscle with an MRC
        grade and a wasting grade: weak is any grade below 5, 5- included (clinical-rules 2,
        10); wasted is any wasting (2); clinical LMN follows option clinical_lmn_rule (4.1),
        fasciculations alone never; GCC's is weak and wasted (4.1). :attr:`lmn_of` holds those
        already asked for, by grade."""
        weak = mrc is not None and mrc != "5"
        wasted = wasting is not None and wasting != "none"
        rule = self.lmn_rule
        if rule == "wasting_required":
            lmn_clinical = wasted
        elif rule == "weakness_or_wasting":
            lmn_clinical = weak or wasted
        else:
            lmn_clinical = weak and wasted
        got = (weak, wasted, lmn_clinical, weak and wasted)
        self.lmn_of.setdefault(mrc, {})[wasting] = got
        return got

    def slot(self, muscle_id: str, side: str) -> tuple[Muscle, str, str, tuple[str, str], tuple[Ref], tuple | None]:
        """(muscle, region, label, key, ``(ref,)``, linked reflex key or None) of a recorded
        muscle/side; :attr:`slots` holds those already asked for, by muscle id and side (two
        lookups of strings, whose hashes are kept, cost less than one of a new tuple)."""
        sides = self.slots.get(muscle_id)
        if sides is None:
            sides = self.slots[muscle_id] = {}
        got = sides.get(side)
        if got is None:
            m = self.catalogue.muscle[muscle_id]
            # Sternocleidomastoid and trapezius follow option scm_region (clinical-rules 1).
            region = self.options.scm_region if m.nerve == "spinal_accessory" else m.region
            label = m.name + (" L" if side == "left" else " R" if side == "right" else "")
            lr = m.linked_reflex
            reflex_key = (lr, "midline" if lr == "jaw" else side) if lr else None
            key = (muscle_id, side)
            got = sides[side] = (m, region, label, key, self.refs("muscle", muscle_id, side), reflex_key)
        return got

    def emg_lmn(self, emg: Emg) -> tuple[dict[str, bool], tuple[str, ...]]:
        """Each criterion's EMG LMN predicate on one EMG row (clinical-rules 4.2), and the ids of
        the criteria it meets. The dict is shared: read it, never change it."""
        row = _EMG_ROW(emg.__dict__)
        got = self.emg_memo.get(row)
        if got is None:
            res = {c: fn(emg) for c, fn in self._emg_fns}
            if len(self.emg_memo) >= self._MEMO:
                self.emg_memo.clear()
            got = self.emg_memo[row] = (res, tuple(c for c, ok in res.items() if ok))
        return got

    def distinct_from(self, a: Muscle) -> dict[str, bool]:
        """Per muscle id asked so far, whether it and ``a`` are of different peripheral nerves
        and different roots (:func:`_distinct`); the caller fills it in."""
        got = self._pairs.get(a.id)
        if got is None:
            got = self._pairs[a.id] = {}
        return got

    def clin_label(self, s: MuscleState) -> str:
        """A muscle with clinical LMN evidence as its line names it: "Deltoid R (wasting mild,
        MRC 4)"; :attr:`clin_labels` holds those already worded, by (label, wasting, MRC)."""
        f = s.finding
        key = (s.label, f.wasting, f.mrc)
        got = self.clin_labels.get(key)
        if got is None:
            if len(self.clin_labels) >= self._MEMO:
                self.clin_labels.clear()
            got = self.clin_labels[key] = _clin_label(s)
        return got

    def refs(self, kind: str, id_: str, side: str) -> tuple[Ref]:
        """``(Ref(kind, id_, side),)``, one tuple for every line that points at that finding
        alone."""
        key = (kind, id_, side)
        got = self._refs.get(key)
        if got is None:
            got = self._refs[key] = (Ref(kind, id_, side),)
        return got

    def sign_criteria(self, sign: Sign) -> tuple[str, ...]:
        """The criteria whose UMN list holds a pathological sign (``Criterion.umn_sign``)."""
        got = self._signs.get(sign.id)
        if got is None:
            got = self._signs[sign.id] = tuple(c for c in self.crit_ids if REGISTRY[c].umn_sign(sign))
        return got


class _Collect:
    """What the steps of :func:`visit_evidence` gather for one visit, region by region."""

    def __init__(self, crit_ids: tuple[str, ...]):
        self.crit_ids = crit_ids
        self.states: list[MuscleState] = []
        self.ignored: list[Reason] = []
        self.examined = {r: False for r in REGIONS}
        # Per region, in recorded order (other-cause muscles left out): the muscles with clinical
        # LMN evidence (rEEC/AWJ rule) with their words, those with EMG LMN by some criterion,
        # those with fasciculations.
        self.clin: dict[str, list[tuple[MuscleState, str]]] = {r: [] for r in REGIONS}
        self.emg: dict[str, list[MuscleState]] = {r: [] for r in REGIONS}
        self.fasc: dict[str, list[MuscleState]] = {r: [] for r in REGIONS}
        self.umn_lines: dict[str, dict[str, list[Reason]]] = {r: {c: [] for c in crit_ids} for r in REGIONS}
        self.excluded: dict[str, dict[str, list[Reason]]] = {r: {} for r in REGIONS}  # UMN signs a framework leaves out
        self.notes: dict[str, list[Reason]] = {r: [] for r in REGIONS}
        self.preserved: set[tuple[str, str]] = set()  # reflexes credited as preserved in a weak, wasted muscle

    def umn(self, region: str, reason: Reason, counted_by: tuple[str, ...] | None = None) -> None:
        """UMN evidence of ``region`` in every criterion, or, for a pathological sign, in the
        criteria ``counted_by`` whose UMN list holds it (the others note it as left out)."""
        lines = self.umn_lines[region]
        for c in self.crit_ids:
            if counted_by is None or c in counted_by:
                lines[c].append(reason)
            else:
                self.excluded[region].setdefault(c, []).append(reason)


def visit_evidence(
    visit: Visit, catalogue: Catalogue, options: Options, context: EvidenceContext | None = None
) -> VisitEvidence:
    """Compute each muscle's and each region's UMN and LMN evidence at one visit, in four steps:
    the muscle states (with the preserved-reflex rule), the reflexes' UMN evidence, the signs'
    UMN evidence, and each region's evidence.

    ``context`` (optional, built from the same catalogue and options) carries what the visits
    share from one visit to the next.

    Sources: UMN (clinical-rules 3; GCC list, rEEC regional signs), LMN (4.1-4.3), the
    framework split (4.4), settled questions (10)."""
    ctx = context if context is not None else EvidenceContext(catalogue, options)
    acc = _Collect(ctx.crit_ids)
    _muscle_states(visit, ctx, acc)
    _reflex_umn(visit, ctx, acc)
    _sign_umn(visit, ctx, acc)
    regions = {region: _region_evidence(region, acc, ctx) for region in REGIONS}
    return _make_visit_evidence(tuple(acc.states), regions, tuple(acc.ignored))


def _linked_reflex_umn(m: Muscle, side: str, mrc: str | None, wasting: str | None, rf,
                       ctx: EvidenceContext) -> tuple[str | None, bool]:
    """The UMN sign credited to a muscle (on ``side``, with ``mrc`` and ``wasting``) through its
    linked reflex ``rf`` (clinical-rules 3, 10): pathologically brisk, or preserved (NINDS >=
    preserved_reflex_min_grade) in a clearly weak (MRC <= preserved_reflex_max_mrc) and wasted
    (>= preserved_reflex_min_wasting) muscle. Returns (the reason or None, whether the reflex is
    pathologically brisk)."""
    row = _REFLEX_ROW(rf.__dict__)  # (reflex, side, grade, spread)
    words = ctx.reflex_words.get(row)
    if words is None:
        words = ctx.reflex_words[row] = (
            _reflex_label(ctx.catalogue.reflex[row[0]].name, row[1], row[2], row[3]), _brisk(rf))
    label, brisk = words
    if brisk:
        return label + " (pathologically brisk)", True
    min_grade, max_mrc_rank, min_wasting_rank = ctx.preserved
    if (
        row[2] >= min_grade
        and mrc is not None and MRC_RANK[mrc] <= max_mrc_rank
        and wasting is not None and WASTING_RANK[wasting] >= min_wasting_rank
    ):
        return label + f" preserved in weak (MRC {mrc}), wasted ({wasting}) {m.name}{_side(side)}", False
    return None, False


def _muscle_states(visit: Visit, ctx: EvidenceContext, acc: _Collect) -> None:
    """Each recorded muscle/side: examined, weak, wasted, clinical LMN (option clinical_lmn_rule
    for rEEC/AWJ; weak and wasted for GCC, 4.1), EMG LMN per framework (4.2), UMN through its
    linked reflex (3); other-cause muscles are kept but ignored (2, 10)."""
    crit_ids = acc.crit_ids
    reflexes = {_REFLEX_AT(rf.__dict__): rf for rf in visit.reflexes}
    no_emg = ctx.no_emg
    lmn_of = ctx.lmn_of
    slots, slot = ctx.slots, ctx.slot
    emg_memo, emg_lmn = ctx.emg_memo, ctx.emg_lmn
    add_state, examined = acc.states.append, acc.examined
    clin, emg_region, fasc = acc.clin, acc.emg, acc.fasc
    clin_words, clin_label = ctx.clin_labels, ctx.clin_label
    fields_of, make_state = _fields_of, _make_state
    for f in visit.muscles:
        # The finding's fields, read where pydantic keeps them: one attribute read of a pydantic
        # model costs several dict reads (its __getattr__ keeps the interpreter's fast path off).
        d = f.__dict__
        side = d["side"]
        try:
            m, region, label, key, refs, reflex_key = slots[d["muscle"]][side]
        except KeyError:
            m, region, label, key, refs, reflex_key = slot(d["muscle"], side)
        ref = refs[0]
        mrc, wasting, fasciculations, emg = d["mrc"], d["wasting"], d["fasciculations"], d["emg"]
        ex = mrc is not None or wasting is not None or fasciculations is not None or emg is not None
        if ex:
            examined[region] = True
        # weak, wasted, clinical LMN by option clinical_lmn_rule, weak and wasted (GCC)
        try:
            weak, wasted, lmn_clinical, weak_and_wasted = lmn_of[mrc][wasting]
        except KeyError:  # not asked for yet: worked out, and remembered
            weak, wasted, lmn_clinical, weak_and_wasted = ctx.lmn_for(mrc, wasting)
        if d["other_cause"]:
            st = MuscleState(f, m, region, ex, True, weak, wasted, False, False,
                             {c: False for c in crit_ids}, False, None, key, ref, label)
            add_state(st)
            acc.ignored.append(
                reason(f"Ignored: {st.label} (findings attributed to another cause"
                       + (f": {f.other_cause_reason}" if f.other_cause_reason else "") + ").", refs)
            )
            continue
        umn_reason = None
        if reflex_key is not None:
            rf = reflexes.get(reflex_key)
            if rf is not None:
                umn_reason, brisk = _linked_reflex_umn(m, side, mrc, wasting, rf, ctx)
        if emg is not None:
            lmn_emg, emg_met = emg_memo.get(_EMG_ROW(fields_of(emg))) or emg_lmn(emg)
        else:
            lmn_emg, emg_met = no_emg, ()
        st = make_state(f, m, region, ex, False, weak, wasted, lmn_clinical, weak_and_wasted,
                        lmn_emg, umn_reason is not None, umn_reason, key, ref, label)
        add_state(st)
        if lmn_clinical:
            clin[region].append((st, clin_words.get((label, wasting, mrc)) or clin_label(st)))
        if emg_met:
            emg_region[region].append(st)
        if fasciculations:
            fasc[region].append(st)
        if umn_reason is not None and not brisk:
            # Preserved reflex in a weak, wasted muscle: an UMN sign of that muscle's region (GCC).
            acc.preserved.add(reflex_key)
            acc.umn(region, reason(f"{region.capitalize()} UMN: {umn_reason}.",
                                   (st.ref, *ctx.refs("reflex", *reflex_key))))


def _reflex_umn(visit: Visit, ctx: EvidenceContext, acc: _Collect) -> None:
    """Pathologically brisk reflexes (NINDS 4, or 3 with spread) are UMN evidence of their
    region (clinical-rules 3); a 3 without spread, not credited as preserved, is upper-normal:
    seen, and said not to count, one line a region (2, 3)."""
    catalogue, lines = ctx.catalogue, ctx.lines
    examined, preserved = acc.examined, acc.preserved
    upper_normal: dict[str, list] | None = None
    for rf in visit.reflexes:
        key = _REFLEX_ROW(rf.__dict__)  # (reflex, side, grade, spread)
        got = lines.get(key)
        if got is None:
            r = catalogue.reflex[rf.reflex]
            line = reason(
                f"{r.region.capitalize()} UMN: " + _reflex_label(r.name, rf.side, rf.grade, rf.spread)
                + " (pathologically brisk).",
                ctx.refs("reflex", rf.reflex, rf.side),
            ) if rf.brisk else None
            got = lines[key] = (r.region, line)
        region, line = got
        examined[region] = True
        if line is not None:
            acc.umn(region, line)
        elif key[2] == 3 and key[:2] not in preserved:
            if upper_normal is None:
                upper_normal = {r: [] for r in REGIONS}
            upper_normal[region].append(rf)
    if upper_normal is None:
        return
    for region, rfs in upper_normal.items():
        if rfs:
            names = ", ".join([_reflex_label(catalogue.reflex[x.reflex].name, x.side, x.grade, x.spread) for x in rfs])
            acc.notes[region].append(reason(
                f"{region.capitalize()}: {names}: brisk, not counted (a 3 counts only with spread, "
                "or as a preserved reflex in a weak, wasted muscle).",
                tuple([ctx.refs("reflex", x.reflex, x.side)[0] for x in rfs]),
            ))


def _sign_umn(visit: Visit, ctx: EvidenceContext, acc: _Collect) -> None:
    """Present pathological signs are UMN evidence of their region, in the criteria whose UMN
    list holds them (``Criterion.umn_sign``: pseudobulbar affect and brisk gag are not in the
    Gold Coast list), absent abdominal reflexes
    only with option abdominal_reflexes_umn (clinical-rules 3, 10)."""
    lines, examined = ctx.lines, acc.examined
    for sf in visit.signs:
        sign, side, present = _SIGN_ROW(sf.__dict__)
        key = (sign, side)
        got = lines.get(key)
        if got is None:
            got = lines[key] = _sign_line(sign, side, ctx)
        region, counted_by, line = got
        examined[region] = True
        if present:
            if counted_by is None:
                acc.notes[region].append(line)
            else:
                acc.umn(region, line, counted_by)


def _sign_line(sign: str, side: str, ctx: EvidenceContext) -> tuple[str, tuple[str, ...] | None, Reason]:
    """A present sign's region, the criteria it is UMN evidence in (None: it does not count,
    for want of its option) and its line."""
    s = ctx.catalogue.sign[sign]
    ref = ctx.refs("sign", sign, side)
    if s.requires_option and not getattr(ctx.options, s.requires_option):
        return s.region, None, reason(f"{s.name}{_side(side)} not counted (option {s.requires_option} is false).", ref)
    return s.region, ctx.sign_criteria(s), reason(f"{s.region.capitalize()} UMN: {s.name}{_side(side)}.", ref)


def _region_evidence(region: str, acc: _Collect, ctx: EvidenceContext) -> RegionEvidence:
    """One region's UMN per framework, clinical LMN (one muscle suffices, 10) under both rules,
    EMG LMN per framework (4.3) and the explanation lines (9)."""
    crit_ids = acc.crit_ids
    named = acc.clin[region]
    if named:
        # Weak and wasted (GCC) is clinical LMN under every clinical_lmn_rule (4.1): the GCC line
        # names some of the muscles the rEEC/AWJ line names, in the same words.
        cap = region.capitalize()
        clin_r = _lmn_lines(f"{cap} LMN (clinical, {ctx.rule_words})", named)
        named_g = [n for n in named if n[0].lmn_clinical_gold_coast]
        clin_g_r = _lmn_lines(f"{cap} LMN (clinical, weak and wasted)", named_g)
    else:
        named_g, clin_r, clin_g_r = named, (), ()
    emg_ok, emg_r, emg_n = {}, {}, {}
    emg = acc.emg[region]
    found: list[tuple[list[MuscleState], tuple]] = []  # the criteria often agree on the muscles
    for c in crit_ids:
        pos = [s for s in emg if s.lmn_emg[c]] if emg else emg
        if not pos:
            emg_ok[c], emg_r[c], emg_n[c] = False, (), ()
            continue
        f = next((f for p, f in found if p == pos), None)
        if f is None:
            f = _emg_region(region, pos, ctx)
            found.append((pos, f))
        emg_ok[c], emg_r[c], emg_n[c] = _emg_lines(region, f, c)
    region_notes = list(acc.notes[region])
    fasc = acc.fasc[region]
    if fasc:
        region_notes.append(reason(
            f"{region.capitalize()}: clinical fasciculations in " + ", ".join([s.label for s in fasc])
            + " (supportive only, not LMN evidence).",
            tuple([s.ref for s in fasc]),
        ))
    for c, excl in acc.excluded[region].items():
        emg_n[c] = emg_n[c] + tuple(
            reason(r.text.replace(" UMN: ", ": ").rstrip(".") + f" not counted under {REGISTRY[c].label}.", r.refs)
            for r in excl
        )
    lines = acc.umn_lines[region]
    return _make_region_evidence(
        region=region,
        examined=acc.examined[region],
        umn={c: bool(lines[c]) for c in crit_ids},
        umn_reasons={c: tuple(lines[c]) for c in crit_ids},
        lmn_clinical=bool(named),
        lmn_clinical_gold_coast=bool(named_g),
        lmn_clinical_reasons=clin_r,
        lmn_clinical_gold_coast_reasons=clin_g_r,
        lmn_emg=emg_ok,
        emg_reasons=emg_r,
        emg_notes=emg_n,
        notes=tuple(region_notes),
    )


def _lmn_lines(head: str, named: list[tuple[MuscleState, str]]) -> tuple[Reason, ...]:
    """One explanation line naming the muscles with clinical LMN evidence (each with its
    words), or none."""
    if not named:
        return ()
    return (reason(f"{head}: " + ", ".join([n for _, n in named]) + ".", tuple([s.ref for s, _ in named])),)


def _clin_label(s: MuscleState) -> str:
    f = s.finding
    bits = []
    if s.wasted:
        bits.append(f"wasting {f.wasting}")
    if s.weak:
        bits.append(f"MRC {f.mrc}")
    return f"{s.label} ({', '.join(bits)})"
