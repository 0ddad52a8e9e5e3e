"""`motorchart patient show`, `patient edit`, `visit new` and `visit redate` on real chart files
(issue 14, item 5). A refused change is one line on stderr, exit status 2, and the chart is
unchanged: its JSON export and its audit trail are the same bytes before and after."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from desktop.cli import main
from desktop.store import ChartStore
from tests.store.conftest import make_case, make_patient

PID, OTHER = "MRN-0042", "MRN-0007"
FIRST, SECOND = "2025-03-01", "2025-07-10"
FIELDS = ("id", "family_name", "given_names", "birth_date", "sex", "onset_date", "onset_region",
          "onset_side", "diagnosis_date", "gastrostomy_date", "gastrostomy_note", "niv_date", "niv_note",
          "tracheostomy_date", "tracheostomy_note", "death_date", "death_note")


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def chart(tmp_path):
    """Patient MRN-0042 (born 1961-04-02, onset 2024-09-01) with two draft visits, and patient
    MRN-0007 with none."""
    path = tmp_path / "chart.sqlite"
    store = ChartStore.open(path, user="dr.test")
    try:
        store.import_case(make_case(PID, dates=(FIRST, SECOND)))
        store.import_case(make_case(OTHER, dates=()))
    finally:
        store.close(backup=False)
    return path


@pytest.fixture
def cli(chart, capsys):
    """Run ``motorchart COMMAND [ACTION] --db CHART ARGS...``: (exit status, stdout, stderr lines)."""

    def run(*argv: str, db=None):
        words = list(argv)
        at = 2 if words[0] in ("patient", "visit") and len(words) > 1 and not words[1].startswith("-") else 1
        words[at:at] = ["--db", str(db or chart)]
        rc = main(words)
        cap = capsys.readouterr()
        return rc, cap.out, cap.err.splitlines()

    return run


@pytest.fixture
def snapshot(cli, chart, tmp_path):
    """The chart as bytes: the patient's JSON export (via `motorchart export -o`) and audit trail."""

    def take(pid: str = PID):
        out = tmp_path / f"export-{pid}.json"
        rc, _, err = cli("export", "--patient", pid, "-o", str(out))
        assert rc == 0, err
        rc, audit, err = cli("audit", "--patient", pid, "--json")
        assert rc == 0, err
        return out.read_bytes(), audit

    return take


def _sign(cli, visit: str, pid: str = PID):
    rc, _, err = cli("sign", "--patient", pid, "--visit", visit, "--by", "Dr B")
    assert rc == 0, err


def _kings(cli, pid: str = PID) -> dict[str, str]:
    rc, out, err = cli("classify", "--patient", pid, "--json")
    assert rc == 0, err
    return {v["date"]: v["staging"]["kings_clinical"] for v in json.loads(out)["visits"]}


def _refused(cli, snapshot, argv, message, *, pid=PID):
    """The command exits 2 with one line containing ``message``; the chart is unchanged."""
    before = snapshot(pid)
    rc, out, err = cli(*argv)
    assert rc == 2
    assert out == ""
    assert len(err) == 1, err
    assert message in err[0]
    assert snapshot(pid) == before
    return err[0]


# ------------------------------------------------------------------------------ patient show

def test_patient_show_prints_every_field_with_not_recorded_and_the_visits_with_their_status(cli):
    _sign(cli, FIRST)
    rc, out, err = cli("patient", "show", "--patient", PID)
    assert rc == 0 and err == []
    lines = out.splitlines()
    assert lines[0] == f"patient {PID}: Zofia Łukasiewicz-Nowak"
    values = dict(line.strip().split(": ", 1) for line in lines[1:1 + len(FIELDS)])
    assert {k: v.strip() for k, v in values.items()} == {
        "id": PID, "family_name": "Łukasiewicz-Nowak", "given_names": "Zofia", "birth_date": "1961-04-02",
        "sex": "female", "onset_date": "2024-09-01", "onset_region": "upper_limb", "onset_side": "right",
        **{f: "not recorded" for f in FIELDS[8:]},
    }
    assert lines[1 + len(FIELDS):] == ["visits (2):", f"  {FIRST}  signed", f"  {SECOND}  draft"]


