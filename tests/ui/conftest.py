"""UI tests drive real widgets offscreen on a real chart file in tmp_path."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported

import datetime as dt  # noqa: E402

import pytest  # noqa: E402

from domain.case import Patient  # noqa: E402
from desktop.resources import load_catalogue  # noqa: E402


@pytest.fixture(autouse=True)
def own_settings(tmp_path, qapp):
    """Each test reads and writes its own QSettings (window layout, chart location), never the
    user's, nor another test's."""
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    yield


@pytest.fixture
def catalogue():
    return load_catalogue()


@pytest.fixture
def store(tmp_path):
    from desktop.store import ChartStore

    s = ChartStore.open(tmp_path / "chart.sqlite", user="tester")
    s.set_setting("clinician", "Dr Renée Côté")
    yield s
    s.close(backup=False)


@pytest.fixture
def patient(store):
    p = Patient(id="MRN-0042", family_name="Łukasiewicz-Nowak", given_names="Zofia",
                birth_date=dt.date(1961, 4, 2), sex="female", onset_date=dt.date(2024, 9, 1),
                onset_region="upper_limb", onset_side="right")
    store.add_patient(p)
    return p


@pytest.fixture
def chart(store, patient):
    """The launch tests' closed chart file with the accented patient in it."""
    path = store.path
    store.close(backup=False)
    return path


@pytest.fixture
def window(qtbot, store, catalogue, patient):
    from desktop.ui.main_window import MainWindow

    w = MainWindow(store, catalogue)
    qtbot.addWidget(w)
    w.show()
    w.open_patient(patient.id)
    return w


@pytest.fixture
def visit_window(window):
    """The window with an empty draft visit open on the full catalogue."""
    assert window.session.new_visit(dt.date(2025, 3, 1), copy_from_previous=False)
    window.protocol_combo.setCurrentText("Full catalogue")
    return window
