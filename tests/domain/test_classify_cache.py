"""Classifying again after an edit (issue 20): the window passes an ``EvidenceCache`` that keeps
each visit's evidence and the fold's state after each visit, so one keystroke recomputes the
edited visit's evidence and the fold from that visit on. Whatever the edits, the answer is the
one classifying from scratch gives."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import domain.classify as classify_module
from domain.case import MRC_GRADES
from domain.classify import (
    EvidenceCache,
    FindingsProgression,
    KingsClinicalTracker,
    MitosTracker,
    ProgressionTracker,
    SlopeTracker,
    SpreadTracker,
    classify_case,
)
from domain.criteria import REGISTRY
from domain.edits import with_cell_value
from domain.evidence import EvidenceContext, visit_evidence
from domain.options import Options
from domain.phenotype import PhenotypeTracker
from tests.builders import D, alsfrs, case, catalogue, emg_lmn, m, r, s, visit, wasted
from tests.domain.test_properties import (
    MUSCLE_SLOTS,
    REFLEX_SLOTS,
    SIGN_SLOTS,
    cases,
    emgs,
    options,
)

CAT = catalogue()
OPT = Options()


def history():
    return case(
        visit("2025-01-01", wasted("first_dorsal_interosseous", mrc="4"), r("biceps", grade=2), progressive=None),
        visit("2025-04-01", wasted("first_dorsal_interosseous", mrc="3"), m("deltoid", "right", "5"),
              r("biceps"), progressive=None),
        visit("2025-07-01", wasted("first_dorsal_interosseous", mrc="3"), wasted("tibialis_anterior", "left"),
              emg_lmn("deltoid"), s("babinski", "left"), alsfrs_r=alsfrs(walking=3), progressive=None),
        onset_region="upper_limb", diagnosis_date="2025-02-01",
    )


def replace_visit(c, k, v):
    vs = list(c.visits)
    vs[k] = v
    return c.model_copy(update={"visits": tuple(vs)})


def counting_evidence(monkeypatch) -> list:
    """Record every visit whose evidence is computed from here on."""
    seen = []

    def counted(v, *args, **kw):
        seen.append(v.date)
        return visit_evidence(v, *args, **kw)

    monkeypatch.setattr(classify_module, "visit_evidence", counted)
    return seen


def test_an_edit_to_the_last_visit_recomputes_only_that_visit(monkeypatch):
    c = history()
    cache = EvidenceCache()
    before = classify_case(c, CAT, cache=cache)
    seen = counting_evidence(monkeypatch)
    edited = replace_visit(c, 2, with_cell_value(c.visits[2], ("muscle", "deltoid", "right", "mrc"), "4"))
    after = classify_case(edited, CAT, cache=cache)
    assert seen == [D("2025-07-01")]
    assert after.visits[0] is before.visits[0] and after.visits[1] is before.visits[1]
    assert after.as_json() == classify_case(edited, CAT).as_json()


def test_an_edit_to_an_early_visit_classifies_every_later_visit_again(monkeypatch):
    c = history()
    cache = EvidenceCache()
    before = classify_case(c, CAT, cache=cache)
    seen = counting_evidence(monkeypatch)
    first = with_cell_value(c.visits[0], ("muscle", "first_dorsal_interosseous", "right", "mrc"), "2")
    edited = replace_visit(c, 0, first)
    after = classify_case(edited, CAT, cache=cache)
    assert seen == [D("2025-01-01")]  # the later visits keep their evidence ...
    assert after.visits[1] is not before.visits[1]  # ... but not their classification
    assert after.visits[1].evidence is before.visits[1].evidence
    assert after.as_json() == classify_case(edited, CAT).as_json()
    # the MRC no longer falls from 4 to 3 at the second visit: it rises from 2
    assert not any("MRC fell" in x.text for x in after.visits[1].progression_reasons)


def test_nothing_changed_gives_the_same_results_and_computes_nothing(monkeypatch):
    c = history()
    cache = EvidenceCache()
    before = classify_case(c, CAT, cache=cache)
    seen = counting_evidence(monkeypatch)
    again = classify_case(case(*c.visits, onset_region="upper_limb", diagnosis_date="2025-02-01"), CAT, cache=cache)
    assert seen == [] and again.visits == before.visits


def test_another_patient_record_or_other_options_start_the_fold_again():
    c = history()
    cache = EvidenceCache()
    classify_case(c, CAT, cache=cache)
    later_diagnosis = case(*c.visits, onset_region="upper_limb", diagnosis_date="2025-06-01")
    got = classify_case(later_diagnosis, CAT, cache=cache)
    assert got.as_json() == classify_case(later_diagnosis, CAT).as_json()
    assert got.visits[1].kings_clinical == "1"  # not diagnosed yet at the second visit
    opts = Options(clinical_lmn_rule="weakness_or_wasting")
    assert classify_case(c, CAT, opts, cache=cache).as_json() == classify_case(c, CAT, opts).as_json()


def test_a_visit_removed_or_added_is_classified_as_from_scratch():
    c = history()
    cache = EvidenceCache()
    classify_case(c, CAT, cache=cache)
    shorter = c.model_copy(update={"visits": c.visits[:2]})
    assert classify_case(shorter, CAT, cache=cache).as_json() == classify_case(shorter, CAT).as_json()
    between = visit("2025-02-15", m("first_dorsal_interosseous", "right", "5"), progressive=None)
    longer = c.model_copy(update={"visits": (c.visits[0], between, *c.visits[1:])})
    assert classify_case(longer, CAT, cache=cache).as_json() == classify_case(longer, CAT).as_json()


# ------------------------------------------------------------------ any chain of edits

MUSCLE_VALUES = {
    "mrc": st.none() | st.sampled_from(MRC_GRADES),
    "wasting": st.none() | st.sampled_from(["none", "mild", "moderate", "severe"]),
    "fasciculations": st.none() | st.booleans(),
    "other_cause": st.booleans(),
    "fibrillations": st.none() | st.integers(0, 4),
    "mup_large": st.none() | st.booleans(),
    "recruitment": st.none() | st.sampled_from(["normal", "reduced", "early", "absent"]),
    "fasciculation_potentials": st.none() | st.sampled_from(["absent", "present", "complex"]),
}


@st.composite
def cell_edits(draw):
    """One cell edit: (visit position as a fraction, cell key, value)."""
    where = draw(st.floats(0, 1, exclude_max=True))
    kind = draw(st.sampled_from(["muscle", "muscle", "muscle", "reflex", "sign"]))
    if kind == "muscle":
        muscle, side = draw(st.sampled_from(MUSCLE_SLOTS))
        field = draw(st.sampled_from(sorted(MUSCLE_VALUES)))
        return where, ("muscle", muscle, side, field), draw(MUSCLE_VALUES[field])
    if kind == "reflex":
        reflex, side = draw(st.sampled_from(REFLEX_SLOTS))
        value = draw(st.none() | st.tuples(st.integers(0, 4), st.booleans()))
        return where, ("reflex", reflex, side, "grade"), value
    sign, side = draw(st.sampled_from(SIGN_SLOTS))
    return where, ("sign", sign, side, "present"), draw(st.none() | st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases(), options, st.lists(cell_edits(), min_size=1, max_size=6), st.booleans())
def test_classifying_with_a_cache_after_any_edits_gives_what_classifying_from_scratch_gives(c, o, edits, last_only):
    cache = EvidenceCache()
    assert classify_case(c, CAT, o, cache=cache).as_json() == classify_case(c, CAT, o).as_json()
    for where, key, value in edits:
        if not c.visits:
            break
        k = len(c.visits) - 1 if last_only else int(where * len(c.visits))
        c = replace_visit(c, k, with_cell_value(c.visits[k], key, value))
        assert classify_case(c, CAT, o, cache=cache).as_json() == classify_case(c, CAT, o).as_json()


# ------------------------------------------------------------------ the trackers' copies

TRACKERS = {
    "progression": (lambda p: ProgressionTracker(OPT), lambda t, v, e: t.add(v, e, e.involved(), None)),
    "findings": (lambda p: FindingsProgression(OPT), lambda t, v, e: t.add(v.date, e, e.involved())),
    "kings": (lambda p: KingsClinicalTracker(p, CAT), lambda t, v, e: t.add(v, e)),
    "mitos": (lambda p: MitosTracker(p), lambda t, v, e: t.add(v)),
    "slope": (lambda p: SlopeTracker(), lambda t, v, e: t.add(v)),
    "spread": (lambda p: SpreadTracker({"cervical"}), lambda t, v, e: t.add(e.involved())),
    "phenotype": (lambda p: PhenotypeTracker(p, CAT), lambda t, v, e: t.add(v, e)),
}

# Fed to one side of a copy only: findings that change every tracker's state.
ELSEWHERE = (
    visit("2025-02-01", wasted("deltoid", "left", mrc="3"), wasted("deltoid", "right", mrc="3"),
          wasted("tibialis_anterior", "right", mrc="2"), emg_lmn("quadriceps", "left"), emg_lmn("biceps", "left"),
          emg_lmn("tongue", "midline"), m("first_dorsal_interosseous", "right", "2"), r("knee", "left"),
          s("spastic_dysarthria", "midline"), alsfrs_r=alsfrs(walking=1, speech=2, gastrostomy=True, dyspnea=1),
          progressive=None),
    visit("2025-03-01", wasted("iliopsoas", "left", mrc="2"), emg_lmn("triceps", "right"),
          m("first_dorsal_interosseous", "right", "1"), alsfrs_r=alsfrs(handwriting=0, respiratory_insufficiency=2),
          progressive=None),
    visit("2025-11-01", wasted("deltoid", "left", mrc="2"), progressive=None),  # past the first year
)


def state(t):
    """A tracker's whole state as it is now (nested trackers and containers frozen), comparable
    with ``==``; the evidence it points at compares by identity. Private memos (``_name``) are
    left out: copies may share them."""
    if isinstance(t, FindingsProgression):
        t = {k: v for k, v in vars(t).items() if not k.startswith("_")}
    if isinstance(t, dict):
        return tuple(sorted(((k, state(v)) for k, v in t.items()), key=repr))
    if isinstance(t, (set, frozenset)):
        return frozenset(t)
    if isinstance(t, (list, tuple)):
        return tuple(state(v) for v in t)
    return t


def public(t) -> dict:
    return {k: v for k, v in vars(t).items() if not k.startswith("_")}


def test_a_tracker_copy_holds_every_attribute_and_goes_on_independently():
    """Whatever one side of a copy is fed, the other goes on as if the copy never happened."""
    c = history()
    v1, v2, v3 = c.visits
    ev = {v.date: visit_evidence(v, CAT, OPT) for v in (v1, v2, v3, *ELSEWHERE)}
    for name, (make, feed) in TRACKERS.items():
        ref = make(c.patient)
        feed(ref, v1, ev[v1.date])
        expected = [(feed(ref, v, ev[v.date]), state(public(ref))) for v in (v2, v3)]
        for fed_elsewhere in ("original", "copy"):
            t = make(c.patient)
            feed(t, v1, ev[v1.date])
            snapshot = t.copy()
            assert set(vars(snapshot)) == set(vars(t)), name
            other, go_on = (t, snapshot) if fed_elsewhere == "original" else (snapshot, t)
            for v in ELSEWHERE:
                feed(other, v, ev[v.date])
            got = [(feed(go_on, v, ev[v.date]), state(public(go_on))) for v in (v2, v3)]
            assert got == expected, (name, fed_elsewhere)


# ------------------------------------------------------------------ the evidence context

@settings(max_examples=200, deadline=None)
@given(emgs, emgs)
def test_the_emg_memo_answers_each_criterions_predicate_row_by_row(a, b):
    ctx = EvidenceContext(CAT, OPT)
    for e in (a, b, a):
        got, met = ctx.emg_lmn(e)
        want = {c: crit.emg_lmn(e) for c, crit in REGISTRY.items()}
        assert got == want and met == tuple(c for c, ok in want.items() if ok)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(cases(), min_size=2, max_size=4), options)
def test_one_context_shared_by_several_patients_gives_each_its_own_classification(patients, o):
    """The demo clinic's helpers classify a job's patients with one context: it may only
    remember what the catalogue and options decide, so each patient gets what it gets alone."""
    ctx = EvidenceContext(CAT, o)
    for c in patients + patients[::-1]:  # (each met again after the others)
        assert classify_case(c, CAT, o, context=ctx).as_json() == classify_case(c, CAT, o).as_json()


def test_a_context_of_other_options_is_refused():
    ctx = EvidenceContext(CAT, OPT)
    other = OPT.model_copy(update={"clinical_lmn_rule": "weakness_or_wasting"})
    assert other != OPT
    with pytest.raises(ValueError, match="other options"):
        classify_case(history(), CAT, other, context=ctx)
    assert classify_case(history(), CAT, OPT, context=ctx).as_json() == classify_case(history(), CAT).as_json()
    with pytest.raises(ValueError, match="one or the other"):
        classify_case(history(), CAT, OPT, cache=EvidenceCache(), context=ctx)


def test_one_context_shared_by_many_visits_gives_each_visits_own_evidence():
    c = history()
    ctx = EvidenceContext(CAT, OPT)
    shared = [visit_evidence(v, CAT, OPT, ctx) for v in c.visits]
    alone = [visit_evidence(v, CAT, OPT) for v in c.visits]
    for a, b in zip(shared, alone):
        assert [x.as_json() for x in a.muscles] == [x.as_json() for x in b.muscles]
        assert a.regions == b.regions and a.ignored == b.ignored


def test_the_after_one_edit_figure_edits_only_the_last_visit():
    from desktop.domain_benchmarks import edited_cases, full_case

    base = full_case(3)
    states = list(edited_cases(base, 3))
    for c in states:
        assert c.visits[:2] == base.visits[:2] and c.visits[0] is base.visits[0]
    assert len({id(c.visits[-1]) for c in states}) == 3
    assert dt.date(2024, 1, 10) == states[0].visits[0].date


def test_a_reason_made_the_fast_way_is_the_same_frozen_reason():
    import dataclasses

    import pytest

    from domain.criteria import Reason, Ref, reason

    refs = (Ref("muscle", "deltoid", "right"),)
    fast, slow = reason("Deltoid R MRC fell from 4 to 3.", refs), Reason("Deltoid R MRC fell from 4 to 3.", refs)
    assert type(fast) is Reason and fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert reason("x") == Reason("x") and reason("x").refs == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.text = "changed"
