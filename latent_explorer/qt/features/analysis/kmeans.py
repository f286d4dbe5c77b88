"""KMeans inertia against k, several seeds per k, run on request and cancellable.

The curve grows as the sweep runs (each fit's result arrives as partial progress); a cancelled sweep
keeps the fits it finished. "Colour scatter" colours the scatter by the clusters of the chosen k
(``state.cluster_labels``, ``state.color_by = "cluster"``). The labels are cleared when the codes change.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QPushButton, QSpinBox

from latent_explorer.core.analysis import KMeansSweep, iter_kmeans_sweep, k_values
from latent_explorer.core.encoding import Codes
from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.jobs import Job
from latent_explorer.qt.features.analysis.base import (
    AnalysisPanel,
    CsvSheet,
    plot_click_handler,
    with_table,
)
from latent_explorer.qt.features.analysis.plotting import labelled_plot, legend_sample, set_legend, set_title

SEED_BRUSH = pg.mkBrush(31, 119, 180, 160)
MEAN_PEN = pg.mkPen(31, 119, 180, width=2)
SPREAD_BRUSH = pg.mkBrush(31, 119, 180, 50)
K_PEN = pg.mkPen(214, 39, 40, style=pg.QtCore.Qt.PenStyle.DashLine)


class KMeansPanel(AnalysisPanel):
    name = "analysis-kmeans"
    title = "KMeans inertia"
    auto_compute = False
    has_density_toggle = False

    def build(self) -> None:
        self.first_box = self._spin("k from", 2, 1, 100_000)
        self.last_box = self._spin("to", 80, 1, 100_000)
        self.step_box = self._spin("step", 2, 1, 10_000)
        self.seeds_box = self._spin("seeds", 1, 1, 50)
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Fit MiniBatchKMeans for every k and seed (cancel keeps what is done)")
        self.run_button.clicked.connect(self.compute)
        self.controls.addWidget(self.run_button)
        self.k_box = self._spin("colour by k", 10, 1, 100_000)
        self.colour_button = QPushButton("Colour scatter")
        self.colour_button.setToolTip("Colour the scatter by the clusters of this k (best seed)")
        self.colour_button.clicked.connect(self.colour_scatter)
        self.controls.addWidget(self.colour_button)
        self.recompute_button.setVisible(False)

        self.plot = labelled_plot(self.graphics, self.title, "number of clusters k",
                                  "inertia: sum of squared distances to the nearest centre")
        self.low = pg.PlotDataItem()
        self.high = pg.PlotDataItem()
        self.spread = pg.FillBetweenItem(self.low, self.high, brush=SPREAD_BRUSH)
        self.mean_curve = pg.PlotDataItem(pen=MEAN_PEN)
        self.seed_points = pg.ScatterPlotItem(size=6, brush=SEED_BRUSH, pen=None)
        self.k_line = pg.InfiniteLine(angle=90, pen=K_PEN)
        self.spread_sample = legend_sample(pen=pg.mkPen(None), brush=SPREAD_BRUSH)
        self.k_sample = legend_sample(pen=K_PEN)
        for item in (self.spread, self.mean_curve, self.seed_points):
            self.plot.addItem(item)
        self.plot.addItem(self.k_line, ignoreBounds=True)
        self.k_box.valueChanged.connect(self.k_line.setValue)
        self.k_box.valueChanged.connect(self._update_legend)
        self.k_line.setValue(self.k_box.value())
        self.k_line.setVisible(False)
        self.graphics.setToolTip("Click near a k to choose it for \"Colour scatter\"")
        self.add_hint(self.plot)
        for box in (self.first_box, self.last_box, self.step_box, self.seeds_box):
            box.valueChanged.connect(self._refresh_hint)
        plot_click_handler(self.plot, self._on_plot_click)
        self.table = with_table(self)
        self.table.rowClicked.connect(lambda k: self.k_box.setValue(int(k)))
        self.state.events.codes.connect(self._forget_clusters)

    def _spin(self, label: str, value: int, lo: int, hi: int) -> QSpinBox:
        box = QSpinBox()
        box.setRange(lo, hi)
        box.setValue(value)
        self.controls.addWidget(QLabel(label))
        self.controls.addWidget(box)
        return box

    # ------------------------------------------------------------------ computing
    def ks(self) -> list[int]:
        return k_values(self.first_box.value(), self.last_box.value(), self.step_box.value())

    def idle_hint(self) -> str:
        try:
            ks = self.ks()
        except LatentExplorerError:
            return "Choose a range of k (from ≤ to), then Run"
        seeds = self.seeds_box.value()
        span = f"k = {ks[0]}…{ks[-1]}" if len(ks) > 1 else f"k = {ks[0]}"
        return f"Run to compute inertia for {span} ({len(ks) * seeds} fits)"

    def _refresh_hint(self, *_args) -> None:
        if self.result is None:
            self.show_hints()

    def make_job(self, codes: Codes) -> Job | None:
        try:
            ks = self.ks()
        except LatentExplorerError as exc:
            self.context.errors.show_error(exc, "KMeans")
            return None
        return iter_kmeans_sweep(self.latent(), ks, list(range(self.seeds_box.value())))

    # ------------------------------------------------------------------ drawing
    def show_result(self, sweep: KMeansSweep) -> None:
        done = np.isfinite(sweep.inertia)
        rows = done.any(axis=1)
        ks = np.asarray(sweep.ks, dtype=np.float64)
        seed_k = np.broadcast_to(ks[:, None], sweep.inertia.shape)[done]
        self.seed_points.setData(seed_k, sweep.inertia[done])
        if rows.any():
            finished = sweep.inertia[rows]
            self.mean_curve.setData(ks[rows], np.nanmean(finished, axis=1))
            self.low.setData(ks[rows], np.nanmin(finished, axis=1))
            self.high.setData(ks[rows], np.nanmax(finished, axis=1))
        else:
            for item in (self.mean_curve, self.low, self.high):
                item.setData([], [])
        self.table.set_rows(*sweep.table())
        self.k_line.setVisible(True)
        set_title(self.plot, f"{self.title} against k ({self.latent_name()})",
                  f"{sweep.done} of {sweep.inertia.size} fits, {len(sweep.seeds)} seed"
                  f"{'s' if len(sweep.seeds) > 1 else ''} per k")
        self._update_legend()

    def _update_legend(self, *_args) -> None:
        if self.result is None:
            set_legend(self.plot, [])
            return
        seeds = len(self.result.seeds)
        entries = [(self.mean_curve, "mean over seeds" if seeds > 1 else "inertia"),
                   (self.seed_points, "one fit (k, seed)")]
        if seeds > 1:
            entries.append((self.spread_sample, "min … max over seeds"))
        entries.append((self.k_sample, f"k = {self.k_box.value()} (for colours)"))
        set_legend(self.plot, entries)

    def clear(self) -> None:
        self.seed_points.setData([], [])
        for item in (self.mean_curve, self.low, self.high):
            item.setData([], [])
        self.table.setRowCount(0)
        self.k_line.setVisible(False)
        set_title(self.plot, self.title)
        set_legend(self.plot, [])

    # ------------------------------------------------------------------ interaction
    def _on_plot_click(self, x: float, _y: float, _modifiers) -> None:
        if self.result is None or not self.result.finished_ks():
            return
        ks = np.asarray(self.result.finished_ks())
        self.k_box.setValue(int(ks[np.argmin(np.abs(ks - x))]))

    def colour_scatter(self) -> None:
        """Label every code by its nearest centre for the chosen k and colour the scatter by cluster."""
        latent = self.latent()
        if self.result is None or latent is None:
            self.set_status("run the sweep first")
            return
        k = self.k_box.value()
        if k not in self.result.finished_ks():
            self.set_status(f"k = {k} was not computed: pick one of {self.result.finished_ks()}")
            return
        self.state.cluster_labels = self.result.labels(latent, k)
        self.state.color_by = "cluster"
        self.set_status(f"scatter coloured by the {k} clusters")

    def _forget_clusters(self, _codes) -> None:
        """Cluster labels belong to the codes they were computed on."""
        if self.state.color_by == "cluster":
            self.state.color_by = "label"
        self.state.cluster_labels = None

    # ------------------------------------------------------------------ export
    def csv_sheets(self) -> dict[str, CsvSheet]:
        return {} if self.result is None else {"inertia": self.result.table()}
