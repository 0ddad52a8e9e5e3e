"""`motorchart bench` prints each figure beside its target; a rate (higher is better, issue 20)
is met at or above its target and is marked so in the JSON."""

from __future__ import annotations

import json

import pytest

from desktop import bench


@pytest.fixture
def figures(monkeypatch):
    monkeypatch.setattr(bench, "_load", lambda: None)
    monkeypatch.setattr(bench, "FIGURES", {})
    bench.figure("test.rate", target=2000, unit="/s", description="a rate", higher_is_better=True)(
        lambda quick: (1500.0, "/s", "a note"))
    bench.figure("test.time", target=16, unit="ms", description="a time")(lambda quick: (10.0, "ms"))
    return bench.FIGURES


def test_the_json_marks_rates_and_gives_each_target(figures, capsys):
    assert bench.run_bench(json_out=True, only=[], quick=True) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["test.rate"] == {"value": 1500.0, "unit": "/s", "target": 2000, "higher_is_better": True,
                                "note": "a note"}
    assert out["test.time"] == {"value": 10.0, "unit": "ms", "target": 16}


def test_a_rate_below_its_target_is_a_miss_and_a_time_under_it_is_met(figures, capsys):
    bench.run_bench(json_out=False, only=["test."], quick=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("MISS test.rate") and "target >= 2000 /s" in lines[0]
    assert lines[1].startswith("ok   test.time") and "target <= 16 ms" in lines[1]
    assert not figures["test.rate"].met(1999.9) and figures["test.rate"].met(2000)


def test_interleaved_medians_time_each_call_in_turn_round_after_round():
    """A ratio's two sides are timed alternately (after the warm-up rounds), so that a busy moment
    of the machine meets both; each side's own median is returned."""
    from desktop import bench

    calls = []
    medians = bench.interleaved_median_ms([lambda: calls.append("a"), lambda: calls.append("b")], repeat=5, warmup=2)
    assert calls == ["a", "b"] * 7
    assert len(medians) == 2 and all(m >= 0 for m in medians)
    assert bench.median_ms(lambda: calls.append("c"), repeat=3, warmup=1) >= 0 and calls.count("c") == 4


def test_a_figure_measured_in_a_fresh_process_comes_back_whole_or_fails_naming_why(tmp_path, monkeypatch):
    import os

    import pytest

    from desktop.bench import in_fresh_process

    (tmp_path / "figure_probe.py").write_text(
        "import os, sys\n"
        "def rate(quick):\n"
        "    print('the figure prints too')\n"
        "    return (1234.5, '/s', f'pid {os.getpid()} quick {quick} modules {len(sys.modules)}')\n"
        "def broken(quick):\n"
        "    raise ValueError('no chart here')\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    value, unit, note = in_fresh_process("figure_probe", "rate", True)
    assert (value, unit) == (1234.5, "/s")
    assert note.startswith("pid ") and int(note.split()[1]) != os.getpid() and "quick True" in note
    with pytest.raises(RuntimeError, match="figure_probe.broken failed in its own process.*no chart here"):
        in_fresh_process("figure_probe", "broken", False)
