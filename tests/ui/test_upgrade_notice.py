"""The window, opened on a chart from an older Motorchart, upgrades it and says so."""

from __future__ import annotations


def test_the_window_says_it_upgraded_an_older_chart_and_where_the_chart_as_it_was_is(qtbot, tmp_path):
    from desktop.store.migrations import SCHEMA_VERSION
    from tests.cli.test_upgrade import _older_chart
    from tests.ui.launch import run_app_until_its_window

    path = _older_chart(tmp_path / "chart.sqlite")
    seen = []

    def look(w):
        from PySide6.QtWidgets import QLabel

        label = w.statusBar().findChild(QLabel, "upgrade_indicator")
        seen.append((w.store.path, w.statusBar().currentMessage(), label.text(), label.toolTip()))

    assert run_app_until_its_window(str(path), look) == 0
    assert len(seen) == 1 and seen[0][0] == path
    assert seen[0][1].startswith(f"{path}: upgraded the chart from schema 12 to schema {SCHEMA_VERSION}; "
                                 "a Motorchart older than this one can no longer open it (the chart as it was: ")
    assert "-before-upgrade.sqlite.gz" in seen[0][1]
    # (and it stays, after the status bar's message has gone)
    assert seen[0][2] == f"Upgraded to schema {SCHEMA_VERSION}: older Motorchart cannot open this chart"
    assert seen[0][3] == seen[0][1]
