"""Plots that explain themselves: a title, axis titles in the data's own units, a legend entry for every line,
fill and marker, and — while there is nothing to draw — a sentence saying what to do instead of empty axes.

pyqtgraph scales an axis whose values are small or large by an SI prefix and appends the multiplier to its
title ("(x0.001)", "(x1e-06)"); on a reconstruction error or a logvar that reads as a different unit, so
every axis made here keeps the values as they are. The legend cannot draw some items (infinite lines,
fills between two curves): `legend_sample` gives those a stand-in drawn with the same pen and brush.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtGui import QFont, QTextDocumentFragment

AXES = ("left", "bottom", "right", "top")
LEGEND_BRUSH = pg.mkBrush(255, 255, 255, 210)
LEGEND_PEN = pg.mkPen(200, 200, 200)
HINT_COLOUR = (90, 90, 90)
HINT_POINTS = 12.0


def plain_axes(plot: pg.PlotItem) -> pg.PlotItem:
    """Show every axis's values as they are: no SI prefix and no "(x1e-06)" appended to the axis title."""
    for side in AXES:
        plot.getAxis(side).enableAutoSIPrefix(False)
    return plot


def labelled_plot(graphics: pg.GraphicsLayoutWidget, title: str, bottom: str, left: str, *,
                  legend_at: tuple[int, int] | None = (-10, 10), grid: tuple[bool, bool] = (True, True),
                  **where) -> pg.PlotItem:
    """A plot in ``graphics`` (``row=``/``col=`` as for ``addPlot``) with its title, axis titles and legend.

    The legend (``plot.legend``) sits on a light box at ``legend_at`` (pyqtgraph's offset: negative x from the
    right, positive y from the top; None: no legend), so it stays readable over curves.
    """
    plot = graphics.addPlot(**where)
    set_title(plot, title)
    plain_axes(plot)
    plot.setLabel("bottom", bottom)
    plot.setLabel("left", left)
    plot.showGrid(x=grid[0], y=grid[1], alpha=0.2)
    if legend_at is not None:
        plot.addLegend(offset=legend_at, brush=LEGEND_BRUSH, pen=LEGEND_PEN, labelTextSize="9pt")
    return plot


def set_title(plot: pg.PlotItem, title: str, detail: str = "") -> None:
    """The plot's title, with the numbers that go with it on a second, smaller line (narrow plots stay whole)."""
    text = html.escape(title)
    if detail:
        text += f"<br><span style='font-size:9pt'>{html.escape(detail)}</span>"
    plot.setTitle(text)


def title_text(plot: pg.PlotItem) -> str:
    """The title as a reader sees it (plain text, the two lines joined by a line break)."""
    label = plot.titleLabel
    if not label.isVisible() or not label.text:
        return ""
    return QTextDocumentFragment.fromHtml(label.text).toPlainText()


def legend_sample(pen=None, brush=None, symbol: str | None = None, symbol_brush=None) -> pg.PlotDataItem:
    """A stand-in the legend can draw for an item it cannot (an `InfiniteLine`, a `FillBetweenItem`).

    It is never added to a plot; the legend draws its pen as a line, its brush as a filled triangle.
    """
    kwargs = {"pen": pen if pen is not None else None}
    if brush is not None:
        kwargs.update(fillLevel=0, fillBrush=brush)
    if symbol is not None:
        kwargs.update(symbol=symbol, symbolBrush=symbol_brush, symbolPen=None, symbolSize=7)
    return pg.PlotDataItem([], [], **kwargs)


def set_legend(plot: pg.PlotItem, entries: Sequence[tuple[pg.GraphicsObject, str]]) -> None:
    """Name exactly these items in the plot's legend, in this order (items without data are left out)."""
    legend = plot.legend
    if legend is None:
        return
    legend.clear()
    for item, name in entries:
        legend.addItem(item, name)
    legend.setVisible(bool(entries))


def has_data(item: pg.PlotDataItem) -> bool:
    """Whether a curve has points to draw (an empty one gets no legend entry)."""
    y = item.getData()[1]
    return y is not None and len(y) > 0


def legend_names(plot: pg.PlotItem) -> list[str]:
    """The names the plot's legend shows (what a reader of the figure sees)."""
    legend = plot.legend
    if legend is None or not legend.isVisible():
        return []
    return [label.text for _sample, label in legend.items]


class EmptyHint:
    """A sentence in the middle of an empty plot ("Run to compute inertia for k = 2…80"), axes hidden.

    Axes around nothing invite a misreading (pyqtgraph's default range, −400…400 on a KMeans plot before a
    run); while the hint shows, the axes, grid and legend are hidden and the range is fixed; `hide` brings
    them back and lets the plot fit its data again.
    """

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self.item = pg.TextItem("", color=HINT_COLOUR, anchor=(0.5, 0.5))
        font = QFont(self.item.textItem.font())
        font.setPointSizeF(HINT_POINTS)
        self.item.setFont(font)
        self.item.setZValue(100)
        self.item.setVisible(False)
        plot.addItem(self.item, ignoreBounds=True)
        self._axes = [side for side in AXES if plot.getAxis(side).isVisible()]

    @property
    def shown(self) -> bool:
        return self.item.isVisible()

    @property
    def text(self) -> str:
        return self.item.toPlainText() if self.shown else ""

    def show(self, text: str) -> None:
        if not self.shown:
            self._axes = [side for side in AXES if self.plot.getAxis(side).isVisible()]
        for side in self._axes:
            self.plot.hideAxis(side)
        if self.plot.legend is not None:
            self.plot.legend.setVisible(False)
        self.item.setText(text)
        self.item.setPos(0.5, 0.5)
        self.item.setVisible(True)
        self.plot.vb.disableAutoRange()
        self.plot.vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.plot.setMouseEnabled(False, False)

    def hide(self) -> None:
        if not self.shown:
            return
        self.item.setVisible(False)
        for side in self._axes:
            self.plot.showAxis(side)
        self.plot.setMouseEnabled(True, True)
        self.plot.vb.enableAutoRange()
