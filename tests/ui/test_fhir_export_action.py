"""Patient > Export FHIR… in the window: the save dialog says the file is not encrypted, draft
visits are offered, and the bundle is built and written on the worker thread (the same file as
`motorchart export --format fhir`)."""

from __future__ import annotations

import datetime as dt
import json

from PySide6.QtWidgets import QFileDialog, QMessageBox

from desktop.ui import background
from tests.store.conftest import make_visit


def wait_for_ops(qtbot, timeout=60000):
    qtbot.waitUntil(lambda: background.running() == 0, timeout=timeout)


def test_export_fhir_asks_where_with_a_privacy_warning_and_writes_the_bundle(window, store, qtbot, tmp_path,
                                                                               monkeypatch):
    store.save_visit("MRN-0042", make_visit("2025-03-01"))
    store.sign_visit("MRN-0042", dt.date(2025, 3, 1), clinician="Dr Renée Côté")
    store.save_visit("MRN-0042", make_visit("2025-07-10"))
    window.open_patient("MRN-0042")
    asked = {}

    def save(parent, title, start, filters):
        asked.update(title=title, start=start, filters=filters)
        return str(tmp_path / "bundle"), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    menu = [a.text() for a in window._patient_menu.actions()]
    assert "Export FHIR…" in menu
    window.export_fhir_action.trigger()
    assert window.export_fhir_action in window.background_actions
    assert not window.export_fhir_action.isEnabled()  # while the bundle is built in the background
    wait_for_ops(qtbot)
    assert "not encrypted" in asked["title"] and asked["start"].endswith("MRN-0042-fhir.json")
    target = tmp_path / "bundle.json"
    bundle = json.loads(target.read_text(encoding="utf-8"))
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Encounter") == 2 and kinds.count("DocumentReference") == 1  # the draft, preliminary
    assert window.statusBar().currentMessage().startswith(f"Exported the FHIR bundle {target}: 2 visit(s)")
    assert window.export_fhir_action.isEnabled()


def test_cancelling_the_drafts_question_exports_nothing(window, store, tmp_path, monkeypatch):
    store.save_visit("MRN-0042", make_visit("2025-03-01"))
    window.open_patient("MRN-0042")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError("no dialog after Cancel")))
    assert window.export_fhir() is None
    assert list(tmp_path.glob("*.json")) == []
