"""sqlite-utils, imported without numpy and pandas.

sqlite-utils imports both when present (numpy arrives with pyqtgraph) only to map their scalar
types to column types; the chart never stores them, and numpy alone added ~120 ms to every
launch. Hiding them for this one import makes sqlite-utils take its no-numpy path. The store's
modules take ``Database`` and ``Migrations`` from here.
"""

from __future__ import annotations

import sys

if "sqlite_utils" not in sys.modules:
    _hidden = [n for n in ("numpy", "pandas") if n not in sys.modules]
    for _name in _hidden:
        sys.modules[_name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for _name in _hidden:
            del sys.modules[_name]

from sqlite_utils import Database  # noqa: E402
from sqlite_utils.migrations import Migrations  # noqa: E402

__all__ = ["Database", "Migrations"]
