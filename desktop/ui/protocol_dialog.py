"""Save a custom muscle protocol: a name and the catalogue muscles to show."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
)

from .grid import REGION_LABELS
from .protocols import SCREENING, save_protocol

if TYPE_CHECKING:
    from desktop.store.chart import ChartStore
    from domain.catalogue import Catalogue


class ProtocolDialog(QDialog):
    def __init__(self, store: ChartStore, catalogue: Catalogue, parent=None):
        super().__init__(parent)
        self.store = store
        self.name = ""
        self.setWindowTitle("New muscle protocol")
        lay = QVBoxLayout(self)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Protocol name")
        lay.addWidget(self.name_edit)
        self.list = QListWidget()
        for m in catalogue.muscles:
            it = QListWidgetItem(f"{REGION_LABELS[m.region]}: {m.name}")
            it.setData(Qt.ItemDataRole.UserRole, m.id)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Checked if m.id in SCREENING else Qt.CheckState.Unchecked)
            self.list.addItem(it)
        lay.addWidget(self.list)
        self.problem = QLabel()
        self.problem.setStyleSheet("color:#b3261e")
        lay.addWidget(self.problem)
        b = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        b.accepted.connect(self.accept)
        b.rejected.connect(self.reject)
        lay.addWidget(b)

    def muscles(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def accept(self) -> None:
        try:
            save_protocol(self.store, self.name_edit.text(), self.muscles())
        except ValueError as e:
            self.problem.setText(str(e))
            return
        self.name = self.name_edit.text().strip()
        super().accept()
