"""The chart store: one SQLite file per clinic, Qt-free (see :mod:`desktop.store.chart`)."""

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

__all__ = [
    "AuditEntry", "Changes", "ChartStore", "ImportReport", "PatientRow", "StoreError", "VisitMeta",
    "list_backups", "newest_good_backup", "restore_backup",
]
