"""The body map: a front and a back figure with the four regions and a marker per muscle and
side, coloured UMN / LMN / UMN + LMN / normal for one visit; a slider steps through the visits.

The figure (outlines, region zones, marker positions, colours) is ``resources/bodymap`` read by
:mod:`desktop.bodymap`, the same data the reports draw; the marker states are
:func:`desktop.bodymap.marker_states` over the classifier's per-muscle evidence.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from desktop.bodymap import STATES, BodyMap, load_bodymap, marker_states, region_umn
from domain.case import Case
from domain.catalogue import REGIONS, Catalogue
from domain.classify import CaseClassification

GAP = 40.0  # between the front and the back figure, in body-map units
LEGEND_H = 56.0
_SIDE = {"left": " L", "right": " R", "midline": ""}


def _polygon(points, dx: float) -> QPolygonF:
    return QPolygonF([QPointF(x + dx, y) for x, y in points])


class _FitView(QGraphicsView):
    """A graphics view that keeps the whole scene in sight at any size."""

    def resizeEvent(self, event):  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def showEvent(self, event):  # noqa: N802
        super().showEvent(event)
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)


class BodyMapView(QWidget):
    """Front and back figure; :meth:`set_patient` then the slider (or :meth:`set_visit`) picks the
    visit. ``marker_items[(muscle, side)]`` are the drawn markers, each with its state in
    ``marker_state``, so tests read back what is shown."""

    visit_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, catalogue: Catalogue | None = None,
                 bodymap: BodyMap | None = None):
        super().__init__(parent)
        if catalogue is None:
            from desktop.resources import load_catalogue

            catalogue = load_catalogue()
        self._catalogue = catalogue
        self._map = bodymap or load_bodymap()
        self.case: Case | None = None
        self.result: CaseClassification | None = None
        self.index: int | None = None
        self.marker_items: dict[tuple[str, str], QGraphicsEllipseItem] = {}
        self.marker_state: dict[tuple[str, str], str] = {}
        self.zone_items: dict[str, list] = {}  # region -> its zone shapes (both views)
        self.umn_regions: dict[str, str] = {}  # regions outlined for UMN evidence, and why

        self.title = QLabel("")
        self.title.setStyleSheet("font-size: 12pt; font-weight: bold;")
        self.message = QLabel("")
        self.message.setStyleSheet("color: #777777; font-size: 11pt;")
        self.scene = QGraphicsScene(self)
        self.view = _FitView(self.scene)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setBackgroundBrush(QBrush(QColor("#ffffff")))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.valueChanged.connect(self._slider_moved)
        self.slider_label = QLabel("")
        self.slider_label.setMinimumWidth(170)

        row = QHBoxLayout()
        row.addWidget(QLabel("Visit"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.slider_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.title)
        lay.addWidget(self.message)
        lay.addWidget(self.view, 1)
        lay.addLayout(row)
        self._draw_figure()
        self.set_patient(None, None)

    # -- the static figure --------------------------------------------------------------------

    def _offset(self, view_id: str) -> float:
        ids = [v.id for v in self._map.views]
        return ids.index(view_id) * (self._map.width + GAP)

    def _draw_figure(self) -> None:
        bm, sc = self._map, self.scene
        no_pen = QPen(Qt.PenStyle.NoPen)
        outline_pen = QPen(QColor("#555555"), 1.2)
        outline_pen.setCosmetic(True)
        line_pen = QPen(QColor("#999999"), 0.8)
        line_pen.setCosmetic(True)
        label_font = QFont("DejaVu Sans", 7)
        for v in bm.views:
            dx = self._offset(v.id)
            # Region zones, clipped to the body outline so the shading never leaves the figure.
            body = QPainterPath()
            for poly in v.outline:
                body.addPolygon(_polygon(poly, dx))
                body.closeSubpath()
            for region in REGIONS:
                path = QPainterPath()
                for poly in bm.zones[region]:
                    path.addPolygon(_polygon(poly, dx))
                    path.closeSubpath()
                item = sc.addPath(path.intersected(body), no_pen, QBrush(QColor(bm.region_fill[region])))
                item.setData(0, f"zone:{region}")
                self.zone_items.setdefault(region, []).append(item)
            for poly in v.outline:
                sc.addPolygon(_polygon(poly, dx), outline_pen)
            for line in v.lines:
                path = QPainterPath(QPointF(line[0][0] + dx, line[0][1]))
                for x, y in line[1:]:
                    path.lineTo(x + dx, y)
                sc.addPath(path, line_pen)
            title = sc.addText(v.label, QFont("DejaVu Sans", 8, QFont.Weight.Bold))
            title.setDefaultTextColor(QColor("#333333"))
            title.setPos(dx + bm.width / 2 - title.boundingRect().width() / 2, -16)
            # The patient's sides, so left and right are never guessed.
            right_x, left_x = (4, bm.width - 24) if v.id == "front" else (bm.width - 24, 4)
            for text, x in (("R", right_x), ("L", left_x)):
                t = sc.addText(text, label_font)
                t.setDefaultTextColor(QColor("#888888"))
                t.setPos(dx + x, 2)
        self._draw_legend()
        total_w = len(bm.views) * bm.width + (len(bm.views) - 1) * GAP
        self.scene.setSceneRect(QRectF(-6, -20, total_w + 12, bm.height + LEGEND_H + 26))

    def _draw_legend(self) -> None:
        bm, sc = self._map, self.scene
        font = QFont("DejaVu Sans", 6)
        y = bm.height + 8
        x = 0.0
        r = bm.marker_radius
        for state in STATES:
            style = bm.states[state]
            item = sc.addEllipse(x, y, 2 * r, 2 * r, QPen(QColor(style.stroke), 0.8),
                                 QBrush(QColor(style.fill)) if style.fill else QBrush(Qt.BrushStyle.NoBrush))
            item.setData(0, f"legend:{state}")
            t = sc.addText(style.label, font)
            t.setDefaultTextColor(QColor("#333333"))
            t.setPos(x + 2 * r + 1, y - 6)
            x += 2 * r + 8 + t.boundingRect().width()
            if x > 2 * bm.width:
                x, y = 0.0, y + 14
        y += 18
        x = 0.0
        for region in REGIONS:
            sc.addRect(x, y, 10, 8, QPen(QColor("#999999"), 0.5), QBrush(QColor(bm.region_fill[region])))
            t = sc.addText(region.capitalize(), font)
            t.setDefaultTextColor(QColor("#333333"))
            t.setPos(x + 11, y - 6)
            x += 16 + t.boundingRect().width() + 6

    # -- the markers of one visit ---------------------------------------------------------------

    def _clear_markers(self) -> None:
        for item in self.marker_items.values():
            self.scene.removeItem(item)
        self.marker_items.clear()
        self.marker_state.clear()

    def _draw_markers(self, states: dict[tuple[str, str], str], details: dict[tuple[str, str], str]) -> None:
        bm, sc = self._map, self.scene
        r = bm.marker_radius
        midline_muscles = {m for (m, side) in bm.markers if side == "midline"}
        draw: dict[tuple[str, str], str] = {}
        for key, state in states.items():
            if key[0] in midline_muscles and state == "not_examined":
                continue  # bulbar and thoracic muscles: one hollow midline marker, below
            draw[key] = state
        for muscle in midline_muscles:
            if not any((muscle, s) in draw for s in ("left", "right", "midline")):
                draw[(muscle, "midline")] = "not_examined"
        for (muscle, side), state in draw.items():
            if (muscle, side) not in bm.markers:
                continue
            m = bm.markers[(muscle, side)]
            style = bm.states[state]
            pen = QPen(QColor(style.stroke), 0.9 if state != "not_examined" else 0.6)
            brush = QBrush(QColor(style.fill)) if style.fill else QBrush(Qt.BrushStyle.NoBrush)
            dx = self._offset(m.view)
            item = sc.addEllipse(m.x + dx - r, m.y - r, 2 * r, 2 * r, pen, brush)
            item.setZValue(2 if state != "not_examined" else 1)
            item.setData(0, state)
            name = self._catalogue.muscle[muscle].name + _SIDE[side]
            item.setToolTip(f"{name}: {style.label}" + (f" ({details[(muscle, side)]})"
                                                          if (muscle, side) in details else ""))
            self.marker_items[(muscle, side)] = item
            self.marker_state[(muscle, side)] = state

    # -- public API ---------------------------------------------------------------------------

    def set_patient(self, case: Case | None, classification: CaseClassification | None,
                    index: int | None = None) -> None:
        """Show a patient, at visit ``index`` (default: the latest)."""
        if (case is None) != (classification is None):
            raise ValueError("pass a case with its classification, or neither")
        self.case, self.result = case, classification
        n = len(classification.visits) if classification else 0
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, n - 1))
        self.slider.setEnabled(n > 1)
        self.slider.blockSignals(False)
        if case is None:
            self.title.setText("No patient selected")
        else:
            self.title.setText(f"Body map · {case.patient.display_name} ({case.patient.id})")
        if n == 0:
            self.index = None
            self.message.setText("No visits recorded" if case is not None else "")
            self.message.setVisible(case is not None)
            self.slider_label.setText("")
            self._clear_markers()
            self._draw_markers(marker_states(None, self._catalogue), {})
            return
        self.message.setVisible(False)
        self.set_visit(n - 1 if index is None else index)

    def set_visit(self, index: int) -> None:
        if self.result is None or not self.result.visits:
            return
        n = len(self.result.visits)
        if not 0 <= index < n:
            raise IndexError(f"visit {index} out of range (the patient has {n})")
        self.index = index
        vc = self.result.visits[index]
        details = {}
        for s in vc.evidence.muscles:
            f = s.finding
            bits = [f"MRC {f.mrc}"] if f.mrc else []
            if f.wasting and f.wasting != "none":
                bits.append(f"wasting {f.wasting}")
            if s.umn_reason:
                bits.append(s.umn_reason)
            if bits:
                details[s.key] = ", ".join(bits)
        self._clear_markers()
        self._draw_markers(marker_states(vc, self._catalogue), details)
        self._outline_umn_regions(region_umn(vc))
        self.slider_label.setText(f"{vc.date.isoformat()}  ({index + 1} of {n})")
        self.title.setText(f"Body map · {self.case.patient.display_name} ({self.case.patient.id}) · "
                           f"visit {vc.date.isoformat()}")
        if self.slider.value() != index:
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        self.visit_changed.emit(index)

    def _outline_umn_regions(self, umn: dict[str, str]) -> None:
        """A region with UMN evidence (a Hoffmann sign, a brisk reflex: no single muscle) is
        outlined in the UMN colour, so the map agrees with the region table."""
        pen = QPen(QColor(self._map.states["umn"].fill), 2.2, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        for region, items in self.zone_items.items():
            for item in items:
                item.setPen(pen if region in umn else QPen(Qt.PenStyle.NoPen))
                item.setToolTip(f"{region.capitalize()}: {umn[region]}" if region in umn else "")
        self.umn_regions = dict(umn)

    def _slider_moved(self, value: int) -> None:
        self.set_visit(value)
