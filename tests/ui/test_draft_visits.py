"""Issue 14: a draft visit is deleted (after a question) or re-dated from the Visit menu; a
signed visit is refused with the store's message; every view shows the chart as it now is."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QInputDialog, QMessageBox

from desktop.ui.labels import REGION_LABELS
from domain.case import MuscleFinding, Visit

V1, V2, V3 = dt.date(2025, 1, 10), dt.date(2025, 3, 10), dt.date(2025, 5, 10)


@pytest.fixture
def three(window, store, patient):
    """Visits on V1 (signed), V2 and V3 (drafts; V3 has a weak wasted deltoid), V3 open and the
    progression view on screen (a hidden one catches up when shown)."""
    store.save_visit(patient.id, Visit(date=V1))
    store.sign_visit(patient.id, V1, clinician="Dr Renée Côté")
    store.save_visit(patient.id, Visit(date=V2))
    store.save_visit(patient.id, Visit(date=V3, muscles=(
        MuscleFinding(muscle="deltoid", side="left", mrc="3", wasting="moderate"),)))
    window.session.open_patient(patient.id)
    window.protocol_combo.setCurrentText("Full catalogue")
    window.show_view(window.ensure_progression())
    return window


def combo_dates(w) -> list[str]:
    return [w.visit_combo.itemText(i) for i in range(w.visit_combo.count())]


def answer(monkeypatch, button):
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or button)
    return asked


def cervical_lmn(w) -> str:
    """The panel's LMN cell for the cervical region."""
    t = w.panel.regions
    row = next(r for r in range(t.rowCount()) if t.item(r, 0).text() == REGION_LABELS["cervical"])
    return t.item(row, 2).text()


def deltoid_mrc(w) -> str:
    m = w.editor.exam_model
    return m.index(m.row_of("deltoid"), m.column_of("mrc", "left")).data()


def test_deleting_a_draft_asks_first_then_every_view_shows_the_visit_gone(three, store, monkeypatch):
    w = three
    assert combo_dates(w) == ["2025-05-10", "2025-03-10", "2025-01-10"] and deltoid_mrc(w) == "3"
    assert cervical_lmn(w) == "LMN" and w.progression.overview.title.text().endswith("3 visits")
    answer(monkeypatch, QMessageBox.StandardButton.No)
    w.delete_visit_action.trigger()
    assert store.visit_dates("MRN-0042") == [V1, V2, V3]  # kept: the question was answered No

    asked = answer(monkeypatch, QMessageBox.StandardButton.Yes)
    w.delete_visit_action.trigger()
    assert asked == ["Delete the draft visit of 2025-05-10 with everything recorded in it? This cannot be undone."]
    assert store.visit_dates("MRN-0042") == [V1, V2]
    s = w.session
    assert s.visit.date == V2 and V3 not in s.visits  # another visit opened
    assert combo_dates(w) == ["2025-03-10", "2025-01-10"] and w.visit_combo.currentText() == "2025-03-10"
    assert deltoid_mrc(w) == "·"  # the grid shows V2
    assert w.editor.exam_model.visit.date == V2
    assert [vc.date for vc in s.case_classification.visits] == [V1, V2]
    assert cervical_lmn(w) == "·"  # the panel classifies V2
    assert "Visit 2025-03-10" in w.header.text()
    assert w.progression.overview.title.text().endswith("2 visits")  # the progression view follows
    assert [r.n_visits for r in store.search_patients("")] == [2]
    assert w.patients.model.index(0, 3).data() == "2" and w.patients.model.index(0, 4).data() == "2025-03-10"
    assert w.statusBar().currentMessage() == "The draft visit of 2025-05-10 was deleted."


def test_a_signed_visit_is_not_deleted_and_the_store_says_why(three, store, monkeypatch):
    w = three
    w.session.open_visit(V1)
    asked = answer(monkeypatch, QMessageBox.StandardButton.Yes)
    w.delete_visit_action.trigger()
    assert asked == []  # nothing to confirm: it cannot be deleted
    assert w.statusBar().currentMessage() == "the visit of 2025-01-10 is signed and cannot be deleted"
    assert store.visit_dates("MRN-0042") == [V1, V2, V3] and w.session.visit.date == V1


def test_deleting_the_only_visit_leaves_no_visit_open(window, store, monkeypatch):
    w = window
    assert w.session.new_visit(V2, copy_from_previous=False)
    answer(monkeypatch, QMessageBox.StandardButton.Yes)
    w.delete_visit_action.trigger()
    assert store.visit_dates("MRN-0042") == [] and w.session.visit is None
    assert combo_dates(w) == [] and w.editor.exam_model.visit is None
    assert not w.delete_visit_action.isEnabled() and not w.redate_action.isEnabled()
    assert not w.undo_action.isEnabled()  # its creation is not undone into a deleted visit


def test_change_date_moves_a_draft_everywhere_and_refusals_are_shown(three, store, monkeypatch):
    w = three
    typed = iter(["2025-06-02", "2025-01-10", "2999-01-01", "10 May"])
    prompts = []

    def get_text(*a, **k):
        prompts.append(k.get("text"))
        return next(typed), True

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    w.redate_action.trigger()
    assert prompts == ["2025-05-10"]
    assert store.visit_dates("MRN-0042") == [V1, V2, dt.date(2025, 6, 2)]
    assert store.get_visit("MRN-0042", dt.date(2025, 6, 2)).muscles[0].mrc == "3"
    assert w.session.visit.date == dt.date(2025, 6, 2) and deltoid_mrc(w) == "3"
    assert combo_dates(w) == ["2025-06-02", "2025-03-10", "2025-01-10"]
    assert w.visit_combo.currentText() == "2025-06-02"
    assert "Visit 2025-06-02" in w.header.text()
    assert w.patients.model.index(0, 4).data() == "2025-06-02"
    assert w.progression.overview.case.visits[-1].date == dt.date(2025, 6, 2)
    assert w.statusBar().currentMessage() == "The visit of 2025-05-10 is now dated 2025-06-02."

    w.redate_action.trigger()  # a date another visit has
    assert w.statusBar().currentMessage() == (
        "the visit of 2025-06-02 cannot move to 2025-01-10: there is already a visit on 2025-01-10")
    w.redate_action.trigger()
    assert "is in the future" in w.statusBar().currentMessage()
    w.redate_action.trigger()
    assert w.statusBar().currentMessage() == "'10 May' is not a date: type YYYY-MM-DD."
    assert store.visit_dates("MRN-0042") == [V1, V2, dt.date(2025, 6, 2)]

    w.session.open_visit(V1)  # signed
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("2025-01-11", True))
    w.redate_action.trigger()
    assert w.statusBar().currentMessage() == "the visit of 2025-01-10 is signed: its date cannot be changed"
    assert store.visit_dates("MRN-0042") == [V1, V2, dt.date(2025, 6, 2)]


def test_the_edit_menu_offers_to_undo_a_new_visit(window, store, monkeypatch):
    w = window
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("2025-03-01", True))
    w.new_visit(copy=False)
    undo = next(a for a in w._edit_menu.actions() if a.text().startswith("&Undo"))
    assert undo.isEnabled() and undo.text() == "&Undo New visit 2025-03-01"
    undo.trigger()
    assert store.visit_dates("MRN-0042") == [] and combo_dates(w) == []
    assert w.patients.model.index(0, 3).data() == "0"
