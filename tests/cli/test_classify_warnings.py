"""`motorchart classify FILE` prints each visit's warnings (missing or inconsistent data) in a
"Warnings:" block of that visit, and nothing about warnings when there are none."""

import json

import pytest

from desktop.cli import main
from tests.domain.test_case_model import GOOD

GASTROSTOMY = "ALSFRS-R item 5b records a gastrostomy; no gastrostomy date is recorded."


def alsfrs_r(gastrostomy=False, respiratory_insufficiency=4) -> dict:
    items = dict(speech=4, salivation=4, swallowing=4, handwriting=4, cutting_food=4, dressing_hygiene=4,
                 turning_in_bed=4, walking=4, climbing_stairs=4, dyspnea=4, orthopnea=4,
                 respiratory_insufficiency=respiratory_insufficiency)
    return dict(items, gastrostomy=gastrostomy)


@pytest.fixture
def two_visits(tmp_path):
    """No gastrostomy or NIV date; the first visit scores item 5b and respiratory
    insufficiency 3, the second has nothing to warn about."""
    d = json.loads(json.dumps(GOOD))
    first = d["visits"][0]
    first["alsfrs_r"] = alsfrs_r(gastrostomy=True, respiratory_insufficiency=3)
    second = dict(json.loads(json.dumps(first)), date="2025-06-01", alsfrs_r=alsfrs_r())
    d["visits"].append(second)
    p = tmp_path / "case.json"
    p.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    return p


def visit_blocks(summary: str) -> dict[str, list[str]]:
    """The summary's lines per visit date."""
    blocks: dict[str, list[str]] = {}
    current = None
    for line in summary.splitlines():
        if line.startswith("Visit "):
            current = blocks.setdefault(line.split()[1], [])
        elif not line.strip() or not line.startswith(" "):
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_the_summary_lists_a_visits_warnings_in_a_warnings_block_of_that_visit(two_visits, capsys):
    assert main(["classify", str(two_visits), "--json"]) == 0
    warnings = {v["date"]: v["warnings"] for v in json.loads(capsys.readouterr().out)["visits"]}
    assert GASTROSTOMY in warnings["2025-03-01"] and len(warnings["2025-03-01"]) == 2
    assert warnings["2025-06-01"] == []

    assert main(["classify", str(two_visits)]) == 0
    blocks = visit_blocks(capsys.readouterr().out)
    first = blocks["2025-03-01"]
    head = first.index("  Warnings:")
    assert first[head + 1:head + 3] == [f"    ! {w}" for w in warnings["2025-03-01"]]
    assert not any("Warning" in line or "gastrostomy" in line for line in blocks["2025-06-01"])


def test_the_summary_says_nothing_about_warnings_when_no_visit_has_any(tmp_path, capsys):
    p = tmp_path / "case.json"
    d = json.loads(json.dumps(GOOD))
    d["visits"][0]["alsfrs_r"] = alsfrs_r()
    p.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    assert main(["classify", str(p), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["visits"][0]["warnings"] == []
    assert main(["classify", str(p)]) == 0
    out = capsys.readouterr().out
    assert "Visit 2025-03-01" in out
    assert "warning" not in out.lower()
