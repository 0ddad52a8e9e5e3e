"""Slow work off the GUI thread: :func:`run_op` (Anki's ``QueryOp``, Picard's ``run_task``).

``fn`` is a Qt-free callable run on one worker thread; its result, or its error, comes back to
the GUI thread by a queued signal. Meanwhile the actions that would start the same work again
are disabled and the window's status bar shows a busy indicator; both are undone when the work
ends, whether it succeeded or failed.

``fn`` must never touch a widget, nor the store's sqlite connection (a connection belongs to
the thread that opened it): read what it needs on the GUI thread and pass plain values, or
let it open its own read-only connection to the chart file (see ``printing.report_job``).

Errors: an expected error (``expected``, by default ``StoreError`` and ``OSError``: the chart
or a file said no) is handed to ``on_failure`` as one clear line. Any other exception is
handed to ``on_failure`` too, described as unexpected, and then raised again on the GUI thread,
so its traceback reaches ``sys.excepthook`` (and fails a test under pytest-qt): never silent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QProgressBar, QWidget

from desktop.store.errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    from PySide6.QtGui import QAction

T = TypeVar("T")

USER_ERRORS: tuple[type[BaseException], ...] = (StoreError, OSError)
"""Errors whose message is for the clinician as it is (the chart or the file system said no)."""

_BUSY = "_motorchart_busy"  # dynamic property: how many running ops have disabled this action/widget
_WAS_ENABLED = "_motorchart_was_enabled"

_pool: QThreadPool | None = None
_running: set[Op] = set()


def _thread_pool() -> QThreadPool:
    """One worker thread: ops run one after another (report fonts register once, backups never
    overlap), like Anki's single collection thread."""
    global _pool
    if _pool is None:
        _pool = QThreadPool(QCoreApplication.instance())
        _pool.setMaxThreadCount(1)
    return _pool


def running() -> int:
    """How many ops are started and not yet delivered (tests wait for 0)."""
    return len(_running)


def running_for(parent: QWidget) -> list[Op]:
    """The ops started for ``parent`` and not yet delivered, oldest first."""
    return sorted((op for op in _running if op._parent is parent), key=lambda op: op._started)


def describe(error: BaseException, expected: tuple[type[BaseException], ...] = USER_ERRORS) -> str:
    """One line about ``error``: its own message when it is expected (an OSError as
    "<file>: <reason>"), else that the error was unexpected."""
    if isinstance(error, expected):
        if isinstance(error, OSError) and error.strerror:
            where = error.filename if error.filename is not None else ""
            return f"{where}: {error.strerror}" if where else error.strerror
        return str(error) or type(error).__name__
    return f"an unexpected error ({type(error).__name__}: {error})"


class _Job(QRunnable):
    def __init__(self, op: Op, fn: Callable[[], Any]):
        super().__init__()  # auto-deleted by the pool after run(), on the worker thread
        self._op = op
        self._fn = fn

    def run(self) -> None:  # on the worker thread
        try:
            result, error = self._fn(), None
        except BaseException as e:  # noqa: BLE001  (delivered to the GUI thread, never dropped)
            result, error = None, e
        self._op._done.emit(result, error)  # queued: the op lives on the GUI thread


class Op(QObject, Generic[T]):
    """One background operation; made by :func:`run_op`. ``finished`` is emitted on the GUI
    thread after the UI is re-enabled and ``on_success``/``on_failure`` have run."""

    finished = Signal()
    _done = Signal(object, object)  # (result, error), from the worker thread

    def __init__(self, fn: Callable[[], T], *, parent: QWidget, label: str,
                 on_success: Callable[[T], None], on_failure: Callable[[str], None],
                 disable: Iterable[QAction | QWidget], expected: tuple[type[BaseException], ...]):
        super().__init__()  # no Qt parent: it must outlive a window closed while it runs
        self.label = label
        self.result: T | None = None
        self.error: BaseException | None = None
        self.done = False
        self._parent = parent
        self._on_success = on_success
        self._on_failure = on_failure
        self._expected = expected
        self._disabled = list(disable)
        self._indicator: QWidget | None = None
        self._started = 0.0
        self._job = _Job(self, fn)
        self._done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def _start(self) -> None:
        self._started = time.monotonic()
        _running.add(self)
        for w in self._disabled:
            _hold(w)
        self._show_progress()
        job, self._job = self._job, None
        _thread_pool().start(job)  # the pool owns it from here (PySide6: start() keeps it alive)

    @Slot(object, object)
    def _deliver(self, result: T | None, error: BaseException | None) -> None:
        self.result, self.error, self.done = result, error, True
        try:
            for w in self._disabled:
                _release(w)
            self._hide_progress()
            if not _alive(self._parent):
                if error is not None and not isinstance(error, self._expected):
                    raise error  # the window is gone: at least the traceback is not lost
                return
            if error is None:
                self._on_success(result)  # type: ignore[arg-type]
                return
            self._on_failure(describe(error, self._expected))
            if not isinstance(error, self._expected):
                raise error  # after one clear message: the traceback goes to sys.excepthook
        finally:
            _running.discard(self)
            self.finished.emit()
            self.deleteLater()

    # ------------------------------------------------------------------ progress
    def _show_progress(self) -> None:
        window = self._parent.window() if _alive(self._parent) else None
        if not isinstance(window, QMainWindow):
            return
        box = QWidget()
        box.setObjectName("backgroundProgress")
        text = QLabel(self.label, box)
        bar = QProgressBar(box)
        bar.setRange(0, 0)  # busy: the work has no steps to count
        bar.setMaximumWidth(110)
        bar.setMaximumHeight(14)
        bar.setTextVisible(False)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(text)
        row.addWidget(bar)
        window.statusBar().addPermanentWidget(box)
        self._indicator = box

    def _hide_progress(self) -> None:
        box, self._indicator = self._indicator, None
        if box is not None and _alive(box):
            box.hide()
            box.deleteLater()  # (removes it from the status bar)


def run_op(fn: Callable[[], T], *, parent: QWidget, label: str, on_success: Callable[[T], None],
           on_failure: Callable[[str], None], disable: Iterable[QAction | QWidget] = (),
           expected: tuple[type[BaseException], ...] = USER_ERRORS) -> Op[T]:
    """Run ``fn()`` on the worker thread and call ``on_success(result)`` or
    ``on_failure(one_line)`` on the GUI thread. ``disable`` (actions or widgets) stay disabled
    while it runs; ``label`` is shown beside a busy indicator in ``parent``'s status bar.
    Returns the started :class:`Op` (wait for ``op.finished``)."""
    op: Op[T] = Op(fn, parent=parent, label=label, on_success=on_success, on_failure=on_failure,
                   disable=disable, expected=expected)
    op._start()
    return op


def _alive(obj: QObject) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


def _hold(w: QAction | QWidget) -> None:
    """Disable ``w`` for one more running op (its own state is put back when the last ends)."""
    n = w.property(_BUSY) or 0
    if n == 0:
        w.setProperty(_WAS_ENABLED, w.isEnabled())
        w.setEnabled(False)
    w.setProperty(_BUSY, n + 1)


def _release(w: QAction | QWidget) -> None:
    if not _alive(w):
        return
    n = (w.property(_BUSY) or 1) - 1
    w.setProperty(_BUSY, n)
    if n == 0:
        w.setEnabled(bool(w.property(_WAS_ENABLED)))


def is_busy(w: QAction | QWidget) -> bool:
    """Whether a running op holds ``w`` disabled."""
    return bool(w.property(_BUSY))
