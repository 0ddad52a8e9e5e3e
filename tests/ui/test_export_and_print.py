"""Export PDF and Print from the app: the same PDF as `motorchart report`, read back with pypdf."""

import io
import os
import stat

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrintDialog
from PySide6.QtWidgets import QDialog, QFileDialog

from domain.case import MuscleFinding


@pytest.fixture
def examined(visit_window):
    s = visit_window.session
    s.request_edit(s.visit.model_copy(update={"muscles": (
        MuscleFinding(muscle="first_dorsal_interosseous", side="right", mrc="4-", wasting="moderate"),)}))
    return visit_window


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_export_visit_report_writes_the_visit_pdf(examined, tmp_path, monkeypatch):
    target = tmp_path / "out" / "visit.pdf"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PDF files (*.pdf)"))
    examined.export_visit_action.trigger()
    text = pdf_text(target.read_bytes())
    assert "Łukasiewicz-Nowak" in text and "2025-03-01" in text
    assert "DRAFT" in text
    assert "First dorsal interosseous" in text


def test_export_progression_report(examined, tmp_path, monkeypatch):
    target = tmp_path / "progression"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    examined.export_progression_action.trigger()
    assert "Łukasiewicz-Nowak" in pdf_text((tmp_path / "progression.pdf").read_bytes())


def test_print_sends_the_pdf_to_the_chosen_printer(examined, tmp_path, monkeypatch):
    # A real `lp` process on PATH that records what it was given (no printer in CI).
    log = tmp_path / "lp.log"
    lp = tmp_path / "bin" / "lp"
    lp.parent.mkdir()
    lp.write_text(f'#!/bin/sh\nprintf "%s " "$@" > {log}\nfor a; do f="$a"; done\ncp "$f" {tmp_path}/printed.pdf\n')
    lp.chmod(lp.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{lp.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(QPrintDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    assert examined._report("print", progression=False)
    assert log.read_text().startswith("-n 1")
    assert "Łukasiewicz-Nowak" in pdf_text((tmp_path / "printed.pdf").read_bytes())


def test_printing_without_a_print_system_says_so(examined, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(QPrintDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    messages = []
    monkeypatch.setattr(examined, "show_message", messages.append)
    assert not examined._report("print", progression=False)
    assert messages == ["Could not print: no print system found (CUPS 'lp' is not installed); use Export PDF and print the file"]
