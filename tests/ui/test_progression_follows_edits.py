"""The progression tab shows the chart as it is now, not as it was when the patient was opened."""

from domain.case import MuscleFinding


def edit_mrc(window, grade):
    s = window.session
    s.request_edit(s.visit.model_copy(update={"muscles": (
        MuscleFinding(muscle="deltoid", side="left", mrc=grade, wasting="mild"),)}))


def test_an_edit_redraws_the_progression_view_on_screen(visit_window):
    w = visit_window
    edit_mrc(w, "4")
    w.show_view(w.ensure_progression())
    assert w.progression.result.visits[-1].evidence.muscles[0].finding.mrc == "4"
    edit_mrc(w, "2")
    assert w.progression.result.visits[-1].evidence.muscles[0].finding.mrc == "2"


def test_a_hidden_progression_view_catches_up_when_shown(visit_window):
    w = visit_window
    w.show_view(w.ensure_progression())
    w.show_view(w.editor.exam_view)
    edit_mrc(w, "3")
    w.show_view(w.progression)
    assert w.progression.result.visits[-1].evidence.muscles[0].finding.mrc == "3"
