"""Keyboard helpers: keys go to the widget that has focus, as a user's would."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def focus(fallback):
    """The widget with keyboard focus in ``fallback``'s window (offscreen windows may not be
    active, so QApplication.focusWidget() can be None)."""
    return QApplication.focusWidget() or fallback.window().focusWidget() or fallback


def type_text(fallback, text: str) -> None:
    """Type text (any script) into whatever has focus, one character at a time."""
    for ch in text:
        QTest.sendKeyEvent(QTest.KeyAction.Click, focus(fallback), Qt.Key.Key_unknown, ch,
                           Qt.KeyboardModifier.NoModifier)


def press(fallback, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(focus(fallback), key, modifiers)
    QApplication.processEvents()  # the delegate commits Enter/Tab through a queued call


def enter_cell(view, text: str, then=Qt.Key.Key_Return) -> None:
    """Type an entry into the current cell and finish it with Enter (or Tab)."""
    view.setFocus()
    type_text(view, text)
    press(view, then)


def type_into(widget, text: str) -> None:
    """Type text (any script) into one widget, one character at a time."""
    for ch in text:
        QTest.sendKeyEvent(QTest.KeyAction.Click, widget, Qt.Key.Key_unknown, ch,
                           Qt.KeyboardModifier.NoModifier)


def walk_to(view, row: int, column: int, limit: int = 500) -> None:
    """Move the current cell to (row, column) with the arrow keys only, as a user would: to
    the muscle (or sign) column, up or down to the row, then across (Qt skips cells that take
    no entry, so rows are walked in the always-enabled first column)."""
    keys = Qt.Key
    count = 0

    def at():
        cur = view.currentIndex()
        return cur.row(), cur.column()

    def step(key) -> bool:
        nonlocal count
        count += 1
        if count > limit:
            raise AssertionError(f"could not reach ({row}, {column}) with the arrow keys")
        before = at()
        press(view, key)
        return at() != before

    if at()[0] != row:
        while at()[1] > 0 and step(keys.Key_Left):
            pass
        while at()[0] < row and step(keys.Key_Down):
            pass
        while at()[0] > row and step(keys.Key_Up):
            pass
    while at()[1] < column and step(keys.Key_Right):
        pass
    while at()[1] > column and step(keys.Key_Left):
        pass
    assert at() == (row, column), f"the arrow keys stopped at {at()}, not ({row}, {column})"
