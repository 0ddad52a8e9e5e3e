"""Export PDF and Print for the open visit and the progression report.

Both build the same PDF as `motorchart report` (desktop.reports.from_chart). Printing shows the
system print dialog (printer, copies) and hands that PDF to the print system: Qt cannot draw a
PDF onto a QPrinter without QtPdf (PySide6-Addons, +150 MiB), and reprinting our PDF keeps
paper identical to the exported file.

The PDF is built off the GUI thread (:func:`desktop.ui.background.run_op`): :func:`report_job`
takes what the window knows (the chart file, the patient, the visit, the options) on the GUI
thread and returns a Qt-free job that opens its own read-only connection to the chart, so the
store's connection never leaves the GUI thread. The file is written, and handed to the print
system, by the same job."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QGuiApplication, QPageSize
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QFileDialog

from desktop.reports.common import ReportError
from desktop.reports.from_chart import write_pdf  # this module itself is imported on first use

from .background import USER_ERRORS, Op, run_op

if TYPE_CHECKING:  # pragma: no cover
    from domain.options import Options

    from desktop.store.chart import ChartStore

    from .main_window import MainWindow
    from .session import VisitSession

REPORT_ERRORS = (*USER_ERRORS, ReportError)
"""Shown as they are: the chart, the report or the file system said no."""


class PrintError(RuntimeError):
    """The print system is missing or refused the job: one clear line."""


PRINT_ERRORS = (*REPORT_ERRORS, PrintError)
"""Printing adds the print system's refusal (:func:`send_to_printer`)."""


def default_page_size(store: ChartStore) -> str:
    """The chart's `page_size` setting, else Letter in the US and Canada, A4 elsewhere."""
    chosen = (store.settings().get("page_size") or "").lower()
    if chosen in ("a4", "letter"):
        return chosen
    country = QLocale.system().territory()
    return "letter" if country in (QLocale.Country.UnitedStates, QLocale.Country.Canada) else "a4"


def build_report(session: VisitSession, *, progression: bool, page_size: str) -> bytes:
    """The PDF of the open visit (or the progression report), as the chart holds it now, built
    here on the calling (GUI) thread: the window uses :func:`report_job` instead."""
    from desktop.reports.from_chart import report_from_chart

    session.flush_pending()
    date = None if progression else session.visit.date
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        return report_from_chart(
            session.store, session.patient.id, visit_date=date, progression=progression,
            page_size=page_size, printed_at=dt.datetime.now().astimezone().replace(microsecond=0),
            options=session.options,
        )
    finally:
        QGuiApplication.restoreOverrideCursor()


def report_job(session: VisitSession, *, progression: bool, page_size: str) -> Callable[[], bytes]:
    """The same PDF as :func:`build_report`, as a Qt-free job for the worker thread.

    On the GUI thread: what is typed is stored and the patient, visit, options and time are
    taken. The job opens its own read-only connection to the chart file and reads everything
    in one read transaction (one consistent state of the chart even while the clinician goes
    on charting; the chart is in WAL mode, so the reader holds no writer up)."""
    session.flush_pending()
    return _ReportJob(
        chart=Path(session.store.path), patient_id=session.patient.id,
        visit_date=None if progression else session.visit.date, progression=progression,
        page_size=page_size, printed_at=dt.datetime.now().astimezone().replace(microsecond=0),
        options=session.options)


@dataclass(frozen=True, kw_only=True)
class _ReportJob:
    """Plain values only: it runs on the worker thread."""

    chart: Path
    patient_id: str
    visit_date: dt.date | None
    progression: bool
    page_size: str
    printed_at: dt.datetime
    options: Options

    def __call__(self) -> bytes:
        from desktop.reports.from_chart import report_from_chart
        from desktop.store.chart import ChartStore

        store = ChartStore.open(self.chart, readonly=True, check=False, daily_backup=False, user="report")
        try:
            store.db.conn.execute("BEGIN")  # one snapshot for every read of the report
            return report_from_chart(
                store, self.patient_id, visit_date=self.visit_date, progression=self.progression,
                page_size=self.page_size, printed_at=self.printed_at, options=self.options)
        finally:
            store.close(backup=False)


def suggested_name(session: VisitSession, *, progression: bool) -> str:
    what = "progression" if progression else f"visit-{session.visit.date.isoformat()}"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in session.patient.id)
    return f"{safe}-{what}.pdf"


