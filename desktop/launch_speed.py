"""Every trick that keeps Motorchart's launch fast, in one place, with why it exists.

The window must be on screen within 1.2x of a bare PySide6 window of the same size (issue 20). Python's import
time is most of a launch, so the tricks below all move an import off the path to the first
paint or split it into steps short enough not to hold the event loop. Each is guarded by a
``motorchart bench`` figure: if a change breaks one, the figure shows it against its target in
the same run (``motorchart bench --only ui.``). Standard library only: this module is imported
by the entry point before anything else.

=====================================  ===============================================  =====================================
Trick                                  Why                                              Guarded by
=====================================  ===============================================  =====================================
:func:`sqlite_utils_without_numpy`     sqlite-utils imports numpy and pandas when they  ``ui.launch_ratio`` (numpy alone was
                                       are installed (numpy arrives with pyqtgraph),    ~120 ms of every launch),
                                       only to map their scalar types; the chart never  ``ui.launch_rss_ratio``
                                       stores them. (The same import points sqlite-utils
                                       at the store's driver, sqlcipher3.)
:data:`LOAD_STEPS`                     The chart opens behind a window already on       the ``ready ... event loop held at
                                       screen, one module per turn of the event loop.   most N ms`` note of
                                       The list names some private modules of pydantic  ``ui.launch_ratio``
                                       (``pydantic._internal._generate_schema``) and
                                       of the libraries sqlite-utils pulls in only to
                                       cut their import into shorter steps; a name
                                       missing in another version is skipped (``?``).
The entry point skips argparse         ``motorchart`` with no subcommand (or only       ``ui.launch_ratio``
(:mod:`desktop.launch`)                ``--db``/``--demo``) opens the app without
                                       building the command line's parser (~4 ms).
Lazy library imports                   reportlab is imported only when a report is      ``ui.launch_ratio``,
                                       made (:mod:`desktop.reports`), pyqtgraph only    ``ui.launch_rss_ratio``
                                       when the Progression tab is first shown
                                       (:mod:`desktop.ui.main_window`), and every
                                       subcommand imports what it needs inside its
                                       function (:mod:`desktop.cli`).
The launch's patient list reads a      sqlcipher3 (SQLCipher with OpenSSL) costs ~6 ms  ``ui.launch_ratio``,
plain chart through the standard       and ~6 MB resident to import; the standard       ``ui.launch_rss_ratio``
library's sqlite3                      library's sqlite3 half the time and a third of
(:mod:`desktop.store.patient_index`)   the memory. The store's driver is imported on
                                       first use (:mod:`desktop.store.driver`), behind
                                       the first paint; the index moves to it before
                                       the store opens the same file.
:func:`pause_gc` / :func:`resume_gc`   No garbage collection from the entry point to    ``ui.launch_ratio``
                                       the first paint (the imports only add objects:
                                       ~30 collections, ~5 ms), then the objects made
                                       so far are frozen out of later full collections
                                       (``gc.freeze``), again once the chart is attached.
PySide6 classes made when first used   Each PySide6 class builds its Python enums the   ``ui.launch_ratio``
(:mod:`desktop.ui.main_window`,        first time it is touched (QIcon's 151 theme
:mod:`desktop.ui.app`)                 icons, QKeySequence's 71 keys...). The shell
                                       imports only its own widgets; QMessageBox and
                                       the visit bar's and the actions' classes come
                                       later, and Find patient (Ctrl+F), the shell's
                                       one QAction (~4 ms with QIcon and QKeySequence),
                                       is made in the event loop's first turn after
                                       the paint (``MainWindow.finish_shell``), with
                                       the search box's clear button (an icon, ~1 ms;
                                       it shows only once something is typed).
:func:`import_pyside`                  PySide6 compiles the Python source of its        the note of ``ui.launch_ratio``
                                       support modules (``shibokensupport``: ~3,600     (the figure itself is judged
                                       lines embedded in shiboken6, 10-16 ms) in every  without the cache, as the bare
                                       process: no ``.pyc`` is kept for them. The       window has it); the bundle's
                                       first import keeps the compiled code in the      self-test says how many came
                                       user cache folder (:func:`code_cache_path`)      from its cache
                                       and later launches load it; the Linux bundle
                                       reads only the one built into it, never code
                                       from a folder the user can write to.
                                       ``MOTORCHART_CODE_CACHE=0`` turns it off.
:func:`skip_pyside_source_scan`        PySide6 reads the whole source file of every     ``ui.launch_ratio``,
                                       module named in an import after it is loaded     ``ui.launch_rss_ratio``
                                       (to find modules that use its ``__feature__``
                                       switches, which Motorchart never does) and keeps
                                       it in ``linecache``: 16,000 lines before the
                                       first paint, all of pydantic and sqlite-utils
                                       after it. The scan is replaced by a look at the
                                       module's name.
=====================================  ===============================================  =====================================
"""

