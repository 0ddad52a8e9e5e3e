"""`motorchart` with no subcommand: open the charting window on the chart file.

Start-up is staged so the clinic sees its patients at once: the window's shell and the patient
list (read through the standard library's sqlite3) appear first; sqlite-utils, pydantic, the
domain and the visit editor load behind it (:class:`ChartLoader`). Reports and the progression
view are imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import os
import sys
import time
from pathlib import Path

from desktop.launch_speed import LOAD_STEPS, import_pyside, import_step, resume_gc, skip_pyside_source_scan

import_pyside()  # PySide6's support modules compiled once, not at every launch (see desktop.launch_speed)

from PySide6.QtCore import QObject, QTimer, Signal  # isort: skip  (the first PySide6 import)

skip_pyside_source_scan()  # before any other module is imported (see desktop.launch_speed)

if TYPE_CHECKING:
    from desktop.store.chart import ChartStore
    from desktop.ui.main_window import MainWindow


def demo_chart_path() -> Path:
    """The demo clinic's chart file, in the user data folder (created on first use)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("motorchart", appauthor=False)) / "demo" / "demo-chart.sqlite"


def resolve_chart(db: str | None, demo: bool) -> Path:
    import os

    from desktop.store.paths import ENV_VAR, chart_path

    if demo:
        path = Path(db).expanduser() if db else demo_chart_path()
        ensure_demo(path)
        return path
    if not db and not os.environ.get(ENV_VAR, "").strip():
        from .preferences import saved_chart_location

        saved = saved_chart_location()
        if saved:
            return Path(saved).expanduser()
    return chart_path(db)


def ensure_demo(path: Path) -> None:
    """Build the demo clinic at ``path`` unless it is already there."""
    if path.exists():
        return
    from desktop.store import ChartStore
    from desktop.store.demo import build_demo

    path.parent.mkdir(parents=True, exist_ok=True)
    store = ChartStore.open(path, user="demo", new=True)  # fictional: rebuilt even beside old backups
    try:
        build_demo(store)
        store.set_setting("clinic", "Demo clinic (fictional patients)")
    finally:
        store.close(backup=False)


def open_store(path: Path, *, new: bool = False, ask=None, setup=None):
    """Open the chart for the window. A read-only chart (file, folder or file system) opens
    read-only (``store.read_only_reason`` says why). A chart missing or empty beside backups of
    it is never created silently: ``ask`` (default :func:`ask_missing_chart`, a dialog) chooses
    to restore the newest good backup, start a new chart, or quit (None). ``new`` (``--new``)
    starts a new chart without asking.

    ``setup`` (the window's first run: :func:`desktop.ui.chart_setup.setup_encrypted_chart`)
    makes the chart when there is none and no backups of one: it returns the new encrypted
    chart's ``KeySetup``, or None to quit (then None is returned). Without it (the
    ``screenshots`` command, the self-test) such a chart is made plain, as on the command line."""
    from desktop.store import ChartStore

    if setup is not None and not new:
        from .chart_setup import is_first_run

        if is_first_run(path):
            made = setup(path)
            if made is None:
                return None
            return ChartStore.open(path, key=made.key, allow_read_only=True, daily_backup=False)
    return ChartStore.open_choosing(path, choose=ask or ask_missing_chart, new=new, allow_read_only=True)


def ask_missing_chart(missing) -> str:
    """The explicit choice for a missing or empty chart that has backups: "restore", "new" or
    "quit"."""
    from PySide6.QtWidgets import QMessageBox

    what = "is empty" if missing.empty else "is missing"
    text = f"The chart file {missing.path} {what}, but backups of it exist."
    if missing.backup is not None:
        held = f" ({missing.patients} patients)" if missing.patients is not None else ""
        text += f"\n\nThe newest good backup is {missing.backup}{held}."
    else:
        text += "\n\nNone of its backups reads back whole."
    box = QMessageBox(QMessageBox.Icon.Warning, "Motorchart", text)
    box.setInformativeText("Nothing has been created. Restore the backup, or start a new, empty chart "
                           "in its place (the backups are kept either way).")
    restore = None
    if missing.backup is not None:
        restore = box.addButton("Restore the newest backup", QMessageBox.ButtonRole.AcceptRole)
    new = box.addButton("Start a new, empty chart", QMessageBox.ButtonRole.DestructiveRole)
    quit_ = box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore or quit_)
    box.setEscapeButton(quit_)
    box.exec()
    clicked = box.clickedButton()
    return "restore" if clicked is restore and restore is not None else "new" if clicked is new else "quit"


