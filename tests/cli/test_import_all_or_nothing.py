"""Issue 17, points 4 to 6 on the command line, with real chart and case files in tmp_path:
`motorchart import` imports each file all or nothing, names every refused file, goes on with the
next and ends with a summary; hostile files and values are one line and exit status 2, never a
traceback; nothing printed can drive the terminal."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.store import ChartStore
from domain.case import case_to_data
from tests.store.conftest import make_case, make_patient, make_visit

ROOT = Path(__file__).resolve().parents[2]
PID = "MRN-0042"


def write(path: Path, case_or_data) -> str:
    data = case_or_data if isinstance(case_or_data, dict) else case_to_data(case_or_data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


@pytest.fixture
def chart(tmp_path):
    """MRN-0042 (born 1961-04-02) with one visit, 2025-03-01."""
    path = tmp_path / "chart.sqlite"
    store = ChartStore.open(path, user="dr.test")
    try:
        store.import_case(make_case(PID, dates=("2025-03-01",)))
    finally:
        store.close(backup=False)
    return path


@pytest.fixture
def run(capsys):
    def go(*argv):
        rc = main([str(a) for a in argv])
        cap = capsys.readouterr()
        return rc, cap.out, cap.err
    return go


def state(chart) -> tuple:
    store = ChartStore.open(chart, readonly=True)
    try:
        return store.counts(), [(p.id, store.visit_dates(p.id)) for p in store.search_patients("", 100)]
    finally:
        store.close(backup=False)


# ------------------------------------------------------------------------------ point 4

def test_a_conflicting_file_is_refused_whole_named_and_the_run_goes_on(chart, tmp_path, run):
    a = write(tmp_path / "a.json", make_case("MRN-1", dates=("2025-01-10",)))
    born_later = make_case(PID, dates=("2025-03-01", "2025-09-01")).model_copy(
        update={"patient": make_patient(PID, birth_date=dt.date(1962, 1, 1))})
    b = write(tmp_path / "b.json", born_later)
    c = write(tmp_path / "c.json", make_case("MRN-2", dates=("2025-02-10",)))
    rc, out, err = run("import", "--db", chart, a, b, c)
    assert rc == 2
    assert err.splitlines() == [
        f"{b}: refused: patient {PID}: the file differs from the chart in birth_date (chart: 1961-04-02, "
        "file: 1962-01-01); nothing from this file was imported (correct the file, or the chart with `motorchart patient "
        "edit`, then import again)"]
    lines = out.splitlines()
    assert lines[0].startswith(f"{a}: new patient MRN-1") and lines[1].startswith(f"{c}: new patient MRN-2")
    assert lines[-1] == "2 imported, 1 refused (2 visit(s) added, 0 already there)"
    counts, patients = state(chart)
    # the non-conflicting new visit of b.json (2025-09-01) was not written either
    assert dict(patients)[PID] == [dt.date(2025, 3, 1)]
    assert sorted(dict(patients)) == sorted(["MRN-1", "MRN-2", PID])


def test_a_visit_before_the_charts_birth_date_names_its_file_and_the_run_goes_on(chart, tmp_path, run):
    no_birth = {"format": "motorchart-case/1", "patient": {"id": PID},
                "visits": [{"date": "1950-06-01"}, {"date": "2025-10-01"}]}
    bad = write(tmp_path / "before-birth.json", no_birth)
    good = write(tmp_path / "good.json", make_case("MRN-3", dates=("2025-04-01",)))
    rc, out, err = run("import", "--db", chart, bad, good)
    assert rc == 2
    assert err.splitlines() == [f"{bad}: refused: patient {PID}: visit 1950-06-01 would be before birth_date "
                                "1961-04-02; nothing from this file was imported"]
    assert out.splitlines()[-1] == "1 imported, 1 refused (1 visit(s) added, 0 already there)"
    assert dict(state(chart)[1])[PID] == [dt.date(2025, 3, 1)]
    assert dict(state(chart)[1])["MRN-3"] == [dt.date(2025, 4, 1)]


def test_a_run_with_nothing_refused_ends_with_its_summary_and_exit_status_0(chart, tmp_path, run):
    a = write(tmp_path / "a.json", make_case(PID, dates=("2025-03-01", "2025-07-10")))
    rc, out, err = run("import", "--db", chart, a)
    assert (rc, err) == (0, "")
    assert out.splitlines() == [f"{a}: merged into {PID}: 1 visit(s) added, 1 already there", "1 imported, 0 refused (1 visit(s) added, 1 already there)"]


def test_the_readme_says_what_import_does(run):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "each file all or nothing" in readme and "imported, 2 refused" in readme


# ------------------------------------------------------------------------------ point 5

@pytest.mark.parametrize("date", ["2099-01-01", "9999-12-31"])
def test_import_and_classify_refuse_a_visit_in_the_future(tmp_path, run, date):
    f = write(tmp_path / "future.json", {"format": "motorchart-case/1", "patient": {"id": "P-1"},
                                          "visits": [{"date": "2025-03-01"}, {"date": date}]})
    db = tmp_path / "chart.sqlite"
    for argv in (("import", "--db", db, f), ("classify", f)):
        rc, out, err = run(*argv)
        assert rc == 2 and out == ""
        assert err.splitlines()[0].startswith(f"{f}: visits: the visit of {date} is in the future (today is ")
    assert not db.exists()


def test_import_refuses_a_diagnosis_before_onset_and_an_invisible_mrn(tmp_path, run):
    f = write(tmp_path / "bad.json", {"format": "motorchart-case/1",
                                      "patient": {"id": "\u200b", "onset_date": "2024-09-01",
                                                  "diagnosis_date": "2024-01-01"}, "visits": []})
    rc, out, err = run("import", "--db", tmp_path / "chart.sqlite", f)
    assert rc == 2
    assert err.splitlines() == [
        f"{f}: patient.id: required (the clinic's patient identifier); it cannot be blank",
        f"{f}: patient.diagnosis_date: 2024-01-01 is before the onset date 2024-09-01 "
        "(the diagnosis follows the first symptoms)",
        "nothing was imported"]


@pytest.mark.parametrize("spelling", ["MRN-0042 ", "mrn-0042"])
def test_an_mrn_spelt_otherwise_merges_into_the_known_patient(chart, tmp_path, run, spelling):
    f = write(tmp_path / "again.json", make_case(spelling, dates=("2025-03-01", "2025-07-10")))
    rc, out, err = run("import", "--db", chart, f)
    assert rc == 0, err
    assert out.splitlines()[0] == f"{f}: merged into {PID}: 1 visit(s) added, 1 already there"
    assert [p for p, _ in state(chart)[1]] == [PID]


def test_patient_edit_refuses_a_rename_to_another_spelling_of_a_known_mrn(chart, tmp_path, run):
    write(tmp_path / "other.json", make_case("MRN-0099", dates=()))
    run("import", "--db", chart, tmp_path / "other.json")
    rc, out, err = run("patient", "edit", "--db", chart, "--patient", "MRN-0099", "--set", "id=mrn-0042")
    assert rc == 2 and "MRN: mrn-0042 is already used by patient MRN-0042" in err


# ------------------------------------------------------------------------------ point 6

def _deep(depth: int) -> str:
    return ('{"format": "motorchart-case/1", "patient": {"id": "P"}, "visits": [{"date": "2025-03-01", '
            '"notes": ' + "[" * depth + "]" * depth + "}]}")


@pytest.mark.parametrize("command", ["import", "classify"])
def test_json_nested_1000_levels_deep_is_one_line_and_exit_2(tmp_path, run, command):
    f = tmp_path / "deep.json"
    f.write_text(_deep(1_000))
    db = tmp_path / "chart.sqlite"
    rc, out, err = run(command, *(["--db", db] if command == "import" else []), f)
    assert rc == 2 and out == ""
    assert err.splitlines()[0] == f"{f}: not valid JSON for a case: nested more than 32 levels deep"
    assert not db.exists()


@pytest.mark.parametrize("where, path", [
    ('"patient": {"id": "P", "family_name": "\\ud800"}, "visits": []', "patient.family_name"),
    ('"patient": {"id": "P"}, "visits": [{"date": "2025-03-01", "notes": "\\ud800 cramps"}]', "visits[0].notes"),
])
@pytest.mark.parametrize("command", ["import", "classify"])
def test_a_lone_surrogate_is_one_line_naming_the_field(tmp_path, run, where, path, command):
    f = tmp_path / "surrogate.json"
    f.write_text('{"format": "motorchart-case/1", ' + where + "}")
    db = tmp_path / "chart.sqlite"
    rc, out, err = run(command, *(["--db", db] if command == "import" else []), f)
    assert rc == 2 and out == ""
    assert err.splitlines()[0] == f"{f}: {path}: is not valid text: it holds a lone UTF-16 surrogate (U+D800)"
    assert not db.exists()


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(tmp_path, run, monkeypatch):
    import domain.case

    monkeypatch.setattr(domain.case, "MAX_CASE_FILE_BYTES", 1_000)
    f = write(tmp_path / "big.json", make_case("P-1", dates=("2025-03-01", "2025-07-10")))
    assert Path(f).stat().st_size > 1_000
    rc, out, err = run("classify", f)
    assert rc == 2 and err.splitlines() == [f"{f}: the file is larger than 0 MB, the most a case file may be"]


def test_names_and_notes_over_their_limits_are_refused_naming_the_field(tmp_path, run):
    f = write(tmp_path / "long.json", {"format": "motorchart-case/1",
                                       "patient": {"id": "P-1", "family_name": "N" * 201},
                                       "visits": [{"date": "2025-03-01", "notes": "n" * 20_001}]})
    rc, out, err = run("classify", f)
    assert rc == 2
    assert err.splitlines() == [f"{f}: patient.family_name: is 201 characters long (at most 200 characters)",
                                f"{f}: visits[0].notes: is 20,001 characters long (at most 20,000 characters)"]


def test_patient_edit_with_a_surrogate_from_the_command_line_is_one_line_not_a_traceback(chart, run):
    # A name given in bytes that are not UTF-8 reaches Python as lone surrogates (surrogateescape).
    rc, out, err = run("patient", "edit", "--db", chart, "--patient", PID, "--set", "family_name=Nowak\udcff")
    assert rc == 2 and out == ""
    assert len(err.splitlines()) == 1
    assert "Family name: is not valid text: it holds a lone UTF-16 surrogate (U+DCFF)" in err
    assert "\udcff" not in err


def _hostile_chart(chart):
    """Put terminal control sequences in a patient's name and notes as an older version (or a
    hand-edited chart file) could hold them: the rules refuse them on the way in now."""
    con = sqlite3.connect(chart)
    try:
        con.execute("UPDATE patients SET family_name = ?, given_names = ?, death_note = ? WHERE id = ?",
                    ["\x1b]0;owned\x07Nowak", "Zofia\nforged: line", "\x9b2J cleared", PID])
        con.execute("UPDATE visits SET notes = ? WHERE patient_id = ?", ["cramps\x1b[31m red\x1b[0m", PID])
        con.commit()
    finally:
        con.close()


CONTROLS = ("\x1b", "\x07", "\x9b")


@pytest.mark.parametrize("argv", [
    ("patient", "show"), ("patient", "show", "--json"), ("audit",), ("audit", "--json"),
    ("classify",), ("export",),
])
def test_no_value_printed_from_the_chart_can_drive_the_terminal(chart, run, argv):
    _hostile_chart(chart)
    words = [*argv[:2], "--db", chart, "--patient", PID, *argv[2:]] if argv[0] == "patient" else \
            [argv[0], "--db", chart, "--patient", PID, *argv[1:]]
    rc, out, err = run(*words)
    assert rc == 0, err
    assert not any(c in out or c in err for c in CONTROLS)
    if argv == ("patient", "show"):
        assert out.splitlines()[0] == f"patient {PID}: Zofia forged: line ]0;ownedNowak".replace("]0;owned", "")
        assert "forged: line" not in [line.strip() for line in out.splitlines()]
    if "--json" in argv or argv == ("export",):
        text = out if argv != ("audit", "--json") else out.splitlines()[-1]
        json.loads(text)  # still JSON, the controls written as \u escapes


def test_an_mrn_given_on_the_command_line_cannot_forge_an_output_line(chart, run):
    rc, out, err = run("patient", "show", "--db", chart, "--patient", "X\nmotorchart: all ok\x1b]0;t\x07")
    assert rc == 2
    assert err.splitlines() == ["no patient X motorchart: all ok in this chart"]


def test_the_installed_command_prints_no_traceback_for_a_hostile_file(tmp_path):
    f = tmp_path / "deep.json"
    f.write_text(_deep(100_000))
    s = tmp_path / "surrogate.json"
    s.write_text('{"format": "motorchart-case/1", "patient": {"id": "P", "family_name": "\\ud800"}, "visits": []}')
    for argv in (["classify", str(f)], ["import", "--db", str(tmp_path / "c.sqlite"), str(f), str(s)]):
        res = subprocess.run([sys.executable, "-m", "desktop", *argv], cwd=ROOT, capture_output=True, text=True)
        assert res.returncode == 2, res.stderr
        assert "Traceback" not in res.stderr