from __future__ import annotations

import __future__
import builtins
import gc
import importlib
import importlib.util
import marshal
import os
import stat
import sys
import types
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from typing import Callable

_gc_paused = False


def pause_gc() -> None:
    """Stop the garbage collector until :func:`resume_gc` (the entry point, before the window's
    imports). A collector someone else disabled stays theirs: nothing happens then."""
    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True


def resume_gc() -> None:
    """Freeze every object made so far out of later collections (``gc.freeze``: modules,
    classes and Qt wrappers that live as long as the process) and restart a collector paused
    by :func:`pause_gc`. Called once the window is painted, and again once the chart is attached
    (then it only freezes)."""
    global _gc_paused
    gc.freeze()
    if _gc_paused:
        _gc_paused = False
        gc.enable()


CODE_CACHE_ENV = "MOTORCHART_CODE_CACHE"
"""Set to ``0`` to compile PySide6's support modules at every launch, as PySide6 does."""
CACHE_DIR_ENV = "MOTORCHART_CACHE_DIR"
"""A folder to keep them in instead of the user cache folder (tests, portable installs)."""
BUNDLED_CODE_CACHE = "pyside-support.marshal"
"""The cache a packaged Motorchart carries, made when it is built (:func:`write_bundled_code_cache`),
beside its other data (``sys._MEIPASS``); it is only ever read."""
SUPPORT_PACKAGE_PREFIX = "shibokensupport/"
"""The file names shiboken6 compiles its embedded support package under begin so."""
SUPPORT_BOOTSTRAP = "signature_bootstrap.py"
"""The file name it compiles the package's bootstrap under."""
_INHERITED_FLAGS = 0
"""The ``__future__`` flags a ``compile`` call inherits from its caller's code (Python's
``PyCF_MASK``: every feature but the two that are always on and have no flag of their own)."""
for _feature in __future__.all_feature_names:
    if _feature not in ("nested_scopes", "generators"):
        _INHERITED_FLAGS |= getattr(__future__, _feature).compiler_flag
del _feature


def code_cache_path(environ=None) -> str | None:
    """Where the compiled support modules are kept: ``MOTORCHART_CACHE_DIR`` if set, else the
    user cache folder that ``platformdirs.user_cache_dir("motorchart", appauthor=False)``
    names (not imported here: ~4 ms). One file per Python (its cache tag and ``-O`` level, as
    ``.pyc`` files have) and per installation (``sys.prefix``), so two never rewrite each
    other's. None when no folder is known."""
    env = os.environ if environ is None else environ
    folder = env.get(CACHE_DIR_ENV, "").strip() or None
    if folder is None and sys.platform == "win32":
        base = env.get("LOCALAPPDATA", "").strip()
        folder = os.path.join(base, "motorchart", "Cache") if base else None
    elif folder is None and sys.platform == "darwin":
        folder = os.path.join(os.path.expanduser("~"), "Library", "Caches", "motorchart")
    elif folder is None:
        base = env.get("XDG_CACHE_HOME", "").strip() or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "motorchart")
    if not folder or folder.startswith("~"):
        return None
    optimized = f".opt-{sys.flags.optimize}" if sys.flags.optimize else ""
    install = zlib.crc32(os.fsencode(sys.prefix))
    return os.path.join(folder, f"pyside-support-{sys.implementation.cache_tag}{optimized}-{install:08x}.marshal")


def _private_folder(folder: str) -> bool:
    """Whether ``folder`` is a real folder (not a link) of this user's that nobody else can
    write to: the only kind code is read from or written to."""
    try:
        st = os.lstat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode):
        return False
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
        return False
    return True


