"""The store's one error type: a clear one-line message about the chart file or a refused change."""

from __future__ import annotations


class StoreError(Exception):
    """A clear one-line message about the chart file or a refused change."""


class ImportRefused(StoreError):
    """A case the chart refuses whole (it conflicts with the chart or breaks a rule): nothing of
    it was written, and an import of several files goes on with the next one."""


NOT_IMPORTED = "nothing from this file was imported"
"""How an :class:`ImportRefused` message ends: beside an import's other files, it speaks of this one."""


class ChartMissing(StoreError):
    """The chart file is missing or empty (0 bytes) but backups of it exist: it is not created
    silently (issue 17). ``backup`` is the newest good backup (None when none reads back), and
    ``patients`` how many patients it holds (None when not known). Creating a new chart there
    anyway takes an explicit choice (``ChartStore.open(path, new=True)``, ``--new``)."""

    def __init__(self, message: str, *, path, backup=None, patients: int | None = None, empty: bool = False):
        super().__init__(message)
        self.path = path
        self.backup = backup
        self.patients = patients
        self.empty = empty
