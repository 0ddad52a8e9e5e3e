"""Issue 15: what the reader is told about each finding, the same in the terminal summary and
the reports, and no internal identifier in what the reader sees."""

from __future__ import annotations

import re

from desktop.present.findings import finding_words
from desktop.present.words import OPTION_TEXT, onset_words, pending_words
from desktop.summary import render_summary
from domain.options import Options
from tests.builders import case, classify, emg_lmn, m, r, visit

IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def mixed_bag():
    """A weak muscle without wasting, an EMG-abnormal muscle meeting no criterion, an
    unexamined muscle and a grade-3 reflex without spread."""
    return case(visit(
        "2025-03-01",
        m("triceps", "right", "4+", "none"),
        emg_lmn("extensor_digitorum", "right", fibrillations=1, positive_sharp_waves=0, mup_large=False,
                fasciculation_potentials="absent", recruitment="normal"),
        m("deltoid", "left"),
        r("biceps", "right", 3),
        progressive=None, excluded=None,
    ), onset_region="upper_limb")


def test_each_muscle_is_described_by_what_it_shows():
    vc = classify(mixed_bag()).visits[0]
    words = {s.label: finding_words(s) for s in vc.evidence.muscles}
    assert words == {
        "Triceps R": "weak, not wasted",
        "Extensor digitorum communis R": "EMG abnormal, not LMN by any criteria",
        "Deltoid L": "not examined",
    }


def test_the_summary_says_the_words_for_each_finding_and_the_uncounted_reflex():
    c = mixed_bag()
    text = render_summary(c, classify(c))
    assert "Triceps R: weak, not wasted (MRC 4+, wasting none)" in text
    assert "Extensor digitorum communis R: EMG abnormal, not LMN by any criteria" in text
    assert "Deltoid L: not examined" in text
    assert "Biceps reflex R 3: brisk, not counted (a 3 counts only with spread" in text
    assert "Gold Coast: not met" in text and "- Not met: progressive motor impairment not shown" in text
    assert "(upper limb)" in text and "pending: progression, other causes excluded" not in text


def test_the_summary_shows_no_internal_identifier():
    c = mixed_bag()
    text = render_summary(c, classify(c))
    assert IDENTIFIER.findall(text) == []


def test_every_option_has_a_label_an_explanation_and_words_for_its_values():
    assert set(OPTION_TEXT) == set(Options.model_fields)
    for name, (label, explanation, values) in OPTION_TEXT.items():
        assert label and explanation.endswith(".") and not IDENTIFIER.search(label + explanation)
        for v in values.values():
            assert not IDENTIFIER.search(v), (name, v)


def test_identifiers_become_words():
    assert onset_words("trunk_axial") == "trunk (axial)" and onset_words("upper_limb") == "upper limb"
    assert pending_words(("progression", "alternatives_excluded")) == "progression, other causes excluded"


def _pdfs(c):
    import datetime as dt

    from desktop.reports.progression import build_progression_report
    from desktop.reports.visit import build_visit_report
    from tests.reports.pdf_helpers import text

    res = classify(c)
    at = dt.datetime(2026, 12, 2, 9, tzinfo=dt.timezone.utc)
    visit = " ".join(text(build_visit_report(c, res, c.visits[0].date, printed_at=at)).split())
    progression = " ".join(text(build_progression_report(c, res, printed_at=at)).split())
    return visit, progression


def test_the_visit_report_says_the_words_for_each_finding_and_the_uncounted_reflex():
    visit, _ = _pdfs(mixed_bag())
    assert "Triceps 4+ none \u00b7 weak, not wasted" in visit
    assert "Extensor digitorum communis \u00b7 \u00b7 \u00b7 EMG abnormal, not LMN by any criteria" in visit
    assert "Deltoid \u00b7 \u00b7 \u00b7 not examined" in visit
    assert "Biceps reflex R 3: brisk, not counted (a 3 counts only with spread" in visit
    assert "Not met: progressive motor impairment not shown" in visit
    table = visit.split("Finding MRC Wasting Fasc. Finding")[1].split("EMG Muscle")[0]
    assert not re.search(r"\bnormal\b", table)  # no muscle here is normal


def test_neither_report_shows_an_internal_identifier():
    visit, progression = _pdfs(mixed_bag())
    for t in (visit, progression):
        # Option names are shown as the reader would type them only in `motorchart options`.
        found = [w for w in IDENTIFIER.findall(t) if w not in OPTION_TEXT]
        assert found == [], found


def test_the_presentation_words_are_templates_a_translation_can_replace(monkeypatch):
    """Issue 15: messages are templates with parameters; replacing one changes what is shown."""
    from desktop.present import messages
    from desktop.present.criteria import criterion_lines

    vc = classify(mixed_bag()).visits[0]
    monkeypatch.setitem(messages.MESSAGES, "finding.weak", "faible, sans amyotrophie")
    monkeypatch.setitem(messages.MESSAGES, "criterion.not_met_because", "Non rempli : {why}.")
    words = {s.label: finding_words(s) for s in vc.evidence.muscles}
    assert words["Triceps R"] == "faible, sans amyotrophie"
    assert criterion_lines("gold_coast", vc)[0].text.startswith("Non rempli : ")
