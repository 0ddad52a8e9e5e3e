"""The visit report prints the visit's warnings (missing or inconsistent data) in a "Warnings"
section under the conclusion, and nothing about warnings when the visit has none."""

import datetime as dt

from desktop.reports.visit import build_visit_report
from tests.builders import alsfrs, case, classify, visit, wasted
from tests.reports.pdf_helpers import PRINTED_AT, flat, sample_case, text

GASTROSTOMY = "ALSFRS-R item 5b records a gastrostomy; no gastrostomy date is recorded."
V1, V2 = dt.date(2025, 3, 1), dt.date(2025, 6, 1)


def warned_case():
    """No gastrostomy or NIV date; the first visit scores item 5b and respiratory insufficiency
    3, the second scores neither."""
    return case(visit("2025-03-01", wasted("biceps"),
                      alsfrs_r=alsfrs(gastrostomy=True, respiratory_insufficiency=3)),
                visit("2025-06-01", wasted("biceps"), alsfrs_r=alsfrs()))


def report_text(c, date) -> str:
    return text(build_visit_report(c, classify(c), date, printed_at=PRINTED_AT))


def test_the_report_prints_every_warning_in_a_warnings_section_under_the_conclusion():
    c = warned_case()
    warnings = classify(c).visits[0].warnings
    assert GASTROSTOMY in warnings and len(warnings) == 2
    t = report_text(c, V1)
    conclusion, heading, regions = t.index("Conclusion:"), t.index("Warnings"), t.index("Regions Region")
    assert conclusion < heading < regions
    for w in warnings:
        assert conclusion < t.index(flat(w)) < regions, w


def test_a_visit_without_warnings_has_no_warnings_section_even_when_another_visit_has():
    c = warned_case()
    assert classify(c).visits[1].warnings == ()
    t = report_text(c, V2)
    assert "warning" not in t.lower()
    assert "no gastrostomy date" not in t


def test_the_sample_reports_say_nothing_about_warnings():
    c = sample_case()
    for vc in classify(c).visits:
        assert vc.warnings == ()
        assert "warning" not in report_text(c, vc.date).lower()
