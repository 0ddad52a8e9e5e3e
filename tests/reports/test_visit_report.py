"""The visit report read back from the PDF: who, when, what the classifier concluded and why."""

import datetime as dt

import pytest

from desktop.reports.common import ReportError, ReportMeta
from desktop.reports.visit import build_visit_report
from desktop.present.criteria import criterion_headline, criterion_lines
from domain.criteria import REGISTRY
from tests.builders import classify
from tests.reports.pdf_helpers import PRINTED_AT, flat, fonts, media_box, page_count, reader, sample_case, text

V1, V2 = dt.date(2025, 3, 1), dt.date(2025, 7, 10)
SIGNED = ReportMeta("signed", "Dr Renée Côté", dt.datetime(2025, 7, 11, 9, 30, tzinfo=dt.timezone.utc))


def report(c=None, date=V2, **kw):
    c = c or sample_case()
    kw.setdefault("printed_at", PRINTED_AT)
    return build_visit_report(c, classify(c), date, **kw)


@pytest.mark.parametrize("given,family,printed", [
    ("Zofia", "Łukasiewicz-Nowak", "Zofia Łukasiewicz-Nowak"), ("Renée", "Côté", "Renée Côté"),
    ("Дмитрий", "Иванов", "Дмитрий Иванов"), ("Søren", "Kierkegård-Ølund", "Søren Kierkegård-Ølund"),
    ("花子", "山田", "山田 花子"), ("민준", "김", "김 민준"), ("Ελένη", "Παπαδοπούλου", "Ελένη Παπαδοπούλου"),
])
def test_the_report_prints_the_patient_name_in_any_script_and_the_visit_date(given, family, printed):
    t = text(report(sample_case(given, family), meta=SIGNED, clinic="Clinique Saint-Éloi"))
    assert printed in t
    assert "MRN-0042" in t
    assert "2025-07-10" in t
    assert "Clinique Saint-Éloi" in t
    assert "Dr Renée Côté" in t


def test_the_header_gives_the_age_at_the_visit():
    assert "age 64 at the visit" in text(report())


@pytest.mark.parametrize("date", [V1, V2])
def test_each_criterion_result_and_every_reason_is_printed_verbatim(date):
    c = sample_case()
    vc = next(v for v in classify(c).visits if v.date == date)
    t = text(report(c, date))
    for cid in REGISTRY:
        assert flat(criterion_headline(cid, vc)) in t
        assert vc.criteria[cid].reasons, "the classifier always explains itself"
        for reason in criterion_lines(cid, vc):  # reason first, then the classifier's evidence
            assert flat(reason.text) in t
        evidence = [r for r in vc.criteria[cid].reasons if r.text[:2] not in ("1.", "2.", "3.")][1:]
        for reason in evidence:
            assert flat(reason.text) in t


def test_the_conclusion_line_names_every_framework():
    c = sample_case()
    vc = classify(c).visits[1]
    expected = "Conclusion: " + "; ".join(flat(criterion_headline(cid, vc)) for cid in REGISTRY) + "."
    assert expected in text(report(c))


def test_the_examination_emg_reflexes_signs_and_alsfrs_are_printed():
    t = text(report())
    for expected in ("First dorsal interosseous", "Tibialis anterior", "Gastrocnemius (medial head)",
                     "Babinski sign (extensor plantar)", "4 (brisk)", "other cause", "2 Salivation: 4",
                     "Subscore", "FVC 81% predicted", "weight 69 kg", "Cramps in both calves.",
                     "King's stage (clinical)", "MRC sum score", "Phenotype", "Body map"):
        assert expected in t, expected


def test_every_font_is_embedded_and_none_is_helvetica():
    used = fonts(report(sample_case("Дмитрий", "Иванов")))
    assert used, "the walk found the fonts"
    assert all(used.values()), used
    assert not any("Helvetica" in name or "Times" in name for name in used)


def test_letters_dejavu_lacks_print_in_the_embedded_fallback_font_on_every_page_and_only_then():
    """A new user's report: 山田 花子 printed as empty boxes, in the header and in every page's
    footer. The fallback (Droid Sans Fallback) is embedded only when a report needs it."""
    pdf = report(sample_case("花子", "山田"), meta=SIGNED)
    used = fonts(pdf)
    fallback = [name for name in used if "DroidSansFallback" in name]
    assert fallback and all(used[name] for name in fallback)
    pages = reader(pdf).pages
    assert len(pages) > 1
    for page in pages:  # the footer names the patient on each page
        assert "山田 花子" in " ".join((page.extract_text() or "").split())  # (family name first)
    assert not [name for name in fonts(report(sample_case("Zofia", "Łukasiewicz-Nowak"))) if "Droid" in name]


def test_a_draft_is_marked_draft_on_every_page():
    pdf = report(meta=ReportMeta("draft"))
    for page in reader(pdf).pages:
        assert "DRAFT" in page.extract_text()


def test_a_signed_visit_is_not_marked_draft():
    t = text(report(meta=SIGNED))
    assert "DRAFT" not in t and "draft" not in t.lower()
    assert "Signed by Dr Renée Côté on 2025-07-11 09:30 UTC." in t


def test_an_amended_visit_says_so_with_its_reason():
    meta = ReportMeta("amended", "Dr Renée Côté", dt.datetime(2025, 7, 12, 8, 0, tzinfo=dt.timezone.utc),
                      "Knee reflex recorded on the wrong side")
    t = text(report(meta=meta))
    assert "Amended record" in t
    assert "Reason for the amendment: Knee reflex recorded on the wrong side." in t
    assert "DRAFT" not in t


def test_a_signed_report_carries_no_amendment_note():
    assert "Amended" not in text(report(meta=SIGNED))


def test_every_page_says_page_x_of_y_and_the_time_printed():
    pdf = report()
    pages = reader(pdf).pages
    assert page_count(pdf) == len(pages) >= 2
    for n, page in enumerate(pages, start=1):
        t = flat(page.extract_text())
        assert f"page {n} of {len(pages)}" in t
        assert "Printed 2025-08-01 14:05 UTC" in t


@pytest.mark.parametrize("size,expected", [("A4", (595.3, 841.9)), ("letter", (612.0, 792.0))])
def test_a4_and_letter_give_their_paper_size(size, expected):
    w, h = media_box(report(page_size=size))
    assert (round(w, 1), round(h, 1)) == expected


def test_an_unknown_page_size_is_refused():
    with pytest.raises(ReportError, match="page size"):
        report(page_size="A3")


def test_a_date_without_a_visit_is_refused_with_the_patient_and_date():
    with pytest.raises(ReportError, match="no visit on 2025-05-05 for patient MRN-0042"):
        report(date=dt.date(2025, 5, 5))


def test_a_visit_without_alsfrs_r_says_it_was_not_recorded():
    t = text(report(sample_case(with_alsfrs=False)))
    assert "ALSFRS-R not recorded at this visit." in t
    assert "FVC not recorded" in t


def test_the_same_input_gives_the_same_bytes():
    assert report(meta=SIGNED) == report(meta=SIGNED)


def test_the_time_printed_is_the_one_passed_in():
    later = dt.datetime(2026, 1, 2, 3, 4)
    assert "Printed 2026-01-02 03:04" in text(report(printed_at=later))
