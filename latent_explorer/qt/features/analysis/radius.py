"""Density by radius: the histogram of ‖z‖ against the chi distribution N(0, I) would give in z_dim dimensions.

For a VAE the other code set (‖mu‖ when z is plotted, ‖z‖ when mu is) is overlaid on the same bins.
The observed peak and mean radius are reported next to the chi mean √2·Γ((d+1)/2)/Γ(d/2).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from latent_explorer.core.analysis import RadiusDensity, chi_pdf, histogram, histogram_rows, iter_radius_density
from latent_explorer.core.encoding import Codes
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.qt.features.analysis.band import BandSelector
from latent_explorer.qt.features.analysis.base import (
    SELECTION_BRUSH,
    SELECTION_PEN,
    WHOLE_PEN,
    AnalysisPanel,
    CsvSheet,
    step_curve,
    with_table,
)

OTHER_PEN = pg.mkPen(44, 160, 44, width=1.5)
CHI_PEN = pg.mkPen(148, 103, 189, width=2, style=pg.QtCore.Qt.PenStyle.DashLine)


class RadiusDensityPanel(AnalysisPanel):
    name = "analysis-radius"
    title = "Density by radius"

    def build(self) -> None:
        self.width_box = self.bin_width_box("Bin width in radius (the studies used 0.5 and 0.05); auto: ~100 bins")
        self.plot = self.graphics.addPlot()
        self.plot.setLabel("bottom", "radius ‖z‖ (L2)")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.main_curve = step_curve(np.zeros(1), np.zeros(2), pen=WHOLE_PEN)
        self.other_curve = step_curve(np.zeros(1), np.zeros(2), pen=OTHER_PEN)
        self.chi_curve = pg.PlotDataItem(pen=CHI_PEN)
        self.selection_curve = step_curve(np.zeros(1), np.zeros(2), pen=SELECTION_PEN, brush=SELECTION_BRUSH)
        for item in (self.main_curve, self.other_curve, self.chi_curve, self.selection_curve):
            self.plot.addItem(item)
        self.mean_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(128, 128, 128, style=pg.QtCore.Qt.PenStyle.DotLine))
        self.chi_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(148, 103, 189, style=pg.QtCore.Qt.PenStyle.DotLine))
        for line in (self.mean_line, self.chi_line):
            line.setVisible(False)
            self.plot.addItem(line, ignoreBounds=True)
        self.band = BandSelector(self, self.plot, self._main_radii)
        self.controls.addWidget(self.band.button)
        self.table = with_table(self, (4, 1))

    # ------------------------------------------------------------------ computing
    def make_job(self, codes: Codes) -> Job:
        sets = {self.latent_name(): self.latent()}
        if codes.is_variational:
            other = "z" if self.latent_name() == "mu" else "mu"
            sets[other] = codes.z if other == "z" else codes.mu
        return iter_radius_density(sets, self.width_box.value() or None)

    def make_overlay_job(self, result: RadiusDensity, selection: np.ndarray) -> Job:
        values, edges = result.main.radii[selection], result.main.histogram.edges

        def job():
            yield Progress("selection by radius", 0, None)
            return histogram(values, edges)

        return job()

    # ------------------------------------------------------------------ drawing
    def show_result(self, result: RadiusDensity) -> None:
        self.legend.clear()
        main = result.main
        width = main.histogram.bin_width
        self.main_curve.setData(main.histogram.edges, self.scaled(main.histogram.counts, width))
        self.legend.addItem(self.main_curve, f"‖{main.name}‖")
        if len(result.profiles) > 1:
            other = result.profiles[1]
            self.other_curve.setData(other.histogram.edges, self.scaled(other.histogram.counts, width))
            self.legend.addItem(self.other_curve, f"‖{other.name}‖")
        else:
            self.other_curve.setData([], [])
        reference = result.reference_counts / (result.count * width) if self.density else result.reference_counts
        self.chi_curve.setData(result.reference_r, reference)
        self.legend.addItem(self.chi_curve, f"chi, {result.dim} dof (N(0, I))")
        self.mean_line.setValue(main.mean)
        self.chi_line.setValue(result.chi_mean)
        for line in (self.mean_line, self.chi_line):
            line.setVisible(True)
        self.plot.setLabel("left", self.count_label())
        self.plot.setLabel("bottom", f"radius ‖{main.name}‖ (L2)")
        self.plot.setTitle(f"peak {main.peak:.4g}, mean {main.mean:.4g} — chi mean {result.chi_mean:.4g} "
                           f"(√d = {np.sqrt(result.dim):.4g})")
        self.table.set_rows(*result.summary())

    def show_overlay(self, overlay) -> None:
        if overlay is None or self.result is None:
            self.selection_curve.setData([], [])
            return
        hist = self.result.main.histogram
        self.selection_curve.setData(hist.edges, self.scaled(overlay, hist.bin_width))

    def clear(self) -> None:
        self.legend.clear()
        for item in (self.main_curve, self.other_curve, self.chi_curve, self.selection_curve):
            item.setData([], [])
        for line in (self.mean_line, self.chi_line):
            line.setVisible(False)
        self.plot.setTitle(None)
        self.table.setRowCount(0)
        self.band.reset()

    def _main_radii(self) -> np.ndarray | None:
        return None if self.result is None else self.result.main.radii

    # ------------------------------------------------------------------ export
    def csv_sheets(self) -> dict[str, CsvSheet]:
        result: RadiusDensity | None = self.result
        if result is None:
            return {}
        hist = result.main.histogram
        expected = result.count * hist.bin_width * chi_pdf(hist.centres, result.dim)
        header = ["bin start", "bin end", *(f"count |{p.name}|" for p in result.profiles), "chi reference"]
        counts = [p.histogram.counts for p in result.profiles]
        return {"summary": result.summary(), "histogram": (header, histogram_rows(hist.edges, *counts, expected))}
