"""The staged launch: the window and its patient list first, the chart attached behind it.

Real chart files, a real window, the real entry point in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from PySide6.QtCore import QTimer

from desktop.store import ChartStore
from desktop.store.patient_index import PatientIndex
from desktop.ui.lock import NoPatients
from desktop.ui.app import ChartLoader
from desktop.ui.main_window import WINDOW_SIZE
from desktop.ui.main_window import MainWindow


def shell(qtbot, chart):
    w = MainWindow(chart_path=chart, patient_index=PatientIndex.peek(chart))
    qtbot.addWidget(w)
    w.show()
    return w


def test_the_shell_lists_and_searches_patients_before_the_chart_is_open(qtbot, chart):
    w = shell(qtbot, chart)
    assert w.session is None and w.store is None and w.editor is None
    assert w.patients.model.index(0, 0).data() == "Łukasiewicz-Nowak, Zofia"
    w.patients.search.setText("nobody")
    assert w.patients.model.rowCount() == 0
    w.patients.search.setText("łukas")
    assert w.patients.model.rowCount() == 1
    assert w.patients.count.text() == "1 shown of 1 patients"


def test_the_loader_attaches_the_chart_and_opens_a_patient_chosen_meanwhile(qtbot, chart):
    w = shell(qtbot, chart)
    w.patients.search.setText("MRN-0042")
    w.patients.search.returnPressed.emit()  # Enter opens the first match, before the chart is open
    assert w.session is None
    loader = ChartLoader(w, chart, w)
    planned = len(loader._steps)  # the imports, then opening the chart, then attaching it
    stages = []  # how many steps had run each time the event loop got a turn
    between = QTimer()
    between.setInterval(0)  # fires on every pass of the event loop
    between.timeout.connect(lambda: stages.append(len(loader.stalls_ms)))
    between.start()
    with qtbot.waitSignal(w.attached, timeout=20000):
        loader.start()
    between.stop()
    try:
        assert isinstance(w.store, ChartStore) and w.patients.source is w.store
        assert w.session.patient_id == "MRN-0042"  # the patient chosen while it was opening
        assert "Łukasiewicz-Nowak" in w.header.text()
        assert w.sign_action.isEnabled() is False  # no visit yet
        assert w.editor.exam_model.rowCount() > 0
        # Every step ran and was timed, each in its own turn of the event loop: the window got
        # a turn between every two of them (the search box stays live), and no step held it
        # long. (Here most imports are done already; the longest steps are opening the chart
        # and building the editor, 0.1-0.2 s on 2 shared cores; `motorchart bench --only
        # ui.launch` gives the cold-process figure.)
        assert len(loader.stalls_ms) == planned > 20
        assert set(range(1, planned)) <= set(stages)
        assert max(loader.stalls_ms) < 500, loader.stalls_ms
    finally:
        w.close()
        w.store.close(backup=False)


def test_a_chart_that_cannot_be_opened_is_reported_in_one_line(qtbot, chart):
    w = shell(qtbot, chart)
    other = ChartStore.open(chart, user="elsewhere")  # another writer holds the chart
    try:
        loader = ChartLoader(w, chart, w)
        with qtbot.waitSignal(loader.failed, timeout=20000) as failed:
            loader.start()
        message = failed.args[0]
        assert "already open for writing in another Motorchart" in message and "\n" not in message
        assert w.store is None
    finally:
        other.close(backup=False)


def test_a_damaged_chart_found_by_the_background_check_is_reported(qtbot, tmp_path):
    from desktop.store.demo import demo_cases

    path = tmp_path / "chart.sqlite"
    s = ChartStore.open(path, user="dr.test")
    for case, _ in demo_cases(20, seed=4):
        s.import_case(case)
    s.close()
    with open(path, "r+b") as f:  # damage the middle of the file, as a failing disk would
        f.seek(path.stat().st_size // 2)
        f.write(b"\xa5" * 8192)
    w = MainWindow(chart_path=path, patient_index=PatientIndex.peek(path) or NoPatients())
    qtbot.addWidget(w)
    loader = ChartLoader(w, path, w)
    with qtbot.waitSignal(loader.damaged, timeout=20000) as damaged:
        loader.start()
    assert "damaged" in damaged.args[0] and "newest good backup" in damaged.args[0]
    if w.store is not None:
        w.close()
        w.store.close()


SHELL_ONLY = textwrap.dedent("""
    import sys
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from desktop.store.patient_index import PatientIndex
    from desktop.ui.main_window import MainWindow
    w = MainWindow(chart_path=sys.argv[1], patient_index=PatientIndex.peek(sys.argv[1]))
    w.show(); app.processEvents()
    heavy = [m for m in ("sqlite_utils", "pydantic", "domain.case", "domain.classify", "desktop.store.chart",
                         "desktop.ui.session", "desktop.ui.visit_editor", "reportlab", "numpy")
             if m in sys.modules]
    print(w.patients.model.rowCount(), heavy)
""")


def test_the_window_shows_its_patient_list_without_loading_the_heavy_modules(chart):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", SHELL_ONLY, str(chart)], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "1 []"


def test_the_real_entry_point_reaches_an_interactive_then_a_ready_window(chart):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MOTORCHART_LAUNCH_PROBE="1")
    out = subprocess.run([sys.executable, "-m", "desktop", "--db", str(chart)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    first = dict(word.split("=") for word in lines[0].split()[1:])
    assert lines[0].startswith("interactive ") and int(first["rss_kb"]) > 10_000
    assert first["size"] == "{}x{}".format(*WINDOW_SIZE)  # the size the bench's bare window takes
    assert lines[1].startswith("ready max_stall_ms=")
    assert "Traceback" not in out.stderr


def test_the_bench_reference_window_takes_the_size_it_is_given():
    """The bare window the launch figures compare with: sized like the app's, or PySide6's default."""
    from desktop.ui.benchmarks import _BARE

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    sizes = []
    for args in ([str(n) for n in WINDOW_SIZE], []):
        out = subprocess.run([sys.executable, "-c", _BARE, *args], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        words = dict(w.split("=") for w in out.stdout.split()[1:])
        assert int(words["rss_kb"]) > 10_000
        sizes.append(words["size"])
    assert sizes[0] == "{}x{}".format(*WINDOW_SIZE) and sizes[1] != sizes[0]


def test_the_launch_region_labels_follow_the_domain_regions():
    from desktop.ui.labels import REGION_LABELS
    from domain.catalogue import REGIONS

    assert tuple(REGION_LABELS) == REGIONS