def make_window(store: ChartStore) -> MainWindow:
    from desktop.resources import load_catalogue

    from .main_window import MainWindow

    return MainWindow(store, load_catalogue())


def _painted(widget, what: str):
    """Grab ``widget`` offscreen and raise unless something was drawn: a null or tiny image, or
    one of a single colour (a blank view), fails."""
    image = widget.grab().toImage()
    if image.isNull() or image.width() < 100 or image.height() < 100:
        raise RuntimeError(f"{what} painted nothing")
    w, h = image.width(), image.height()
    colours = {image.pixel(x * (w - 1) // 31, y * (h - 1) // 31) for x in range(32) for y in range(32)}
    if len(colours) < 2:
        raise RuntimeError(f"{what} painted a blank image")
    return image


def paint_main_window(chart: Path, patient_id: str) -> str:
    """Open the chart, show the main window on a patient and draw every view once: each tab of
    the visit editor, then the Progression tab with each of its views (overview plots, body map,
    visit comparison), then close it (used by `motorchart --self-test`, so a module missing from
    a bundle fails there). Returns a one-line description; raises if a view is missing or blank."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["motorchart-self-test"])
    store = open_store(chart)
    try:
        window = make_window(store)
        try:
            window.show()
            window.open_patient(patient_id)
            app.processEvents()
            image = _painted(window, "the main window")
            tabs = window.editor.tabs
            names = []
            for i in range(tabs.count()):
                tabs.setCurrentIndex(i)  # the Progression tab builds its view when first shown
                app.processEvents()
                name = tabs.tabText(i).split(" (")[0]
                _painted(window, f"the {name} view")
                names.append(name)
            view = window.progression
            if view is None:
                raise RuntimeError(window.statusBar().currentMessage() or "the Progression view was not built")
            tabs.setCurrentWidget(view)
            sub = []
            for j in range(view.tabs.count()):
                view.tabs.setCurrentIndex(j)  # the body map and comparison are fed when shown
                app.processEvents()
                _painted(view.tabs.currentWidget(), f"the progression {view.tabs.tabText(j)}")
                sub.append(view.tabs.tabText(j).lower())
            plotted = [key for key, item in view.overview.plots.series.items()
                       if item.getData()[0] is not None and len(item.getData()[0])]
            if not plotted:
                raise RuntimeError("the progression plots show no data for the demo patient")
        finally:
            # Destroy the window before its store closes: no timer or event may reach it later
            # (the self-test also runs inside other processes, e.g. the test suite).
            window.close()
            window.deleteLater()
            app.processEvents()
            app.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    finally:
        store.close(backup=False)
    return (f"PySide6 {pyside_version}, platform {app.platformName()}, main window with the "
            f"demo patient painted {image.width()}x{image.height()}; views drawn: "
            f"{', '.join(names[:-1])}, {names[-1]} ({', '.join(sub)}; {len(plotted)} series plotted)")


PROBE_ENV = "MOTORCHART_LAUNCH_PROBE"
"""Set (to anything) by ``motorchart bench``: the app prints ``interactive rss_kb=N size=WxH``
(its resident memory and its window's size then) when the window is on screen with its patient list, ``ready`` with the
longest event-loop stall of the loading once the chart is attached, and then quits."""


class ChartLoader(QObject):
    """Opens the chart behind a window that is already on screen.

    The window's shell shows the patient list from a read-only ``PatientIndex``; this loader
    then imports the heavy modules one per turn of the event loop (so typing in the search box
    is never held up by more than one import), opens the ``ChartStore`` with its integrity
    check in the background, loads the catalogue and attaches them to the window.
    ``stalls_ms`` records how long each step held the event loop.
    """

    failed = Signal(str)  # the chart could not be opened: one line
    damaged = Signal(str)  # the background integrity check found damage: one line

    def __init__(self, window: MainWindow, path: Path, parent=None, *, daily_backup: bool = True,
                 wait_for_key: bool = False):
        super().__init__(parent)
        self.window = window
        self.path = path
        self.daily_backup = daily_backup
        self.store = None
        self.key = None  # an encrypted chart's key (provide_key)
        self.stalls_ms: list[float] = []
        self._steps = [*map(import_step, LOAD_STEPS), self._open, self._attach]
        self._wait_for_key = wait_for_key
        self._paused = False

    def start(self) -> None:
        QTimer.singleShot(0, self._next)

    def provide_key(self, key) -> None:
        """An encrypted chart's key, unlocked (``wait_for_key``): the imports go on while the
        passphrase is typed and unwrapped; the chart opens with the key once both are done."""
        self.key = key
        self._wait_for_key = False
        if self._paused:
            self._paused = False
            QTimer.singleShot(0, self._next)

    def _next(self) -> None:
        if self._wait_for_key and self._steps and self._steps[0] == self._open:
            self._paused = True  # resumed by provide_key
            return
        step = self._steps.pop(0)
        t0 = time.perf_counter()
        try:
            step()
        except Exception as e:  # noqa: BLE001  (one clear line, never a traceback in the clinic)
            from desktop.store import StoreError

            self._steps.clear()
            self.failed.emit(str(e) if isinstance(e, StoreError) else f"{self.path}: cannot open the chart ({e})")
            return
        finally:
            self.stalls_ms.append((time.perf_counter() - t0) * 1000)
        if self._steps:
            QTimer.singleShot(0, self._next)

    def _open(self) -> None:
        from desktop.store import ChartStore

        self.window.before_store_opens()  # the launch's patient index leaves the stdlib's sqlite3
        key = {"key": self.key} if self.key is not None else {}
        self.store = ChartStore.open(self.path, check_in_background=True, on_checked=self._checked,
                                     daily_backup=self.daily_backup, allow_read_only=True, **key)

    def _checked(self, problem: str | None) -> None:  # called from the check's thread
        if problem:
            self.damaged.emit(problem)  # queued to the window's thread

    def _attach(self) -> None:
        from desktop.resources import load_catalogue

        self.window.attach(self.store, load_catalogue())
        say_if_read_only(self.window, self.store)
        say_if_upgraded(self.window, self.store)
        resume_gc()  # the modules, catalogue and widgets just made live as long as the window


def resident_kb() -> int:
    """This process's resident memory now (``VmRSS``, kB; Linux), or -1 where it cannot be read.
    The launch probe prints it with its "interactive" line (``ui.launch_rss_ratio``); the
    bench's bare window reads it the same way."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def chart_is_encrypted(path: Path) -> bool:
    """Whether the chart at ``path`` is encrypted (its first bytes, then its key file: no key
    derivation). The key module is imported only for a file that is not plain SQLite."""
    from desktop.store.driver import file_kind

    if file_kind(path) != "encrypted":
        return False
    from desktop.store import keys

    return keys.is_encrypted(path)


def locked_launch(path: Path, *, daily_backup: bool = True) -> tuple[MainWindow, ChartLoader]:
    """The window of an encrypted chart at launch: its unlock prompt, and nothing from the
    chart, until the passphrase is typed; the loader imports meanwhile and opens the chart once
    the window has unwrapped the key (off the GUI thread). Start the loader once it is shown."""
    from .main_window import MainWindow

    window = MainWindow(chart_path=path, locked=True)
    loader = ChartLoader(window, path, window, daily_backup=daily_backup, wait_for_key=True)
    window.key_unlocked.connect(loader.provide_key)
    return window, loader


def _standing_notice(window: MainWindow, name: str, text: str, *, tooltip: str = "", bold: bool = False) -> None:
    """A permanent label in the window's status bar, beside the passing messages (which the next
    one replaces): it stays while the chart is open."""
    from PySide6.QtWidgets import QLabel

    label = QLabel(text)
    label.setObjectName(name)
    label.setToolTip(tooltip)
    label.setStyleSheet("color: #8a4b00; padding: 0 6px;" + (" font-weight: bold;" if bold else ""))
    window.statusBar().addPermanentWidget(label)


def say_if_upgraded(window: MainWindow, store: ChartStore) -> None:
    """A chart from an older Motorchart, upgraded as it was opened: the window says so, and where
    the chart as it was is kept (older copies of Motorchart can no longer open it)."""
    upgrade = getattr(store, "upgrade", None)
    if upgrade is not None:
        message = upgrade.message(store.path)
        window.show_message(message)
        _standing_notice(window, "upgrade_indicator",
                         f"Upgraded to schema {upgrade.new}: older Motorchart cannot open this chart", tooltip=message)


def say_if_read_only(window: MainWindow, store: ChartStore) -> None:
    """A chart opened read-only because its file or folder is: the window says so."""
    reason = getattr(store, "read_only_reason", None)
    if reason:
        window.show_message(f"This chart is read-only ({reason}): it can be read, searched, exported and "
                            "printed, but nothing can be changed.")
        _standing_notice(window, "read_only_indicator", f"Read-only chart ({reason})", bold=True)
        window.setWindowTitle(window.windowTitle() + " — read-only")


def run_app(db: str | None, demo: bool, new: bool = False) -> int:
    from PySide6.QtWidgets import QApplication  # (QMessageBox when there is something to say)

    from desktop.store.patient_index import PatientIndex

    probe = bool(os.environ.get(PROBE_ENV))
    if QApplication.instance() is None:
        # Qt aborts the process when its xcb plugin cannot load: say what to install instead
        # (``motorchart`` checked already; this is for the command line's way here).
        from desktop.launch import xcb_problem

        problem = xcb_problem()
        if problem:
            print(problem, file=sys.stderr)
            return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Motorchart")
    app.setOrganizationName("Motorchart")

    def refuse(message: str) -> int:
        from PySide6.QtWidgets import QMessageBox

        print(message, file=sys.stderr)
        QMessageBox.critical(None, "Motorchart", message)
        return 2

    from desktop.store.errors import StoreError

    try:
        path = resolve_chart(db, demo)
    except (StoreError, OSError) as e:  # building the demo, or no user data folder: one line
        return refuse(str(e))
    encrypted = chart_is_encrypted(path)
    # (a plain chart's list is read through the standard library's sqlite3 until the chart
    # opens: see desktop.store.patient_index)
    index = None if encrypted else PatientIndex.peek(path, lean=True)
    loader = None
    if index is None and not encrypted:
        # A new chart, or one the full open must speak about first (damaged, locked, older or
        # newer schema): open it before showing anything. No chart and no backups (the first
        # run): the setup dialog makes an encrypted one.
        from desktop.store import StoreError

        from .chart_setup import setup_encrypted_chart

        try:
            # (the bench's probe never prompts: a chart it finds missing is made plain, as before)
            store = open_store(path, new=new, setup=None if probe else setup_encrypted_chart)
        except StoreError as e:
            return refuse(str(e))
        if store is None:  # the clinician chose to quit (first run, or a missing chart beside its backups)
            print(f"{path}: nothing was opened", file=sys.stderr)
            return 2
        window = make_window(store)
        say_if_read_only(window, store)
        say_if_upgraded(window, store)
    else:
        if encrypted:  # the unlock prompt first; the chart opens once the key is unwrapped
            window, loader = locked_launch(path, daily_backup=not probe)
        else:
            from .main_window import MainWindow

            window = MainWindow(chart_path=path, patient_index=index)
            # (the benchmark's runs make no backups: they would pile up beside its cached chart)
            loader = ChartLoader(window, path, window, daily_backup=not probe)
        loader.failed.connect(lambda message: app.exit(refuse(message)))

        def damaged(message: str) -> None:
            from PySide6.QtWidgets import QMessageBox

            window.show_message(message)
            QMessageBox.critical(window, "Motorchart", message + "\nNothing can be saved to this file.")

        loader.damaged.connect(damaged)  # emitted from the check's thread: queued to this one
    window.show()
    app.processEvents()
    resume_gc()  # paused by the entry point (desktop.launch) until the window is painted
    QTimer.singleShot(0, window.finish_shell)  # Find patient (Ctrl+F), first thing after the paint
    if probe:
        size = window.size()
        print(f"interactive rss_kb={resident_kb()} size={size.width()}x{size.height()}", flush=True)
        if encrypted:  # the bench's encrypted run: the time from the passphrase to a usable chart
            passphrase = os.environ.get("MOTORCHART_PASSPHRASE")
            if not passphrase:
                print(f"{path}: the chart is encrypted; set MOTORCHART_PASSPHRASE for the probe", file=sys.stderr)
                return 2
            window.unlock_with(passphrase)
        if loader is not None:
            def report_ready():
                print(f"ready max_stall_ms={max(loader.stalls_ms):.1f} steps={len(loader.stalls_ms)}", flush=True)
                app.quit()

            window.attached.connect(lambda: QTimer.singleShot(0, report_ready))
        else:
            print("ready max_stall_ms=0 steps=0", flush=True)
            QTimer.singleShot(0, app.quit)
    if loader is not None:
        loader.start()
    try:
        code = app.exec()
    finally:
        store = window.store or (loader.store if loader is not None else None)
        if store is not None:
            store.close(backup=not probe)
    return code
