"""The progression report read back from the PDF: plots, the region-by-visit matrix, criteria
and stages per visit, for one visit, thirty visits and a patient without ALSFRS-R."""



from desktop.reports.progression import build_progression_report
from domain.criteria import REGISTRY
from tests.builders import classify
from tests.reports.pdf_helpers import PRINTED_AT, fonts, long_case, media_box, page_count, reader, sample_case, text


def report(c, **kw):
    kw.setdefault("printed_at", PRINTED_AT)
    return build_progression_report(c, classify(c), **kw)


def test_the_report_names_the_patient_and_shows_every_plot_and_table():
    t = text(report(sample_case("Søren", "Kierkegård-Ølund"), clinic="Clinique Saint-Éloi"))
    for expected in ("Søren Kierkegård-Ølund", "MRN-0042", "Clinique Saint-Éloi", "Progression report",
                     "ALSFRS-R total", "ALSFRS-R subscores", "Bulbar", "Fine motor", "Gross motor",
                     "Respiratory", "MRC sum score", "FVC", "Weight", "Regions by visit",
                     "Criteria and stages by visit", "2025-03-01", "2025-07-10"):
        assert expected in t, expected
    for cid in REGISTRY:
        assert REGISTRY[cid].label in t


def test_the_onset_region_is_marked_and_each_cell_says_none_umn_lmn_or_both():
    c = sample_case()
    t = text(report(c))
    assert "Cervical (onset)" in t
    # Visit 2: the bulbar tongue examined and normal; cervical wasting without an UMN sign this
    # time; thoracic not examined; the legs EMG LMN with a brisk knee and Babinski.
    row = t[t.index("2025-07-10", t.index("Regions by visit")):]
    assert row.split()[1:7] == ["none", "LMN", "not", "examined", "both", "lumbosacral"]


def test_the_highest_criteria_reached_are_given_with_their_dates():
    c = sample_case()
    cl = classify(c)
    t = text(report(c))
    for cid, (res, date) in cl.highest.items():
        if res is not None:
            assert date.isoformat() in t


def test_a_single_visit_report_builds_with_its_plots():
    c = long_case(1)
    pdf = report(c)
    assert page_count(pdf) >= 1
    assert "2024-01-10" in text(pdf)
    assert all(fonts(pdf).values())


def test_thirty_visits_list_every_visit_in_the_matrix_and_the_criteria_table():
    c = long_case(30)
    pdf = report(c, page_size="letter")
    t = text(pdf)
    for v in c.visits:
        assert t.count(v.date.isoformat()) >= 2, v.date  # one row in each table
    assert round(media_box(pdf)[0]) == 612
    n = page_count(pdf)
    assert f"page {n} of {n}" in " ".join(reader(pdf).pages[-1].extract_text().split())


def test_every_font_including_the_chart_labels_is_embedded():
    used = fonts(report(long_case(3)))
    assert all(used.values()) and not any("Helvetica" in f for f in used), used


def test_without_alsfrs_r_the_alsfrs_plots_say_not_recorded():
    t = text(report(sample_case(with_alsfrs=False)))
    assert t.count("not recorded") >= 4  # total, subscores, FVC, weight


def test_a_progression_report_is_never_marked_draft():
    assert "DRAFT" not in text(report(sample_case()))
