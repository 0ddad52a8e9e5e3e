"""Item models under pytest-qt's model tester, patients with non-Latin names, protocols,
preferences and the entry parsers."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from desktop.present import entries as E
from desktop.ui.grid import EmgTableModel, ExamTableModel, build_rows
from desktop.ui.new_patient import NewPatientDialog
from desktop.ui.protocols import protocol_muscles, protocol_names, save_protocol
from desktop.ui.signs import SignsTableModel
from domain.case import MuscleFinding, ReflexFinding, SignFinding, Visit
from tests.ui.keys import type_into

VISIT = Visit(
    date=dt.date(2025, 3, 1),
    muscles=(MuscleFinding(muscle="biceps", side="right", mrc="4", wasting="mild"),
             MuscleFinding(muscle="tongue", side="midline", fasciculations=True)),
    reflexes=(ReflexFinding(reflex="biceps", side="right", grade=3, spread=True),),
    signs=(SignFinding(sign="babinski", side="left", present=True),),
)


@pytest.mark.parametrize("cls", [ExamTableModel, EmgTableModel])
def test_the_grid_models_pass_the_model_tester_and_show_the_visit(qtmodeltester, catalogue, cls):
    model = cls(catalogue)
    model.set_rows(build_rows(catalogue, None, VISIT))
    model.set_visit(VISIT, readonly=False)
    qtmodeltester.check(model)
    if cls is ExamTableModel:
        r = model.row_of("biceps")
        assert model.index(r, model.column_of("mrc", "right")).data() == "4"
        assert model.index(r, model.column_of("reflex", "right")).data() == "3 sp"
        assert model.index(r, model.column_of("mrc", "left")).data() == E.NOT_EXAMINED
        t = model.row_of("tongue")
        assert model.index(t, model.column_of("fasciculations", "left")).data() == "yes"
        assert not model.index(t, model.column_of("mrc", "right")).flags() & Qt.ItemFlag.ItemIsEditable
    else:  # no EMG in this visit: every EMG cell is not sampled, never a normal value
        # (what entries write, refuse and clear: tests/ui/test_emg_grid.py)
        r = model.row_of("biceps")
        for field in ("fibrillations", "positive_sharp_waves", "fasciculation_potentials", "mup_large",
                      "mup_unstable", "recruitment"):
            for side in ("left", "right"):
                idx = model.index(r, model.column_of(field, side))
                assert idx.data() == E.NOT_EXAMINED and model.value(idx) is None
                assert idx.flags() & Qt.ItemFlag.ItemIsEditable
        t = model.row_of("tongue")
        assert not model.index(t, model.column_of("fibrillations", "right")).flags() & Qt.ItemFlag.ItemIsEditable


def test_set_data_asks_for_an_undoable_edit_and_never_changes_the_visit_itself(catalogue, qtbot):
    model = ExamTableModel(catalogue)
    model.set_rows(build_rows(catalogue, None, VISIT))
    model.set_visit(VISIT, readonly=False)
    idx = model.index(model.row_of("deltoid"), model.column_of("mrc", "left"))
    with qtbot.waitSignal(model.edit_requested) as sig:
        assert model.setData(idx, "3-")
    new_visit, key, _text = sig.args
    assert key == ("muscle", "deltoid", "left", "mrc")
    assert any(f.muscle == "deltoid" and f.mrc == "3-" for f in new_visit.muscles)
    assert idx.data() == E.NOT_EXAMINED  # unchanged until the session applies it
    with qtbot.waitSignal(model.entry_refused) as bad:
        assert not model.setData(idx, "6")
    assert "MRC grade" in bad.args[0]


MIDLINE_VISIT = Visit(
    date=dt.date(2025, 3, 1),
    muscles=(MuscleFinding(muscle="thoracic_paraspinals_lower", side="midline", mrc="3-", wasting="severe",
                           emg={"fibrillations": 2}),
             MuscleFinding(muscle="masseter", side="midline", mrc="4"),
             MuscleFinding(muscle="masseter", side="left", wasting="mild")),
)


@pytest.mark.parametrize("cls", [ExamTableModel, EmgTableModel])
def test_a_muscle_recorded_midline_has_its_own_row_showing_that_finding(qtmodeltester, catalogue, cls):
    """A new user's report: thoracic paraspinals recorded midline (as the demo and the case
    format may record them) drove "Thoracic: LMN" in the panel but showed nowhere in the grid."""
    protocol = {"masseter", "deltoid"}  # thoracic_paraspinals_lower only because it is recorded
    rows = build_rows(catalogue, protocol, MIDLINE_VISIT)
    tpl = [r for r in rows if r.muscle is not None and r.muscle.id == "thoracic_paraspinals_lower"]
    mas = [r for r in rows if r.muscle is not None and r.muscle.id == "masseter"]
    assert [r.midline for r in tpl] == [True]  # recorded midline only, not in the protocol
    assert [r.midline for r in mas] == [True, False]  # midline and left recorded: both rows
    model = cls(catalogue)
    model.set_rows(rows)
    model.set_visit(MIDLINE_VISIT, readonly=False)
    qtmodeltester.check(model)
    t = rows.index(tpl[0])
    assert model.index(t, 0).data().strip().startswith("Thoracic paraspinals T6-T12 (midline)")
    if cls is ExamTableModel:
        assert model.index(t, model.column_of("mrc", "left")).data() == "3-"
        assert not model.index(t, model.column_of("mrc", "right")).flags() & Qt.ItemFlag.ItemIsEditable
        mid, lat = rows.index(mas[0]), rows.index(mas[1])
        assert model.index(mid, model.column_of("mrc", "left")).data() == "4"
        assert model.index(lat, model.column_of("wasting", "left")).data() == "mild"
        assert model.index(lat, model.column_of("mrc", "left")).data() == E.NOT_EXAMINED
    else:
        assert model.index(t, model.column_of("fibrillations", "left")).data() not in (None, E.NOT_EXAMINED)


def test_a_midline_finding_is_corrected_in_its_row(catalogue, qtbot):
    rows = build_rows(catalogue, None, MIDLINE_VISIT)
    model = ExamTableModel(catalogue)
    model.set_rows(rows)
    model.set_visit(MIDLINE_VISIT, readonly=False)
    t = next(i for i, r in enumerate(rows) if r.midline and r.muscle.id == "thoracic_paraspinals_lower")
    with qtbot.waitSignal(model.edit_requested) as sig:
        assert model.setData(model.index(t, model.column_of("mrc", "left")), "4")
    new_visit, key, _text = sig.args
    assert key == ("muscle", "thoracic_paraspinals_lower", "midline", "mrc")
    assert [(f.side, f.mrc) for f in new_visit.muscles if f.muscle == "thoracic_paraspinals_lower"] == [("midline", "4")]


def test_the_signs_model_passes_the_model_tester(qtmodeltester, catalogue):
    model = SignsTableModel(catalogue)
    model.set_visit(VISIT, readonly=True)
    qtmodeltester.check(model)
    row = next(i for i, r in enumerate(model.rows) if r.sign is not None and r.sign.id == "babinski")
    assert model.index(row, 1).data() == "present"
    assert model.index(row, 2).data() == E.NOT_EXAMINED


def test_the_patient_list_model_passes_the_model_tester(qtmodeltester, window):
    model = window.patients.model
    qtmodeltester.check(model)
    assert model.index(0, 0).data() == "Łukasiewicz-Nowak, Zofia"


@pytest.mark.parametrize("family,given", [
    ("Côté", "Renée"), ("Иванов", "Дмитрий"), ("Kierkegård-Ølund", "Søren"), ("Łukasiewicz", "Zofia"),
])
def test_new_patients_with_accents_and_non_latin_letters_are_created_and_found(window, qtbot, family, given):
    dlg = NewPatientDialog(window.store, window)
    qtbot.addWidget(dlg)
    for widget, text in ((dlg.mrn, "MRN-7"), (dlg.family, family), (dlg.given, given),
                         (dlg.birth, "1950-02-03"), (dlg.onset, "2024-01-05")):
        widget.setFocus()
        type_into(widget, text)
    dlg.accept()
    assert dlg.problem.text() == "" and dlg.result() == dlg.DialogCode.Accepted, dlg.problem.text()
    assert window.store.get_patient("MRN-7").family_name == family
    search = window.patients.search
    search.setFocus()
    type_into(search, family[:3])
    names = [window.patients.model.index(r, 0).data() for r in range(window.patients.model.rowCount())]
    assert f"{family}, {given}" in names


def test_a_patient_made_from_the_window_is_opened_and_its_row_chosen_in_the_list(window, qtbot, monkeypatch):
    """A new user's report: the new patient opened, but the list still pointed at another row."""
    def fill_and_accept(dlg):
        for widget, text in ((dlg.mrn, "MRN-8"), (dlg.family, "Nowak-Ødegård"), (dlg.given, "Łucja"),
                             (dlg.birth, "1950-02-03"), (dlg.onset, "2024-01-05")):
            widget.setFocus()
            type_into(widget, text)
        dlg.accept()
        return dlg.result()

    monkeypatch.setattr(NewPatientDialog, "exec", fill_and_accept)
    window.new_patient()
    assert window.session.patient.id == "MRN-8"
    current = window.patients.table.currentIndex()
    assert current.isValid() and current.siblingAtColumn(1).data() == "MRN-8"


