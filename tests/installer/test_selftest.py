"""The self-test from source: every step passes here, and a failing step is one clear line."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from desktop.selftest import STEPS, run_self_test


def test_the_self_test_passes_from_source_draws_every_view_and_renders_both_reports(qapp):
    out = io.StringIO()
    assert run_self_test(out) == 0
    text = out.getvalue()
    assert "signed visit report" in text and "progression report" in text
    drawn = text.split("views drawn: ", 1)[1]
    for view in ("Examination", "Needle EMG", "Signs", "History and scores", "Progression",
                 "overview", "body map", "compare visits", "series plotted"):
        assert view in drawn, view
    lines = text.splitlines()
    assert [line.split()[1] for line in lines[:len(STEPS)]] == [n.split()[0] for n, _ in STEPS]
    assert not any("FAILED" in line for line in lines)
    assert lines[-1].startswith("self-test passed")
    assert not [w for w in qapp.topLevelWidgets() if w.isVisible()], "the self-test left a window open"


def test_a_failing_step_stops_the_run_with_exit_status_1_and_names_the_step():
    def broken(run):
        raise OSError("disk full")

    def never(run):  # pragma: no cover - must not run after a failure
        raise AssertionError("ran after a failed step")

    out = io.StringIO()
    steps = (STEPS[0], ("chart", broken), ("after", never))
    assert run_self_test(out, steps=steps) == 1
    text = out.getvalue()
    assert "self-test: chart      FAILED: OSError: disk full" in text
    assert text.splitlines()[-1].startswith("self-test FAILED at step 'chart'")
    assert "Traceback" not in text


def test_motorchart_self_test_exits_0_from_the_command_line(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MOTORCHART_DB=str(tmp_path / "never.sqlite"))
    proc = subprocess.run([sys.executable, "-m", "desktop.cli", "--self-test"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "self-test passed" in proc.stdout
    assert not (tmp_path / "never.sqlite").exists(), "the self-test must not touch the user's chart"


def test_a_progression_view_that_cannot_load_fails_the_self_test(qapp, monkeypatch):
    """Issue 21: the bundle lacked PySide6.QtOpenGL, the Progression tab stayed blank and the
    self-test still passed. Now the qt step opens that tab and fails with the missing module."""
    from desktop.ui import progression

    def missing(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'PySide6.QtOpenGL'")

    monkeypatch.setattr(progression, "ProgressionView", missing)
    out = io.StringIO()
    assert run_self_test(out) == 1
    text = out.getvalue()
    assert "self-test: qt         FAILED: RuntimeError: Progression view unavailable: No module named 'PySide6.QtOpenGL'" in text
    assert text.splitlines()[-1].startswith("self-test FAILED at step 'qt'")

