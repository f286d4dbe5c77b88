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

import math
from collections import OrderedDict

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QPicture, QStaticText

MAX_CACHED_LABELS = 512
LABEL_BATCH = 8  # tick labels formatted at a time (a level is given up as soon as its labels crowd the axis)
_NUMERIC = frozenset("0123456789.-+e\u2212")  # what tick labels of a linear axis are made of
_PAINTED = QPicture()  # stands in AxisItem.picture for "specs are current"; pyqtgraph sets None to invalidate


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
        self._sizes: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self._static: OrderedDict[tuple[str, str], QStaticText] = OrderedDict()
        self._metrics: dict[str, tuple[QFontMetricsF, dict[str, float]]] = {}
        self._pens: dict[int, QPen] = {}  # the tick pen of each level, made from `_pens_now`'s tick pen
        self._pen_cache: tuple | None = None
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
        axis_pen, axis_line, ticks, texts, text_pen, clip = self._layout
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        p.setPen(axis_pen)
        p.drawLine(axis_line)
        for pen, lines in ticks:
            p.setPen(pen)
            p.drawLines(lines)
        p.setPen(text_pen)
        p.setClipRect(clip)
        for corner, static in texts:
            p.drawStaticText(corner, static)

    def _pens_now(self) -> tuple[QPen, QPen, QPen]:
        """(axis pen, tick pen, text pen): pyqtgraph makes a new QPen at every call of `pen`, `tickPen` and
        `textPen`; they are made again only when a pen or the foreground option was set anew (pyqtgraph's
        setters replace the pen objects, never change them)."""
        sources = (self._pen, self._tickPen, self._textPen, pg.getConfigOption("foreground"))
        cached = self._pen_cache
        if cached is None or any(a is not b for a, b in zip(cached[0], sources, strict=True)):
            cached = self._pen_cache = (sources, (self.pen(), self.tickPen(), self.textPen()))
            self._pens = {}  # the levels' tick pens follow the new tick pen
        return cached[1]

    def _tick_pen(self, level: int) -> QPen:
        """The tick pen of a level (pyqtgraph fades finer levels), made once per tick pen."""
        base = self._pens_now()[1]
        pen = self._pens.get(level)
        if pen is None:
            pen = QPen(base)
            if base.brush().style() == Qt.BrushStyle.SolidPattern:
                color = QColor(base.color())
                color.setAlpha(int(255 / (level + 1)))
                pen.setColor(color)
            self._pens[level] = pen
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
        levels = self._tick_values(lo, hi, length)  # the axis is never scaled: item units are view pixels
        tick_length = self.style["tickLength"]
        ticks, positions = [], []
        first_end, last_end = ends
        for i, (_spacing, values) in enumerate(levels):
            reach = tick_stop + tick_length / (i * 0.5 + 1.0) * direction
            where = [x if first_end <= x <= last_end else None for x in [v * scale - shift for v in values]]
            positions.append(where)
            if left:
                lines = [QLineF(tick_stop, x, reach, x) for x in where if x is not None]
            else:
                lines = [QLineF(x, tick_stop, x, reach) for x in where if x is not None]
            if lines:  # (PySide crashes on drawLines of an empty list)
                ticks.append((self._tick_pen(i), lines))
        box = self.boundingRect()
        texts = self._texts(p, levels, positions, box, tick_stop, left, length) if self.style["showValues"] else []
        axis_pen, _tick_pen, text_pen = self._pens_now()
        return axis_pen, line, ticks, texts, text_pen, box.toAlignedRect()

    def _tick_values(self, lo: float, hi: float, length: float) -> list[tuple[float, list[float]]]:
        """pyqtgraph's ``tickValues`` for a plain linear axis, in plain Python (its numpy version builds arrays
        and an ``isclose`` matrix per level: most of a layout's cost for a dozen ticks)."""
        if self.logMode or self.scale != 1 or self._tickSpacing is not None:
            return self.tickValues(lo, hi, length)
        lo, hi = min(lo, hi), max(lo, hi)
        levels, coarser = [], []
        for spacing, offset in self.tickSpacing(lo, hi, length):
            first = math.ceil((lo - offset) / spacing)
            start = first * spacing + offset
            steps = range(int((hi - start) / spacing) + 1)
            # pyqtgraph drops a tick within 1 % of a spacing of a coarser level's tick; where the coarser spacing
            # is a whole multiple m of this one (and both offsets 0) those are the ticks whose index k is a
            # multiple of m: an integer test instead of a float comparison per tick and level
            multiples = [round(c / spacing) for c, o in coarser
                         if o == 0 and offset == 0 and abs(c / spacing - round(c / spacing)) < 1e-6]
            others = [(c, o) for c, o in coarser
                      if not (o == 0 and offset == 0 and abs(c / spacing - round(c / spacing)) < 1e-6)]
            if not multiples:
                values = [start + j * spacing for j in steps]
            elif all(m % multiples[-1] == 0 for m in multiples):
                # nested levels (each coarser spacing a multiple of the next finer one, as pyqtgraph's are):
                # a multiple of a coarser level's m is a multiple of the finest coarser level's m, one test
                m = multiples[-1]
                values = [start + j * spacing for j in steps if (first + j) % m]
            else:
                values = [start + j * spacing for j in steps if not any((first + j) % m == 0 for m in multiples)]
            if others:
                tolerance = spacing * 0.01
                values = [v for v in values
                          if not any(abs(v - (round((v - o) / c) * c + o)) <= tolerance for c, o in others)]
            coarser.append((spacing, offset))
            levels.append((spacing, values))
        return levels

    def _texts(self, p: QPainter, levels, positions, box: QRectF, tick_stop: float, left: bool,
               length: float) -> list[tuple[QPointF, QStaticText]]:
        """The labels that pyqtgraph would draw, as (corner, static text); ``box``: the axis's bounding
        rectangle (a label must fit inside it)."""
        font = p.font()
        font_key = font.key()
        offset = max(0, self.style["tickLength"]) + self.style["tickTextOffset"][0 if left else 1]
        box_x0, box_y0, box_x1, box_y1 = box.left(), box.top(), box.right(), box.bottom()
        texts, sizes_so_far, last_size2 = [], [], 0.0
        along = 0.0  # the labels' extent along the axis so far
        for i in range(min(len(levels), self.style["maxTextLevel"] + 1)):
            spacing, values = levels[i]
            # pyqtgraph drops a finer level whose labels would crowd the axis (its textFillLimits); the extent
            # only grows label by label, so a level is measured a few labels at a time and given up as soon as
            # it crowds: the many labels of a fine level are mostly never formatted nor measured
            limits = [limit for n, limit in self.style["textFillLimits"] if len(texts) >= n] if i > 0 else []
            crowded_at = min(limits) if limits else None
            shown, extent, crowded = [], along, False
            for first in range(0, len(values), LABEL_BATCH):
                strings = self.tickStrings(values[first:first + LABEL_BATCH], self.autoSIPrefixScale * self.scale,
                                           spacing)
                for x, text in zip(positions[i][first:first + LABEL_BATCH], strings, strict=False):
                    if x is None or not text:
                        continue
                    size = self._label(p, font_key, font, text)
                    shown.append((x, text, size))
                    extent += size[1] if left else size[0]
                    if crowded_at is not None and extent / length >= crowded_at:
                        crowded = True
                        break
                if crowded:
                    break
            if crowded:
                break
            if not shown:
                continue
            along = extent
            sizes_so_far += [size for _x, _text, size in shown]
            size2 = max(w if left else h for w, h in sizes_so_far)
            last_size2 = size2
            for x, text, (w, h) in shown:
                # the label's rectangle as pyqtgraph places it, then the text aligned in it as drawText would
                if left:
                    x0, y0 = tick_stop - offset - w, x - h / 2
                else:
                    x0, y0 = x - w / 2, tick_stop + offset
                if x0 < box_x0 or y0 < box_y0 or x0 + w > box_x1 or y0 + h > box_y1:
                    continue  # pyqtgraph draws only the labels that fit inside the axis
                static = self._static_text(font_key, font, text)
                size = static.size()
                if left:
                    corner = QPointF(x0 + w - size.width(), y0 + h / 2 - size.height() / 2)
                else:
                    corner = QPointF(x0 + w / 2 - size.width() / 2, y0)
                texts.append((corner, static))
        self._updateMaxTextSize(last_size2)
        return texts

    def _label(self, p: QPainter, font_key: str, font: QFont, text: str) -> tuple[float, float]:
        """(width, height) pyqtgraph gives a tick label's rectangle (``boundingRect`` height × 0.8).

        Measured without ``QPainter.boundingRect`` where the label is plain digits and signs: their width is the
        sum of the characters' advances (the same figure, to the last bit, for a Latin font) and their height
        the font's line height; labels of new values at every step of a zoom then cost no Qt call."""
        key = (font_key, text)
        size = self._sizes.get(key)
        if size is None:
            metrics = self._metrics.get(font_key)
            if metrics is None:
                metrics = self._metrics[font_key] = (QFontMetricsF(font), {})
            fm, advances = metrics
            if _NUMERIC.issuperset(text):
                width = 0.0
                for ch in text:
                    advance = advances.get(ch)
                    if advance is None:
                        advance = advances[ch] = fm.horizontalAdvance(ch)
                    width += advance
                size = (width, fm.height() * 0.8)
            else:
                r = p.boundingRect(QRectF(0, 0, 100, 100), Qt.AlignmentFlag.AlignCenter, text)
                size = (r.width(), r.height() * 0.8)
            self._sizes[key] = size
            if len(self._sizes) > MAX_CACHED_LABELS:
                self._sizes.popitem(last=False)
        return size

    def _static_text(self, font_key: str, font: QFont, text: str) -> QStaticText:
        """The label's glyphs, laid out once and drawn from then on."""
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
