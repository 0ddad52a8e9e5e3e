"""A signed visit in the window (issue 13): the panel shows the result as signed, says
"Recomputed" when today's computation differs, and carried EMG names its study date."""

from __future__ import annotations

import datetime as dt

from domain.case import Emg, MuscleFinding, ReflexFinding, Visit
from domain.options import Options

D1 = dt.date(2025, 3, 1)


def _sensitive(w):
    """Clinically possible by default, probable when weakness alone is clinical LMN."""
    v = Visit(date=D1, progressive_by_history=True, alternatives_excluded=True,
              muscles=(MuscleFinding(muscle="first_dorsal_interosseous", side="right", mrc="4", wasting="moderate"),
                       MuscleFinding(muscle="quadriceps", side="left", mrc="4", wasting="none")),
              reflexes=(ReflexFinding(reflex="biceps", side="right", grade=4),))
    assert w.session.request_edit(v)
    w.sign_visit()
    assert w.session.status == "signed"


def test_the_panel_shows_the_signed_result_and_says_recomputed_after_an_option_change(visit_window):
    w = visit_window
    _sensitive(w)
    panel = w.panel
    assert "signed by Dr Renée Côté" in panel.signed_shown() and "Recomputed" not in panel.signed_shown()
    w.session.store.set_criteria_options(Options(clinical_lmn_rule="weakness_or_wasting"))
    w.session.set_options(w.session.store.criteria_options())
    assert w.session.classification.criteria["el_escorial"].category == "possible"  # as signed
    assert "Clinically possible" in panel.criterion_text("el_escorial")
    shown = panel.signed_shown()
    assert "Recomputed today: Revised El Escorial probable (signed: possible)" in shown
    assert "Clinical LMN sign in a muscle (El Escorial, Awaji): wasting required -> weakness or wasting" in shown


def test_a_draft_shows_no_signed_banner(visit_window):
    assert visit_window.panel.signed_shown() == ""


def test_copy_forward_keeps_the_emg_study_date_and_the_emg_grid_names_it(visit_window):
    w = visit_window
    v = Visit(date=D1, muscles=(MuscleFinding(muscle="deltoid", side="left",
                                              emg=Emg(fibrillations=2, mup_large=True)),))
    assert w.session.request_edit(v)
    assert w.session.new_visit(dt.date(2025, 9, 1), copy_from_previous=True)
    carried = w.session.visit.muscles[0].emg
    assert carried.study_date == D1
    model = w.editor.emg_view.model()
    row = model.row_of("deltoid")
    assert model.index(row, 0).data().endswith("EMG of 2025-03-01")
    exam = w.editor.exam_view.model()
    assert "EMG of" not in exam.index(exam.row_of("deltoid"), 0).data()
