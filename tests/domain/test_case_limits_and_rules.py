"""Issue 17, points 5 and 6 in the domain: one case validation for every entry point (the clock
passed in), and hostile case files refused with one line per problem, never an exception other
than CaseError."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from domain.case import (
    MAX_CASE_FILE_BYTES,
    MAX_NESTING,
    MAX_PROBLEM_LINES,
    MAX_VISITS,
    TEXT_LIMITS,
    Case,
    CaseError,
    Patient,
    Visit,
    parse_case,
    text_problem,
)
from domain.patient_rules import case_problems, mrn_key, mrn_problem, patient_problems, visit_problems
from tests.builders import catalogue as load_catalogue

TODAY = dt.date(2026, 1, 15)


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def _file(patient: dict | None = None, visits: list | None = None) -> str:
    return json.dumps({"format": "motorchart-case/1", "patient": patient or {"id": "P-1"},
                       "visits": visits if visits is not None else [{"date": "2025-03-01"}]})


def _problems(text: str | bytes, catalogue) -> list[str]:
    with pytest.raises(CaseError) as e:
        parse_case(text, catalogue)
    return e.value.problems


# ------------------------------------------------------------------------------ hostile files

@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 1_000, 100_000])
def test_json_nested_deeply_is_one_clear_problem_not_a_recursion_error(catalogue, depth):
    text = _file(visits=[{"date": "2025-03-01", "notes": "__"}]).replace('"__"', "[" * depth + "]" * depth)
    problems = _problems(text, catalogue)
    assert len(problems) == 1
    assert f"nested more than {MAX_NESTING} levels deep" in problems[0]


@pytest.mark.parametrize("where, path, code", [
    ({"patient": {"id": "P-1", "family_name": "\ud800"}}, "patient.family_name", "D800"),
    ({"visits": [{"date": "2025-03-01", "notes": "cramps \udfff"}]}, "visits[0].notes", "DFFF"),
])
def test_a_lone_surrogate_in_a_name_or_notes_is_refused_naming_the_field(catalogue, where, path, code):
    text = _file(**where)  # json.dumps writes the surrogate as the escape \ud800
    assert "\\ud" in text
    assert _problems(text, catalogue) == [
        f"{path}: is not valid text: it holds a lone UTF-16 surrogate (U+{code})"]


def test_a_lone_surrogate_in_a_key_is_refused(catalogue):
    problems = _problems('{"format": "motorchart-case/1", "patient": {"id": "P", "\\ud800": 1}, "visits": []}',
                         catalogue)
    assert problems == ["patient: a key is not valid text (it holds a lone UTF-16 surrogate)"]


def test_a_file_larger_than_the_limit_is_refused_before_it_is_decoded(catalogue):
    problems = _problems(b" " * (MAX_CASE_FILE_BYTES + 1), catalogue)
    assert problems == [f"the file is larger than {MAX_CASE_FILE_BYTES // 2**20} MB, the most a case file may be"]


def test_more_visits_than_the_limit_are_refused(catalogue):
    visits = [{"date": (dt.date(1900, 1, 1) + dt.timedelta(days=i)).isoformat()} for i in range(MAX_VISITS + 1)]
    assert _problems(_file(visits=visits), catalogue) == [
        f"visits: {MAX_VISITS + 1:,} visits; a case holds at most {MAX_VISITS}"]


def test_a_huge_string_anywhere_is_refused_and_problem_lines_are_bounded(catalogue):
    visits = [{"date": "2025-03-01", "muscles": [{"muscle": "x" * 30_000, "side": "left"}] * 50}]
    problems = _problems(_file(visits=visits), catalogue)
    assert problems[0] == "visits[0].muscles[0].muscle: is 30,000 characters long (at most 20,000 characters)"
    assert len(problems) == MAX_PROBLEM_LINES + 1 and problems[-1].startswith("... and more problems")


def test_text_problem_names_what_is_wrong_with_a_field():
    assert text_problem("Zoë Łukasiewicz-Nowak", "family_name") is None
    assert text_problem("line one\nline two\ttab", "notes") is None
    assert text_problem("a\nb", "family_name") == "holds a line break (it must be one line)"
    assert text_problem("\x1b]0;owned\x07", "given_names") == "holds a control character (U+001B), which is not text"
    assert text_problem("\x9b31m", "milestone_note") == "holds a control character (U+009B), which is not text"
    assert text_problem("pasted\x0bsoft break\x0c", "notes") is None  # free text: stripped when printed
    limit = TEXT_LIMITS["id"][0]
    assert text_problem("M" * (limit + 1), "id") == f"is {limit + 1} characters long (at most {limit} characters)"


# ------------------------------------------------------------------------------ one case validation

def _case(patient: Patient, *dates: str) -> Case:
    return Case(format="motorchart-case/1", patient=patient,
                visits=tuple(Visit(date=dt.date.fromisoformat(d)) for d in dates))


@pytest.mark.parametrize("date", ["2099-01-01", "9999-12-31", "2026-01-16"])
def test_a_visit_in_the_future_is_refused(date):
    problems = case_problems(_case(Patient(id="P-1"), "2025-03-01", date), today=TODAY)
    assert problems == [f"visits: the visit of {date} is in the future (today is 2026-01-15)"]


def test_a_visit_today_is_fine():
    assert case_problems(_case(Patient(id="P-1"), "2026-01-15"), today=TODAY) == []


def test_a_diagnosis_before_onset_is_refused_naming_the_field():
    p = Patient(id="P-1", onset_date=dt.date(2024, 9, 1), diagnosis_date=dt.date(2024, 3, 1))
    assert case_problems(_case(p), today=TODAY) == [
        "patient.diagnosis_date: 2024-03-01 is before the onset date 2024-09-01 "
        "(the diagnosis follows the first symptoms)"]


@pytest.mark.parametrize("mrn", ["\u200b", " \u200b\u2060 ", "\ufeff"])
def test_an_mrn_of_only_invisible_characters_is_refused(mrn):
    problem = "required (the clinic's patient identifier); it cannot be blank"
    assert case_problems(_case(Patient(id=mrn)), today=TODAY) == [f"patient.id: {problem}"]
    assert mrn_problem(mrn) == f"MRN: {problem}"


@pytest.mark.parametrize("mrn, message", [
    ("DEMO-1\nDEMO-2", "MRN: holds a line break (it must be one line)"),
    ("DEMO\x1b[2J", "MRN: holds a control character (U+001B), which is not text"),
])
def test_an_mrn_with_control_characters_is_refused(mrn, message):
    assert mrn_problem(mrn) == message
    assert patient_problems(Patient(id=mrn), today=TODAY) == [message]


def test_names_and_notes_are_one_line_of_text_within_their_limits():
    p = Patient(id="P-1", family_name="Nowak\x1b]0;title\x07", death_note="a" * 1_001)
    assert patient_problems(p, today=TODAY) == [
        "Family name: holds a control character (U+001B), which is not text",
        "Death note: is 1,001 characters long (at most 1,000 characters)"]
    v = Visit(date=dt.date(2025, 3, 1), notes="x" * 20_001)
    assert visit_problems(v) == ["notes: is 20,001 characters long (at most 20,000 characters)"]
    assert case_problems(_case(Patient(id="P-1")).model_copy(update={"visits": (v,)}), today=TODAY) == [
        "visits: the visit of 2025-03-01, notes: is 20,001 characters long (at most 20,000 characters)"]


@pytest.mark.parametrize("spelling", ["DEMO-000001 ", "demo-000001", "  Demo-000001\u200b", "ＤＥＭＯ-000001"])
def test_mrns_are_compared_trimmed_and_case_folded(spelling):
    assert mrn_key(spelling) == mrn_key("DEMO-000001")
    assert mrn_key("DEMO-000002") != mrn_key("DEMO-000001")


def test_file_bytes_must_be_utf8_so_no_lone_surrogate_arrives_unescaped(catalogue):
    """The bytes of a lone surrogate (ED B2 80) or a file in UTF-16 decode through json.loads
    (it guesses the encoding and lets surrogates pass); the file is refused before the quick
    check of its text could call it clean."""
    text = _file(visits=[{"date": "2025-03-01", "notes": "cramps XX"}])
    raw = text.encode("utf-8").replace(b"XX", b"\xed\xb2\x80")
    assert json.loads(raw)["visits"][0]["notes"] == "cramps \udc80"  # (what json.loads alone made of it)
    assert _problems(raw, catalogue) == ["the file is not UTF-8 text"]
    long_name = _file(patient={"id": "P-1", "family_name": "\u2222" * 20_001})  # (22 22: two "quotes" in UTF-16)
    assert _problems(long_name.encode("utf-16-le"), catalogue) == ["the file is not UTF-8 text"]
    assert _problems(long_name.encode("utf-16"), catalogue) == ["the file is not UTF-8 text"]


def test_a_utf8_file_with_a_byte_order_mark_is_read(catalogue):
    text = _file(patient={"id": "P-1", "family_name": "Ødegård-Κωνσταντίνου"})
    case = parse_case(b"\xef\xbb\xbf" + text.encode("utf-8"), catalogue)
    assert case.patient.family_name == "Ødegård-Κωνσταντίνου"
