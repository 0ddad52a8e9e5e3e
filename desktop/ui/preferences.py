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
    from domain.options import Options

CHART_LOCATION_KEY = "chart_path"
"""QSettings key: the chart file opened when neither --db nor MOTORCHART_DB is given."""


def saved_chart_location() -> str | None:
    from PySide6.QtCore import QSettings

    v = QSettings("Motorchart", "Motorchart").value(CHART_LOCATION_KEY)
    return str(v) if v else None


class PreferencesDialog(QDialog):
    def __init__(self, store, parent=None):
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
        form.addRow(QLabel("<b>Criteria options</b> (clinical-rules.md)"))
        opts = store.criteria_options()
        self.option_widgets: dict[str, object] = {}
        from domain.options import Options

        for name, field in Options.model_fields.items():
            value = getattr(opts, name)
            if isinstance(value, bool):
                w = QComboBox()
                w.addItems(["false", "true"])
                w.setCurrentIndex(int(value))
            elif isinstance(value, int):
                w = QSpinBox()
                w.setRange(0, 4)
                w.setValue(value)
            else:
                w = QComboBox()
                w.addItems(list(field.annotation.__args__))
                w.setCurrentText(value)
            w.setToolTip(field.description or "")
            w.setObjectName(f"option_{name}")
            self.option_widgets[name] = w
            form.addRow(name.replace("_", " "), w)
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
            if isinstance(w, QSpinBox):
                values[name] = w.value()
            elif isinstance(Options.model_fields[name].default, bool):
                values[name] = w.currentText() == "true"
            else:
                values[name] = w.currentText()
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
        if loc and loc != str(self.store.path):
            from PySide6.QtCore import QSettings

            QSettings("Motorchart", "Motorchart").setValue(CHART_LOCATION_KEY, loc)
        super().accept()
