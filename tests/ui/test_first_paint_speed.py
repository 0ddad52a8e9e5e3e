"""The launch-speed tricks of issue 20 (desktop.launch_speed): each does what it says, and the
launch keeps its behaviour (the patient list, its search, Ctrl+F, the chart opened for writing).

The figures themselves are `motorchart bench --only ui.launch`; these tests check the
mechanisms, which the figures only see as milliseconds and megabytes."""

from __future__ import annotations

import gc
import linecache
import os
import sqlite3 as stdlib_sqlite3
import subprocess
import sys
import textwrap

from PySide6.QtCore import QTimer

from desktop import launch_speed
from desktop.store import ChartStore
from desktop.store.patient_index import PatientIndex
from desktop.ui.app import ChartLoader, resident_kb
from desktop.ui.main_window import MainWindow


def test_pyside_no_longer_reads_the_source_of_each_imported_module(tmp_path, monkeypatch):
    import desktop.ui.app  # noqa: F401  (it turns the scan off right after PySide6 is imported)

    feature = sys.modules["shibokensupport.feature"]
    assert feature._mod_uses_pyside is launch_speed._uses_pyside
    mod = tmp_path / "motorchart_scan_probe.py"
    mod.write_text("VALUE = 1  # PySide6\n" * 50)
    monkeypatch.syspath_prepend(str(tmp_path))
    linecache.checkcache()
    __import__("motorchart_scan_probe")  # (an import statement's way, which PySide6 hooks)
    try:
        assert str(mod) not in linecache.cache  # PySide's scan would have read (and kept) it
        assert feature.pyside_feature_dict["motorchart_scan_probe"] == -1
        assert launch_speed._uses_pyside(sys.modules["desktop.ui.main_window"])
        assert not launch_speed._uses_pyside(sys.modules["desktop.store.patient_index"])
    finally:
        sys.modules.pop("motorchart_scan_probe", None)


def test_gc_is_paused_until_resumed_and_a_collector_disabled_elsewhere_stays_off():
    assert gc.isenabled()
    try:
        launch_speed.pause_gc()
        assert not gc.isenabled()
        launch_speed.resume_gc()
        assert gc.isenabled()
        gc.disable()  # someone else's choice: neither call may undo it
        launch_speed.pause_gc()
        launch_speed.resume_gc()
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_the_lean_index_answers_as_the_store_and_moves_to_the_store_driver(chart):
    from desktop.store.driver import sqlite3 as store_driver

    reader = ChartStore.open(chart, readonly=True)
    index = PatientIndex.peek(chart, lean=True)
    try:
        assert index.lean and isinstance(index._conn, stdlib_sqlite3.Connection)
        for text in ("", "łukas", "MRN-0042", "nobody"):
            assert index.search_patients(text) == reader.search_patients(text)
        assert index.count_patients() == reader.count_patients() == 1
        index.use_store_driver()
        assert not index.lean and isinstance(index._conn, store_driver.Connection)
        assert index.search_patients("łukas") == reader.search_patients("łukas")
        index.use_store_driver()  # (twice: nothing more happens)
        assert isinstance(index._conn, store_driver.Connection)
    finally:
        index.close()
        reader.close()
    index.close()  # closing twice is harmless


def test_the_loader_never_opens_the_chart_while_the_stdlib_reads_it(qtbot, chart, monkeypatch):
    """Two SQLite libraries must not hold one file open at once: the window's lean index is on
    the store's driver before the store opens the chart, and the chart then opens for writing."""
    index = PatientIndex.peek(chart, lean=True)
    w = MainWindow(chart_path=chart, patient_index=index)
    qtbot.addWidget(w)
    w.show()
    drivers_at_open = []
    real_open = ChartStore.open

    def spying_open(*a, **k):
        drivers_at_open.append(type(index._conn).__module__)
        return real_open(*a, **k)

    monkeypatch.setattr(ChartStore, "open", spying_open)
    loader = ChartLoader(w, chart, w, daily_backup=False)
    with qtbot.waitSignal(w.attached, timeout=30000):
        loader.start()
    try:
        assert drivers_at_open and set(drivers_at_open) == {"sqlcipher3.dbapi2"}
        assert w.store is not None and not getattr(w.store, "read_only_reason", None)
        assert w.patients.source is w.store and w._patient_index is None
        assert w.find_action is not None  # attach made it (the launch makes it after the paint)
        assert w.patients.search.isClearButtonEnabled()
    finally:
        w.close()
        w.store.close(backup=False)


def test_find_patient_comes_after_the_first_paint_and_then_works(qtbot, chart):
    w = MainWindow(chart_path=chart, patient_index=PatientIndex.peek(chart, lean=True))
    qtbot.addWidget(w)
    w.show()
    assert w.find_action is None and w._patient_menu.actions() == []
    assert not w.patients.search.isClearButtonEnabled()  # (an icon: after the paint too)
    QTimer.singleShot(0, w.finish_shell)  # what run_app does once the window is painted
    qtbot.waitUntil(lambda: w.find_action is not None, timeout=5000)
    w.finish_shell()  # once only
    assert [a.text() for a in w._patient_menu.actions()] == ["Find patient"]
    assert w.patients.search.isClearButtonEnabled()
    w.patients.search.setText("łukas")
    w.patients.search.deselect()
    w.find_action.trigger()  # focuses the search box and selects what is typed there
    assert w.patients.search.selectedText() == "łukas"
    assert w.patients.model.rowCount() == 1


def test_a_window_built_on_a_store_has_find_patient_first_in_its_menu(window):
    assert window.find_action is not None
    assert window._patient_menu.actions()[0] is window.find_action


def test_resident_memory_is_read():
    assert resident_kb() > 10_000  # kB: a Python with Qt loaded is well over 10 MB


PROBE_AT_FIRST_PAINT = textwrap.dedent("""
    import builtins, os, runpy, sys
    real_print = builtins.print
    def probe_print(*args, **kw):
        if args and str(args[0]).startswith("interactive"):
            heavy = sorted(m for m in ("sqlcipher3", "sqlite_utils", "pydantic", "domain.classify",
                                       "desktop.store.chart", "desktop.ui.session", "reportlab", "numpy")
                           if m in sys.modules)
            real_print(args[0], "heavy=" + ",".join(heavy), "gc=" + str(__import__("gc").isenabled()),
                       "scanned=" + str(len(__import__("linecache").cache)), flush=True)
            os._exit(0)
        real_print(*args, **kw)
    builtins.print = probe_print
    sys.argv = ["desktop", "--db", sys.argv[1]]
    runpy.run_module("desktop", run_name="__main__")
""")


def test_the_real_entry_point_paints_without_the_chart_libraries(chart):
    """``python -m desktop --db CHART`` as the bench runs it, stopped at its first paint: no
    sqlcipher3 (nor sqlite-utils, pydantic, the classifier...), the collector running again,
    and PySide6 has read next to no source files."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MOTORCHART_LAUNCH_PROBE="1")
    out = subprocess.run([sys.executable, "-c", PROBE_AT_FIRST_PAINT, str(chart)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("interactive"))
    fields = dict(w.split("=", 1) for w in line.split()[1:])
    assert int(fields["rss_kb"]) > 10_000
    assert fields["heavy"] == "" and fields["gc"] == "True"
    assert int(fields["scanned"]) < 10, line  # (a few modules imported with PySide6 itself)
