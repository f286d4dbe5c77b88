"""The view panel: which 2-D view the scatter shows, the t-SNE and UMAP parameters, and what colours the points.

It only reads and writes the explorer state and asks the view controller to run t-SNE or UMAP or load
coordinates; the controller redraws the scatter. A run never changes the view by itself: its phase is shown
under the map's parameters, and "Show t-SNE" / "Show UMAP" switches to its layout when the user asks (while it
streams, or once it is ready). "Freeze view" keeps the visible range while a map streams.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.core.state import ViewSpec
from latent_explorer.core.tsne import INITIALISATIONS, PRESETS, TSNEError, TSNEParams
from latent_explorer.core.umap import METRICS, UMAPError, UMAPParams, umap_available
from latent_explorer.qt.context import FeatureContext

TSNE_INPUTS = (("z", "z (the codes)"), ("mu", "μ (VAE means)"), ("pca", "PCA of the codes"),
               ("pixels", "raw pixels"))


def _spin(low: float, high: float, value: float, step: float = 1.0, decimals: int = 0, tip: str = ""):
    box = QDoubleSpinBox() if decimals else QSpinBox()
    box.setRange(low, high)
    if decimals:
        box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    box.setToolTip(tip)
    return box


class ViewPanel(QWidget):
    """Projection selector (raw axes, PCA, t-SNE and loaded layouts), t-SNE parameters, colouring."""

    def __init__(self, context: FeatureContext):
        super().__init__()
        self.errors = context.errors
        self.sources = context.sources
        self.state = context.state
        self.controller = context.view
        self._last_axes = {"raw": (0, 1), "pca": (0, 1)}
        self._syncing = False
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_view_box())
        layout.addWidget(self._build_maps_box())
        layout.addWidget(self._build_colour_box())
        layout.addStretch(1)
        events = self.state.events
        events.view.connect(self.sync_view)
        events.codes.connect(self.sync_all)
        events.dataset.connect(self.sync_colour_modes)
        events.color_by.connect(self.sync_colour_modes)
        events.measured_colourings.connect(self.sync_colour_modes)
        events.use_mu.connect(self._sync_use_mu)
        if getattr(events, "cluster_labels", None) is not None:
            events.cluster_labels.connect(self.sync_colour_modes)
        self.controller.layouts_changed.connect(self.sync_view)
        self.controller.pca_changed.connect(self.sync_view)
        self.controller.tsne_running.connect(self._on_tsne_running)
        self.controller.umap_running.connect(self._on_umap_running)
        self.controller.projection_phase.connect(self._on_phase)
        self.controller.layout_ready.connect(self._on_layout_ready)
        self.sync_all()

    # ------------------------------------------------------------------ building
    def _build_view_box(self) -> QGroupBox:
        box = QGroupBox("View")
        grid = QGridLayout(box)
        self.view_combo = QComboBox()
        self.view_combo.setToolTip("raw latent axes, principal components, t-SNE layouts and loaded coordinates")
        self.view_combo.activated.connect(self._on_view_chosen)
        load = QPushButton("Load…")
        load.setToolTip("add a view from an (N, 2) coordinates file (.npy, .npz, .csv), e.g. your own UMAP")
        load.clicked.connect(self.sources.ask_load_coordinates)
        self.x_list, self.y_list = QListWidget(), QListWidget()
        for axis, widget in enumerate((self.x_list, self.y_list)):
            widget.setMinimumHeight(60)  # three rows: the arrow keys step through the rest
            widget.setToolTip("the arrow keys step through the dimensions (also over the scatter: ←/→ x, ↑/↓ y)")
            widget.currentRowChanged.connect(lambda row, a=axis: self._on_axis_row(a, row))
        grid.addWidget(self.view_combo, 0, 0, 1, 2)
        grid.addWidget(load, 0, 2)
        grid.addWidget(QLabel("x axis"), 1, 0)
        grid.addWidget(QLabel("y axis"), 1, 1)
        grid.addWidget(self.x_list, 2, 0)
        grid.addWidget(self.y_list, 2, 1, 1, 2)
        return box

    def _build_maps_box(self) -> QGroupBox:
        """t-SNE and UMAP: one input (z, μ, PCA-k, pixels), a tab of parameters each, their phase, Show and
        Freeze view."""
        box = QGroupBox("Maps: t-SNE / UMAP")
        column = QVBoxLayout(box)
        inputs = QFormLayout()
        self.tsne_input = QComboBox()
        self.tsne_input.setToolTip("what t-SNE and UMAP embed: the codes, a PCA of them, or the pixels (to compare)")
        self.pca_components = _spin(2, 4096, 50, tip="number of principal components for the PCA input")
        inputs.addRow("input", self.tsne_input)
        inputs.addRow("PCA components", self.pca_components)
        column.addLayout(inputs)
        self.method_tabs = QTabWidget()
        self.method_tabs.addTab(self._build_tsne_page(), "t-SNE")
        self.umap_page = self._build_umap_page()
        if umap_available():
            self.method_tabs.addTab(self.umap_page, "UMAP")
        column.addWidget(self.method_tabs)
        self.phase_label = QLabel("")
        self.phase_label.setWordWrap(True)
        self.phase_label.setToolTip("the phase of the running map: neighbours, early exaggeration, optimisation")
        column.addWidget(self.phase_label)
        row = QHBoxLayout()
        self.show_button = QPushButton("Show t-SNE")
        self.show_button.setToolTip("switch the scatter to the newest map (also while it is still computed)")
        self.show_button.clicked.connect(self._on_show_clicked)
        self.show_button.setEnabled(False)
        self.freeze_box = QCheckBox("Freeze view")
        self.freeze_box.setToolTip("keep the visible range while a map streams, instead of following it")
        self.freeze_box.toggled.connect(self.controller.set_freeze_view)
        row.addWidget(self.show_button, 1)
        row.addWidget(self.freeze_box)
        column.addLayout(row)
        self._newest_map: str | None = None
        self.tsne_input.currentIndexChanged.connect(
            lambda: self.pca_components.setEnabled(self.tsne_input.currentData() == "pca"))
        return box

    def _build_tsne_page(self) -> QWidget:
        page = QWidget()
        form = _compact_form(page)
        self.perplexity = _spin(1, 1000, 30, 5, 1, "about how many neighbours each point keeps close")
        self.early_exaggeration = _spin(1, 200, 12, 1, 1, "exaggeration during the first phase")
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.preset.setToolTip("fast: a shorter schedule that stops once KL settles (about 2.4× faster than "
                               "openTSNE's defaults at +2.5 % KL); reference quality: openTSNE's own defaults")
        defaults = TSNEParams()
        self.early_iterations = _spin(0, 5000, defaults.early_exaggeration_iter, 50,
                                      tip="iterations of the early exaggeration phase")
        self.exaggeration = _spin(1, 50, 1, 0.5, 2, "exaggeration after the first phase (>1: tighter clusters)")
        self.iterations = _spin(0, 20000, defaults.n_iter, 50,
                                tip="iterations after the early exaggeration phase (at most: the fast preset stops "
                                    "earlier once KL changes by less than its threshold)")
        self.preset.currentTextChanged.connect(self._apply_preset)
        self.seed = _spin(0, 2**31 - 1, 0, tip="random seed for the neighbour search and the initialisation")
        self.initialisation = QComboBox()
        self.initialisation.addItems(list(INITIALISATIONS))
        self.run_button = QPushButton("Run t-SNE")
        self.run_button.clicked.connect(self._on_run_clicked)
        form.addRow("schedule", self.preset)
        form.addRow("perplexity", self.perplexity)
        form.addRow("early exaggeration", self.early_exaggeration)
        form.addRow("early iterations", self.early_iterations)
        form.addRow("exaggeration", self.exaggeration)
        form.addRow("iterations", self.iterations)
        form.addRow("seed", self.seed)
        form.addRow("initialisation", self.initialisation)
        form.addRow(self.run_button)
        return page

    def _build_umap_page(self) -> QWidget:
        page = QWidget()
        form = _compact_form(page)
        defaults = UMAPParams()
        self.umap_neighbors = _spin(2, 500, defaults.n_neighbors, tip="size of the neighbourhood UMAP keeps: "
                                                                       "small = local detail, large = global shape")
        self.umap_min_dist = _spin(0, 10, defaults.min_dist, 0.05, 2, "how tightly points may pack together")
        self.umap_metric = QComboBox()
        self.umap_metric.addItems(list(METRICS))
        self.umap_epochs = _spin(0, 10000, 0, 50, tip="optimisation epochs (0: umap-learn's default, 200 above "
                                                        "10,000 points, else 500)")
        self.umap_seed = _spin(0, 2**31 - 1, 0, tip="random seed (reproducible, single-threaded)")
        self.umap_run_button = QPushButton("Run UMAP")
        self.umap_run_button.clicked.connect(self._on_umap_clicked)
        form.addRow("neighbours", self.umap_neighbors)
        form.addRow("min. distance", self.umap_min_dist)
        form.addRow("metric", self.umap_metric)
        form.addRow("epochs", self.umap_epochs)
        form.addRow("seed", self.umap_seed)
        form.addRow(self.umap_run_button)
        return page


    def _build_colour_box(self) -> QGroupBox:
        box = QGroupBox("Colour")
        row = QHBoxLayout()
        self.colour_combo = QComboBox()
        self.colour_combo.activated.connect(self._on_colour_chosen)
        row.addWidget(QLabel("colour by"))
        row.addWidget(self.colour_combo, 1)
        self.use_mu = QCheckBox("plot μ instead of sampled z (VAE)")
        self.use_mu.toggled.connect(self._on_use_mu_toggled)
        column = QVBoxLayout(box)
        column.addLayout(row)
        column.addWidget(self.use_mu)
        return box

    # ------------------------------------------------------------------ state → widgets
    def sync_all(self) -> None:
        codes = self.state.codes
        variational = codes is not None and codes.is_variational
        current = self.tsne_input.currentData() or "z"
        self.tsne_input.blockSignals(True)
        self.tsne_input.clear()
        for key, title in TSNE_INPUTS:
            if key != "mu" or variational:
                self.tsne_input.addItem(title, key)
        self.tsne_input.setCurrentIndex(max(0, self.tsne_input.findData(current)))
        self.tsne_input.blockSignals(False)
        self.pca_components.setEnabled(self.tsne_input.currentData() == "pca")
        if codes is not None:
            self.pca_components.setMaximum(codes.latent_dim)
        self._sync_use_mu()
        self.use_mu.setEnabled(variational)
        self.sync_colour_modes()
        self.sync_view()

    def sync_view(self) -> None:
        """Fill the view selector and the axis lists from the state (without writing back)."""
        self._syncing = True
        try:
            view = self.state.view
            newest = self._newest_map
            self.show_button.setEnabled(newest is not None and newest in self.controller.layouts
                                        and view.key != newest)
            self.view_combo.clear()
            self.view_combo.addItem("PCA", "pca")
            self.view_combo.addItem("raw latent axes", "raw")
            for key, layout in self.controller.layouts.items():
                self.view_combo.addItem(layout.title(), f"layout:{key}")
            wanted = view.kind if view.kind in ("raw", "pca") else f"layout:{view.key}"
            self.view_combo.setCurrentIndex(max(0, self.view_combo.findData(wanted)))
            self._fill_axis_lists(view)
        finally:
            self._syncing = False

    def _fill_axis_lists(self, view: ViewSpec) -> None:
        names: list[str] = []
        if view.kind == "raw" and self.state.codes is not None:
            names = [f"z{k}" for k in range(self.state.codes.latent_dim)]
        elif view.kind == "pca" and self.controller.pca is not None:
            pca = self.controller.pca
            names = [pca.component_label(k) for k in range(pca.n_components)]
        for widget, row in ((self.x_list, view.i), (self.y_list, view.j)):
            if [widget.item(k).text() for k in range(widget.count())] != names:
                widget.clear()
                widget.addItems(names)
            widget.setCurrentRow(row if names and row < len(names) else -1)
            widget.setEnabled(bool(names))
        if view.kind in ("raw", "pca"):
            self._last_axes[view.kind] = (view.i, view.j)

    def sync_colour_modes(self) -> None:
        self.colour_combo.clear()
        for mode, title in self.controller.colour_modes():
            self.colour_combo.addItem(title, mode)
        index = self.colour_combo.findData(self.state.color_by)
        if index < 0:
            self.colour_combo.addItem(f"{self.state.color_by} (not available)", self.state.color_by)
            index = self.colour_combo.count() - 1
        self.colour_combo.setCurrentIndex(index)

    def _sync_use_mu(self) -> None:
        self.use_mu.blockSignals(True)
        self.use_mu.setChecked(self.state.use_mu)
        self.use_mu.blockSignals(False)

    @Slot(bool)
    def _on_tsne_running(self, running: bool) -> None:
        self.run_button.setText("Stop t-SNE" if running else "Run t-SNE")
        if running:
            self._offer(self.controller.running_tsne_key(), "t-SNE")

    @Slot(bool)
    def _on_umap_running(self, running: bool) -> None:
        self.umap_run_button.setText("Stop UMAP" if running else "Run UMAP")

    @Slot(str, str)
    def _on_phase(self, method: str, text: str) -> None:
        self.phase_label.setText(f"{method}: {text}")

    @Slot(str)
    def _on_layout_ready(self, key: str) -> None:
        layout = self.controller.layouts.get(key)
        if layout is not None:
            self._offer(key, "UMAP" if layout.kind == "umap" else "t-SNE", ready=True)

    def _offer(self, key: str | None, method: str, ready: bool = False) -> None:
        """Let "Show …" switch to the newest map (the button is the only way a run reaches the scatter)."""
        self._newest_map = key
        self.show_button.setText(f"Show {method}" + (" (ready)" if ready else ""))
        self.show_button.setEnabled(key is not None and self.state.view.key != key)

    def _on_show_clicked(self) -> None:
        key = self._newest_map
        if key is not None and key in self.controller.layouts:
            self.controller.show_layout(key)
            self.show_button.setEnabled(False)

    # ------------------------------------------------------------------ widgets → state
    def _on_view_chosen(self, index: int) -> None:
        choice = self.view_combo.itemData(index)
        if choice in ("raw", "pca"):
            i, j = self._last_axes[choice]
            if max(i, j) >= self.controller.view_dimensions(choice):  # remembered from a wider model
                i, j = 0, 1
            self.state.view = ViewSpec(choice, i, j)
        elif isinstance(choice, str) and choice.startswith("layout:"):
            self.controller.show_layout(choice.removeprefix("layout:"))

    def _on_axis_row(self, axis: int, row: int) -> None:
        view = self.state.view
        if self._syncing or row < 0 or view.kind not in ("raw", "pca"):
            return
        i, j = (row, view.j) if axis == 0 else (view.i, row)
        self.state.view = ViewSpec(view.kind, i, j)

    def _apply_preset(self, name: str) -> None:
        """Show the preset's schedule in the spin boxes (which the user may still change)."""
        preset = PRESETS[name]
        self.early_exaggeration.setValue(preset.early_exaggeration)
        self.early_iterations.setValue(preset.early_exaggeration_iter)
        self.exaggeration.setValue(preset.exaggeration)
        self.iterations.setValue(preset.n_iter)

    def tsne_params(self) -> TSNEParams:
        base = TSNEParams().with_preset(self.preset.currentText())  # its neighbour search and KL stop
        return replace(base, input=self.tsne_input.currentData() or "z", pca_components=self.pca_components.value(),
                       perplexity=self.perplexity.value(), early_exaggeration=self.early_exaggeration.value(),
                       early_exaggeration_iter=self.early_iterations.value(),
                       exaggeration=self.exaggeration.value(), n_iter=self.iterations.value(),
                       seed=self.seed.value(), initialization=self.initialisation.currentText())

    def _on_run_clicked(self) -> None:
        if self.controller.is_tsne_running():
            self.controller.cancel_tsne()
            return
        try:
            params = self.tsne_params()
        except TSNEError as exc:
            self.errors.show_error(exc, "t-SNE")
            return
        self.controller.run_tsne(params, show_when_done=False)

    def umap_params(self) -> UMAPParams:
        return UMAPParams(input=self.tsne_input.currentData() or "z", pca_components=self.pca_components.value(),
                          n_neighbors=self.umap_neighbors.value(), min_dist=self.umap_min_dist.value(),
                          metric=self.umap_metric.currentText(), n_epochs=self.umap_epochs.value() or None,
                          seed=self.umap_seed.value())

    def _on_umap_clicked(self) -> None:
        if self.controller.is_umap_running():
            self.controller.cancel_umap()
            return
        try:
            params = self.umap_params()
        except UMAPError as exc:
            self.errors.show_error(exc, "UMAP")
            return
        if self.controller.run_umap(params, show_when_done=False) is not None:
            self._offer(None, "UMAP")

    def _on_colour_chosen(self, index: int) -> None:
        mode = self.colour_combo.itemData(index)
        if mode:
            self.state.color_by = mode

    def _on_use_mu_toggled(self, checked: bool) -> None:
        self.state.use_mu = bool(checked)


def _compact_form(page: QWidget) -> QFormLayout:
    """A parameter form with tight rows: the whole view panel then fits a 768-pixel-high screen unscrolled."""
    form = QFormLayout(page)
    form.setVerticalSpacing(3)
    form.setContentsMargins(6, 4, 6, 4)
    return form
