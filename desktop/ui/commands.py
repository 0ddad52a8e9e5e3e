"""Undo commands: one QUndoCommand per user action, holding before/after snapshots.

A snapshot is ``(Visit, frozenset of not-reviewed cell keys)``. ``redo``/``undo`` hand the
snapshot to the session, which stores it through ``ChartStore`` at once; commands never
touch widgets (the views refresh from the session's signals).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

if TYPE_CHECKING:
    import datetime as dt

    from desktop.ui.session import VisitSession
    from domain.case import Visit


class EditVisitCommand(QUndoCommand):
    def __init__(self, session: VisitSession, before: Visit, after: Visit, text: str, parent=None):
        super().__init__(text, parent)
        self.session = session
        self.before = before
        self.after = after
        self.ok = True

    def redo(self) -> None:
        self.ok = self.session.restore(*self.after)
        if not self.ok:  # the store refused it: drop the command instead of keeping a lie
            self.setObsolete(True)

    def undo(self) -> None:
        # A restore the store refuses (the visit was signed meanwhile, the disk is full) is said
        # in the status bar by the session; the command is dropped rather than kept as a lie.
        if not self.session.restore(*self.before):
            self.setObsolete(True)


class EditNotesCommand(EditVisitCommand):
    """Typing in the notes: stored on every keystroke (never lost), one undo step per run of
    typing in one visit (consecutive note commands merge)."""

    ID = 1001

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other) -> bool:
        if not isinstance(other, EditNotesCommand) or other.after[0].date != self.after[0].date:
            return False
        if not other.ok:
            return False
        self.after = other.after
        return True


class CreateVisitCommand(QUndoCommand):
    """Creating a visit (empty or copied forward): undo deletes the new draft and opens the
    visit that was open before; redo stores it again, with its not-reviewed marks."""

    def __init__(self, session: VisitSession, date: dt.date, previous_date: dt.date | None, parent=None):
        super().__init__(f"New visit {date.isoformat()}", parent)
        self.session = session
        self.date = date
        self.previous_date = previous_date
        self.visit = session.visits[date]
        self.unreviewed = session.unreviewed
        self.carried_from = session.carried_from
        self._first = True

    def redo(self) -> None:
        if self._first:  # the session already created it
            self._first = False
            return
        self.session.recreate_visit(self.visit, self.unreviewed, self.carried_from)

    def undo(self) -> None:
        self.session.uncreate_visit(self.date, self.previous_date)
