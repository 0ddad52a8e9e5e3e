"""PNG screenshots of each main view (offscreen `QWidget.grab`), for the README and review."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.store.chart import ChartStore


def write_screenshots(store: ChartStore, out_dir: Path) -> list[Path]:
    from PySide6.QtWidgets import QApplication

    from desktop.resources import load_catalogue

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    out_dir.mkdir(parents=True, exist_ok=True)
    w = MainWindow(store, load_catalogue())
    w.show()
    rows = store.search_patients("", limit=50)
    pick = max(rows, key=lambda r: r.n_visits, default=None)
    if pick is not None:
        w.open_patient(pick.id)
    app.processEvents()
    written = []

    def shot(name: str, widget) -> None:
        app.processEvents()
        p = out_dir / f"{name}.png"
        widget.grab().save(str(p))
        written.append(p)

    ed = w.editor
    views = [("grid", ed.exam_view), ("visit-emg", ed.emg_view), ("visit-signs", ed.signs_view),
             ("visit-history", ed.history_view)]
    views.append(("visit-progression", w.ensure_progression()))
    for name, view in views:
        ed.tabs.setCurrentWidget(view)
        shot(name, w)
    ed.tabs.setCurrentWidget(ed.exam_view)
    shot("visit-classification", w.panel)
    w.close()
    if pick is not None:
        from .progression import grab_progression_screens

        written += grab_progression_screens(store.get_case(pick.id), store.classify(pick.id), out_dir)
    return written
