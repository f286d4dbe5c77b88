"""A pyqtgraph item that draws a whole point cloud as one image rasterised at device resolution.

Each paint maps the visible data rectangle to device pixels through the painter's device transform, asks
`core.splat.Rasterizer` for an ARGB32 frame of exactly that size, written straight into an image kept between
frames of the same size, and draws it with the painter transform reset, so points stay crisp dots of a fixed
pixel size at any zoom and on high-DPI screens. The frame is cached until the view, the data or the style changes
(hover markers and overlays repaint for free). Making the first item starts compiling the rasteriser's numba
kernels in a worker thread, where numba is installed (`core.splat_jit`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter

from latent_explorer.core import splat_jit
from latent_explorer.core.splat import (
    Layer,
    PixelMap,
    Rasterizer,
    SortedPoints,
    disc_stamp,
    key_lut,
)

MAX_FRAME_SIDE = 16384  # device pixels; a larger view (huge exports) is drawn at the clipped size


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

    def paint(self, painter: QPainter, option=None, widget=None) -> None:
        if self.points is None or not self._layers_now():
            return
        view = self.getViewBox()
        if view is None:
            return
        device = painter.deviceTransform()
        if abs(device.m12()) > 1e-12 or abs(device.m21()) > 1e-12:
            return  # rotated views are not supported: a scatter plot is never rotated
        painter.save()
        painter.resetTransform()
        # what is left maps logical to device pixels: the screen's pixel ratio, and the offset of this view
        # inside a parent widget when the whole window is grabbed
        base = painter.deviceTransform()
        ratio = abs(base.m11()) or 1.0
        rect = device.mapRect(view.viewRect()).normalized()
        x0, y0 = math.floor(rect.left()), math.floor(rect.top())
        width = min(math.ceil(rect.right()) - x0, MAX_FRAME_SIDE)
        height = min(math.ceil(rect.bottom()) - y0, MAX_FRAME_SIDE)
        if width <= 0 or height <= 0:
            painter.restore()
            return
        cx, cy = self.points.center
        pixel_map = PixelMap(width, height, ax=device.m11(), bx=device.m11() * cx + device.dx() - x0,
                             ay=device.m22(), by=device.m22() * cy + device.dy() - y0)
        key = (pixel_map, x0, y0, ratio, self._version)
        if key != self._cache_key or self._frame is None:
            self._frame = self._render(pixel_map, ratio)
            self._cache_key = key
        self._frame.setDevicePixelRatio(ratio)
        painter.drawImage(base.inverted()[0].map(QPointF(x0, y0)), self._frame)
        painter.restore()

    def _frame_image(self, width: int, height: int) -> QImage:
        """The image frames are drawn into, kept while the view keeps its size (no allocation per frame)."""
        image = self._image
        if image is None or image.width() != width or image.height() != height:
            image = self._image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        return image

    def _render(self, pixel_map: PixelMap, ratio: float) -> QImage:
        """One frame; the point size is in logical pixels, so the dot is ``ratio`` times wider on the device."""
        start = time.perf_counter()
        diameter = max(1, int(round(self.point_size * ratio)))
        if self._stamp.shape[0] != diameter:
            self._stamp = disc_stamp(diameter)
        if self.density:
            argb = self._rasterizer.render_density(self.layers, pixel_map, self._stamp, self.opacity)
            image = pg.functions.ndarray_to_qimage(argb, QImage.Format.Format_ARGB32_Premultiplied)
        else:
            image = self._frame_image(pixel_map.width, pixel_map.height)
            # the frame is drawn straight into the image's own buffer (ARGB32 rows are whole words: no padding)
            out = np.frombuffer(image.bits(), np.uint32).reshape(pixel_map.height, pixel_map.width)
            self._rasterizer.render_into(self.layers, pixel_map, self._stamp, self._lut, self.opacity < 1, out)
        self.last_render_ms = (time.perf_counter() - start) * 1000.0
        return image
