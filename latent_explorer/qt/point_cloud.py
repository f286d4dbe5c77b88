"""A pyqtgraph item that draws a whole point cloud as one image rasterised at device resolution.

Each paint maps the visible data rectangle to device pixels through the painter's device transform, asks
`core.splat.Rasterizer` for an ARGB32 frame of exactly that size, written straight into an image kept between
frames of the same size, and draws it with the painter transform reset, so points stay crisp dots of a fixed
pixel size at any zoom and on high-DPI screens. On screen, where the plot's background is one opaque colour and
nothing lies under the cloud, that colour is composed into the frame by the colour table itself and the frame
is an opaque image (`backdrop`): Qt then copies it instead of blending a million pixels (0.4 ms against 1.1 ms
for a 1200 × 900 frame). Exports keep a transparent frame. The frame is cached until the view, the data or the
style changes (hover markers and overlays repaint for free). Making the first item starts compiling the
rasteriser's numba kernels in a worker thread, where numba is installed (`core.splat_jit`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsView

from latent_explorer.core import splat_jit
from latent_explorer.core.splat import (
    Layer,
    PixelMap,
    Rasterizer,
    SortedPoints,
    disc_stamp,
    key_lut,
    over_backdrop,
)

MAX_FRAME_SIDE = 16384  # device pixels; a larger view (huge exports) is drawn at the clipped size
EDGE_SLACK = 1e-3  # device pixels: a view edge this close to a whole pixel is taken as on it


class PointCloudItem(pg.GraphicsObject):
    """Millions of points as one image. Data coordinates are item coordinates (add it to a ViewBox)."""

    def __init__(self) -> None:
        super().__init__()
        self.points: SortedPoints | None = None
        self.layers: list[Layer] = []
        self.palette = np.zeros((256, 3), np.uint8)
        self.point_size = 3
        self.opacity = 1.0
        self.density = False
        self.last_render_ms = 0.0
        self._bounds = QRectF()
        self._rasterizer = Rasterizer()
        self._lut = key_lut(self.palette, self.opacity)
        self._stamp = disc_stamp(self.point_size)
        splat_jit.warm_up_in_background()
        self._version = 0
        self._cache_key: tuple | None = None
        self._frame: QImage | None = None
        self._image: QImage | None = None
        self._opaque_lut: tuple[int, int, np.ndarray] | None = None  # (backdrop, colour table id, table)
        self._promised: tuple[QRectF, int] | None = None  # what `opaque_cover` promised to cover, and over what
        self._layer_source: Callable[[], tuple[list[Layer], np.ndarray]] | None = None

    # ------------------------------------------------------------------ data and style
    def set_points(self, points: SortedPoints) -> None:
        """New coordinates; the bounds (what "view all" shows) follow the finite points."""
        self.prepareGeometryChange()
        self.points = points
        if len(points):
            (x0, y0), (x1, y1) = points.lo, points.hi
            w, h = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
            self._bounds = QRectF(float(x0), float(y0), float(w), float(h))
        else:
            self._bounds = QRectF()
        self.invalidate()

    def set_layer_source(self, source: Callable[[], tuple[list[Layer], np.ndarray]]) -> None:
        """What to draw, built when the next frame needs it: ``source()`` returns the layers and the palette.

        Styling calls that follow each other (new points, then their colours) then build the layers once.
        """
        self._layer_source = source
        self.invalidate()

    def _layers_now(self) -> list[Layer]:
        if self._layer_source is not None:
            source, self._layer_source = self._layer_source, None
            self.set_layers(*source())
        return self.layers

    def set_layers(self, layers: list[Layer], palette: np.ndarray) -> None:
        """What to draw (see `core.splat.build_layers`) and the (256, 3) colour of each slot."""
        self._layer_source = None
        self.layers = layers
        if not np.array_equal(palette, self.palette):
            self.palette = palette.copy()
            self._lut = key_lut(self.palette, self.opacity)
        self.invalidate()

    def set_point_size(self, px: float) -> None:
        self.prepareGeometryChange()  # pixelPadding changes
        self.point_size = max(1, int(round(px)))
        self._stamp = disc_stamp(self.point_size)
        self.invalidate()

    def set_opacity(self, alpha: float) -> None:
        self.opacity = float(np.clip(alpha, 0.02, 1.0))
        self._lut = key_lut(self.palette, self.opacity)
        self.invalidate()

    def set_density_mode(self, on: bool) -> None:
        self.density = bool(on)
        self.invalidate()

    def invalidate(self) -> None:
        """Drop the cached frame and schedule a repaint."""
        self._version += 1
        self._cache_key = None
        self.update()

    # ------------------------------------------------------------------ QGraphicsItem / pyqtgraph protocol
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt name
        return QRectF(self._bounds)

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):  # noqa: N802 - pyqtgraph name
        if self.points is None or not len(self.points):
            return None
        return float(self.points.lo[ax]), float(self.points.hi[ax])

    def pixelPadding(self) -> float:  # noqa: N802 - pyqtgraph name
        return self.point_size / 2.0 + 1.0

    def opaque_cover(self, widget) -> QRectF | None:
        """The scene rectangle the next paint on ``widget`` will cover with an opaque frame, or None: the view
        then need not paint its background there (see `qt.scatter_canvas.ScatterCanvas`). A promise: should the
        frame not be drawn after all, `paint` fills the rectangle with the background colour itself."""
        self._promised = None
        if not self.isVisible() or self.density or self.points is None or not len(self.points):
            return None
        view = self.getViewBox()
        backdrop = self.backdrop(widget) if view is not None else None
        if backdrop is None:
            return None
        ratio = widget.devicePixelRatioF() if widget is not None else 1.0
        rect = view.sceneBoundingRect()
        if max(rect.width(), rect.height()) * ratio >= MAX_FRAME_SIDE:
            return None
        # Qt paints an item only where its bounding rectangle meets the exposed area, so only that part is
        # promised (a view panned away from every point has the background painted as usual)
        rect = rect.intersected(self.sceneBoundingRect())
        if rect.isEmpty():
            return None
        self._promised = (rect, backdrop)
        return rect

    def paint(self, painter: QPainter, option=None, widget=None) -> None:
        promised, self._promised = self._promised, None
        # the backdrop found for the promise, in this same paint, serves the frame too
        backdrop = promised[1] if promised is not None else self.backdrop(widget)
        if not self._paint_frame(painter, backdrop) and promised is not None:
            painter.fillRect(self.mapRectFromScene(promised[0]), QColor.fromRgba(backdrop))

    def _paint_frame(self, painter: QPainter, backdrop: int | None) -> bool:
        """Draw the frame, opaque over ``backdrop`` where one is given; False where nothing was drawn."""
        if self.points is None or not self._layers_now():
            return False
        view = self.getViewBox()
        if view is None:
            return False
        device = painter.deviceTransform()
        if abs(device.m12()) > 1e-12 or abs(device.m21()) > 1e-12:
            return False  # rotated views are not supported: a scatter plot is never rotated
        painter.save()
        painter.resetTransform()
        # what is left maps logical to device pixels: the screen's pixel ratio, and the offset of this view
        # inside a parent widget when the whole window is grabbed
        base = painter.deviceTransform()
        ratio = abs(base.m11()) or 1.0
        rect = device.mapRect(view.viewRect()).normalized()
        # the view's edges are whole pixels give or take the rounding of the range's mapping (900.0000001): a
        # frame one pixel taller or wider every other range change would cost new buffers and a cleared canvas
        x0, y0 = math.floor(rect.left() + EDGE_SLACK), math.floor(rect.top() + EDGE_SLACK)
        width = min(math.ceil(rect.right() - EDGE_SLACK) - x0, MAX_FRAME_SIDE)
        height = min(math.ceil(rect.bottom() - EDGE_SLACK) - y0, MAX_FRAME_SIDE)
        if width <= 0 or height <= 0:
            painter.restore()
            return False
        cx, cy = self.points.center
        pixel_map = PixelMap(width, height, ax=device.m11(), bx=device.m11() * cx + device.dx() - x0,
                             ay=device.m22(), by=device.m22() * cy + device.dy() - y0)
        key = (pixel_map, x0, y0, ratio, self._version, backdrop)
        if key != self._cache_key or self._frame is None:
            self._frame = self._render(pixel_map, ratio, backdrop)
            self._cache_key = key
        self._frame.setDevicePixelRatio(ratio)
        painter.drawImage(base.inverted()[0].map(QPointF(x0, y0)), self._frame)
        painter.restore()
        return True

    def backdrop(self, widget) -> int | None:
        """The opaque colour (0xAARRGGBB) under the whole cloud when it is painted on screen: the view box's own
        background where shown, else the plot's; None where the frame must stay transparent (an export, a
        background with a pattern or transparency, or an item beneath the cloud)."""
        if widget is None:
            return None  # rendered to another device (an export): what is below must show through
        view = self.getViewBox()
        brush = _solid(view.background.brush()) if view is not None and view.background.isVisible() else None
        if brush is None:
            graphics_view = widget.parent()
            if not isinstance(graphics_view, QGraphicsView):
                return None
            brush = _solid(graphics_view.backgroundBrush())
            if brush is None:
                return None
        parent = self.parentItem()
        if parent is not None:
            z = self.zValue()
            for sibling in parent.childItems():
                if sibling is not self and sibling.isVisible() and sibling.zValue() < z:
                    return None
        return brush

    def _frame_image(self, width: int, height: int, opaque: bool) -> tuple[QImage, bool]:
        """The image frames are drawn into, kept while the view keeps its size and format (no allocation per
        frame), and whether it was kept (it then holds the last frame: only the rasteriser writes to it)."""
        image = self._image
        fmt = QImage.Format.Format_RGB32 if opaque else QImage.Format.Format_ARGB32_Premultiplied
        if image is None or image.width() != width or image.height() != height or image.format() != fmt:
            image = self._image = QImage(width, height, fmt)
            return image, False
        return image, True

    def _colour_table(self, backdrop: int | None) -> np.ndarray:
        """The colour table of the frame: transparent, or composed over the backdrop (made once per change)."""
        if backdrop is None:
            return self._lut
        cached = self._opaque_lut
        if cached is None or cached[0] != backdrop or cached[1] != id(self._lut):
            cached = self._opaque_lut = (backdrop, id(self._lut), over_backdrop(self._lut, backdrop))
        return cached[2]

    def _render(self, pixel_map: PixelMap, ratio: float, backdrop: int | None = None) -> QImage:
        """One frame; the point size is in logical pixels, so the dot is ``ratio`` times wider on the device."""
        start = time.perf_counter()
        diameter = max(1, int(round(self.point_size * ratio)))
        if self._stamp.shape[0] != diameter:
            self._stamp = disc_stamp(diameter)
        image, kept = self._frame_image(pixel_map.width, pixel_map.height, backdrop is not None and not self.density)
        # the frame is drawn straight into the image's own buffer (32-bit rows are whole words: no padding)
        out = np.frombuffer(image.bits(), np.uint32).reshape(pixel_map.height, pixel_map.width)
        if self.density:
            self._rasterizer.render_density_into(self.layers, pixel_map, self._stamp, self.opacity, out)
        else:
            self._rasterizer.render_into(self.layers, pixel_map, self._stamp, self._colour_table(backdrop),
                                         self.opacity < 1, out, kept=kept)
        self.last_render_ms = (time.perf_counter() - start) * 1000.0
        return image


def _solid(brush: QBrush) -> int | None:
    """A brush's colour as 0xAARRGGBB if it is one opaque colour, else None."""
    if brush.style() != Qt.BrushStyle.SolidPattern or brush.color().alpha() != 255:
        return None
    return int(brush.color().rgba())
