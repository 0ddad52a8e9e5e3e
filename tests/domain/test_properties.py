"""Property tests (hypothesis): any valid case classifies; adding a finding never lowers a
category; mixed is exactly UMN and LMN in one muscle; a case round-trips through JSON."""

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.case import MRC_GRADES, Case, Emg, MuscleFinding, ReflexFinding, SignFinding, Visit, case_to_data, parse_case
from domain.classify import classify_case
from domain.criteria import REGISTRY
from domain.options import Options
from tests.builders import alsfrs, case, catalogue

CAT = catalogue()
MUSCLE_SLOTS = [(mu.id, side) for mu in CAT.muscles
                for side in (("left", "right", "midline") if mu.region in ("bulbar", "thoracic") else ("left", "right"))]
REFLEX_SLOTS = [(x.id, side) for x in CAT.reflexes for side in x.sides]
SIGN_SLOTS = [(x.id, side) for x in CAT.signs for side in x.sides]

opt = lambda s: st.none() | s  # noqa: E731

emgs = st.builds(
    Emg,
    fibrillations=opt(st.integers(0, 4)), positive_sharp_waves=opt(st.integers(0, 4)),
    fasciculation_potentials=opt(st.sampled_from(["absent", "present", "complex"])),
    mup_large=opt(st.booleans()), mup_unstable=opt(st.booleans()),
    recruitment=opt(st.sampled_from(["normal", "reduced", "early", "absent"])),
)


def muscle_finding(slot):
    return st.builds(
        MuscleFinding, muscle=st.just(slot[0]), side=st.just(slot[1]),
        mrc=opt(st.sampled_from(MRC_GRADES)), wasting=opt(st.sampled_from(["none", "mild", "moderate", "severe"])),
        fasciculations=opt(st.booleans()), other_cause=st.booleans() if slot else st.just(False), emg=opt(emgs),
    )


@st.composite
def findings(draw, max_muscles=12):
    ms = draw(st.lists(st.sampled_from(MUSCLE_SLOTS), max_size=max_muscles, unique=True))
    rs = draw(st.lists(st.sampled_from(REFLEX_SLOTS), max_size=6, unique=True))
    ss = draw(st.lists(st.sampled_from(SIGN_SLOTS), max_size=6, unique=True))
    muscles = [draw(muscle_finding(sl)) for sl in ms]
    reflexes = [ReflexFinding(reflex=a, side=b, grade=draw(st.integers(0, 4)), spread=draw(st.booleans())) for a, b in rs]
    signs = [SignFinding(sign=a, side=b, present=draw(st.booleans())) for a, b in ss]
    return muscles, reflexes, signs


@st.composite
def visits(draw, date):
    muscles, reflexes, signs = draw(findings())
    a = None
    if draw(st.booleans()):
        a = alsfrs(**{k: draw(st.integers(0, 4)) for k in ("speech", "swallowing", "handwriting", "walking", "dyspnea", "respiratory_insufficiency")},
                   gastrostomy=draw(st.booleans()))
    return Visit(date=date, muscles=tuple(muscles), reflexes=tuple(reflexes), signs=tuple(signs),
                 progressive_by_history=draw(opt(st.booleans())), alternatives_excluded=draw(opt(st.booleans())),
                 alsfrs_r=a, fvc_percent=draw(opt(st.floats(0, 200))), weight_kg=draw(opt(st.floats(1, 400))),
                 notes=draw(opt(st.text(max_size=20))))


@st.composite
def cases(draw):
    n = draw(st.integers(0, 4))
    start = dt.date(2024, 10, 1)
    offsets = sorted(draw(st.lists(st.integers(0, 2000), min_size=n, max_size=n, unique=True)))
    vs = [draw(visits(start + dt.timedelta(days=o))) for o in offsets]
    onset = draw(opt(st.dates(dt.date(2020, 1, 1), dt.date(2024, 9, 30))))
    return case(*vs, onset_date=onset, onset_region=draw(opt(st.sampled_from(
        ["bulbar", "upper_limb", "lower_limb", "trunk_axial", "respiratory", "generalised"]))),
        diagnosis_date=draw(opt(st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)))),
        gastrostomy_date=draw(opt(st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)))))


options = st.builds(
    Options, scm_region=st.sampled_from(["cervical", "bulbar"]), abdominal_reflexes_umn=st.booleans(),
    preserved_reflex_min_grade=st.integers(0, 4),
    clinical_lmn_rule=st.sampled_from(["wasting_required", "weakness_or_wasting", "weakness_and_wasting"]),
    root_rule=st.sampled_from(["no_shared_principal", "principal_differs", "disjoint"]),
    preserved_reflex_max_mrc=st.sampled_from(["3", "4", "4+", "5-"]),
    preserved_reflex_min_wasting=st.sampled_from(["mild", "moderate", "severe"]),
    probable_reading=st.sampled_from(["distributed", "colocated"]), gcc_reading=st.sampled_from(["literal", "same_region"]),
)

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(cases(), options)
def test_any_valid_case_classifies_without_error_under_any_options(c, o):
    res = classify_case(c, CAT, o)
    data = res.as_json()
    json.dumps(data)
    assert len(data["visits"]) == len(c.visits)


