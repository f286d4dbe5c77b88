"""Prior sampling: decode random z from N(0, I) or uniform [−a, a] and see where they land.

The classic result: a plain autoencoder decodes garbage from random codes while a VAE decodes garments.
A second column decodes the same draw with another model (a built-in demo) so both show side by side.
The samples' radii are reported against the data's, and the samples are drawn in the current view
(exactly for raw/PCA, by their nearest codes on a t-SNE map, refined by openTSNE's transform on request).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.core.decoding import (
    DecodeError,
    RadiusReport,
    error_tile,
    iter_decode_batched,
    iter_exact_map_placement,
    radius_report,
    sample_prior,
    tile_images,
)
from latent_explorer.core.jobs import Progress
from latent_explorer.core.models import demo_models
from latent_explorer.qt.features.decoder.host import DecoderHost
from latent_explorer.qt.image_view import ImageView

SAMPLE_JOB = "prior-samples"
PLACE_JOB = "prior-placement"
DATA_RADIUS_SAMPLE = 1000
PRIOR_LABELS = (("normal", "N(0, I)"), ("uniform", "uniform [−a, a]"))


@dataclass
class PriorColumn:
    """One model's decodes of a prior draw."""

    name: str
    z: np.ndarray
    mosaic: np.ndarray
    error: str | None
    report: RadiusReport | None


@dataclass
class PriorDraw:
    columns: list[PriorColumn]
    compare_spec: str | None
    compare_model: Any
    model: Any = None  # the model the first column was decoded with: a draw for a replaced model is dropped


def data_radius_of(model: Any, dataset: Any, sample: int = DATA_RADIUS_SAMPLE, seed: int = 0) -> float | None:
    """Median ‖z‖ of a sample of the dataset encoded by ``model`` (for a model whose codes we do not hold)."""
    import torch

    if dataset is None or tuple(dataset.image_shape) != tuple(model.input_shape):
        return None
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(dataset), min(sample, len(dataset)), replace=False))
    encoding = model.encode(torch.from_numpy(dataset.float_images(pick)), generator=torch.Generator().manual_seed(seed))
    z = (encoding.mu if encoding.mu is not None else encoding.z).cpu().numpy()
    return float(np.median(np.linalg.norm(z, axis=1)))


def decode_column(name: str, model: Any, z: np.ndarray, side: int, data_radius: float | None):
    """Job: one column of decoded prior samples (an error tile with the message if the decoder fails)."""
    try:
        images = yield from iter_decode_batched(model, z, stage=f"decoding prior samples ({name})")
        mosaic, error = tile_images(images, side), None
    except DecodeError as exc:
        _, h, w = model.input_shape
        mosaic, error = error_tile(h, w), str(exc)
    report = radius_report(z, data_radius) if data_radius else None
    return PriorColumn(name, z, mosaic, error, report)


