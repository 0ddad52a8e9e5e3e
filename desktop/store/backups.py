"""The chart's backups: their format, listing, checking and rotation (issue 17).

A backup is ``<chart dir>/<stem>-backups/<stem>-<UTC time>[-<tag>].sqlite.gz``: one consistent
snapshot of the chart's pages, taken through SQLite (``serialize``, or the backup API into a
scratch file for a chart too large to hold in memory), written once, gzip-compressed, with a
manifest in the gzip header's comment (the format, the schema, the MRNs the backup holds and
the earlier MRNs of renamed patients). ``gunzip`` gives back a plain SQLite file. Earlier
versions of Motorchart wrote uncompressed ``.sqlite`` copies: they are still listed, checked,
restored and rotated.

An encrypted chart's backups (issue 18) are ``<stem>-<UTC time>[-<tag>].sqlite.enc``: an
SQLCipher file encrypted with the chart's key (SQLite's backup API between two connections
keyed alike), not compressed (encrypted pages do not compress) and without a manifest in clear:
what it holds is read from the backup itself, with its key (:mod:`desktop.store.keys`: the
backups folder carries a copy of the key file of every key its backups use). A backup whose key
is not unlocked in this process is never rotated away and is reported as not checked.

Tags: none for an automatic backup (at most one a day: the first open of the day, or the close
when none was made that day); ``manual`` (``motorchart backup``, Chart > Back up);
``before-upgrade`` and ``before-restore``. Only automatic backups are ever removed, by
generations (:class:`Generations`), and never one that holds a patient no newer backup holds.

A backup is written as ``<name>.partial``, locked (``flock``) while it is written, and renamed
when complete: a ``.partial`` that nobody holds is what a killed backup left, and the next open
for writing removes it (:func:`remove_partials`).
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
import re
import shutil
import struct
import tempfile
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from desktop.outfiles import sync_folder

from .driver import sqlite3
from .errors import StoreError
from .paths import backups_dir
from .private import PRIVATE_FILE, private_folder

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

BACKUP_FORMAT = "motorchart-backup/1"
COMPRESSED_SUFFIX = ".sqlite.gz"
ENCRYPTED_SUFFIX = ".sqlite.enc"
LOCKED = "encrypted with a key not unlocked here"
"""What :func:`backup_problem` says of an encrypted backup whose key is not unlocked (not damage)."""
PLAIN_SUFFIX = ".sqlite"
"""The suffix of the uncompressed backups that earlier versions wrote (still read)."""
PARTIAL_SUFFIX = ".partial"
AUTOMATIC = ""
KINDS = (AUTOMATIC, "manual", "before-upgrade", "before-restore")
SERIALIZE_LIMIT = 512 * 1024 * 1024
"""A chart up to this size is copied in memory (``serialize``): the one write is the compressed
backup. A larger one goes through a scratch file beside the backup first."""
COMPRESS_LEVEL = 6
_CHUNK = 1 << 20
_STAMP = "%Y%m%dT%H%M%S%fZ"
_NAME = re.compile(r"(?P<stamp>\d{8}T\d{12}Z)(?:-(?P<tag>[a-z][a-z-]*))?(?P<suffix>\.sqlite(?:\.gz|\.enc)?)")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_GZIP_MAGIC = b"\x1f\x8b"
_FEXTRA, _FNAME, _FCOMMENT = 0x04, 0x08, 0x10


@dataclass(frozen=True)
class Generations:
    """How many automatic backups rotation keeps: the newest of each of the last ``daily`` days,
    ``weekly`` ISO weeks and ``monthly`` months that have one (in local time)."""

    daily: int = 7
    weekly: int = 4
    monthly: int = 12

    @classmethod
    def from_setting(cls, value) -> Generations:
        """From the chart's ``backup_generations`` setting ({"daily": 7, ...}); bad values
        fall back to the defaults."""
        base = cls()
        if not isinstance(value, dict):
            return base
        out = {}
        for name in ("daily", "weekly", "monthly"):
            v = value.get(name, getattr(base, name))
            out[name] = v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else getattr(base, name)
        return cls(**out)


@dataclass(frozen=True)
class BackupInfo:
    """One backup file, from its name."""

    path: Path
    made: dt.datetime  # UTC
    tag: str

    @property
    def automatic(self) -> bool:
        return self.tag == AUTOMATIC

    @property
    def kind(self) -> str:
        return self.tag if self.tag in KINDS else "manual"

    @property
    def compressed(self) -> bool:
        return self.path.name.endswith(".gz")

    @property
    def encrypted(self) -> bool:
        return self.path.name.endswith(ENCRYPTED_SUFFIX)

    def size(self) -> int:
        return file_size(self.path)


def file_size(path: Path) -> int:
    """The file's size in bytes, 0 if it is gone (a backup removed meanwhile)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


