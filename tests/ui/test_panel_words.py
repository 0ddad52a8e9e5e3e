"""Issue 15: the panel takes its words from the presentation package; no internal identifier
reaches the reader (pending items, onset region, option values, states)."""

from __future__ import annotations

import re

from domain.case import Emg, MuscleFinding, ReflexFinding, Visit

IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def _texts(w) -> list[str]:
    panel = w.panel
    out = [panel.signed_label.text(), panel.warnings_text.text()]
    t = panel.regions
    out += [t.item(r, c).text() for r in range(t.rowCount()) for c in range(t.columnCount()) if t.item(r, c)]
    s = panel.scores
    out += [s.item(r, c).text() for r in range(s.rowCount()) for c in range(2) if s.item(r, c)]
    out += [s.item(r, 1).toolTip() for r in range(s.rowCount()) if s.item(r, 1)]
    tree = panel.criteria

    def walk(item):
        out.append(item.text(0))
        out.append(item.toolTip(0))
        for i in range(item.childCount()):
            walk(item.child(i))

    for i in range(tree.topLevelItemCount()):
        walk(tree.topLevelItem(i))
    return out


def test_the_panel_shows_no_internal_identifier_and_names_what_is_pending(visit_window):
    w = visit_window
    v = Visit(date=w.session.visit.date, progressive_by_history=None, alternatives_excluded=None,
              muscles=(MuscleFinding(muscle="triceps", side="right", mrc="4+", wasting="none"),
                       MuscleFinding(muscle="first_dorsal_interosseous", side="right", mrc="4", wasting="moderate"),
                       MuscleFinding(muscle="extensor_digitorum", side="right",
                                     emg=Emg(fibrillations=1, mup_large=False))),
              reflexes=(ReflexFinding(reflex="biceps", side="right", grade=4),
                        ReflexFinding(reflex="triceps", side="left", grade=3)))
    assert w.session.request_edit(v)
    texts = _texts(w)
    joined = "\n".join(texts)
    assert IDENTIFIER.findall(joined) == [], IDENTIFIER.findall(joined)
    assert "Pending: other causes excluded" in texts
    assert "Not met: progressive motor impairment not shown (not recorded by history, not seen across visits)" in joined
    assert "Triceps reflex L 3: brisk, not counted" in joined
    header = w.header.text() if hasattr(w, "header") else ""
    assert "upper_limb" not in header


def test_no_criteria_line_is_cut_off_and_the_selected_one_is_shown_whole(visit_window):
    """Issue 15: criteria lines were truncated."""
    w = visit_window
    v = Visit(date=w.session.visit.date,
              muscles=(MuscleFinding(muscle="first_dorsal_interosseous", side="right", mrc="4", wasting="moderate"),),
              reflexes=(ReflexFinding(reflex="biceps", side="right", grade=4),))
    assert w.session.request_edit(v)
    tree = w.panel.criteria
    top = tree.topLevelItem(0)
    for i in range(top.childCount()):
        item = top.child(i)
        assert "…" not in item.text(0) and item.toolTip(0) in item.text(0)
    longest = max((top.child(i) for i in range(top.childCount())), key=lambda it: len(it.text(0)))
    tree.setCurrentItem(longest)
    assert w.panel.reason_text.text() == longest.text(0) and not w.panel.reason_text.isHidden()
    assert tree.header().sectionSize(0) >= 1600
