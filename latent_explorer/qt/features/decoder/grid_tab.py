"""Decoded grid: N × N images decoded over the rectangle on show in a PCA or raw-axes view.

The classic manifold picture for any plane and zoom. It is recomputed when the view settles
(``scatter.sigViewChanged``) by a newest-request-wins worker of its own, shown here and, if asked,
laid over the plot as an image.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Slot
from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from latent_explorer.core.decoding import grid_codes, tile_images
from latent_explorer.qt.features.decoder.cursor_tab import EXACT_KINDS, base_combo
from latent_explorer.qt.features.decoder.host import DecoderHost
from latent_explorer.qt.image_view import ImageView
from latent_explorer.workers.decode import DecodeResult, DecodeWorker

OVERLAY_OPACITY = 0.85
# batches gain from intra-op threads, but not from every core: the GUI and the live decoder need some
BATCH_THREADS = max(1, (os.cpu_count() or 2) // 2)


class GridTab(QWidget):
    def __init__(self, panel: DecoderHost):
        super().__init__()
        self.panel = panel
        self.worker = DecodeWorker(self, threads=BATCH_THREADS)
        self.worker.decoded.connect(self._on_decoded)
        self.overlay: pg.ImageItem | None = None
        self._overlay_plot: Any = None
        self._stale = True
        self.last_result: DecodeResult | None = None

        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.size_spin = QSpinBox()
        self.size_spin.setRange(2, 32)
        self.size_spin.setValue(12)
        form.addRow("Images per side", self.size_spin)
        self.base_combo = base_combo()
        form.addRow("Off-plane coordinates from", self.base_combo)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.follow_box = QCheckBox("Follow the view")
        self.follow_box.setChecked(True)
        self.follow_box.setToolTip("Decode again whenever the plot's view settles")
        self.overlay_box = QCheckBox("Lay over the plot")
        self.decode_button = QPushButton("Decode grid")
        row.addWidget(self.follow_box)
        row.addWidget(self.overlay_box)
        row.addStretch(1)
        row.addWidget(self.decode_button)
        layout.addLayout(row)
        self.image_view = ImageView(minimum=160)
        layout.addWidget(self.image_view, 1)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        layout.addWidget(self.info)

        self.decode_button.clicked.connect(lambda: self.request())
        self.size_spin.valueChanged.connect(lambda _v: self._maybe_request())
        self.base_combo.currentIndexChanged.connect(lambda _i: self._maybe_request())
        self.overlay_box.toggled.connect(self._on_overlay_toggled)

    def _wanted(self) -> bool:
        """Decode automatically only when someone looks: the tab on show or the overlay on."""
        return self.follow_box.isChecked() and (self.isVisible() or self.overlay_box.isChecked())

    def _maybe_request(self) -> None:
        if self._wanted():
            self.request()
        else:
            self._stale = True

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        if self._stale and self.follow_box.isChecked():
            self.request()

    @Slot(object)
    def on_view_changed(self, rect: Any = None) -> None:
        if self._wanted():
            self.request(rect)
        else:
            self._stale = True

    def request(self, rect: Any = None) -> int | None:
        """Decode the grid over ``rect`` (x0, x1, y0, y1), by default the scatter's visible rectangle."""
        projection, model = self.panel.projection(), self.panel.decode_model()
        base = self.panel.offplane_base(self.base_combo.currentData())
        scatter = self.panel.scatter()
        if rect is None and scatter is not None:
            rect = scatter.visible_rect()
        if projection is None or model is None or base is None or rect is None:
            self.info.setText("Load a model and its codes, and show a PCA or raw-axes view.")
            return None
        if projection.kind not in EXACT_KINDS:
            self.info.setText("A decoded grid needs a PCA or raw-axes view (a t-SNE map has no plane to sample).")
            return None
        if base.shape[-1] != model.latent_dim:
            return None
        x0, x1, y0, y1 = (float(v) for v in rect)
        if not all(np.isfinite((x0, x1, y0, y1))) or x1 <= x0 or y1 <= y0:
            return None
        n = self.size_spin.value()
        codes = grid_codes(projection, (x0, x1, y0, y1), n, base)
        self._stale = False
        return self.worker.request(model, codes, tag=(x0, x1, y0, y1, n))

    @Slot(object)
    def _on_decoded(self, result: DecodeResult) -> None:
        if result.model is not self.panel.decode_model():
            return
        self.last_result = result
        x0, x1, y0, y1, n = result.tag
        if result.ok:
            mosaic = tile_images(result.images, n)
            self.image_view.set_image(mosaic)
            x_label, y_label = self.panel.projection().axis_labels() if self.panel.projection() else ("x", "y")
            self.info.setText(f"{n}×{n} decoded over {x_label} [{x0:.3g}, {x1:.3g}] × {y_label} [{y0:.3g}, {y1:.3g}]")
            self._show_overlay(mosaic, (x0, x1, y0, y1), n)
        else:
            self.image_view.set_image(result.images[0], (result.error or "").splitlines()[0])
            self.info.setText(result.error or "")
            self._show_overlay(None, None, n)

    def mosaic(self) -> np.ndarray | None:
        return self.image_view.image()

    # ------------------------------------------------------------------ overlay on the plot
    def _on_overlay_toggled(self, on: bool) -> None:
        if on:
            self.request()
        else:
            self._show_overlay(None, None, 0)

    def _show_overlay(self, mosaic: np.ndarray | None, rect: tuple | None, n: int) -> None:
        scatter = self.panel.scatter()
        plot = getattr(scatter, "plot_item", None)
        if mosaic is None or not self.overlay_box.isChecked() or plot is None:
            if self.overlay is not None and self._overlay_plot is not None:
                self._overlay_plot.removeItem(self.overlay)
            self.overlay, self._overlay_plot = None, None
            return
        if self.overlay is None or self._overlay_plot is not plot:
            self.overlay = pg.ImageItem(axisOrder="row-major")
            self.overlay.setOpacity(OVERLAY_OPACITY)
            self.overlay.setZValue(-10)
            plot.addItem(self.overlay, ignoreBounds=True)  # never moves the view (no feedback loop)
            self._overlay_plot = plot
        x0, x1, y0, y1 = rect
        # the mosaic's first row is the top of the view; an ImageItem puts row 0 at the bottom (y0)
        self.overlay.setImage(np.flipud(mosaic), levels=(0.0, 1.0))
        self.overlay.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    def shutdown(self) -> None:
        self.worker.stop()
