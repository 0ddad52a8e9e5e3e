"""First run in the window: set up a new, encrypted chart (issue 18).

When Motorchart starts on a chart file that does not exist and has no backups (a clinic's
first start), :class:`ChartSetupDialog` asks for a passphrase (twice, with live feedback from
``keys.passphrase_problem``), creates the encrypted chart off the GUI thread
(``keys.create_encrypted``: one Argon2id, ~0.4 s) and then shows the recovery key once, with
a Print button, until the clinician confirms they have written it down or printed it.

The window offers no plain chart here: patient records on a laptop that leaves the clinic must
be encrypted, and a "keep it unencrypted" button on a first-run dialog is the one that gets
clicked to get past it. A plain chart stays possible on purpose, from the command line
(charts made there are plain unless ``--encrypt`` is given), and ``--demo`` stays plain.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)


def is_first_run(path: Path) -> bool:
    """No chart file at ``path`` and no backups of one: a clinic's first start."""
    from desktop.store.backups import backup_infos

    return not Path(path).exists() and not backup_infos(Path(path))


def setup_encrypted_chart(path: Path):
    """The dialog, run modally: the new chart's ``KeySetup`` (its key already remembered in
    this process), or None when the clinician quit without creating anything."""
    dlg = ChartSetupDialog(path)
    dlg.exec()
    return dlg.setup


