"""The scatter's axes: pyqtgraph's tick layout, cheap enough to redo at every frame of a drag.

pyqtgraph's `AxisItem` rebuilds its layout at every range change (a Python loop with a `Point`, a pen copy and
a device mapping per tick), measures every label with ``QPainter.boundingRect``, lays it out with ``drawText``
into a ``QPicture`` and plays that: 1.6–2 ms per axis per frame, for a scatter being panned about as costly as
drawing a million points. `FastAxis` computes the same layout with a short loop, measures each distinct label
once (a cache keyed by font and text), draws the labels as cached ``QStaticText`` (glyph layout done once) and the
ticks with one ``drawLines`` per level, straight onto the scene. Exports draw the same way, so a PNG matches the
screen pixel for pixel; on vector devices (SVG, PDF) Qt draws static text as ordinary text, so the labels stay
text. Settings the lean layout does not cover go through pyqtgraph's own path.
"""

from __future__ import annotations

from collections import OrderedDict

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPicture, QStaticText

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
    """An `AxisItem` that lays out and draws its ticks from caches (same look, a fraction of the cost).

    The layout is pyqtgraph's (tick levels from ``tickValues``, labels from ``tickStrings``, the same tick
    lengths, alphas, text offsets and crowding limits) for the plain case the scatter uses: a left or bottom
    axis without grid lines or fixed ticks. Anything else goes through pyqtgraph's own code.
    """

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        # labels of changing width ("3.5", "-12.25") would resize the axis, and so the plot, while panning:
        # a relayout and a second paint per frame; the text space only grows (figures reset it, see headless)
        self.setStyle(autoReduceTextSpace=False)
        self._measured: OrderedDict = OrderedDict()
        self._static: OrderedDict[tuple[str, str], QStaticText] = OrderedDict()
        self._pens: dict[tuple, QPen] = {}
        self._layout: tuple | None = None

    def _lean(self) -> bool:
        """Whether the fast layout covers this axis's settings."""
        return (self.orientation in ("left", "bottom") and self.grid is False and self._tickLevels is None
                and self.style["tickAlpha"] is None and self.style["stopAxisAtTick"] == (False, False))

    def paint(self, p: QPainter, opt=None, widget=None) -> None:
        if not self._lean():
            self._layout = None
            super().paint(p, opt, widget)
            return
        if self.style["tickFont"]:
            p.setFont(self.style["tickFont"])
        if self.picture is None or self._layout is None:
            self._layout = self._lay_out(p)
            self.picture = _PAINTED
        if self._layout is None:
            return
        axis_pen, axis_line, ticks, texts = self._layout
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        p.setPen(axis_pen)
        p.drawLine(axis_line)
        for pen, lines in ticks:
            p.setPen(pen)
            p.drawLines(lines)
        p.setPen(self.textPen())
        p.setClipRect(self.boundingRect().toAlignedRect())
        for corner, static in texts:
            p.drawStaticText(corner, static)

    def _tick_pen(self, level: int) -> QPen:
        base = self.tickPen()
        key = (level, base.color().rgba(), base.widthF(), base.style().value, base.brush().style().value)
        pen = self._pens.get(key)
        if pen is None:
            pen = QPen(base)
            if base.brush().style() == Qt.BrushStyle.SolidPattern:
                color = QColor(base.color())
                color.setAlpha(int(255 / (level + 1)))
                pen.setColor(color)
            self._pens[key] = pen
        return pen

    def _lay_out(self, p: QPainter) -> tuple | None:
        """(axis pen, axis line, [(tick pen, lines)], [(text corner, static text)]) for the current range."""
        bounds = self.mapRectFromParent(self.geometry())
        left = self.orientation == "left"
        lo, hi = self.range
        length = bounds.height() if left else bounds.width()
        if length <= 0 or hi == lo:
            return None
        if left:
            line = QLineF(bounds.right() - 1.0, bounds.top() - 1.0, bounds.right() - 1.0, bounds.bottom() + 1.0)
            tick_stop, direction = bounds.right(), -1.0
            scale = -bounds.height() / (hi - lo)
            shift = lo * scale - bounds.height()
        else:
            line = QLineF(bounds.left() - 1.0, bounds.top() + 1.0, bounds.right() + 1.0, bounds.top() + 1.0)
            tick_stop, direction = bounds.top(), 1.0
            scale = bounds.width() / (hi - lo)
            shift = lo * scale
        ends = sorted((lo * scale - shift, hi * scale - shift))
        levels = self.tickValues(lo, hi, length)  # the axis is never scaled: item units are view pixels
        tick_length = self.style["tickLength"]
        ticks, positions = [], []
        for i, (_spacing, values) in enumerate(levels):
            reach = tick_stop + tick_length / (i * 0.5 + 1.0) * direction
            where = [v * scale - shift for v in values]
            where = [x if ends[0] <= x <= ends[1] else None for x in where]
            positions.append(where)
            if left:
                lines = [QLineF(tick_stop, x, reach, x) for x in where if x is not None]
            else:
                lines = [QLineF(x, tick_stop, x, reach) for x in where if x is not None]
            if lines:  # (PySide crashes on drawLines of an empty list)
                ticks.append((self._tick_pen(i), lines))
        texts = self._texts(p, levels, positions, bounds, tick_stop, left, length) if self.style["showValues"] else []
        return self.pen(), line, ticks, texts

    def _texts(self, p: QPainter, levels, positions, bounds: QRectF, tick_stop: float, left: bool,
               length: float) -> list[tuple[QPointF, QStaticText]]:
        measure = _MeasuringPainter(p, self._measured)
        font = p.font()
        font_key = font.key()
        offset = max(0, self.style["tickLength"]) + self.style["tickTextOffset"][0 if left else 1]
        box = self.boundingRect()
        texts, rects_so_far, last_size2 = [], [], 0.0
        for i in range(min(len(levels), self.style["maxTextLevel"] + 1)):
            spacing, values = levels[i]
            strings = self.tickStrings(values, self.autoSIPrefixScale * self.scale, spacing)
            shown = [(x, s) for x, s in zip(positions[i], strings, strict=False) if x is not None and s]
            if not shown:
                continue
            rects = []
            for _x, text in shown:
                r = measure.boundingRect(QRectF(0, 0, 100, 100), Qt.AlignmentFlag.AlignCenter, text)
                r.setHeight(r.height() * 0.8)
                rects.append(r)
            rects_so_far += rects
            along = sum(r.height() if left else r.width() for r in rects_so_far)
            size2 = max(r.width() if left else r.height() for r in rects_so_far)
            if i > 0 and any(len(texts) >= n and along / length >= limit for n, limit in self.style["textFillLimits"]):
                break
            last_size2 = size2
            for (x, text), r in zip(shown, rects, strict=True):
                w, h = r.width(), r.height()
                if left:
                    rect = QRectF(tick_stop - offset - w, x - h / 2, w, h)
                    flags = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                else:
                    rect = QRectF(x - w / 2, tick_stop + offset, w, h)
                    flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                if box & rect != rect:
                    continue
                static = self._static_text(font_key, text, font)
                size = static.size()
                texts.append((_aligned(rect, flags.value, size.width(), size.height()), static))
        self._updateMaxTextSize(last_size2)
        return texts

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
