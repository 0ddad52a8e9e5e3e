"""`motorchart sign`, `options`, `visit delete` and `classify --patient` on real chart files."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from desktop.cli import main
from desktop.store import ChartStore
from domain.case import MuscleFinding, VisitMarks
from domain.options import OPTION_NAMES, Options
from tests.store.conftest import make_case, make_visit

PID = "MRN-0042"
FIRST, SECOND = "2025-03-01", "2025-07-10"
CELL = ("muscle", "biceps", "right", "mrc")


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def chart(tmp_path):
    """A chart with one patient and two draft visits; the second has a cell copied forward
    from the first and not reviewed."""
    path = tmp_path / "chart.sqlite"
    store = ChartStore.open(path, user="dr.test")
    try:
        store.import_case(make_case(PID, dates=(FIRST, SECOND)))
        store.set_visit_marks(PID, _day(SECOND), VisitMarks(not_reviewed=(CELL,), carried_from=_day(FIRST)))
    finally:
        store.close(backup=False)
    return path


def _read(path):
    return ChartStore.open(path, readonly=True)


def _biceps_right(visit):
    return next((m for m in visit.muscles if (m.muscle, m.side) == ("biceps", "right")), None)


def _sign(path, visit, *more):
    return main(["sign", "--db", str(path), "--patient", PID, "--visit", visit, "--by", "Dr Renée Côté", *more])


# ------------------------------------------------------------------------------ sign

def test_sign_signs_a_draft_and_says_so(chart, capsys):
    assert _sign(chart, FIRST) == 0
    cap = capsys.readouterr()
    assert cap.out == f"signed the visit of {FIRST} of patient {PID} as Dr Renée Côté\n"
    assert cap.err == ""
    store = _read(chart)
    try:
        assert store.visit_status(PID, _day(FIRST)) == "signed"
        assert store.visit_meta(PID, _day(FIRST)).clinician == "Dr Renée Côté"
        assert store.visit_status(PID, _day(SECOND)) == "draft"
        assert store.verify_signatures() == []
    finally:
        store.close()


def test_signing_a_signed_visit_again_is_refused(chart, capsys):
    assert _sign(chart, FIRST) == 0
    capsys.readouterr()
    assert _sign(chart, FIRST) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    assert cap.err.splitlines() == [f"patient {PID}: the visit of {FIRST} is already signed; nothing was changed"]


def test_not_reviewed_cells_without_carried_are_refused_and_nothing_is_signed(chart, capsys):
    assert _sign(chart, SECOND) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    lines = cap.err.splitlines()
    assert len(lines) == 1
    assert f"1 cell(s) copied from {FIRST} and not reviewed" in lines[0]
    assert "--carried keep" in lines[0] and "--carried drop" in lines[0]
    store = _read(chart)
    try:
        assert store.visit_status(PID, _day(SECOND)) == "draft"
        assert store.visit_marks(PID, _day(SECOND)).not_reviewed == (CELL,)
        assert store.signature(PID, _day(SECOND)) is None
    finally:
        store.close()


def test_carried_drop_removes_the_cells_from_the_signed_visit(chart, capsys):
    assert _sign(chart, SECOND, "--carried", "drop") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"signed the visit of {SECOND} of patient {PID}")
    assert "1 cell(s) copied from 2025-03-01 and not reviewed were dropped" in out
    store = _read(chart)
    try:
        assert store.visit_status(PID, _day(SECOND)) == "signed"
        biceps = _biceps_right(store.get_visit(PID, _day(SECOND)))
        assert biceps is None or biceps.mrc is None
        assert _biceps_right(store.get_visit(PID, _day(FIRST))).mrc == "5"  # the earlier visit is untouched
        marks = store.visit_marks(PID, _day(SECOND))
        assert marks.not_reviewed == () and marks.carried == ()
        assert store.verify_signatures() == []
    finally:
        store.close()


def test_carried_keep_signs_the_cells_marked_as_carried(chart, capsys):
    assert _sign(chart, SECOND, "--carried", "keep") == 0
    assert "signed marked as carried" in capsys.readouterr().out
    store = _read(chart)
    try:
        assert store.visit_status(PID, _day(SECOND)) == "signed"
        assert _biceps_right(store.get_visit(PID, _day(SECOND))).mrc == "5"
        marks = store.visit_marks(PID, _day(SECOND))
        assert marks.carried == (CELL,)
        assert marks.carried_from == _day(FIRST)
        assert marks.not_reviewed == ()
    finally:
        store.close()


@pytest.mark.parametrize("argv, message", [
    (["--patient", "MRN-9999", "--visit", FIRST], "no patient MRN-9999 in this chart"),
    (["--patient", PID, "--visit", "2025-03-02"], f"patient {PID} has no visit on 2025-03-02"),
    (["--patient", PID, "--visit", "01/03/2025"], "--visit 01/03/2025: not a date (YYYY-MM-DD)"),
    (["--patient", PID, "--visit", "20250301"], "--visit 20250301: not a date (YYYY-MM-DD)"),
    (["--patient", PID, "--visit", "2025-02-30"], "--visit 2025-02-30: not a date (YYYY-MM-DD)"),
])
def test_sign_refuses_unknown_patients_visits_and_bad_dates_in_one_line(chart, capsys, argv, message):
    assert main(["sign", "--db", str(chart), *argv, "--by", "Dr X"]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err.splitlines() == [message]


def test_sign_needs_by_and_a_known_carried_choice(chart, capsys):
    assert main(["sign", "--db", str(chart), "--patient", PID, "--visit", FIRST]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1
    assert _sign(chart, SECOND, "--carried", "maybe") == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "--carried" in err[0] and "maybe" in err[0]
    assert main(["sign", "--db", str(chart), "--patient", PID, "--visit", FIRST, "--by", "  "]) == 2
    assert capsys.readouterr().err.splitlines() == ["--by: give the signing clinician's name"]


def test_sign_does_not_create_a_missing_chart(tmp_path, capsys):
    path = tmp_path / "none.sqlite"
    assert main(["sign", "--db", str(path), "--patient", PID, "--visit", FIRST, "--by", "Dr X"]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1
    assert not path.exists()


# ------------------------------------------------------------------------------ options

def test_options_lists_every_option_with_its_value(chart, capsys):
    assert main(["options", "--db", str(chart)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    default = Options()
    for name in OPTION_NAMES:
        value = getattr(default, name)
        value = str(value).lower() if isinstance(value, bool) else str(value)
        assert any(line.startswith(f"{name} = {value}    # ") for line in lines), name
    assert "(default:" not in out
    assert "signed visits keep the options they were signed with" in out


def test_options_set_saves_and_marks_what_differs_from_the_default(chart, capsys):
    assert main(["options", "--db", str(chart), "--set", "probable_reading=colocated",
                 "--set", "abdominal_reflexes_umn=true"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("saved the criteria options of ")
    assert "probable_reading = colocated  (default: distributed)    # Reading of 'clinically probable': colocated" in out.splitlines()
    assert ("abdominal_reflexes_umn = true  (default: false)    # Absent abdominal reflexes as a thoracic UMN sign: "
            "counted") in out.splitlines()
    assert "gcc_reading = literal    # Reading of the Gold Coast UMN and LMN clause: literal" in out.splitlines()
    assert "signed visits keep the options they were signed with" in out
    # a later --set changes only what it names
    assert main(["options", "--db", str(chart), "--set", "gcc_reading=same_region"]) == 0
    capsys.readouterr()
    store = _read(chart)
    try:
        opts = store.criteria_options()
    finally:
        store.close()
    assert (opts.probable_reading, opts.abdominal_reflexes_umn, opts.gcc_reading) == ("colocated", True, "same_region")
    assert main(["options", "--db", str(chart)]) == 0
    assert "gcc_reading = same_region  (default: literal)    # Reading of the Gold Coast UMN and LMN clause: same region" in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("settings, named", [
    (["nope=1"], 'unknown option "nope"'),
    (["probable_reading=loose"], "probable_reading must be distributed or colocated"),
    (["gcc_reading=same_region", "preserved_reflex_min_grade=9"], "preserved_reflex_min_grade must be"),
    (["probable_reading"], "expected name=value"),
])
def test_a_bad_option_exits_2_naming_it_and_nothing_is_saved(chart, capsys, settings, named):
    argv = ["options", "--db", str(chart)]
    for s in settings:
        argv += ["--set", s]
    assert main(argv) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    lines = cap.err.splitlines()
    assert len(lines) == 2 and named in lines[0] and lines[1] == "nothing was saved"
    store = _read(chart)
    try:
        assert store.criteria_options() == Options()
        assert store.setting("criteria_options") is None
    finally:
        store.close()


# ------------------------------------------------------------------------------ visit delete

def test_visit_delete_deletes_a_draft(chart, capsys):
    assert main(["visit", "delete", "--db", str(chart), "--patient", PID, "--visit", SECOND]) == 0
    assert capsys.readouterr().out == f"deleted the draft visit of {SECOND} of patient {PID}\n"
    store = _read(chart)
    try:
        assert store.visit_dates(PID) == [_day(FIRST)]
    finally:
        store.close()


def test_visit_delete_refuses_a_signed_visit(chart, capsys):
    assert _sign(chart, FIRST) == 0
    capsys.readouterr()
    assert main(["visit", "delete", "--db", str(chart), "--patient", PID, "--visit", FIRST]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    lines = cap.err.splitlines()
    assert len(lines) == 1 and "signed and cannot be deleted" in lines[0] and FIRST in lines[0]
    store = _read(chart)
    try:
        assert store.visit_dates(PID) == [_day(FIRST), _day(SECOND)]
        assert store.visit_status(PID, _day(FIRST)) == "signed"
        assert store.verify_signatures() == []
    finally:
        store.close()


@pytest.mark.parametrize("argv", [
    ["visit"],
    ["visit", "erase", "--patient", PID, "--visit", FIRST],
    ["visit", "delete", "--patient", PID],
    ["visit", "delete", "--patient", PID, "--visit", "2024-01-01"],
    ["visit", "delete", "--patient", PID, "--visit", "yesterday"],
])
def test_visit_delete_usage_errors_are_one_line(chart, capsys, argv):
    assert main([*argv[:1], "--db", str(chart), *argv[1:]]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and len(cap.err.splitlines()) == 1
    store = _read(chart)
    try:
        assert len(store.visit_dates(PID)) == 2
    finally:
        store.close()


# ------------------------------------------------------------------------------ classify --patient

@pytest.fixture
def weak_chart(tmp_path):
    """A patient with a weak biceps and no wasting: clinical LMN only if weakness alone counts."""
    path = tmp_path / "weak.sqlite"
    case = make_case(PID, dates=(FIRST,))
    visit = make_visit(FIRST, muscles=(MuscleFinding(muscle="biceps", side="right", mrc="3", wasting="none"),))
    store = ChartStore.open(path, user="dr.test")
    try:
        store.import_case(case.model_copy(update={"visits": (visit,)}))
    finally:
        store.close(backup=False)
    return path


def test_classify_a_chart_patient_uses_the_chart_options(weak_chart, capsys):
    def classify(*more):
        assert main(["classify", "--db", str(weak_chart), "--patient", PID, "--json", *more]) == 0
        return json.loads(capsys.readouterr().out)

    before = classify()
    assert before["options"] == Options().model_dump()
    assert before["visits"][0]["regions"]["cervical"]["lmn_clinical"] is False

    assert main(["options", "--db", str(weak_chart), "--set", "clinical_lmn_rule=weakness_or_wasting"]) == 0
    capsys.readouterr()
    after = classify()
    assert after["options"]["clinical_lmn_rule"] == "weakness_or_wasting"
    assert after["visits"][0]["regions"]["cervical"]["lmn_clinical"] is True

    # the same as the store (and so the reports) classify with
    store = _read(weak_chart)
    try:
        assert store.classify(PID).as_json() == after
    finally:
        store.close()

    # --set is a what-if on top of the chart's options; nothing is saved
    what_if = classify("--set", "clinical_lmn_rule=wasting_required", "--set", "probable_reading=colocated")
    assert what_if["options"]["clinical_lmn_rule"] == "wasting_required"
    assert what_if["options"]["probable_reading"] == "colocated"
    assert what_if["visits"][0]["regions"]["cervical"]["lmn_clinical"] is False
    assert classify()["options"]["clinical_lmn_rule"] == "weakness_or_wasting"


def test_classify_a_chart_patient_prints_the_summary_and_the_options(weak_chart, capsys):
    assert main(["options", "--db", str(weak_chart), "--set", "clinical_lmn_rule=weakness_or_wasting"]) == 0
    capsys.readouterr()
    assert main(["classify", "--db", str(weak_chart), "--patient", PID]) == 0
    out = capsys.readouterr().out
    assert f"({PID})" in out.splitlines()[0]
    assert f"Visit {FIRST}" in out
    assert out.splitlines()[-1] == "Criteria options: clinical_lmn_rule=weakness_or_wasting (the chart's)"


@pytest.mark.parametrize("argv, message", [
    (["classify"], "classify: give a case FILE, or --patient MRN to classify a patient of the chart (--db PATH)"),
    (["classify", "case.json", "--patient", PID], "classify: give a case FILE or --patient MRN, not both"),
    (["classify", "--patient", "MRN-9999"], "no patient MRN-9999 in this chart"),
    (["classify", "--patient", PID, "--set", "probable_reading=loose"],
     "--set probable_reading=loose: probable_reading must be distributed or colocated"),
])
def test_classify_patient_errors_are_one_line(weak_chart, capsys, argv, message):
    assert main([argv[0], "--db", str(weak_chart), *argv[1:]]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err.splitlines() == [message]


def test_classify_patient_needs_an_existing_chart(tmp_path, capsys):
    path = tmp_path / "none.sqlite"
    assert main(["classify", "--db", str(path), "--patient", PID]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1
    assert not path.exists()