@dataclass(frozen=True)
class Holdings:
    """What a backup holds, for rotation: its MRNs, and the earlier MRNs of patients renamed
    in it (a backup holding MRN-2, once MRN-1, still holds the patient an older backup has
    as MRN-1)."""

    patients: frozenset[str]
    renamed: frozenset[str] = frozenset()


def backup_name(chart: Path, tag: str, when: dt.datetime | None = None, *, encrypted: bool = False) -> str:
    stamp = (when or dt.datetime.now(dt.timezone.utc)).strftime(_STAMP)
    return f"{chart.stem}-{stamp}{'-' + tag if tag else ''}{ENCRYPTED_SUFFIX if encrypted else COMPRESSED_SUFFIX}"


def parse_backup(chart: Path, path: Path) -> BackupInfo | None:
    prefix = f"{chart.stem}-"
    name = path.name
    if not name.startswith(prefix):
        return None
    m = _NAME.fullmatch(name[len(prefix):])
    if m is None:
        return None
    made = dt.datetime.strptime(m["stamp"], _STAMP).replace(tzinfo=dt.timezone.utc)
    return BackupInfo(path, made, m["tag"] or AUTOMATIC)


def backup_infos(chart: Path | str) -> list[BackupInfo]:
    """The chart's backups, newest first (compressed and the older uncompressed ones)."""
    chart = Path(chart)
    folder = backups_dir(chart)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    infos = [i for i in (parse_backup(chart, folder / n) for n in names) if i is not None]
    return sorted(infos, key=lambda i: (i.made, i.path.name), reverse=True)


# ------------------------------------------------------------------------------ writing

def holdings_of(conn: sqlite3.Connection) -> Holdings:
    ids = frozenset(r[0] for r in conn.execute("SELECT id FROM patients"))
    renamed: frozenset[str] = frozenset()
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'patient_aliases'").fetchone():
        renamed = frozenset(r[0] for r in conn.execute("SELECT old_id FROM patient_aliases"))
    return Holdings(ids, renamed)


def manifest_of(conn: sqlite3.Connection, chart: Path, tag: str, made: dt.datetime) -> dict:
    """The manifest of a plain backup; ``audit_head`` is the newest audit row it holds (its id,
    time and chain link), which ``check`` finds again in the chart (rows cut off the end)."""
    from .audit_chain import last_row

    held = holdings_of(conn)
    return {
        "format": BACKUP_FORMAT,
        "chart": chart.name,
        "made_utc": made.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "tag": tag,
        "schema": conn.execute("PRAGMA user_version").fetchone()[0],
        "patients": sorted(held.patients),
        "renamed": sorted(held.renamed),
        "audit_head": {**last_row(conn).as_json(), "scheme": "sha256"},
    }


