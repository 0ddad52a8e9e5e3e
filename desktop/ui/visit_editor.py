"""The visit editor: examination grid, EMG view, signs, history flags, ALSFRS-R, FVC, weight,
notes; every edit goes through the session as one undoable command."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from domain.case import ALSFRS_ITEMS, AlsfrsR

from .grid import EmgTableModel, ExamTableModel, build_rows
from .gridview import FindingsView
from .protocols import protocol_muscles
from .signs import SignsTableModel

if TYPE_CHECKING:
    from desktop.ui.session import VisitSession
    from domain.catalogue import Catalogue

from desktop.present.alsfrs import ITEM_LABELS as ALSFRS_LABELS, grade_text, item_label  # noqa: E402  (one wording, reports too)
_FLAG_CHOICES = ("· not recorded", "yes", "no")


class HistoryScoresView(QWidget):
    """History flags, ALSFRS-R with live total and subscores, FVC, weight and notes."""

    message = Signal(str)

    def __init__(self, session: VisitSession, parent=None):
        super().__init__(parent)
        self.session = session
        self._loading = False
        outer = QHBoxLayout(self)
        left = QVBoxLayout()
        outer.addLayout(left, 1)

        flags = QGroupBox("History")
        fl = QFormLayout(flags)
        self.progressive = QComboBox()
        self.progressive.addItems(_FLAG_CHOICES)
        self.alternatives = QComboBox()
        self.alternatives.addItems(_FLAG_CHOICES)
        fl.addRow("Progressive by history", self.progressive)
        fl.addRow("Alternatives excluded", self.alternatives)
        self.progressive.activated.connect(lambda _i: self._flag("progressive_by_history", self.progressive))
        self.alternatives.activated.connect(lambda _i: self._flag("alternatives_excluded", self.alternatives))
        left.addWidget(flags)

        meas = QGroupBox("Measurements")
        ml = QFormLayout(meas)
        self.fvc = QLineEdit()
        self.fvc.setPlaceholderText("· not measured (0-200)")
        self.weight = QLineEdit()
        self.weight.setPlaceholderText("· not measured (1-400)")
        ml.addRow("FVC % predicted", self.fvc)
        ml.addRow("Weight kg", self.weight)
        self.fvc.editingFinished.connect(lambda: self._number("fvc_percent", self.fvc, 0, 200))
        self.weight.editingFinished.connect(lambda: self._number("weight_kg", self.weight, 1, 400))
        left.addWidget(meas)

        notes = QGroupBox("Notes")
        nl = QVBoxLayout(notes)
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("notesEdit")
        self.notes.setTabChangesFocus(True)
        nl.addWidget(self.notes)
        self.notes.textChanged.connect(self._notes_typed)
        left.addWidget(notes, 1)

        frs = QGroupBox("ALSFRS-R")
        gl = QGridLayout(frs)
        self.items: dict[str, QComboBox] = {}
        self.item_labels: dict[str, QLabel] = {}
        for i, key in enumerate(ALSFRS_ITEMS):
            cb = QComboBox()
            cb.addItems(["·"] + [grade_text(key, g) for g in range(5)])
            cb.setToolTip(ALSFRS_LABELS[key] + ": 0-4, the wording of each grade in the list")
            cb.setObjectName(f"alsfrs_{key}")
            # (sized to ~28 letters, not to the longest wording, which made the window's middle
            # 1,100 px wide at least and squeezed the patient list to 150 px; the list opens wide)
            cb.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            cb.setMinimumContentsLength(28)
            metrics = cb.fontMetrics()  # (the open list still shows each wording whole)
            cb.view().setMinimumWidth(max(metrics.horizontalAdvance(cb.itemText(i)) for i in range(cb.count())) + 32)
            cb.activated.connect(self._alsfrs_changed)
            label = QLabel(ALSFRS_LABELS[key])
            self.item_labels[key] = label
            gl.addWidget(label, i, 0)
            gl.addWidget(cb, i, 1)
            self.items[key] = cb
        self.gastrostomy = QCheckBox("Gastrostomy (item 5 is 5b)")
        self.gastrostomy.toggled.connect(self._wording_5)
        self.gastrostomy.toggled.connect(self._alsfrs_changed)
        gl.addWidget(self.gastrostomy, len(ALSFRS_ITEMS), 0, 1, 2)
        self.total = QLabel()
        self.total.setObjectName("alsfrsTotal")
        gl.addWidget(self.total, len(ALSFRS_ITEMS) + 1, 0, 1, 2)
        outer.addWidget(frs, 1)
        session.changed.connect(self._on_changed)
        self.load()

    def _on_changed(self, ch) -> None:
        if ch.visit or ch.findings:
            self.load()  # applies read-only too
        elif ch.state:
            self._apply_readonly()

    # -------------------------------------------------------------- loading
    def load(self) -> None:
        v = self.session.visit
        self._loading = True
        try:
            for name, cb in (("progressive_by_history", self.progressive),
                             ("alternatives_excluded", self.alternatives)):
                val = getattr(v, name) if v else None
                cb.setCurrentIndex(0 if val is None else (1 if val else 2))
            for name, le in (("fvc_percent", self.fvc), ("weight_kg", self.weight)):
                val = getattr(v, name) if v else None
                text = "" if val is None else f"{val:g}"
                if le.text() != text and not le.hasFocus():
                    le.setText(text)
            notes = (v.notes if v else None) or ""
            if self.notes.toPlainText() != notes:
                self.notes.setPlainText(notes)
            # The visit's own ALSFRS-R, else the items it has scored so far (never what another
            # visit or patient left in the boxes).
            a = v.alsfrs_r if v else None
            if a is not None:
                items, gastrostomy = {k: getattr(a, k) for k in ALSFRS_ITEMS}, a.gastrostomy
            else:
                draft = self.session.alsfrs_draft()
                items, gastrostomy = {k: draft.get(k) for k in ALSFRS_ITEMS}, bool(draft.get("gastrostomy"))
            for key, cb in self.items.items():
                cb.setCurrentIndex(0 if items[key] is None else items[key] + 1)
            self.gastrostomy.setChecked(gastrostomy)
            self._wording_5(gastrostomy)
            self._show_total()
        finally:
            self._loading = False
        self._apply_readonly()

    def _apply_readonly(self) -> None:
        ro = self.session.readonly
        for w in (self.progressive, self.alternatives, self.fvc, self.weight, self.gastrostomy,
                  *self.items.values()):
            w.setEnabled(not ro)
        self.notes.setReadOnly(ro)

    def _wording_5(self, gastrostomy: bool) -> None:
        """Item 5 is 5a (cutting food) or 5b (gastrostomy utensils): its grades say so."""
        cb = self.items["cutting_food"]
        for g in range(5):
            cb.setItemText(g + 1, grade_text("cutting_food", g, gastrostomy=gastrostomy))
        self.item_labels["cutting_food"].setText(item_label("cutting_food", gastrostomy=gastrostomy))

    def _values(self) -> dict[str, int | None]:
        return {k: (cb.currentIndex() - 1 if cb.currentIndex() > 0 else None) for k, cb in self.items.items()}

    def _show_total(self) -> None:
        vals = self._values()
        got = [v for v in vals.values() if v is not None]
        if not got:
            self.total.setText("<span style='color:#9a9a9a'>· not scored</span>")
            return
        missing = len(vals) - len(got)
        if missing:  # no total for a part of the scale: it would read as a (very low) score
            self.total.setText(f"<span style='color:#8a5a00'><b>Not complete</b>: {len(got)} of 12 items "
                               f"scored (kept); the total and subscores count once all 12 are</span>")
            return
        sub = lambda keys: sum(vals[k] for k in keys)  # noqa: E731
        self.total.setText(f"<b>Total {sum(got)}/48</b>: bulbar {sub(ALSFRS_ITEMS[0:3])}, fine motor "
                           f"{sub(ALSFRS_ITEMS[3:6])}, gross motor {sub(ALSFRS_ITEMS[6:9])}, respiratory "
                           f"{sub(ALSFRS_ITEMS[9:12])}")

    # -------------------------------------------------------------- edits
    def _edit(self, update: dict, text: str) -> None:
        v = self.session.visit
        if v is None or self._loading:
            return
        self.session.request_edit(v.model_copy(update=update), None, text)

    def _flag(self, name: str, cb: QComboBox) -> None:
        val = (None, True, False)[cb.currentIndex()]
        self._edit({name: val}, f"{name.replace('_', ' ')}: {cb.currentText()}")

    def _number(self, name: str, le: QLineEdit, lo: float, hi: float) -> None:
        if self._loading or self.session.visit is None:
            return
        t = le.text().strip().replace(",", ".")
        current = getattr(self.session.visit, name)
        if not t:
            val = None
        else:
            try:
                val = float(t)
            except ValueError:
                val = None
                self.message.emit(f'"{le.text()}" is not a number: type a number {lo:g}-{hi:g}, or leave it empty')
                le.setText("" if current is None else f"{current:g}")
                return
            if not lo <= val <= hi:
                self.message.emit(f"{val:g} is out of range: type a number {lo:g}-{hi:g}, or leave it empty")
                le.setText("" if current is None else f"{current:g}")
                return
        if val != current:
            self._edit({name: val}, f"{name.replace('_', ' ')}: {t or '·'}")

    def _alsfrs_changed(self, *_a) -> None:
        if self._loading:
            return
        self._show_total()
        vals = self._values()
        v = self.session.visit
        if v is None:
            return
        if self.session.readonly:
            return
        if all(x is not None for x in vals.values()):
            new = AlsfrsR(**vals, gastrostomy=self.gastrostomy.isChecked())
            if new != v.alsfrs_r:
                self._edit({"alsfrs_r": new}, f"ALSFRS-R total {new.total}")
            self.session.store_alsfrs_draft(None)
        else:
            self.session.store_alsfrs_draft({**vals, "gastrostomy": self.gastrostomy.isChecked()})
            if v.alsfrs_r is not None:
                self._edit({"alsfrs_r": None}, "ALSFRS-R incomplete")

    def _notes_typed(self) -> None:
        # Stored at once (the chart never loses a keystroke); the undo stack merges the run.
        if not self._loading:
            self.commit_notes()

    def commit_pending(self) -> None:
        """Whatever is typed and not yet stored is stored now (before a report, a backup or
        the lock): the notes (stored per keystroke anyway) and a number still being typed
        (FVC, weight: stored when the field is left)."""
        self.commit_notes()
        self._number("fvc_percent", self.fvc, 0, 200)
        self._number("weight_kg", self.weight, 1, 400)

    def commit_notes(self) -> None:
        v = self.session.visit
        if v is None or self.session.readonly:
            return
        text = self.notes.toPlainText()
        new = text if text.strip() else None
        if new != v.notes:
            self.session.request_edit(v.model_copy(update={"notes": new}), None, "Notes", merge_notes=True)


class VisitEditorView(QWidget):
    """Tabs: examination grid, needle EMG, signs, history and scores."""

    message = Signal(str)

    def __init__(self, session: VisitSession, catalogue: Catalogue, parent=None):
        super().__init__(parent)
        self.session = session
        self.catalogue = catalogue
        self.protocol: set[str] | None = protocol_muscles("MND screening", catalogue, {})
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("visitTabs")
        lay.addWidget(self.tabs)

        self.exam_model = ExamTableModel(catalogue, self)
        self.emg_model = EmgTableModel(catalogue, self)
        self.signs_model = SignsTableModel(catalogue, self)
        self.exam_view = FindingsView(self.exam_model)
        self.exam_view.setObjectName("examGrid")
        self.emg_view = FindingsView(self.emg_model)
        self.emg_view.setObjectName("emgGrid")
        self.signs_view = FindingsView(self.signs_model)
        self.signs_view.setObjectName("signsGrid")
        self.signs_view.setColumnWidth(0, 320)
        for c in (1, 2, 3):
            self.signs_view.setColumnWidth(c, 80)
        self.history_view = HistoryScoresView(session)
        session.about_to_report.connect(self.history_view.commit_pending)
        self.tabs.addTab(self.exam_view, "Examination (Ctrl+E)")
        self.tabs.addTab(self.emg_view, "Needle EMG (Ctrl+M)")
        self.tabs.addTab(self.signs_view, "Signs (Ctrl+G)")
        self.tabs.addTab(self.history_view, "History and scores (Ctrl+H)")

        for m in (self.exam_model, self.emg_model, self.signs_model):
            m.edit_requested.connect(self._on_edit)
            m.entry_refused.connect(self._refused)
        for v in (self.exam_view, self.emg_view, self.signs_view):
            v.message.connect(self.message)
            v.confirm_requested.connect(session.confirm_reviewed)
            session.about_to_report.connect(v.commit_editor)  # an entry still being typed
        self.history_view.message.connect(self.message)
        session.changed.connect(self._on_changed)
        self._highlight: set = set()
        self._refusal_shown = False  # a refused entry's message is on the status bar
        self._rows_for = None
        self.load()

    def _on_changed(self, ch) -> None:
        """The grids follow the session: another visit or its findings, its status or marks,
        then the per-muscle marks of the new classification."""
        if ch.visit or ch.findings or ch.state:
            self.load()
        if ch.classification:
            self._marks()

    @property
    def models(self):
        return (self.exam_model, self.emg_model, self.signs_model)

    def set_protocol(self, muscles: set[str] | None) -> None:
        self.protocol = muscles
        self._rows_for = None
        self.load()

    def _refused(self, text: str) -> None:
        self._refusal_shown = True
        self.message.emit(text)

    def _on_edit(self, new_visit, key, text) -> None:
        if self._refusal_shown:  # an entry taken after a refused one: the refusal is old news
            self._refusal_shown = False
            self.message.emit("")
        self.session.request_edit(new_visit, key, text)

    def load(self) -> None:
        s = self.session
        v = s.visit
        rows_key = (id(self.protocol), frozenset((f.muscle, f.side == "midline") for f in v.muscles) if v else frozenset())
        if rows_key != self._rows_for:
            rows = build_rows(self.catalogue, self.protocol, v)
            cur = [view.currentIndex() for view in (self.exam_view, self.emg_view)]
            if rows != self.exam_model.rows:
                self.exam_model.set_rows(rows)
                self.emg_model.set_rows(rows)
                for view, idx in zip((self.exam_view, self.emg_view), cur):
                    if idx.isValid() and idx.row() < len(rows):
                        view.setCurrentIndex(view.model().index(idx.row(), idx.column()))
            self._rows_for = rows_key
        for m in self.models:
            m.set_visit(v, readonly=s.readonly)
            m.set_marks(unreviewed=s.unreviewed)

    def _marks(self) -> None:
        vc = self.session.classification
        mixed = set()
        states = {}
        if vc is not None:
            for st in vc.evidence.muscles:
                if st.mixed and not st.ignored:
                    mixed.add(st.key)
                parts = [p for p, on in (("UMN", st.umn), ("LMN", st.lmn_any)) if on]
                if st.ignored:
                    parts = ["ignored (other cause)"]
                if parts:
                    states[st.key] = f"{st.label}: {' + '.join(parts)}"
        self.exam_model.set_marks(mixed=mixed, states=states)
        self.emg_model.set_marks(mixed=mixed, states=states)

    def highlight(self, refs: set) -> None:
        self._highlight = set(refs)
        for m in self.models:
            m.set_marks(highlight=self._highlight)
        muscles = [r for r in refs if r[0] == "muscle"]
        if muscles:
            row = self.exam_model.row_of(muscles[0][1])
            view = self.tabs.currentWidget()
            if row is not None and view in (self.exam_view, self.emg_view):
                view.scrollTo(view.model().index(row, 0))
