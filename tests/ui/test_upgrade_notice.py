"""The window, opened on a chart from an older Motorchart, upgrades it and says so."""

from __future__ import annotations


def test_the_window_says_it_upgraded_an_older_chart_and_where_the_chart_as_it_was_is(qtbot, tmp_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.store.migrations import SCHEMA_VERSION
    from desktop.ui.app import run_app
    from desktop.ui.main_window import MainWindow
    from tests.cli.test_upgrade import _older_chart

    path = _older_chart(tmp_path / "chart.sqlite")
    seen = []

    def look():
        from PySide6.QtCore import QThread

        for w in QApplication.topLevelWidgets():
            # (quit from inside app.exec: a quit before it starts is ignored)
            if (isinstance(w, MainWindow) and w.isVisible() and w.store is not None and w.store.path == path
                    and QThread.currentThread().loopLevel() >= 1):
                seen.append(w.statusBar().currentMessage())
                w.close()
                w.deleteLater()
                QApplication.instance().quit()
                return
        QTimer.singleShot(20, look)

    QTimer.singleShot(0, look)
    QApplication.setQuitOnLastWindowClosed(False)  # (its posted quit would outlive run_app here)
    try:
        assert run_app(str(path), demo=False) == 0
    finally:
        QApplication.setQuitOnLastWindowClosed(True)
    assert len(seen) == 1
    assert seen[0].startswith(f"{path}: upgraded the chart from schema 12 to schema {SCHEMA_VERSION}; "
                              "a Motorchart older than this one can no longer open it (the chart as it was: ")
    assert "-before-upgrade.sqlite.gz" in seen[0]
