"""Charting window figures: launch ratio on a 2,000-patient chart and edit-to-panel latency."""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import time

from desktop.bench import figure, median_ms

from desktop.launch_speed import CODE_CACHE_ENV

from .app import PROBE_ENV
from .progression import bench_figures as _progression_figures  # noqa: F401  (registers its figure)

_BARE = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([]); w = QMainWindow()
if len(sys.argv) == 3:
    w.resize(int(sys.argv[1]), int(sys.argv[2]))
w.show(); app.processEvents()
with open("/proc/self/status", "rb") as f:
    rss = next((int(line.split()[1]) for line in f if line.startswith(b"VmRSS:")), -1)
print(f"interactive rss_kb={rss} size={w.width()}x{w.height()}", flush=True)
"""
"""The reference: a bare PySide6 window, shown and painted once, at the size given (width,
height) or else at PySide6's default size; it reads its resident memory the way the app's probe
does (:func:`desktop.ui.app.resident_kb`) and prints its size."""


def _launch(cmd: list[str], **extra_env: str) -> dict[str, tuple[float, str]]:
    """Run ``cmd`` (with ``extra_env`` added to its environment) to its end; for each line it
    prints, the seconds from the start to that line and the line."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop(CODE_CACHE_ENV, None)  # (the cached and uncached launches are the bench's choice, not the caller's)
    env.update(extra_env)
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


def _field(line: str, name: str) -> str:
    """``name=value`` from a probe's line: the value's text."""
    for word in line.split():
        if word.startswith(name + "="):
            return word[len(name) + 1:]
    raise RuntimeError(f"no {name}= in the probe's line {line!r}")


_LAUNCHES: dict[bool, dict[str, list[float]]] = {}


def _launches(quick: bool) -> dict[str, list[float]]:
    """The launches both launch figures read, run once per bench run: Motorchart on the
    2,000-patient demo chart and two bare PySide6 windows, one at the size Motorchart's window
    reports (the reference) and one at PySide6's default size (200x100 offscreen, given in the
    notes), and Motorchart again with PySide6's support modules compiled as PySide6 does it
    (``MOTORCHART_CODE_CACHE=0``: see :func:`desktop.launch_speed.import_pyside`), interleaved
    (so a busy moment hits all four). For each run: seconds to the window on screen (``app``,
    ``bare``, ``bare_default``, ``app_uncached``), resident kB then (``app_kb``, ``bare_kb``,
    ``bare_default_kb``, ``app_uncached_kb``), seconds to the chart fully open (``ready``) and the
    longest the event loop was held while it opened (``stall_ms``).

    Why the reference is sized: a window's backing store (4 bytes a pixel offscreen) is Qt's
    memory, not Motorchart's, and a 1560x900 window holds 28 times the pixels of a 200x100 one
    (5.4 MB against 0.1 MB); compared with the default-sized window, the memory figure measured
    the window's size more than the code."""
    if quick not in _LAUNCHES:
        from desktop.store.benchmarks import demo_chart

        chart = str(demo_chart(2000))
        app_cmd = [sys.executable, "-m", "desktop", "--db", chart]
        # (also warms the file cache, the bytecode and PySide6's support-module cache)
        size = _field(_launch(app_cmd)["interactive"][1], "size")
        width, height = (int(x) for x in size.split("x"))
        bare_cmd = [sys.executable, "-c", _BARE, str(width), str(height)]
        default_cmd = [sys.executable, "-c", _BARE]
        if _field(_launch(bare_cmd)["interactive"][1], "size") != size:
            raise RuntimeError(f"the bare reference window did not take the app's size {size}")
        _launch(default_cmd)
        n = 3 if quick else 9
        keys = ("app", "bare", "bare_default", "app_uncached", "app_kb", "bare_kb", "bare_default_kb",
                "app_uncached_kb", "ready", "stall_ms")
        runs: dict[str, list[float]] = {k: [] for k in keys}
        uncached = {CODE_CACHE_ENV: "0"}
        for _ in range(n):
            for name, cmd, env in (("bare", bare_cmd, {}), ("app", app_cmd, {}), ("bare_default", default_cmd, {}),
                                   ("app_uncached", app_cmd, uncached)):
                seen = _launch(cmd, **env)
                runs[name].append(seen["interactive"][0])
                runs[name + "_kb"].append(float(_field(seen["interactive"][1], "rss_kb")))
                if name == "app":
                    runs["ready"].append(seen["ready"][0])
                    runs["stall_ms"].append(float(_field(seen["ready"][1], "max_stall_ms")))
        if min(runs["bare_kb"] + runs["app_kb"] + runs["bare_default_kb"]) <= 0:
            raise RuntimeError("resident memory could not be read (/proc/self/status)")
        runs["size"] = [width, height]
        _LAUNCHES[quick] = runs
    return _LAUNCHES[quick]


@figure("ui.launch_ratio", target=1.2, unit="x",
        description="launch to an interactive window on a 2,000-patient chart / bare QMainWindow of the same size")