def write_backup(conn: sqlite3.Connection, chart: Path, *, tag: str, key=None) -> Path:
    """Write a compressed backup of ``conn``'s database (the chart at ``chart``) and return it;
    with ``key`` (the chart's :class:`desktop.store.keys.ChartKey`: ``conn`` is an encrypted
    chart), an encrypted backup instead (:func:`_write_encrypted`).

    The snapshot is read once and written once (compressed) to ``<name>.partial``, which is
    locked while it is written, fsynced and then renamed into place."""
    if key is not None:
        return _write_encrypted(conn, chart, tag=tag, key=key)
    folder, made, target, partial, fd = _start_backup(chart, tag, encrypted=False)
    try:
        with _snapshot(conn) as snap:
            manifest = manifest_of(snap, chart, tag, made)
            with os.fdopen(os.dup(fd), "wb") as f:
                _write_gzip(f, _image(snap, partial), _comment(manifest), mtime=int(made.timestamp()))
                f.flush()
                os.fsync(f.fileno())
        os.replace(partial, target)
        sync_folder(folder)
    except (OSError, sqlite3.Error, zlib.error) as e:
        _unlink(partial)
        raise StoreError(f"{folder}: the backup could not be written ({e})") from None
    except BaseException:
        _unlink(partial)
        raise
    finally:
        os.close(fd)
    return target


def _start_backup(chart: Path, tag: str, *, encrypted: bool) -> tuple[Path, dt.datetime, Path, Path, int]:
    """A new backup's folder (made private), time, name, and its ``.partial`` file created and
    locked (its descriptor, read-write for SQLite's backup API into an encrypted one)."""
    folder = backups_dir(chart)
    made = dt.datetime.now(dt.timezone.utc)
    target = folder / backup_name(chart, tag, made, encrypted=encrypted)
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    flags = (os.O_RDWR if encrypted else os.O_WRONLY) | os.O_CREAT | os.O_EXCL
    try:
        private_folder(folder)
        fd = _create_locked(lambda: os.open(partial, flags, PRIVATE_FILE), partial)
    except OSError as e:
        raise StoreError(f"{folder}: the backup could not be written ({e.strerror or e})") from None
    return folder, made, target, partial, fd