def test_patient_show_says_when_and_at_what_age_the_patient_died(chart, cli):
    patient = make_patient("MRN-0099", gastrostomy_date=_day("2025-05-01"), gastrostomy_note="refused",
                           death_date=_day("2025-08-01"), death_note="respiratory failure")
    store = ChartStore.open(chart, user="dr.test")
    try:
        store.import_case(make_case("MRN-0099", dates=(FIRST,)).model_copy(update={"patient": patient}))
    finally:
        store.close(backup=False)
    rc, out, _ = cli("patient", "show", "--patient", "MRN-0099")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "patient MRN-0099: Zofia Łukasiewicz-Nowak, died 2025-08-01 (age 64)"
    assert "gastrostomy_note:  refused" in out
    assert "death_note:        respiratory failure" in out


def test_patient_show_json_is_the_case_format_patient_with_each_visit_status(chart, cli, tmp_path):
    _sign(cli, FIRST)
    _sign(cli, SECOND)
    store = ChartStore.open(chart, user="dr.test")
    try:
        store.begin_amendment(PID, _day(FIRST))
        store.sign_amendment(PID, _day(FIRST), clinician="Dr B", reason="typo")
        store.begin_amendment(PID, _day(SECOND))
        store.new_visit(PID, _day("2025-11-01"))
    finally:
        store.close(backup=False)
    rc, out, err = cli("patient", "show", "--patient", PID, "--json")
    assert rc == 0 and err == []
    shown = json.loads(out)
    assert set(shown["patient"]) == set(FIELDS)  # every field, null when not recorded
    rc, _, _ = cli("export", "--patient", PID, "-o", str(tmp_path / "e.json"))
    exported = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))["patient"]
    assert {k: v for k, v in shown["patient"].items() if v is not None} == exported
    assert shown["visits"] == [{"date": FIRST, "status": "amended"}, {"date": SECOND, "status": "amending"},
                               {"date": "2025-11-01", "status": "draft"}]


def test_patient_show_of_an_unknown_patient_or_a_missing_chart_is_one_line(cli, tmp_path):
    assert cli("patient", "show", "--patient", "MRN-9999") == (2, "", ["no patient MRN-9999 in this chart"])
    missing = tmp_path / "none.sqlite"
    rc, out, err = cli("patient", "show", "--patient", PID, db=missing)
    assert rc == 2 and out == "" and len(err) == 1
    assert not missing.exists()


# ------------------------------------------------------------------------------ patient edit

def test_patient_edit_sets_and_clears_fields_and_prints_what_changed(cli):
    rc, out, err = cli("patient", "edit", "--patient", PID, "--set", "gastrostomy_date=2025-05-01",
                       "--set", "gastrostomy_note=refused", "--set", "onset_side=", "--set", "family_name=Nowak")
    assert rc == 0 and err == []
    assert out.splitlines() == [
        f"updated patient {PID}:",
        "  family_name: Łukasiewicz-Nowak -> Nowak",
        "  onset_side: right -> not recorded",
        "  gastrostomy_date: not recorded -> 2025-05-01",
        "  gastrostomy_note: not recorded -> refused",
    ]
    shown = json.loads(cli("patient", "show", "--patient", PID, "--json")[1])["patient"]
    assert (shown["family_name"], shown["onset_side"], shown["gastrostomy_date"], shown["gastrostomy_note"]) == \
        ("Nowak", None, "2025-05-01", "refused")


def test_patient_edit_with_the_values_already_there_changes_nothing(cli, snapshot):
    before = snapshot()
    assert cli("patient", "edit", "--patient", PID, "--set", "sex=female", "--set", "niv_date=") == \
        (0, f"patient {PID} already has those values; nothing changed\n", [])
    assert snapshot() == before


def test_a_gastrostomy_date_set_by_patient_edit_changes_kings_from_that_date(cli):
    before = _kings(cli)
    assert before[SECOND] != "4A"
    rc, _, err = cli("patient", "edit", "--patient", PID, "--set", "gastrostomy_date=2025-05-01")
    assert rc == 0, err
    after = _kings(cli)
    assert after[FIRST] == before[FIRST]  # before the gastrostomy
    assert after[SECOND] == "4A"


