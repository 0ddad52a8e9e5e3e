"""The needle-EMG grid records what exam-format.md defines for ``muscles[].emg`` and what
clinical-rules 4.2 reads: fibrillations and positive sharp waves 0-4, fasciculation potentials
absent / present / complex, large and unstable MUPs yes / no, recruitment normal / reduced /
early / absent. Not sampled is never a normal value, and a signed visit takes no entries.
The signs grid shares the grid's base: the same edits, read-only rule and repaints."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from desktop.present import entries as E
from desktop.ui.grid import ABNORMAL_FG, EMG_COLUMNS, GREY, EmgTableModel, ValueRole, build_rows
from desktop.ui.signs import SignsTableModel
from domain.case import Emg, MuscleFinding, SignFinding, Visit
from domain.edits import EMG_FIELDS
from tests.ui.test_classification_panel import Repaints, grid_snapshot

D1 = dt.date(2025, 3, 1)
VISIT = Visit(
    date=D1,
    muscles=(MuscleFinding(muscle="biceps", side="right", mrc="4",
                           emg=Emg(fibrillations=2, recruitment="reduced", mup_large=True)),),
)


@pytest.fixture
def model(catalogue):
    m = EmgTableModel(catalogue)
    m.set_rows(build_rows(catalogue, None, VISIT))
    m.set_visit(VISIT, readonly=False)
    return m


def cell(model, muscle, field, side):
    return model.index(model.row_of(muscle), model.column_of(field, side))


def edit(model, qtbot, index, typed):
    """Type ``typed`` into a cell; the visit the model asks the session for (and its key)."""
    with qtbot.waitSignal(model.edit_requested, timeout=1000) as sig:
        assert model.setData(index, typed)
    new, key, _text = sig.args
    return new, key


def emg_of(visit, muscle, side):
    f = next((f for f in visit.muscles if f.muscle == muscle and f.side == side), None)
    return None if f is None else f.emg


def test_the_emg_columns_are_the_format_s_emg_fields_left_then_right():
    fields = [(c.side, c.field) for c in EMG_COLUMNS[1:]]
    recorded = [f for f in EMG_FIELDS if f != "study_date"]
    assert fields == [("left", f) for f in recorded] + [("right", f) for f in recorded]


@pytest.mark.parametrize("field,typed,stored", [
    ("fibrillations", "0", 0), ("fibrillations", "4", 4),
    ("positive_sharp_waves", "1", 1),
    ("fasciculation_potentials", "a", "absent"), ("fasciculation_potentials", "1", "present"),
    ("fasciculation_potentials", "c", "complex"),
    ("mup_large", "y", True), ("mup_large", "n", False),
    ("mup_unstable", "+", True),
    ("recruitment", "n", "normal"), ("recruitment", "r", "reduced"), ("recruitment", "e", "early"),
    ("recruitment", "3", "absent"),
])
def test_an_entry_writes_that_emg_field_of_that_muscle_and_side_and_nothing_else(model, qtbot, field, typed, stored):
    new, key = edit(model, qtbot, cell(model, "deltoid", field, "left"), typed)
    assert key == ("muscle", "deltoid", "left", field)
    emg = emg_of(new, "deltoid", "left")
    assert getattr(emg, field) == stored
    assert all(getattr(emg, f) is None for f in EMG_FIELDS if f != field)  # the rest: not sampled
    assert new.muscles[0] == VISIT.muscles[0]  # the other muscle's findings are untouched
    model.set_visit(new, readonly=False)  # as the session applies it
    idx = cell(model, "deltoid", field, "left")
    assert idx.data() == (("yes" if stored else "no") if isinstance(stored, bool) else str(stored))
    assert idx.data(ValueRole) == stored


def test_an_entry_in_a_carried_row_makes_it_this_visit_s_study(model, qtbot, catalogue):
    carried = Visit(date=D1, muscles=(MuscleFinding(
        muscle="biceps", side="right", emg=Emg(fibrillations=2, study_date=dt.date(2024, 11, 5))),))
    model.set_visit(carried, readonly=False)
    name = model.index(model.row_of("biceps"), 0)
    assert "EMG of 2024-11-05" in name.data()
    new, _key = edit(model, qtbot, cell(model, "biceps", "recruitment", "right"), "r")
    emg = emg_of(new, "biceps", "right")
    assert (emg.fibrillations, emg.recruitment, emg.study_date) == (2, "reduced", None)
    repaints = Repaints(model)
    model.set_visit(new, readonly=False)
    assert "EMG of" not in name.data()
    assert (name.row(), 0) in repaints.take()  # the name says so at once


@pytest.mark.parametrize("field,typed,allowed", [
    ("fibrillations", "5", "grade 0-4"), ("fibrillations", "+", "grade 0-4"),
    ("positive_sharp_waves", "-1", "grade 0-4"),
    ("fasciculation_potentials", "many", "0 absent, 1 present, 2 complex"),
    ("mup_large", "maybe", "y (+) or n"), ("mup_unstable", "2", "y (+) or n"),
    ("recruitment", "increased", "0 normal, 1 reduced, 2 early, 3 absent"),
])
def test_a_value_the_format_does_not_allow_is_refused_saying_what_is_allowed(model, qtbot, field, typed, allowed):
    asked = []
    model.edit_requested.connect(lambda *a: asked.append(a))
    with qtbot.waitSignal(model.entry_refused, timeout=1000) as refused:
        assert not model.setData(cell(model, "biceps", field, "right"), typed)
    assert allowed in refused.args[0] and f'"{typed}"' in refused.args[0]
    assert asked == []


@pytest.mark.parametrize("field", ["fibrillations", "recruitment", "mup_large"])
def test_a_cleared_cell_is_not_sampled_never_a_normal_value(model, qtbot, field):
    idx = cell(model, "biceps", field, "right")
    with qtbot.waitSignal(model.edit_requested, timeout=1000) as sig:
        assert model.clear(idx)
    new = sig.args[0]
    emg = emg_of(new, "biceps", "right")
    assert getattr(emg, field) is None  # not 0, "normal" or False
    kept = {f: getattr(VISIT.muscles[0].emg, f) for f in ("fibrillations", "recruitment", "mup_large") if f != field}
    assert {f: getattr(emg, f) for f in kept} == kept
    model.set_visit(new, readonly=False)
    assert idx.data() == E.NOT_EXAMINED and idx.data(ValueRole) is None
    assert idx.data(Qt.ItemDataRole.ForegroundRole).color() == GREY
    assert not model.clear(idx)  # nothing left to clear: no edit
    new2, _ = edit(model, qtbot, cell(model, "deltoid", field, "left"), "")  # typed empty: the same
    assert emg_of(new2, "deltoid", "left") is None


def test_clearing_every_emg_field_leaves_the_muscle_not_sampled(model, qtbot):
    visit = VISIT
    for field in ("fibrillations", "recruitment", "mup_large"):
        model.set_visit(visit, readonly=False)
        with qtbot.waitSignal(model.edit_requested, timeout=1000) as sig:
            assert model.clear(cell(model, "biceps", field, "right"))
        visit = sig.args[0]
    assert emg_of(visit, "biceps", "right") is None  # absent = not sampled (exam-format)
    assert next(f for f in visit.muscles if f.muscle == "biceps").mrc == "4"  # the examination stays


def test_zero_grades_and_normal_recruitment_are_shown_as_recorded_not_as_abnormal(model, qtbot):
    visit = VISIT
    for field, typed in (("fibrillations", "0"), ("recruitment", "n"), ("fasciculation_potentials", "a"),
                         ("mup_large", "n"), ("positive_sharp_waves", "3")):
        visit, _ = edit(model, qtbot, cell(model, "deltoid", field, "right"), typed)
        model.set_visit(visit, readonly=False)
    fg = lambda f: cell(model, "deltoid", f, "right").data(Qt.ItemDataRole.ForegroundRole)  # noqa: E731
    assert cell(model, "deltoid", "fibrillations", "right").data() == "0"
    assert cell(model, "deltoid", "recruitment", "right").data() == "normal"
    for f in ("fibrillations", "recruitment", "fasciculation_potentials", "mup_large"):
        assert fg(f) is None, f  # recorded and normal: default colour, neither grey nor red
    assert fg("positive_sharp_waves").color() == ABNORMAL_FG  # active denervation (rules 4.2)


def test_space_toggles_the_yes_no_emg_columns_only(model, qtbot):
    large = cell(model, "deltoid", "mup_unstable", "left")
    with qtbot.waitSignal(model.edit_requested, timeout=1000) as sig:
        assert model.toggle(large)
    assert emg_of(sig.args[0], "deltoid", "left").mup_unstable is True
    model.set_visit(sig.args[0], readonly=False)
    with qtbot.waitSignal(model.edit_requested, timeout=1000) as sig:
        assert model.toggle(large)
    assert emg_of(sig.args[0], "deltoid", "left").mup_unstable is False
    for field in ("fibrillations", "positive_sharp_waves", "fasciculation_potentials", "recruitment"):
        assert not model.toggle(cell(model, "deltoid", field, "left"))


def test_a_midline_muscle_records_its_emg_once_on_the_midline(model, qtbot):
    row = model.row_of("tongue")
    assert not model.index(row, model.column_of("fibrillations", "right")).flags() & Qt.ItemFlag.ItemIsEditable
    new, key = edit(model, qtbot, model.index(row, model.column_of("fibrillations", "left")), "1")
    assert key == ("muscle", "tongue", "midline", "fibrillations")
    assert emg_of(new, "tongue", "midline").fibrillations == 1 and emg_of(new, "tongue", "left") is None


def test_a_signed_visit_takes_no_emg_entry(model, qtbot):
    model.set_visit(VISIT, readonly=True)
    asked = []
    model.edit_requested.connect(lambda *a: asked.append(a))
    for col, c in enumerate(EMG_COLUMNS):
        if c.side is not None:
            assert not model.index(model.row_of("biceps"), col).flags() & Qt.ItemFlag.ItemIsEditable
    idx = cell(model, "biceps", "fibrillations", "right")
    with qtbot.waitSignal(model.entry_refused, timeout=1000) as refused:
        assert not model.setData(idx, "3")
    assert "signed and read-only" in refused.args[0]
    with qtbot.waitSignal(model.entry_refused, timeout=1000):
        assert not model.clear(idx)
    with qtbot.waitSignal(model.entry_refused, timeout=1000):
        assert not model.toggle(cell(model, "biceps", "mup_large", "right"))
    assert asked == [] and idx.data() == "2"


def test_emg_typed_in_the_window_is_stored_and_refused_once_signed(visit_window, qtbot):
    w = visit_window
    m = w.editor.emg_model
    assert m.setData(cell(m, "first_dorsal_interosseous", "fibrillations", "right"), "2")
    assert m.setData(cell(m, "first_dorsal_interosseous", "mup_large", "right"), "y")
    stored = w.store.get_visit(w.session.patient.id, w.session.visit.date)
    assert emg_of(stored, "first_dorsal_interosseous", "right") == Emg(fibrillations=2, mup_large=True)
    assert cell(m, "first_dorsal_interosseous", "fibrillations", "right").data() == "2"
    w.sign_visit()
    assert w.session.status == "signed" and m.readonly
    with qtbot.waitSignal(m.entry_refused, timeout=1000):
        assert not m.setData(cell(m, "first_dorsal_interosseous", "fibrillations", "right"), "0")
    stored = w.store.get_visit(w.session.patient.id, w.session.visit.date)
    assert emg_of(stored, "first_dorsal_interosseous", "right").fibrillations == 2


# ------------------------------------------------------------------ the signs grid on the same base

def _sign_cell(model, sign, side):
    row = next(i for i, r in enumerate(model.rows) if r.sign is not None and r.sign.id == sign)
    return model.index(row, 1 + ("left", "right", "midline").index(side))


def test_a_signs_edit_repaints_only_the_cells_it_changed(catalogue, qtbot):
    model = SignsTableModel(catalogue)
    visit = Visit(date=D1, signs=(SignFinding(sign="babinski", side="left", present=True),))
    model.set_visit(visit, readonly=False)
    repaints = Repaints(model)
    idx = _sign_cell(model, "babinski", "right")
    before = grid_snapshot(model)
    with qtbot.waitSignal(model.edit_requested, timeout=1000) as sig:
        assert model.toggle(idx)
    new = sig.args[0]
    assert [(s.sign, s.side, s.present) for s in new.signs] == [("babinski", "left", True),
                                                                 ("babinski", "right", True)]
    model.set_visit(new, readonly=False)
    assert repaints.take() == {(idx.row(), idx.column())}
    assert {k for k, v in grid_snapshot(model).items() if v != before[k]} == {(idx.row(), idx.column())}
    model.set_marks(highlight={("sign", "babinski", "left")})
    left = _sign_cell(model, "babinski", "left")
    assert repaints.take() == {(left.row(), left.column())}
    model.set_visit(new, readonly=False)  # the same snapshot again: nothing to repaint
    assert repaints.take() == set()


def test_a_signs_entry_is_refused_on_a_signed_visit_and_cleared_to_not_examined(catalogue, qtbot):
    model = SignsTableModel(catalogue)
    visit = Visit(date=D1, signs=(SignFinding(sign="babinski", side="left", present=False),))
    model.set_visit(visit, readonly=True)
    idx = _sign_cell(model, "babinski", "left")
    assert not idx.flags() & Qt.ItemFlag.ItemIsEditable
    with qtbot.waitSignal(model.entry_refused, timeout=1000) as refused:
        assert not model.setData(idx, "y")
    assert "signed and read-only" in refused.args[0]
    model.set_visit(visit, readonly=False)
    with qtbot.waitSignal(model.entry_refused, timeout=1000) as refused:
        assert not model.setData(idx, "maybe")
    assert "y (+) or n" in refused.args[0]
    with qtbot.waitSignal(model.edit_requested, timeout=1000) as sig:
        assert model.clear(idx)  # absent is a finding: clearing makes it not examined
    new, key, text = sig.args
    assert new.signs == () and key == ("sign", "babinski", "left", "present")
    assert text.endswith(f"left: {E.NOT_EXAMINED}")
    model.set_visit(new, readonly=False)
    assert idx.data() == E.NOT_EXAMINED and idx.data(ValueRole) is None