class PriorTab(QWidget):
    def __init__(self, panel: DecoderHost):
        super().__init__()
        self.panel = panel
        self.draw: PriorDraw | None = None
        self.samples_xy: np.ndarray | None = None
        self._compare_models: dict[str, Any] = {}
        self._affinities: tuple[Any, Any] | None = None  # (codes, openTSNE affinities) for exact placement
        self.overlay: pg.ScatterPlotItem | None = None
        self._overlay_plot: Any = None
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.kind_combo = QComboBox()
        for value, label in PRIOR_LABELS:
            self.kind_combo.addItem(label, value)
        form.addRow("Distribution", self.kind_combo)
        scale_row = QHBoxLayout()
        self.scale_spin = QDoubleSpinBox()
        self.scale_spin.setRange(0.01, 1000.0)
        self.scale_spin.setValue(2.0)
        self.scale_spin.setToolTip("Half-width a of the uniform box")
        scale_row.addWidget(self.scale_spin)
        for value in (2.0, 10.0):
            button = QPushButton(f"a = {value:g}")
            button.clicked.connect(lambda _c=False, v=value: self._use_uniform(v))
            scale_row.addWidget(button)
        form.addRow("a", scale_row)
        self.side_spin = QSpinBox()
        self.side_spin.setRange(1, 16)
        self.side_spin.setValue(6)
        form.addRow("Images per side", self.side_spin)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        form.addRow("Seed", self.seed_spin)
        self.compare_combo = QComboBox()
        self.compare_combo.addItem("(no second model)", None)
        for name in demo_models():
            self.compare_combo.addItem(f"demo: {name}", f"demo:{name}")
        self.compare_combo.setToolTip("Decode the same draw with another model, side by side (e.g. AE vs VAE)")
        form.addRow("Compare with", self.compare_combo)
        layout.addLayout(form)

        row = QHBoxLayout()
        self.plot_box = QCheckBox("Show in the plot")
        self.plot_box.setChecked(True)
        self.exact_button = QPushButton("Exact t-SNE placement")
        self.exact_button.setToolTip("Place the samples with openTSNE's transform (slow: a background job)")
        self.exact_button.setEnabled(False)
        self.sample_button = QPushButton("Sample")
        row.addWidget(self.plot_box)
        row.addWidget(self.exact_button)
        row.addStretch(1)
        row.addWidget(self.sample_button)
        layout.addLayout(row)

        grid = QGridLayout()
        self.views = [ImageView(minimum=120), ImageView(minimum=120)]
        self.titles = [QLabel(""), QLabel("")]
        self.reports = [QLabel(""), QLabel("")]
        for col in range(2):
            self.reports[col].setWordWrap(True)
            grid.addWidget(self.titles[col], 0, col)
            grid.addWidget(self.views[col], 1, col)
            grid.addWidget(self.reports[col], 2, col)
        layout.addLayout(grid, 1)
        self._show_second_column(False)

        self.sample_button.clicked.connect(lambda: self.sample())
        self.plot_box.toggled.connect(lambda _on: self.place_samples())
        self.exact_button.clicked.connect(lambda: self.place_exact())

    def _use_uniform(self, scale: float) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData("uniform"))
        self.scale_spin.setValue(scale)

    def _show_second_column(self, on: bool) -> None:
        for widget in (self.views[1], self.titles[1], self.reports[1]):
            widget.setVisible(on)

    # ------------------------------------------------------------------ sampling
    def sample(self) -> None:
        """Draw, decode (with the second model too, if chosen) and report, as a background job."""
        model, latent = self.panel.decode_model(), self.panel.latent()
        if model is None:
            self.reports[0].setText("Load a model first.")
            return
        side = self.side_spin.value()
        kind, scale, seed = self.kind_combo.currentData(), self.scale_spin.value(), self.seed_spin.value()
        z = sample_prior(side * side, model.latent_dim, kind, scale, seed)
        prepared = self.panel.prepared
        if prepared is not None and latent is not None and latent.shape[1] == model.latent_dim:
            data_radius = prepared.summary.median_radius
        elif latent is not None and latent.shape[1] == model.latent_dim:
            data_radius = float(np.median(np.linalg.norm(latent, axis=1)))
        else:
            data_radius = None
        spec = self.compare_combo.currentData()
        cached = self._compare_models.get(spec) if spec else None
        if spec and cached is None:  # load it first, through the window's flow (consent), then draw again
            self._show_second_column(True)
            self.reports[1].setText(f"loading {spec}…")
            self.panel.load_model(spec, on_loaded=lambda other: self._compare_loaded(spec, other),
                                  on_failed=lambda exc: self.reports[1].setText(
                                      f"{spec} not loaded: {(str(exc).splitlines() or [''])[0]}"))
            return
        dataset = self.panel.state.dataset

        def job():
            first = yield from decode_column(model.name, model, z, side, data_radius)
            columns = [first]
            other = cached
            if spec:
                other_z = z if other.latent_dim == model.latent_dim else sample_prior(
                    side * side, other.latent_dim, kind, scale, seed)
                yield Progress("encoding a sample for the second model's radius", 0, None)
                radius = data_radius_of(other, dataset)
                second = yield from decode_column(other.name, other, other_z, side, radius)
                columns.append(second)
            return PriorDraw(columns, spec, other, model)

        self.panel.runner().start(SAMPLE_JOB, job, title="prior samples", on_done=self._on_sampled)

    def reset(self) -> None:
        """New codes or a new model: the samples shown, their reports and their marks on the plot go."""
        self.draw = None
        self.samples_xy = None
        self._affinities = None
        for view, title, report in zip(self.views, self.titles, self.reports, strict=True):
            view.set_image(None)
            title.setText("")
            report.setText("")
        self._show_second_column(False)
        self._draw_overlay()
        self.exact_button.setEnabled(False)

    def _compare_loaded(self, spec: str, model: Any) -> None:
        self._compare_models[spec] = model
        if self.compare_combo.currentData() == spec:
            self.sample()

    def _on_sampled(self, draw: PriorDraw) -> None:
        if draw.model is self.panel.decode_model():
            self._show_draw(draw)

    def _on_placed(self, result: Any) -> None:
        codes, xy, affinities, draw, view = result
        if codes is not self.panel.latent():
            return  # placed into the map of codes that have been replaced since
        self._affinities = (codes, affinities)
        if draw is self.draw and view == self.panel.state.view:
            self.samples_xy = xy
            self._draw_overlay()

    def _show_draw(self, draw: PriorDraw) -> None:
        self.draw = draw
        if draw.compare_spec and draw.compare_model is not None:
            self._compare_models[draw.compare_spec] = draw.compare_model
        for col, column in enumerate(draw.columns):
            self.titles[col].setText(f"<b>{column.name}</b>")
            self.views[col].set_image(column.mosaic, (column.error or "").splitlines()[0] if column.error else "")
            self.reports[col].setText(column.report.text() if column.report else
                                      ("" if column.error else "median ‖z‖ of the data unknown for this model"))
        self._show_second_column(len(draw.columns) > 1)
        self.place_samples()

    # ------------------------------------------------------------------ placing in the plot
    def on_view_changed(self) -> None:
        self.place_samples()

    def place_samples(self) -> None:
        """Draw the current model's samples in the view (nearest-code placement on a map)."""
        projection = self.panel.projection()
        self.exact_button.setEnabled(projection is not None and projection.kind == "tsne" and self.draw is not None)
        if self.draw is None or projection is None or not self.plot_box.isChecked():
            self.samples_xy = None
        else:
            z = self.draw.columns[0].z
            latent = self.panel.latent()
            if latent is None or z.shape[1] != latent.shape[1]:
                self.samples_xy = None
            else:
                self.samples_xy = np.asarray(projection.transform(z), np.float64).reshape(-1, 2)
        self._draw_overlay()

    def place_exact(self) -> None:
        """openTSNE's transform of the samples into the t-SNE map, as a job with a busy indicator."""
        projection, latent = self.panel.projection(), self.panel.latent()
        coords = getattr(projection, "coords", None)
        if self.draw is None or coords is None or latent is None or len(coords) != len(latent):
            return
        z = self.draw.columns[0].z
        affinities = self._affinities[1] if self._affinities and self._affinities[0] is latent else None

        draw, view = self.draw, self.panel.state.view

        def job():
            xy, aff = yield from iter_exact_map_placement(coords, latent, z, affinities=affinities)
            return latent, xy, aff, draw, view

        self.panel.runner().start(PLACE_JOB, job, title="placing prior samples", on_done=self._on_placed)

    def _draw_overlay(self) -> None:
        scatter = self.panel.scatter()
        plot = getattr(scatter, "plot_item", None)
        if self.samples_xy is None or plot is None:
            if self.overlay is not None and self._overlay_plot is not None:
                self._overlay_plot.removeItem(self.overlay)
            self.overlay, self._overlay_plot = None, None
            return
        if self.overlay is None or self._overlay_plot is not plot:
            self.overlay = pg.ScatterPlotItem(symbol="x", size=10, pen=pg.mkPen("#d81b60", width=2), brush=None,
                                              name="prior samples")
            self.overlay.setZValue(20)
            plot.addItem(self.overlay)
            self._overlay_plot = plot
        finite = np.isfinite(self.samples_xy).all(axis=1)
        self.overlay.setData(pos=self.samples_xy[finite])