def test_renaming_the_mrn_keeps_the_visits_and_the_audit_rows_from_before(cli):
    _sign(cli, FIRST)
    audit_before = cli("audit", "--patient", PID, "--json")[1].splitlines()
    assert audit_before
    rc, out, err = cli("patient", "edit", "--patient", PID, "--set", "id=MRN-4200")
    assert rc == 0 and err == []
    assert out.splitlines() == [f"updated patient MRN-4200 (was {PID}):", f"  id: {PID} -> MRN-4200"]
    shown = json.loads(cli("patient", "show", "--patient", "MRN-4200", "--json")[1])
    assert shown["patient"]["id"] == "MRN-4200"
    assert shown["visits"] == [{"date": FIRST, "status": "signed"}, {"date": SECOND, "status": "draft"}]
    rc, audit_after, _ = cli("audit", "--patient", "MRN-4200", "--json")
    audit_after = audit_after.splitlines()
    assert rc == 0
    assert audit_after[:len(audit_before)] == audit_before
    assert len(audit_after) > len(audit_before)  # the rename itself is audited
    assert cli("patient", "show", "--patient", PID)[2] == [f"no patient {PID} in this chart"]
    assert cli("check")[0] == 0  # the signature moved with the visit and still verifies


@pytest.mark.parametrize("settings, message", [
    (["blood_group=A"], '--set blood_group=A: unknown field "blood_group"'),
    (["sex"], "--set sex: expected FIELD=VALUE"),
    (["=female"], "--set =female: expected FIELD=VALUE"),
    (["birth_date=02/04/1961"], "--set birth_date=02/04/1961: 02/04/1961 is not a date (YYYY-MM-DD)"),
    (["onset_date=2025-02-30"], "--set onset_date=2025-02-30: 2025-02-30 is not a date (YYYY-MM-DD)"),
    (["sex=f"], "--set sex=f: sex must be one of female, male, other, unknown"),
    (["onset_region=arm"], "onset_region must be one of bulbar, upper_limb, lower_limb, trunk_axial, "
                           "respiratory, generalised"),
    (["onset_side=both"], "--set onset_side=both: onset_side must be one of left, right, bilateral"),
    (["id="], "--set id=: the MRN cannot be cleared"),
    (["niv_note=refused", "niv_note=accepted"], "--set niv_note=accepted: niv_note is set twice"),
])
def test_patient_edit_refuses_an_unknown_field_or_a_bad_value_in_one_line(cli, snapshot, settings, message):
    argv = ["patient", "edit", "--patient", PID]
    for s in settings:
        argv += ["--set", s]
    _refused(cli, snapshot, argv, message)


@pytest.mark.parametrize("setting, message", [
    ("death_date=2099-01-01", "Date of death: 2099-01-01 is in the future"),
    ("diagnosis_date=2024-01-01", "Diagnosis date: 2024-01-01 is before the onset date 2024-09-01"),
    ("gastrostomy_date=2024-08-01", "Gastrostomy date: 2024-08-01 is before the onset date 2024-09-01"),
    ("niv_date=1950-01-01", "NIV start date: 1950-01-01 is before the birth date 1961-04-02"),
    ("death_date=2025-05-01", f"Date of death: 2025-05-01 is before the visit of {SECOND}"),
    ("birth_date=2025-05-01", f"Birth date: 2025-05-01 is after the visit of {FIRST}"),
    ("id=mrn-0007", "MRN: mrn-0007 is already used by patient MRN-0007"),
    ("id= MRN-0007 ", "MRN: patient MRN-0007 already exists"),
    ("id=MRN-0007\u200b", "is already used by patient MRN-0007"),
    ("id=\u200b", "MRN: required"),
])
def test_patient_edit_refuses_a_change_that_breaks_a_patient_rule(cli, snapshot, setting, message):
    line = _refused(cli, snapshot, ["patient", "edit", "--patient", PID, "--set", setting], message)
    assert line.startswith(f"patient {PID}: ") and line.endswith("; nothing was changed")
    assert cli("patient", "show", "--patient", OTHER)[0] == 0  # the other patient is still there


def test_patient_edit_names_each_bad_setting_on_its_own_line_and_writes_none(cli, snapshot):
    before = snapshot()
    rc, out, err = cli("patient", "edit", "--patient", PID, "--set", "sex=f", "--set", "niv_note=ok",
                       "--set", "niv_date=soon")
    assert (rc, out) == (2, "")
    assert err == ["--set sex=f: sex must be one of female, male, other, unknown",
                   "--set niv_date=soon: soon is not a date (YYYY-MM-DD)"]
    assert snapshot() == before


