"""Writing a file the user asked for (an export, a report, the JSON Schema): one helper, used by
every writer, so a crash never leaves half a file under the chosen name and nothing planted
beside the target can redirect the write (issue 17).

The data goes first to a temporary file created exclusively by :func:`tempfile.mkstemp` in the
target's folder (a new random name, ``O_EXCL``: a symlink or file already there is never opened
or followed), is flushed to disk, then :func:`os.replace`-d onto the target. ``os.replace``
renames: when the target itself is a symlink, the link is replaced, never the file it points to.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

NEW_FILE_MODE = 0o600
"""A new file holds patient data: readable by its owner only. A file that is replaced keeps
its permission bits."""


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (text is written as UTF-8) to ``path`` through an exclusive temporary file
    in the same folder, then rename it onto ``path``. Raises OSError (nothing written under
    ``path``, no temporary left) when the folder cannot take the file."""
    target = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    mode = NEW_FILE_MODE
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        pass
    else:
        if stat.S_ISREG(st.st_mode):
            mode = stat.S_IMODE(st.st_mode)
        elif stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "Is a directory", str(target))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    sync_folder(target.parent)
    return target


def sync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it (not on Windows)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
