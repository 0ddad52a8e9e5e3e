"""Private files (issue 18, point 3): what holds patient data is readable by its owner only.

Files Motorchart creates for a chart (the chart itself, its ``-wal`` and ``-shm``, which SQLite
creates with the chart's own permissions, its lock and head files, backups, exports and PDFs)
are 0600, and the folders it creates for them 0700, whatever the umask. The default data
folder is made 0700 even when it already exists (it is Motorchart's own). A chart or backup that
already exists keeps its permissions: ``check`` warns when one is readable by others
(:func:`exposed_files`). Standard library only; permissions mean nothing on Windows, where these
functions do nothing.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
_POSIX = os.name != "nt"


def private_folder(folder: Path | str) -> Path:
    """Create ``folder`` and any missing parent as 0700 (an existing one is left as it is,
    except the default data folder and the folders Motorchart keeps inside it, which are
    tightened to 0700)."""
    folder = Path(folder)
    missing = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for m in reversed(missing):
        try:
            m.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:
            continue
        _chmod(m, PRIVATE_FOLDER)
    for inside in _inside_data_folder(folder):
        _chmod(inside, PRIVATE_FOLDER)
    return folder


def create_private_file(path: Path | str) -> None:
    """Make sure ``path`` exists and is 0600 before SQLite opens it, so the chart and the
    ``-wal`` and ``-shm`` files SQLite creates with the chart's permissions are private. Only
    for a file that is new or empty (a chart being built): an existing chart keeps its mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    try:
        if _POSIX and os.fstat(fd).st_size == 0:
            os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def open_private(path: Path | str, flags: int) -> int:
    """``os.open(path, flags | O_CREAT, 0600)``; a file it creates is 0600 whatever the umask."""
    fd = os.open(path, flags | os.O_CREAT, PRIVATE_FILE)
    if _POSIX:
        try:
            st = os.fstat(fd)
            if st.st_size == 0 and stat.S_IMODE(st.st_mode) != PRIVATE_FILE:
                os.fchmod(fd, PRIVATE_FILE)
        except OSError:
            pass
    return fd


def exposed(path: Path | str) -> int | None:
    """The group and other permission bits of ``path`` when any is set, else None (also when
    it does not exist, or on Windows)."""
    if not _POSIX:
        return None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None


def exposed_files(chart: Path | str, extra: tuple[Path, ...] = ()) -> list[tuple[Path, int]]:
    """The chart's files that others can read (chart, ``-wal``, ``-shm``, head file, backups),
    with their modes: what ``check`` warns about."""
    from .audit_chain import head_path
    from .backups import backup_infos

    chart = Path(chart)
    files = [chart, chart.with_name(chart.name + "-wal"), chart.with_name(chart.name + "-shm"),
             head_path(chart), *extra, *(i.path for i in backup_infos(chart))]
    out = []
    for f in files:
        mode = exposed(f)
        if mode is not None and f.is_file():
            out.append((f, mode))
    return out


def _inside_data_folder(folder: Path) -> list[Path]:
    """The default data folder and each folder below it down to ``folder``, when ``folder`` is
    in it (else [])."""
    try:
        from .paths import data_folder

        data = data_folder().resolve()
        here = folder.resolve()
    except Exception:  # noqa: BLE001  (no user data folder on this system)
        return []
    if here != data and data not in here.parents:
        return []
    chain = [here, *(p for p in here.parents if p == data or data in p.parents)]
    return [p for p in chain if p.is_dir()]


def _chmod(path: Path, mode: int) -> None:
    if not _POSIX:
        return
    try:
        if stat.S_IMODE(os.stat(path).st_mode) != mode:
            os.chmod(path, mode)
    except OSError:
        pass  # not ours, or a read-only file system: leave it
