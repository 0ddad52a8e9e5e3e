"""The window's letters: names in Chinese, Japanese or Korean script drawn on a machine without
such fonts, from the fallback font Motorchart ships for its reports."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QFontDatabase


def add_fallback_font() -> list[str]:
    """Add the shipped fallback font (:data:`desktop.resources.FALLBACK_FONT`) to this
    application's fonts, once; fontconfig then takes its letters for any the installed fonts
    lack, as it would from an installed font (on Linux; Windows and macOS have CJK fonts of their
    own, and PySide6 6.11 does not offer Qt's addApplicationFallbackFontFamily). About half a
    millisecond, when the chart is attached (finding the file imports the catalogue's modules,
    which the first paint does not wait for). Returns the families added (none if Qt cannot read
    the file: the letters stay boxes, as before, and nothing else changes)."""
    return list(_added_families())


@lru_cache(maxsize=1)
def _added_families() -> tuple[str, ...]:
    from desktop.resources import FALLBACK_FONT, resource_path

    font_id = QFontDatabase.addApplicationFont(str(resource_path(*FALLBACK_FONT)))
    return tuple(QFontDatabase.applicationFontFamilies(font_id)) if font_id >= 0 else ()
