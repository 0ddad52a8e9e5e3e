"""The classifier's speed-ups that must not show (issue 20): objects made without their
dataclass ``__init__`` are the objects ``__init__`` makes, the scores computed from the muscle
states are the scores computed from the visit, and the collector pause leaves the collector as
it found it."""

import dataclasses
import gc

import pytest

from domain.classify import VisitClassification, _make_visit_classification, classify_case
from domain.criteria import (
    CriterionInput,
    CriterionResult,
    Reason,
    Ref,
    RegionView,
    frozen_maker,
    make_criterion_input,
    make_region_view,
    make_result,
)
from domain.evidence import (
    MuscleState,
    RegionEvidence,
    VisitEvidence,
    _make_region_evidence,
    _make_state,
    _make_visit_evidence,
    visit_evidence,
)
from domain.options import Options
from domain.scores import mrc_sum, mrc_sum_muscles, mrc_sum_of_grades, umn_score, umn_score_items
from tests.builders import alsfrs, case, catalogue, emg_lmn, m, r, s, visit, wasted

CAT = catalogue()
REFS = (Ref("muscle", "deltoid", "right"),)
LINE = Reason("Cervical UMN: Hoffmann R.", REFS)


def values_of(cls):
    """One value per field of ``cls``, distinct enough to catch a field set in another's place."""
    return {f.name: (f.name, i) for i, f in enumerate(dataclasses.fields(cls))}


MAKERS = [
    (RegionView, make_region_view),
    (CriterionInput, make_criterion_input),
    (CriterionResult, make_result),
    (RegionEvidence, _make_region_evidence),
    (VisitEvidence, _make_visit_evidence),
    (VisitClassification, _make_visit_classification),
    (MuscleState, _make_state),
]


@pytest.mark.parametrize(("cls", "make"), MAKERS, ids=[c.__name__ for c, _ in MAKERS])
def test_a_made_object_is_the_object_init_makes(cls, make):
    values = values_of(cls)
    slow = cls(**values)
    for fast in (make(**values), make(*values.values())):
        assert type(fast) is cls
        assert all(getattr(fast, n) is v for n, v in values.items())
        assert repr(fast) == repr(slow)
        if cls.__eq__ is not object.__eq__:
            assert fast == slow and hash(fast) == hash(slow)
        if cls.__dataclass_params__.frozen:
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(fast, dataclasses.fields(cls)[0].name, "changed")


def test_a_maker_wants_every_field_and_refuses_what_it_cannot_make():
    with pytest.raises(TypeError):
        make_region_view("cervical", True)  # no defaults: every field is given

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        x: int

        def __post_init__(self):
            raise ValueError

    with pytest.raises(TypeError):
        frozen_maker(Checked)


def history():
    return case(
        visit("2025-01-01", wasted("deltoid", "left", mrc="4"), m("deltoid", "right", "4+"),
              m("biceps", "left", "5"), m("biceps", "right", "4-"), m("extensor_carpi_radialis", "left", "3"),
              m("extensor_carpi_radialis", "right", "4"), m("iliopsoas", "left", "4"), m("iliopsoas", "right", "5-"),
              m("quadriceps", "left", "2"), m("quadriceps", "right", "4"), m("tibialis_anterior", "left", "1"),
              m("tibialis_anterior", "right", "0", other_cause=True), emg_lmn("first_dorsal_interosseous"),
              r("biceps", "left"), r("knee", "right", grade=3, spread=True), r("ankle", "left", grade=2),
              s("babinski", "left"), s("snout", "midline", present=False), alsfrs_r=alsfrs(walking=3)),
        visit("2025-04-01", wasted("deltoid", "left", mrc="3"), m("deltoid", "right"), r("jaw", "midline")),
        onset_region="upper_limb",
    )


def test_the_scores_from_the_muscle_states_are_the_scores_from_the_visit():
    c = history()
    want, items = mrc_sum_muscles(CAT), umn_score_items(CAT)
    for v in c.visits:
        ev = visit_evidence(v, CAT, Options())
        got = mrc_sum_of_grades((st.key, st.finding.mrc) for st in ev.muscles if st.key[0] in want)
        assert got == mrc_sum(v, CAT)
        assert umn_score(v, CAT, items) == umn_score(v, CAT)
    assert mrc_sum(c.visits[0], CAT) == 40 and mrc_sum(c.visits[1], CAT) is None  # 4+4+5+4+3+4+4+5+2+4+1+0
    assert umn_score(c.visits[0], CAT) == 3  # biceps 4, knee 3 with spread, Babinski (not ankle 2, snout)


def test_classifying_leaves_the_garbage_collector_as_it_found_it(monkeypatch):
    c = history()
    was = gc.isenabled()
    try:
        gc.enable()
        classify_case(c, CAT)
        assert gc.isenabled()
        gc.disable()
        classify_case(c, CAT)
        assert not gc.isenabled()
        gc.enable()

        def boom(*args, **kw):
            assert not gc.isenabled()  # paused while the fold runs
            raise RuntimeError("boom")

        monkeypatch.setattr("domain.classify.visit_evidence", boom)
        with pytest.raises(RuntimeError):
            classify_case(c, CAT)
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
