"""Issue 14: the session tells the views what changed with one signal per operation, carrying
what the operation changed, and each view updates only from that (no view diffs on its own)."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.ui.session import SessionChanges
from domain.case import MuscleFinding, Visit

V1, V2 = dt.date(2025, 1, 10), dt.date(2025, 3, 10)


class Heard:
    def __init__(self, session):
        self.all: list[SessionChanges] = []
        session.changed.connect(self._on)

    def _on(self, changes) -> None:
        self.all.append(changes)

    def take(self) -> list[SessionChanges]:
        out, self.all = self.all, []
        return out


@pytest.fixture
def two(window, store, patient):
    store.save_visit(patient.id, Visit(date=V1))
    store.save_visit(patient.id, Visit(date=V2))
    window.session.open_patient(patient.id)
    return window


def only(heard) -> SessionChanges:
    (ch,) = heard.take()  # exactly one signal for the operation
    return ch


def test_each_operation_sends_one_signal_saying_what_changed(two, store):
    w = two
    s = w.session
    heard = Heard(s)
    s.request_edit(s.visit.model_copy(update={"muscles": (MuscleFinding(muscle="deltoid", side="left", mrc="4"),)}))
    assert only(heard) == SessionChanges(findings=True, classification=True)
    w.undo_action.trigger()
    assert only(heard) == SessionChanges(findings=True, classification=True)

    s.open_visit(V1)
    assert only(heard) == SessionChanges(visit=True, findings=True, state=True, classification=True)
    assert s.new_visit(dt.date(2025, 5, 1), copy_from_previous=False)
    assert only(heard) == SessionChanges(visits=True, visit=True, findings=True, state=True, classification=True)
    assert s.redate_visit(dt.date(2025, 5, 2))
    assert only(heard).visits
    assert s.delete_visit()
    ch = only(heard)
    assert ch.visits and ch.visit and ch.classification and not ch.patient

    s.update_patient(s.patient.model_copy(update={"gastrostomy_date": dt.date(2025, 2, 1)}))
    assert only(heard) == SessionChanges(patient=True, classification=True)
    s.update_patient(s.patient.model_copy(update={"id": "MRN-7"}))
    assert only(heard) == SessionChanges(patient=True, classification=True, renamed_from="MRN-0042")

    s.open_patient("MRN-7")
    ch = only(heard)
    assert ch.opened and ch.visits and ch.visit and ch.classification

    assert not s.new_visit(dt.date(2025, 1, 10), copy_from_previous=False)  # taken: refused
    assert heard.take() == []  # nothing changed, nothing said


def test_an_edit_leaves_the_visit_list_and_the_patient_list_alone(two):
    w = two
    s = w.session
    combo_item = w.visit_combo.model().index(0, 0)
    rows = []
    w.patients.model.rowsInserted.connect(lambda *a: rows.append("refilled"))
    w.visit_combo.model().rowsRemoved.connect(lambda *a: rows.append("removed"))
    s.request_edit(s.visit.model_copy(update={"notes": "Zoë's wrist"}))
    assert rows == [] and combo_item.isValid()
    assert s.delete_visit()  # a visit gone: both lists follow, in the same operation
    assert "refilled" in rows and "removed" in rows