def bundled_code_cache_path() -> str | None:
    """The packaged app's own cache (:data:`BUNDLED_CODE_CACHE`), or None outside a bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    return os.path.join(bundle, BUNDLED_CODE_CACHE) if getattr(sys, "frozen", False) and bundle else None


def _read_code_cache(path: str, *, bundled: bool = False) -> dict:
    """The kept entries (file name -> (future flags, source, marshalled code, its CRC-32)); an
    empty dict for a missing, unreadable, foreign (another user's file, or a folder others can
    write to) or damaged file, or one written by another Python (its magic number). A
    ``bundled`` file is the packaged app's own, installed with it (by root, say): its owner is
    not this user's and needs not be."""
    try:
        if not bundled and not _private_folder(os.path.dirname(path)):
            return {}
        with open(path, "rb") as f:
            if not bundled and hasattr(os, "getuid") and os.fstat(f.fileno()).st_uid != os.getuid():
                return {}
            data = marshal.loads(f.read())
        if data.get("magic") != importlib.util.MAGIC_NUMBER or not isinstance(data.get("modules"), dict):
            return {}
        return {name: entry for name, entry in data["modules"].items()
                if isinstance(entry, tuple) and len(entry) == 4 and isinstance(entry[0], int)
                and isinstance(entry[1], bytes) and isinstance(entry[2], bytes) and isinstance(entry[3], int)}
    except Exception:  # (a speed trick: anything wrong with the file means "compile as usual")
        return {}


def _write_code_cache(path: str, modules: dict) -> bool:
    """Keep ``modules`` at ``path``: written to a new private file of a name nobody can guess
    (``mkstemp``: made by this call, never through a link or over another file) in a private
    folder, then renamed over the old one (a link there is replaced, not followed), so a reader
    never sees half of it. Returns whether it was written; failing to is no error."""
    import tempfile  # (only when the cache is written: the first launch)

    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if not _private_folder(folder):
            return False
        fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(marshal.dumps({"magic": importlib.util.MAGIC_NUMBER, "modules": modules}))
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    _remove_leftovers(folder, os.path.basename(path) + ".")
    return True


LEFTOVER_SECONDS = 600
"""A temporary cache file this old is a leftover (writing one takes milliseconds): a process was
killed between writing it and renaming it."""


def _remove_leftovers(folder: str, prefix: str) -> None:
    """Remove the temporary files :func:`_write_code_cache` left in ``folder`` (names
    ``prefix``...``.tmp``) when it was killed mid-write, once they are :data:`LEFTOVER_SECONDS`
    old: a younger one may be another launch's, being written now."""
    import time

    now = time.time()
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if (entry.name.startswith(prefix) and entry.name.endswith(".tmp")
                        and entry.is_file(follow_symlinks=False)
                        and now - entry.stat(follow_symlinks=False).st_mtime > LEFTOVER_SECONDS):
                    try:
                        os.unlink(entry.path)
                    except OSError:
                        pass
    except OSError:
        pass  # (tidying up can wait for the next write)


def _support_source(filename: str) -> bool:
    """Whether ``filename`` names one of shiboken6's embedded support modules."""
    return filename.startswith(SUPPORT_PACKAGE_PREFIX) or filename == SUPPORT_BOOTSTRAP


def _kept_code(entry, filename: str, flags: int, source: bytes) -> types.CodeType | None:
    """The code an entry keeps for ``filename`` when it was compiled from exactly ``source``
    under ``flags``, its bytes are whole (CRC-32) and they load as that file's code; else None."""
    if entry is None or entry[0] != flags or entry[1] != source or zlib.crc32(entry[2]) != entry[3]:
        return None
    try:
        code = marshal.loads(entry[2])
    except Exception:
        return None
    return code if type(code) is types.CodeType and code.co_filename == filename else None


class SupportCompile:
    """What :func:`import_pyside` did with PySide6's support modules: how many came from the
    cache (``loaded``), how many were compiled (``compiled``), whether the cache was written."""

    def __init__(self) -> None:
        self.loaded = 0
        self.compiled = 0
        self.written = False


support_compile: SupportCompile | None = None
"""What :func:`import_pyside` did at this process's first PySide6 import (None when PySide6 was
imported some other way first)."""


