"""PySide6 6.12.0 on Python 3.11 drops a reference to None on every void Qt call (that version
is excluded in pyproject.toml); a process that draws the progression plots must survive
hundreds of thousands of such calls and exit cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_many_void_qt_calls_after_importing_the_progression_views_do_not_abort_the_process():
    code = textwrap.dedent("""
        import desktop.ui.progression
        from PySide6.QtCore import QPointF
        p = QPointF()
        for i in range(300_000):
            p.setX(i)
        print("survived")
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "survived"
