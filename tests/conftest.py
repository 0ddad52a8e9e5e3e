"""MOTORCHART_NO_QT=1 makes PySide6 unimportable for the whole run: CI runs the headless
layers (domain, store, reports, presentation, command line) that way, proving they need no Qt.

The run's user cache folder (where a launch keeps PySide6's compiled support modules: see
desktop.launch_speed.import_pyside) is a folder of its own, so no test writes the real one."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

os.environ["MOTORCHART_CACHE_DIR"] = _cache_home = tempfile.mkdtemp(prefix="motorchart-test-cache-")
atexit.register(shutil.rmtree, _cache_home, True)

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
