"""`motorchart` with no subcommand: open the charting window on the chart file.

Start-up stays light: Qt widgets, the store and the domain only; reports and other heavy
modules are imported when first used.
"""

from __future__ import annotations

import sys
from pathlib import Path


def demo_chart_path() -> Path:
    """The demo clinic's chart file, in the user data folder (created on first use)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("motorchart", appauthor=False)) / "demo" / "demo-chart.sqlite"


def resolve_chart(db: str | None, demo: bool) -> Path:
    import os

    from desktop.store.paths import ENV_VAR, chart_path

    if demo:
        path = Path(db).expanduser() if db else demo_chart_path()
        ensure_demo(path)
        return path
    if not db and not os.environ.get(ENV_VAR, "").strip():
        from .preferences import saved_chart_location

        saved = saved_chart_location()
        if saved:
            return Path(saved).expanduser()
    return chart_path(db)


def ensure_demo(path: Path) -> None:
    """Build the demo clinic at ``path`` unless it is already there."""
    if path.exists():
        return
    from desktop.store import ChartStore
    from desktop.store.demo import build_demo

    path.parent.mkdir(parents=True, exist_ok=True)
    store = ChartStore.open(path, user="demo")
    try:
        build_demo(store)
        store.set_setting("clinic", "Demo clinic (fictional patients)")
    finally:
        store.close(backup=False)


def open_store(path: Path):
    from desktop.store import ChartStore

    return ChartStore.open(path)


def make_window(store):
    from desktop.resources import load_catalogue

    from .main_window import MainWindow

    return MainWindow(store, load_catalogue())


def paint_main_window(chart, patient_id: str) -> str:
    """Open the chart, show the main window on a patient, paint it once and close it (used by
    `motorchart --self-test`). Returns a one-line description; raises if nothing painted."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["motorchart-self-test"])
    store = open_store(chart)
    try:
        window = make_window(store)
        try:
            window.show()
            window.open_patient(patient_id)
            app.processEvents()
            image = window.grab()
            if image.isNull() or image.width() < 100:
                raise RuntimeError("the main window painted nothing")
        finally:
            # Destroy the window before its store closes: no timer or event may reach it later
            # (the self-test also runs inside other processes, e.g. the test suite).
            window.close()
            window.deleteLater()
            app.processEvents()
            app.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    finally:
        store.close(backup=False)
    return (f"PySide6 {pyside_version}, platform {app.platformName()}, main window with the "
            f"demo patient painted {image.width()}x{image.height()}")


def run_app(db: str | None, demo: bool) -> int:
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.store import StoreError

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Motorchart")
    app.setOrganizationName("Motorchart")
    try:
        path = resolve_chart(db, demo)
        store = open_store(path)
    except StoreError as e:
        QMessageBox.critical(None, "Motorchart", str(e))
        print(str(e), file=sys.stderr)
        return 2
    window = make_window(store)
    window.show()
    try:
        return app.exec()
    finally:
        store.close()
