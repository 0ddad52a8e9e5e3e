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
    region_labels: bool = True,
) -> Drawing:
    """A Drawing ``width`` points wide: both views side by side, markers coloured by ``states``
    ((muscle, side) -> state), not-examined markers hollow; with a legend of states below."""
    bm = bodymap or load_bodymap()
    fig_w = bm.width * len(bm.views) + _GAP * (len(bm.views) - 1)
    title_h = 14.0  # units above the figures for the view labels
    legend_h = 34.0 if legend else 0.0
    fig_h = bm.height + title_h + legend_h
    scale = width / fig_w
    d = Drawing(width, fig_h * scale)
    root = Group()
    root.scale(scale, scale)
    d.add(root)
    for i, view in enumerate(bm.views):
        g = Group()
        g.translate(i * (bm.width + _GAP), legend_h)
        for region in REGIONS:
            fill = colors.HexColor(bm.region_fill[region])
            for poly in bm.zones[region]:
                g.add(Polygon(_flat(poly, bm.height), fillColor=fill, strokeColor=None, strokeWidth=0))
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
        g.add(String(bm.width / 2, bm.height + 3, view.label, fontName=SANS_BOLD, fontSize=9,
                     textAnchor="middle", fillColor=colors.black))
        g.add(String(4, bm.height + 3, "R" if view.id == "front" else "L", fontName=SANS, fontSize=8,
                     fillColor=_OUTLINE))
        g.add(String(bm.width - 4, bm.height + 3, "L" if view.id == "front" else "R", fontName=SANS,
                     fontSize=8, textAnchor="end", fillColor=_OUTLINE))
        root.add(g)
    if legend:
        _legend(root, bm, fig_w, legend_h, region_labels)
    return d


def _legend(root: Group, bm: BodyMap, fig_w: float, legend_h: float, region_labels: bool) -> None:
    col_w = fig_w / 3
    for i, state in enumerate(STATES):
        st = bm.states[state]
        x = (i % 3) * col_w + 6
        y = legend_h - 10 - (i // 3) * 11
        root.add(Circle(x, y + 3, bm.marker_radius, fillColor=colors.HexColor(st.fill) if st.fill else None,
                        strokeColor=colors.HexColor(st.stroke), strokeWidth=0.5))
        root.add(String(x + 7, y, st.label, fontName=SANS, fontSize=8, fillColor=colors.black))
    if region_labels:
        col_w = fig_w / len(REGIONS)
        for i, region in enumerate(REGIONS):
            x = i * col_w + 2
            y = 1
            root.add(Rect(x, y, 8, 7, fillColor=colors.HexColor(bm.region_fill[region]),
                          strokeColor=_OUTLINE, strokeWidth=0.3))
            root.add(String(x + 11, y + 1, region, fontName=SANS, fontSize=8, fillColor=colors.black))
