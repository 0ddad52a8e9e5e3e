"""The case file motorchart-case/1 (exam-format.md): strict, with errors naming the JSON path."""

import copy
import json

import pytest

from domain.case import CaseError, case_to_data, parse_case
from tests.builders import catalogue

GOOD = {
    "format": "motorchart-case/1",
    "patient": {"id": "MRN-1", "family_name": "Łukasiewicz-Nowak", "given_names": "Zofia",
                "birth_date": "1961-04-02", "sex": "female", "onset_date": "2024-09-01",
                "onset_region": "upper_limb", "onset_side": "right"},
    "visits": [
        {"date": "2025-03-01", "muscles": [
            {"muscle": "first_dorsal_interosseous", "side": "right", "mrc": "4-", "wasting": "moderate",
             "emg": {"fibrillations": 2, "fasciculation_potentials": "present", "mup_large": True}}],
         "reflexes": [{"reflex": "biceps", "side": "right", "grade": 4}],
         "signs": [{"sign": "snout", "side": "midline", "present": False}]},
    ],
}


def errors(mutate) -> list[str]:
    data = copy.deepcopy(GOOD)
    mutate(data)
    with pytest.raises(CaseError) as e:
        parse_case(json.dumps(data), catalogue())
    return e.value.problems


def test_a_good_file_parses():
    c = parse_case(json.dumps(GOOD), catalogue())
    assert c.patient.family_name == "Łukasiewicz-Nowak"
    assert c.visits[0].muscles[0].mrc == "4-"


def test_a_bad_mrc_grade_names_its_path():
    def bad(d):
        d["visits"][0]["muscles"][0]["mrc"] = "6"
    assert errors(bad) == ['visits[0].muscles[0].mrc: "6" is not an MRC grade (one of 0 1 2- 2 2+ 3- 3 3+ 4- 4 4+ 5- 5)']


def test_an_mrc_grade_must_be_a_json_string():
    def bad(d):
        d["visits"][0]["muscles"][0]["mrc"] = 4
    assert errors(bad)[0].startswith("visits[0].muscles[0].mrc: 4 is not an MRC grade")


def test_unknown_keys_are_rejected():
    def bad(d):
        d["visits"][0]["muscles"][0]["strength"] = "4"
    assert errors(bad) == ["visits[0].muscles[0].strength: is not a known key"]


def test_unknown_muscle_ids_are_rejected():
    def bad(d):
        d["visits"][0]["muscles"][0]["muscle"] = "fdi"
    assert errors(bad) == ['visits[0].muscles[0].muscle: "fdi" is not a catalogue muscle']


def test_true_is_never_a_number():
    def bad(d):
        d["visits"][0]["reflexes"][0]["grade"] = True
    assert errors(bad) == ["visits[0].reflexes[0].grade: must be a whole number"]
    def bad2(d):
        d["visits"][0]["fvc_percent"] = True
    assert errors(bad2) == ["visits[0].fvc_percent: true is not a number"]


def test_grades_out_of_range_are_rejected():
    def bad(d):
        d["visits"][0]["muscles"][0]["emg"]["fibrillations"] = 5
    assert errors(bad)[0].startswith("visits[0].muscles[0].emg.fibrillations: 5 is out of range")


def test_impossible_dates_are_rejected():
    def bad(d):
        d["visits"][0]["date"] = "2025-02-30"
    assert errors(bad) == ['visits[0].date: "2025-02-30" is not a calendar date']
    def bad2(d):
        d["patient"]["onset_date"] = "1950-01-01"
    assert errors(bad2) == ["patient: onset_date 1950-01-01 is before birth_date 1961-04-02"]


def test_a_visit_after_death_is_rejected():
    def bad(d):
        d["patient"]["death_date"] = "2025-01-01"
    assert errors(bad) == ["visits: visit 2025-03-01 is after death_date 2025-01-01"]


def test_a_muscle_side_recorded_twice_is_rejected():
    def bad(d):
        d["visits"][0]["muscles"].append({"muscle": "first_dorsal_interosseous", "side": "right"})
    assert errors(bad) == ["visits[0].muscles[1]: muscle first_dorsal_interosseous right is recorded twice (also at [0])"]


