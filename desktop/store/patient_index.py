"""The patient list's queries, on a bare SQLite connection (no sqlite-utils).

``ChartStore.search_patients`` runs these on its own connection. :class:`PatientIndex` runs
them on a separate read-only connection that opens in a few milliseconds, before sqlite-utils,
pydantic and the classifier are imported, so the window can show and search the patient list
while the rest of the chart loads (``desktop.ui.app``).

The queries work on any DB-API connection to the chart; the module imports no driver itself.
:func:`connect_read_only` connects through the store's driver (sqlcipher3, :mod:`.driver`),
except for the launch's look at a plain chart (``PatientIndex.peek(path, lean=True)``), which
reads it through the standard library's sqlite3: the same file format, imported in half the
time and a third of the memory (sqlcipher3 carries SQLCipher and OpenSSL, ~6 MB resident).
Two SQLite libraries must never have the same file open at once in one process (closing one's
file releases the other's POSIX locks), so that connection is handed over to the store's
driver (:meth:`PatientIndex.use_store_driver`) before the chart is opened for writing.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    from .driver import sqlite3

SCHEMA_VERSION = 13
"""The chart schema this Motorchart writes (``PRAGMA user_version``): the number of migrations
in :mod:`desktop.store.migrations`, which checks the two agree when it is imported."""

_ORDER = "ORDER BY p.family_name COLLATE NOCASE, p.given_names COLLATE NOCASE, p.id"


class PatientRow(NamedTuple):
    """One line of the patient list (a tuple: cheaper to define at launch than a dataclass)."""

    id: str
    family_name: str | None
    given_names: str | None
    birth_date: dt.date | None
    onset_date: dt.date | None
    onset_region: str | None
    n_visits: int
    last_visit: dt.date | None


def _d(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


FOLDED_AWAY = {"l": ("ł",), "o": ("ø",), "d": ("đ", "ð"), "i": ("ı",),
               "ae": ("æ",), "oe": ("œ",), "ss": ("ß",), "th": ("þ",)}
"""Letters the index's ``unicode61 remove_diacritics 2`` keeps as they are (they do not
decompose into a plain letter and an accent, as é or å do), under the plain letters a clinician
types for them: "lucja" finds Łucja, "odegard" Ødegård, "yilmaz" Yılmaz, "strauss" Strauß."""

MAX_SPELLINGS = 64
"""At most this many spellings of one typed word are looked for: the typed one first, then
those with fewest letters put back."""


def _spellings(word: str) -> list[str]:
    """``word`` (lower case) and its spellings with letters of :data:`FOLDED_AWAY` put back."""
    found: list[tuple[int, str]] = []

    def walk(i: int, built: str, replaced: int) -> None:
        if len(found) >= 8 * MAX_SPELLINGS:
            return
        if i == len(word):
            found.append((replaced, built))
            return
        walk(i + 1, built + word[i], replaced)
        for plain, letters in FOLDED_AWAY.items():
            if word.startswith(plain, i):
                for letter in letters:
                    walk(i + len(plain), built + letter, replaced + 1)

    walk(0, "", 0)
    return list(dict.fromkeys(w for _n, w in sorted(found)))[:MAX_SPELLINGS]


def fts_query(text: str) -> str | None:
    """Each word of ``text`` as a prefix term, all required (FTS5 syntax, quotes escaped); a
    word holding letters a clinician may type for ł, ø, đ, ı, æ, ß... (:data:`FOLDED_AWAY`)
    matches those spellings too."""
    words = "".join(ch if ch.isalnum() else " " for ch in text).split()
    if not words:
        return None
    terms = []
    for w in words:
        spellings = _spellings(w.lower())
        quoted = ['"' + s.replace('"', '""') + '"*' for s in spellings]
        terms.append(quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")")
    return " AND ".join(terms)  # (FTS5 takes no implicit AND beside a parenthesis)


def folder_is_read_only(folder: Path) -> bool:
    """Whether nothing can be created in ``folder`` (permissions, a read-only file system, or
    mode bits without any write bit: root ignores permissions, so those count too)."""
    try:
        mode = os.stat(folder).st_mode
    except OSError:
        return False
    return not os.access(folder, os.W_OK) or not (mode & 0o222)


def connect_read_only(path: Path, timeout: float = 5, key=None, *, driver=None) -> sqlite3.Connection:
    """A connection that can only read ``path`` (SQLite's ``mode=ro``; it never creates it),
    keyed with ``key`` (a :class:`desktop.store.keys.ChartKey`) for an encrypted chart.
    ``driver``: the DB-API module to connect with (default: the store's, sqlcipher3).

    A chart in a read-only folder (or file system) with no ``-wal`` file beside it is opened
    ``immutable``: SQLite could not create the ``-shm`` file a WAL chart needs, and no writer
    can be changing it (a writer always has a ``-wal`` file)."""
    path = Path(path).resolve()
    uri = f"{path.as_uri()}?mode=ro"
    if folder_is_read_only(path.parent):
        wal = path.with_name(path.name + "-wal")
        try:
            has_wal = wal.stat().st_size > 0
        except OSError:
            has_wal = False
        if not has_wal:
            uri += "&immutable=1"
    if driver is None:
        from .driver import sqlite3 as driver
    conn = driver.connect(uri, uri=True, timeout=timeout)
    if key is not None:
        conn.execute(f"PRAGMA key = \"x'{key.raw.hex()}'\"")
    return conn


def count_patients(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM patients").fetchone()[0]


def search_patients(conn: sqlite3.Connection, text: str, limit: int = 50) -> list[PatientRow]:
    """Patients whose family or given name or MRN starts with the words of ``text``
    (accents ignored), then those whose visit notes contain them."""
    text = (text or "").strip()
    if not text:
        return patient_rows(conn, [r[0] for r in conn.execute(f"SELECT p.id FROM patients p {_ORDER} LIMIT ?",
                                                               [limit])])
    ids: list[str] = []
    seen: set[str] = set()

    def add(rows):
        for (pid,) in rows:
            if pid not in seen and len(ids) < limit:
                seen.add(pid)
                ids.append(pid)

    add(conn.execute("SELECT id FROM patients WHERE id = ?", [text]))
    query = fts_query(text)
    if query:
        add(conn.execute(
            f"SELECT p.id FROM patients p WHERE p.rowid IN "
            f"(SELECT rowid FROM patients_fts WHERE patients_fts MATCH ?) {_ORDER} LIMIT ?",
            [query, limit]))
    if len(ids) < limit:
        add(conn.execute(
            f"SELECT p.id FROM patients p WHERE p.id >= ? AND p.id < ? {_ORDER} LIMIT ?",
            [text, text + "\U0010ffff", limit]))
    if query and len(ids) < limit:
        add(conn.execute(
            "SELECT DISTINCT v.patient_id FROM visits v WHERE v.id IN "
            "(SELECT rowid FROM visits_fts WHERE visits_fts MATCH ?) LIMIT ?",
            [query, limit * 4]))
    return patient_rows(conn, ids)


def patient_rows(conn: sqlite3.Connection, ids: list[str]) -> list[PatientRow]:
    """The list rows of ``ids``, in that order."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = {
        r[0]: r for r in conn.execute(
            "SELECT p.id, p.family_name, p.given_names, p.birth_date, p.onset_date, p.onset_region, "
            "(SELECT count(DISTINCT date) FROM visits v WHERE v.patient_id = p.id), "
            "(SELECT max(date) FROM visits v WHERE v.patient_id = p.id) "
            f"FROM patients p WHERE p.id IN ({marks})", ids)
    }
    return [PatientRow(r[0], r[1], r[2], _d(r[3]), _d(r[4]), r[5], r[6], _d(r[7])) for r in (rows[i] for i in ids)]


def _held_by_a_writer(path: Path) -> bool:
    """Whether another process holds the chart's writer lock (``ChartStore`` takes it
    exclusively); the full open then explains, before any window appears."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover  (Windows: the full open's BEGIN IMMEDIATE probe tells)
        return False
    from .paths import lock_path

    try:
        fd = os.open(lock_path(path), os.O_RDONLY)
    except OSError:
        return False  # no lock file: nobody has opened it for writing yet
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # refused while a writer holds it
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


class PatientIndex:
    """A read-only look at a chart's patient list (``search_patients`` / ``count_patients``,
    the two calls the patient list makes), for the first moments after launch.

    :meth:`peek` returns None whenever the full open has something to say first (no file yet,
    a file that is not a chart, unreadable, open for writing in another process, or from
    another schema version): the app then
    opens the chart the ordinary way and reports the problem before showing the window.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path | None = None, key=None, *, lean: bool = False):
        self._conn = conn
        self._path = path
        self._key = key
        self.lean = lean  # read through the standard library's sqlite3 (see the module's docstring)

    @classmethod
    def peek(cls, path: str | Path, key=None, *, lean: bool = False) -> PatientIndex | None:
        """``key``: an encrypted chart's key (default: one unlocked in this process); an
        encrypted chart whose key is not at hand gives None.

        ``lean`` (the launch): a plain chart is read through the standard library's sqlite3,
        not the store's driver; call :meth:`use_store_driver` before the store opens the same
        file. An encrypted chart is read through the store's driver either way."""
        path = Path(path)
        if not path.is_file() or _held_by_a_writer(path):
            return None
        from .driver import file_kind  # (the standard library only: no driver is imported)

        if file_kind(path) == "encrypted":
            lean = False
            if key is None:
                from .keys import key_for

                key = key_for(path)
                if key is None:
                    return None
        if lean:
            import sqlite3 as driver
        else:
            from .driver import sqlite3 as driver
        conn = _checked_connection(path, key, driver)
        return None if conn is None else cls(conn, path, key, lean=lean)

    def use_store_driver(self) -> None:
        """Read through the store's driver from now on: a lean index closes its standard
        library connection and opens the same read-only look through sqlcipher3 (the chart is
        about to be opened by the store in this process). Should that fail (another writer took
        the chart meanwhile: the store's open says so), the index answers with nothing."""
        if not self.lean:
            return
        from .driver import sqlite3 as driver

        self._conn.close()
        self.lean = False
        self._conn = _checked_connection(self._path, self._key, driver) if self._path is not None else None

    def search_patients(self, text: str, limit: int = 50) -> list[PatientRow]:
        return [] if self._conn is None else search_patients(self._conn, text, limit)

    def count_patients(self) -> int:
        return 0 if self._conn is None else count_patients(self._conn)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _checked_connection(path: Path, key, driver):
    """A read-only connection to the chart at ``path`` through ``driver`` once it has read the
    schema version this Motorchart writes and the patient count; else None."""
    try:
        conn = connect_read_only(path, timeout=0.5, key=key, driver=driver)
    except driver.Error:
        return None
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            raise driver.DatabaseError("another schema version")
        count_patients(conn)
    except driver.Error:
        conn.close()
        return None
    return conn
