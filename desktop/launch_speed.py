"""Every trick that keeps Motorchart's launch fast, in one place, with why it exists.

The window must be on screen within 1.2x of a bare PySide6 window (issue 20). Python's import
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
=====================================  ===============================================  =====================================
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable

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
