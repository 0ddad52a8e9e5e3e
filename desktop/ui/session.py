"""The open patient and visit: in-memory case, undo stack, live classification.

``VisitSession`` is the one object the views talk to. It keeps the current Visit as a frozen
snapshot, pushes an :class:`EditVisitCommand` per user action (the store is written at once),
reclassifies the in-memory case on every change and tells the views through signals.
"""

from __future__ import annotations

import datetime as dt
import time

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from domain.case import FORMAT, Case, Patient, Visit
from domain.catalogue import Catalogue
from domain.classify import EvidenceCache, classify_case
from domain.options import Options

from . import entries as E
from .commands import EditNotesCommand, EditVisitCommand


def options_to_settings(options: Options) -> list[str]:
    """The ``criteria_options`` setting: ``["name=value"]`` for every non-default option."""
    default = Options()
    out = []
    for name in Options.model_fields:
        v = getattr(options, name)
        if v != getattr(default, name):
            out.append(f"{name}={str(v).lower() if isinstance(v, bool) else v}")
    return out


class VisitSession(QObject):
    patient_changed = Signal()  # another patient, or the patient's details
    visit_changed = Signal()  # findings of the current visit (or another visit opened)
    state_changed = Signal()  # status, read-only, not-reviewed marks
    classified = Signal()  # self.classification is new
    message = Signal(str)  # a one-line message for the status bar
    about_to_report = Signal()  # editors store whatever they hold before a report is built

    def __init__(self, store, catalogue: Catalogue, parent=None):
        super().__init__(parent)
        self.store = store
        self.catalogue = catalogue
        self.undo_stack = QUndoStack(self)
        self.options = store.criteria_options()
        self.patient: Patient | None = None
        self.visits: dict[dt.date, Visit] = {}
        self.visit: Visit | None = None
        self.status: str | None = None
        self.amend_reason: str | None = None
        self.unreviewed: frozenset = frozenset()
        self.case_classification = None
        self.classification = None
        self.last_classify_ms = 0.0
        # Unchanged visits keep their evidence between keystrokes (domain.classify.EvidenceCache).
        self._evidence_cache = EvidenceCache()

    # ------------------------------------------------------------------ loading
    @property
    def patient_id(self) -> str | None:
        return self.patient.id if self.patient else None

    def open_patient(self, patient_id: str) -> None:
        case = self.store.get_case(patient_id)
        self.patient = case.patient
        self.visits = {v.date: v for v in case.visits}
        self.undo_stack.clear()
        self.visit = None
        self.status = None
        self.amend_reason = None
        self.unreviewed = frozenset()
        self.patient_changed.emit()
        dates = sorted(self.visits)
        if dates:
            self.open_visit(dates[-1])
        else:
            self._reclassify()
            self.visit_changed.emit()
            self.state_changed.emit()

    def reload_patient(self) -> None:
        if self.patient is not None:
            self.patient = self.store.get_patient(self.patient.id)
            self.patient_changed.emit()
            self._reclassify()

    def open_visit(self, date: dt.date) -> None:
        self.undo_stack.clear()
        self.visit = self.store.get_visit(self.patient.id, date)
        self.visits[date] = self.visit
        self.status = self.store.visit_status(self.patient.id, date)
        self.amend_reason = None
        self.unreviewed = self._stored_unreviewed(date)
        self._reclassify()
        self.visit_changed.emit()
        self.state_changed.emit()

    def set_options(self, options: Options) -> None:
        self.options = options
        self._reclassify()

    @property
    def readonly(self) -> bool:
        return self.visit is None or (self.status in ("signed", "amended") and self.amend_reason is None)

    def previous_visit(self, date: dt.date | None = None) -> Visit | None:
        date = date or (self.visit.date if self.visit else dt.date.max)
        earlier = [d for d in self.visits if d < date]
        return self.visits[max(earlier)] if earlier else None

    # ------------------------------------------------------------------ new visits
    def new_visit(self, date: dt.date, *, copy_from_previous: bool, today: dt.date | None = None) -> bool:
        today = today or dt.date.today()
        if date > today:  # a typo in the year would otherwise become the "latest" visit for good
            self.message.emit(f"{date.isoformat()} is in the future: type the date of the visit "
                              f"(today is {today.isoformat()}).")
            return False
        if date in self.visits:
            self.message.emit(f"There is already a visit on {date.isoformat()}: open it instead.")
            return False
        if self.patient.birth_date and date < self.patient.birth_date:
            self.message.emit(f"{date.isoformat()} is before the birth date.")
            return False
        prev = self.previous_visit(date)
        if copy_from_previous and prev is not None:
            visit = E.copy_forward(prev, date)
            unreviewed = frozenset(E.finding_keys(visit))
        else:
            visit, unreviewed = Visit(date=date), frozenset()
        try:
            self.store.save_visit(self.patient.id, visit)
        except Exception as e:  # StoreError: a clear one-line message
            self.message.emit(str(e))
            return False
        self.visits[date] = visit
        if unreviewed:
            self._store_unreviewed(date, unreviewed)
        self.open_visit(date)
        self.state_changed.emit()
        if unreviewed:
            self.message.emit(f"Copied {len(unreviewed)} findings from {prev.date.isoformat()}: "
                              "they stay marked not reviewed until edited or confirmed (Ctrl+Return).")
        return True

    # ------------------------------------------------------------------ editing
    def request_edit(self, new_visit: Visit, key=None, text: str = "Edit", *, merge_notes: bool = False) -> bool:
        """One user action: push an undoable command (which stores at once)."""
        if self.visit is None:
            return False
        if self.readonly:
            self.message.emit("This visit is signed and read-only: use Visit > Amend to change it.")
            return False
        unreviewed = self.unreviewed - {key} if key is not None else self.unreviewed
        if new_visit == self.visit and unreviewed == self.unreviewed:
            return True
        kind = EditNotesCommand if merge_notes else EditVisitCommand
        cmd = kind(self, (self.visit, self.unreviewed), (new_visit, unreviewed), text)
        self.undo_stack.push(cmd)
        return cmd.ok

    def confirm_reviewed(self, keys) -> None:
        keys = set(keys) & self.unreviewed
        if keys and not self.readonly:
            self.undo_stack.push(EditVisitCommand(
                self, (self.visit, self.unreviewed), (self.visit, self.unreviewed - keys),
                f"Confirm {len(keys)} carried finding(s)"))

    def restore(self, visit: Visit, unreviewed: frozenset) -> bool:
        """Make ``visit`` the current state and store it (called by undo commands)."""
        if visit != self.visit:
            try:
                if self.amend_reason is not None:
                    self.store.amend_visit(self.patient.id, visit.date, visit,
                                           clinician=self.clinician, reason=self.amend_reason)
                else:
                    self.store.save_visit(self.patient.id, visit)
            except Exception as e:  # StoreError
                self.message.emit(str(e))
                return False
        self.visit = visit
        self.visits[visit.date] = visit
        if frozenset(unreviewed) != self.unreviewed:
            self._store_unreviewed(visit.date, frozenset(unreviewed))
        self.unreviewed = frozenset(unreviewed)
        self._reclassify()
        self.visit_changed.emit()
        self.state_changed.emit()
        return True

    # ------------------------------------------------------------------ not-reviewed marks
    def _unreviewed_key(self, date: dt.date) -> str:
        return f"unreviewed:{self.patient.id}:{date.isoformat()}"

    def _stored_unreviewed(self, date: dt.date) -> frozenset:
        """Carried cells not yet reviewed survive closing the chart (kept in chart settings)."""
        keys = self.store.setting(self._unreviewed_key(date)) or []
        return frozenset(tuple(k) for k in keys)

    def _store_unreviewed(self, date: dt.date, keys: frozenset) -> None:
        try:
            self.store.set_setting(self._unreviewed_key(date), sorted(list(k) for k in keys) or None)
        except Exception as e:  # StoreError: the marks are a convenience, the findings are stored
            self.message.emit(f"Could not keep the not-reviewed marks: {e}")

    # ------------------------------------------------------------------ ALSFRS-R scored in part
    def _alsfrs_draft_key(self, date: dt.date) -> str:
        return f"alsfrs_draft:{self.patient.id}:{date.isoformat()}"

    def alsfrs_draft(self) -> dict:
        """The items of an ALSFRS-R scored in part at the open visit. A visit stores the scale
        whole (FRS: all 12 items), so the items typed so far wait in the chart's settings
        until the twelfth: none is lost by changing visit or closing the chart."""
        if self.visit is None or self.visit.alsfrs_r is not None:
            return {}
        return dict(self.store.setting(self._alsfrs_draft_key(self.visit.date)) or {})

    def store_alsfrs_draft(self, items: dict | None) -> None:
        """Keep (or, with None or nothing scored, drop) the open visit's partial ALSFRS-R."""
        if self.visit is None or self.readonly:
            return
        key = self._alsfrs_draft_key(self.visit.date)
        items = {k: v for k, v in (items or {}).items() if v is not None and v is not False} or None
        if self.store.setting(key) == items:
            return
        try:
            self.store.set_setting(key, items)
        except Exception as e:  # StoreError
            self.message.emit(f"Could not keep the ALSFRS-R items scored so far: {e}")

    # ------------------------------------------------------------------ signing
    @property
    def clinician(self) -> str:
        return str(self.store.settings().get("clinician") or "") or "unknown clinician"

    def sign(self) -> bool:
        try:
            self.store.sign_visit(self.patient.id, self.visit.date, clinician=self.clinician)
        except Exception as e:
            self.message.emit(str(e))
            return False
        self.undo_stack.clear()
        self.status = self.store.visit_status(self.patient.id, self.visit.date)
        if self.unreviewed:
            self._store_unreviewed(self.visit.date, frozenset())
        self.unreviewed = frozenset()
        self.state_changed.emit()
        self.message.emit(f"Visit {self.visit.date.isoformat()} signed by {self.clinician}.")
        return True

    def begin_amend(self, reason: str) -> None:
        self.undo_stack.clear()
        self.amend_reason = reason
        self.state_changed.emit()
        self.message.emit("Amending the signed visit: each change is kept beside the signed original.")

    def end_amend(self) -> None:
        self.undo_stack.clear()
        self.amend_reason = None
        self.status = self.store.visit_status(self.patient.id, self.visit.date)
        self.state_changed.emit()

    def flush_pending(self) -> None:
        """Anything typed but not yet stored is stored now (notes are stored per keystroke, so
        this is a safety net for editors that commit on focus-out)."""
        self.about_to_report.emit()

    # ------------------------------------------------------------------ classification
    def current_case(self) -> Case:
        date = self.visit.date if self.visit else dt.date.max
        visits = tuple(v for d, v in sorted(self.visits.items()) if d <= date)
        return Case(format=FORMAT, patient=self.patient, visits=visits)

    def _reclassify(self) -> None:
        if self.patient is None:
            return
        t0 = time.perf_counter()
        case = self.current_case()
        self.case_classification = classify_case(
            case, self.catalogue, self.options, cache=self._evidence_cache
        )
        vc = self.case_classification.visits
        self.classification = vc[-1] if vc else None
        self.last_classify_ms = (time.perf_counter() - t0) * 1000
        self.classified.emit()
