"""Per-visit evidence: each muscle's UMN/LMN findings and each region's UMN/LMN evidence.

Pure functions over one :class:`~domain.case.Visit`; the criteria consume the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .case import MRC_RANK, WASTING, MuscleFinding, Visit
from .catalogue import REGIONS, Catalogue, Muscle, Sign, parse_roots
from .criteria import REGISTRY, CriterionInput, Reason, Ref, RegionView, involvement_criterion
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
    lmn_emg: dict[str, bool]  # per registered criterion
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
        return RegionView(
            region=self.region,
            examined=self.examined,
            umn=self.umn[crit_id],
            lmn=clin or (c.emg_in_l and emg),
            lmn_emg=emg,
            umn_reasons=self.umn_reasons[crit_id],
            lmn_reasons=lmn_r,
            emg_reasons=self.emg_reasons[crit_id],
            notes=notes,
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
        return CriterionInput(
            regions={r: self.regions[r].view(crit_id) for r in REGIONS},
            progression=progression,
            alternatives_excluded=alternatives_excluded,
            options=options,
            ignored=self.ignored,
        )

    def involved(self) -> set[str]:
        """Regions with UMN (rEEC/AWJ) or LMN (Awaji) evidence (clinical-rules 10, spread)."""
        return {r for r, e in self.regions.items() if e.state().involved}


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


def _emg_region(
    region: str, states: list[MuscleState], crit_id: str, rule_text: str, options: Options
) -> tuple[bool, tuple[Reason, ...], tuple[Reason, ...]]:
    """EMG LMN in a region (clinical-rules 4.3, same for all frameworks).

    bulbar: one muscle; thoracic: one qualifying muscle (paraspinals at or below T6, abdominal
    wall); cervical and lumbosacral: two muscles of different peripheral nerves and different
    roots (option ``root_rule``). Returns (met, evidence lines, lines explaining a miss)."""
    pos = [s for s in states if s.lmn_emg[crit_id]]
    if not pos:
        return False, (), ()
    tag = f"{region.capitalize()} EMG LMN ({REGISTRY[crit_id].label}: {rule_text})"
    if region == "bulbar":
        return True, (Reason(f"{tag}: {', '.join(s.label for s in pos)}.", tuple(s.ref for s in pos)),), ()
    if region == "thoracic":
        ok = [s for s in pos if s.muscle.thoracic_emg_qualifies]
        bad = [s for s in pos if not s.muscle.thoracic_emg_qualifies]
        notes = tuple(
            Reason(
                f"{s.label}: EMG LMN but does not qualify for thoracic EMG evidence "
                "(paraspinals at or below T6 or abdominal wall are needed).",
                (s.ref,),
            )
            for s in bad
        )
        if ok:
            return True, (Reason(f"{tag}: {', '.join(s.label for s in ok)}.", tuple(s.ref for s in ok)),), ()
        return False, (), notes
    # cervical / lumbosacral: two muscles, different nerves and different roots.
    for i, a in enumerate(pos):
        for b in pos[i + 1 :]:
            if a.muscle.nerve != b.muscle.nerve and _roots_conflict(
                a.muscle, b.muscle, options.root_rule
            ) is None:
                others = [s for s in pos if s is not a and s is not b]
                extra = f"; also {', '.join(s.label for s in others)}" if others else ""
                text = (
                    f"{tag}: {a.label} ({a.muscle.nerve.replace('_', ' ')} nerve, "
                    f"{a.muscle.principal_roots_text}) and {b.label} "
                    f"({b.muscle.nerve.replace('_', ' ')} nerve, {b.muscle.principal_roots_text}), "
                    f"different nerves and roots{extra}."
                )
                return True, (Reason(text, tuple(s.ref for s in pos)),), ()
    if len(pos) == 1:
        s = pos[0]
        why = (
            f"{region.capitalize()} EMG ({REGISTRY[crit_id].label}) not met: only {s.label} "
            "has EMG LMN; two muscles of different nerves and roots are needed."
        )
        return False, (), (Reason(why, (s.ref,)),)
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
                    f"{_roots_conflict(a.muscle, b.muscle, options.root_rule)}"
                )
            if len(parts) >= 4:
                break
        if len(parts) >= 4:
            break
    why = f"{region.capitalize()} EMG ({REGISTRY[crit_id].label}) not met: " + "; ".join(parts) + "."
    return False, (), (Reason(why, tuple(s.ref for s in pos)),)


def _reflex_label(reflex_name: str, side: str, grade: int, spread: bool) -> str:
    sp = " with spread" if spread else ""
    return f"{reflex_name} reflex{_side(side)} {grade}{sp}"


class _Collect:
    """What the steps of :func:`visit_evidence` gather for one visit, region by region."""

    def __init__(self):
        crit_ids = tuple(REGISTRY)
        self.crit_ids = crit_ids
        self.states: list[MuscleState] = []
        self.ignored: list[Reason] = []
        self.by_region: dict[str, list[MuscleState]] = {r: [] for r in REGIONS}
        self.examined = {r: False for r in REGIONS}
        self.umn_lines: dict[str, dict[str, list[Reason]]] = {r: {c: [] for c in crit_ids} for r in REGIONS}
        self.excluded: dict[str, dict[str, list[Reason]]] = {r: {} for r in REGIONS}  # UMN signs a framework leaves out
        self.notes: dict[str, list[Reason]] = {r: [] for r in REGIONS}
        self.fasc: dict[str, list[MuscleState]] = {r: [] for r in REGIONS}
        self.preserved: set[tuple[str, str]] = set()  # reflexes credited as preserved in a weak, wasted muscle

    def umn(self, region: str, reason: Reason, sign: Sign | None = None) -> None:
        """UMN evidence of ``region`` in every criterion, or for a pathological ``sign``, in the
        criteria whose UMN list holds it (the others note it as left out)."""
        for c in self.crit_ids:
            if sign is None or REGISTRY[c].umn_sign(sign):
                self.umn_lines[region][c].append(reason)
            else:
                self.excluded[region].setdefault(c, []).append(reason)


def visit_evidence(visit: Visit, catalogue: Catalogue, options: Options) -> VisitEvidence:
    """Compute each muscle's and each region's UMN and LMN evidence at one visit, in four steps:
    the muscle states (with the preserved-reflex rule), the reflexes' UMN evidence, the signs'
    UMN evidence, and each region's evidence.

    Sources: UMN (clinical-rules 3; GCC list, rEEC regional signs), LMN (4.1-4.3), the
    framework split (4.4), settled questions (10)."""
    acc = _Collect()
    _muscle_states(visit, catalogue, options, acc)
    _reflex_umn(visit, catalogue, acc)
    _sign_umn(visit, catalogue, options, acc)
    regions = {region: _region_evidence(region, acc, options) for region in REGIONS}
    return VisitEvidence(muscles=tuple(acc.states), regions=regions, ignored=tuple(acc.ignored))


def _linked_reflex_umn(m: Muscle, f: MuscleFinding, reflexes: dict, catalogue: Catalogue, options: Options):
    """The UMN sign credited to a muscle through its linked reflex (clinical-rules 3, 10):
    pathologically brisk, or preserved (NINDS >= preserved_reflex_min_grade) in a clearly weak
    (MRC <= preserved_reflex_max_mrc) and wasted (>= preserved_reflex_min_wasting) muscle.
    Returns (reason or None, the reflex finding or None)."""
    if not m.linked_reflex:
        return None, None
    rf = reflexes.get((m.linked_reflex, "midline" if m.linked_reflex == "jaw" else f.side))
    if rf is None:
        return None, None
    rname = catalogue.reflex[rf.reflex].name
    if rf.brisk:
        return _reflex_label(rname, rf.side, rf.grade, rf.spread) + " (pathologically brisk)", rf
    mrc, wasting = f.mrc, f.wasting
    if (
        rf.grade >= options.preserved_reflex_min_grade
        and mrc is not None and MRC_RANK[mrc] <= MRC_RANK[options.preserved_reflex_max_mrc]
        and wasting is not None and WASTING_RANK[wasting] >= WASTING_RANK[options.preserved_reflex_min_wasting]
    ):
        return (_reflex_label(rname, rf.side, rf.grade, rf.spread)
                + f" preserved in weak (MRC {mrc}), wasted ({wasting}) {m.name}{_side(f.side)}"), rf
    return None, rf


def _muscle_states(visit: Visit, catalogue: Catalogue, options: Options, acc: _Collect) -> None:
    """Each recorded muscle/side: examined, weak, wasted, clinical LMN (option clinical_lmn_rule
    for rEEC/AWJ; weak and wasted for GCC, 4.1), EMG LMN per framework (4.2), UMN through its
    linked reflex (3); other-cause muscles are kept but ignored (2, 10)."""
    crit_ids = acc.crit_ids
    reflexes = {(r.reflex, r.side): r for r in visit.reflexes}
    no_emg = {c: False for c in crit_ids}
    emg_fns = tuple((c, REGISTRY[c].emg_lmn) for c in crit_ids)
    lmn_rule = options.clinical_lmn_rule
    for f in visit.muscles:
        m = catalogue.muscle[f.muscle]
        # Sternocleidomastoid and trapezius follow option scm_region (clinical-rules 1).
        region = options.scm_region if m.nerve == "spinal_accessory" else m.region
        side = f.side
        label = m.name + (" L" if side == "left" else " R" if side == "right" else "")
        ex = f.mrc is not None or f.wasting is not None or f.fasciculations is not None or f.emg is not None
        if ex:
            acc.examined[region] = True
        weak = f.mrc is not None and f.mrc != "5"  # any grade below 5, 5- included (2, 10)
        wasted = f.wasting is not None and f.wasting != "none"  # (clinical-rules 2)
        if f.other_cause:
            st = MuscleState(
                finding=f, muscle=m, region=region, examined=ex, ignored=True, weak=weak,
                wasted=wasted, lmn_clinical=False, lmn_clinical_gold_coast=False,
                lmn_emg={c: False for c in crit_ids}, umn=False, umn_reason=None,
                key=(m.id, side), ref=Ref("muscle", m.id, side), label=label,
            )
            acc.states.append(st)
            acc.ignored.append(
                Reason(f"Ignored: {st.label} (findings attributed to another cause"
                       + (f": {f.other_cause_reason}" if f.other_cause_reason else "") + ").", (st.ref,))
            )
            continue
        umn_reason, rf = _linked_reflex_umn(m, f, reflexes, catalogue, options)
        st = MuscleState(
            finding=f,
            muscle=m,
            region=region,
            examined=ex,
            ignored=False,
            weak=weak,
            wasted=wasted,
            # Clinical LMN for rEEC/AWJ, option clinical_lmn_rule (4.1); fasciculations alone never.
            lmn_clinical=(
                wasted if lmn_rule == "wasting_required"
                else (weak or wasted) if lmn_rule == "weakness_or_wasting"
                else (weak and wasted)
            ),
            lmn_clinical_gold_coast=weak and wasted,  # GCC: weak and wasted (4.1)
            lmn_emg={c: fn(f.emg) for c, fn in emg_fns} if f.emg is not None else no_emg,
            umn=umn_reason is not None,
            umn_reason=umn_reason,
            key=(m.id, side),
            ref=Ref("muscle", m.id, side),
            label=label,
        )
        acc.states.append(st)
        acc.by_region[region].append(st)
        if f.fasciculations:
            acc.fasc[region].append(st)
        if umn_reason is not None and not rf.brisk:
            # Preserved reflex in a weak, wasted muscle: an UMN sign of that muscle's region (GCC).
            acc.preserved.add((rf.reflex, rf.side))
            acc.umn(region, Reason(f"{region.capitalize()} UMN: {umn_reason}.",
                                   (st.ref, Ref("reflex", rf.reflex, rf.side))))


def _reflex_umn(visit: Visit, catalogue: Catalogue, acc: _Collect) -> None:
    """Pathologically brisk reflexes (NINDS 4, or 3 with spread) are UMN evidence of their
    region (clinical-rules 3); a 3 without spread, not credited as preserved, is upper-normal:
    seen, and said not to count, one line a region (2, 3)."""
    upper_normal: dict[str, list] = {r: [] for r in REGIONS}
    for rf in visit.reflexes:
        r = catalogue.reflex[rf.reflex]
        acc.examined[r.region] = True
        if rf.brisk:
            acc.umn(r.region, Reason(
                f"{r.region.capitalize()} UMN: " + _reflex_label(r.name, rf.side, rf.grade, rf.spread)
                + " (pathologically brisk).",
                (Ref("reflex", rf.reflex, rf.side),),
            ))
        elif rf.grade == 3 and (rf.reflex, rf.side) not in acc.preserved:
            upper_normal[r.region].append(rf)
    for region, rfs in upper_normal.items():
        if rfs:
            names = ", ".join(_reflex_label(catalogue.reflex[x.reflex].name, x.side, x.grade, x.spread) for x in rfs)
            acc.notes[region].append(Reason(
                f"{region.capitalize()}: {names}: brisk, not counted (a 3 counts only with spread, "
                "or as a preserved reflex in a weak, wasted muscle).",
                tuple(Ref("reflex", x.reflex, x.side) for x in rfs),
            ))


def _sign_umn(visit: Visit, catalogue: Catalogue, options: Options, acc: _Collect) -> None:
    """Present pathological signs are UMN evidence of their region, in the criteria whose UMN
    list holds them (``Criterion.umn_sign``: pseudobulbar affect and brisk gag are not in the
    Gold Coast list), absent abdominal reflexes
    only with option abdominal_reflexes_umn (clinical-rules 3, 10)."""
    for sf in visit.signs:
        s = catalogue.sign[sf.sign]
        acc.examined[s.region] = True
        if not sf.present:
            continue
        ref = (Ref("sign", sf.sign, sf.side),)
        if s.requires_option and not getattr(options, s.requires_option):
            acc.notes[s.region].append(
                Reason(f"{s.name}{_side(sf.side)} not counted (option {s.requires_option} is false).", ref)
            )
            continue
        acc.umn(s.region, Reason(f"{s.region.capitalize()} UMN: {s.name}{_side(sf.side)}.", ref), s)


def _region_evidence(region: str, acc: _Collect, options: Options) -> RegionEvidence:
    """One region's UMN per framework, clinical LMN (one muscle suffices, 10) under both rules,
    EMG LMN per framework (4.3) and the explanation lines (9)."""
    crit_ids = acc.crit_ids
    sts = acc.by_region[region]
    clin = [s for s in sts if s.lmn_clinical]
    clin_g = [s for s in sts if s.lmn_clinical_gold_coast]
    # One label per muscle named in either line (GCC's weak-and-wasted list is usually a
    # subset of the rEEC one).
    labels = {id(s): _clin_label(s) for s in (*clin, *(s for s in clin_g if not s.lmn_clinical))}
    rule = options.clinical_lmn_rule.replace("_", " ")
    clin_r = _lmn_lines(f"{region.capitalize()} LMN (clinical, {rule})", clin, labels)
    clin_g_r = _lmn_lines(f"{region.capitalize()} LMN (clinical, weak and wasted)", clin_g, labels)
    emg_ok, emg_r, emg_n = {}, {}, {}
    for c in crit_ids:
        emg_ok[c], emg_r[c], emg_n[c] = _emg_region(region, sts, c, REGISTRY[c].emg_rule, options)
    region_notes = list(acc.notes[region])
    fasc = acc.fasc[region]
    if fasc:
        region_notes.append(Reason(
            f"{region.capitalize()}: clinical fasciculations in " + ", ".join(s.label for s in fasc)
            + " (supportive only, not LMN evidence).",
            tuple(s.ref for s in fasc),
        ))
    for c, excl in acc.excluded[region].items():
        emg_n[c] = emg_n[c] + tuple(
            Reason(r.text.replace(" UMN: ", ": ").rstrip(".") + f" not counted under {REGISTRY[c].label}.", r.refs)
            for r in excl
        )
    lines = acc.umn_lines[region]
    return RegionEvidence(
        region=region,
        examined=acc.examined[region],
        umn={c: bool(lines[c]) for c in crit_ids},
        umn_reasons={c: tuple(lines[c]) for c in crit_ids},
        lmn_clinical=bool(clin),
        lmn_clinical_gold_coast=bool(clin_g),
        lmn_clinical_reasons=clin_r,
        lmn_clinical_gold_coast_reasons=clin_g_r,
        lmn_emg=emg_ok,
        emg_reasons=emg_r,
        emg_notes=emg_n,
        notes=tuple(region_notes),
    )


def _lmn_lines(head: str, states: list[MuscleState], labels: dict[int, str]) -> tuple[Reason, ...]:
    """One explanation line naming the muscles with clinical LMN evidence, or none."""
    if not states:
        return ()
    return (Reason(f"{head}: " + ", ".join(labels[id(s)] for s in states) + ".", tuple(s.ref for s in states)),)


def _clin_label(s: MuscleState) -> str:
    f = s.finding
    bits = []
    if s.wasted:
        bits.append(f"wasting {f.wasting}")
    if s.weak:
        bits.append(f"MRC {f.mrc}")
    return f"{s.label} ({', '.join(bits)})"
