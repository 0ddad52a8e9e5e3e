"""Chart > Research export (de-identified)…: the window's side of ``motorchart export
--deidentified --format csv`` (issue 19 point 2; :mod:`desktop.interop.research`).

On the GUI thread: choose a folder, then give a research subject id to every patient with a
signed visit who has none (one quick write through the window's store). On the worker thread
(:func:`desktop.ui.background.run_op`): read the chart through a read-only connection of its
own, build the CSV files and write them, all or none. The window never offers new ids: that
forgets the old ones, a decision for the command line (``--new-ids``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

if TYPE_CHECKING:  # pragma: no cover
    from desktop.interop.research import ResearchExport

    from .background import Op
    from .main_window import MainWindow

PLAIN_NOTE = "the files are not encrypted: keep them somewhere private"


def research_export(window: MainWindow, *, folder: Path | None = None) -> Op | None:
    """Ask for a folder (unless ``folder`` is given) and write the de-identified export there
    in the background. Returns the running op (None when nothing was started)."""
    from desktop.interop.research import folder_problem
    from desktop.store.errors import StoreError

    from .background import run_op

    store = window.store
    if folder is None:
        title = "Research export (de-identified): choose a folder"
        if getattr(store, "encrypted", False):
            title += f" ({PLAIN_NOTE})"
        chosen = QFileDialog.getExistingDirectory(window, title, str(Path.home()))
        if not chosen:
            return None
        folder = Path(chosen)
    problem = folder_problem(folder)
    if problem:
        window.show_error(f"The research export was not written: {problem}")
        return None
    window.session.flush_pending()  # what is typed is part of the chart the export reads
    patients = store.patients_with_signed_visits()
    if not patients:
        window.show_message("Nothing to export: no patient has a signed visit.")
        return None
    try:
        store.assign_research_subjects(patients)  # milliseconds; the worker only reads
    except StoreError as e:
        window.show_error(f"The research export was not written: {e}")
        return None
    chart = window.chart_path

    def work() -> ResearchExport:  # on the worker thread: its own read-only connection
        from desktop.interop.research import export_research
        from desktop.store.chart import ChartStore

        ro = ChartStore.open(chart, readonly=True, check=False, daily_backup=False, user="research export")
        try:
            return export_research(ro, folder, patient_ids=patients)
        finally:
            ro.close(backup=False)

    return run_op(work, parent=window, label="Writing the research export…", disable=window.background_actions,
                  on_success=lambda done: window.show_message(
                      f"{done.summary()[0].upper()}{done.summary()[1:]}; the subject ids' mapping stays in the chart."),
                  on_failure=lambda line: window.show_error(f"The research export was not written: {line}"))
