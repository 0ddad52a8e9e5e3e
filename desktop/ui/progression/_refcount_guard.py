"""Work around a reference-counting bug of PySide6/shiboken6 6.12.0 on Python 3.11.

Measured on this project's machine (Python 3.11.7, PySide6-Essentials 6.12.0): every call of a
Qt method that returns ``void`` (``QWidget.resize``, ``QPointF.setX``, ...) takes one reference
from ``None`` that it never gave (and bool results do the same to ``True``/``False``).
``sys.getrefcount(None)`` falls by exactly one per call; 6.11.3 in the same interpreter does not.
Python 3.12+ is unaffected because ``None``, ``True`` and ``False`` are immortal there, which is
presumably why the bug went unnoticed. A plot-heavy view makes tens of thousands of such calls,
so the count reaches zero and the process aborts ("Fatal Python error: none_dealloc" /
"bool_dealloc"), mid-run or at exit.

The right fix is to avoid 6.12.0 (``PySide6-Essentials>=6.6,!=6.12.0``). Until the dependency is
pinned, :func:`install` gives the three singletons a very large reference count, as 3.12 does by
making them immortal; they are never freed in a running interpreter anyway, so nothing else
changes. It does nothing on Python >= 3.12 or with any other PySide6 version.
"""

from __future__ import annotations

import ctypes
import sys

_BOOST = 1 << 40
_done = False


def affected() -> bool:
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    try:
        import shiboken6
    except ImportError:  # pragma: no cover
        return False
    return getattr(shiboken6, "__version__", "").startswith("6.12.0")


def install() -> bool:
    """Apply the workaround once when the buggy binding is in use; True if applied."""
    global _done
    if _done or not affected():
        return _done
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += _BOOST
    _done = True
    return True
