"""`motorchart classify` and the command-line contract: exit 2 and one line per problem."""

import json
import subprocess
import sys

import pytest

from desktop.cli import main
from tests.domain.test_case_model import GOOD


@pytest.fixture
def case_file(tmp_path):
    p = tmp_path / "case.json"
    d = json.loads(json.dumps(GOOD))
    d["visits"][0]["progressive_by_history"] = True
    p.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    return p


def test_classify_json_prints_the_classification_format(case_file, capsys):
    assert main(["classify", str(case_file), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "motorchart-classification/1"
    v = out["visits"][0]
    assert v["criteria"]["el_escorial"]["category"] == "possible"
    assert set(v["regions"]) == {"bulbar", "cervical", "thoracic", "lumbosacral"}
    assert v["muscles"][0]["muscle"] == "first_dorsal_interosseous" and v["muscles"][0]["mixed"] is False
    assert out["summary"]["highest"]["el_escorial"] == {"category": "possible", "date": "2025-03-01"}
    for key in ("alsfrs_r", "delta_fs", "alsfrs_r_slope", "staging", "mrc_sum", "umn_score", "phenotype", "spread"):
        assert key in v


def test_classify_prints_a_readable_summary_with_regions_and_reasons(case_file, capsys):
    assert main(["classify", str(case_file)]) == 0
    out = capsys.readouterr().out
    assert "Patient Zofia Łukasiewicz-Nowak (MRN-1)" in out
    assert "Thoracic     not examined" in out
    assert "Revised El Escorial: Clinically possible" in out
    assert "Cervical UMN: Biceps reflex R 4 (pathologically brisk)." in out


def test_options_change_the_result(case_file, capsys):
    main(["classify", str(case_file), "--json", "--set", "clinical_lmn_rule=weakness_and_wasting"])
    assert json.loads(capsys.readouterr().out)["options"]["clinical_lmn_rule"] == "weakness_and_wasting"


def test_a_bad_option_exits_2_naming_it(case_file, capsys):
    assert main(["classify", str(case_file), "--set", "probable_reading=loose", "--set", "nope=1"]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    assert cap.err.splitlines() == [
        "--set probable_reading=loose: probable_reading must be distributed or colocated",
        '--set nope=1: unknown option "nope" (known: scm_region, abdominal_reflexes_umn, preserved_reflex_min_grade, '
        "preserved_reflex_max_mrc, preserved_reflex_min_wasting, clinical_lmn_rule, root_rule, probable_reading, "
        "gcc_reading)",
    ]


def test_the_new_options_are_set_on_the_command_line_and_bad_values_named(case_file, capsys):
    """Issue 12: preserved_reflex_max_mrc, preserved_reflex_min_wasting, root_rule=no_shared_principal."""
    assert main(["classify", str(case_file), "--json", "--set", "preserved_reflex_max_mrc=4-",
                 "--set", "preserved_reflex_min_wasting=severe", "--set", "root_rule=principal_differs"]) == 0
    opts = json.loads(capsys.readouterr().out)["options"]
    assert (opts["preserved_reflex_max_mrc"], opts["preserved_reflex_min_wasting"], opts["root_rule"]) == (
        "4-", "severe", "principal_differs")
    main(["classify", str(case_file), "--json"])
    opts = json.loads(capsys.readouterr().out)["options"]
    assert (opts["preserved_reflex_max_mrc"], opts["preserved_reflex_min_wasting"], opts["root_rule"]) == (
        "4", "moderate", "no_shared_principal")
    assert main(["classify", str(case_file), "--set", "preserved_reflex_max_mrc=6",
                 "--set", "preserved_reflex_min_wasting=none"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "--set preserved_reflex_max_mrc=6: preserved_reflex_max_mrc must be an MRC grade "
        "(0 1 2- 2 2+ 3- 3 3+ 4- 4 4+ 5- 5)",
        "--set preserved_reflex_min_wasting=none: preserved_reflex_min_wasting must be mild or moderate or severe",
    ]


def test_bad_input_exits_2_with_one_line_per_problem_and_nothing_on_stdout(tmp_path, capsys):
    d = json.loads(json.dumps(GOOD))
    d["visits"][0]["muscles"][0]["mrc"] = "6"
    d["visits"][0]["reflexes"][0]["grade"] = 7
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(d))
    assert main(["classify", str(p), "--json"]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    lines = cap.err.splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{p}: visits[0].") for line in lines)


def test_a_missing_file_is_one_line(tmp_path, capsys):
    assert main(["classify", str(tmp_path / "none.json")]) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'none.json'}: no such file\n"


def test_the_installed_command_never_prints_a_traceback(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("[1, 2]")
    res = subprocess.run([sys.executable, "-m", "desktop.cli", "classify", str(p)], capture_output=True, text=True)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr == f"{p}: the file must hold a JSON object\n"
