"""The lock of an encrypted chart's window (issue 18): the unlock prompt and the idle watch.

:class:`UnlockView` is the page the window shows instead of its views while it is locked: a
passphrase field (the recovery key works too) and one line saying what went wrong. The key is
unwrapped off the GUI thread by the window (``MainWindow.lock`` / ``_unlock_submitted``).

:class:`IdleWatch` tells the window when nobody has used the application for the chosen time:
an application-wide event filter notes the time of each keyboard, mouse, wheel or touch input;
one timer checks it when the time could be up (no timer restarted per mouse move). The time is
measured on a clock that keeps running while the computer sleeps where there is one, and the
first input after a long gap locks before it reaches the chart.

Only an encrypted chart locks: a plain chart's file can be read without any passphrase, so a
lock would only hide the screen (the window says so instead; see :data:`PLAIN_CANNOT_LOCK`).
This module is imported only for an encrypted chart (not on a plain chart's launch path).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

LOCK_SETTING = "lock_after_minutes"
"""Chart setting: minutes without input before the window locks (an encrypted chart only)."""
DEFAULT_LOCK_MINUTES = 10
LOCK_MINUTES_RANGE = (1, 120)

PLAIN_CANNOT_LOCK = ("This chart is not encrypted, so a lock would not protect it: anyone who can read "
                     "the file can read the chart. Encrypt it first (motorchart encrypt --db {path}).")
PLAIN_EXPORT_NOTE = "the PDF is not encrypted: keep it somewhere private"


def lock_minutes(store) -> int:
    """The chart's idle time before the lock, in minutes (the default when unset or odd)."""
    try:
        minutes = int(store.setting(LOCK_SETTING, DEFAULT_LOCK_MINUTES))
    except (TypeError, ValueError):
        return DEFAULT_LOCK_MINUTES
    lo, hi = LOCK_MINUTES_RANGE
    return min(max(minutes, lo), hi)


class NoPatients:
    """The patient list's source while the chart is locked or not yet unlocked: nobody."""

    def search_patients(self, text, limit=50):
        return []

    def count_patients(self):
        return 0

    def close(self):
        pass


