"""The window's letters: names in Chinese, Japanese or Korean script drawn on a machine without
such fonts, from the fallback font Motorchart ships for its reports."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase

_added: list[str] = []
_tried: list[bool] = []  # (a file Qt cannot read is not tried again at every attach)


def add_fallback_font() -> list[str]:
    """Add the shipped fallback font (:data:`desktop.resources.FALLBACK_FONT`) to this
    application's fonts, once; fontconfig then takes its letters for any the installed fonts lack,
    as it would from an installed font (on Linux; Windows and macOS have CJK fonts of their own,
    and PySide6 6.11 does not offer Qt's addApplicationFallbackFontFamily). About half a millisecond, when the chart is attached
    (finding the file imports the catalogue's modules, which the first paint does not wait for).
    Returns the families added (none if Qt cannot read the file: the letters stay boxes, as
    before, and nothing else changes)."""
    if not _tried:
        from desktop.resources import FALLBACK_FONT, resource_path

        _tried.append(True)
        font_id = QFontDatabase.addApplicationFont(str(resource_path(*FALLBACK_FONT)))
        _added.extend(QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else [])
    return list(_added)
