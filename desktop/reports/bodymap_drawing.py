"""The body map (``desktop.bodymap``) drawn as a reportlab Drawing: front and back figures with
the four region zones and one marker per muscle/side coloured by its state, and a legend."""

from __future__ import annotations

from .fonts import SANS, SANS_BOLD, use_report_fonts

use_report_fonts()

from reportlab.graphics.shapes import Circle, Drawing, Group, PolyLine, Polygon, Rect, String  # noqa: E402
from reportlab.lib import colors  # noqa: E402

from desktop.bodymap import STATES, BodyMap, load_bodymap  # noqa: E402
from domain.catalogue import REGIONS  # noqa: E402

_GAP = 24.0  # between the two views, in body-map units
_OUTLINE = colors.HexColor("#4A4A4A")


def _flat(points, height: float) -> list[float]:
    out: list[float] = []
    for x, y in points:
        out += [x, height - y]  # the JSON's y grows down, reportlab's up
    return out


def body_map_drawing(
    states: dict[tuple[str, str], str],
    *,
    width: float,
    bodymap: BodyMap | None = None,
    legend: bool = True,
    font_size: float = 7.0,
    umn_regions=(),
) -> Drawing:
    """A Drawing ``width`` points wide: both views side by side, markers coloured by ``states``
    ((muscle, side) -> state), not-examined markers hollow; the view labels and the legend (marker
    states, region zones) are set in ``font_size`` points whatever the figure's scale."""
    bm = bodymap or load_bodymap()
    fig_w = bm.width * len(bm.views) + _GAP * (len(bm.views) - 1)
    scale = width / fig_w
    label_h = font_size + 5
    legend_h = 3 * (font_size + 4) + 4 if legend else 0.0
    fig_h = bm.height * scale
    d = Drawing(width, legend_h + fig_h + label_h)
    figure = Group()
    figure.translate(0, legend_h)
    figure.scale(scale, scale)
    d.add(figure)
    for i, view in enumerate(bm.views):
        x0 = i * (bm.width + _GAP)
        g = Group()
        g.translate(x0, 0)
        for region in REGIONS:
            fill = colors.HexColor(bm.region_fill[region])
            umn = region in umn_regions  # UMN evidence in the region: outlined in the UMN colour
            for poly in bm.zones[region]:
                g.add(Polygon(_flat(poly, bm.height), fillColor=fill,
                              strokeColor=colors.HexColor(bm.states["umn"].fill) if umn else None,
                              strokeWidth=2.2 if umn else 0, strokeDashArray=[4, 2] if umn else None))
        for poly in view.outline:
            g.add(Polygon(_flat(poly, bm.height), fillColor=None, strokeColor=_OUTLINE, strokeWidth=0.9,
                          strokeLineJoin=1))
        for line in view.lines:
            g.add(PolyLine(_flat(line, bm.height), strokeColor=_OUTLINE, strokeWidth=0.5))
        for (muscle, side), marker in bm.markers.items():
            if marker.view != view.id:
                continue
            state = states.get((muscle, side))
            if state is None:  # midline positions only when recorded
                continue
            st = bm.states[state]
            r = bm.marker_radius * (0.8 if state == "not_examined" else 1.0)
            g.add(Circle(marker.x, bm.height - marker.y, r,
                         fillColor=colors.HexColor(st.fill) if st.fill else None,
                         strokeColor=colors.HexColor(st.stroke), strokeWidth=0.5))
        figure.add(g)
        # Labels in points, outside the scaled figure.
        y = legend_h + fig_h + 3
        left, right = ("R", "L") if view.id == "front" else ("L", "R")
        d.add(String((x0 + bm.width / 2) * scale, y, view.label, fontName=SANS_BOLD, fontSize=font_size + 1,
                     textAnchor="middle", fillColor=colors.black))
        d.add(String((x0 + 8) * scale, y, left, fontName=SANS, fontSize=font_size, fillColor=_OUTLINE))
        d.add(String((x0 + bm.width - 8) * scale, y, right, fontName=SANS, fontSize=font_size,
                     textAnchor="end", fillColor=_OUTLINE))
    if legend:
        _legend(d, bm, width, font_size)
    return d


def _legend(d: Drawing, bm: BodyMap, width: float, fs: float) -> None:
    row_h = fs + 4
    r = fs * 0.4
    col_w = width / 3
    for i, state in enumerate(STATES):
        st = bm.states[state]
        x = (i % 3) * col_w + r + 1
        y = 3 * row_h + 2 - (i // 3 + 1) * row_h
        d.add(Circle(x, y + fs * 0.35, r, fillColor=colors.HexColor(st.fill) if st.fill else None,
                     strokeColor=colors.HexColor(st.stroke), strokeWidth=0.5))
        d.add(String(x + r + 3, y, st.label, fontName=SANS, fontSize=fs, fillColor=colors.black))
    col_w = width / len(REGIONS)
    for i, region in enumerate(REGIONS):
        x = i * col_w + 1
        d.add(Rect(x, 1, fs, fs * 0.8, fillColor=colors.HexColor(bm.region_fill[region]),
                   strokeColor=_OUTLINE, strokeWidth=0.3))
        d.add(String(x + fs + 3, 1.5, region, fontName=SANS, fontSize=fs, fillColor=colors.black))
