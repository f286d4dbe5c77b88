"""The comparison window: the current model and a second one on the same samples, side by side.

Top: the second model (a built-in demo or a checkpoint folder / model.toml), how many samples, Compare with
progress and Cancel. Then each model's scatter on its own PCA 1/2, with the selection linked by sample
through ``state.selection`` (a rectangle dragged in either scatter selects those samples everywhere, the main
window included), and the decoded N(0, I) samples of each model in two columns. Below: both radius
distributions, both per-axis value distributions and both local-dimension distributions overlaid, and the
structure numbers side by side. The computation is `core.comparison.iter_comparison`, in a worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.core.analysis.structure import StructureSettings
from latent_explorer.core.analysis.structure_curves import paired
from latent_explorer.core.colors import DESELECTED_COLOR, categorical_palette
from latent_explorer.core.comparison import DEFAULT_SAMPLES, Comparison, iter_comparison
from latent_explorer.core.models import demo_models, load_model
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.job_controls import JobControls, failure_line
from latent_explorer.qt.structure_plots import MIN_PLOT_HEIGHT, fill_table, plain_plot, reset, steps

JOB = "compare"
MODEL_PENS = (pg.mkPen(31, 119, 180, width=2), pg.mkPen(214, 39, 40, width=2))
SELECTED_PEN = pg.mkPen(0, 0, 0, width=1.2)
PRIOR_COLUMNS = 4
SMALL_SAMPLES = 2000  # the least the sample box allows
SIDE_WIDTH = 460  # the right-hand column: prior samples above, structure numbers below


# ---------------------------------------------------------------------------------------------- scatter
class SelectingViewBox(pg.ViewBox):
    """Left-drag draws a rectangle and selects the points inside it; the wheel and right-drag zoom."""

    def __init__(self, on_rectangle: Callable[[QRectF, bool], None]):
        super().__init__()
        self.on_rectangle = on_rectangle
        self.band = pg.QtWidgets.QGraphicsRectItem()
        self.band.setPen(pg.mkPen(0, 0, 0, style=Qt.PenStyle.DashLine))
        self.band.setBrush(pg.mkBrush(0, 0, 0, 25))
        self.band.setZValue(1e9)
        self.band.hide()
        self.addItem(self.band, ignoreBounds=True)

    def mouseDragEvent(self, event, axis=None) -> None:  # noqa: N802 - pyqtgraph name
        if event.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(event, axis)
            return
        event.accept()
        rect = QRectF(self.mapToView(event.buttonDownPos()), self.mapToView(event.pos())).normalized()
        self.band.setRect(rect)
        self.band.setVisible(not event.isFinish())
        if event.isFinish():
            self.on_rectangle(rect, bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))


class ModelScatter:
    """One model's codes on its PCA 1/2, coloured by label; the selected samples drawn on top, outlined."""

    def __init__(self, layout: pg.GraphicsLayoutWidget, on_select: Callable[[np.ndarray, bool], None]):
        self.view = SelectingViewBox(self._on_rectangle)
        self.plot = layout.addPlot(viewBox=self.view, title="")
        for name in ("bottom", "left"):
            self.plot.getAxis(name).enableAutoSIPrefix(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.legend = self.plot.addLegend(offset=(-5, 5), labelTextSize="8pt", verSpacing=-6)
        self.points = pg.ScatterPlotItem(size=3, pen=None)
        self.selected = pg.ScatterPlotItem(size=6, pen=SELECTED_PEN)
        self.plot.addItem(self.points)
        self.plot.addItem(self.selected)
        self.on_select = on_select
        self.xy = np.zeros((0, 2), np.float32)
        self.colours = np.zeros((0, 4), np.uint8)

    def show(self, title: str, xy: np.ndarray, explained: tuple[float, float], labels: np.ndarray | None,
             class_names: list[str]) -> None:
        self.xy = xy
        count = int(labels.max()) + 1 if labels is not None and len(labels) else 1
        palette = categorical_palette(max(count, 1))
        rgb = palette[labels] if labels is not None else np.tile(palette[:1], (len(xy), 1))
        self.colours = np.column_stack([rgb, np.full(len(xy), 200)]).astype(np.uint8)
        self.points.setData(pos=xy, brush=[pg.mkBrush(*c) for c in self.colours])
        self.legend.clear()
        if labels is not None:
            for k in range(count):
                name = class_names[k] if k < len(class_names) else str(k)
                self.legend.addItem(pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(*palette[k])), name)
        self.plot.setTitle(title)
        self.plot.setLabel("bottom", f"PCA 1 ({100 * explained[0]:.1f} % of the variance)")
        self.plot.setLabel("left", f"PCA 2 ({100 * explained[1]:.1f} % of the variance)")
        self.plot.autoRange()

    def highlight(self, rows: np.ndarray) -> None:
        """Outline the points at ``rows`` (positions in this scatter) and grey the others."""
        if len(self.xy) == 0:
            return
        if len(rows) == 0:
            self.points.setBrush([pg.mkBrush(*c) for c in self.colours])
            self.selected.setData([], [])
            return
        grey = pg.mkBrush(*DESELECTED_COLOR, 120)
        self.points.setBrush([grey] * len(self.xy))
        self.selected.setData(pos=self.xy[rows], brush=[pg.mkBrush(*c[:3]) for c in self.colours[rows]])

    def clear(self) -> None:
        self.xy = np.zeros((0, 2), np.float32)
        self.points.setData([], [])
        self.selected.setData([], [])
        self.legend.clear()
        self.plot.setTitle("")

    def _on_rectangle(self, rect: QRectF, add: bool) -> None:
        if len(self.xy) == 0:
            return
        x, y = self.xy[:, 0], self.xy[:, 1]
        inside = (x >= rect.left()) & (x <= rect.right()) & (y >= rect.top()) & (y <= rect.bottom())
        self.on_select(np.flatnonzero(inside), add)


