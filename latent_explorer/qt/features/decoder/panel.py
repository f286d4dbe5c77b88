"""The decoder panel: the image of the current z, decoded live, and the ways to move z.

`DecoderPanel` owns the live decode worker and the off-data meter and keeps ``state.current_z`` shown;
its tabs (sliders, decode under the cursor, decoded grid, prior samples, latent arithmetic) live in the
``*_tab`` modules of this package and reach the panel only through `DecoderHost` (``host.py``).
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.core.decoding import (
    OffDataMeter,
    PCABasis,
    PreparedLatents,
    error_tile,
    iter_prepare_latents,
    knn_placement,
    model_for_device,
)
from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.features.decoder.arithmetic_tab import ArithmeticTab
from latent_explorer.qt.features.decoder.cursor_tab import CursorTab
from latent_explorer.qt.features.decoder.grid_tab import GridTab
from latent_explorer.qt.features.decoder.meter import OffDataBar
from latent_explorer.qt.features.decoder.prior_tab import PriorTab
from latent_explorer.qt.features.decoder.sliders_tab import SliderTab
from latent_explorer.qt.image_view import ImageView
from latent_explorer.workers.decode import DecodeResult, DecodeWorker
from latent_explorer.workers.runner import JobRunner

PREPARE_JOB = "decoder-prepare"
COMPARE_LOAD_JOB = "load-compare-model"
CURRENT_Z_COLOUR = "#00acc1"  # the selected point's own marker is red
OWN_PCA_ROWS = 20000


def decode_devices() -> list[tuple[str, str]]:
    """(value, label) of the devices decoding may use: the model's own, the CPU, and any accelerator."""
    devices = [("auto", "model's device"), ("cpu", "CPU")]
    if torch.cuda.is_available():
        devices.append(("cuda", "CUDA GPU"))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append(("mps", "Apple GPU"))
    return devices


