"""Visit edits (domain.edits): one cell set or cleared, reflexes and signs, other cause."""

import datetime as dt

from domain import edits as D
from domain.case import MuscleFinding, ReflexFinding, SignFinding, Visit

VISIT = Visit(
    date=dt.date(2025, 3, 1),
    muscles=(MuscleFinding(muscle="biceps", side="right", mrc="4", wasting="mild"),
             MuscleFinding(muscle="tongue", side="midline", fasciculations=True)),
    reflexes=(ReflexFinding(reflex="biceps", side="right", grade=3, spread=True),),
    signs=(SignFinding(sign="babinski", side="left", present=True),),
)


def test_a_finding_cleared_of_every_value_is_dropped_from_the_visit():
    v = D.with_muscle_value(VISIT, "biceps", "right", "mrc", None)
    v = D.with_muscle_value(v, "biceps", "right", "wasting", None)
    assert all(f.muscle != "biceps" for f in v.muscles)


def test_a_cell_key_reads_and_writes_muscles_reflexes_and_signs_alike():
    ix = D.FindingIndex.of(VISIT)
    assert D.cell_value(ix, ("muscle", "biceps", "right", "mrc")) == "4"
    assert D.cell_value(ix, ("reflex", "biceps", "right", "grade")) == (3, True)
    assert D.cell_value(ix, ("sign", "babinski", "left", "present")) is True
    assert D.cell_value(ix, ("muscle", "deltoid", "left", "mrc")) is None  # not examined
    v = D.with_cell_value(VISIT, ("reflex", "biceps", "right", "grade"), None)
    v = D.with_cell_value(v, ("sign", "babinski", "left", "present"), False)
    v = D.with_cell_value(v, ("muscle", "deltoid", "left", "fibrillations"), 2)
    assert v.reflexes == () and v.signs[0].present is False
    deltoid = next(f for f in v.muscles if f.muscle == "deltoid")
    assert deltoid.emg.fibrillations == 2 and deltoid.mrc is None


def test_other_cause_keeps_the_findings_and_clearing_it_drops_a_finding_kept_only_for_it():
    v = D.with_other_cause(VISIT, [("biceps", "right"), ("deltoid", "left")], "  C6 radiculopathy ")
    b = next(f for f in v.muscles if f.muscle == "biceps")
    assert (b.other_cause, b.other_cause_reason, b.mrc) == (True, "C6 radiculopathy", "4")
    v = D.with_other_cause(v, [("biceps", "right"), ("deltoid", "left")], None)
    assert [f.muscle for f in v.muscles] == ["biceps", "tongue"]
    assert not v.muscles[0].other_cause and v.muscles[0].other_cause_reason is None


def test_copy_forward_copies_the_findings_but_not_the_history_answers_which_carry_with_their_own_date():
    """clinical-rules "Flags carry forward": the classification keeps the last recorded answers,
    dated when they were recorded. Copied into the new visit, they read as recorded that day
    although nobody asked them again (found by a new user: they survived signing with drop)."""
    from tests.builders import case, classify, m, visit

    before = visit("2025-03-01", m("biceps", mrc="4", wasting="mild"), progressive=True, excluded=True)
    copied = D.copy_forward(before, dt.date(2025, 9, 1))
    assert copied.progressive_by_history is None and copied.alternatives_excluded is None
    assert copied.muscles == before.muscles and copied.date == dt.date(2025, 9, 1)
    last = classify(case(before, copied)).visits[-1]
    assert last.flags_recorded == {"progressive_by_history": dt.date(2025, 3, 1),
                                   "alternatives_excluded": dt.date(2025, 3, 1)}
    # answered again at the new visit, the new answer and its date are what count
    asked = copied.model_copy(update={"alternatives_excluded": False})
    last = classify(case(before, asked)).visits[-1]
    assert last.flags_recorded["alternatives_excluded"] == dt.date(2025, 9, 1)
    assert last.flags_recorded["progressive_by_history"] == dt.date(2025, 3, 1)