@FAST
@given(findings(), st.data())
def test_with_default_options_adding_a_finding_never_lowers_a_category(base, data):
    muscles, reflexes, signs = base
    kind = data.draw(st.sampled_from(["muscle", "reflex", "sign"]))
    if kind == "muscle":
        free = [sl for sl in MUSCLE_SLOTS if sl not in {(f.muscle, f.side) for f in muscles}]
        extra = data.draw(muscle_finding(data.draw(st.sampled_from(free))))
        more = (muscles + [extra], reflexes, signs)
    elif kind == "reflex":
        free = [sl for sl in REFLEX_SLOTS if sl not in {(f.reflex, f.side) for f in reflexes}]
        if not free:
            return
        a, b = data.draw(st.sampled_from(free))
        more = (muscles, reflexes + [ReflexFinding(reflex=a, side=b, grade=data.draw(st.integers(0, 4)), spread=data.draw(st.booleans()))], signs)
    else:
        free = [sl for sl in SIGN_SLOTS if sl not in {(f.sign, f.side) for f in signs}]
        if not free:
            return
        a, b = data.draw(st.sampled_from(free))
        more = (muscles, reflexes, signs + [SignFinding(sign=a, side=b, present=data.draw(st.booleans()))])

    def ranks(ms, rs, ss):
        v = Visit(date=dt.date(2025, 3, 1), muscles=tuple(ms), reflexes=tuple(rs), signs=tuple(ss),
                  progressive_by_history=True, alternatives_excluded=True)
        vc = classify_case(case(v), CAT).visits[0]
        return {cid: res.rank for cid, res in vc.criteria.items()}

    before, after = ranks(*base), ranks(*more)
    for cid in before:
        assert after[cid] >= before[cid], (cid, before, after)


# The spec's scales, written out (clinical-rules 2): MRC weakest first, wasting mildest first.
SPEC_MRC = ("0", "1", "2-", "2", "2+", "3-", "3", "3+", "4-", "4", "4+", "5-", "5")
SPEC_WASTING = ("none", "mild", "moderate", "severe")


def spec_muscle_umn(f, reflexes, o) -> bool:
    """exam-format muscles[].umn / clinical-rules 3: the muscle's linked reflex (same side; the
    jaw reflex is midline) is NINDS 4 or 3 with spread, or NINDS >= preserved_reflex_min_grade
    while the muscle is MRC <= preserved_reflex_max_mrc and wasting >= preserved_reflex_min_wasting.
    A muscle attributed to another cause carries nothing (clinical-rules 2)."""
    link = CAT.muscle[f.muscle].linked_reflex
    if f.other_cause or not link:
        return False
    rf = reflexes.get((link, "midline" if link == "jaw" else f.side))
    if rf is None:
        return False
    if rf.grade == 4 or (rf.grade == 3 and rf.spread):
        return True
    return (rf.grade >= o.preserved_reflex_min_grade
            and f.mrc is not None and SPEC_MRC.index(f.mrc) <= SPEC_MRC.index(o.preserved_reflex_max_mrc)
            and f.wasting is not None
            and SPEC_WASTING.index(f.wasting) >= SPEC_WASTING.index(o.preserved_reflex_min_wasting))


def spec_muscle_lmn(f, o) -> bool:
    """clinical-rules 4.1-4.2: wasted (or the clinical_lmn_rule's reading), weak and wasted
    (Gold Coast), or the EMG predicate of any framework; nothing for another cause."""
    if f.other_cause:
        return False
    weak = f.mrc is not None and f.mrc != "5"
    wasted = f.wasting is not None and f.wasting != "none"
    clinical = {"wasting_required": wasted, "weakness_or_wasting": weak or wasted,
                "weakness_and_wasting": weak and wasted}[o.clinical_lmn_rule]
    emg = f.emg is not None and any(c.emg_lmn(f.emg) for c in REGISTRY.values())
    return clinical or (weak and wasted) or emg


LINKED_SLOTS = [sl for sl in MUSCLE_SLOTS if CAT.muscle[sl[0]].linked_reflex]


@st.composite
def linked_findings(draw):
    """Muscles that have a linked reflex, most with that reflex recorded: the combinations the
    UMN and mixed rules are about."""
    ms = draw(st.lists(st.sampled_from(LINKED_SLOTS), min_size=1, max_size=8, unique_by=lambda x: x))
    muscles = [draw(muscle_finding(sl)) for sl in ms]
    reflexes = {}
    for mu, side in ms:
        link = CAT.muscle[mu].linked_reflex
        slot = (link, "midline" if link == "jaw" else side)
        if slot not in reflexes and draw(st.integers(0, 4)) > 0:
            reflexes[slot] = ReflexFinding(reflex=slot[0], side=slot[1], grade=draw(st.integers(0, 4)),
                                           spread=draw(st.booleans()))
    return muscles, list(reflexes.values()), []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings(max_muscles=20) | linked_findings(), options)
def test_mixed_is_exactly_umn_and_lmn_in_the_same_muscle(f, o):
    """exam-format: ``mixed`` = ``umn`` (the linked reflex brisk, or preserved in the weak,
    wasted muscle) and some LMN evidence in the same muscle, stated from the raw findings."""
    muscles, reflexes, signs = f
    v = Visit(date=dt.date(2025, 3, 1), muscles=tuple(muscles), reflexes=tuple(reflexes), signs=tuple(signs))
    by_slot = {(x.reflex, x.side): x for x in reflexes}
    states = {(s.finding.muscle, s.finding.side): s for s in classify_case(case(v), CAT, o).visits[0].evidence.muscles}
    for mf in muscles:
        stt = states[(mf.muscle, mf.side)]
        umn, lmn = spec_muscle_umn(mf, by_slot, o), spec_muscle_lmn(mf, o)
        assert stt.as_json()["umn"] == umn, (mf, stt.umn_reason)
        assert stt.as_json()["mixed"] == (umn and lmn), mf


@FAST
@given(cases())
def test_a_case_file_round_trips_through_json(c):
    text = json.dumps(case_to_data(c), ensure_ascii=False)
    assert parse_case(text, CAT) == c
    assert isinstance(parse_case(text.encode("utf-8"), CAT), Case)
