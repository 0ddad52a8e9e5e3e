"""The patient's milestones (gastrostomy, NIV, tracheostomy, death) in the reports, read back
from the PDFs: the progression report lists the months from onset to each with its date and
note, and shows the death in its header; the visit report says "died" in its header and lists
the milestones reached by the visit."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.reports.common import months_from_onset, patient_milestones
from desktop.reports.progression import build_progression_report
from desktop.reports.visit import build_visit_report
from tests.builders import classify
from tests.reports.pdf_helpers import PRINTED_AT, fonts, sample_case, text

D = dt.date.fromisoformat
# Onset 2024-09-01 (the builders' default); visits 2025-03-01 and 2025-07-10; born 1961-04-02.
MILESTONES = dict(gastrostomy_date=D("2025-03-02"), gastrostomy_note="PEG, Dr Müller",
                  niv_date=D("2025-06-15"), death_date=D("2025-08-20"), death_note="aspiration pneumonia")


def with_patient(c, **update):
    return c.model_copy(update={"patient": c.patient.model_copy(update=update)})


def progression(c) -> str:
    return text(build_progression_report(c, classify(c), printed_at=PRINTED_AT))


def visit_report(c, day: str) -> str:
    return text(build_visit_report(c, classify(c), D(day), printed_at=PRINTED_AT))


def test_months_from_onset_are_days_over_30_4375_with_one_decimal():
    onset = D("2024-09-01")
    assert months_from_onset(onset, D("2025-03-02")) == "6.0 months"  # 182 days = 5.98
    assert months_from_onset(onset, D("2025-06-15")) == "9.4 months"  # 287 days = 9.43
    assert months_from_onset(onset, D("2025-08-20")) == "11.6 months"  # 353 days = 11.597
    assert months_from_onset(onset, onset) == "0.0 months"
    assert months_from_onset(onset, D("2024-07-01")) == "2.0 months before onset"
    assert months_from_onset(None, D("2025-03-02")) == "onset date unknown"


def test_milestones_come_earliest_first_and_only_up_to_a_date_when_asked():
    p = with_patient(sample_case(), tracheostomy_date=D("2025-06-15"), **MILESTONES).patient
    assert [m.name for m in patient_milestones(p)] == ["Gastrostomy", "NIV", "Tracheostomy", "Death"]
    assert [m.name for m in patient_milestones(p, until=D("2025-06-14"))] == ["Gastrostomy"]
    assert [m.note for m in patient_milestones(p)] == ["PEG, Dr Müller", None, None, "aspiration pneumonia"]


def test_the_progression_report_lists_the_months_from_onset_to_each_milestone_with_date_and_note():
    t = progression(with_patient(sample_case(), **MILESTONES))
    assert "Milestone Date From onset Note" in t
    assert "Gastrostomy 2025-03-02 6.0 months PEG, Dr Müller" in t
    assert "NIV 2025-06-15 9.4 months -" in t
    assert "Death 2025-08-20 11.6 months aspiration pneumonia" in t


def test_without_an_onset_date_each_milestone_says_the_onset_date_is_unknown():
    t = progression(with_patient(sample_case(), onset_date=None, **MILESTONES))
    assert "Gastrostomy 2025-03-02 onset date unknown PEG" in t
    assert "Death 2025-08-20 onset date unknown" in t
    assert "months" not in t.split("Highest reached")[0]


def test_the_progression_report_shows_the_death_with_the_age_and_cause_in_its_header():
    t = progression(with_patient(sample_case(), **MILESTONES))
    header = t[:t.index("Milestone Date")]
    assert "Died 2025-08-20, age 64 \u00b7 cause: aspiration pneumonia" in header


def test_a_death_without_a_cause_or_birth_date_still_shows_the_date():
    t = progression(with_patient(sample_case(), birth_date=None, death_date=D("2025-08-20")))
    assert "Died 2025-08-20" in t and "cause" not in t and "age" not in t.split("Died 2025-08-20")[1][:12]


def test_a_living_patient_without_milestones_has_no_milestone_table_nor_death_line():
    t = progression(sample_case())
    assert "Milestone Date" not in t and "Died" not in t and "Death" not in t


def test_the_milestones_are_marked_on_every_progression_chart_that_has_data():
    c = with_patient(sample_case(), tracheostomy_date=D("2025-07-01"), **MILESTONES)
    t = progression(c)
    charts = t[t.index("Scores over time"):t.index("Regions by visit")]
    assert "MRC sum score not recorded" in charts  # the sample has no MRC grades: five charts drawn
    for name in ("Gastrostomy", "NIV", "Tracheostomy", "Death"):
        assert charts.count(name) == 6, name  # every chart with data, the rate of decline included


def test_a_patient_with_milestones_and_no_visits_still_gets_them_listed():
    c = with_patient(sample_case(), **MILESTONES).model_copy(update={"visits": ()})
    t = progression(c)
    assert "No visits recorded." in t and "NIV 2025-06-15 9.4 months" in t


def test_the_visit_report_of_a_patient_who_died_says_died_with_the_age_at_death_in_its_header():
    c = with_patient(sample_case(), **MILESTONES)
    for day in ("2025-03-01", "2025-07-10"):
        t = visit_report(c, day)
        header = t[:t.index("Status:")]
        assert "died 2025-08-20, age 64" in header, day
    assert "died" not in visit_report(sample_case(), "2025-03-01")


def test_the_visit_report_lists_only_the_milestones_reached_by_the_visit_date():
    c = with_patient(sample_case(), **MILESTONES)
    first = visit_report(c, "2025-03-01")
    assert "Milestones none by this visit" in first
    second = visit_report(c, "2025-07-10")
    header = second[:second.index("Status:")]
    assert ("Milestones Gastrostomy 2025-03-02 (6.0 months from onset; PEG, Dr Müller); "
            "NIV 2025-06-15 (9.4 months from onset)") in header
    assert "Death 2025-08-20" not in header


def test_the_visit_report_of_a_patient_without_milestones_has_no_milestone_line():
    assert "Milestones" not in visit_report(sample_case(), "2025-07-10")


@pytest.mark.parametrize("build", [progression, lambda c: visit_report(c, "2025-07-10")])
def test_reports_with_milestones_keep_every_font_embedded(build):
    c = with_patient(sample_case(), onset_date=None, **MILESTONES)
    assert "onset date unknown" in build(c)
    pdf = build_progression_report(c, classify(c), printed_at=PRINTED_AT)
    assert all(fonts(pdf).values())


def test_a_refused_gastrostomy_is_marked_refused_on_the_charts_and_listed_with_its_note():
    c = with_patient(sample_case(), gastrostomy_date=D("2025-05-01"), gastrostomy_note="refused by the patient")
    t = progression(c)
    assert "Gastrostomy 2025-05-01 8.0 months refused by the patient" in t  # 242 days = 7.95
    assert t.count("Gastrostomy refused") == 6
