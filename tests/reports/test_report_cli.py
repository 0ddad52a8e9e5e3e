"""`motorchart report` against a real chart file."""

import datetime as dt

import pytest

from desktop.cli import main
from desktop.store import ChartStore
from tests.reports.pdf_helpers import media_box, sample_case, text


@pytest.fixture
def chart(tmp_path):
    path = tmp_path / "chart.sqlite"
    store = ChartStore.open(path, user="dr.test")
    store.import_case(sample_case("Дмитрий", "Иванов"))
    store.set_setting("clinic", "Clinique Saint-Éloi")
    store.sign_visit("MRN-0042", dt.date(2025, 3, 1), clinician="Dr Renée Côté")
    store.close(backup=False)
    return path


def run(chart, *args):
    return main(["report", "--db", str(chart), "--patient", "MRN-0042", *args])


def test_a_signed_visit_prints_from_the_chart_with_the_clinic_and_signer(chart, tmp_path):
    out = tmp_path / "visit.pdf"
    assert run(chart, "--visit", "2025-03-01", "-o", str(out)) == 0
    t = text(out.read_bytes())
    assert "Дмитрий Иванов" in t and "Clinique Saint-Éloi" in t
    assert "Signed by Dr Renée Côté" in t and "DRAFT" not in t


def test_without_a_date_the_latest_visit_prints_and_it_is_a_draft(chart, tmp_path):
    out = tmp_path / "latest.pdf"
    assert run(chart, "-o", str(out)) == 0
    t = text(out.read_bytes())
    assert "2025-07-10" in t and "DRAFT" in t


def test_the_progression_report_prints_on_letter_paper(chart, tmp_path):
    out = tmp_path / "progression.pdf"
    assert run(chart, "--progression", "-o", str(out), "--page-size", "letter") == 0
    assert "Progression report" in text(out.read_bytes())
    assert round(media_box(out.read_bytes())[0]) == 612


@pytest.mark.parametrize("args,message", [
    (["--visit", "2025-05-05"], "patient MRN-0042 has no visit on 2025-05-05 (visits: 2025-03-01, 2025-07-10)"),
    (["--visit", "5 May"], "--visit 5 May: not a date (YYYY-MM-DD)"),
])
def test_a_bad_date_is_one_clear_line_and_exit_2_and_nothing_is_written(chart, tmp_path, capsys, args, message):
    out = tmp_path / "x.pdf"
    assert run(chart, *args, "-o", str(out)) == 2
    err = capsys.readouterr().err
    assert err.strip() == message
    assert not out.exists()


def test_an_unknown_patient_is_one_clear_line_and_exit_2(chart, tmp_path, capsys):
    out = tmp_path / "x.pdf"
    assert main(["report", "--db", str(chart), "--patient", "NOBODY", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "NOBODY" in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_a_missing_chart_file_is_refused_without_creating_one(tmp_path, capsys):
    missing = tmp_path / "none.sqlite"
    assert main(["report", "--db", str(missing), "--patient", "MRN-0042", "-o", str(tmp_path / "x.pdf")]) == 2
    assert "no chart file there" in capsys.readouterr().err
    assert not missing.exists()
