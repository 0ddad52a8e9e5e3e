"""The report fonts: DejaVu Sans shipped in ``resources/fonts/``, embedded in every PDF.

:func:`use_report_fonts` registers them once and makes them reportlab's defaults (canvas, styles,
tables, graphics and chart labels), so no unembedded Helvetica is left anywhere. Call it before
importing ``reportlab.lib.styles``, ``reportlab.platypus`` or ``reportlab.graphics``: some of
their defaults are read at import time (the function also patches the ones already imported).
"""

from __future__ import annotations

import sys
from functools import lru_cache

from desktop.resources import resource_path

SANS = "DejaVuSans"
SANS_BOLD = "DejaVuSans-Bold"
SANS_OBLIQUE = "DejaVuSans-Oblique"
MONO = "DejaVuSansMono"

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