class UnlockView(QWidget):
    """The unlock prompt: the only thing the window shows while it is locked."""

    submitted = Signal(str)  # the passphrase or recovery key typed

    def __init__(self, chart_path, parent=None):
        super().__init__(parent)
        self.setObjectName("unlockView")
        self.setAutoFillBackground(True)
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        card = QWidget()
        card.setObjectName("unlockCard")
        card.setMaximumWidth(560)
        card.setStyleSheet("QWidget#unlockCard { background: #f3f6fa; border: 1px solid #d0d7e2;"
                           " border-radius: 6px; }")
        lay = QVBoxLayout(card)
        lay.setContentsMargins(28, 24, 28, 24)
        lay.setSpacing(10)
        self.title = QLabel("Unlock the chart")
        self.title.setObjectName("unlockTitle")
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.title.setFont(font)
        lay.addWidget(self.title)
        self.reason = QLabel()
        self.reason.setObjectName("unlockReason")
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #555555;")
        self.reason.hide()
        lay.addWidget(self.reason)
        self.explanation = QLabel(
            f"<b>{_esc(str(chart_path))}</b> is encrypted. Type its passphrase to open it; its "
            "recovery key works too.")
        self.explanation.setWordWrap(True)
        lay.addWidget(self.explanation)
        row = QHBoxLayout()
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("unlockPassphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("Passphrase or recovery key")
        self.passphrase.setMinimumWidth(300)
        row.addWidget(self.passphrase, 1)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setDefault(True)
        row.addWidget(self.unlock_button)
        lay.addLayout(row)
        self.problem = QLabel()
        self.problem.setObjectName("unlockProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b3261e;")
        self.problem.hide()
        lay.addWidget(self.problem)
        self.status = QLabel()
        self.status.setObjectName("unlockStatus")
        self.status.setStyleSheet("color: #555555;")
        lay.addWidget(self.status)
        centre = QHBoxLayout()
        centre.addStretch(1)
        centre.addWidget(card, 4)
        centre.addStretch(1)
        outer.addLayout(centre)
        outer.addStretch(3)
        self.passphrase.returnPressed.connect(self._submit)
        self.unlock_button.clicked.connect(self._submit)

    def _submit(self) -> None:
        if not self.passphrase.isEnabled():
            return
        text = self.passphrase.text()
        if not text:
            self.refuse("Type the chart's passphrase (or its recovery key).")
            return
        self.submitted.emit(text)

    # -------------------------------------------------------------- states
    def show_locked(self, reason: str | None, *, waiting: str | None = None) -> None:
        """The window has just locked: say why; while ``waiting`` (work still finishing
        before the chart closes) nothing can be typed yet."""
        self.title.setText("The chart is locked")
        self.reason.setText(reason or "")
        self.reason.setVisible(bool(reason))
        self.problem.hide()
        self.passphrase.clear()
        if waiting:
            self.busy(waiting)
        else:
            self.ready()

    def ready(self, status: str = "") -> None:
        self.status.setText(status)
        self.passphrase.setEnabled(True)
        self.unlock_button.setEnabled(True)
        self.passphrase.setFocus()

    def busy(self, text: str) -> None:
        self.status.setText(text)
        self.passphrase.setEnabled(False)
        self.unlock_button.setEnabled(False)

    def refuse(self, text: str) -> None:
        """Unlocking failed: say so, empty the field and let the clinician try again."""
        self.problem.setText(text)
        self.problem.show()
        self.passphrase.clear()
        self.ready()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clock() -> float:
    """Seconds on a clock that keeps counting while the computer sleeps (Linux's
    CLOCK_BOOTTIME), else the monotonic clock."""
    try:
        return time.clock_gettime(time.CLOCK_BOOTTIME)  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return time.monotonic()


_INPUT = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
    QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate,
    QEvent.Type.TabletPress, QEvent.Type.TabletMove,
})


class IdleWatch(QObject):
    """Emits ``idle`` once nobody has used the application for ``seconds`` (keyboard, mouse,
    wheel, touch). Stopped, it watches nothing (its event filter is removed)."""

    idle = Signal()

    def __init__(self, seconds: float, parent=None):
        super().__init__(parent)
        self.seconds = float(seconds)
        self._last = _clock()
        self._last_pos = None
        self._running = False
        self._tripped = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._check)

    @property
    def running(self) -> bool:
        return self._running

    def set_seconds(self, seconds: float) -> None:
        self.seconds = float(seconds)
        if self._running:
            self._check()

    def start(self) -> None:
        self._last = _clock()
        if not self._running:
            QApplication.instance().installEventFilter(self)
            self._running = True
        self._arm(self.seconds)

    def stop(self) -> None:
        self._tripped = False
        if self._running:
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            self._running = False
        self._timer.stop()

    def _arm(self, seconds: float) -> None:
        self._timer.start(max(1, int(seconds * 1000) + 1))

    def _check(self) -> None:
        if not self._running:
            return
        quiet = _clock() - self._last
        if quiet >= self.seconds:
            self._fire()
        else:
            self._arm(self.seconds - quiet)

    def _fire(self) -> None:
        if not self._running:
            return
        self.stop()
        self.idle.emit()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802  (Qt's name)
        kind = event.type()
        if kind not in _INPUT:
            return False
        if self._tripped:
            return True  # the lock is on its way: no input reaches the chart meanwhile
        if kind == QEvent.Type.MouseMove:
            pos = event.globalPosition()
            if pos == self._last_pos:  # a synthetic move: the pointer did not move
                return False
            self._last_pos = pos
        now = _clock()
        if now - self._last >= self.seconds:
            # back after a sleep or a stalled timer: lock before this input reaches the chart
            # (outside this event's delivery)
            self._tripped = True
            QTimer.singleShot(0, self._fire)
            return True
        self._last = now
        return False
