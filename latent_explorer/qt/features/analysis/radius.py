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
from latent_explorer.qt.features.analysis.plotting import has_data, labelled_plot, legend_sample, set_legend, set_title

OTHER_PEN = pg.mkPen(44, 160, 44, width=2)
CHI_PEN = pg.mkPen(148, 103, 189, width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
MEAN_PEN = pg.mkPen(90, 90, 90, width=1.5, style=pg.QtCore.Qt.PenStyle.DotLine)
CHI_MEAN_PEN = pg.mkPen(148, 103, 189, width=1.5, style=pg.QtCore.Qt.PenStyle.DotLine)


class RadiusDensityPanel(AnalysisPanel):
    name = "analysis-radius"
    title = "Density by radius"

    def build(self) -> None:
        self.width_box = self.bin_width_box("Bin width in radius (the studies used 0.5 and 0.05); auto: ~100 bins")
        self.plot = labelled_plot(self.graphics, self.title, "radius ‖z‖ (L2 norm, latent units)", self.count_label())
        self.main_curve = step_curve(np.zeros(1), np.zeros(2), pen=WHOLE_PEN)
        self.other_curve = step_curve(np.zeros(1), np.zeros(2), pen=OTHER_PEN)
        self.chi_curve = pg.PlotDataItem(pen=CHI_PEN)
        self.selection_curve = step_curve(np.zeros(1), np.zeros(2), pen=SELECTION_PEN, brush=SELECTION_BRUSH)
        for item in (self.main_curve, self.other_curve, self.chi_curve, self.selection_curve):
            self.plot.addItem(item)
        self.mean_line = pg.InfiniteLine(angle=90, pen=MEAN_PEN)
        self.chi_line = pg.InfiniteLine(angle=90, pen=CHI_MEAN_PEN)
        self.mean_sample = legend_sample(pen=MEAN_PEN)
        self.chi_mean_sample = legend_sample(pen=CHI_MEAN_PEN)
        for line in (self.mean_line, self.chi_line):
            line.setVisible(False)
            self.plot.addItem(line, ignoreBounds=True)
        self.add_hint(self.plot)
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
        main = result.main
        width = main.histogram.bin_width
        self.main_curve.setData(main.histogram.edges, self.scaled(main.histogram.counts, width))
        if len(result.profiles) > 1:
            other = result.profiles[1]
            self.other_curve.setData(other.histogram.edges, self.scaled(other.histogram.counts, width))
        else:
            self.other_curve.setData([], [])
        reference = result.reference_counts / (result.count * width) if self.density else result.reference_counts
        self.chi_curve.setData(result.reference_r, reference)
        self.mean_line.setValue(main.mean)
        self.chi_line.setValue(result.chi_mean)
        for line in (self.mean_line, self.chi_line):
            line.setVisible(True)
        self.plot.setLabel("left", self.count_label())
        self.plot.setLabel("bottom", f"radius ‖{main.name}‖ (L2 norm, latent units)")
        set_title(self.plot, f"{self.title} ‖{main.name}‖ in {result.dim} dimensions",
                  f"peak {main.peak:.4g}, mean {main.mean:.4g}; chi reference mean {result.chi_mean:.4g} "
                  f"(√d = {np.sqrt(result.dim):.4g})")
        self.table.set_rows(*result.summary())
        self._update_legend()

    def _update_legend(self) -> None:
        result: RadiusDensity | None = self.result
        if result is None:
            set_legend(self.plot, [])
            return
        main = result.main
        entries = [(self.main_curve, f"‖{main.name}‖, all samples")]
        if len(result.profiles) > 1:
            entries.append((self.other_curve, f"‖{result.profiles[1].name}‖, all samples"))
        entries += [(self.chi_curve, f"chi reference, {result.dim} dof (N(0, I))"),
                    (self.mean_sample, f"data mean ‖{main.name}‖ = {main.mean:.4g}"),
                    (self.chi_mean_sample, f"chi reference mean = {result.chi_mean:.4g}")]
        if has_data(self.selection_curve):
            entries.append((self.selection_curve, f"selection, ‖{main.name}‖"))
        set_legend(self.plot, entries)

    def show_overlay(self, overlay) -> None:
        if overlay is None or self.result is None:
            self.selection_curve.setData([], [])
        else:
            hist = self.result.main.histogram
            self.selection_curve.setData(hist.edges, self.scaled(overlay, hist.bin_width))
        self._update_legend()

    def clear(self) -> None:
        set_legend(self.plot, [])
        for item in (self.main_curve, self.other_curve, self.chi_curve, self.selection_curve):
            item.setData([], [])
        for line in (self.mean_line, self.chi_line):
            line.setVisible(False)
        set_title(self.plot, self.title)
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