def test_the_new_patient_form_refuses_bad_input_with_one_clear_line(window, qtbot):
    dlg = NewPatientDialog(window.store, window)
    qtbot.addWidget(dlg)
    dlg.accept()
    assert "MRN: required" in dlg.problem.text()
    dlg.mrn.setText("MRN-0042")
    dlg.accept()
    assert "MRN-0042" in dlg.problem.text()  # already in the chart
    dlg.mrn.setText("MRN-9")
    dlg.birth.setText("1990-13-01")
    dlg.accept()
    assert "Birth date" in dlg.problem.text() and "not a date" in dlg.problem.text()
    dlg.birth.setText("1990-01-01")
    dlg.onset.setText("1980-01-01")
    dlg.accept()
    assert "before birth" in dlg.problem.text()
    dlg.onset.setText("2020-05-01")
    dlg.diagnosis.setText("2019-01-01")
    dlg.accept()
    assert "Diagnosis date" in dlg.problem.text() and "before the onset date" in dlg.problem.text()
    assert window.store.count_patients() == 1


def test_custom_protocols_are_saved_in_the_chart_and_choose_the_rows(window, catalogue):
    save_protocol(window.store, "Hands", ["first_dorsal_interosseous", "abductor_pollicis_brevis"])
    assert "Hands" in protocol_names(window.store.settings())
    assert protocol_muscles("Hands", catalogue, window.store.settings()) == {
        "first_dorsal_interosseous", "abductor_pollicis_brevis"}
    with pytest.raises(ValueError, match="built-in"):
        save_protocol(window.store, "Full catalogue", ["biceps"])
    window.protocol_combo.addItem("Hands")
    window.protocol_combo.setCurrentText("Hands")
    rows = [r.muscle.id for r in window.editor.exam_model.rows if r.muscle]
    assert set(rows) >= {"first_dorsal_interosseous", "abductor_pollicis_brevis"}
    assert "deltoid" not in rows


