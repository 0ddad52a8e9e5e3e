"""Names in Chinese, Japanese or Korean letters in the window, on a machine without CJK fonts (CI
has DejaVu only): the window adds the fallback font shipped for the reports to Qt's fonts."""

from __future__ import annotations

import datetime as dt

from domain.case import Patient


def _drawn(text: str, font) -> bytes:
    from PySide6.QtGui import QColor, QImage, QPainter

    img = QImage(60, 40, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    p.setFont(font)
    p.setPen(QColor("black"))
    p.drawText(5, 30, text)
    p.end()
    return bytes(img.constBits())


def test_the_patient_list_draws_cjk_names_with_the_shipped_fallback(qtbot, store, catalogue):
    from PySide6.QtGui import QFontDatabase

    from desktop.ui.fonts import add_fallback_font
    from desktop.ui.main_window import MainWindow

    store.add_patient(Patient(id="MRN-山田", family_name="山田", given_names="花子", birth_date=dt.date(1958, 1, 9)))
    w = MainWindow(store, catalogue)
    qtbot.addWidget(w)
    w.show()
    assert "Droid Sans Fallback" in QFontDatabase.families()  # (added when the chart was attached)
    table = w.patients.table
    shown = [table.model().index(r, 0).data() for r in range(table.model().rowCount())]
    assert any("山田" in (s or "") for s in shown), shown
    # Without a font that has them, both letters are the same empty box.
    font = table.font()
    assert _drawn("山", font) != _drawn("田", font)
    assert _drawn("山", font) != _drawn("", font)
    assert add_fallback_font() == ["Droid Sans Fallback"]  # (once: asked again, nothing is added)
    w.close()
