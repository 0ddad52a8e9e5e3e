"""The store's one SQLite driver: ``sqlcipher3`` (SQLCipher 4 with SQLite, bundled OpenSSL).

It opens plain charts exactly like the standard library's ``sqlite3`` and encrypted ones once
their key is given (``PRAGMA key``, :mod:`desktop.store.keys`). Every module of the store takes
the driver from here (``from .driver import sqlite3``), so that its ``except sqlite3.Error``
clauses catch what the driver raises: sqlcipher3's exception classes are not the standard
library's. sqlite-utils is pointed at the same driver before it is first imported
(:func:`desktop.launch_speed.sqlite_utils_without_numpy`).

sqlcipher3 itself is imported on the first use of ``sqlite3`` or ``sqlcipher3`` from here (a
module ``__getattr__``; ``from .driver import sqlite3`` goes through it), not when this module
is: :func:`file_kind` and :func:`key_pragma` need no driver, and the launch asks
:func:`file_kind` before the window is painted, when sqlcipher3 (~6 ms and ~6 MB resident:
SQLCipher and OpenSSL) is not needed yet (``ui.launch_ratio``, ``ui.launch_rss_ratio``).
"""

from __future__ import annotations

import os

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import sqlcipher3
    import sqlcipher3.dbapi2 as sqlite3

SQLITE_MAGIC = b"SQLite format 3\x00"
"""The first 16 bytes of a plain SQLite file (an encrypted one starts with its random salt)."""

__all__ = ["SQLITE_MAGIC", "apply_key", "file_kind", "key_pragma", "silence_cipher_log", "sqlcipher3", "sqlite3"]


def key_pragma(raw: bytes) -> str:
    """``PRAGMA key`` for a raw 256-bit key: SQLCipher uses it as is (no KDF: ~0.3 ms)."""
    if len(raw) != 32:
        raise ValueError("a chart key is 32 bytes")
    return f"PRAGMA key = \"x'{raw.hex()}'\""


def apply_key(conn, raw: bytes | None) -> None:
    """Key a fresh connection (before anything else is read); None leaves it plain."""
    if raw is not None:
        conn.execute(key_pragma(raw))


_silenced = False


def silence_cipher_log() -> None:
    """SQLCipher logs a wrong key's failed HMAC checks on stderr; the store says it in one line
    instead (``PRAGMA cipher_log_level = NONE``, process-wide; done when the driver is first
    imported from here)."""
    global _silenced
    if _silenced:
        return
    import sqlcipher3.dbapi2

    c = sqlcipher3.dbapi2.connect(":memory:")
    try:
        c.execute("PRAGMA cipher_log_level = NONE")
    finally:
        c.close()
    _silenced = True


def __getattr__(name: str):
    """``sqlite3`` (sqlcipher3's DB-API module) and ``sqlcipher3``, imported on first use."""
    if name not in ("sqlite3", "sqlcipher3"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import sqlcipher3
    import sqlcipher3.dbapi2

    silence_cipher_log()
    globals().update(sqlite3=sqlcipher3.dbapi2, sqlcipher3=sqlcipher3)
    return globals()[name]


def file_kind(path) -> str:
    """What a chart or backup file is, from its first bytes: ``missing``, ``unreadable``, ``empty``, ``plain``
    (SQLite), ``gzip`` (a compressed backup), ``encrypted`` (anything else: an SQLCipher file
    starts with 16 random bytes; a damaged file looks the same until its key fails)."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "unreadable"
    if not head:
        return "empty"
    if head == SQLITE_MAGIC:
        return "plain"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    return "encrypted"


def whole_pages(path) -> bool:
    """Whether a file ``file_kind`` calls ``encrypted`` has the shape of one: SQLCipher writes
    whole pages (512 bytes at the least, a power of two), so a file of another size is not an
    encrypted chart or backup but something else (a text file, a truncated copy)."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return False
    return size >= 512 and size % 512 == 0
