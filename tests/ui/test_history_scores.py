"""ALSFRS-R in the history and scores view: each visit shows its own scale, and items scored
so far are kept until all 12 are (the visit stores the scale whole)."""

from __future__ import annotations

import datetime as dt

from domain.case import ALSFRS_ITEMS, AlsfrsR, Patient, Visit
from tests.ui.keys import type_into

D1, D2 = dt.date(2025, 3, 1), dt.date(2025, 9, 1)
FULL = AlsfrsR(speech=4, salivation=4, swallowing=4, handwriting=2, cutting_food=2, gastrostomy=False,
               dressing_hygiene=2, turning_in_bed=3, walking=3, climbing_stairs=3, dyspnea=4,
               orthopnea=4, respiratory_insufficiency=4)


def shown(window) -> dict:
    hv = window.editor.history_view
    return {k: hv.items[k].currentText().split(" ")[0] for k in ALSFRS_ITEMS}  # "2 Not all words are legible" -> "2"


def score(window, item: str, value: str) -> None:
    """Type a score into an item's box, as a user would."""
    type_into(window.editor.history_view.items[item], value)


def test_a_new_visit_never_shows_or_saves_another_visits_alsfrs_r(window, store, patient):
    store.save_visit(patient.id, Visit(date=D1, alsfrs_r=FULL))
    window.session.open_patient(patient.id)
    assert shown(window)["handwriting"] == "2"
    assert window.session.new_visit(D2, copy_from_previous=False)
    assert set(shown(window).values()) == {"·"}
    assert "not scored" in window.editor.history_view.total.text()
    score(window, "speech", "3")
    assert store.get_visit(patient.id, D2).alsfrs_r is None  # one item is not a scale
    assert store.get_visit(patient.id, D1).alsfrs_r == FULL


def test_nor_another_patients(window, store, patient):
    store.save_visit(patient.id, Visit(date=D1, alsfrs_r=FULL))
    other = Patient(id="MRN-0099", family_name="Παπαδοπούλου", given_names="Ελένη")
    store.add_patient(other)
    store.save_visit(other.id, Visit(date=D2))
    window.session.open_patient(patient.id)  # reload: its latest visit has the scale
    assert shown(window)["handwriting"] == "2"
    window.open_patient(other.id)
    assert set(shown(window).values()) == {"·"}


def test_items_scored_so_far_are_kept_across_visits_and_reopening(window, store, patient, qtbot, catalogue):
    store.save_visit(patient.id, Visit(date=D1, alsfrs_r=FULL))
    window.session.open_patient(patient.id)
    assert window.session.new_visit(D2, copy_from_previous=False)
    for item, value in zip(ALSFRS_ITEMS[:5], "43210"):
        score(window, item, value)
    assert "5 of 12 items" in window.editor.history_view.total.text()
    assert "Total" not in window.editor.history_view.total.text()  # no total for part of the scale
    window.session.open_visit(D1)
    assert shown(window)["handwriting"] == "2"
    window.session.open_visit(D2)
    assert list(shown(window).values())[:6] == ["4", "3", "2", "1", "0", "·"]

    from desktop.ui.main_window import MainWindow

    again = MainWindow(store, catalogue)  # the chart reopened
    qtbot.addWidget(again)
    again.open_patient(patient.id)
    again.session.open_visit(D2)
    assert list(shown(again).values())[:6] == ["4", "3", "2", "1", "0", "·"]
    for item in ALSFRS_ITEMS[5:]:
        score(again, item, "4")
    stored = store.get_visit(patient.id, D2).alsfrs_r
    assert stored is not None and stored.total == 4 + 3 + 2 + 1 + 0 + 7 * 4
    assert not [k for k in store.settings() if k.startswith("alsfrs_draft:")]  # nothing left behind


def test_alsfrs_r_grades_carry_their_wording_and_item_5_follows_the_gastrostomy_box(visit_window):
    """Issue 15: the dropdowns showed 0-4 without the item wording."""
    hv = visit_window.editor.history_view
    speech = hv.items["speech"]
    assert [speech.itemText(i) for i in range(1, 6)] == [
        "0 Loss of useful speech", "1 Speech combined with non-vocal communication",
        "2 Intelligible with repeating", "3 Detectable speech disturbance", "4 Normal speech processes"]
    hv.gastrostomy.setChecked(True)
    assert hv.items["cutting_food"].itemText(1) == "0 Unable to perform any aspect of the task"
    assert hv.item_labels["cutting_food"].text() == "5b Handling gastrostomy utensils"
    hv.gastrostomy.setChecked(False)
    assert hv.items["cutting_food"].itemText(1) == "0 Needs to be fed"
