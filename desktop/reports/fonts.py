"""The report fonts: DejaVu Sans shipped in ``resources/fonts/``, embedded in every PDF, and
Droid Sans Fallback for the letters DejaVu lacks (Chinese, Japanese, Korean).

:func:`use_report_fonts` registers them once and makes DejaVu reportlab's default (canvas, styles,
tables, graphics and chart labels), so no unembedded Helvetica is left anywhere. Call it before
importing ``reportlab.lib.styles``, ``reportlab.platypus`` or ``reportlab.graphics``: some of
their defaults are read at import time (the function also patches the ones already imported).

reportlab draws a letter its font lacks as an empty box and has no fallback of its own, so text
that may hold such letters (names, notes, reasons) goes through :func:`with_fallback` (paragraph
markup) or :func:`text_runs` (text drawn on the canvas): each run of letters DejaVu lacks and
the fallback has is written in the fallback.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache

from desktop.resources import FALLBACK_FONT, resource_path

SANS = "DejaVuSans"
SANS_BOLD = "DejaVuSans-Bold"
SANS_OBLIQUE = "DejaVuSans-Oblique"
MONO = "DejaVuSansMono"
FALLBACK = "DroidSansFallback"

_FILES = {
    SANS: "DejaVuSans.ttf",
    SANS_BOLD: "DejaVuSans-Bold.ttf",
    SANS_OBLIQUE: "DejaVuSans-Oblique.ttf",
    MONO: "DejaVuSansMono.ttf",
}


@lru_cache(maxsize=1)
def use_report_fonts() -> None:
    from reportlab import rl_config
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, filename in _FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(resource_path("fonts", filename))))
    # <b>/<i> in paragraphs pick the family members; there is no bold oblique: bold stands in.
    pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD, italic=SANS_OBLIQUE,
                                  boldItalic=SANS_BOLD)
    pdfmetrics.registerFontFamily(MONO, normal=MONO, bold=MONO, italic=MONO, boldItalic=MONO)

    rl_config.canvas_basefontname = SANS
    from reportlab.graphics import shapes

    shapes.STATE_DEFAULTS["fontName"] = SANS
    # Defaults bound at import time by modules that may already be loaded.
    styles = sys.modules.get("reportlab.lib.styles")
    if styles is not None:
        styles._baseFontName = SANS
        styles._baseFontNameB = SANS_BOLD
        styles._baseFontNameI = SANS_OBLIQUE
        styles._baseFontNameBI = SANS_BOLD
    tables = sys.modules.get("reportlab.platypus.tables")
    if tables is not None:
        tables.CellStyle.fontname = SANS


@lru_cache(maxsize=1)
def _sans_coverage() -> frozenset[int]:
    """The code points DejaVu Sans has."""
    from reportlab.pdfbase import pdfmetrics

    use_report_fonts()
    return frozenset(pdfmetrics.getFont(SANS).face.charToGlyph)


@lru_cache(maxsize=1)
def _fallback_coverage() -> frozenset[int]:
    """The code points the fallback has; it is registered here, the first time a text holds a
    letter DejaVu lacks (reading its 3.4 MB takes ~60 ms, which a report in Latin, Greek or
    Cyrillic letters never spends)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    use_report_fonts()
    font = TTFont(FALLBACK, str(resource_path(*FALLBACK_FONT)))
    pdfmetrics.registerFont(font)
    # one weight: inside <b> or <i> the fallback's letters stay regular
    pdfmetrics.registerFontFamily(FALLBACK, normal=FALLBACK, bold=FALLBACK, italic=FALLBACK, boldItalic=FALLBACK)
    return frozenset(font.face.charToGlyph)


def _needs_fallback(ch: str) -> bool:
    code = ord(ch)
    return code not in _sans_coverage() and code in _fallback_coverage()


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def text_runs(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into runs, each with whether it is written in the fallback (letters DejaVu
    lacks and the fallback has); a letter neither has stays with DejaVu (an empty box, as before)."""
    if text.isascii():
        return [(text, False)] if text else []
    runs: list[tuple[str, bool]] = []
    for ch in text:
        fb = _needs_fallback(ch)
        if runs and runs[-1][1] == fb:
            runs[-1] = (runs[-1][0] + ch, fb)
        else:
            runs.append((ch, fb))
    return runs


def with_fallback(markup: str) -> str:
    """Paragraph markup with each run of letters DejaVu lacks (and the fallback has) wrapped in
    ``<font face=...>`` for the fallback. Tags and entities are ASCII, so they are never touched;
    text without such letters comes back as it is."""
    if markup.isascii():
        return markup

    def wrap(m: re.Match) -> str:
        return "".join(f'<font face="{FALLBACK}">{run}</font>' if fb else run for run, fb in text_runs(m.group()))

    return _NON_ASCII.sub(wrap, markup)