def test_preferences_store_the_criteria_options_and_reclassify(window, qtbot):
    from desktop.ui.preferences import PreferencesDialog

    dlg = PreferencesDialog(window.store, window)
    qtbot.addWidget(dlg)
    dlg.option_widgets["clinical_lmn_rule"].setCurrentText("weakness or wasting")
    dlg.clinic.setText("Clinique Sainte-Anne")
    dlg.accept()
    assert window.store.criteria_options().clinical_lmn_rule == "weakness_or_wasting"
    assert window.store.settings()["clinic"] == "Clinique Sainte-Anne"


def test_preferences_explain_each_option_in_plain_words_without_identifiers(window, qtbot):
    """Issue 15: no internal identifier in Preferences, and an explanation of each option."""
    import re

    from PySide6.QtWidgets import QComboBox, QLabel

    from desktop.ui.preferences import PreferencesDialog

    dlg = PreferencesDialog(window.store, window)
    qtbot.addWidget(dlg)
    texts = [lb.text() for lb in dlg.findChildren(QLabel)]
    for cb in dlg.findChildren(QComboBox):
        texts += [cb.itemText(i) for i in range(cb.count())]
    joined = "\n".join(texts)
    assert re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", joined) == []
    assert "clinical-rules" not in joined and ".md" not in joined
    assert "no main root in common" in joined and "Weakness alone may be upper motor neuron weakness" in joined


