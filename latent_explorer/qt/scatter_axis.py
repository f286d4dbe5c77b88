"""The scatter's axes: pyqtgraph's tick layout, cheap enough to redo at every frame of a drag.

pyqtgraph's `AxisItem` measures every tick label with ``QPainter.boundingRect`` and lays it out with ``drawText``
into a ``QPicture`` that it then plays, at every range change; for a scatter being panned that was about as
costly as drawing a million points. `FastAxis` keeps the same layout (it runs pyqtgraph's own
``generateDrawSpecs``) but measures each distinct label once (a cache keyed by font and text), draws the labels as
cached ``QStaticText`` (their glyph layout done once) and paints straight onto the scene, without the picture.
Exports (``setExportMode``) go through pyqtgraph's own path, so vector output keeps real text.
"""

from __future__ import annotations

from collections import OrderedDict

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QPainter, QPicture, QStaticText

MAX_CACHED_LABELS = 512
_PAINTED = QPicture()  # stands in AxisItem.picture for "specs are current"; pyqtgraph sets None to invalidate


class _MeasuringPainter:
    """What ``generateDrawSpecs`` uses of a painter, with text measurements served from a cache."""

    def __init__(self, painter: QPainter, cache: OrderedDict):
        self._painter = painter
        self._cache = cache
        self._font = painter.font().key()

    def setFont(self, font: QFont) -> None:  # noqa: N802 - Qt name
        self._painter.setFont(font)
        self._font = font.key()

    def boundingRect(self, rect: QRectF, flags, text: str) -> QRectF:  # noqa: N802 - Qt name
        key = (self._font, rect.width(), rect.height(), int(flags), text)
        found = self._cache.get(key)
        if found is None:
            found = self._painter.boundingRect(rect, flags, text)
            self._cache[key] = found
            if len(self._cache) > MAX_CACHED_LABELS:
                self._cache.popitem(last=False)
        return QRectF(found)

    def __getattr__(self, name: str):
        return getattr(self._painter, name)


class FastAxis(pg.AxisItem):
    """An `AxisItem` that lays out and draws its tick labels from caches (same look, a fraction of the cost)."""

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        # labels of changing width ("3.5", "-12.25") would resize the axis, and so the plot, while panning:
        # a relayout and a second paint per frame; the text space only grows (figures reset it, see headless)
        self.setStyle(autoReduceTextSpace=False)
        self._measured: OrderedDict = OrderedDict()
        self._static: OrderedDict[tuple[str, str], QStaticText] = OrderedDict()
        self._specs = None

    def paint(self, p: QPainter, opt=None, widget=None) -> None:
        if self._exportOpts is not False:
            super().paint(p, opt, widget)
            return
        if self.style["tickFont"]:
            p.setFont(self.style["tickFont"])
        if self.picture is None or self._specs is None:
            self._specs = self.generateDrawSpecs(_MeasuringPainter(p, self._measured))
            self.picture = _PAINTED
        if self._specs is None:
            return
        axis_spec, tick_specs, text_specs = self._specs
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        pen, p1, p2 = axis_spec
        p.setPen(pen)
        p.drawLine(p1, p2)
        for pen, p1, p2 in tick_specs:
            p.setPen(pen)
            p.drawLine(p1, p2)
        p.setPen(self.textPen())
        p.setClipRect(self.boundingRect().toAlignedRect())
        font = p.font().key()
        for rect, flags, text in text_specs:
            static = self._static_text(font, text, p.font())
            size = static.size()
            p.drawStaticText(_aligned(rect, int(flags), size.width(), size.height()), static)

    def _static_text(self, font_key: str, text: str, font: QFont) -> QStaticText:
        key = (font_key, text)
        static = self._static.get(key)
        if static is None:
            static = QStaticText(text)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(font=font)
            self._static[key] = static
            if len(self._static) > MAX_CACHED_LABELS:
                self._static.popitem(last=False)
        return static


def _aligned(rect: QRectF, flags: int, width: float, height: float) -> QPointF:
    """Top-left corner of a ``width`` × ``height`` text placed in ``rect`` as ``drawText`` would with ``flags``."""
    if flags & Qt.AlignmentFlag.AlignRight.value:
        x = rect.right() - width
    elif flags & Qt.AlignmentFlag.AlignHCenter.value:
        x = rect.center().x() - width / 2
    else:
        x = rect.left()
    if flags & Qt.AlignmentFlag.AlignBottom.value:
        y = rect.bottom() - height
    elif flags & Qt.AlignmentFlag.AlignVCenter.value:
        y = rect.center().y() - height / 2
    else:
        y = rect.top()
    return QPointF(x, y)
