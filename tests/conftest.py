"""MOTORCHART_NO_QT=1 makes PySide6 unimportable for the whole run: CI runs the headless
layers (domain, store, reports, presentation, command line) that way, proving they need no Qt."""

from __future__ import annotations

import os
import sys

if os.environ.get("MOTORCHART_NO_QT") == "1":
    for name in ("PySide6", "PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "shiboken6", "pyqtgraph"):
        sys.modules[name] = None  # type: ignore[assignment]


import pytest  # noqa: E402


@pytest.fixture
def cheap_kdf():
    """Encrypted charts made in this test use a cheap Argon2 (issue 18's test hook: production
    keeps 64 MiB and 3 passes); keys unlocked in it are forgotten afterwards."""
    from desktop.store import keys

    with keys.cheap_kdf_for_tests():
        yield
    keys.forget_keys()
