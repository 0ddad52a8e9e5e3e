"""Export PDF and Print for the open visit and the progression report.

Both build the same PDF as `motorchart report` (desktop.reports.from_chart). Printing shows the
system print dialog (printer, copies) and hands that PDF to the print system: Qt cannot draw a
PDF onto a QPrinter without QtPdf (PySide6-Addons, +150 MiB), and reprinting our PDF keeps
paper identical to the exported file."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QGuiApplication, QPageSize
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QFileDialog

from desktop.reports.from_chart import write_pdf  # this module itself is imported on first use


def default_page_size(store) -> str:
    """The chart's `page_size` setting, else Letter in the US and Canada, A4 elsewhere."""
    chosen = (store.settings().get("page_size") or "").lower()
    if chosen in ("a4", "letter"):
        return chosen
    country = QLocale.system().territory()
    return "letter" if country in (QLocale.Country.UnitedStates, QLocale.Country.Canada) else "a4"


def build_report(session, *, progression: bool, page_size: str) -> bytes:
    """The PDF of the open visit (or the progression report), as the chart holds it now."""
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


def suggested_name(session, *, progression: bool) -> str:
    what = "progression" if progression else f"visit-{session.visit.date.isoformat()}"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in session.patient.id)
    return f"{safe}-{what}.pdf"


def export_report(window, *, progression: bool) -> Path | None:
    s = window.session
    if s.patient is None or (not progression and s.visit is None):
        window.show_message("Open a patient and a visit first.")
        return None
    start = Path.home() / suggested_name(s, progression=progression)
    name, _ = QFileDialog.getSaveFileName(window, "Export PDF", str(start), "PDF files (*.pdf)")
    if not name:
        return None
    path = Path(name if name.lower().endswith(".pdf") else name + ".pdf")
    try:
        write_pdf(path, build_report(s, progression=progression, page_size=default_page_size(s.store)))
    except Exception as e:  # StoreError, ReportError, OSError: one clear line
        window.show_message(f"Could not export the PDF: {e}")
        return None
    window.show_message(f"Exported {path}")
    return path


def send_to_printer(pdf_path: Path, *, printer_name: str, copies: int) -> None:
    """Hand a PDF to the system print queue; raises RuntimeError with a clear message."""
    if sys.platform == "win32":  # the default PDF viewer prints it
        os.startfile(str(pdf_path), "print")  # type: ignore[attr-defined]  # noqa: S606
        return
    lp = shutil.which("lp")
    if lp is None:
        raise RuntimeError("no print system found (CUPS 'lp' is not installed); use Export PDF and print the file")
    cmd = [lp, "-n", str(max(1, copies))]
    if printer_name:
        cmd += ["-d", printer_name]
    res = subprocess.run([*cmd, str(pdf_path)], capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        raise RuntimeError(f"the print system refused the job: {res.stderr.strip() or res.stdout.strip()}")


def print_report(window, *, progression: bool) -> bool:
    s = window.session
    if s.patient is None or (not progression and s.visit is None):
        window.show_message("Open a patient and a visit first.")
        return False
    window._printer = printer = QPrinter()  # keep a reference: Qt must not outlive it
    size = default_page_size(s.store)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.Letter if size == "letter" else QPageSize.PageSizeId.A4))
    dialog = QPrintDialog(printer, window)
    dialog.setWindowTitle("Print progression report" if progression else "Print visit report")
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    chosen = "letter" if printer.pageLayout().pageSize().id() == QPageSize.PageSizeId.Letter else "a4"
    try:
        pdf = build_report(s, progression=progression, page_size=chosen)
        folder = Path(tempfile.mkdtemp(prefix="motorchart-print-"))
        path = folder / suggested_name(s, progression=progression)
        write_pdf(path, pdf)
        try:
            send_to_printer(path, printer_name=printer.printerName(), copies=printer.copyCount())
        finally:
            if sys.platform != "win32":  # lp spools its own copy; Windows' viewer still reads it
                shutil.rmtree(folder, ignore_errors=True)
    except Exception as e:
        window.show_message(f"Could not print: {e}")
        return False
    window.show_message(f"Sent to {printer.printerName() or 'the default printer'}")
    return True
