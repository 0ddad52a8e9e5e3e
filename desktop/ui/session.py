"""The open patient and visit: in-memory case, undo stack, live classification.

``VisitSession`` is the one object the views talk to. It keeps the current Visit as a frozen
snapshot, pushes an :class:`EditVisitCommand` per user action (the store is written at once),
reclassifies the in-memory case on every change and tells the views through one signal,
``changed``, carrying a :class:`SessionChanges`: what the operation changed, so each view
updates what it shows of that and nothing else (a deleted or re-dated visit leaves every view
in the same operation).
"""

from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from desktop.store.errors import StoreError
from domain.case import FORMAT, Case, Patient, Visit
from domain.catalogue import Catalogue
from domain.classify import EvidenceCache, classify_case
from domain.options import Options

from .commands import CreateVisitCommand, EditNotesCommand, EditVisitCommand

if TYPE_CHECKING:
    from desktop.store.chart import ChartStore


@dataclass(frozen=True)
class SessionChanges:
    """What one session operation changed (the window's side of the store's ``Changes``).

    ``opened``: another patient is open (or none; implies the rest); ``patient``: the
    patient's details or milestones; ``renamed_from``: the MRN the patient had before this
    operation; ``visits``: the patient's visit dates (a visit added, deleted or re-dated);
    ``visit``: another visit is open (or none); ``findings``: the open visit's content;
    ``state``: its status, read-only or not-reviewed marks; ``classification``:
    ``session.classification`` and ``case_classification`` are new.
    """

    opened: bool = False
    patient: bool = False
    visits: bool = False
    visit: bool = False
    findings: bool = False
    state: bool = False
    classification: bool = False
    renamed_from: str | None = None

    def __or__(self, other: SessionChanges) -> SessionChanges:
        return SessionChanges(**{f.name: getattr(self, f.name) or getattr(other, f.name) for f in fields(self)})

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    @property
    def patient_shown(self) -> bool:
        """Anything the patient's header line or the patient list shows of the patient."""
        return self.opened or self.patient or self.visits


OPENED = SessionChanges(opened=True, patient=True, visits=True, visit=True, findings=True, state=True,
                        classification=True)
VISIT_OPENED = SessionChanges(visit=True, findings=True, state=True, classification=True)