def export_dialog_title(store: ChartStore) -> str:
    """The save dialog's title: for an encrypted chart it says the PDF is not (the title is
    the one line every platform's file dialog shows)."""
    if getattr(store, "encrypted", False):
        from .lock import PLAIN_EXPORT_NOTE

        return f"Export PDF ({PLAIN_EXPORT_NOTE})"
    return "Export PDF"


def export_report(window: MainWindow, *, progression: bool, to: Path | None = None) -> Op | None:
    """Ask where (unless ``to`` is given), then build and write the PDF in the background.
    Returns the running op (None if nothing was started)."""
    s = window.session
    if s.patient is None or (not progression and s.visit is None):
        window.show_message("Open a patient and a visit first.")
        return None
    if to is None:
        start = Path.home() / suggested_name(s, progression=progression)
        name, _ = QFileDialog.getSaveFileName(window, export_dialog_title(s.store), str(start), "PDF files (*.pdf)")
        if not name:
            return None
        to = Path(name)
    path = to if to.suffix.lower() == ".pdf" else to.with_name(to.name + ".pdf")
    job = report_job(s, progression=progression, page_size=default_page_size(s.store))

    def work() -> Path:  # on the worker thread
        pdf = job()
        try:
            write_pdf(path, pdf)
        except OSError as e:  # name the chosen file, not write_pdf's temporary one
            raise OSError(e.errno, e.strerror, str(path)) from None
        return path

    what = "progression" if progression else "visit"
    return run_op(
        work, parent=window, label=f"Exporting the {what} report…", disable=window.background_actions,
        on_success=lambda p: window.show_message(f"Exported {p}"),
        on_failure=lambda line: window.show_error(f"Could not export the PDF: {line}"),
        expected=REPORT_ERRORS)


def send_to_printer(pdf_path: Path, *, printer_name: str, copies: int) -> None:
    """Hand a PDF to the system print queue; raises PrintError (a RuntimeError) with a clear message."""
    if sys.platform == "win32":  # the default PDF viewer prints it
        os.startfile(str(pdf_path), "print")  # type: ignore[attr-defined]  # noqa: S606
        return
    lp = shutil.which("lp")
    if lp is None:
        raise PrintError("no print system found (CUPS 'lp' is not installed); use Export PDF and print the file")
    cmd = [lp, "-n", str(max(1, copies))]
    if printer_name:
        cmd += ["-d", printer_name]
    res = subprocess.run([*cmd, str(pdf_path)], capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        raise PrintError(f"the print system refused the job: {res.stderr.strip() or res.stdout.strip()}")


def print_report(window: MainWindow, *, progression: bool) -> Op | None:
    """The print dialog (GUI thread), then build the PDF and hand it to the print system in
    the background. Returns the running op (None if nothing was started)."""
    s = window.session
    if s.patient is None or (not progression and s.visit is None):
        window.show_message("Open a patient and a visit first.")
        return None
    window._printer = printer = QPrinter()  # keep a reference: Qt must not outlive it
    size = default_page_size(s.store)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.Letter if size == "letter" else QPageSize.PageSizeId.A4))
    dialog = QPrintDialog(printer, window)
    dialog.setWindowTitle("Print progression report" if progression else "Print visit report")
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    chosen = "letter" if printer.pageLayout().pageSize().id() == QPageSize.PageSizeId.Letter else "a4"
    printer_name, copies = printer.printerName(), printer.copyCount()  # plain values for the worker
    job = report_job(s, progression=progression, page_size=chosen)
    name = suggested_name(s, progression=progression)

    def work() -> str:  # on the worker thread
        pdf = job()
        folder = Path(tempfile.mkdtemp(prefix="motorchart-print-"))
        path = folder / name
        try:
            write_pdf(path, pdf)
            send_to_printer(path, printer_name=printer_name, copies=copies)
        finally:
            if sys.platform != "win32":  # lp spools its own copy; Windows' viewer still reads it
                shutil.rmtree(folder, ignore_errors=True)
        return printer_name or "the default printer"

    what = "progression" if progression else "visit"
    return run_op(
        work, parent=window, label=f"Printing the {what} report…", disable=window.background_actions,
        on_success=lambda where: window.show_message(f"Sent to {where}"),
        on_failure=lambda line: window.show_error(f"Could not print: {line}"),
        expected=PRINT_ERRORS)
