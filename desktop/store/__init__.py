"""The chart store: one SQLite file per clinic, Qt-free (see :mod:`desktop.store.chart`)."""

import sys as _sys


def _import_sqlite_utils_lean() -> None:
    """Import sqlite-utils without numpy and pandas.

    sqlite-utils imports both when present (numpy arrives with pyqtgraph) only to map their
    scalar types to column types; the chart never stores them, and numpy alone added ~120 ms
    to every launch. Hiding them for this one import makes sqlite-utils take its no-numpy path."""
    hidden = [n for n in ("numpy", "pandas") if n not in _sys.modules]
    for name in hidden:
        _sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in hidden:
            del _sys.modules[name]


_import_sqlite_utils_lean()

from .chart import (  # noqa: E402
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