class VisitSession(QObject):
    changed = Signal(object)  # a SessionChanges: once per operation, saying what changed
    message = Signal(str)  # a one-line message for the status bar
    about_to_report = Signal()  # editors store whatever they hold before a report is built

    def __init__(self, store: ChartStore, catalogue: Catalogue, parent=None):
        super().__init__(parent)
        self.store = store
        self.catalogue = catalogue
        self.undo_stack = QUndoStack(self)
        self.options = store.criteria_options()
        self.patient: Patient | None = None
        self.visits: dict[dt.date, Visit] = {}
        self.visit: Visit | None = None
        self.status: str | None = None  # draft, signed, amending (an amendment open), amended
        self.unreviewed: frozenset = frozenset()
        self.carried_from: dt.date | None = None
        self.case_classification = None
        self.classification = None  # what the panel shows: the signed result for a signed visit
        self.shown = None  # desktop.signed.ShownVisit of the open visit
        self.last_classify_ms = 0.0
        # Unchanged visits keep their evidence between keystrokes (domain.classify.EvidenceCache).
        self._evidence_cache = EvidenceCache()
        self._pending: SessionChanges | None = None

    # ------------------------------------------------------------------ telling the views
    def _emit(self, changes: SessionChanges) -> None:
        """Tell the views, once per operation: inside :meth:`_batch` the changes are gathered
        and sent when the outermost operation ends."""
        if self._pending is not None:
            self._pending = self._pending | changes
        elif changes:
            self.changed.emit(changes)

    @contextmanager
    def _batch(self):
        outer = self._pending is None
        if outer:
            self._pending = SessionChanges()
        try:
            yield
        finally:
            if outer:
                changes, self._pending = self._pending, None
                if changes:
                    self.changed.emit(changes)

    # ------------------------------------------------------------------ loading
    @property
    def patient_id(self) -> str | None:
        return self.patient.id if self.patient else None

    def open_patient(self, patient_id: str) -> None:
        case = self.store.get_case(patient_id)
        with self._batch():
            self.patient = case.patient
            self.visits = {v.date: v for v in case.visits}
            self.undo_stack.clear()
            self.visit = None
            self.status = None
            self.unreviewed = frozenset()
            dates = sorted(self.visits)
            if dates:
                self.open_visit(dates[-1])
            else:
                self._reclassify()
            self._emit(OPENED)

    def close_patient(self) -> None:
        """No patient open (the window's lock): every view empties itself, the undo history
        goes (everything in it is stored already). Reads nothing from the store."""
        with self._batch():
            self.undo_stack.clear()
            self.patient = None
            self.visits = {}
            self.visit = None
            self.status = None
            self.unreviewed = frozenset()
            self.carried_from = None
            self.case_classification = None
            self.classification = None
            self.shown = None
            self._evidence_cache = EvidenceCache()
            self._emit(OPENED)

    def _reload_patient(self, patient_id: str | None = None, *, renamed_from: str | None = None) -> None:
        """Read the patient (under ``patient_id`` after an MRN change) and its visits again,
        keep the open visit open, and classify again: milestones change King's and MiToS."""
        if self.patient is None:
            return
        pid = patient_id or self.patient.id
        case = self.store.get_case(pid)
        with self._batch():
            self.patient = case.patient
            before = self.visits
            # unchanged visits stay the same objects: their evidence is not computed again
            self.visits = {v.date: before[v.date] if before.get(v.date) == v else v for v in case.visits}
            if self.visit is not None and self.visit.date in self.visits:
                self.visit = self.visits[self.visit.date]
            elif self.visit is not None or self.visits:
                self._show_visit(max(self.visits) if self.visits else None)
            self._reclassify()
            self._emit(SessionChanges(patient=True, visits=set(self.visits) != set(before),
                                      classification=True, renamed_from=renamed_from))

    def update_patient(self, patient: Patient) -> bool:
        """Store the open patient's new details and milestones (``patient.id`` may be a new
        MRN): one store operation, which checks every rule and audits the change. Refused,
        it raises ``StoreError`` and nothing changes."""
        old_id = self.patient.id
        self.store.update_patient(patient, old_id=old_id)
        self._reload_patient(patient.id, renamed_from=old_id if patient.id != old_id else None)
        return True

    def open_visit(self, date: dt.date) -> None:
        """Open a visit: a fresh undo history, then as :meth:`_show_visit`."""
        self.undo_stack.clear()
        self._show_visit(date)

    def set_options(self, options: Options) -> None:
        self.options = options
        self._reclassify()
        self._emit(SessionChanges(classification=True))

    @property
    def readonly(self) -> bool:
        """A signed visit is read-only; an open amendment is a draft like any other. Every
        visit is read-only on a chart opened read-only (its file or folder is)."""
        return self.visit is None or self.status in ("signed", "amended") or self.store.readonly

    @property
    def amending(self) -> bool:
        return self.status == "amending"

    def previous_visit(self, date: dt.date | None = None) -> Visit | None:
        date = date or (self.visit.date if self.visit else dt.date.max)
        earlier = [d for d in self.visits if d < date]
        return self.visits[max(earlier)] if earlier else None

    # ------------------------------------------------------------------ new visits
    def new_visit(self, date: dt.date, *, copy_from_previous: bool, today: dt.date | None = None) -> bool:
        """Start a visit (empty, or copying the previous examination forward, its cells marked
        not reviewed): one store operation, undoable (Ctrl+Z deletes the new draft)."""
        previous_open = self.visit.date if self.visit is not None else None
        prev = self.previous_visit(date)
        try:
            self.store.new_visit(self.patient.id, date, copy_forward=copy_from_previous, today=today)
        except StoreError as e:  # a clear one-line message
            self.message.emit(str(e))
            return False
        with self._batch():
            self.visits[date] = self.store.get_visit(self.patient.id, date)
            self.open_visit(date)
            self.undo_stack.push(CreateVisitCommand(self, date, previous_open))
            self._emit(SessionChanges(visits=True))
        if self.unreviewed and prev is not None:
            self.message.emit(f"Copied {len(self.unreviewed)} findings from {prev.date.isoformat()}: "
                              "they stay marked not reviewed until edited or confirmed (Ctrl+Return).")
        return True

    def uncreate_visit(self, date: dt.date, reopen: dt.date | None) -> None:
        """Undo a visit's creation: delete the draft, open the visit open before."""
        try:
            self.store.delete_visit(self.patient.id, date)
        except StoreError as e:  # (signed meanwhile: it stays)
            self.message.emit(str(e))
            return
        with self._batch():
            self.visits.pop(date, None)
            self._show_visit(reopen if reopen in self.visits else (max(self.visits) if self.visits else None))
            self._emit(SessionChanges(visits=True))
        self.message.emit(f"The new visit of {date.isoformat()} was removed.")

    def recreate_visit(self, visit: Visit, unreviewed: frozenset, carried_from: dt.date | None) -> None:
        """Redo a visit's creation with the content and marks it was created with."""
        from domain.case import VisitMarks

        try:
            self.store.save_visit(self.patient.id, visit)
            if unreviewed:
                self.store.set_visit_marks(self.patient.id, visit.date,
                                           VisitMarks(not_reviewed=tuple(sorted(unreviewed)), carried_from=carried_from))
        except StoreError as e:
            self.message.emit(str(e))
            return
        with self._batch():
            self.visits[visit.date] = visit
            self._show_visit(visit.date)
            self._emit(SessionChanges(visits=True))

    # ------------------------------------------------------------------ draft visits
    def delete_visit(self, date: dt.date | None = None) -> bool:
        """Delete a draft visit (the open one by default): one store operation, which refuses a
        signed visit. The latest visit left opens (none if it was the only one)."""
        date = date or (self.visit.date if self.visit is not None else None)
        if date is None:
            self.message.emit("No visit is open.")
            return False
        try:
            self.store.delete_visit(self.patient.id, date)
        except StoreError as e:  # a clear one-line message
            self.message.emit(str(e))
            return False
        with self._batch():
            self.visits.pop(date, None)
            if self.visit is None or self.visit.date == date:
                self.undo_stack.clear()  # its edits (and its creation) went with it
                self._show_visit(max(self.visits) if self.visits else None)
            else:
                self._reclassify()
                self._emit(SessionChanges(classification=True))
            self._emit(SessionChanges(visits=True))
        self.message.emit(f"The draft visit of {date.isoformat()} was deleted.")
        return True

    def redate_visit(self, new_date: dt.date, *, today: dt.date | None = None) -> bool:
        """Give the open draft visit another date: one store operation, which refuses a signed
        visit, a taken or future date, or one before birth or after death."""
        if self.visit is None:
            self.message.emit("No visit is open.")
            return False
        date = self.visit.date
        try:
            self.store.redate_visit(self.patient.id, date, new_date, today=today)
        except StoreError as e:  # a clear one-line message
            self.message.emit(str(e))
            return False
        if new_date == date:
            return True
        with self._batch():
            self.visits.pop(date, None)
            self.undo_stack.clear()  # its snapshots carry the old date
            self._show_visit(new_date)
            self._emit(SessionChanges(visits=True))
        self.message.emit(f"The visit of {date.isoformat()} is now dated {new_date.isoformat()}.")
        return True

    def _show_visit(self, date: dt.date | None) -> None:
        """Open a visit (or none) without clearing the undo stack (undo and redo call this)."""
        if date is None:
            self.visit, self.status, self.unreviewed = None, None, frozenset()
        else:
            self.visit = self.store.get_visit(self.patient.id, date)
            self.visits[date] = self.visit
            self.status = self.store.visit_status(self.patient.id, date)
            self.unreviewed = self._stored_unreviewed(date)
        self._reclassify()
        self._emit(VISIT_OPENED)

    # ------------------------------------------------------------------ editing
    def request_edit(self, new_visit: Visit, key=None, text: str = "Edit", *, merge_notes: bool = False) -> bool:
        """One user action: push an undoable command (which stores at once)."""
        if self.visit is None:
            return False
        if self.readonly:
            self.message.emit("This visit is signed and read-only: use Visit > Amend to open an amendment.")
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
        edited = visit != self.visit
        if edited:
            try:
                self.store.save_visit(self.patient.id, visit)  # a draft, or an open amendment
            except StoreError as e:
                self.message.emit(str(e))
                return False
        changes = SessionChanges(findings=edited, classification=True)
        self.visit = visit
        self.visits[visit.date] = visit
        if frozenset(unreviewed) != self.unreviewed:
            self._store_unreviewed(visit.date, frozenset(unreviewed))
            changes = changes | SessionChanges(state=True)
        self.unreviewed = frozenset(unreviewed)
        self._reclassify()
        self._emit(changes)
        return True

    # ------------------------------------------------------------------ marks (kept with the visit)
    def _stored_unreviewed(self, date: dt.date) -> frozenset:
        """Carried cells not yet reviewed survive closing the chart (the store keeps them with
        the visit)."""
        marks = self.store.visit_marks(self.patient.id, date)
        self.carried_from = marks.carried_from
        return frozenset(tuple(k) for k in marks.not_reviewed)

    def _store_unreviewed(self, date: dt.date, keys: frozenset) -> None:
        try:
            marks = self.store.visit_marks(self.patient.id, date)
            self.store.set_visit_marks(self.patient.id, date, marks.model_copy(update={
                "not_reviewed": tuple(sorted(keys)),
                "carried_from": (marks.carried_from or self.carried_from) if keys else marks.carried_from,
            }))
        except StoreError as e:  # the marks are a convenience, the findings are stored
            self.message.emit(f"Could not keep the not-reviewed marks: {e}")

    def carried_cells(self) -> tuple[frozenset, dt.date | None]:
        """Cells of the open visit signed as carried, and the visit they were carried from."""
        if self.visit is None:
            return frozenset(), None
        marks = self.store.visit_marks(self.patient.id, self.visit.date)
        return frozenset(tuple(k) for k in marks.carried), marks.carried_from

    # ------------------------------------------------------------------ ALSFRS-R scored in part
    def alsfrs_draft(self) -> dict:
        """The items of an ALSFRS-R scored in part at the open visit. A visit stores the scale
        whole (FRS: all 12 items), so the items typed so far are kept with the visit until the
        twelfth: none is lost by changing visit or closing the chart."""
        if self.visit is None or self.visit.alsfrs_r is not None:
            return {}
        return dict(self.store.visit_marks(self.patient.id, self.visit.date).alsfrs_draft or {})

    def store_alsfrs_draft(self, items: dict | None) -> None:
        """Keep (or, with None or nothing scored, drop) the open visit's partial ALSFRS-R."""
        if self.visit is None or self.readonly:
            return
        items = {k: v for k, v in (items or {}).items() if v is not None and v is not False} or None
        try:
            marks = self.store.visit_marks(self.patient.id, self.visit.date)
            if (marks.alsfrs_draft or None) == items:
                return
            self.store.set_visit_marks(self.patient.id, self.visit.date,
                                       marks.model_copy(update={"alsfrs_draft": items}))
        except StoreError as e:
            self.message.emit(f"Could not keep the ALSFRS-R items scored so far: {e}")

    # ------------------------------------------------------------------ signing
    @property
    def clinician(self) -> str:
        return str(self.store.setting("clinician") or "") or "unknown clinician"

    def _lifecycle(self, op, done: str) -> bool:
        """Run one store operation on the open visit's record (sign, amend, discard); its
        refusal is one status-bar line, its success reloads the visit and says ``done``."""
        try:
            op(self.patient.id, self.visit.date)
        except StoreError as e:
            self.message.emit(str(e))
            return False
        self._after_signing()
        self.message.emit(done)
        return True

    def sign(self, carried: str | None = None) -> bool:
        """Sign the open draft; ``carried`` (keep or drop) is needed while cells copied
        forward are still not reviewed."""
        who = self.clinician
        return self._lifecycle(lambda pid, d: self.store.sign_visit(pid, d, clinician=who, carried=carried),
                               f"Visit {self.visit.date.isoformat()} signed by {who}.")

    def _after_signing(self) -> None:
        self.undo_stack.clear()
        self.visit = self.store.get_visit(self.patient.id, self.visit.date)
        self.visits[self.visit.date] = self.visit
        self.status = self.store.visit_status(self.patient.id, self.visit.date)
        self.unreviewed = frozenset()
        self._reclassify()
        self._emit(SessionChanges(findings=True, state=True, classification=True))

    def begin_amend(self) -> bool:
        """Open an amendment of the signed visit: a draft version beside the signed one."""
        return self._lifecycle(self.store.begin_amendment,
                               "Amending: edit as in a draft (Ctrl+Z undoes); sign the amendment with its "
                               "reason, or discard it. The signed version stays unchanged.")

    def sign_amendment(self, reason: str) -> bool:
        who = self.clinician
        return self._lifecycle(lambda pid, d: self.store.sign_amendment(pid, d, clinician=who, reason=reason),
                               f"Amendment of {self.visit.date.isoformat()} signed by {who}.")

    def discard_amendment(self) -> bool:
        return self._lifecycle(self.store.discard_amendment,
                               "Amendment discarded: the signed version is the visit.")

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
        self.shown = None
        if self.classification is not None and self.status in ("signed", "amended"):
            from desktop.signed import shown_visit

            self.shown = shown_visit(self.store, case, self.classification, self.options)
            self.classification = self.shown.classification
        self.last_classify_ms = (time.perf_counter() - t0) * 1000