@contextmanager
def _snapshot(conn) -> Iterator:
    """``conn`` in one read transaction (unless it is in one already), so that a plain
    backup's manifest and pages are one snapshot; the pages then go through a scratch file
    (:func:`_image`: the store's driver, sqlcipher3, has no ``serialize``).

    Not a second connection through the standard library's sqlite3, as before: two copies of
    SQLite in one process that open the same file do not know of each other's locks, and closing
    either drops the POSIX locks of both (SQLite's "multiple copies of SQLite" hazard), so that
    another program could check-point or recover the chart under the open store."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the read transaction starts here
        yield conn
    finally:
        conn.rollback()


def _write_encrypted(conn, chart: Path, *, tag: str, key) -> Path:
    """An encrypted backup of the encrypted chart on ``conn``: SQLite's backup API into a new
    file keyed alike (``<name>.partial``, locked while written, fsynced, then renamed), in
    rollback-journal mode so that it never needs a ``-wal`` or ``-shm``. The backups folder's
    copy of the key file comes first (:func:`desktop.store.keys.ensure_backup_key_file`)."""
    from .driver import apply_key
    from .keys import ensure_backup_key_file

    folder, _made, target, partial, fd = _start_backup(chart, tag, encrypted=True)
    try:
        dest = sqlite3.connect(str(partial))
        try:
            apply_key(dest, key.raw)
            conn.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
        os.fsync(fd)
        ensure_backup_key_file(chart, key)
        os.replace(partial, target)
        sync_folder(folder)
    except (OSError, sqlite3.Error, StoreError) as e:
        _unlink(partial)
        _unlink(partial.with_name(partial.name + "-journal"))
        raise StoreError(f"{folder}: the backup could not be written ({e})") from None
    except BaseException:
        _unlink(partial)
        _unlink(partial.with_name(partial.name + "-journal"))
        raise
    finally:
        os.close(fd)
    return target


def convert_backup_to_encrypted(chart: Path, info: BackupInfo, key) -> Path:
    """``motorchart encrypt``: a plain backup (compressed or not) copied into an encrypted one
    with the same time and tag, read back and compared first (the caller removes the plain one).
    StoreError when the plain backup cannot be read whole."""
    from .keys import _verified_copy

    target = info.path.parent / backup_name(chart, info.tag, info.made, encrypted=True)
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    if backup_problem(info.path) is not None:
        raise StoreError(f"{info.path}: the backup is damaged; it was not converted")
    with expanded(info.path, folder=backups_dir(chart)) as plain:
        try:
            src = sqlite3.connect(str(plain), timeout=5)
        except sqlite3.Error as e:
            raise StoreError(f"{info.path}: cannot open the backup ({e})") from None
        try:
            _verified_copy(src, partial, key, wal=False, strict_chain=False)
        except sqlite3.Error as e:
            raise StoreError(f"{info.path}: the backup could not be converted ({e})") from None
        finally:
            src.close()
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, target)
    sync_folder(target.parent)
    return target


def _image(conn: sqlite3.Connection, partial: Path) -> Iterator[bytes | memoryview]:
    """The database's pages as one consistent snapshot, in chunks, marked as a rollback-journal
    database (header bytes 18-19 = 1) so that the copy never needs a ``-wal`` or ``-shm``."""
    pages, page_size = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size"))
    if hasattr(conn, "serialize") and pages * page_size <= SERIALIZE_LIMIT:
        data = memoryview(conn.serialize())
        yield from _as_rollback(data[i:i + _CHUNK] for i in range(0, len(data), _CHUNK))
        return
    scratch = partial.with_name(partial.name[:-len(PARTIAL_SUFFIX)] + ".image" + PARTIAL_SUFFIX)
    in_memory = _memory_folder(pages * page_size)
    if in_memory is not None:  # a file in RAM: the backup is still written to disk once, compressed
        scratch = in_memory / f"motorchart-{os.getpid()}-{scratch.name}"
    # locked, so that another process's open does not take it for a killed backup's
    fd = _create_locked(lambda: os.open(scratch, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600), scratch)
    try:
        dest = sqlite3.connect(str(scratch))
        try:
            if in_memory is not None:
                dest.execute("PRAGMA journal_mode = OFF")  # (a copy being made: nothing to roll back)
            conn.backup(dest)
        finally:
            dest.close()
        with open(scratch, "rb") as f:
            yield from _as_rollback(iter(lambda: f.read(_CHUNK), b""))
    finally:
        os.close(fd)
        _unlink(scratch)
        _unlink(scratch.with_name(scratch.name + "-journal"))


MEMORY_FOLDER = Path("/dev/shm")
"""Where a plain backup's page image is taken (:func:`_image`) when it fits: a RAM file system."""


def _memory_folder(size: int) -> Path | None:
    """:data:`MEMORY_FOLDER` when it is a writable RAM file system with room for ``size`` bytes
    (twice over) and the image is within :data:`SERIALIZE_LIMIT`, else None (the backups folder)."""
    if size > SERIALIZE_LIMIT:
        return None
    try:
        st = os.statvfs(MEMORY_FOLDER)
    except OSError:
        return None
    if not os.access(MEMORY_FOLDER, os.W_OK) or st.f_bavail * st.f_frsize < 2 * size:
        return None
    return MEMORY_FOLDER


def _as_rollback(chunks: Iterator) -> Iterator[bytes | memoryview]:
    first = True
    for chunk in chunks:
        if first and len(chunk) >= 20 and bytes(chunk[18:20]) == b"\x02\x02":
            chunk = bytes(chunk[:18]) + b"\x01\x01" + bytes(chunk[20:])
        first = False
        yield chunk


def _comment(manifest: dict) -> bytes:
    packed = base64.b64encode(zlib.compress(json.dumps(manifest, separators=(",", ":")).encode(), 9))
    return BACKUP_FORMAT.encode("ascii") + b" " + packed