def test_patient_edit_refuses_an_unknown_patient_no_setting_and_a_missing_chart(cli, snapshot, tmp_path):
    _refused(cli, snapshot, ["patient", "edit", "--patient", "MRN-9999", "--set", "sex=male"],
             "no patient MRN-9999 in this chart")
    _refused(cli, snapshot, ["patient", "edit", "--patient", PID], "--set")
    _refused(cli, snapshot, ["patient", "rename", "--patient", PID], "rename")
    missing = tmp_path / "none.sqlite"
    rc, out, err = cli("patient", "edit", "--patient", PID, "--set", "sex=male", db=missing)
    assert rc == 2 and out == "" and len(err) == 1
    assert not missing.exists()


# ------------------------------------------------------------------------------ visit new

def test_visit_new_starts_an_empty_draft(cli):
    assert cli("visit", "new", "--patient", PID, "--date", "2025-11-01") == \
        (0, f"started a draft visit on 2025-11-01 for patient {PID}\n", [])
    shown = json.loads(cli("patient", "show", "--patient", PID, "--json")[1])
    assert shown["visits"][-1] == {"date": "2025-11-01", "status": "draft"}
    rc, out, _ = cli("export", "--patient", PID)
    visit = json.loads(out)["visits"][-1]
    assert {k: v for k, v in visit.items() if v != []} == {"date": "2025-11-01"}  # nothing examined


def test_visit_new_with_copy_forward_copies_the_previous_visit_marked_not_reviewed(chart, cli):
    rc, out, err = cli("visit", "new", "--patient", PID, "--date", "2025-11-01", "--copy-forward")
    assert rc == 0 and err == []
    store = ChartStore.open(chart, readonly=True)
    try:
        marks = store.visit_marks(PID, _day("2025-11-01"))
        copied = store.get_visit(PID, _day("2025-11-01"))
        previous = store.get_visit(PID, _day(SECOND))
    finally:
        store.close()
    assert marks.carried_from == _day(SECOND) and marks.not_reviewed
    assert [m.muscle for m in copied.muscles] == [m.muscle for m in previous.muscles]
    assert out == (f"started a draft visit on 2025-11-01 for patient {PID}; {len(marks.not_reviewed)} cell(s) "
                   f"copied from {SECOND}, marked not reviewed (review them before signing)\n")


def test_a_copied_visit_signed_with_drop_cites_the_history_answers_at_the_visit_that_recorded_them(chart, cli):
    """A new user's report: after ``visit new --copy-forward`` and ``sign --carried drop``, the
    visit said "Progressive motor impairment: yes (recorded 2025-11-01)", a date on which
    nobody recorded it. The answers are not copied; they carry forward with their own date."""
    assert cli("visit", "new", "--patient", PID, "--date", "2025-11-01", "--copy-forward")[0] == 0
    assert cli("sign", "--patient", PID, "--visit", "2025-11-01", "--by", "Dr Q", "--carried", "drop")[0] == 0
    store = ChartStore.open(chart, readonly=True)
    try:
        signed = store.get_visit(PID, _day("2025-11-01"))
    finally:
        store.close()
    assert signed.progressive_by_history is None and not signed.muscles  # nothing recorded that day
    rc, out, _ = cli("classify", "--patient", PID, "--json")
    assert rc == 0
    last = json.loads(out)["visits"][-1]
    assert last["date"] == "2025-11-01"
    assert last["progression"]["recorded"]["progressive_by_history"] == SECOND
    rc, text, _ = cli("classify", "--patient", PID)
    tail = text.split("Visit 2025-11-01", 1)[1]
    assert f"Progressive motor impairment: yes (recorded {SECOND})" in tail
    assert "(recorded 2025-11-01)" not in tail


def test_visit_new_with_copy_forward_and_no_earlier_visit_says_it_is_empty(cli):
    rc, out, _ = cli("visit", "new", "--patient", PID, "--date", "2025-01-15", "--copy-forward")
    assert rc == 0 and "there is no earlier visit to copy from, so it is empty" in out


