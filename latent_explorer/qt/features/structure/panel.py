"""The structure panel: are the codes on filaments, and how empty is the space around them?

On request (the analysis takes seconds to minutes: exact neighbours of every code, twice), on z, μ or the
first K principal components, with k neighbours: the global TwoNN dimension, the local dimension's
histogram and its dependence on radius, the nearest-neighbour distances against a Gaussian of the same
mean, covariance and size, and the off-data meter of N(0, I) and U[−a, a] samples. When it is done the local
dimension becomes a colouring of the scatter ("local intrinsic dimension", `core.colourings`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.core.analysis.export import histogram_rows, write_csv
from latent_explorer.core.analysis.structure import DEFAULT_K, StructureAnalysis, StructureSettings, iter_structure
from latent_explorer.core.analysis.structure_curves import lid_per_sample, structure_curves
from latent_explorer.core.colourings import MeasuredColouring, publish_colouring, withdraw_colouring
from latent_explorer.core.encoding import Codes
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.core.model_report import structure_input
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.job_controls import JobControls, PanelJob, failure_line, tool_button
from latent_explorer.qt.structure_plots import StructurePlots, export_scene_png, fill_table

CsvSheet = tuple[list[str], list[list]]
LID_COLOURING = "lid"


def headline(result: StructureAnalysis) -> str:
    """The numbers the study asks for, in one line."""
    priors = " · ".join(f"{p.prior} beyond typical {100 * p.fraction_beyond_typical:.1f} %" for p in result.priors)
    return (f"TwoNN global dimension {result.data.two_nn.dimension:.3g} (Gaussian baseline "
            f"{result.gaussian.two_nn.dimension:.3g}) · local dimension median {result.data.lid_median:.3g} "
            f"(k = {result.data.k}) · NN distance ratio data ÷ Gaussian {result.nn_ratio:.3g} · {priors}")


class StructurePanel(QWidget):
    """The structure dock: settings, Compute/Cancel with progress, a headline, plots in tabs, CSV/PNG export."""

    name = "structure"
    title = "Structure"

    def __init__(self, context: FeatureContext):
        super().__init__()
        self.context = context
        self.state = context.state
        self.runner = context.jobs
        self.result: StructureAnalysis | None = None
        self.space_name = "z"
        self.job = PanelJob(self.runner, self.name, self.title)
        self.setObjectName(self.name)

        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(4, 2, 4, 2)
        self.space_box = QComboBox()
        self.space_box.setToolTip("The codes measured: z, a VAE's μ, or the first K principal components of z")
        self.controls.addWidget(QLabel("codes"))
        self.controls.addWidget(self.space_box)
        self.pca_box = self._spin("K", 10, 1, 4096, "Principal components kept for PCA-K")
        self.k_box = self._spin("k neighbours", DEFAULT_K, 2, 1000,
                                "Neighbours of each code for the local (Levina–Bickel) dimension")
        self.space_box.currentIndexChanged.connect(self._sync_pca_box)
        self.compute_button = QPushButton("Compute")
        self.compute_button.setToolTip("Measure the structure of these codes (exact neighbours; cancellable)")
        self.compute_button.clicked.connect(self.compute)
        self.job_controls = JobControls(self.cancel, width=140)
        self.progress_bar, self.cancel_button = self.job_controls.progress_bar, self.job_controls.cancel_button
        self.colour_button = QPushButton("Colour scatter")
        self.colour_button.setToolTip("Colour the scatter by each code's local intrinsic dimension")
        self.colour_button.setEnabled(False)
        self.colour_button.clicked.connect(self.colour_scatter)
        self.png_button = tool_button("PNG", self.ask_export_png, "Export the plots of this tab as a PNG image")
        self.csv_button = tool_button("CSV", self.ask_export_csv, "Export the numbers behind the plots as CSV")
        self.controls.addWidget(self.compute_button)
        self.controls.addWidget(self.colour_button)
        self.controls.addStretch(1)
        for widget in (self.progress_bar, self.cancel_button, self.png_button, self.csv_button):
            self.controls.addWidget(widget)

        self.headline = QLabel("")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.graphics = pg.GraphicsLayoutWidget()
        self.voids = pg.GraphicsLayoutWidget()
        self.table = QTableWidget()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.graphics, "Local dimension")
        self.tabs.addTab(self.voids, "Voids and priors")
        self.tabs.addTab(self.table, "Numbers")
        self.plots = StructurePlots(self.graphics, self.voids)
        self.status = QLabel("")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self.controls)
        layout.addWidget(self.headline)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)

        self.state.events.codes.connect(self._on_codes)
        self._on_codes(self.state.codes)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def _spin(self, label: str, value: int, low: int, high: int, tip: str) -> QSpinBox:
        box = QSpinBox()
        box.setRange(low, high)
        box.setValue(value)
        box.setToolTip(tip)
        self.controls.addWidget(QLabel(label))
        self.controls.addWidget(box)
        return box

    def _sync_spaces(self, *_args) -> None:
        codes = self.state.codes
        current = self.space_box.currentData()
        self.space_box.blockSignals(True)
        self.space_box.clear()
        self.space_box.addItem("z", "z")
        if codes is not None and codes.mu is not None:
            self.space_box.addItem("μ (VAE mean)", "mu")
        self.space_box.addItem("PCA-K of z", "pca")
        index = self.space_box.findData(current)
        self.space_box.setCurrentIndex(max(index, 0))
        self.space_box.blockSignals(False)
        if codes is not None:
            self.pca_box.setMaximum(codes.latent_dim)
        self._sync_pca_box()

    def _sync_pca_box(self) -> None:
        self.pca_box.setEnabled(self.space_box.currentData() == "pca")

    def space(self) -> str:
        """The ``structure_input`` name of the chosen codes: "z", "mu" or "pca:K"."""
        kind = self.space_box.currentData() or "z"
        return f"pca:{self.pca_box.value()}" if kind == "pca" else kind

    def settings(self) -> StructureSettings:
        return StructureSettings(k=self.k_box.value())

    # ------------------------------------------------------------------ computing
    def make_job(self, codes: Codes) -> Job[StructureAnalysis]:
        space, settings = self.space(), self.settings()
        self.space_name = {"z": "z", "mu": "μ"}.get(space, space.replace("pca:", "PCA-"))

        def job():
            x = structure_input(codes, space)  # a PCA is fitted in the worker, not in the GUI thread
            return (yield from iter_structure(x, settings))

        return job()

    def compute(self) -> None:
        """Start the analysis on the current codes (replacing a running one)."""
        codes = self.state.codes
        if codes is None:
            self.set_status("no codes yet: open a model and a dataset")
            return
        job = self.make_job(codes)
        self.job.start(job, on_progress=self._on_progress, on_done=self._on_finished, on_error=self._on_failed,
                       on_cancel=self._on_cancelled)
        self.set_status("computing…")

    def cancel(self) -> None:
        self.runner.cancel(self.name)

    def _on_codes(self, codes: Codes | None) -> None:
        self.job.drop()
        self.result = None
        self.clear()
        self._sync_spaces()
        self.set_status("no codes yet: open a model and a dataset" if codes is None else
                        f"{len(codes):,} codes (z_dim {codes.latent_dim}) ready: press Compute")

    def _on_progress(self, progress: Progress) -> None:
        if not isinstance(progress, Progress):
            return
        self.set_status(self.job_controls.show(progress))

    def _idle(self) -> None:
        self.job_controls.idle()

    def _on_finished(self, result: StructureAnalysis) -> None:
        self._idle()
        self.result = result
        self.show_result(result)
        publish_colouring(self.state, MeasuredColouring(
            LID_COLOURING, f"local intrinsic dimension (k = {result.data.k}, {self.space_name})", "local ID",
            lid_per_sample(result)))
        self.colour_button.setEnabled(True)
        self.set_status(f"ready in {self.job.elapsed_s():.1f} s: {result.count:,} codes in "
                        f"{result.dim} dimensions; “Colour scatter” colours the scatter by the local dimension")

    def _on_failed(self, exc: BaseException) -> bool:
        self._idle()
        self.set_status(f"failed: {failure_line(exc)}")
        return False  # the runner's reporter tells the user as well

    def _on_cancelled(self, _partial) -> None:
        self._idle()
        if not self.job.replacing:
            self.set_status("cancelled")

    def show_result(self, result: StructureAnalysis) -> None:
        self.plots.show(result, structure_curves(result), self.space_name)
        self.headline.setText(headline(result) + "".join(f"\n{note}" for note in result.notes))
        fill_table(self.table, *result.summary())

    def colour_scatter(self) -> None:
        if self.result is not None:
            self.state.color_by = LID_COLOURING

    def clear(self) -> None:
        self.plots.clear()
        self.headline.setText("")
        self.table.setRowCount(0)
        self.colour_button.setEnabled(False)
        withdraw_colouring(self.state, LID_COLOURING)

    # ------------------------------------------------------------------ export
    def export_png(self, path: str | Path) -> Path:
        """The tab in front (its two plots) as a PNG; the first tab when the table is in front."""
        widget = self.tabs.currentWidget()
        return export_scene_png(widget if isinstance(widget, pg.GraphicsLayoutWidget) else self.graphics, path)

    def export_csv(self, path: str | Path) -> list[Path]:
        """The summary goes to ``path``, every other sheet beside it as ``<stem>-<sheet>.csv``."""
        path = Path(path)
        written = []
        for number, (sheet, (header, rows)) in enumerate(self.csv_sheets().items()):
            target = path if number == 0 else path.with_name(f"{path.stem}-{sheet}{path.suffix or '.csv'}")
            written.append(write_csv(target, header, rows))
        return written

    def ask_export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the structure plots as PNG", "structure.png",
                                              "PNG images (*.png)")
        if path:
            try:
                self.set_status(f"wrote {self.export_png(path)}")
            except Exception as exc:  # noqa: BLE001 - any failure is reported, the session goes on
                self.context.errors.show_error(exc, "PNG export failed")

    def ask_export_csv(self) -> None:
        if self.result is None:
            self.set_status("nothing to export yet: press Compute")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the structure numbers as CSV", "structure.csv",
                                              "CSV files (*.csv)")
        if path:
            try:
                self.set_status("wrote " + ", ".join(p.name for p in self.export_csv(path)))
            except OSError as exc:
                self.context.errors.show_error(exc, "CSV export failed")

    def csv_sheets(self) -> dict[str, CsvSheet]:
        result: StructureAnalysis | None = self.result
        if result is None:
            return {}
        curves = structure_curves(result)
        paired = ["bin start", "bin end", "codes", "Gaussian baseline"]
        binned = result.lid_by_radius
        priors = list(curves.prior_counts)
        return {
            "summary": result.summary(),
            "local-dimension": (["sample", "local dimension", "nearest-neighbour distance"],
                                [[int(i), float(v), float(d)] for i, v, d in
                                 zip(result.data.points, result.data.lid, result.data.nn_distance, strict=True)]),
            "lid-histogram": (paired, curves.lid.rows()),
            "lid-by-radius": (["radius from", "radius to", "codes", "median", "25th percentile", "75th percentile"],
                              [[float(binned.edges[b]), float(binned.edges[b + 1]), int(binned.counts[b]),
                                float(binned.median[b]), float(binned.lower[b]), float(binned.upper[b])]
                               for b in range(len(binned.counts))]),
            "nn-distance": (paired, curves.nn_distance.rows()),
            "prior-scores": (["score from", "score to", *priors],
                             histogram_rows(curves.prior_edges, *(np.asarray(curves.prior_counts[p]) for p in priors))),
        }
