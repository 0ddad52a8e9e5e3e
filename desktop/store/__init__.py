"""The chart store: one SQLite file per clinic, Qt-free (see :mod:`desktop.store.chart`, the
façade; :mod:`desktop.store.files`, the file's safety; :mod:`desktop.store.rows`, row mapping).

The names below load :mod:`desktop.store.chart` (and with it sqlite-utils and the domain models)
on first use, so the light :mod:`desktop.store.patient_index` and :mod:`desktop.store.paths` can
be imported at launch without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = [
    "AuditEntry", "Changes", "ChartStore", "ImportReport", "PatientRow", "StoreError", "VisitMeta",
    "list_backups", "newest_good_backup", "restore_backup",
]

if TYPE_CHECKING:  # pragma: no cover
    from .chart import (
        AuditEntry,
        Changes,
        ChartStore,
        ImportReport,
        PatientRow,
        StoreError,
        VisitMeta,
        list_backups,
        newest_good_backup,
        restore_backup,
    )


def __getattr__(name: str):
    if name in __all__:
        from . import chart

        return getattr(chart, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
