"""Paths on the scatter: one overlay item that draws every path and takes the mouse for them.

`PathOverlay` is a child of the scatter's ViewBox and paints in the ViewBox's pixel coordinates, so lines and
handles stay crisp at any zoom. Its *shape* decides which presses it takes from the ViewBox: the vertex handles of
editable paths always (drag a vertex whatever the scatter's tool), and the whole plot while the drawing tool is
on — press-drag draws freehand, clicks place vertices, a double-click finishes. Right-drag zoom, wheel zoom and
the context menu still reach the ViewBox while drawing. What the gestures mean is left to the owner: the item
emits `sigFinished` with the drawn vertices and `sigVertexMoved` while a vertex is dragged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF

from latent_explorer.core.interpolation import simplify_indices

HANDLE_PX = 7.0  # side of a vertex handle
GRAB_PX = 9.0  # how near a press must be to a handle to drag it
FREEHAND_STEP_PX = 3.0  # a freehand stroke records a point every few pixels
SIMPLIFY_PX = 1.5  # then keeps the vertices its shape needs, to this many pixels
OVERLAY_Z = 1000.0
HIGHLIGHT_COLOUR = (255, 179, 0)  # amber: the decoder's "current z" star is cyan, the selected point's red
PATH_COLOURS = ((17, 17, 17), (216, 27, 96), (30, 136, 229), (251, 140, 0), (67, 160, 71), (142, 36, 170),
                (0, 137, 123), (109, 76, 65))


@dataclass
class PathShape:
    """How one path looks in the current view."""

    uid: int
    name: str
    colour: tuple[int, int, int]
    line: np.ndarray  # (k, 2) data coordinates of the line drawn in this view
    dots: np.ndarray | None = None  # (k, 2) the resampled points the frames come from (shown when selected)
    vertices: np.ndarray | None = None  # (m, 2) editable vertices (the view the path was drawn on), else None
    start_snapped: bool = False
    end_snapped: bool = False
    selected: bool = False
    approximate: bool = False  # placed through a map's nearest codes: drawn dashed


def view_to_pixels(transform, xy: np.ndarray) -> np.ndarray:
    """Data coordinates → ViewBox pixel coordinates with the ViewBox's child transform (vectorised)."""
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    x, y = xy[:, 0], xy[:, 1]
    return np.column_stack([transform.m11() * x + transform.m21() * y + transform.m31(),
                            transform.m12() * x + transform.m22() * y + transform.m32()])


def _polylines(px: np.ndarray) -> list[QPolygonF]:
    """One polygon per run of finite points (NaN rows break the line)."""
    finite = np.isfinite(px).all(axis=1)
    runs, current = [], []
    for ok, (x, y) in zip(finite, px, strict=True):
        if ok:
            current.append(QPointF(float(x), float(y)))
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return [QPolygonF(run) for run in runs if len(run) > 1]


