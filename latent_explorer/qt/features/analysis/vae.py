"""VAE posterior: logvar, KL per dimension and active units, |z − mu|, and radius from z against from mu.

Enabled only for a VAE. "plot mu" switches the scatter between mu and the sampled z (``state.use_mu``);
"σ bars" draws each selected point's posterior σ on the scatter as error bars — along the raw axes, or
projected on the PCA plane's components (sqrt(Σ_k (c_k σ_k)²) per axis).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QSplitter

from latent_explorer.core.analysis import (
    PosteriorStatistics,
    histogram_rows,
    iter_posterior_statistics,
    selection_histograms,
    sigma_in_plane,
)
from latent_explorer.core.encoding import Codes
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.qt.features.analysis.base import (
    SELECTION_BRUSH,
    SELECTION_PEN,
    AnalysisPanel,
    CsvSheet,
    step_curve,
)
from latent_explorer.qt.features.analysis.plotting import has_data, labelled_plot, set_legend, set_title
from latent_explorer.qt.features.analysis.table import NumericTable

ACTIVE_BRUSH = pg.mkBrush(31, 119, 180)
INACTIVE_BRUSH = pg.mkBrush(190, 190, 190)
SIGMA_PEN = pg.mkPen(214, 39, 40, 200, width=1)
MAX_SIGMA_BARS = 5000
LOGVAR_TITLE = "Posterior logvar (all elements)"
KL_TITLE = "KL per dimension"
OFFSET_TITLE = "Sampling offset |z − μ| (all elements)"
RADIUS_TITLE = "Radius from z against from μ"


class PosteriorPanel(AnalysisPanel):
    name = "analysis-vae"
    title = "VAE posterior"
    follows_use_mu = False  # the statistics use mu, logvar and z together, whichever is plotted

    def build(self) -> None:
        self.mu_box = QCheckBox("plot mu")
        self.mu_box.setToolTip("Scatter the posterior means mu instead of the sampled z")
        self.mu_box.toggled.connect(self._set_use_mu)
        self.sigma_box = QCheckBox("σ bars")
        self.sigma_box.setToolTip(f"Draw the posterior σ of the selected points on the scatter "
                                  f"(at most {MAX_SIGMA_BARS:,}; raw-axes and PCA views)")
        self.sigma_box.toggled.connect(self.update_sigma_bars)
        self.controls.addWidget(self.mu_box)
        self.controls.addWidget(self.sigma_box)
        self.not_vae = QLabel("needs a VAE (an encoder giving mu and logvar)")
        self.controls.addWidget(self.not_vae)

        self.logvar_plot = labelled_plot(self.graphics, LOGVAR_TITLE, "logvar = log σ² of the posterior",
                                         "elements per bin", row=0, col=0)
        self.kl_plot = labelled_plot(self.graphics, KL_TITLE, "latent dimension",
                                     "mean KL(q(z|x) ‖ N(0, 1)) in nats", row=0, col=1, grid=(False, True))
        self.offset_plot = labelled_plot(self.graphics, OFFSET_TITLE, "|z − μ| (latent units)",
                                         "elements per bin", row=1, col=0)
        self.radius_plot = labelled_plot(self.graphics, RADIUS_TITLE, "relative difference |‖z‖ − ‖μ‖| / ‖μ‖",
                                         "samples per bin", row=1, col=1)
        self.active_sample = pg.BarGraphItem(x=[], height=[], width=0.8, brush=ACTIVE_BRUSH, pen=None)
        self.inactive_sample = pg.BarGraphItem(x=[], height=[], width=0.8, brush=INACTIVE_BRUSH, pen=None)
        self.logvar_curve = step_curve(np.zeros(1), np.zeros(2))
        self.logvar_selection = step_curve(np.zeros(1), np.zeros(2), pen=SELECTION_PEN, brush=SELECTION_BRUSH)
        self.offset_curve = step_curve(np.zeros(1), np.zeros(2))
        self.offset_selection = step_curve(np.zeros(1), np.zeros(2), pen=SELECTION_PEN, brush=SELECTION_BRUSH)
        self.radius_curve = step_curve(np.zeros(1), np.zeros(2))
        self.kl_bars = pg.BarGraphItem(x=[], height=[], width=0.8, pen=None)
        for plot, items in ((self.logvar_plot, (self.logvar_curve, self.logvar_selection)),
                            (self.offset_plot, (self.offset_curve, self.offset_selection)),
                            (self.radius_plot, (self.radius_curve,)), (self.kl_plot, (self.kl_bars,))):
            for item in items:
                plot.addItem(item)
            self.add_hint(plot)

        tables = QSplitter(Qt.Orientation.Horizontal)
        self.summary_table = NumericTable()
        self.dims_table = NumericTable()
        self.dims_table.setSortingEnabled(True)
        tables.addWidget(self.summary_table)
        tables.addWidget(self.dims_table)
        self.body.addWidget(tables)
        self.body.setStretchFactor(0, 3)
        self.body.setStretchFactor(1, 2)

        self.sigma_bars = pg.ErrorBarItem(pen=SIGMA_PEN, beam=0)
        self._bars_on: pg.PlotItem | None = None
        for event in (self.state.events.selection, self.state.events.view, self.state.events.use_mu,
                      self.state.events.codes):
            event.connect(self.update_sigma_bars)
        self.state.events.use_mu.connect(self._show_use_mu)
        self._set_enabled(False)

    # ------------------------------------------------------------------ computing
    def unavailable_reason(self, codes: Codes) -> str | None:
        if codes.is_variational:
            return None
        return "Needs a VAE: this model's encoder gives z only (no μ and logvar to describe)"

    def make_job(self, codes: Codes) -> Job | None:
        self._set_enabled(codes.is_variational)
        if not codes.is_variational:
            self.set_status("not a VAE: no posterior to describe")
            return None
        return iter_posterior_statistics(codes.mu, codes.logvar, codes.z)

    def make_overlay_job(self, result: PosteriorStatistics, selection: np.ndarray) -> Job:
        codes = self.state.codes

        def job():
            yield Progress("selection's posterior", 0, None)
            return selection_histograms(result, codes.mu, codes.logvar, codes.z, selection)

        return job()

    def _set_enabled(self, variational: bool) -> None:
        self.not_vae.setVisible(not variational)
        for widget in (self.mu_box, self.sigma_box, self.graphics, self.density_box, self.recompute_button,
                       self.png_button, self.csv_button):
            widget.setEnabled(variational)

    # ------------------------------------------------------------------ drawing
    def show_result(self, stats: PosteriorStatistics) -> None:
        lv, off = stats.logvar_histogram, stats.offset_histogram
        self.logvar_curve.setData(lv.edges, self.scaled(lv.counts, lv.bin_width))
        self.offset_curve.setData(off.edges, self.scaled(off.counts, off.bin_width))
        d = len(stats.kl_per_dim)
        self.kl_bars.setOpts(x=np.arange(d), height=stats.kl_per_dim,
                             brushes=[ACTIVE_BRUSH if a else INACTIVE_BRUSH for a in stats.active])
        relative = stats.radius_rel_diff
        relative = relative[np.isfinite(relative)]
        if len(relative):
            counts, edges = np.histogram(relative, bins=60)
            self.radius_curve.setData(edges, self.scaled(counts, float(edges[1] - edges[0])))
            set_title(self.radius_plot, RADIUS_TITLE, f"median {np.median(relative):.3g}, max {relative.max():.3g}")
        else:
            self.radius_curve.setData([], [])
            set_title(self.radius_plot, RADIUS_TITLE)
        set_title(self.logvar_plot, LOGVAR_TITLE, f"min {stats.logvar_min:.3g}, max {stats.logvar_max:.3g}, "
                                                  f"mean {stats.logvar_mean:.3g}")
        set_title(self.kl_plot, KL_TITLE, f"{stats.kl_total:.4g} nats in all; {stats.active_count} of {d} active")
        set_title(self.offset_plot, OFFSET_TITLE, f"max {stats.offset_max:.3g}, mean {stats.offset_mean:.3g}")
        for plot in (self.logvar_plot, self.kl_plot, self.offset_plot, self.radius_plot):
            self._label_counts(plot)
        self._update_legends()
        self.summary_table.set_rows(*stats.summary())
        self.dims_table.set_rows(*stats.per_dimension(), highlight=set(np.flatnonzero(stats.active).tolist()))

    def show_overlay(self, overlay) -> None:
        if overlay is None or self.result is None:
            self.logvar_selection.setData([], [])
            self.offset_selection.setData([], [])
        else:
            lv, off = self.result.logvar_histogram, self.result.offset_histogram
            self.logvar_selection.setData(lv.edges, self.scaled(overlay[0], lv.bin_width))
            self.offset_selection.setData(off.edges, self.scaled(overlay[1], off.bin_width))
        self._update_legends()

    def _label_counts(self, plot: pg.PlotItem) -> None:
        if plot is self.kl_plot:
            return
        unit = "samples" if plot is self.radius_plot else "elements"
        plot.setLabel("left", "density" if self.density else f"{unit} per bin")

    def _update_legends(self) -> None:
        stats: PosteriorStatistics | None = self.result
        if stats is None:
            for plot in (self.logvar_plot, self.kl_plot, self.offset_plot, self.radius_plot):
                set_legend(plot, [])
            return
        for plot, whole, selection in ((self.logvar_plot, self.logvar_curve, self.logvar_selection),
                                       (self.offset_plot, self.offset_curve, self.offset_selection)):
            entries = [(whole, "all samples × dimensions")]
            if has_data(selection):
                entries.append((selection, "selection"))
            set_legend(plot, entries)
        active = int(stats.active_count)
        set_legend(self.kl_plot, [(self.active_sample, f"active unit ({active})"),
                                  (self.inactive_sample, f"inactive unit ({len(stats.kl_per_dim) - active})")])
        set_legend(self.radius_plot, [(self.radius_curve, "all samples")])

    def clear(self) -> None:
        for item in (self.logvar_curve, self.logvar_selection, self.offset_curve, self.offset_selection,
                     self.radius_curve):
            item.setData([], [])
        self.kl_bars.setOpts(x=[], height=[], brushes=None)
        for plot, title in ((self.logvar_plot, LOGVAR_TITLE), (self.kl_plot, KL_TITLE),
                            (self.offset_plot, OFFSET_TITLE), (self.radius_plot, RADIUS_TITLE)):
            set_title(plot, title)
            set_legend(plot, [])
        self.summary_table.setRowCount(0)
        self.dims_table.setRowCount(0)
        codes = self.state.codes
        self._set_enabled(codes is not None and codes.is_variational)

    # ------------------------------------------------------------------ mu / z and σ bars
    def _set_use_mu(self, on: bool) -> None:
        self.state.use_mu = on

    def _show_use_mu(self, on: bool) -> None:
        self.mu_box.blockSignals(True)
        self.mu_box.setChecked(bool(on))
        self.mu_box.blockSignals(False)

    def sigma_geometry(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Positions (n, 2) on the scatter, σ along its two axes (n, 2), and the indices, for the selection.

        None when there is nothing to draw: no VAE, no selection, or a view that is neither raw nor PCA.
        """
        codes, view = self.state.codes, self.state.view
        selection = self.state.selection
        if codes is None or not codes.is_variational or selection is None or len(selection) == 0:
            return None
        rows = np.asarray(selection[:MAX_SIGMA_BARS], dtype=np.int64)
        latent = self.state.latent()[rows]
        if view.kind == "raw":
            basis = np.zeros((2, codes.latent_dim))
            basis[0, view.i] = basis[1, view.j] = 1.0
            xy = latent[:, [view.i, view.j]].astype(np.float64)
        elif view.kind == "pca":
            pca, projection = self.context.view.pca, self.context.view.current_projection()
            if pca is None or projection is None:  # the PCA is still being fitted
                return None
            basis = np.asarray(pca.components_)[[view.i, view.j]]
            xy = np.asarray(projection.transform(latent), dtype=np.float64)
        else:
            return None
        return xy, sigma_in_plane(codes.logvar[rows], basis), rows

    def update_sigma_bars(self, *_args) -> None:
        """Redraw (or remove) the σ bars on the scatter's plot."""
        plot = self.context.scatter.plot_item
        geometry = self.sigma_geometry() if self.sigma_box.isChecked() else None
        if geometry is None:
            if self._bars_on is not None:
                self._bars_on.removeItem(self.sigma_bars)
                self._bars_on = None
            if self.sigma_box.isChecked() and self.state.view.kind not in ("raw", "pca"):
                self.set_status("σ bars are drawn in raw-axes and PCA views")
            return
        xy, sigma, _rows = geometry
        self.sigma_bars.setData(x=xy[:, 0], y=xy[:, 1], left=sigma[:, 0], right=sigma[:, 0],
                                top=sigma[:, 1], bottom=sigma[:, 1])
        if self._bars_on is not plot:
            plot.addItem(self.sigma_bars, ignoreBounds=True)
            self._bars_on = plot

    # ------------------------------------------------------------------ export
    def csv_sheets(self) -> dict[str, CsvSheet]:
        stats: PosteriorStatistics | None = self.result
        if stats is None:
            return {}
        lv, off = stats.logvar_histogram, stats.offset_histogram
        return {"summary": stats.summary(), "dimensions": stats.per_dimension(),
                "logvar": (["bin start", "bin end", "count"], histogram_rows(lv.edges, lv.counts)),
                "offset": (["bin start", "bin end", "count"], histogram_rows(off.edges, off.counts))}