class DecoderPanel(QWidget):
    """Decodes ``state.current_z`` live and hosts the tools that move it."""

    meter_changed = Signal()  # the off-data meter of the codes on show is ready

    def __init__(self, context: FeatureContext):
        super().__init__()
        self.context = context
        self.state = context.state
        self.jobs = JobRunner(self)  # our own runner: automatic work stays out of the window's status bar
        self.prepared: PreparedLatents | None = None
        self._prepared_latent: np.ndarray | None = None
        self._own_basis: tuple[np.ndarray, PCABasis] | None = None
        self._window_basis: tuple[Any, PCABasis] | None = None
        self._device_models: dict[tuple[int, str], Any] = {}
        self._shown_seq = 0
        self._attached_scatter: Any = None
        self._closed = False
        self.last_result: DecodeResult | None = None
        self.shown_seq = 0  # sequence number of the image on screen (benchmarks read it)

        self.worker = DecodeWorker(self, threads=1)
        self.worker.decoded.connect(self._on_decoded)
        self._build()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)  # coalesce: one meter/marker update per pass of the event loop
        self._refresh_timer.timeout.connect(self.refresh_meter_and_marker)

        self._state_hooks = [
            (self.state.events.codes, self._on_codes),
            (self.state.events.use_mu, self._on_codes),
            (self.state.events.model, self._on_model),
            (self.state.events.current_z, self._on_current_z),
            (self.state.events.current_index, self._on_current_index),
            (self.state.events.view, self._on_view),
            (self.state.events.decoding, self._on_codes),  # a model attached to codes opened from a file
        ]
        for signal, slot in self._state_hooks:
            signal.connect(slot)
        context.on_close(self.shutdown)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.attach_scatter()
        if self.state.codes is not None:
            self._on_codes()

    # ------------------------------------------------------------------ widgets
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.image_view = ImageView(minimum=112)
        layout.addWidget(self.image_view, 3)
        self.meter = OffDataBar()
        layout.addWidget(self.meter)
        row = QHBoxLayout()
        self.follow_box = QCheckBox("Follow the selected point")
        self.follow_box.setChecked(True)
        self.follow_box.setToolTip("Show the code of the point clicked in the plot")
        row.addWidget(self.follow_box)
        row.addStretch(1)
        row.addWidget(QLabel("Decode on"))
        self.device_combo = QComboBox()
        for value, label in decode_devices():
            self.device_combo.addItem(label, value)
        saved = self._settings_value("decoder/device", "auto")
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(saved)))
        self.device_combo.currentIndexChanged.connect(self._on_device_changed)
        row.addWidget(self.device_combo)
        layout.addLayout(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        # two lines whatever it says: a status that grows would move the tabs below it between two clicks
        self.status.setFixedHeight(2 * self.status.fontMetrics().lineSpacing() + 2)
        layout.addWidget(self.status)

        self.tabs = QTabWidget()
        self.sliders = SliderTab(self)
        self.cursor = CursorTab(self)
        self.grid = GridTab(self)
        self.prior = PriorTab(self)
        self.arithmetic = ArithmeticTab(self)
        self.tabs.addTab(self.sliders, "Sliders")
        self.tabs.addTab(self.cursor, "Cursor")
        self.tabs.addTab(self.grid, "Grid")
        self.tabs.addTab(self.prior, "Prior")
        self.tabs.addTab(self.arithmetic, "Arithmetic")
        layout.addWidget(self.tabs, 4)

    def _settings_value(self, key: str, default: str) -> str:
        return str(self.context.settings.value(key, default))

    @property
    def device(self) -> str:
        """The device new models are loaded on (the window's choice)."""
        return self.context.sources.device

    # ------------------------------------------------------------------ what the tabs use
    def latent(self) -> np.ndarray | None:
        """The plotted codes (mu for a VAE when asked)."""
        return self.state.latent()

    def current_z(self) -> np.ndarray | None:
        z = self.state.current_z
        return None if z is None else np.asarray(z, np.float32)

    def set_current_z(self, z: np.ndarray) -> None:
        """Make ``z`` the current code: always a fresh array, so the state sees a change."""
        self.state.current_z = np.array(z, dtype=np.float32, copy=True).ravel()

    def selected_code(self) -> np.ndarray | None:
        latent, index = self.latent(), self.state.current_index
        if latent is None or index is None or not 0 <= index < len(latent):
            return None
        return np.asarray(latent[index], np.float32)

    def mean_code(self) -> np.ndarray | None:
        if self.prepared is not None and self._prepared_latent is self.latent():
            return self.prepared.summary.mean
        latent = self.latent()
        return None if latent is None else latent.mean(axis=0).astype(np.float32)

    def offplane_base(self, choice: str) -> np.ndarray | None:
        """The code whose off-plane coordinates are held: "selected" (mean if none), "mean" or "zero"."""
        latent = self.latent()
        if latent is None:
            return None
        if choice == "selected":
            code = self.selected_code()
            if code is not None:
                return code
        if choice in ("selected", "mean"):
            return self.mean_code()
        return np.zeros(latent.shape[1], np.float32)

    def projection(self) -> Any:
        try:
            return self.context.view.current_projection()
        except LatentExplorerError:
            return None

    def scatter(self) -> Any:
        return self.context.scatter

    def meter_ready(self) -> OffDataMeter | None:
        """The off-data meter for the codes on show, once it is built."""
        if self.prepared is not None and self._prepared_latent is self.latent():
            return self.prepared.meter
        return None

    def pca_basis(self) -> PCABasis | None:
        """The window's PCA when it fits these codes, else one fitted here (once per encoding)."""
        latent = self.latent()
        if latent is None:
            return None
        pca = self.context.view.pca
        if pca is not None and np.shape(getattr(pca, "mean_", ()))[-1:] == (latent.shape[1],):
            if self._window_basis is None or self._window_basis[0] is not pca:
                self._window_basis = (pca, PCABasis.from_model(pca))
            return self._window_basis[1]
        if self._own_basis is None or self._own_basis[0] is not latent:
            rows = latent
            if len(latent) > OWN_PCA_ROWS:  # the window's PCA is not fitted yet: a sample keeps the GUI responsive
                rows = latent[np.random.default_rng(0).choice(len(latent), OWN_PCA_ROWS, replace=False)]
            self._own_basis = (latent, PCABasis.fit(rows))
        return self._own_basis[1]

    def decode_model(self) -> Any:
        """The model on the device chosen for decoding (a moved copy when it differs from the model's)."""
        model = self.state.model
        if model is None:
            return None
        device = self.device_combo.currentData() or "auto"
        key = (id(model), device)
        if key not in self._device_models:
            try:
                self._device_models = {key: model_for_device(model, device)}
            except LatentExplorerError as exc:
                self.show_error(exc)
                self.device_combo.setCurrentIndex(0)
                return model
        return self._device_models[key]

    def show_error(self, exc: Exception, title: str = "Decoder") -> None:
        self.context.errors.show_error(exc, title)

    def load_model(self, spec: str, on_loaded: Any, on_failed: Any) -> None:
        """Load another model (to compare with) through the window's loading flow, which asks before a model
        runs code from its file."""
        self.context.sources.open_model(spec, on_loaded=on_loaded, on_failed=on_failed, job_name=COMPARE_LOAD_JOB)

    def runner(self) -> JobRunner:
        """The window's job runner (listed in the status bar, with Cancel) for jobs the user starts."""
        return self.context.jobs

    def place(self, z: np.ndarray) -> tuple[float, float] | None:
        """Where ``z`` lands in the current view: exact for raw/PCA, by its nearest codes on a map."""
        projection = self.projection()
        if projection is None or z is None:
            return None
        coords = getattr(projection, "coords", None)
        meter = self.meter_ready()
        if coords is not None and meter is not None and len(coords) == len(meter):
            indices, distances = meter.nearest(z)
            return knn_placement(coords, indices, distances)
        try:
            xy = np.asarray(projection.transform(np.asarray(z, np.float32)[None]), np.float64).reshape(-1, 2)[0]
        except (ValueError, LatentExplorerError):
            return None
        return (float(xy[0]), float(xy[1])) if np.isfinite(xy).all() else None

    def set_marker(self, name: str, z: np.ndarray | None, color: Any = None) -> None:
        scatter = self.scatter()
        if scatter is None:
            return
        # without a model there is no z of the decoder to mark (and placing one on a map would index the codes)
        xy = None if z is None or not self.state.decoding.available else self.place(z)
        if color is None:
            scatter.set_marker(name, xy)
        else:
            scatter.set_marker(name, xy, color=color)

    def attach_scatter(self) -> None:
        """Listen to the scatter's mouse and view (once per scatter; it may appear after the panel)."""
        scatter = self.scatter()
        if scatter is None or scatter is self._attached_scatter or self._closed:
            return
        self._attached_scatter = scatter
        scatter.sigMouseMoved.connect(self.cursor.on_mouse_moved)
        scatter.sigViewChanged.connect(self.grid.on_view_changed)

    # ------------------------------------------------------------------ state → panel
    def _on_codes(self, *_: Any) -> None:
        self.attach_scatter()
        latent = self.latent()
        self.prepared = None
        self._prepared_latent = None
        self.meter.set_score(None)
        self.sliders.reset()
        self.arithmetic.reset()
        self.prior.reset()
        if latent is None or not self.state.decoding.available:  # nothing to decode with: prepare nothing yet
            self.jobs.cancel(PREPARE_JOB)
            return
        self.status.setText("preparing slider ranges and the off-data meter…")
        self.jobs.start(PREPARE_JOB, lambda: self._prepare_job(latent), on_done=self._on_prepared,
                        on_error=self._on_prepare_failed)
        z = self.current_z()
        if z is None or z.shape[-1] != latent.shape[1]:
            code = self.selected_code()
            self.set_current_z(code if code is not None else latent.mean(axis=0))
        else:
            self._request_decode()

    @staticmethod
    def _prepare_job(latent: np.ndarray):
        prepared = yield from iter_prepare_latents(latent)
        return latent, prepared

    def _on_model(self, *_: Any) -> None:
        self._device_models.clear()
        self.prior.reset()
        self.sliders.forget_sensitivity()
        self._request_decode()

    def _on_current_z(self, *_: Any) -> None:
        requested = self._request_decode()
        z = self.current_z()
        if z is not None:
            self.sliders.sync(z)
        if not requested:  # else the meter follows the image (`_on_decoded`): pixels first
            self._refresh_timer.start()

    def _on_current_index(self, *_: Any) -> None:
        if self.follow_box.isChecked():
            code = self.selected_code()
            if code is not None:
                self.set_current_z(code)

    def _on_view(self, *_: Any) -> None:
        self.attach_scatter()
        self._refresh_timer.start()
        self.cursor.describe_view()
        self.prior.on_view_changed()

    @Slot(int)
    def _on_device_changed(self, _index: int) -> None:
        self.context.settings.setValue("decoder/device", self.device_combo.currentData())
        self._device_models.clear()
        self._request_decode()

    # ------------------------------------------------------------------ jobs
    def _on_prepared(self, result: Any) -> None:
        latent, prepared = result
        if latent is not self.latent():
            return  # codes changed while this was computed
        self.prepared, self._prepared_latent = prepared, latent
        self.status.setText(f"{len(latent):,} codes, z_dim {latent.shape[1]}; typical neighbour distance "
                            f"{prepared.meter.typical:.3g}")
        self.sliders.on_prepared(prepared)
        self._refresh_timer.start()
        self.meter_changed.emit()

    def _on_prepare_failed(self, exc: BaseException) -> bool:
        self.status.setText(f"preparing the slider ranges failed: {type(exc).__name__}: {exc}")
        return True  # automatic work: the panel's status line says it, no message box

    # ------------------------------------------------------------------ live decoding
    def _request_decode(self) -> bool:
        """Ask the worker for the current z; False when there is nothing to decode."""
        z = self.current_z()
        model = self.decode_model()
        if z is None or model is None or self._closed:
            return False
        if z.shape[-1] != model.latent_dim:
            self.worker.cancel()
            _, h, w = model.input_shape
            self.image_view.set_image(error_tile(h, w), f"z has {z.shape[-1]} dimensions, the model decodes "
                                                        f"{model.latent_dim}: waiting for the encoding")
            return False
        self.worker.request(model, z, tag="current")
        return True

    @Slot(object)
    def _on_decoded(self, result: DecodeResult) -> None:
        """Show a result unless it belongs to a replaced model or an older request than the one on screen."""
        if result.seq <= self._shown_seq or result.model is not self.decode_model():
            return
        self._shown_seq = result.seq
        self.last_result = result
        self.shown_seq = result.seq
        self.image_view.set_image(result.images[0], "" if result.ok else (result.error or "").splitlines()[0])
        self.image_view.repaint()  # on screen now, before the meter and marker take their few milliseconds
        self._refresh_timer.start()

    @Slot()
    def refresh_meter_and_marker(self) -> None:
        """Off-data score and the "current z" marker (coalesced: at most once per event-loop pass)."""
        z = self.current_z()
        meter = self.meter_ready()
        if z is None or meter is None or z.shape[-1] != meter.codes.shape[1]:
            self.meter.set_score(None)
        else:
            self.meter.set_score(meter.score(z), meter.k)
        if z is not None and self.latent() is not None and z.shape[-1] == self.latent().shape[1]:
            self.set_marker("current z", z, color=CURRENT_Z_COLOUR)

    # ------------------------------------------------------------------ closing
    @Slot()
    def shutdown(self) -> None:
        """Stop the threads and stop listening (the window is closing)."""
        if self._closed:
            return
        self._closed = True
        for signal, slot in self._state_hooks:
            signal.disconnect(slot)
        scatter = self._attached_scatter
        if scatter is not None:
            for signal, slot in ((scatter.sigMouseMoved, self.cursor.on_mouse_moved),
                                 (scatter.sigViewChanged, self.grid.on_view_changed)):
                with contextlib.suppress(RuntimeError, TypeError):  # the scatter may be gone already
                    signal.disconnect(slot)
        self._refresh_timer.stop()
        self.grid.shutdown()
        self.worker.stop()
        self.jobs.shutdown()