def test_two_visits_on_one_date_are_rejected_naming_the_file_position():
    def bad(d):
        d["visits"].insert(0, {"date": "2024-12-01"})
        d["visits"].append({"date": "2025-03-01"})
    assert errors(bad) == ["visits[2].date: two visits on 2025-03-01 (also visits[1])"]


def test_visits_are_sorted_by_date_when_read():
    d = copy.deepcopy(GOOD)
    d["visits"].insert(0, {"date": "2025-06-01"})
    c = parse_case(json.dumps(d), catalogue())
    assert [v.date.isoformat() for v in c.visits] == ["2025-03-01", "2025-06-01"]


def test_a_partial_alsfrs_r_is_rejected():
    def bad(d):
        d["visits"][0]["alsfrs_r"] = {"speech": 4}
    probs = errors(bad)
    assert "visits[0].alsfrs_r.salivation: is required" in probs
    assert len(probs) == 12


def test_only_bulbar_and_thoracic_muscles_may_be_midline():
    def bad(d):
        d["visits"][0]["muscles"][0]["side"] = "midline"
    assert errors(bad)[0].startswith("visits[0].muscles[0].side: first_dorsal_interosseous is a cervical muscle")


def test_the_jaw_jerk_is_midline_and_signs_take_their_listed_sides():
    def bad(d):
        d["visits"][0]["reflexes"][0] = {"reflex": "jaw", "side": "left", "grade": 2}
    assert errors(bad) == ["visits[0].reflexes[0].side: jaw reflex is recorded midline, not left"]
    def bad2(d):
        d["visits"][0]["signs"][0] = {"sign": "babinski", "side": "midline", "present": True}
    assert errors(bad2) == ["visits[0].signs[0].side: babinski is recorded left or right, not midline"]


def test_a_key_written_twice_is_an_error():
    text = json.dumps(GOOD).replace('"sex": "female"', '"sex": "female", "sex": "male"')
    with pytest.raises(CaseError) as e:
        parse_case(text, catalogue())
    assert e.value.problems == ['the key "sex" is written twice in one object']


def test_required_structural_keys_and_the_format_are_checked():
    def bad(d):
        del d["patient"]["id"]
        del d["visits"][0]["date"]
    assert errors(bad) == ["patient.id: is required", "visits[0].date: is required"]
    def bad2(d):
        d["format"] = "motorchart-case/2"
    assert errors(bad2) == ['format: "motorchart-case/2" is not motorchart-case/1']


def test_invalid_json_is_one_clear_line():
    with pytest.raises(CaseError) as e:
        parse_case("{not json", catalogue())
    assert e.value.problems[0].startswith("not valid JSON: ")


def test_a_case_round_trips_through_json():
    c = parse_case(json.dumps(GOOD), catalogue())
    again = parse_case(json.dumps(case_to_data(c)), catalogue())
    assert again == c


@pytest.mark.parametrize("family,given,shown", [
    ("Łukasiewicz-Nowak", "Zofia", "Zofia Łukasiewicz-Nowak"),
    ("山田", "花子", "山田 花子"),  # Japanese: family name first
    ("王", "秀英", "王 秀英"),  # Chinese
    ("김", "민준", "김 민준"),  # Korean
    ("ヤマダ", "ハナコ", "ヤマダ ハナコ"),  # katakana
    ("Yamada", "Hanako", "Hanako Yamada"),  # the same name in Latin letters: as written in running text
    ("حداد", "ليلى", "ليلى حداد"),
    ("山田", None, "山田"),
    (None, None, "MRN-1"),
    ("山田", "Hanako", "山田 Hanako"),  # the family name's letters decide
    ("Yamada", "花子", "花子 Yamada"),
    (" 山田 ", "花子", "山田 花子"),  # (surrounding spaces are not shown)
    ("ﾔﾏﾀﾞ", "ﾊﾅｺ", "ﾔﾏﾀﾞ ﾊﾅｺ"),  # half-width katakana
])
def test_the_display_name_puts_a_cjk_family_name_first(family, given, shown):
    from domain.case import Patient

    assert Patient(id="MRN-1", family_name=family, given_names=given).display_name == shown