def _write_gzip(f, chunks, comment: bytes, *, mtime: int) -> None:
    """A one-member gzip file (RFC 1952) with ``comment`` in its header (FCOMMENT)."""
    f.write(_GZIP_MAGIC + b"\x08" + bytes([_FCOMMENT]) + struct.pack("<I", mtime & 0xFFFFFFFF) + b"\x00\xff")
    f.write(comment + b"\x00")
    co = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    crc, size = 0, 0
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        f.write(co.compress(chunk))
    f.write(co.flush())
    f.write(struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))


# ------------------------------------------------------------------------------ reading

def is_compressed(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(2) == _GZIP_MAGIC
    except OSError:
        return False


def read_manifest(path: Path) -> dict | None:
    """The manifest in a compressed backup's gzip header, or None (not ours, or unreadable)."""
    try:
        with open(path, "rb") as f:
            head = f.read(10)
            if len(head) < 10 or head[:3] != _GZIP_MAGIC + b"\x08":
                return None
            flags = head[3]
            if flags & _FEXTRA:
                (n,) = struct.unpack("<H", f.read(2))
                f.read(n)
            if flags & _FNAME:
                _read_zstring(f)
            if not flags & _FCOMMENT:
                return None
            comment = _read_zstring(f)
    except (OSError, struct.error, ValueError):
        return None
    prefix = BACKUP_FORMAT.encode("ascii") + b" "
    if not comment.startswith(prefix):
        return None
    try:
        return json.loads(zlib.decompress(base64.b64decode(comment[len(prefix):], validate=True)))
    except (ValueError, zlib.error):
        return None


def _read_zstring(f, limit: int = 64 << 20) -> bytes:
    out = bytearray()
    while True:
        block = f.read(65536)
        if not block:
            raise ValueError("truncated gzip header")
        i = block.find(b"\x00")
        if i >= 0:
            out += block[:i]
            f.seek(i + 1 - len(block), os.SEEK_CUR)
            return bytes(out)
        out += block
        if len(out) > limit:
            raise ValueError("gzip header too long")


def holdings(path: Path) -> Holdings | None:
    """What a backup holds, from its manifest (an uncompressed backup is opened read-only, an
    encrypted one with its key); None when that cannot be read (such a backup is never rotated
    away)."""
    if is_compressed(path):
        m = read_manifest(path)
        if m is None or not isinstance(m.get("patients"), list):
            return None
        return Holdings(frozenset(m["patients"]), frozenset(m.get("renamed") or ()))
    key = _key_of(path)
    if key is False:
        return None
    try:
        conn = _connect_ro(path, key)
        try:
            return holdings_of(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def backup_problem(path: Path) -> str | None:
    """None when the backup reads back whole, else what is wrong. A compressed backup is read
    to its end (gzip's CRC-32 and length cover every byte); an uncompressed one gets SQLite's
    ``quick_check``, and an encrypted one too, with its key (:data:`LOCKED` when no key
    unlocked in this process opens it)."""
    if is_compressed(path):
        try:
            with gzip.open(path, "rb") as f:
                if f.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
                    return "not a SQLite database inside"
                while f.read(_CHUNK):
                    pass
        except (OSError, EOFError, zlib.error) as e:
            return f"damaged: {e}"
        return None
    key = _key_of(path)
    if key is False:
        return LOCKED
    try:
        conn = _connect_ro(path, key)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check")]
            if rows != ["ok"]:
                return "damaged: " + "; ".join(rows[:3])
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'patients'").fetchone():
                return "not a Motorchart chart"
        finally:
            conn.close()
    except sqlite3.Error as e:
        return f"damaged: {e}"
    return None


@contextmanager
def expanded(backup: Path, folder: Path | None = None) -> Iterator[Path]:
    """A plain SQLite file with the backup's content: the backup itself when uncompressed, else
    a temporary expanded copy (in ``folder``, default the system's temporary folder), removed
    afterwards. A damaged compressed backup raises StoreError."""
    backup = Path(backup)
    if not is_compressed(backup):
        yield backup
        return
    made: list[str] = []

    def create() -> int:
        fd, name = tempfile.mkstemp(prefix=f"{backup.name}.", suffix=".expand" + PARTIAL_SUFFIX, dir=folder)
        made.append(name)
        return fd

    try:
        if folder is not None:
            private_folder(folder)
        fd = _create_locked(create, lambda: Path(made[-1]))
    except OSError as e:
        raise StoreError(f"{backup}: no room to read the backup ({e.strerror or e})") from None
    tmp = Path(made[-1])
    try:
        try:
            with gzip.open(backup, "rb") as src, os.fdopen(os.dup(fd), "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise StoreError(f"{backup}: the backup is damaged ({e}); choose another") from None
        except OSError as e:
            raise StoreError(f"{backup}: the backup could not be read ({e.strerror or e})") from None
        yield tmp
    finally:
        os.close(fd)
        for side in ("", "-journal", "-wal", "-shm"):
            _unlink(tmp.with_name(tmp.name + side))


def audit_heads(chart: Path | str) -> Iterator[tuple[str, dt.datetime, dict]]:
    """(name, made UTC, head) of each backup of ``chart`` that records its newest audit row:
    a compressed backup's manifest says it (``audit_head``); an uncompressed or encrypted one
    (with its key unlocked here) is asked directly, its newest row by id being one indexed read.
    Backups from before the audit was chained, or that cannot be read, are skipped."""
    from .audit_chain import last_row

    for info in backup_infos(chart):
        head = None
        if is_compressed(info.path):
            m = read_manifest(info.path)
            head = m.get("audit_head") if isinstance(m, dict) else None
        else:
            key = _key_of(info.path)
            if key is False:
                continue
            try:
                conn = _connect_ro(info.path, key)
                try:
                    h = last_row(conn)
                finally:
                    conn.close()
            except sqlite3.Error:
                continue
            if h.chain is not None:
                head = {**h.as_json(), "scheme": "sha256" if key is None else "hmac-sha256"}
        if isinstance(head, dict):
            yield info.path.name, info.made, head


def _connect_ro(path: Path, key=None) -> sqlite3.Connection:
    from .driver import apply_key

    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    if key is not None:
        apply_key(conn, key.raw)
    return conn


def _key_of(path: Path):
    """The remembered key of an encrypted backup, None for a plain one, False when it is
    encrypted and no key unlocked in this process opens it."""
    from .driver import file_kind

    if file_kind(path) != "encrypted":
        return None
    from .keys import key_for

    key = key_for(path)
    if key is None:  # an encrypted backup whose key is not unlocked; else a damaged plain one
        return False if Path(path).name.endswith(ENCRYPTED_SUFFIX) else None
    return key


# ------------------------------------------------------------------------------ partials

def abandoned_partials(chart: Path | str) -> list[Path]:
    """The ``*.partial`` files in the chart's backups folder that no live process holds: what a
    killed backup, restore or expansion left (``check`` names them; :func:`remove_partials`
    removes them)."""
    folder = backups_dir(Path(chart))
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(PARTIAL_SUFFIX))
    except OSError:
        return []
    return [folder / n for n in names if _abandoned(folder / n)]


def remove_partials(chart: Path | str) -> list[Path]:
    """Remove the abandoned ``*.partial`` files (:func:`abandoned_partials`); returns them."""
    removed = []
    for p in abandoned_partials(chart):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
        for side in ("-journal", "-wal", "-shm"):
            _unlink(p.with_name(p.name + side))
    return removed


def _abandoned(p: Path) -> bool:
    if fcntl is None:  # pragma: no cover  (no flock: only what is clearly stale)
        try:
            return time.time() - p.stat().st_mtime > 24 * 3600
        except OSError:
            return False
    try:
        fd = os.open(p, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True  # nobody is writing it
    except OSError:
        return False
    finally:
        os.close(fd)  # (closing releases the lock)


def _create_locked(create: Callable[[], int], path) -> int:
    """Create a file (``create`` returns its descriptor) and lock it. A cleaner that came
    between the two took it for a killed writer's and removed it: then create it again."""
    for _ in range(20):
        fd = create()
        _flock(fd)
        where = path() if callable(path) else path
        try:
            if os.stat(where).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
    raise OSError("the file kept disappearing while it was being created")


def _flock(fd: int) -> None:
    """Hold ``fd``'s file while it is written (a cleaner holds it only for a moment)."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)


def _unlink(p: Path) -> None:
    try:
        p.unlink(missing_ok=True)
    except OSError:
        pass




# ------------------------------------------------------------------------------ rotation

def plan_rotation(infos: list[BackupInfo], held: Callable[[BackupInfo], Holdings | None],
                  gens: Generations = Generations(), tz: dt.tzinfo | None = None) -> list[BackupInfo]:
    """The automatic backups to remove (pure: no files touched).

    Kept: every backup that is not automatic; the newest automatic one; the newest of each of
    the last ``gens.daily`` days, ``gens.weekly`` ISO weeks and ``gens.monthly`` months that
    have one (local time, or ``tz``); and any backup holding a patient (by MRN, a renamed
    patient by its earlier MRN too) that no newer kept backup holds, or whose holdings cannot
    be read."""
    newest_first = sorted(infos, key=lambda i: (i.made, i.path.name), reverse=True)
    autos = [i for i in newest_first if i.automatic]
    keep = {autos[0].path} if autos else set()
    buckets = (
        (gens.daily, lambda d: d.date()),
        (gens.weekly, lambda d: tuple(d.isocalendar())[:2]),
        (gens.monthly, lambda d: (d.year, d.month)),
    )
    for n, key in buckets:
        seen: set = set()
        for i in autos:
            k = key(i.made.astimezone(tz))
            if k in seen:
                continue
            if len(seen) >= n:
                break
            seen.add(k)
            keep.add(i.path)
    if all(i.path in keep for i in autos):
        return []
    remove = []
    covered: set[str] = set()
    for i in newest_first:
        h = held(i)
        if i.automatic and i.path not in keep and h is not None and h.patients <= covered:
            remove.append(i)
            continue
        if h is not None:
            covered |= h.patients | h.renamed
    return remove


def rotate(chart: Path | str, gens: Generations = Generations()) -> list[Path]:
    """Remove the automatic backups :func:`plan_rotation` lets go; returns them."""
    cache: dict[Path, Holdings | None] = {}

    def held(i: BackupInfo) -> Holdings | None:
        if i.path not in cache:
            cache[i.path] = holdings(i.path)
        return cache[i.path]

    removed = []
    for i in plan_rotation(backup_infos(chart), held, gens):
        try:
            i.path.unlink()
            removed.append(i.path)
        except OSError:
            pass
    return removed


def automatic_today(chart: Path | str, now: dt.datetime | None = None) -> BackupInfo | None:
    """Today's automatic backup (local day), if one was made."""
    today = (now or dt.datetime.now(dt.timezone.utc)).astimezone().date()
    for i in backup_infos(chart):
        if i.automatic and i.made.astimezone().date() == today:
            return i
    return None


# ------------------------------------------------------------------------------ summary

@dataclass(frozen=True)
class KindSummary:
    count: int
    size: int


def summarize(infos: list[BackupInfo]) -> dict[str, KindSummary]:
    """Count and total size of each kind of backup (automatic, manual, before-upgrade,
    before-restore), in that order."""
    out = {}
    for kind in KINDS:
        these = [i for i in infos if i.kind == kind]
        out[kind or "automatic"] = KindSummary(len(these), sum(i.size() for i in these))
    return out


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} bytes"  # pragma: no cover