def mosaic(images: np.ndarray, columns: int = PRIOR_COLUMNS, gap: int = 2) -> np.ndarray:
    """(n, C, H, W) images in [0, 1] tiled into one (rows·H, columns·W[, 3]) image with white gaps."""
    n, c, h, w = images.shape
    rows = -(-n // columns)
    out = np.ones((rows * (h + gap) - gap, columns * (w + gap) - gap, c), np.float32)
    for k in range(n):
        r, col = divmod(k, columns)
        out[r * (h + gap):r * (h + gap) + h, col * (w + gap):col * (w + gap) + w] = images[k].transpose(1, 2, 0)
    return out[..., 0] if c == 1 else out


# ---------------------------------------------------------------------------------------------- window
class CompareWindow(QWidget):
    """A top-level window comparing the current model with a second one."""

    def __init__(self, context: FeatureContext):
        super().__init__(context.parent, Qt.WindowType.Window)
        self.context = context
        self.state = context.state
        self.runner = context.jobs
        self.result: Comparison | None = None
        self.second_spec: str | None = None
        self._started = 0.0
        self._pending = False  # compare as soon as codes arrive (asked for before they existed)
        self.setWindowTitle("Latent Explorer — compare two models")
        self.setObjectName("compare")
        self.resize(1600, 1000)

        controls = QHBoxLayout()
        self.model_box = QComboBox()
        self.model_box.setToolTip("The second model: a built-in demo, or a checkpoint folder or model.toml")
        for name in demo_models():
            self.model_box.addItem(f"demo: {name}", f"demo:{name}")
        self.model_box.addItem("Open a model file…", "")
        self.model_box.activated.connect(self._on_model_chosen)
        self.samples_box = QSpinBox()
        self.samples_box.setRange(SMALL_SAMPLES, 10_000_000)
        self.samples_box.setSingleStep(5000)
        self.samples_box.setValue(DEFAULT_SAMPLES)
        self.samples_box.setToolTip("Samples compared (a random subset, the same rows for both models): "
                                    "two encodings and two structure analyses, about a minute at 10,000 on "
                                    "two CPU cores; the whole of Fashion-MNIST (70,000) takes several minutes")
        self.k_box = QSpinBox()
        self.k_box.setRange(2, 1000)
        self.k_box.setValue(20)
        self.k_box.setToolTip("Neighbours for the local intrinsic dimension")
        self.compare_button = QPushButton("Compare")
        self.compare_button.clicked.connect(self.compare)
        self.job_controls = JobControls(lambda: self.runner.cancel(JOB), width=160)
        self.progress_bar, self.cancel_button = self.job_controls.progress_bar, self.job_controls.cancel_button
        self.clear_button = QPushButton("Clear selection")
        self.clear_button.clicked.connect(lambda: self.state.select([]))
        for widget in (QLabel("second model"), self.model_box, QLabel("samples"), self.samples_box,
                       QLabel("k neighbours"), self.k_box, self.compare_button, self.progress_bar,
                       self.cancel_button, self.clear_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        self.scatters_view = pg.GraphicsLayoutWidget()
        self.scatters_view.setMinimumHeight(MIN_PLOT_HEIGHT + 80)
        self.scatters = (ModelScatter(self.scatters_view, lambda rows, add: self._on_scatter_select(0, rows, add)),
                         ModelScatter(self.scatters_view, lambda rows, add: self._on_scatter_select(1, rows, add)))
        self.priors_view = pg.GraphicsLayoutWidget()
        self.prior_boxes, self.prior_images = [], []
        for column in range(2):
            box = self.priors_view.addViewBox(row=1, col=column, lockAspect=True, enableMouse=False)
            box.invertY(True)
            image = pg.ImageItem(axisOrder="row-major")
            box.addItem(image)
            self.prior_boxes.append(box)
            self.prior_images.append(image)
        self.prior_titles = [self.priors_view.addLabel("", row=0, col=column) for column in range(2)]
        self.plots_view = pg.GraphicsLayoutWidget()
        self.plots_view.setMinimumHeight(MIN_PLOT_HEIGHT + 30)
        self.radius_plot = plain_plot(self.plots_view, "Radius of the codes", "radius ‖z‖ (L2)", "codes per bin")
        self.axis_plot = plain_plot(self.plots_view, "Per-axis density (every axis pooled)",
                                    "value of one coordinate z_i", "values per bin")
        self.lid_plot = plain_plot(self.plots_view, "Local intrinsic dimension", "local dimension (Levina–Bickel)",
                                   "codes per bin")
        self.axis_box = QSpinBox()
        self.axis_box.setRange(-1, 4095)
        self.axis_box.setValue(-1)
        self.axis_box.setSpecialValueText("all axes")
        self.axis_box.setToolTip("The latent axis whose density is drawn (all axes pooled by default)")
        self.axis_box.valueChanged.connect(self._draw_axes)
        self.table = QTableWidget()
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.names_label = QLabel("")
        self.names_label.setWordWrap(True)
        self.priors_view.setFixedWidth(SIDE_WIDTH)
        self.table.setFixedWidth(SIDE_WIDTH)
        self.names_label.setFixedWidth(SIDE_WIDTH)

        grid = QGridLayout()
        grid.addWidget(self.scatters_view, 0, 0)
        grid.addWidget(self.priors_view, 0, 1)
        grid.addWidget(self.plots_view, 1, 0)
        right = QVBoxLayout()
        axis_row = QHBoxLayout()
        axis_row.addWidget(QLabel("per-axis density of axis"))
        axis_row.addWidget(self.axis_box)
        axis_row.addStretch(1)
        right.addLayout(axis_row)
        right.addWidget(self.names_label)
        right.addWidget(self.table, 1)
        grid.addLayout(right, 1, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addLayout(grid, 1)

        self.state.events.codes.connect(self._on_codes)
        self.state.events.selection.connect(self._on_selection)
        self._say_ready()

    # ------------------------------------------------------------------ choosing and computing
    def set_second_model(self, spec: str) -> None:
        index = self.model_box.findData(spec)
        if index < 0:
            self.model_box.insertItem(self.model_box.count() - 1, spec, spec)
            index = self.model_box.findData(spec)
        self.model_box.setCurrentIndex(index)
        self.second_spec = spec

    def compare_with(self, spec: str) -> None:
        """Show the window on ``spec`` and compare as soon as the current model's codes exist."""
        self.set_second_model(spec)
        self.show()
        self.raise_()
        self._pending = self.state.codes is None
        if not self._pending:
            self.compare()
        else:
            self.status.setText(f"compares with {spec} when the current model's codes are ready")

    def _on_model_chosen(self, index: int) -> None:
        spec = self.model_box.itemData(index)
        if spec == "":
            path = QFileDialog.getExistingDirectory(self, "Choose a checkpoint folder (or one with a model.toml)")
            if not path:
                return
            self.set_second_model(path)
        else:
            self.second_spec = spec

    def compare(self) -> None:
        state = self.state
        spec = self.model_box.currentData() or self.second_spec
        if state.codes is None or state.dataset is None or state.model is None:
            self.status.setText("open a model and a dataset in the main window first")
            return
        if not spec:
            self.status.setText("choose the second model")
            return
        self.second_spec = spec
        first_name = self._model_name(state.model)
        count = min(self.samples_box.value(), len(state.dataset))
        dataset, codes, model = state.dataset, state.codes, state.model
        settings = StructureSettings(k=self.k_box.value(), prior_samples=1000)

        def job():
            second = load_model(spec, device="cpu", check_samples=dataset.float_images(slice(0, 2)))
            names = (f"A: {first_name}", f"B: {self._model_name(second, spec)}")
            return (yield from iter_comparison(names, (model, second), dataset, codes, count, settings))

        self._started = time.perf_counter()
        self.runner.start(JOB, job, title="Compare two models", on_progress=self._on_progress,
                          on_done=self._on_done, on_error=self._on_failed, on_cancel=self._on_cancelled)
        self.status.setText(f"comparing on {count:,} of {len(dataset):,} samples…")

    @staticmethod
    def _model_name(model, spec: str | None = None) -> str:
        info = getattr(model, "info", None)
        source = str(getattr(info, "source", "") or spec or getattr(info, "name", "model"))
        return Path(source).name or source

    def _on_progress(self, progress) -> None:
        self.status.setText(self.job_controls.show(progress))

    def _idle(self) -> None:
        self.job_controls.idle()

    def _on_done(self, result: Comparison) -> None:
        self._idle()
        self.result = result
        self.draw()
        n, total = len(result.samples), len(self.state.dataset) if self.state.dataset is not None else 0
        subset = (f"a random {n:,} of the {total:,} samples (the same rows for both; raise 'samples' for more, "
                  "slower)" if n < total else f"all {n:,} samples")
        self.status.setText(f"compared on {subset} in {time.perf_counter() - self._started:.0f} s. Drag a "
                            "rectangle in either scatter to select samples: they light up in both.")

    def _on_failed(self, exc: BaseException) -> bool:
        self._idle()
        self.status.setText(f"failed: {failure_line(exc)}")
        return False  # the runner's reporter tells the user as well

    def _on_cancelled(self, _partial) -> None:
        self._idle()
        self.status.setText("cancelled")

    def _on_codes(self, _codes) -> None:
        """New codes (another model or dataset): the comparison no longer holds; redo it if one was shown."""
        self.runner.cancel(JOB)
        had_result = self.result is not None
        self.result = None
        self.clear()
        if self.second_spec and self.state.codes is not None and (self._pending or had_result and self.isVisible()):
            self._pending = False
            self.compare()
        else:
            self._say_ready()

    def _say_ready(self) -> None:
        dataset = self.state.dataset
        if self.state.codes is None or dataset is None:
            self.status.setText("open a model and a dataset in the main window, then compare")
        else:
            self.status.setText(f"{len(dataset):,} samples: choose the second model and press Compare (on "
                                f"{min(self.samples_box.value(), len(dataset)):,} samples)")

    # ------------------------------------------------------------------ drawing
    def clear(self) -> None:
        for scatter in self.scatters:
            scatter.clear()
        for image, title in zip(self.prior_images, self.prior_titles, strict=True):
            image.clear()
            title.setText("")
        for plot in (self.radius_plot, self.axis_plot, self.lid_plot):
            reset(plot)
        self.table.setRowCount(0)
        self.names_label.setText("")

    def draw(self) -> None:
        result = self.result
        if result is None:
            return
        dataset = self.state.dataset
        names = list(dataset.class_names or []) if dataset is not None else []
        for scatter, side in zip(self.scatters, result.sides, strict=True):
            labels = side.codes.labels
            scatter.show(f"{side.name} — PCA of its own codes", side.xy, side.explained,
                         None if labels is None else np.asarray(labels, np.int64), names)
        for image, box, title, side in zip(self.prior_images, self.prior_boxes, self.prior_titles, result.sides,
                                           strict=True):
            image.setImage(mosaic(side.prior_images), levels=(0.0, 1.0))
            box.autoRange(padding=0.02)
            title.setText(f"{side.name}<br>decode(z), z ~ N(0, I)")
        reset(self.radius_plot, "Radius ‖z‖ of the codes")
        for side, pen in zip(result.sides, MODEL_PENS, strict=True):
            steps(self.radius_plot, result.radius_edges, side.radius_counts, pen, side.name)
        self.axis_box.setMaximum(result.sides[0].codes.latent_dim - 1)
        self._draw_axes()
        reset(self.lid_plot, f"Local intrinsic dimension (k = {self.k_box.value()})")
        structures = [side.structure for side in result.sides]
        if all(s is not None for s in structures):
            curves = paired(structures[0].data.lid, structures[1].data.lid)
            for side, counts, pen in zip(result.sides, (curves.data, curves.gaussian), MODEL_PENS, strict=True):
                steps(self.lid_plot, curves.edges, counts, pen,
                      f"{side.name}: median {side.structure.data.lid_median:.3g}")
        header, rows = result.structure_rows()
        fill_table(self.table, [header[0], "A", "B"], rows)
        self.names_label.setText(f"<b>Structure, side by side</b> — {result.sides[0].name}; {result.sides[1].name}")
        self._on_selection(self.state.selection)

    def _draw_axes(self) -> None:
        result = self.result
        if result is None:
            return
        axis = self.axis_box.value()
        which = "every axis pooled" if axis < 0 else f"axis z{axis}"
        reset(self.axis_plot, f"Per-axis density ({which})")
        self.axis_plot.setLabel("bottom", "value of one coordinate z_i" if axis < 0 else f"value of z{axis}")
        for side, pen in zip(result.sides, MODEL_PENS, strict=True):
            counts = side.pooled_axis_counts if axis < 0 else side.axis_counts[min(axis, len(side.axis_counts) - 1)]
            steps(self.axis_plot, result.axis_edges, counts, pen, side.name)

    # ------------------------------------------------------------------ linked selection
    def _on_scatter_select(self, _which: int, rows: np.ndarray, add: bool) -> None:
        if self.result is None:
            return
        chosen = self.result.samples[rows]
        if add:
            chosen = np.union1d(self.state.selection, chosen)
        self.state.select(chosen)  # every view shows it: both scatters here and the main window's

    def _on_selection(self, selection: np.ndarray) -> None:
        if self.result is None:
            return
        rows = np.flatnonzero(np.isin(self.result.samples, selection))
        for scatter in self.scatters:
            scatter.highlight(rows)
        if len(selection):
            self.status.setText(f"{len(selection):,} samples selected, {len(rows):,} of them among the compared")