def test_the_screening_protocol_has_a_row_for_every_reflex_the_umn_score_counts(catalogue):
    from desktop.ui.protocols import SCREENING

    rows_of: dict[str, set[str]] = {}
    for m in catalogue.muscles:
        if m.linked_reflex:
            rows_of.setdefault(m.linked_reflex, set()).add(m.id)
    needed = [r.id for r in catalogue.reflexes if r.umn_score and r.id in rows_of]
    assert needed
    for reflex in needed:
        assert rows_of[reflex] & set(SCREENING), f"no screening row records the {reflex} reflex"
    assert set(SCREENING) <= {m.id for m in catalogue.muscles}


def test_the_window_remembers_how_wide_the_clinician_made_the_panel(qtbot, store, catalogue, patient):
    """Issue 15: the panel layout was not remembered."""
    from desktop.ui.main_window import MainWindow

    w = MainWindow(store, catalogue)
    qtbot.addWidget(w)
    w.resize(1500, 900)
    w.show()
    w.open_patient(patient.id)
    sizes = w._split.sizes()
    wanted = [sizes[0] + 120, sizes[1] - 240, sizes[2] + 120]
    w._split.setSizes(wanted)
    got = w._split.sizes()
    w.close()
    again = MainWindow(store, catalogue)
    qtbot.addWidget(again)
    again.resize(1500, 900)
    again.show()
    again.open_patient(patient.id)
    assert again._split.sizes() == got


def test_the_patient_list_keeps_its_width_once_a_visit_is_open(visit_window, qtbot):
    """A new user's report: the list opened about 150 px wide (names cut to "Håkonsen, …", the
    MRN column hidden) because the longest ALSFRS-R wording made the window's middle at least
    1,100 px wide. The list keeps the width it is given and the window the size it asked for."""
    from desktop.ui.main_window import WINDOW_SIZE

    w = visit_window
    w.resize(*WINDOW_SIZE)
    qtbot.waitUntil(lambda: w.width() == WINDOW_SIZE[0], timeout=3000)
    w._split.setSizes([300, 880, 380])
    sizes = w._split.sizes()
    assert sizes[0] >= 280, sizes
    assert w.minimumSizeHint().width() <= WINDOW_SIZE[0]
    table = w.patients.table
    assert table.columnViewportPosition(1) + table.columnWidth(1) <= table.viewport().width()  # the MRN shows


def test_a_refusal_on_the_status_bar_goes_once_an_entry_is_taken(visit_window, qtbot):
    """A new user's report: after "6" was refused and "5-" taken, the bar still said that
    "6" is not an MRC grade, as if the last entry had been refused."""
    w = visit_window
    model = w.editor.exam_model
    idx = model.index(model.row_of("deltoid"), model.column_of("mrc", "left"))
    assert not model.setData(idx, "6")
    assert "not an MRC grade" in w.statusBar().currentMessage()
    assert model.setData(idx, "5-")
    qtbot.waitUntil(lambda: model.index(idx.row(), idx.column()).data() == "5-", timeout=3000)
    assert w.statusBar().currentMessage() == ""
    w.show_message("Saved.")  # other messages are left alone by entries
    assert model.setData(idx, "4")
    assert w.statusBar().currentMessage() == "Saved."
