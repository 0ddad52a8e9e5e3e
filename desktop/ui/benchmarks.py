"""Charting window figures: launch ratio on a 2,000-patient chart and edit-to-panel latency."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from desktop.bench import figure, median_ms

from .progression import bench_figures as _progression_figures  # noqa: F401  (registers its figure)

_BARE = """
import time; t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([]); w = QMainWindow(); w.show(); app.processEvents()
"""
_APP = """
import sys, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from desktop.store import ChartStore
from desktop.ui.app import make_window
store = ChartStore.open(sys.argv[1], readonly=True, check=False)
w = make_window(store); w.show(); app.processEvents()
"""


def _launch_s(code: str, *args: str) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


@figure("ui.launch_ratio", target=1.5, unit="x",
        description="launch to an interactive window on a 2,000-patient chart / bare QMainWindow launch")
def _launch(quick: bool):
    from desktop.store.benchmarks import demo_chart

    chart = str(demo_chart(2000))
    n = 3 if quick else 7
    _launch_s(_BARE), _launch_s(_APP, chart)  # warm the file cache
    bare = statistics.median(_launch_s(_BARE) for _ in range(n))
    app = statistics.median(_launch_s(_APP, chart) for _ in range(n))
    return app / bare, "x", f"app {app * 1000:.0f} ms, bare {bare * 1000:.0f} ms, whole processes"


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
