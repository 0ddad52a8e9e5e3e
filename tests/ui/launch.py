"""Running the real app (``desktop.ui.app.run_app``) inside a test, to its window and back."""

from __future__ import annotations

from typing import Callable


def run_app_until_its_window(db: str, look: Callable) -> int:
    """``run_app(db)``; once its main window is on screen, inside the app's event loop, ``look``
    is called with it, then the window is closed and the app quits. Returns run_app's status.
    (A quit before ``app.exec`` starts is ignored, hence the wait for the loop; and the quit
    that closing the last window posts would outlive run_app, hence that is off meanwhile.)"""
    from PySide6.QtCore import QThread, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.ui import app
    from desktop.ui.main_window import MainWindow

    def when_up():
        for top in QApplication.topLevelWidgets():
            if isinstance(top, MainWindow) and top.isVisible() and top.store is not None \
                    and QThread.currentThread().loopLevel() >= 1:
                look(top)
                top.close()
                top.deleteLater()
                QApplication.instance().quit()
                return
        QTimer.singleShot(20, when_up)

    QTimer.singleShot(0, when_up)
    QApplication.setQuitOnLastWindowClosed(False)
    try:
        return app.run_app(db=db, demo=False)
    finally:
        QApplication.setQuitOnLastWindowClosed(True)
