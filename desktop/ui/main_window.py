"""The main window: patient list | patient header, visit bar and visit editor | classification.

It opens in two steps so the clinic sees its patient list at once. The *shell* (menus with
Find patient, the patient list) needs only Qt and a source of patient rows, at launch a
read-only ``PatientIndex``; :meth:`MainWindow.attach` then adds the store, the session, the
visit bar, the visit editor, the classification panel and the other menu actions (``desktop.ui.app`` calls it once they are loaded). A patient
chosen before that is opened as soon as the store is attached. Built with a store, the window
attaches at once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from .labels import REGION_LABELS
from .patients import PatientListView

# Only the shell's widgets above: each PySide6 class costs a little the first time it is used
# (its enums are built), so the visit bar's and the actions' classes (QComboBox, QPushButton,
# QAction, QKeySequence and, through QAction, QIcon) are imported where they are made, after
# the first paint (desktop.launch_speed).

if TYPE_CHECKING:  # pragma: no cover
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QHBoxLayout

    from domain.catalogue import Catalogue

    from desktop.store.chart import ChartStore
    from desktop.store.patient_index import PatientIndex

    from .background import Op

_SPLIT_SIZES = [300, 860, 380]  # patient list | visit | classification panel
WINDOW_SIZE = (1560, 900)
"""The window's size when no layout was saved (the bench's bare reference window takes the size
the launched window reports: ``desktop.ui.benchmarks``)."""
_HEADER_STYLE = ("QLabel#patientHeader { background:#f3f6fa; padding:6px; "
                 "border-bottom:1px solid #d0d7e2 }")


class MainWindow(QMainWindow):
    attached = Signal()  # the store, session, editor and panel are in place
    key_unlocked = Signal(object)  # an encrypted chart's key, unwrapped at launch (the loader opens it)
    locked_changed = Signal(bool)  # the window locked (True) or unlocked (False)

    def __init__(self, store: ChartStore | None = None, catalogue: Catalogue | None = None,
                 parent: QWidget | None = None, *, chart_path: Path | None = None,
                 patient_index: PatientIndex | None = None, locked: bool = False):
        """With a ``store``: the whole window at once. Else the launch's shell on
        ``chart_path``: its patient list from ``patient_index``, or, for an encrypted chart
        (``locked``), only the unlock prompt until the passphrase is typed (see
        :mod:`desktop.ui.lock`)."""
        super().__init__(parent)
        if store is None and (chart_path is None or (patient_index is None and not locked)):
            raise TypeError("MainWindow needs a store, or a chart path and a patient index (or locked=True)")
        self.store = None
        self.catalogue = None
        self.session = None
        self.editor = None
        self.panel = None
        self.progression = None
        self._pending_patient: str | None = None
        self.background_actions: list[QAction] = []  # disabled while one of them runs (background.run_op)
        self.error_box = None  # the last failure's message box (non-blocking)
        self.info_box = None  # the last chart check's verdict
        self._patient_index = patient_index
        self.chart_path = Path(store.path if store is not None else chart_path)
        self.setWindowTitle(f"Motorchart: {self.chart_path.name}")
        # the lock (an encrypted chart only; desktop.ui.lock is imported for one)
        self.locked = False
        self.encrypted = locked or bool(getattr(store, "encrypted", False))
        self.unlock_view = None  # the unlock prompt, made when first needed
        self.idle_watch = None
        self.lock_action = None
        self._stack = None
        self._place = None  # where the clinician was when the window locked
        self._actions_before: dict = {}
        self._unlocking = None  # the running unlock op
        self.find_action: QAction | None = None  # Patient > Find patient (Ctrl+F): finish_shell

        # Before the store is attached the list shows a screenful (SHELL_LIMIT rows), then 200.
        if store is not None:
            self.patients = PatientListView(store)
        elif locked:
            from .lock import NoPatients

            self.patients = PatientListView(NoPatients())
        else:
            self.patients = PatientListView(patient_index, limit=PatientListView.SHELL_LIMIT)
        self.header = QLabel("<span style='color:#777'>Opening the chart…</span>")
        self.header.setObjectName("patientHeader")
        self.header.setStyleSheet(_HEADER_STYLE)

        # the editor and the panel take these places when the chart is attached
        self._editor_slot = QLabel("Opening the chart…")
        self._editor_slot.setStyleSheet("color:#777; qproperty-alignment: AlignCenter")
        self._panel_slot = QWidget()
        self._panel_slot.setMinimumWidth(330)

        center = QWidget()
        self._center = QVBoxLayout(center)
        self._center.setContentsMargins(0, 0, 0, 0)
        self._center.addWidget(self.header)
        self._center.addWidget(self._editor_slot, 1)  # the visit bar goes above it on attach
        self._split = QSplitter()  # horizontal (no Qt enum on the launch path: see patients.RowRole)
        self._split.addWidget(self.patients)
        self._split.addWidget(center)
        self._split.addWidget(self._panel_slot)
        self._split.setSizes(_SPLIT_SIZES)
        self._split.setStretchFactor(1, 1)
        self.setCentralWidget(self._split)
        self.resize(*WINDOW_SIZE)

        self._build_menus()
        self.patients.patient_selected.connect(self.open_patient)
        if store is not None:
            self.attach(store, catalogue)
        elif locked:  # nothing from the chart is shown before its passphrase
            self.finish_shell()
            self._show_lock_page(None)
        else:  # the launch: finish_shell once the window is painted (desktop.ui.app.run_app)
            self.statusBar().showMessage("Opening the chart… (search the patient list meanwhile)")

    def before_store_opens(self) -> None:
        """The chart is about to be opened in this process: a patient index that reads it
        through the standard library's sqlite3 moves to the store's driver first (two SQLite
        libraries must never hold the same file open at once)."""
        if self._patient_index is not None:
            self._patient_index.use_store_driver()

    def finish_shell(self) -> None:
        """The shell's one action, Patient > Find patient (Ctrl+F), and the search box's clear
        button (:meth:`PatientListView.finish`). At launch it is made in the
        event loop's first turn after the window is painted (making a QAction builds QAction's,
        QKeySequence's and QIcon's enums: ~4 ms, half of it QIcon's 151 theme icons), else with
        the window; :meth:`attach` makes it if it is not there yet. Made once."""
        if self.find_action is None:
            self.patients.finish()
            self.find_action = self._act(self._patient_menu, "Find patient", "Ctrl+F", self._focus_search)
            if self.locked:  # (locked meanwhile: every action is off until the unlock)
                self._actions_before[self.find_action] = True
                self.find_action.setEnabled(False)

    def attach(self, store: ChartStore, catalogue: Catalogue) -> None:
        """Put the store, session, visit editor and classification panel in place."""
        self.finish_shell()  # (first in the Patient menu)
        from .classification import ClassificationView
        from .fonts import add_fallback_font
        from .patients import PatientHeader
        from .protocols import protocol_names
        from .session import VisitSession
        from .visit_editor import VisitEditorView

        self.store = store
        self.catalogue = catalogue
        if add_fallback_font():  # (names the list already shows in CJK letters: drawn again with them)
            self.patients.table.viewport().update()
        self.session = s = VisitSession(store, catalogue, self)
        header = PatientHeader(s)
        header.edit_requested.connect(self.edit_patient)
        self._center.replaceWidget(self.header, header)
        self.header.deleteLater()
        self.header = header
        self._center.insertLayout(1, self._build_visit_bar())
        self.editor = VisitEditorView(s, catalogue)
        self._center.replaceWidget(self._editor_slot, self.editor)
        self._editor_slot.deleteLater()
        self.panel = ClassificationView(s)
        self.panel.setMinimumWidth(330)
        sizes = self._split.sizes() if self._split.isVisible() else _SPLIT_SIZES  # keep a user's drag
        self._split.replaceWidget(2, self.panel)
        self._split.setSizes(sizes)
        self._restore_layout()
        self._panel_slot.deleteLater()
        # The progression view costs ~0.3 s to import (pyqtgraph) and ~0.25 s to build: it is
        # made the first time its tab is shown, so the window opens fast.
        self._progression_tab = QWidget()
        self.editor.tabs.addTab(self._progression_tab, "Progression (Ctrl+P)")
        self._progression_stale = True
        self.editor.tabs.currentChanged.connect(self._maybe_build_progression)
        self.protocol_combo.addItems(protocol_names(store.settings()))
        self.protocol_combo.currentTextChanged.connect(self._protocol_chosen)

        self._build_chart_actions()
        self.panel.refs_selected.connect(self.editor.highlight)
        s.message.connect(self.show_message)
        self.editor.message.connect(self.show_message)
        s.changed.connect(self._on_changed)
        self.patients.set_source(store)
        if self._patient_index is not None:
            self._patient_index.close()
            self._patient_index = None
        self._state()
        self.encrypted = self.encrypted or bool(getattr(store, "encrypted", False))
        if self.encrypted:
            from .lock import IdleWatch, lock_minutes

            self.idle_watch = IdleWatch(lock_minutes(store) * 60, self)
            self.idle_watch.idle.connect(self._idle_lock)
        if self.locked:  # unlocked at launch: the chart is open, the views come out
            self._show_chart()
        elif self.idle_watch is not None:
            self.idle_watch.start()
        self.statusBar().showMessage("Type grades straight into the grid: Enter/Tab/arrows move, "
                                     "Space toggles, Delete clears, Ctrl+1-4 jump to a region, "
                                     "Ctrl+Shift+O attributes a muscle to another cause.")
        self.attached.emit()
        if self._pending_patient is not None:
            pending, self._pending_patient = self._pending_patient, None
            self.open_patient(pending)

    # ---------------------------------------------------------------- actions
    def _build_visit_bar(self) -> QHBoxLayout:
        """Visit choice, new visit, copy forward, the protocol, sign and amend (on attach:
        none of it means anything before there is a chart)."""
        from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton

        self.visit_combo = QComboBox()
        self.visit_combo.setObjectName("visitCombo")
        self.visit_combo.setMinimumWidth(190)
        self.protocol_combo = QComboBox()
        self.protocol_combo.setObjectName("protocolCombo")
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
        self.visit_combo.activated.connect(self._visit_chosen)
        self.new_visit_button.clicked.connect(lambda: self.new_visit(copy=False))
        self.copy_button.clicked.connect(lambda: self.new_visit(copy=True))
        self.sign_button.clicked.connect(self.sign_visit)
        self.amend_button.clicked.connect(self.amend_visit)
        return bar

    def _build_menus(self) -> None:
        """The shell's menus: only finding a patient works before the chart is attached (its
        action: :meth:`finish_shell`)."""
        mb = self.menuBar()
        self._patient_menu = mb.addMenu("&Patient")
        self._visit_menu = mb.addMenu("&Visit")
        self._edit_menu = mb.addMenu("&Edit")
        self._view_menu = mb.addMenu("V&iew")

    def _act(self, menu, text, shortcut, fn, name=None):
        from PySide6.QtGui import QAction, QKeySequence

        a = QAction(text, self)
        if shortcut:
            # setShortcuts, not setShortcut: the latter's overload check builds the Qt enums
            # (~25 ms at launch; see patients.RowRole)
            a.setShortcuts([QKeySequence(shortcut)])
        a.triggered.connect(fn)
        menu.addAction(a)
        self.addAction(a)
        if name:
            setattr(self, name, a)
        return a

    def _build_chart_actions(self) -> None:
        """Everything else, once there is a chart (built in :meth:`attach`)."""
        from PySide6.QtGui import QKeySequence

        act, s = self._act, self.session
        m_patient, m_visit, m_view = self._patient_menu, self._visit_menu, self._view_menu
        act(m_patient, "New patient…", "Ctrl+Shift+N", self.new_patient, "new_patient_action")
        act(m_patient, "Edit details…", None, self.edit_patient, "edit_patient_action")
        act(m_patient, "Preferences…", "Ctrl+,", self.preferences)
        act(m_visit, "New visit…", "Ctrl+N", lambda: self.new_visit(copy=False), "new_visit_action")
        act(m_visit, "New visit copied from the previous…", "Ctrl+D", lambda: self.new_visit(copy=True),
            "copy_visit_action")
        act(m_visit, "Confirm carried findings in the selection", "Ctrl+Return", self._confirm_selection)
        act(m_visit, "Sign visit", "Ctrl+Shift+S", self.sign_visit, "sign_action")
        act(m_visit, "Amend signed visit…", "Ctrl+Shift+A", self.amend_visit, "amend_action")
        act(m_visit, "Change date…", None, self.redate_visit, "redate_action")
        act(m_visit, "Delete draft visit…", None, self.delete_visit, "delete_visit_action")
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
        act(m_patient, "Export FHIR…", None, self.export_fhir, "export_fhir_action")
        m_chart = self.menuBar().addMenu("&Chart")
        act(m_chart, "Back up the chart now", None, self.backup_chart, "backup_action")
        act(m_chart, "Check the chart file…", None, self.check_chart, "check_action")
        act(m_chart, "Research export (de-identified)…", None, self.research_export, "research_export_action")
        m_chart.addSeparator()
        act(m_chart, "Lock", "Ctrl+L", lambda: self.lock(), "lock_action")
        self.lock_action.setStatusTip("Hide the chart until its passphrase is typed again" if self.encrypted
                                      else "Only an encrypted chart locks")
        # the slow work, done in the background: none starts while another runs
        self.background_actions = [self.export_visit_action, self.print_visit_action,
                                   self.export_progression_action, self.print_progression_action,
                                   self.export_fhir_action,
                                   self.backup_action, self.check_action]
        self.background_actions.append(self.research_export_action)
        undo = s.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = s.undo_stack.createRedoAction(self, "&Redo")
        # the platform's Redo keys plus both usual ones, each once (StandardKey.Redo is Ctrl+Y on
        # some platforms: listed twice, Qt found the shortcut ambiguous and did nothing)
        keys: list[QKeySequence] = []
        for k in (*QKeySequence.keyBindings(QKeySequence.StandardKey.Redo),
                  QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")):
            if k not in keys:
                keys.append(k)
        redo.setShortcuts(keys)
        for a in (undo, redo):
            self._edit_menu.addAction(a)
            self.addAction(a)
        self.undo_action, self.redo_action = undo, redo
        ed = self.editor
        act(m_view, "Examination grid", "Ctrl+E", lambda: self.show_view(ed.exam_view))
        act(m_view, "Needle EMG", "Ctrl+M", lambda: self.show_view(ed.emg_view))
        act(m_view, "Signs", "Ctrl+G", lambda: self.show_view(ed.signs_view))
        act(m_view, "History and scores", "Ctrl+H", lambda: self.show_view(ed.history_view))
        act(m_view, "Progression", "Ctrl+P", lambda: self.show_view(self.ensure_progression()))
        act(m_view, "Classification panel", "Ctrl+K", lambda: self.panel.criteria.setFocus())
        for i, (region, label) in enumerate(REGION_LABELS.items(), start=1):
            act(m_view, f"Jump to {label}", f"Ctrl+{i}", lambda _c=False, r=region: self.jump_to_region(r))

    def _report(self, how: str, *, progression: bool) -> Op | None:
        """Export or print a report; the PDF is built in the background (the running op, or
        None when nothing was started)."""
        from . import printing  # reportlab loads on first use, not at start-up

        fn = printing.export_report if how == "export" else printing.print_report
        return fn(self, progression=progression)

    def export_fhir(self) -> Op | None:
        """Patient > Export FHIR…: the patient as a FHIR R4B bundle for the hospital record,
        built and written in the background (:mod:`desktop.ui.fhir_export`)."""
        from .fhir_export import export_fhir_bundle

        return export_fhir_bundle(self)

    def backup_chart(self) -> Op:
        """Chart > Back up the chart now: a checked copy beside the rotating backups, made in
        the background through its own read-only connection (no writer lock is taken)."""
        from desktop.store.files import backup_chart

        from .background import run_op

        self.session.flush_pending()  # what is typed goes into the copy
        path = self.chart_path
        return run_op(lambda: backup_chart(path, "manual"), parent=self, label="Backing up the chart…",
                      disable=self.background_actions,
                      on_success=lambda made: self.show_message(f"Backup made: {made}"),
                      on_failure=lambda line: self.show_error(f"The backup was not made: {line}"))

    def check_chart(self) -> Op:
        """Chart > Check the chart file…: SQLite's integrity check and every signature's hash,
        in the background on a read-only connection; the verdict is shown in a message box."""
        from .background import run_op

        path = self.chart_path
        return run_op(lambda: _check_chart_file(path), parent=self, label="Checking the chart file…",
                      disable=self.background_actions,
                      on_success=self._show_check, on_failure=lambda line: self.show_error(
                          f"The chart file could not be checked: {line}"))

    def research_export(self) -> Op | None:
        """Chart > Research export (de-identified)…: every patient's signed visits as CSV files
        for research, in a folder (:mod:`desktop.ui.research_export`)."""
        from .research_export import research_export

        return research_export(self)

    def _show_check(self, problems: list[str]) -> None:
        if problems:
            self.show_error("The chart file has problems:\n" + "\n".join(problems))
            return
        from PySide6.QtWidgets import QMessageBox

        self.show_message("Chart check: the file is sound and every signature matches.")
        self.info_box = box = QMessageBox(QMessageBox.Icon.Information, "Motorchart",
                                          f"{self.chart_path}: the chart file is sound and every "
                                          "signed visit matches its signature.", parent=self)
        box.open()

    def _maybe_build_progression(self, i: int) -> None:
        widget = self.editor.tabs.widget(i)
        if widget is self._progression_tab:
            self.ensure_progression()
        elif widget is not None and widget is self.progression and self._progression_stale:
            self._feed_progression()

    def _on_changed(self, ch) -> None:
        """Everything the window itself shows follows the session's one change signal: the
        visit list, the buttons and actions, the patient list and the progression view."""
        if ch.opened or ch.visits or ch.visit:
            self._fill_visits(refill=ch.opened or ch.visits)
        if ch.opened or ch.visits or ch.visit or ch.state:
            self._state()
        if (ch.patient or ch.visits) and not ch.opened:
            # the list shows the name, MRN, birth date, the visit count and the last visit
            self.patients.refresh()
            self.patients.select(self.session.patient_id)
        if ch.classification or ch.patient_shown:
            self._progression_outdated()

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
        if widget in (self.editor.exam_view, self.editor.emg_view, self.editor.signs_view):
            widget.ensure_current()  # so the arrow keys work at once
        widget.setFocus()

    def jump_to_region(self, region: str) -> None:
        view = self.editor.tabs.currentWidget()
        if view not in (self.editor.exam_view, self.editor.emg_view, self.editor.signs_view):
            view = self.editor.exam_view
            self.editor.tabs.setCurrentWidget(view)
        if not view.jump_to_region(region):
            self.show_message(f"No {REGION_LABELS[region]} muscles in this protocol.")

    def show_message(self, text: str) -> None:
        if self.locked:  # (work that ended after the lock: nothing about the chart on screen)
            return
        self.statusBar().showMessage(text, 15000)

    def show_error(self, text: str) -> None:
        """A failure the clinician must see: one message box, which does not block the window
        (the work that failed ended in the background, maybe while they were charting)."""
        from PySide6.QtWidgets import QMessageBox

        if self.error_box is not None:
            self.error_box.close()
            self.error_box.deleteLater()
        self.statusBar().clearMessage()
        self.error_box = box = QMessageBox(QMessageBox.Icon.Warning, "Motorchart", text, parent=self)
        box.open()

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
        if self.session is None:  # chosen while the chart is still opening: opened on attach
            self._pending_patient = patient_id
            self.show_message("Opening the chart… the patient opens in a moment.")
            return
        if self.session.patient_id == patient_id:
            return
        self.editor.history_view.commit_notes()
        self.session.open_patient(patient_id)
        self._feed_progression()
        self.editor.exam_view.setFocus()

    def new_patient(self) -> None:
        from .new_patient import NewPatientDialog

        dlg = NewPatientDialog(self.store, self)
        if dlg.exec() and dlg.patient is not None:
            self.patients.refresh()
            self.patients.select(dlg.patient.id)  # (the new patient's row, when the list shows it)
            self.open_patient(dlg.patient.id)
            self.show_message(f"Patient {dlg.patient.display_name} created.")

    def patient_dialog(self):
        """The form on the open patient (tests fill and accept it without exec)."""
        from .new_patient import PatientDialog

        return PatientDialog(self.store, self, patient=self.session.patient, session=self.session)

    def edit_patient(self) -> None:
        """Patient > Edit details… (or a double-click on the header): identity, history dates
        and milestones, checked by the store; a refusal stays in the form and changes nothing."""
        if self.session is None or self.session.patient is None:
            self.show_message("Open a patient first.")
            return
        self.editor.history_view.commit_notes()
        old_id = self.session.patient.id
        dlg = self.patient_dialog()
        if dlg.exec() and dlg.patient is not None:
            new_id = self.session.patient.id
            renamed = f" (MRN {old_id} is now {new_id})" if new_id != old_id else ""
            self.show_message(f"Details of {self.session.patient.display_name} saved{renamed}.")

    def _fill_visits(self, *, refill: bool = True) -> None:
        """The visit list: refilled only when the visit dates changed (refilling re-lays out and
        repaints the whole window), else only its current entry follows the open visit."""
        s = self.session
        self.visit_combo.blockSignals(True)
        if refill:
            self.visit_combo.clear()
            for d in sorted(s.visits, reverse=True):
                self.visit_combo.addItem(d.isoformat(), d.isoformat())
        self.visit_combo.setCurrentIndex(
            self.visit_combo.findText(s.visit.date.isoformat()) if s.visit is not None else -1)
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
        date = self._ask_date("New visit", "Visit date (YYYY-MM-DD):", dt.date.today())
        if date is None:
            return
        if self.session.new_visit(date, copy_from_previous=copy):
            self.show_view(self.editor.exam_view)

    def redate_visit(self) -> None:
        """Visit > Change date…: re-date the open draft (the store refuses a signed visit, a
        taken or future date, or one outside the patient's life)."""
        s = self.session
        if s.visit is None:
            self.show_message("No visit is open.")
            return
        self.editor.history_view.commit_notes()
        date = self._ask_date("Change the visit's date",
                              f"New date for the visit of {s.visit.date.isoformat()} (YYYY-MM-DD):",
                              s.visit.date)
        if date is not None:
            s.redate_visit(date)

    def _ask_date(self, title: str, label: str, default: dt.date) -> dt.date | None:
        """A date typed in a small dialog; None when cancelled or not a date (said in the
        status bar)."""
        from PySide6.QtWidgets import QInputDialog

        text, ok = QInputDialog.getText(self, title, label, text=default.isoformat())
        if not ok:
            return None
        try:
            return dt.date.fromisoformat(text.strip())
        except ValueError:
            self.show_message(f"{text!r} is not a date: type YYYY-MM-DD.")
            return None

    def delete_visit(self) -> None:
        """Visit > Delete draft visit…: asks first; the store refuses a signed visit (its
        message is shown, nothing is asked). The latest visit left opens."""
        s = self.session
        if s.visit is None:
            self.show_message("No visit is open.")
            return
        self.editor.history_view.commit_notes()
        date = s.visit.date
        if s.status == "draft":
            from PySide6.QtWidgets import QMessageBox

            answer = QMessageBox.question(
                self, "Delete draft visit",
                f"Delete the draft visit of {date.isoformat()} with everything recorded in it? "
                "This cannot be undone.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        s.delete_visit(date)  # a signed visit: the store's refusal goes to the status bar

    def _state(self) -> None:
        s = self.session
        has = s.visit is not None
        signed = has and s.status in ("signed", "amended")
        amending = has and s.amending
        if self.store.readonly:  # a chart on a read-only file or folder: read, export, print
            for w in (self.sign_button, self.sign_action, self.amend_button, self.amend_action,
                      self.new_visit_button, self.copy_button, self.edit_patient_action,
                      self.redate_action, self.delete_visit_action, self.new_patient_action,
                      self.new_visit_action, self.copy_visit_action, self.backup_action):
                w.setEnabled(False)
            return
        self.sign_button.setEnabled(has and not signed)
        self.sign_button.setText("Sign amendment… (Ctrl+Shift+S)" if amending else "Sign (Ctrl+Shift+S)")
        self.sign_action.setEnabled(has and not signed)
        self.sign_action.setText("Sign amendment…" if amending else "Sign visit")
        self.amend_button.setEnabled(signed or amending)
        self.amend_button.setText("Discard amendment…" if amending else "Amend…")
        self.amend_action.setEnabled(signed or amending)
        self.amend_action.setText("Discard amendment…" if amending else "Amend signed visit…")
        self.new_visit_button.setEnabled(s.patient is not None)
        self.copy_button.setEnabled(s.patient is not None and bool(s.visits))
        self.edit_patient_action.setEnabled(s.patient is not None)
        self.redate_action.setEnabled(has)
        self.delete_visit_action.setEnabled(has)

    def _ensure_clinician(self, title: str) -> bool:
        from PySide6.QtWidgets import QInputDialog

        if str(self.store.setting("clinician") or "").strip():
            return True
        name, ok = QInputDialog.getText(self, title, "Your name (saved in Preferences):")
        if not ok or not name.strip():
            return False
        self.store.set_setting("clinician", name.strip())
        return True

    def sign_visit(self) -> None:
        """Sign the draft (or the open amendment, with its reason). Cells copied forward and
        not reviewed need a choice: sign them marked as carried, or drop them from the visit."""
        s = self.session
        if s.visit is None or s.status not in ("draft", "amending"):
            return
        self.editor.history_view.commit_notes()
        from PySide6.QtWidgets import QInputDialog

        if s.amending:
            if not self._ensure_clinician("Sign amendment"):
                return
            reason, ok = QInputDialog.getText(self, "Sign amendment", "Reason for the amendment:")
            if not ok:
                return
            if not reason.strip():
                self.show_message("Not signed: an amendment needs a reason.")
                return
            s.sign_amendment(reason.strip())
            return
        if not self._ensure_clinician("Sign visit"):
            return
        carried = None
        if s.unreviewed:
            carried = self.ask_carried(len(s.unreviewed), s.carried_from)
            if carried is None:
                self.show_message("Not signed: review the marked cells (edit them or Ctrl+Return).")
                return
        s.sign(carried)

    def ask_carried(self, n: int, source: dt.date | None) -> str | None:
        """Ask what to do with ``n`` cells copied forward and not reviewed: "keep" (sign them
        marked as carried), "drop" (remove them from this visit) or None (do not sign)."""
        from PySide6.QtWidgets import QMessageBox

        where = source.isoformat() if source else "the previous visit"
        box = QMessageBox(QMessageBox.Icon.Question, "Sign visit",
                          f"{n} findings copied from {where} are not reviewed.", parent=self)
        box.setInformativeText(
            "Sign them marked as carried from that visit (the report says so), or drop them from "
            "this visit? To review them instead, cancel and edit or confirm them (Ctrl+Return).")
        keep = box.addButton("Sign as carried", QMessageBox.ButtonRole.AcceptRole)
        drop = box.addButton("Drop them and sign", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return "keep" if clicked is keep else "drop" if clicked is drop else None

    def amend_visit(self) -> None:
        """Open an amendment of a signed visit; while one is open, offer to discard it."""
        s = self.session
        if s.visit is None:
            return
        if s.amending:
            from PySide6.QtWidgets import QMessageBox

            answer = QMessageBox.question(
                self, "Discard amendment",
                "Discard the changes of this amendment? The signed version stays the visit.")
            if answer == QMessageBox.StandardButton.Yes:
                s.discard_amendment()
            return
        if s.status in ("signed", "amended"):
            s.begin_amend()

    def _protocol_chosen(self, name: str) -> None:
        from .protocols import protocol_muscles

        self.editor.set_protocol(protocol_muscles(name, self.catalogue, self.store.settings()))

    def new_protocol(self) -> None:
        from .protocol_dialog import ProtocolDialog

        dlg = ProtocolDialog(self.store, self.catalogue, self)
        if dlg.exec():
            from .protocols import protocol_names

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
            if self.idle_watch is not None:
                from .lock import lock_minutes

                self.idle_watch.set_seconds(lock_minutes(self.store) * 60)
            self.show_message("Preferences saved.")

    def _close_when_idle(self) -> None:
        from .background import running_for

        if not running_for(self):
            self.close()

    # ---------------------------------------------------------------- the lock (encrypted charts)
    def lock(self, *, reason: str | None = None) -> bool:
        """Chart > Lock (Ctrl+L), or the idle time set in Preferences: store whatever is being
        typed, hide every view behind the unlock prompt, then, once the background work has
        finished, close the chart (the day's backup as usual) and forget its key. Unlocking
        needs the passphrase and comes back to the same patient, visit and view. Only an
        encrypted chart locks (a plain one says why not); False when nothing was locked."""
        if self.locked:
            return True
        if self.session is None:  # still opening: nothing of the chart is on screen to hide
            return False
        if not self.encrypted:
            from .lock import PLAIN_CANNOT_LOCK

            self.show_message(PLAIN_CANNOT_LOCK.format(path=self.chart_path))
            return False
        self._close_dialogs()  # a dialog left open is cancelled: its window shows chart data
        s = self.session
        s.flush_pending()  # the notes, a number or a grid entry still being typed
        ed = self.editor
        grids = (ed.exam_view, ed.emg_view, ed.signs_view)
        self._place = (s.patient_id, s.visit.date if s.visit is not None else None, ed.tabs.currentIndex(),
                       [(g.currentIndex().row(), g.currentIndex().column()) for g in grids])
        self._show_lock_page(reason or "Locked (Ctrl+L): the chart is closed and everything typed is stored.")
        s.close_patient()  # every view empties itself
        self.patients.set_source(_no_patients())
        self._close_chart_when_idle()
        return True

    def _idle_lock(self) -> None:
        minutes = round(self.idle_watch.seconds / 60) if self.idle_watch is not None else 0
        after = f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes >= 1 else "a time"
        self.lock(reason=f"Locked after {after} without use: the chart is closed and everything typed "
                         "is stored.")

    def _close_dialogs(self) -> None:
        from PySide6.QtWidgets import QApplication, QDialog

        for _ in range(20):  # nested dialogs close innermost first
            popup = QApplication.activePopupWidget()
            if popup is not None:
                popup.close()
                continue
            modal = QApplication.activeModalWidget()
            if modal is None or modal is self:
                break
            if isinstance(modal, QDialog):
                modal.reject()
            else:
                modal.close()
            if modal.isVisible():  # refused to close (e.g. it is working): leave it
                break
        for box in (self.error_box, self.info_box):
            if box is not None:
                box.close()

    def _show_lock_page(self, reason: str | None) -> None:
        """Put the unlock prompt in place of every view (made the first time) and turn off
        every action."""
        if self._stack is None:
            from PySide6.QtWidgets import QStackedWidget

            from .lock import UnlockView

            self._stack = QStackedWidget()
            split = self.takeCentralWidget()  # (kept alive: the stack owns it from here)
            self._stack.addWidget(split)
            self.unlock_view = UnlockView(self.chart_path)
            self.unlock_view.submitted.connect(self.unlock_with)
            self._stack.addWidget(self.unlock_view)
            self.setCentralWidget(self._stack)
            self._stack.show()  # now, not on the next turn of the event loop
        self._stack.setCurrentWidget(self.unlock_view)
        self.locked = True
        if self.idle_watch is not None:
            self.idle_watch.stop()
        from .background import is_busy

        self._actions_before = {a: (bool(a.property("_motorchart_was_enabled")) if is_busy(a) else a.isEnabled())
                                for a in self.actions()}
        self._disable_actions()
        self.menuBar().setEnabled(False)
        self.statusBar().clearMessage()
        if reason is None:  # at launch
            self.unlock_view.ready()
        else:
            self.unlock_view.show_locked(reason)
        self.locked_changed.emit(True)

    def _disable_actions(self) -> None:
        for a in self.actions():
            a.setEnabled(False)

    def _close_chart_when_idle(self) -> None:
        """The lock's second half: once no background work of this window runs (a PDF, a
        backup, a check: each reads the chart with the remembered key), close the chart and
        forget the key; the prompt takes the passphrase from then on."""
        if not self.locked or self.store is None:
            return
        from .background import running_for

        ops = running_for(self)
        if ops:
            self.unlock_view.busy(f"Locking: waiting for this to finish: {ops[-1].label}")
            for op in ops:
                op.finished.connect(self._close_chart_when_idle)
            return
        self._disable_actions()  # (the work that ended gave its actions back)
        store, self.store = self.store, None
        try:
            store.close()  # the day's automatic backup, as at any close
        finally:
            from desktop.store import keys

            keys.forget_keys()
        self.unlock_view.ready()

    def unlock_with(self, passphrase: str):
        """Unwrap the chart's key with ``passphrase`` (or its recovery key) off the GUI thread
        (Argon2id, ~0.4 s), then open the chart: at launch through the loader
        (``key_unlocked``), after a lock here, back on the same patient and visit. A wrong
        passphrase says so and the prompt takes another. Returns the running op."""
        if self._unlocking is not None or not self.locked or self.store is not None:
            return None
        from desktop.store import keys

        from .background import run_op

        path = self.chart_path

        def work():  # on the worker thread
            try:
                return keys.unlock(path, passphrase)
            except keys.WrongPassphrase:
                return None

        self.unlock_view.busy("Unlocking…")
        self._unlocking = run_op(work, parent=self, label="Unlocking the chart…",
                                 on_success=self._key_unwrapped, on_failure=self._unlock_failed)
        return self._unlocking

    def _unlock_failed(self, line: str) -> None:
        self._unlocking = None
        self.unlock_view.refuse(f"The chart was not unlocked: {line}")

    def _key_unwrapped(self, key) -> None:
        self._unlocking = None
        if key is None:
            self.unlock_view.refuse("The passphrase is wrong. Type it again (or the recovery key).")
            return
        if self.session is None:  # at launch: the loader opens the chart with the key
            self.unlock_view.busy("Opening the chart…")
            self.key_unlocked.emit(key)
            return
        from desktop.store import ChartStore, StoreError, keys

        try:
            # checked when it was first opened; the lock only closed it (the day's backup is made)
            store = ChartStore.open(self.chart_path, key=key, check=False, daily_backup=False,
                                    allow_read_only=True)
        except StoreError as e:  # e.g. another Motorchart opened it for writing meanwhile
            keys.forget_keys()
            self.unlock_view.refuse(str(e))
            return
        self._reattach(store)

    def _reattach(self, store: ChartStore) -> None:
        """After a lock: the reopened chart behind every view, then the same patient, visit,
        view and grid cells as when the window locked."""
        from desktop.store import StoreError

        self.store = store
        s = self.session
        s.store = store
        s.options = store.criteria_options()
        self.patients.set_source(store)
        self._show_chart()
        place, self._place = self._place, None
        if place is None or place[0] is None:
            return
        patient_id, date, tab, cells = place
        try:
            self.open_patient(patient_id)
            if date is not None and date in s.visits and (s.visit is None or s.visit.date != date):
                s.open_visit(date)
        except StoreError as e:  # (changed by another Motorchart meanwhile)
            self.show_message(str(e))
            return
        self.patients.select(patient_id)
        ed = self.editor
        ed.tabs.setCurrentIndex(tab)
        for grid, (row, col) in zip((ed.exam_view, ed.emg_view, ed.signs_view), cells):
            if row >= 0 and col >= 0:
                grid.setCurrentIndex(grid.model().index(row, col))
        current = ed.tabs.currentWidget()
        if current is not None:
            current.setFocus()

    def _show_chart(self) -> None:
        """Unlocked: the views instead of the prompt, the actions as they were."""
        self._stack.setCurrentWidget(self._split)
        self.locked = False
        for a, enabled in self._actions_before.items():
            if _alive(a):
                a.setEnabled(enabled)
        self._actions_before = {}
        self.menuBar().setEnabled(True)
        if self.session is not None:
            self.undo_action.setEnabled(self.session.undo_stack.canUndo())
            self.redo_action.setEnabled(self.session.undo_stack.canRedo())
            self._state()
        self.unlock_view.passphrase.clear()
        self.unlock_view.problem.hide()
        if self.idle_watch is not None:
            self.idle_watch.start()
        self.statusBar().showMessage("Unlocked.", 5000)
        self.locked_changed.emit(False)

    LAYOUT_KEY = "layout/splitter"

    def _restore_layout(self) -> None:
        """The widths the clinician gave the patient list, the visit and the panel last time."""
        from PySide6.QtCore import QSettings

        state = QSettings("Motorchart", "Motorchart").value(self.LAYOUT_KEY)
        if state:
            self._split.restoreState(state)

    def save_layout(self) -> None:
        from PySide6.QtCore import QSettings

        QSettings("Motorchart", "Motorchart").setValue(self.LAYOUT_KEY, self._split.saveState())

    def closeEvent(self, event) -> None:
        from .background import running_for

        ops = running_for(self)
        if ops:  # a PDF or a backup is being written: close once it is done
            self.show_message(f"{ops[-1].label} The window closes when it is done.")
            for op in ops:
                op.finished.connect(self._close_when_idle)
            event.ignore()
            return
        if self.editor is not None:
            if not self.locked:
                self.editor.history_view.commit_notes()
            self.save_layout()
        if self.idle_watch is not None:
            self.idle_watch.stop()
        super().closeEvent(event)


def _check_chart_file(path: Path) -> list[str]:
    """On the worker thread: the deep check of the chart at ``path`` (SQLite's integrity and
    foreign-key checks, every expected trigger: ``ChartStore.full_check``, as ``motorchart
    check``) and its signatures, on a read-only connection of its own; [] when all is well,
    else one line per problem."""
    from desktop.store.chart import ChartStore
    from desktop.store.driver import sqlite3  # the store's driver: its errors are not the stdlib's
    from desktop.store.files import restore_command

    store = ChartStore.open(path, readonly=True, check=False, daily_backup=False, user="check")
    try:
        try:
            found = store.full_check()
            audit = found.pop("audit", [])  # tampering, like a changed signed visit: named, not "damaged"
            problems = [f"{what}: {line}" for what, lines in found.items() for line in lines]
            if not problems:
                return store.verify_signatures() + [f"audit trail: {line}" for line in audit]
            damaged = "; ".join(problems[:3])
        except sqlite3.DatabaseError as e:  # too damaged to read
            damaged = str(e)
        from desktop.store import newest_good_backup

        good = newest_good_backup(path)
        return [f"it is damaged ({damaged})",
                f"the newest good backup is {good} (restore it with: {restore_command(path, good)})"
                if good else "no good backup was found"]
    finally:
        store.close(backup=False)


def _no_patients():
    """The patient list's source while the window is locked (nobody)."""
    from .lock import NoPatients

    return NoPatients()


def _alive(obj) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)
