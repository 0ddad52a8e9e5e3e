"""Preferences: criteria options, clinician and clinic names, chart file location."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
)

if TYPE_CHECKING:  # the dialog imports the domain when it opens: the launch reads only the saved location
    from desktop.store.chart import ChartStore
    from domain.options import Options

CHART_LOCATION_KEY = "chart_path"
"""QSettings key: the chart file opened when neither --db nor MOTORCHART_DB is given."""


def saved_chart_location() -> str | None:
    from PySide6.QtCore import QSettings

    v = QSettings("Motorchart", "Motorchart").value(CHART_LOCATION_KEY)
    return str(v) if v else None


class PreferencesDialog(QDialog):
    def __init__(self, store: ChartStore, parent=None):
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("Preferences")
        settings = store.settings()
        form = QFormLayout(self)
        self.clinician = QLineEdit(str(settings.get("clinician") or ""))
        self.clinician.setObjectName("clinicianEdit")
        self.clinic = QLineEdit(str(settings.get("clinic") or ""))
        form.addRow("Clinician name (signs visits)", self.clinician)
        form.addRow("Clinic name (on reports)", self.clinic)
        head = QLabel("<b>Criteria options</b>: how the published criteria are read where the "
                      "literature leaves a choice. Signed visits keep the options they were signed with.")
        head.setWordWrap(True)
        form.addRow(head)
        opts = store.criteria_options()
        self.option_widgets: dict[str, object] = {}
        from desktop.present.words import OPTION_TEXT
        from domain.options import Options

        for name, field in Options.model_fields.items():
            value = getattr(opts, name)
            label, explanation, words = OPTION_TEXT[name]
            if isinstance(value, bool):
                w = QComboBox()
                for v in (False, True):
                    w.addItem(words.get(v, str(v).lower()), v)
                w.setCurrentIndex(int(value))
            elif isinstance(value, int):
                w = QSpinBox()
                w.setRange(0, 4)
                w.setValue(value)
            else:
                w = QComboBox()
                for v in field.annotation.__args__:
                    w.addItem(words.get(v, str(v)), v)
                w.setCurrentIndex(max(0, w.findData(value)))
            w.setToolTip(explanation)
            w.setObjectName(f"option_{name}")
            self.option_widgets[name] = w
            note = QLabel(explanation)
            note.setWordWrap(True)
            note.setStyleSheet("color:#555555; font-size: 9pt;")
            form.addRow(label, w)
            form.addRow("", note)
        form.addRow(QLabel("<b>Lock</b>"))
        from .lock import DEFAULT_LOCK_MINUTES, LOCK_MINUTES_RANGE, lock_minutes

        self.lock_minutes = QSpinBox()
        self.lock_minutes.setObjectName("lockMinutes")
        self.lock_minutes.setRange(*LOCK_MINUTES_RANGE)
        self.lock_minutes.setSuffix(" min")
        self.encrypted = bool(getattr(store, "encrypted", False))
        self.lock_minutes.setValue(lock_minutes(store) if self.encrypted else DEFAULT_LOCK_MINUTES)
        form.addRow("Lock the window after this long without use", self.lock_minutes)
        if self.encrypted:
            lock_note = QLabel("Locking hides every view and closes the chart; the passphrase (or the "
                               "recovery key) opens it again. Ctrl+L locks at once.")
        else:
            self.lock_minutes.setEnabled(False)
            lock_note = QLabel("This chart is not encrypted, so it does not lock: a lock would not protect a "
                               "file anyone can read. Encrypt it first, from the command line (motorchart encrypt).")
            lock_note.setToolTip(f"motorchart encrypt --db {store.path}")
        lock_note.setObjectName("lockNote")
        lock_note.setWordWrap(True)
        lock_note.setStyleSheet("color:#555555; font-size: 9pt;")
        form.addRow("", lock_note)
        form.addRow(QLabel("<b>Chart file</b>"))
        self.location = QLineEdit(saved_chart_location() or str(store.path))
        self.location.setToolTip("Used at the next start when neither --db nor MOTORCHART_DB is given")
        form.addRow("Chart file location", self.location)
        self.problem = QLabel()
        self.problem.setStyleSheet("color:#b3261e")
        form.addRow(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def options(self) -> Options:
        from domain.options import Options

        values = {}
        for name, w in self.option_widgets.items():
            values[name] = w.value() if isinstance(w, QSpinBox) else w.currentData()
        return Options(**values)

    def accept(self) -> None:
        from pathlib import Path

        loc = self.location.text().strip()
        if loc and Path(loc).expanduser().is_dir():
            self.problem.setText(f"{loc}: is a folder; give the chart file's path")
            return
        self.store.set_setting("clinician", self.clinician.text().strip())
        self.store.set_setting("clinic", self.clinic.text().strip())
        self.store.set_criteria_options(self.options())
        if self.encrypted:
            from .lock import LOCK_SETTING, lock_minutes

            if self.lock_minutes.value() != lock_minutes(self.store):
                self.store.set_setting(LOCK_SETTING, self.lock_minutes.value())
        if loc and loc != str(self.store.path):
            from PySide6.QtCore import QSettings

            QSettings("Motorchart", "Motorchart").setValue(CHART_LOCATION_KEY, loc)
        super().accept()