def _launch_ratio(quick: bool):
    """All are whole new processes timed from their start to the line they print once their
    window is on screen (shown, then one pass of the event loop). For Motorchart that is the
    real entry point (``python -m desktop --db CHART``, what the ``motorchart`` command runs)
    opening the chart read-write: the window with the patient list, searchable and clickable.
    The chart then finishes opening behind it; the note gives that time ("ready") and the
    longest the event loop was held meanwhile, and the ratio against a default-sized bare window.

    The bare window compiles PySide6's support modules as every PySide6 program does. An
    installed (not packaged) Motorchart loads them compiled from its cache
    (:func:`desktop.launch_speed.import_pyside`), which would speed up the bare window just as
    much: the figure is therefore judged on Motorchart launched without the cache, like for
    like, so that it measures Motorchart's own start-up; the note gives the launch with the
    cache as well."""
    runs = _launches(quick)
    b, a, r, d, u = (statistics.median(runs[k]) for k in ("bare", "app", "ready", "bare_default", "app_uncached"))
    w, h = runs["size"]
    return u / b, "x", (f"app {u * 1000:.0f} ms, bare {w}x{h} {b * 1000:.0f} ms (medians of {len(runs['app'])}; "
                        f"both compiling PySide6's support modules), Motorchart's own start-up {(u - b) * 1000:.0f} ms; "
                        f"with the support modules from Motorchart's cache, as an installed Motorchart "
                        f"launches, app {a * 1000:.0f} ms ({a / b:.2f}x); "
                        f"against a default-size bare window ({d * 1000:.0f} ms) {u / d:.2f}x; "
                        f"chart fully open (ready) at {r * 1000:.0f} ms, event loop held at most "
                        f"{statistics.median(runs['stall_ms']):.0f} ms while it loads")


@figure("ui.launch_rss_ratio", target=1.3, unit="x",
        description="resident memory at the first paint on a 2,000-patient chart / bare QMainWindow's of the same size")
def _launch_rss_ratio(quick: bool):
    """The same launches as ``ui.launch_ratio`` (run once for all): each process reads its
    resident memory (``VmRSS``) when it prints its "interactive" line, the window painted. The
    note gives the ratio against PySide6's default-sized bare window too."""
    runs = _launches(quick)
    b, a, d, u = (statistics.median(runs[k]) for k in ("bare_kb", "app_kb", "bare_default_kb", "app_uncached_kb"))
    w, h = runs["size"]
    return a / b, "x", (f"app {a / 1024:.1f} MiB, bare {w}x{h} {b / 1024:.1f} MiB (medians of {len(runs['app_kb'])}); "
                        f"without the support-module cache app {u / 1024:.1f} MiB ({u / b:.2f}x); "
                        f"against a default-size bare window ({d / 1024:.1f} MiB) {a / d:.2f}x")


@figure("ui.edit_to_panel", target=16, unit="ms",
        description="a grid cell edit in the last of 30 full visits to the updated classification panel")
def _edit(quick: bool):
    """A patient with 30 full visits (every catalogue muscle on both sides with clinical and EMG
    findings, every reflex and sign, grades varying from visit to visit:
    :func:`desktop.domain_benchmarks.full_visit`), the last one open in the window with every
    catalogue row shown. One MRC cell of it is typed into (``setData``, as the grid's editor
    does) and the event loop run once: the undo command, the store's save, the classifier (a
    fold over the 30 visits with the session's EvidenceCache) and the panel's update. The
    figure is the median over the edits, two grades in turn."""
    import datetime as dt
    import tempfile
    from pathlib import Path

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from desktop.domain_benchmarks import full_visit
    from desktop.resources import load_catalogue
    from desktop.store import ChartStore
    from domain.case import Case, Patient

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    start = dt.date(2022, 1, 10)  # every 8 weeks: the last visit in June 2026, never in the future
    case = Case(format="motorchart-case/1",
                patient=Patient(id="BENCH-1", birth_date=dt.date(1960, 1, 1), onset_date=dt.date(2021, 6, 1),
                                onset_region="upper_limb"),
                visits=tuple(full_visit(start + dt.timedelta(days=56 * k), k) for k in range(30)))
    with tempfile.TemporaryDirectory() as d:
        store = ChartStore.open(Path(d) / "bench.sqlite", user="bench", daily_backup=False)
        store.import_case(case)
        w = MainWindow(store, load_catalogue())
        w.protocol_combo.setCurrentText("Full catalogue")
        w.show()
        w.open_patient(case.patient.id)
        app.processEvents()
        if w.session.visit is None or w.session.visit.date != case.visits[-1].date:
            raise RuntimeError("the last visit did not open")
        model = w.editor.exam_model
        idx = model.index(model.row_of("deltoid"), model.column_of("mrc", "left"))
        first = "3" if idx.data() != "3" else "2"
        grades = itertools.cycle([first, "4"])

        def edit():
            model.setData(idx, next(grades))
            app.processEvents()

        ms = median_ms(edit, 15 if quick else 60)
        if w.session.visit.date != case.visits[-1].date or idx.data() not in (first, "4"):
            raise RuntimeError("the edits did not land in the last visit's cell")
        w.close()
        store.close(backup=False)
    return ms, "ms", "30 full visits; setData -> undo command -> store -> classify -> panel"


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