@pytest.mark.parametrize("argv, message", [
    (["--date", "2099-01-01"], "2099-01-01 is in the future"),
    (["--date", SECOND], f"there is already a visit on {SECOND}"),
    (["--date", "1960-01-01"], "1960-01-01 is before the birth date 1961-04-02"),
    (["--date", "2025-13-01"], "--date 2025-13-01: not a date (YYYY-MM-DD)"),
    (["--date", "1/11/2025"], "--date 1/11/2025: not a date (YYYY-MM-DD)"),
    ([], "--date"),
])
def test_visit_new_refuses_a_date_that_cannot_be(cli, snapshot, argv, message):
    _refused(cli, snapshot, ["visit", "new", "--patient", PID, *argv], message)


def test_visit_new_refuses_a_date_after_death_and_an_unknown_patient(cli, snapshot):
    assert cli("patient", "edit", "--patient", PID, "--set", "death_date=2025-08-01")[0] == 0
    _refused(cli, snapshot, ["visit", "new", "--patient", PID, "--date", "2025-09-01", "--copy-forward"],
             "2025-09-01 is after the date of death 2025-08-01")
    _refused(cli, snapshot, ["visit", "new", "--patient", "MRN-9999", "--date", "2025-09-01"],
             "no patient MRN-9999 in this chart")


# ------------------------------------------------------------------------------ visit redate

def test_visit_redate_moves_a_draft_to_another_date(cli):
    assert cli("visit", "redate", "--patient", PID, "--visit", SECOND, "--to", "2025-07-11") == \
        (0, f"moved the draft visit of {SECOND} of patient {PID} to 2025-07-11\n", [])
    shown = json.loads(cli("patient", "show", "--patient", PID, "--json")[1])
    assert [v["date"] for v in shown["visits"]] == [FIRST, "2025-07-11"]


def test_visit_redate_to_the_same_date_changes_nothing(cli, snapshot):
    before = snapshot()
    rc, out, _ = cli("visit", "redate", "--patient", PID, "--visit", SECOND, "--to", SECOND)
    assert rc == 0 and "already on that date; nothing changed" in out
    assert snapshot() == before


@pytest.mark.parametrize("argv, message", [
    (["--visit", SECOND, "--to", FIRST], f"cannot move to {FIRST}: there is already a visit on {FIRST}"),
    (["--visit", SECOND, "--to", "2099-01-01"], "2099-01-01 is in the future"),
    (["--visit", SECOND, "--to", "1960-01-01"], "1960-01-01 is before the birth date 1961-04-02"),
    (["--visit", "2025-03-02", "--to", "2025-03-03"], f"patient {PID} has no visit on 2025-03-02"),
    (["--visit", SECOND, "--to", "2025-7-11"], "--to 2025-7-11: not a date (YYYY-MM-DD)"),
    (["--visit", "10/07/2025", "--to", "2025-07-11"], "--visit 10/07/2025: not a date (YYYY-MM-DD)"),
    (["--visit", SECOND], "--to"),
])
def test_visit_redate_refuses_a_date_that_cannot_be(cli, snapshot, argv, message):
    _refused(cli, snapshot, ["visit", "redate", "--patient", PID, *argv], message)


def test_visit_redate_refuses_a_signed_visit_and_a_date_after_death(cli, snapshot):
    _sign(cli, FIRST)
    _refused(cli, snapshot, ["visit", "redate", "--patient", PID, "--visit", FIRST, "--to", "2025-03-02"],
             f"patient {PID}: the visit of {FIRST} is signed: its date cannot be changed; nothing was changed")
    assert cli("patient", "edit", "--patient", PID, "--set", "death_date=2025-08-01")[0] == 0
    _refused(cli, snapshot, ["visit", "redate", "--patient", PID, "--visit", SECOND, "--to", "2025-09-01"],
             "2025-09-01 is after the date of death 2025-08-01")
    _refused(cli, snapshot, ["visit", "redate", "--patient", "MRN-9999", "--visit", SECOND, "--to", "2025-07-11"],
             "no patient MRN-9999 in this chart")


def test_visit_delete_still_deletes_a_draft_beside_the_new_actions(cli):
    assert cli("visit", "new", "--patient", PID, "--date", "2025-11-01")[0] == 0
    assert cli("visit", "delete", "--patient", PID, "--visit", "2025-11-01") == \
        (0, f"deleted the draft visit of 2025-11-01 of patient {PID}\n", [])
