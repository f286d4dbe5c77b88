"""The four structure plots, drawn from `StructureCurves`: local dimension, local dimension against radius,
nearest-neighbour distances against the Gaussian baseline, and the off-data meter of the priors. Shared by
the structure and comparison features (features never import each other), with a plain table of numbers.

Every plot has a title, axis titles and a legend, and plain numbers on its axes (no SI prefixes: a
"local dimension" of 12 must not read "12 ×10⁰", nor a distance of 0.004 "4 m").
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from latent_explorer.core.analysis.structure import StructureAnalysis
from latent_explorer.core.analysis.structure_curves import StructureCurves

DATA_PEN = pg.mkPen(31, 119, 180, width=2)
GAUSSIAN_PEN = pg.mkPen(255, 127, 14, width=2, style=Qt.PenStyle.DashLine)
BAND_BRUSH = pg.mkBrush(31, 119, 180, 60)
QUARTILE_PEN = pg.mkPen(31, 119, 180, width=1)
PRIOR_PENS = (pg.mkPen(44, 160, 44, width=2), pg.mkPen(148, 103, 189, width=2))
MARK_PEN = pg.mkPen(90, 90, 90, width=1, style=Qt.PenStyle.DotLine)
MIN_PLOT_HEIGHT = 250
MIN_EXPORT_WIDTH = 800


def plain_plot(layout: pg.GraphicsLayoutWidget, title: str, bottom: str, left: str) -> pg.PlotItem:
    """A plot with a title, both axis titles, a grid, a legend and no SI prefixes on its axes."""
    plot = layout.addPlot(title=title)
    plot.setLabel("bottom", bottom)
    plot.setLabel("left", left)
    for name in ("bottom", "left"):
        plot.getAxis(name).enableAutoSIPrefix(False)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.addLegend(offset=(-10, 10))
    return plot


def reset(plot: pg.PlotItem, title: str | None = None) -> None:
    """Remove every curve and legend entry (the axes and their titles stay)."""
    plot.clear()
    if plot.legend is not None:
        plot.legend.clear()
    if title is not None:
        plot.setTitle(title)


def steps(plot: pg.PlotItem, edges: np.ndarray, counts: np.ndarray, pen, name: str) -> pg.PlotDataItem:
    item = pg.PlotDataItem(edges, np.asarray(counts, np.float64), stepMode="center", pen=pen, name=name)
    plot.addItem(item)
    return item


def vertical(plot: pg.PlotItem, x: float, pen=MARK_PEN) -> None:
    if np.isfinite(x):
        plot.addItem(pg.InfiniteLine(pos=float(x), angle=90, pen=pen), ignoreBounds=True)


class StructurePlots:
    """Owns the four plots of one structure analysis, laid out on two graphics widgets (two tabs)."""

    def __init__(self, dimension: pg.GraphicsLayoutWidget, voids: pg.GraphicsLayoutWidget):
        for widget in (dimension, voids):
            widget.setMinimumHeight(MIN_PLOT_HEIGHT)
        self.lid = plain_plot(dimension, "Local intrinsic dimension", "local dimension (Levina–Bickel)",
                              "codes per bin")
        self.radius = plain_plot(dimension, "Local dimension against radius", "radius ‖x‖ (L2)",
                                 "local dimension")
        self.nn = plain_plot(voids, "Nearest-neighbour distance", "distance to the nearest other point (L2)",
                             "points per bin")
        self.meter = plain_plot(voids, "Off-data meter of prior samples",
                                "off-data score (1 = typical neighbour distance of the codes)", "samples per bin")
        self.plots = (self.lid, self.radius, self.nn, self.meter)

    def clear(self) -> None:
        for plot in self.plots:
            reset(plot)

    def show(self, result: StructureAnalysis, curves: StructureCurves, space: str) -> None:
        data, gaussian = result.data, result.gaussian
        reset(self.lid, f"Local intrinsic dimension of {space} (k = {data.k})")
        steps(self.lid, curves.lid.edges, curves.lid.data, DATA_PEN, f"codes, median {data.lid_median:.3g}")
        steps(self.lid, curves.lid.edges, curves.lid.gaussian, GAUSSIAN_PEN,
              f"Gaussian baseline, median {gaussian.lid_median:.3g}")
        vertical(self.lid, data.lid_median, pg.mkPen(31, 119, 180, width=1, style=Qt.PenStyle.DotLine))
        vertical(self.lid, gaussian.lid_median, pg.mkPen(255, 127, 14, width=1, style=Qt.PenStyle.DotLine))

        binned = result.lid_by_radius
        reset(self.radius, f"Local dimension against radius ‖{space}‖")
        good = np.isfinite(binned.median)
        centres = binned.centres[good]
        low = pg.PlotDataItem(centres, binned.lower[good], pen=QUARTILE_PEN, name="25th and 75th percentiles")
        high = pg.PlotDataItem(centres, binned.upper[good], pen=QUARTILE_PEN)
        self.radius.addItem(low)
        self.radius.addItem(high)
        self.radius.addItem(pg.FillBetweenItem(low, high, brush=BAND_BRUSH))
        self.radius.addItem(pg.PlotDataItem(centres, binned.median[good], pen=DATA_PEN, symbol="o", symbolSize=5,
                                            symbolBrush=(31, 119, 180), name="median"))

        reset(self.nn, f"NN distance, data ÷ Gaussian = {result.nn_ratio:.3g}")
        steps(self.nn, curves.nn_distance.edges, curves.nn_distance.data, DATA_PEN,
              f"codes, median {float(np.median(data.nn_distance)):.3g}")
        steps(self.nn, curves.nn_distance.edges, curves.nn_distance.gaussian, GAUSSIAN_PEN,
              f"Gaussian (same mean, cov., n), median {float(np.median(gaussian.nn_distance)):.3g}")

        reset(self.meter, "Off-data meter of prior samples")
        for prior, pen in zip(result.priors, PRIOR_PENS, strict=False):
            steps(self.meter, curves.prior_edges, curves.prior_counts[prior.prior], pen,
                  f"{prior.prior}: {100 * prior.fraction_beyond_typical:.1f} % farther than typical")
        vertical(self.meter, 1.0)


def fill_table(table: QTableWidget, header: list[str], rows: list[list]) -> None:
    """A read-only table of numbers (floats to 4 significant digits; the CSV has them in full)."""
    table.clear()
    table.setColumnCount(len(header))
    table.setHorizontalHeaderLabels([str(h) for h in header])
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            text = f"{float(value):.4g}" if isinstance(value, (float, np.floating)) else str(value)
            item = QTableWidgetItem(text)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if c > 0:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


def export_scene_png(widget: pg.GraphicsLayoutWidget, path, min_width: int = MIN_EXPORT_WIDTH):
    """A graphics widget's whole scene as a PNG at least ``min_width`` pixels wide."""
    from pathlib import Path

    from pyqtgraph.exporters import ImageExporter

    exporter = ImageExporter(widget.scene())
    if exporter.parameters()["width"] < min_width:
        exporter.parameters()["width"] = min_width
    path = Path(path)
    exporter.export(str(path))
    if not path.exists():
        raise OSError(f"could not write {path}")
    return path
