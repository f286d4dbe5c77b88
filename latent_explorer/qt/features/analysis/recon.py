"""Reconstruction error: its distribution, and a gallery of the worst-reconstructed samples.

Each gallery tile is the image beside its reconstruction (decoded from mu for a VAE, as the error was
measured); clicking one selects that sample. A range dragged on the histogram selects, for example, every
sample with a high error.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QSpinBox

from latent_explorer.core.analysis import (
    ReconStatistics,
    Reconstruction,
    histogram,
    histogram_rows,
    iter_reconstructions,
    recon_statistics,
)
from latent_explorer.core.encoding import Codes
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.qt.features.analysis.band import BandSelector
from latent_explorer.qt.features.analysis.base import (
    SELECTION_BRUSH,
    SELECTION_PEN,
    AnalysisPanel,
    CsvSheet,
    step_curve,
)
from latent_explorer.qt.features.analysis.plotting import has_data, labelled_plot, set_legend, set_title

TILE_HEIGHT = 72
GAP = 2


class ReconErrorPanel(AnalysisPanel):
    name = "analysis-recon"
    title = "Reconstruction error"
    follows_use_mu = False  # errors were measured once, from mu for a VAE

    def build(self) -> None:
        self.width_box = self.bin_width_box("Bin width of the error histogram (auto: ~100 bins)", decimals=5)
        self.count_box = QSpinBox()
        self.count_box.setRange(1, 500)
        self.count_box.setValue(24)
        self.count_box.setKeyboardTracking(False)
        self.count_box.valueChanged.connect(self.compute)
        self.controls.addWidget(QLabel("worst"))
        self.controls.addWidget(self.count_box)
        self.plot = labelled_plot(self.graphics, self.title,
                                  "reconstruction error: mean squared error per pixel (intensities in 0…1)",
                                  self.count_label())
        self.curve = step_curve(np.zeros(1), np.zeros(2))
        self.selection_curve = step_curve(np.zeros(1), np.zeros(2), pen=SELECTION_PEN, brush=SELECTION_BRUSH)
        self.plot.addItem(self.curve)
        self.plot.addItem(self.selection_curve)
        self.add_hint(self.plot)
        self.band = BandSelector(self, self.plot, self._errors)
        self.controls.addWidget(self.band.button)
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setIconSize(QSize(2 * TILE_HEIGHT + GAP, TILE_HEIGHT))
        self.gallery.setSpacing(4)
        self.gallery.itemClicked.connect(self._on_tile_clicked)
        self.body.addWidget(self.gallery)
        self.body.setStretchFactor(0, 3)
        self.body.setStretchFactor(1, 2)

    # ------------------------------------------------------------------ computing
    def make_job(self, codes: Codes) -> Job:
        errors, width, count = codes.recon_error, self.width_box.value() or None, self.count_box.value()
        model, dataset = self.state.model, self.state.dataset
        latent = codes.mu if codes.is_variational else codes.z
        matching = dataset is not None and len(dataset) == len(codes)

        def job():
            yield Progress("reconstruction error", 0, None)
            stats = recon_statistics(errors, width, count)
            gallery: list[Reconstruction] = []
            if model is not None and matching:
                gallery = yield from iter_reconstructions(model, dataset, latent, stats.worst, errors)
            return stats, gallery

        return job()

    def make_overlay_job(self, result, selection: np.ndarray) -> Job:
        values, edges = self.state.codes.recon_error[selection], result[0].histogram.edges

        def job():
            yield Progress("selection's errors", 0, None)
            return histogram(values, edges)

        return job()

    # ------------------------------------------------------------------ drawing
    def show_result(self, result: tuple[ReconStatistics, list[Reconstruction]]) -> None:
        stats, gallery = result
        hist = stats.histogram
        self.curve.setData(hist.edges, self.scaled(hist.counts, hist.bin_width))
        self.plot.setLabel("left", self.count_label())
        measured = "decode(μ)" if self.state.codes is not None and self.state.codes.is_variational else "decode(z)"
        set_title(self.plot, f"{self.title} of {measured}",
                  f"mean {stats.mean:.4g}, median {stats.median:.4g}, 99th percentile {stats.p99:.4g}, "
                  f"max {stats.max:.4g}")
        self._update_legend()
        self.gallery.clear()
        for entry in gallery:
            item = QListWidgetItem(QIcon(QPixmap.fromImage(_tile(entry.image, entry.reconstruction))),
                                   f"#{entry.index}\n{entry.error:.4g}")
            item.setData(Qt.ItemDataRole.UserRole, entry.index)
            item.setToolTip(f"sample #{entry.index}: error {entry.error:.5g} (left: image, right: reconstruction)")
            self.gallery.addItem(item)
        if not gallery:
            self.gallery.addItem(QListWidgetItem("no model or dataset loaded: no reconstructions to show"))

    def show_overlay(self, overlay) -> None:
        if overlay is None or self.result is None:
            self.selection_curve.setData([], [])
        else:
            hist = self.result[0].histogram
            self.selection_curve.setData(hist.edges, self.scaled(overlay, hist.bin_width))
        self._update_legend()

    def _update_legend(self) -> None:
        if self.result is None:
            set_legend(self.plot, [])
            return
        entries = [(self.curve, f"all samples ({len(self.state.codes):,})" if self.state.codes is not None
                    else "all samples")]
        if has_data(self.selection_curve):
            entries.append((self.selection_curve, f"selection ({len(self.state.selection):,})"))
        set_legend(self.plot, entries)

    def clear(self) -> None:
        self.curve.setData([], [])
        self.selection_curve.setData([], [])
        set_title(self.plot, self.title)
        set_legend(self.plot, [])
        self.gallery.clear()
        self.band.reset()

    # ------------------------------------------------------------------ interaction
    def _errors(self) -> np.ndarray | None:
        codes = self.state.codes
        return None if codes is None or self.result is None else codes.recon_error

    def _on_tile_clicked(self, item: QListWidgetItem) -> None:
        index = item.data(Qt.ItemDataRole.UserRole)
        if index is None:
            return
        self.state.select([int(index)])
        self.state.current_index = int(index)

    # ------------------------------------------------------------------ export
    def csv_sheets(self) -> dict[str, CsvSheet]:
        if self.result is None:
            return {}
        stats: ReconStatistics = self.result[0]
        errors = self.state.codes.recon_error
        return {"summary": stats.summary(),
                "histogram": (["bin start", "bin end", "count"], histogram_rows(stats.histogram.edges,
                                                                              stats.histogram.counts)),
                "worst": (["index", "error"], [[int(i), float(errors[i])] for i in stats.worst])}


def _tile(image: np.ndarray, reconstruction: np.ndarray) -> QImage:
    """Image and reconstruction side by side as an 8-bit QImage (grey or RGB), scaled to the tile height."""
    pair = [np.clip(np.asarray(a, dtype=np.float32), 0.0, 1.0) for a in (image, reconstruction)]
    if pair[0].ndim != pair[1].ndim:
        pair = [a if a.ndim == 3 else np.repeat(a[..., None], 3, axis=2) for a in pair]
    h = pair[0].shape[0]
    gap = np.ones((h, GAP, *pair[0].shape[2:]), np.float32)
    joined = np.ascontiguousarray((np.concatenate([pair[0], gap, pair[1]], axis=1) * 255).astype(np.uint8))
    if joined.ndim == 2:
        qimage = QImage(joined.data, joined.shape[1], joined.shape[0], joined.strides[0],
                        QImage.Format.Format_Grayscale8)
    else:
        qimage = QImage(joined.data, joined.shape[1], joined.shape[0], joined.strides[0],
                        QImage.Format.Format_RGB888)
    return qimage.scaledToHeight(TILE_HEIGHT, Qt.TransformationMode.FastTransformation).copy()