class PathOverlay(pg.GraphicsObject):
    """Draws the paths and the path being drawn; takes presses on vertex handles, and every press while drawing."""

    sigFinished = Signal(object)  # (m, 2) vertices in data coordinates
    sigDrawingChanged = Signal(bool)
    sigProgress = Signal(int)  # vertices of the path being drawn
    sigVertexMoved = Signal(int, int, object, bool)  # path uid, vertex index, (x, y) data, finished

    def __init__(self, view_box: pg.ViewBox):
        super().__init__()
        self.view_box = view_box
        self.setParentItem(view_box)
        self.setZValue(OVERLAY_Z)
        self.shapes: list[PathShape] = []
        self._drawing = False
        self._vertices: list[tuple[float, float]] = []
        self._stroke: list[tuple[float, float]] | None = None  # a freehand stroke in progress (data coordinates)
        self._stroke_opened_path = False
        self._cursor: QPointF | None = None  # ViewBox pixels, for the rubber band
        self._drag: tuple[int, int] | None = None  # (uid, vertex) being dragged
        self.highlight: tuple[float, float] | None = None  # the strip's frame under the mouse (or playing)
        self._rect = QRectF(view_box.boundingRect())
        view_box.sigResized.connect(self._on_resized)
        view_box.sigTransformChanged.connect(lambda *_: self.update())

    # ------------------------------------------------------------------ what is shown
    def set_shapes(self, shapes: list[PathShape]) -> None:
        self.shapes = list(shapes)
        self.update()

    def set_highlight(self, xy: tuple[float, float] | None) -> None:
        """Ring the point of the path whose frame is hovered or played (None removes the ring)."""
        if xy != self.highlight:
            self.highlight = None if xy is None else (float(xy[0]), float(xy[1]))
            self.update()

    @property
    def drawing(self) -> bool:
        return self._drawing

    @property
    def in_progress(self) -> np.ndarray:
        """The vertices placed so far (with a freehand stroke in progress), (m, 2) data coordinates."""
        points = self._vertices + (self._stroke or [])
        return np.asarray(points, np.float64).reshape(-1, 2)

    def set_drawing(self, on: bool) -> None:
        """Switch the drawing tool; switching it off drops a path in progress."""
        on = bool(on)
        self._vertices, self._stroke, self._cursor = [], None, None
        if on != self._drawing:
            self._drawing = on
            self.sigDrawingChanged.emit(on)
        self.update()

    def add_vertex(self, x: float, y: float) -> None:
        self._vertices.append((float(x), float(y)))
        self.sigProgress.emit(len(self._vertices))
        self.update()

    def remove_last_vertex(self) -> bool:
        if not self._vertices:
            return False
        self._vertices.pop()
        self.sigProgress.emit(len(self._vertices))
        self.update()
        return True

    def cancel(self) -> bool:
        """Drop the path in progress; False when there was none."""
        had = bool(self._vertices or self._stroke)
        self._vertices, self._stroke = [], None
        self.sigProgress.emit(0)
        self.update()
        return had

    def finish(self) -> bool:
        """Hand the path in progress over (`sigFinished`); False if it is too short to be a path."""
        vertices = self.in_progress
        if len(vertices) >= 2:
            keep = np.concatenate([[True], np.any(np.diff(vertices, axis=0) != 0, axis=1)])
            vertices = vertices[keep]
        if len(vertices) < 2:
            return False
        self._vertices, self._stroke = [], None
        self.sigProgress.emit(0)
        self.update()
        self.sigFinished.emit(vertices)
        return True

    # ------------------------------------------------------------------ geometry
    def _on_resized(self, *_) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(self.view_box.boundingRect())
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt name
        return self._rect

    def _pixels(self, xy: np.ndarray) -> np.ndarray:
        return view_to_pixels(self.view_box.childGroup.transform(), xy)

    def _to_data(self, pos: QPointF) -> tuple[float, float]:
        here = self.view_box.mapToView(pos)
        return float(here.x()), float(here.y())

    def _editable(self) -> list[PathShape]:
        return [s for s in self.shapes if s.vertices is not None and len(s.vertices)]

    def shape(self) -> QPainterPath:
        """What takes the mouse: the whole plot while drawing, else the vertex handles only."""
        path = QPainterPath()
        if self._drawing:
            path.addRect(self._rect)
            return path
        for item in self._editable():
            for x, y in self._pixels(item.vertices):
                if np.isfinite(x) and np.isfinite(y):
                    path.addRect(QRectF(x - GRAB_PX, y - GRAB_PX, 2 * GRAB_PX, 2 * GRAB_PX))
        return path

    def handle_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(path uid, vertex index) of the handle nearest to ``pos`` (ViewBox pixels) within reach; selected first."""
        best, best_d = None, GRAB_PX * np.sqrt(2.0)
        for item in sorted(self._editable(), key=lambda s: not s.selected):
            px = self._pixels(item.vertices)
            d = np.hypot(px[:, 0] - pos.x(), px[:, 1] - pos.y())
            if len(d) and np.nanmin(d) < best_d:
                best, best_d = (item.uid, int(np.nanargmin(d))), float(np.nanmin(d)) - 1e-9
        return best

    # ------------------------------------------------------------------ mouse
    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph name
        if ev.button() != Qt.MouseButton.LeftButton or not self._drawing:
            ev.ignore()
            return
        ev.accept()
        if ev.double():
            self.finish()
        else:
            self.add_vertex(*self._to_data(ev.pos()))

    def mouseDragEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph name
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._drag = None if self._drawing else self.handle_at(ev.buttonDownPos())
            if self._drag is None and not self._drawing:
                ev.ignore()
                return
            if self._drawing:
                self._stroke_opened_path = not self._vertices
                self._stroke = [self._to_data(ev.buttonDownPos())]
        ev.accept()
        here = self._to_data(ev.pos())
        if self._drag is not None:
            uid, vertex = self._drag
            self._move_local(uid, vertex, here)
            if ev.isFinish():
                self._drag = None
            self.sigVertexMoved.emit(uid, vertex, here, bool(ev.isFinish()))
            return
        if self._stroke is None:  # the tool was switched off mid-stroke
            return
        self._extend_stroke(here)
        self._cursor = ev.pos()
        if ev.isFinish():
            self._end_stroke()
        self.update()

    def _extend_stroke(self, here: tuple[float, float]) -> None:
        last = self._pixels(np.asarray([self._stroke[-1]]))[0]
        now = self._pixels(np.asarray([here]))[0]
        if np.hypot(*(now - last)) >= FREEHAND_STEP_PX:
            self._stroke.append(here)

    def _end_stroke(self) -> None:
        stroke = np.asarray(self._stroke, np.float64)
        self._stroke = None
        if len(stroke) > 2:  # a few draggable vertices that keep the stroke's shape on screen
            stroke = stroke[simplify_indices(self._pixels(stroke), SIMPLIFY_PX)]
        self._vertices.extend((float(x), float(y)) for x, y in stroke)
        self.sigProgress.emit(len(self._vertices))
        if self._stroke_opened_path:  # a stroke on an empty canvas is the whole path
            self.finish()

    def _move_local(self, uid: int, vertex: int, xy: tuple[float, float]) -> None:
        """Move the handle at once, before the owner answers with new shapes."""
        for item in self.shapes:
            if item.uid == uid and item.vertices is not None and 0 <= vertex < len(item.vertices):
                item.vertices = item.vertices.copy()
                item.vertices[vertex] = xy
        self.update()

    def hoverEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph name
        if ev.isExit():
            self._cursor = None
            self.unsetCursor()
            self.update()
            return
        if self._drawing:
            ev.acceptClicks(Qt.MouseButton.LeftButton)
            ev.acceptDrags(Qt.MouseButton.LeftButton)
            self._cursor = ev.pos()
            self.update()
        elif self.handle_at(ev.pos()) is not None:
            ev.acceptDrags(Qt.MouseButton.LeftButton)
            self.setCursor(Qt.CursorShape.SizeAllCursor)
        else:
            self.unsetCursor()

    # ------------------------------------------------------------------ painting
    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for item in sorted(self.shapes, key=lambda s: s.selected):
            self._paint_path(painter, item)
        if self._drawing:
            self._paint_in_progress(painter)
        if self.highlight is not None:
            x, y = self._pixels(np.asarray([self.highlight]))[0]
            if np.isfinite(x) and np.isfinite(y):
                painter.setBrush(QBrush(QColor(*HIGHLIGHT_COLOUR, 150)))
                painter.setPen(QPen(QColor(20, 20, 20), 1.5))
                painter.drawEllipse(QPointF(x, y), 7.0, 7.0)

    def _paint_path(self, painter: QPainter, item: PathShape) -> None:
        colour = QColor(*item.colour)
        px = self._pixels(item.line)
        width = 3.0 if item.selected else 2.0
        halo = QPen(QColor(255, 255, 255, 220), width + 3.0)
        line = QPen(colour, width)
        line.setCapStyle(Qt.PenCapStyle.RoundCap)
        if item.approximate:
            line.setStyle(Qt.PenStyle.DashLine)
        for poly in _polylines(px):
            painter.setPen(halo)
            painter.drawPolyline(poly)
            painter.setPen(line)
            painter.drawPolyline(poly)
        finite = px[np.isfinite(px).all(axis=1)]
        if not len(finite):
            return
        if item.selected and item.dots is not None:  # the resampled points: where the strip's frames come from
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(colour))
            dots = self._pixels(item.dots)
            for x, y in dots[np.isfinite(dots).all(axis=1)]:
                painter.drawEllipse(QPointF(x, y), 1.6, 1.6)
        ends = self._pixels(item.vertices[[0, -1]]) if item.vertices is not None else finite[[0, -1]]
        for (x, y), snapped, is_start in ((ends[0], item.start_snapped, True), (ends[1], item.end_snapped, False)):
            painter.setPen(QPen(QColor(0, 0, 0) if snapped else QColor(255, 255, 255), 1.5))
            painter.setBrush(QBrush(colour))
            if is_start:
                painter.drawEllipse(QPointF(x, y), 5.0, 5.0)
            else:
                painter.drawRect(QRectF(x - 4.5, y - 4.5, 9.0, 9.0))
        if item.vertices is not None:
            painter.setPen(QPen(colour, 1.5))
            painter.setBrush(QBrush(colour if item.selected else QColor(255, 255, 255)))
            half = HANDLE_PX / 2
            for x, y in self._pixels(item.vertices[1:-1]):
                painter.drawRect(QRectF(x - half, y - half, HANDLE_PX, HANDLE_PX))
        font = QFont(painter.font())
        font.setPixelSize(11)
        font.setBold(item.selected)
        painter.setFont(font)
        x, y = ends[0]
        label = item.name + (" (approx.)" if item.approximate else "")
        painter.setPen(QPen(QColor(255, 255, 255), 3))
        painter.drawText(QPointF(x + 8, y - 8), label)  # a light outline keeps the name readable over points
        painter.setPen(QPen(colour))
        painter.drawText(QPointF(x + 8, y - 8), label)

    def _paint_in_progress(self, painter: QPainter) -> None:
        points = self.in_progress
        px = self._pixels(points) if len(points) else np.zeros((0, 2))
        pen = QPen(QColor(20, 20, 20), 2.0)
        painter.setPen(pen)
        for poly in _polylines(px):
            painter.drawPolyline(poly)
        if len(px) and self._cursor is not None and self._stroke is None:
            band = QPen(QColor(20, 20, 20), 1.2, Qt.PenStyle.DashLine)
            painter.setPen(band)
            painter.drawLine(QPointF(*px[-1]), self._cursor)
        painter.setPen(QPen(QColor(20, 20, 20), 1.2))
        painter.setBrush(QBrush(QColor(255, 255, 255)))
        half = HANDLE_PX / 2
        for x, y in (self._pixels(np.asarray(self._vertices)) if self._vertices else []):
            painter.drawRect(QRectF(x - half, y - half, HANDLE_PX, HANDLE_PX))
