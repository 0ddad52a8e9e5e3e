"""Patient > Export FHIR…: the open patient as a FHIR R4B transaction bundle for the hospital
record, the same file as ``motorchart export --format fhir`` (:mod:`desktop.interop.fhir_export`).

On the GUI thread: what is typed is stored, draft visits are offered (as preliminary), and the
save dialog says the file is not encrypted. The bundle (with each signed visit's report PDF) is
built, validated and written on the worker thread (:func:`desktop.ui.background.run_op`) through
its own read-only connection to the chart, as the PDF export does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMessageBox

from .background import USER_ERRORS, Op, run_op

if TYPE_CHECKING:  # pragma: no cover
    from .main_window import MainWindow

DIALOG_TITLE = "Export FHIR bundle (not encrypted: private patient data, keep it somewhere private)"


def suggested_name(patient_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in patient_id)
    return f"{safe}-fhir.json"


@dataclass(frozen=True, kw_only=True)
class FhirJob:
    """Plain values only: it runs on the worker thread."""

    chart: Path
    patient_id: str
    include_drafts: bool
    printed_at: dt.datetime
    to: Path

    def __call__(self):
        from desktop.interop.fhir_export import export_fhir
        from desktop.outfiles import write_atomic
        from desktop.store.chart import ChartStore

        store = ChartStore.open(self.chart, readonly=True, check=False, daily_backup=False, user="fhir export")
        try:
            store.db.conn.execute("BEGIN")  # one consistent state of the chart for every read
            done = export_fhir(store, self.patient_id, include_drafts=self.include_drafts,
                               printed_at=self.printed_at)
        finally:
            store.close(backup=False)
        try:
            write_atomic(self.to, done.text)
        except OSError as e:  # name the chosen file, not the temporary one
            raise OSError(e.errno, e.strerror, str(self.to)) from None
        return self.to, done


def export_fhir_bundle(window: MainWindow, *, to: Path | None = None,
                       include_drafts: bool | None = None) -> Op | None:
    """Ask about draft visits (when there are some, unless ``include_drafts`` is given) and
    where to write (unless ``to`` is given), then export in the background. Returns the running
    op (None if nothing was started)."""
    from desktop.interop.fhir_export import FhirExportError
    from desktop.reports.common import ReportError

    s = window.session
    if s is None or s.patient is None:
        window.show_message("Open a patient first.")
        return None
    s.flush_pending()
    pid = s.patient.id
    drafts = [d for d in s.store.visit_dates(pid) if s.store.visit_status(pid, d) == "draft"]
    if include_drafts is None:
        include_drafts = False
        if drafts:
            answer = QMessageBox.question(
                window, "Export FHIR bundle",
                f"{len(drafts)} visit(s) of this patient are drafts (not signed). Send them too, marked "
                "preliminary? (No: only the signed visits.)",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.No)
            if answer == QMessageBox.StandardButton.Cancel:
                return None
            include_drafts = answer == QMessageBox.StandardButton.Yes
    if to is None:
        start = Path.home() / suggested_name(pid)
        name, _ = QFileDialog.getSaveFileName(window, DIALOG_TITLE, str(start), "FHIR JSON (*.json)")
        if not name:
            return None
        to = Path(name)
    path = to if to.suffix.lower() == ".json" else to.with_name(to.name + ".json")
    job = FhirJob(chart=Path(s.store.path), patient_id=pid, include_drafts=include_drafts,
                  printed_at=dt.datetime.now().astimezone().replace(microsecond=0), to=path)

    def done(result) -> None:
        where, bundle = result
        window.show_message(f"Exported the FHIR bundle {where}: {bundle.visits} visit(s), {bundle.entries} "
                            "entries (not encrypted: keep it somewhere private)")

    return run_op(job, parent=window, label="Exporting the FHIR bundle…", disable=window.background_actions,
                  on_success=done,
                  on_failure=lambda line: window.show_error(f"The FHIR bundle was not exported: {line}"),
                  expected=(*USER_ERRORS, FhirExportError, ReportError))
