"""sqlite-utils, imported without numpy and pandas (see :mod:`desktop.launch_speed`, which
keeps every launch-speed trick in one place). The store's modules take ``Database`` and
``Migrations`` from here.
"""

from __future__ import annotations

from desktop.launch_speed import sqlite_utils_without_numpy

sqlite_utils_without_numpy()

from sqlite_utils import Database  # noqa: E402
from sqlite_utils.migrations import Migrations  # noqa: E402

__all__ = ["Database", "Migrations"]
