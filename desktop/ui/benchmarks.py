"""Charting window figures: launch ratio on a 2,000-patient chart and edit-to-panel latency."""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import time

from desktop.bench import figure, median_ms

from .app import PROBE_ENV
from .progression import bench_figures as _progression_figures  # noqa: F401  (registers its figure)

_BARE = """
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([]); w = QMainWindow(); w.show(); app.processEvents()
print("interactive", flush=True)
"""


def _launch(cmd: list[str]) -> dict[str, tuple[float, str]]:
    """Run ``cmd`` to its end; for each line it prints, the seconds from the start to that
    line and the line."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env[PROBE_ENV] = "1"
    # An installed Motorchart runs from compiled bytecode (pip and the bundle compile it);
    # a source checkout gets it on the first (warm-up) run, unless bytecode writing is off.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    seen = {}
    for line in proc.stdout:
        seen[line.split()[0]] = (time.perf_counter() - t0, line.strip())
    if proc.wait() != 0 or "interactive" not in seen:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode} before the window was interactive")
    return seen


@figure("ui.launch_ratio", target=1.5, unit="x",
        description="launch to an interactive window on a 2,000-patient chart / bare QMainWindow launch")
def _launch_ratio(quick: bool):
    """Both are whole new processes timed from their start to the line they print once their
    window is on screen (shown, then one pass of the event loop). For Motorchart that is the
    real entry point (``python -m desktop --db CHART``, what the ``motorchart`` command runs)
    opening the chart read-write: the window with the patient list, searchable and clickable.
    The chart then finishes opening behind it; the note gives that time ("ready") and the
    longest the event loop was held meanwhile."""
    from desktop.store.benchmarks import demo_chart

    chart = str(demo_chart(2000))
    app_cmd = [sys.executable, "-m", "desktop", "--db", chart]
    bare_cmd = [sys.executable, "-c", _BARE]
    n = 3 if quick else 9
    _launch(bare_cmd), _launch(app_cmd)  # warm the file cache and the bytecode
    bare, app, ready, stalls = [], [], [], []
    for _ in range(n):  # interleaved, so a busy moment hits both
        bare.append(_launch(bare_cmd)["interactive"][0])
        seen = _launch(app_cmd)
        app.append(seen["interactive"][0])
        ready.append(seen["ready"][0])
        stalls.append(float(seen["ready"][1].split("max_stall_ms=")[1].split()[0]))
    b, a, r = (statistics.median(x) for x in (bare, app, ready))
    return a / b, "x", (f"app {a * 1000:.0f} ms, bare {b * 1000:.0f} ms; chart fully open (ready) at "
                        f"{r * 1000:.0f} ms, event loop held at most {statistics.median(stalls):.0f} ms while it loads")


@figure("ui.edit_to_panel", target=16, unit="ms",
        description="a grid cell edit to the updated classification panel, full examination")
def _edit(quick: bool):
    import datetime as dt
    import tempfile
    from pathlib import Path

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from desktop.resources import load_catalogue
    from desktop.store import ChartStore
    from domain.case import MuscleFinding, Patient, ReflexFinding, Visit

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    cat = load_catalogue()
    with tempfile.TemporaryDirectory() as d:
        store = ChartStore.open(Path(d) / "bench.sqlite", user="bench", daily_backup=False)
        store.add_patient(Patient(id="B-1", birth_date=dt.date(1960, 1, 1), onset_date=dt.date(2024, 1, 1),
                                  onset_region="upper_limb"))
        muscles = tuple(
            MuscleFinding(muscle=m.id, side=s, mrc="4", wasting="mild", fasciculations=False)
            for m in cat.muscles for s in ("left", "right"))
        reflexes = tuple(ReflexFinding(reflex=r.id, side=s, grade=3) for r in cat.reflexes for s in r.sides)
        for i, day in enumerate((dt.date(2025, 1, 1), dt.date(2025, 6, 1))):
            store.save_visit("B-1", Visit(date=day, muscles=muscles, reflexes=reflexes))
        w = MainWindow(store, cat)
        w.protocol_combo.setCurrentText("Full catalogue")
        w.show()
        w.open_patient("B-1")
        model = w.editor.exam_model
        idx = model.index(model.row_of("deltoid"), model.column_of("mrc", "left"))
        grades = iter(["3", "4"] * 200)

        def edit():
            model.setData(idx, next(grades))
            app.processEvents()

        ms = median_ms(edit, 15 if quick else 60)
        w.close()
        store.close(backup=False)
    return ms, "ms", "setData -> undo command -> store -> classify -> panel"


def _longest_stall_ms(app, start) -> float:
    """The longest gap between ticks of a 5 ms timer on the GUI thread, from just before
    ``start()`` (which returns the background op) until the op has delivered its result."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QEventLoop()
    timer.start()
    ticks.append(time.perf_counter())
    op = start()
    op.finished.connect(loop.quit)
    if not op.done:
        loop.exec()
    ticks.append(time.perf_counter())
    timer.stop()
    if op.error is not None:
        raise RuntimeError(f"the export failed: {op.error}")
    return max(b - a for a, b in itertools.pairwise(ticks)) * 1000


@figure("ui.gui_blocked_during_report", target=50, unit="ms",
        description="longest GUI-thread stall while a full visit's PDF is exported from the window")
def _gui_blocked_during_report(quick: bool):
    """Export PDF from the window (the menu action's path, the file dialog aside) on a full
    visit (every muscle both sides with EMG, every reflex and sign, a previous visit), timed
    by a 5 ms timer on the GUI thread. The figure is the median over the exports of each one's
    longest gap between ticks; the note gives the worst, the first (reportlab imported in the
    worker) and what building the same PDF on the GUI thread takes."""
    import tempfile
    from pathlib import Path

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from desktop.domain_benchmarks import full_case
    from desktop.resources import load_catalogue
    from desktop.store import ChartStore

    from . import printing
    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as d:
        store = ChartStore.open(Path(d) / "bench.sqlite", user="bench", daily_backup=False)
        case = full_case(2)
        store.import_case(case)
        w = MainWindow(store, load_catalogue())
        w.protocol_combo.setCurrentText("Full catalogue")
        w.show()
        w.open_patient(case.patient.id)
        app.processEvents()
        target = Path(d) / "visit.pdf"
        export = lambda: printing.export_report(w, progression=False, to=target)  # noqa: E731
        try:
            cold = _longest_stall_ms(app, export)
            stalls = [_longest_stall_ms(app, export) for _ in range(4 if quick else 15)]
            sync = median_ms(lambda: printing.build_report(w.session, progression=False, page_size="a4"),
                             3 if quick else 7, warmup=1)
        finally:
            w.close()
            store.close(backup=False)
    return statistics.median(stalls), "ms", (
        f"median of {len(stalls)} exports; worst {max(stalls):.0f} ms, first {cold:.0f} ms; "
        f"the same PDF built on the GUI thread: {sync:.0f} ms")