def import_pyside(module: str = "PySide6.QtCore", environ=None) -> SupportCompile:
    """Import ``module``, the process's first PySide6 import, with PySide6's support modules
    compiled once per Python and PySide6 rather than once per launch.

    shiboken6 carries the source of its ``shibokensupport`` package (the signature and
    feature machinery) inside its library and, on its first import, hands each file to
    ``compile(source, "shibokensupport/...", "exec")``; nothing is kept, so every PySide6
    program compiles it again. While ``module`` is imported, ``compile`` answers those calls
    (and only those: the file name, the mode and bytes source) from :func:`code_cache_path`
    when the kept source is byte for byte the one given and was compiled under the same
    inherited ``__future__`` flags (the code is then what compiling would make); else it
    compiles as usual and keeps the result. Every other ``compile`` call meanwhile gets
    exactly what it asked for, the caller's inherited flags included.

    The file is the app's, not a ``.pyc`` beside PySide6: it is kept even when Python is told
    not to write bytecode. A packaged (frozen) Motorchart never loads code from a folder the
    user can write to: it reads only the cache built into it (:func:`bundled_code_cache_path`)
    and writes nothing; without one it imports PySide6 plainly, as it does when PySide6 is
    already imported or ``MOTORCHART_CODE_CACHE=0``."""
    global support_compile
    done = SupportCompile()
    if "shiboken6" in sys.modules:  # (a later call: the record of the first import stands)
        importlib.import_module(module)
        return done
    support_compile = done
    env = os.environ if environ is None else environ
    bundled = bool(getattr(sys, "frozen", False))
    if env.get(CODE_CACHE_ENV, "").strip() == "0":
        path = None
    elif bundled:
        path = bundled_code_cache_path()
        if path is not None and not os.path.isfile(path):
            path = None
    else:
        path = code_cache_path(env)
    if path is None:
        importlib.import_module(module)
        return done
    kept = _read_code_cache(path, bundled=bundled)
    made: dict = {}
    real = builtins.compile

    def compile_kept(source, filename, mode, flags=0, dont_inherit=False, *args, **kwargs):
        if not dont_inherit:  # what compile() would inherit from its caller (not from this function)
            flags |= sys._getframe(1).f_code.co_flags & _INHERITED_FLAGS
        if (args or kwargs or flags & ~_INHERITED_FLAGS or mode != "exec" or not isinstance(source, bytes)
                or not isinstance(filename, str) or not _support_source(filename)):
            return real(source, filename, mode, flags, True, *args, **kwargs)
        code = _kept_code(kept.get(filename), filename, flags, source)
        if code is not None:
            done.loaded += 1
            return code
        code = real(source, filename, mode, flags, True)
        data = marshal.dumps(code)
        made[filename] = (flags, source, data, zlib.crc32(data))
        done.compiled += 1
        return code

    builtins.compile = compile_kept
    try:
        importlib.import_module(module)
    finally:
        if builtins.compile is compile_kept:
            builtins.compile = real
    if made and not bundled:
        done.written = _write_code_cache(path, {**kept, **made})
    return done


def write_bundled_code_cache(dest: str) -> int:
    """Make the packaged app's cache at ``dest`` with this Python and its PySide6, the ones the
    bundle carries (the PyInstaller spec calls it). shiboken6 compiles its support modules only
    at a process's first PySide6 import, so the work is done by a fresh process of this Python
    (:func:`_keep_support_modules_at`), whatever this one has imported. Returns how many modules
    the file holds; raises, with the child's last line, when they could not be kept."""
    from desktop.fresh_process import FreshProcessError, call_in_fresh_process

    try:
        return call_in_fresh_process(__name__, "_keep_support_modules_at", dest)
    except FreshProcessError as e:
        raise RuntimeError(f"PySide6's support modules could not be compiled for the bundle: {e}") from None


