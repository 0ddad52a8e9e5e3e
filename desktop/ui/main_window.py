"""The main window: patient list | patient header, visit bar and visit editor | classification."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from domain.catalogue import REGIONS

from .classification import ClassificationView
from .grid import REGION_LABELS
from .patients import NewPatientDialog, PatientHeader, PatientListView
from .protocols import protocol_muscles, protocol_names
from .session import VisitSession
from .visit_editor import VisitEditorView


class MainWindow(QMainWindow):
    def __init__(self, store, catalogue, parent=None):
        super().__init__(parent)
        self.store = store
        self.catalogue = catalogue
        self.setWindowTitle(f"Motorchart: {store.path.name}")
        self.session = VisitSession(store, catalogue, self)
        s = self.session

        self.patients = PatientListView(store)
        self.header = PatientHeader(s)
        self.editor = VisitEditorView(s, catalogue)
        self.panel = ClassificationView(s)
        self.panel.setMinimumWidth(330)
        # The progression view costs ~0.3 s to import (pyqtgraph) and ~0.25 s to build: it is
        # made the first time its tab is shown, so the window opens fast.
        self.progression = None
        self._progression_tab = QWidget()
        self.editor.tabs.addTab(self._progression_tab, "Progression (Ctrl+P)")
        self._progression_stale = True
        self.editor.tabs.currentChanged.connect(self._maybe_build_progression)
        s.classified.connect(self._progression_outdated)

        # visit bar
        self.visit_combo = QComboBox()
        self.visit_combo.setObjectName("visitCombo")
        self.visit_combo.setMinimumWidth(190)
        self.protocol_combo = QComboBox()
        self.protocol_combo.setObjectName("protocolCombo")
        self.protocol_combo.addItems(protocol_names(store.settings()))
        self.new_visit_button = QPushButton("New visit (Ctrl+N)")
        self.copy_button = QPushButton("Copy forward (Ctrl+D)")
        self.sign_button = QPushButton("Sign (Ctrl+Shift+S)")
        self.amend_button = QPushButton("Amend…")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Visit"))
        bar.addWidget(self.visit_combo)
        bar.addWidget(self.new_visit_button)
        bar.addWidget(self.copy_button)
        bar.addStretch(1)
        bar.addWidget(QLabel("Rows"))
        bar.addWidget(self.protocol_combo)
        bar.addWidget(self.sign_button)
        bar.addWidget(self.amend_button)

        center = QWidget()
        cl = QVBoxLayout(center)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.header)
        cl.addLayout(bar)
        cl.addWidget(self.editor, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.patients)
        split.addWidget(center)
        split.addWidget(self.panel)
        split.setSizes([300, 860, 380])
        split.setStretchFactor(1, 1)
        self.setCentralWidget(split)
        self.resize(1560, 900)

        self._build_actions()
        self.patients.patient_selected.connect(self.open_patient)
        self.visit_combo.activated.connect(self._visit_chosen)
        self.protocol_combo.currentTextChanged.connect(self._protocol_chosen)
        self.new_visit_button.clicked.connect(lambda: self.new_visit(copy=False))
        self.copy_button.clicked.connect(lambda: self.new_visit(copy=True))
        self.sign_button.clicked.connect(self.sign_visit)
        self.amend_button.clicked.connect(self.amend_visit)
        self.panel.refs_selected.connect(self.editor.highlight)
        s.message.connect(self.show_message)
        self.editor.message.connect(self.show_message)
        s.patient_changed.connect(self._fill_visits)
        s.state_changed.connect(self._state)
        s.visit_changed.connect(self._fill_visits)
        self._state()
        self.statusBar().showMessage("Type grades straight into the grid: Enter/Tab/arrows move, "
                                     "Space toggles, Delete clears, Ctrl+1-4 jump to a region.")

    # ---------------------------------------------------------------- actions
    def _build_actions(self) -> None:
        s = self.session
        mb = self.menuBar()
        m_patient = mb.addMenu("&Patient")
        m_visit = mb.addMenu("&Visit")
        m_edit = mb.addMenu("&Edit")
        m_view = mb.addMenu("V&iew")

        def act(menu, text, shortcut, fn, name=None):
            a = QAction(text, self)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(fn)
            menu.addAction(a)
            self.addAction(a)
            if name:
                setattr(self, name, a)
            return a

        act(m_patient, "Find patient", "Ctrl+F", self._focus_search)
        act(m_patient, "New patient…", "Ctrl+Shift+N", self.new_patient)
        act(m_patient, "Preferences…", "Ctrl+,", self.preferences)
        act(m_visit, "New visit…", "Ctrl+N", lambda: self.new_visit(copy=False))
        act(m_visit, "New visit copied from the previous…", "Ctrl+D", lambda: self.new_visit(copy=True))
        act(m_visit, "Confirm carried findings in the selection", "Ctrl+Return", self._confirm_selection)
        act(m_visit, "Sign visit", "Ctrl+Shift+S", self.sign_visit, "sign_action")
        act(m_visit, "Amend signed visit…", "Ctrl+Shift+A", self.amend_visit, "amend_action")
        act(m_visit, "New muscle protocol…", None, self.new_protocol)
        m_visit.addSeparator()
        act(m_visit, "Export visit report as PDF…", "Ctrl+Shift+E",
            lambda: self._report("export", progression=False), "export_visit_action")
        act(m_visit, "Print visit report…", "Ctrl+Shift+P",
            lambda: self._report("print", progression=False), "print_visit_action")
        act(m_patient, "Export progression report as PDF…", None,
            lambda: self._report("export", progression=True), "export_progression_action")
        act(m_patient, "Print progression report…", None,
            lambda: self._report("print", progression=True), "print_progression_action")
        undo = s.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = s.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Y")])
        for a in (undo, redo):
            m_edit.addAction(a)
            self.addAction(a)
        self.undo_action, self.redo_action = undo, redo
        ed = self.editor
        act(m_view, "Examination grid", "Ctrl+E", lambda: self.show_view(ed.exam_view))
        act(m_view, "Needle EMG", "Ctrl+M", lambda: self.show_view(ed.emg_view))
        act(m_view, "Signs", "Ctrl+G", lambda: self.show_view(ed.signs_view))
        act(m_view, "History and scores", "Ctrl+H", lambda: self.show_view(ed.history_view))
        act(m_view, "Progression", "Ctrl+P", lambda: self.show_view(self.ensure_progression()))
        act(m_view, "Classification panel", "Ctrl+K", lambda: self.panel.criteria.setFocus())
        for i, region in enumerate(REGIONS, start=1):
            act(m_view, f"Jump to {REGION_LABELS[region]}", f"Ctrl+{i}",
                lambda _c=False, r=region: self.jump_to_region(r))

    def _report(self, how: str, *, progression: bool):
        from . import printing  # reportlab loads on first use, not at start-up

        fn = printing.export_report if how == "export" else printing.print_report
        return fn(self, progression=progression)

    def _maybe_build_progression(self, i: int) -> None:
        widget = self.editor.tabs.widget(i)
        if widget is self._progression_tab:
            self.ensure_progression()
        elif widget is not None and widget is self.progression and self._progression_stale:
            self._feed_progression()

    def _progression_outdated(self) -> None:
        """A new classification: redraw the progression view now if it is on screen, else
        when it is next shown (no plotting on the edit path while it is hidden)."""
        self._progression_stale = True
        if self.progression is not None and self.editor.tabs.currentWidget() is self.progression:
            self._feed_progression()

    def ensure_progression(self):
        """Build the progression view on first use and feed it the open patient."""
        if self.progression is None:
            try:
                from .progression import ProgressionView

                view = ProgressionView()
            except Exception as e:  # the other view must never stop charting
                view = None
                self.show_message(f"Progression view unavailable: {e}")
            if view is not None:
                i = self.editor.tabs.indexOf(self._progression_tab)
                self.editor.tabs.blockSignals(True)
                self.editor.tabs.removeTab(i)
                self.editor.tabs.insertTab(i, view, "Progression (Ctrl+P)")
                self.editor.tabs.setCurrentIndex(i)
                self.editor.tabs.blockSignals(False)
                self.progression = view
                self._feed_progression()
        return self.progression or self._progression_tab

    def _feed_progression(self) -> None:
        if self.progression is not None and self.session.patient is not None:
            try:
                self.progression.set_patient(self.session.current_case(), self.session.case_classification)
                self._progression_stale = False
            except Exception as e:
                self.show_message(f"Progression view: {e}")

    def show_view(self, widget) -> None:
        self.editor.tabs.setCurrentWidget(widget)
        widget.setFocus()

    def jump_to_region(self, region: str) -> None:
        view = self.editor.tabs.currentWidget()
        if view not in (self.editor.exam_view, self.editor.emg_view, self.editor.signs_view):
            view = self.editor.exam_view
            self.editor.tabs.setCurrentWidget(view)
        if view is self.editor.signs_view:
            m = view.model()
            for r, row in enumerate(m.rows):
                if not row.is_header and row.region == region:
                    view.setCurrentIndex(m.index(r, 1))
                    view.setFocus()
                    return
            return
        if not view.jump_to_region(region):
            self.show_message(f"No {REGION_LABELS[region]} muscles in this protocol.")

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)

    def _focus_search(self) -> None:
        self.patients.search.setFocus()
        self.patients.search.selectAll()

    def _confirm_selection(self) -> None:
        view = self.editor.tabs.currentWidget()
        if hasattr(view, "selectedIndexes"):
            m = view.model()
            keys = {m.key(i) for i in view.selectedIndexes() or [view.currentIndex()]} - {None}
            self.session.confirm_reviewed(keys)

    # ---------------------------------------------------------------- patient and visits
    def open_patient(self, patient_id: str) -> None:
        if self.session.patient_id == patient_id:
            return
        self.editor.history_view.commit_notes()
        self.session.open_patient(patient_id)
        self._feed_progression()
        self.editor.exam_view.setFocus()

    def new_patient(self) -> None:
        dlg = NewPatientDialog(self.store, self)
        if dlg.exec() and dlg.patient is not None:
            self.patients.refresh()
            self.open_patient(dlg.patient.id)
            self.show_message(f"Patient {dlg.patient.display_name} created.")

    def _fill_visits(self) -> None:
        s = self.session
        wanted = [d.isoformat() for d in sorted(s.visits, reverse=True)]
        have = [self.visit_combo.itemText(i) for i in range(self.visit_combo.count())]
        self.visit_combo.blockSignals(True)
        if wanted != have:  # refilling on every edit re-laid out and repainted the whole window
            self.visit_combo.clear()
            for d in wanted:
                self.visit_combo.addItem(d, d)
        if s.visit is not None:
            self.visit_combo.setCurrentIndex(self.visit_combo.findText(s.visit.date.isoformat()))
        self.visit_combo.blockSignals(False)

    def _visit_chosen(self, i: int) -> None:
        text = self.visit_combo.itemData(i)
        d = dt.date.fromisoformat(text) if text else None
        if d is not None and (self.session.visit is None or d != self.session.visit.date):
            self.editor.history_view.commit_notes()
            self.session.open_visit(d)

    def new_visit(self, *, copy: bool) -> None:
        self.editor.history_view.commit_notes()
        if self.session.patient is None:
            self.show_message("Open a patient first.")
            return
        text, ok = QInputDialog.getText(self, "New visit", "Visit date (YYYY-MM-DD):",
                                        text=dt.date.today().isoformat())
        if not ok:
            return
        try:
            date = dt.date.fromisoformat(text.strip())
        except ValueError:
            self.show_message(f"{text!r} is not a date: type YYYY-MM-DD.")
            return
        if self.session.new_visit(date, copy_from_previous=copy):
            self.patients.refresh()
            self.show_view(self.editor.exam_view)

    def _state(self) -> None:
        s = self.session
        has = s.visit is not None
        signed = has and s.status in ("signed", "amended")
        self.sign_button.setEnabled(has and not signed)
        self.sign_action.setEnabled(has and not signed)
        self.amend_button.setEnabled(signed)
        self.amend_button.setText("Finish amending" if s.amend_reason is not None else "Amend…")
        self.amend_action.setEnabled(signed)
        self.new_visit_button.setEnabled(s.patient is not None)
        self.copy_button.setEnabled(s.patient is not None and bool(s.visits))

    def sign_visit(self) -> None:
        s = self.session
        if s.visit is None or s.status != "draft":
            return
        self.editor.history_view.commit_notes()
        if not str(self.store.settings().get("clinician") or "").strip():
            name, ok = QInputDialog.getText(self, "Sign visit", "Your name (saved in Preferences):")
            if not ok or not name.strip():
                return
            self.store.set_setting("clinician", name.strip())
        if s.unreviewed:
            answer = QMessageBox.question(
                self, "Sign visit",
                f"{len(s.unreviewed)} findings carried from the previous visit are not reviewed.\n"
                "Sign anyway (they are signed as recorded)?")
            if answer != QMessageBox.StandardButton.Yes:
                self.show_message("Not signed: review the marked cells (edit them or Ctrl+Return).")
                return
        s.sign()

    def amend_visit(self) -> None:
        s = self.session
        if s.amend_reason is not None:
            s.end_amend()
            self.show_message("Amendment finished; the visit is read-only again.")
            return
        reason, ok = QInputDialog.getText(self, "Amend signed visit", "Reason for the amendment:")
        if ok and reason.strip():
            s.begin_amend(reason.strip())
        elif ok:
            self.show_message("An amendment needs a reason.")

    def _protocol_chosen(self, name: str) -> None:
        self.editor.set_protocol(protocol_muscles(name, self.catalogue, self.store.settings()))

    def new_protocol(self) -> None:
        from .protocol_dialog import ProtocolDialog

        dlg = ProtocolDialog(self.store, self.catalogue, self)
        if dlg.exec():
            self.protocol_combo.blockSignals(True)
            self.protocol_combo.clear()
            self.protocol_combo.addItems(protocol_names(self.store.settings()))
            self.protocol_combo.blockSignals(False)
            self.protocol_combo.setCurrentText(dlg.name)

    def preferences(self) -> None:
        from .preferences import PreferencesDialog

        dlg = PreferencesDialog(self.store, self)
        if dlg.exec():
            self.session.set_options(self.store.criteria_options())
            self.show_message("Preferences saved.")

    def closeEvent(self, event) -> None:
        self.editor.history_view.commit_notes()
        super().closeEvent(event)