class ChartSetupDialog(QDialog):
    """Two pages: the passphrase (twice), then the recovery key shown once."""

    def __init__(self, path: Path, parent=None):
        super().__init__(parent)
        self.path = Path(path)
        self.setup = None  # the KeySetup once the chart is created
        self._op = None
        self.setWindowTitle("Motorchart: set up the chart")
        self.setMinimumWidth(620)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._passphrase_page())
        self.pages.addWidget(self._recovery_page())
        lay = QVBoxLayout(self)
        lay.addWidget(self.pages)
        self._check()

    # -------------------------------------------------------------- page 1: the passphrase
    def _passphrase_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setSpacing(10)
        title = QLabel("A new chart")
        title.setFont(_bigger(self.font(), 1.5))
        lay.addWidget(title)
        intro = QLabel(
            f"There is no chart at <b>{_esc(str(self.path))}</b> yet. Motorchart keeps it "
            "<b>encrypted</b>: without its passphrase the file cannot be read, on this computer or "
            "anywhere it is copied (backups included).<br><br>Choose the passphrase everyone who "
            "charts here will type when Motorchart starts and after each lock: a few unrelated words "
            "are easy to type and hard to guess.")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(intro)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("setupPassphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("Passphrase (at least 8 characters)")
        self.repeat = QLineEdit()
        self.repeat.setObjectName("setupRepeat")
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat.setPlaceholderText("The same passphrase again")
        lay.addWidget(self.passphrase)
        lay.addWidget(self.repeat)
        self.show_text = QCheckBox("Show the passphrase")
        self.show_text.toggled.connect(self._show_toggled)
        lay.addWidget(self.show_text)
        self.feedback = QLabel()
        self.feedback.setObjectName("setupFeedback")
        self.feedback.setWordWrap(True)
        lay.addWidget(self.feedback)
        note = QLabel("If the passphrase is forgotten, only the recovery key shown on the next page opens "
                      "the chart: nobody else can, not even Motorchart's authors.")
        note.setWordWrap(True)
        note.setStyleSheet("color:#555555;")
        lay.addWidget(note)
        lay.addStretch(1)
        buttons = QHBoxLayout()
        self.quit_button = QPushButton("Quit")
        self.quit_button.setObjectName("setupQuit")
        self.quit_button.setAutoDefault(False)
        self.create_button = QPushButton("Create the encrypted chart")
        self.create_button.setObjectName("setupCreate")
        self.create_button.setDefault(True)
        buttons.addWidget(self.quit_button)
        buttons.addStretch(1)
        buttons.addWidget(self.create_button)
        lay.addLayout(buttons)
        self.passphrase.textChanged.connect(self._check)
        self.repeat.textChanged.connect(self._check)
        self.repeat.returnPressed.connect(self.create)
        self.create_button.clicked.connect(self.create)
        self.quit_button.clicked.connect(self.reject)
        return page

    def _show_toggled(self, on: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
        self.passphrase.setEchoMode(mode)
        self.repeat.setEchoMode(mode)

    def problem(self) -> str | None:
        """Why the passphrase cannot be used yet (None when it can)."""
        from desktop.store.keys import passphrase_problem

        first = self.passphrase.text()
        problem = passphrase_problem(first)
        if problem:
            return problem[0].upper() + problem[1:] + "."
        if self.repeat.text() != first:
            return ("Type the same passphrase again below." if not self.repeat.text()
                    else "The two passphrases differ.")
        return None

    def _check(self) -> None:
        problem = self.problem()
        busy = self._op is not None
        self.create_button.setEnabled(problem is None and not busy)
        if busy:
            return
        if problem is None:
            self.feedback.setText("✓ The passphrase can be used.")
            self.feedback.setStyleSheet("color:#1b6e20;")
        elif not self.passphrase.text():
            self.feedback.setText("")
        else:
            self.feedback.setText(problem)
            self.feedback.setStyleSheet("color:#8a4b00;")

    def create(self):
        """Create the chart in the background (Argon2id); then the recovery key page. Returns
        the running op (None when the passphrase cannot be used)."""
        if self._op is not None or self.problem() is not None:
            return None
        from desktop.store import keys

        from .background import run_op

        path, passphrase = self.path, self.passphrase.text()
        for w in (self.passphrase, self.repeat, self.show_text, self.quit_button, self.create_button):
            w.setEnabled(False)
        self.feedback.setText("Creating the encrypted chart…")
        self.feedback.setStyleSheet("color:#555555;")
        self._op = run_op(lambda: keys.create_encrypted(path, passphrase), parent=self,
                          label="Creating the encrypted chart…", on_success=self._created,
                          on_failure=self._failed)
        return self._op

    def _failed(self, line: str) -> None:
        self._op = None
        for w in (self.passphrase, self.repeat, self.show_text, self.quit_button):
            w.setEnabled(True)
        self._check()
        self.feedback.setText(f"The chart was not created: {line}")
        self.feedback.setStyleSheet("color:#b3261e;")

    def _created(self, setup) -> None:
        self._op = None
        self.setup = setup
        self.passphrase.clear()
        self.repeat.clear()
        self.recovery.setText(setup.recovery_key)
        self.pages.setCurrentIndex(1)
        self.confirm.setFocus()

    # -------------------------------------------------------------- page 2: the recovery key
    def _recovery_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setSpacing(10)
        title = QLabel("The recovery key")
        title.setFont(_bigger(self.font(), 1.5))
        lay.addWidget(title)
        intro = QLabel("The encrypted chart is created. If the passphrase is ever forgotten, this "
                       "<b>recovery key</b> is the only other way to open the chart and its backups. "
                       "It is shown <b>this once</b> and kept nowhere on this computer: print it or "
                       "write it down now, and keep it somewhere safe, away from the computer.")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(intro)
        self.recovery = QLabel()
        self.recovery.setObjectName("recoveryKey")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(self.font().pointSizeF() * 1.5)
        mono.setBold(True)
        self.recovery.setFont(mono)
        self.recovery.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.recovery.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.recovery.setStyleSheet("background:#fffbe6; border:1px solid #d9c26a; padding:14px;")
        lay.addWidget(self.recovery)
        where = QLabel(f"Chart: {_esc(str(self.path))}<br>Letters and digits only: dashes, spaces and "
                       "capitals do not matter when it is typed.")
        where.setWordWrap(True)
        where.setStyleSheet("color:#555555;")
        lay.addWidget(where)
        self.print_button = QPushButton("Print…")
        self.print_button.setObjectName("printRecoveryKey")
        self.print_button.setAutoDefault(False)
        self.print_button.clicked.connect(self.print_recovery_key)
        self.confirm = QCheckBox("I have written down or printed the recovery key and put it somewhere safe")
        self.confirm.setObjectName("recoveryConfirmed")
        lay.addWidget(self.confirm)
        lay.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.print_button)
        buttons.addStretch(1)
        self.open_button = QPushButton("Open the chart")
        self.open_button.setObjectName("openChart")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.accept)
        buttons.addWidget(self.open_button)
        lay.addLayout(buttons)
        self.confirm.toggled.connect(self.open_button.setEnabled)
        return page

    def recovery_sheet(self) -> str:
        """The printed page (HTML): what the key is for, the chart, the date and the key."""
        day = dt.date.today().isoformat()
        return (f"<h2>Motorchart recovery key</h2>"
                f"<p>Chart: {_esc(str(self.path))}<br>Made: {day}</p>"
                f"<p style='font-family:monospace; font-size:16pt; white-space:pre'>"  # never cut in two
                f"<b>{_esc(self.recovery.text())}</b></p>"
                "<p>This key opens the encrypted chart and its backups if the passphrase is forgotten. "
                "Anyone who has it and the chart file can read every patient's record: keep it "
                "locked away, apart from the computer.</p>")

    def print_recovery_key(self, printer=None) -> bool:
        """The system print dialog, then the recovery sheet printed (``printer`` given: printed
        there without asking, for tests)."""
        from PySide6.QtGui import QTextDocument
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        if printer is None:
            self._printer = printer = QPrinter()  # keep a reference: Qt must not outlive it
            dialog = QPrintDialog(printer, self)
            dialog.setWindowTitle("Print the recovery key")
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
        doc = QTextDocument()
        doc.setHtml(self.recovery_sheet())
        doc.print_(printer)
        return True

    # -------------------------------------------------------------- closing
    def reject(self) -> None:
        """Quit before the chart is made; once it is, only "Open the chart" closes (the
        recovery key is never shown again)."""
        if self.setup is not None or self._op is not None:
            return
        super().reject()

    def closeEvent(self, event) -> None:
        if self.setup is not None or self._op is not None:
            event.ignore()
            return
        super().closeEvent(event)


def _bigger(font: QFont, factor: float) -> QFont:
    f = QFont(font)
    f.setPointSizeF(f.pointSizeF() * factor)
    f.setBold(True)
    return f


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