def _keep_support_modules_at(dest: str) -> int:
    """:func:`write_bundled_code_cache`'s child: PySide6 imported with its support modules
    compiled into a scratch folder, and the file moved to ``dest``."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        os.chmod(scratch, 0o700)
        done = import_pyside(environ={CACHE_DIR_ENV: scratch})
        made = code_cache_path({CACHE_DIR_ENV: scratch})
        if not done.written or made is None or not os.path.isfile(made):
            raise RuntimeError(f"PySide6's support modules could not be kept ({done.compiled} compiled)")
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
        shutil.move(made, dest)
    return done.compiled


PYSIDE_MODULE_PREFIXES = ("PySide6", "shiboken6", "desktop.ui", "pyqtgraph")
"""Modules that use PySide6, by name (:func:`skip_pyside_source_scan`)."""


def skip_pyside_source_scan() -> bool:
    """Make PySide6 tell the modules that use it by their names, not by reading their source.

    Once PySide6 is imported, each module named in an import statement is passed, the first
    time, to ``shibokensupport.feature._mod_uses_pyside``, which reads the module's whole source
    file (kept in ``linecache`` for the rest of the process) only to look for the word
    "PySide6": a module that has it may switch PySide's ``__feature__`` options (snake_case,
    true_property). Motorchart never selects a feature, so the answer changes nothing; the
    names in :data:`PYSIDE_MODULE_PREFIXES` give the same answer for every module Motorchart
    has. Call it right after the first PySide6 import. Returns whether it took effect (False
    when this PySide6 has no such function: then nothing is changed)."""
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = _uses_pyside
    return True


def _uses_pyside(module) -> bool:
    name = getattr(module, "__name__", None)
    return isinstance(name, str) and name.startswith(PYSIDE_MODULE_PREFIXES)

HIDDEN_FROM_SQLITE_UTILS = ("numpy", "pandas")
"""Modules sqlite-utils would import only to recognise their scalar types."""


def sqlite_utils_without_numpy() -> None:
    """Import sqlite-utils with numpy and pandas hidden, so that it takes its no-numpy path;
    the two are visible again afterwards (pyqtgraph imports numpy for real later).

    Not a speed trick but done in the same import: sqlite-utils is made to use the store's
    driver, sqlcipher3 (:mod:`desktop.store.driver`), so that its own ``except
    sqlite3.OperationalError`` clauses (``drop(ignore=True)``, ``RETURNING``) catch what the
    driver raises. sqlite-utils prefers ``pysqlite3`` when it can import it: during the import
    that name is sqlcipher3. If sqlite-utils was imported before (a test, a tool), its module
    globals are pointed at the driver instead."""
    import sqlcipher3
    import sqlcipher3.dbapi2

    if "sqlite_utils" in sys.modules:
        _point_sqlite_utils_at(sqlcipher3, sqlcipher3.dbapi2)
        return
    hidden = [n for n in HIDDEN_FROM_SQLITE_UTILS if n not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # an import of it raises ImportError
    aliased = {"pysqlite3": sqlcipher3, "pysqlite3.dbapi2": sqlcipher3.dbapi2}
    before = {name: sys.modules.get(name) for name in aliased}
    sys.modules.update(aliased)
    try:
        importlib.import_module("sqlite_utils")
    finally:
        for name in hidden:
            del sys.modules[name]
        for name, module in before.items():
            if module is None:
                del sys.modules[name]
            else:
                sys.modules[name] = module
    _point_sqlite_utils_at(sqlcipher3, sqlcipher3.dbapi2)


def _point_sqlite_utils_at(driver, dbapi2) -> None:
    """sqlite-utils' module-level driver names, pointed at ``driver`` (a no-op when the import
    above already took it)."""
    for mod_name in ("sqlite_utils.utils", "sqlite_utils.db"):
        mod = sys.modules.get(mod_name)
        if mod is None:
            continue
        if hasattr(mod, "sqlite3"):
            mod.sqlite3 = driver
        if hasattr(mod, "dbapi2"):
            mod.dbapi2 = dbapi2
        if hasattr(mod, "OperationalError"):
            mod.OperationalError = dbapi2.OperationalError


LOAD_STEPS: tuple[str, ...] = (
    # Libraries that sqlite-utils and pydantic import, named only to split their import into
    # shorter steps ("?": skipped when missing or renamed in another version).
    "?inspect", "?secrets", "?click", "?pluggy", "?dateutil.parser",
    "desktop.store._lean",  # sqlite-utils, through sqlite_utils_without_numpy
    "?asyncio", "?typing_extensions", "?pydantic_core", "pydantic", "?pydantic._internal._generate_schema",
    "pydantic.main", "?annotated_types", "?pydantic.types", "?pydantic.fields", "?email.message",
    "domain.catalogue",
    "domain.case",
    "domain.options",
    "domain.criteria",
    "domain.evidence",
    "domain.phenotype",
    "domain.classify",
    "desktop.store.migrations",
    "desktop.store.chart",
    "desktop.resources",
    "desktop.ui.grid",
    "desktop.ui.gridview",
    "desktop.ui.signs",
    "desktop.ui.classification",
    "desktop.ui.session",
    "desktop.ui.visit_editor",
)
"""The modules the chart loader imports behind the first paint, one per turn of the event loop
(:class:`desktop.ui.app.ChartLoader`), in an order where each step is short."""


def import_step(name: str) -> Callable[[], None]:
    """One step of :data:`LOAD_STEPS`: import ``name``; a ``?`` name that is missing is skipped."""
    optional = name.startswith("?")
    module = name.lstrip("?")

    def step() -> None:
        try:
            importlib.import_module(module)
        except ImportError:
            if not optional:
                raise

    return step
