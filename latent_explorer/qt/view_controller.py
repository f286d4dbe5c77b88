"""The central scatter's wiring: explorer state → points, colours, selection; scatter gestures → state.

What the views derive from the codes (PCA fits per latent kind, t-SNE and user layouts, their projections)
is `core.view_state.ViewState`, evented and without Qt; this controller keeps it up to date (running PCA and
t-SNE as jobs), maps it and the explorer state onto the scatter, and shows the hover card. Views never talk
to the scatter about points or colours directly; they write ``state.view``, ``state.color_by``,
``state.selection`` … and this object redraws. The selection is a set of sample indices, so it survives every
switch of view.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut

from latent_explorer.core.autorange import robust_range, settle_range
from latent_explorer.core.codes_source import has_pixels, layout_name
from latent_explorer.core.colourings import find_colouring
from latent_explorer.core.errors import DatasetError, LatentExplorerError
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.core.projections import PCAModel, Projection, RawAxes, load_coordinates
from latent_explorer.core.state import ExplorerState, ViewSpec
from latent_explorer.core.tsne import TSNECache, TSNEError, TSNEParams, array_fingerprint, iter_tsne
from latent_explorer.core.tsne import phase_text as tsne_phase_text
from latent_explorer.core.umap import INSTALL_HINT as UMAP_HINT
from latent_explorer.core.umap import UMAPCache, UMAPError, UMAPParams, iter_umap, umap_available
from latent_explorer.core.umap import phase_text as umap_phase_text
from latent_explorer.core.view_state import DEFAULT_VIEW, Layout, ViewState
from latent_explorer.qt.hover_card import hover_pixmap
from latent_explorer.qt.scatter import LatentScatter
from latent_explorer.workers.runner import JobRunner

TSNE_JOB = "tsne"
UMAP_JOB = "umap"
MAP_KINDS = ("tsne", "umap")  # layouts computed here, which stream or arrive while the user looks elsewhere
PCA_JOB = "pca"
PCA_INLINE_WORK = 2e8  # n·d² multiply-adds fitted right away; a bigger PCA is fitted in a worker
CONTINUOUS = {"z_norm": "‖z‖", "recon_error": "reconstruction error", "mean_logvar": "mean log σ²"}


class ViewController(QObject):
    """Keeps the scatter in step with the explorer state and turns the scatter's signals into state changes."""

    layouts_changed = Signal()  # a layout was added, finished, stopped or dropped
    pca_changed = Signal()  # a PCA model was fitted (or dropped with the codes)
    points_changed = Signal()  # the scatter shows new coordinates
    tsne_running = Signal(bool)
    umap_running = Signal(bool)
    projection_phase = Signal(str, str)  # method ("t-SNE" | "UMAP"), the phase of its run in words
    layout_ready = Signal(str)  # a computed map finished while another view is shown: offer to show it
    missing_changed = Signal(int)  # rows of the current view that are NaN/inf (drawn as missing)
    message = Signal(str)

    def __init__(self, parent: QObject, state: ExplorerState, runner: JobRunner, scatter: LatentScatter,
                 errors: Any):
        super().__init__(parent)
        self.state = state
        self.runner = runner
        self.errors = errors  # an ErrorReporter (show_error)
        self.scatter = scatter
        self.tsne_cache = TSNECache()
        self.view_state = ViewState()
        self.view_state.events.layouts.connect(self.layouts_changed.emit)
        self.view_state.events.pca.connect(self.pca_changed.emit)
        self.xy: np.ndarray | None = None
        self.missing = 0
        self._coloured_n = -1
        self._show_tsne_when_done = True
        self._tsne_early = 0
        self.umap_cache = UMAPCache()
        self._umap_run: tuple[str, str, bool] | None = None  # (layout key, source, show when done)
        self.freeze_view = False
        self._connect_state()
        self._connect_scatter()

    def _connect_state(self) -> None:
        events = self.state.events
        events.codes.connect(self._on_codes)
        events.dataset.connect(self._on_dataset)
        events.view.connect(self._on_view)
        events.use_mu.connect(self._on_use_mu)
        events.color_by.connect(self._on_color_by)
        events.hidden_classes.connect(self._on_hidden_classes)
        events.selection.connect(self._on_selection)
        events.current_index.connect(self._update_current_marker)
        cluster_event = getattr(events, "cluster_labels", None)  # added by the analysis features
        if cluster_event is not None:
            cluster_event.connect(self._on_cluster_labels)
        events.measured_colourings.connect(self._on_measured_colourings)

    def _connect_scatter(self) -> None:
        scatter = self.scatter
        scatter.sigHovered.connect(self._on_hovered)
        scatter.sigClicked.connect(self._on_clicked)
        scatter.sigSelected.connect(self._on_selected)
        scatter.sigHiddenChanged.connect(self._on_legend_hidden)
        # the scatter counts the NaN/inf rows as it copies the points (a large cloud's in its worker: a count
        # here read all ten million rows on the GUI thread)
        scatter.sigMissingCounted.connect(self._set_missing)
        keys = ((Qt.Key.Key_Left, 0, -1), (Qt.Key.Key_Right, 0, 1), (Qt.Key.Key_Down, 1, -1), (Qt.Key.Key_Up, 1, 1))
        self._shortcuts = []
        for key, axis, step in keys:
            shortcut = QShortcut(QKeySequence(key), scatter)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(partial(self.step_axis, axis, step))
            self._shortcuts.append(shortcut)

    # ------------------------------------------------------------------ what is plotted
    def latent_kind(self) -> str:
        codes = self.state.codes
        return "mu" if self.state.use_mu and codes is not None and codes.mu is not None else "z"

    @property
    def pca(self) -> PCAModel | None:
        """The PCA of the plotted codes (z or mu), if fitted."""
        return self.view_state.pca(self.latent_kind())

    @property
    def layouts(self) -> dict[str, Layout]:
        return self.view_state.layouts

    @property
    def _tsne_key(self) -> str | None:
        return self.view_state.tsne_key

    @_tsne_key.setter
    def _tsne_key(self, key: str | None) -> None:
        self.view_state.tsne_key = key

    @property
    def _tsne_source(self) -> str:
        return self.view_state.tsne_source

    @_tsne_source.setter
    def _tsne_source(self, source: str) -> None:
        self.view_state.tsne_source = source

    def view_dimensions(self, kind: str) -> int:
        """How many axes the raw or PCA view can pick from (0 when there is nothing to pick)."""
        codes = self.state.codes
        if codes is None:
            return 0
        if kind == "pca":
            return self.pca.n_components if self.pca is not None else 0
        return codes.latent_dim

    def is_valid(self, view: ViewSpec) -> bool:
        return self.view_state.is_valid(view, self.state.codes)

    def points_for(self, view: ViewSpec) -> np.ndarray | None:
        latent = self.state.latent()
        if view.kind == "raw":
            return None if latent is None else np.ascontiguousarray(latent[:, [view.i, view.j]], dtype=np.float32)
        if view.kind == "pca":
            pca = self.pca
            if latent is None or pca is None:
                return None
            return pca.plane(view.i, view.j).transform(latent).astype(np.float32)
        layout = self.layouts.get(view.key)
        return None if layout is None else layout.coords

    def axis_labels_for(self, view: ViewSpec) -> tuple[str, str]:
        if view.kind == "raw":
            return RawAxes(view.i, view.j).axis_labels()
        if view.kind == "pca":
            return self.pca.plane(view.i, view.j).axis_labels() if self.pca is not None else ("", "")
        layout = self.layouts.get(view.key)
        return layout.axis_labels() if layout is not None else ("", "")

    def current_projection(self) -> Projection | None:
        """The projection of ``state.view``: what turns a point of the plane back into a code (None while the
        view does not exist for these codes, e.g. PCA 1/18 asked of 8-dimensional codes before it falls back)."""
        return self.view_state.projection(self.state.view, self.state.latent(), self.latent_kind())

    # ------------------------------------------------------------------ switching views
    def show_raw(self, i: int, j: int) -> None:
        self.state.view = ViewSpec("raw", int(i), int(j))

    def show_pca(self, i: int = 0, j: int = 1) -> None:
        self.state.view = ViewSpec("pca", int(i), int(j))

    def show_layout(self, key: str) -> None:
        layout = self.layouts[key]
        self.state.view = ViewSpec(layout.kind, key=key)

    def step_axis(self, axis: int, step: int) -> None:
        """Arrow keys: the next or previous latent dimension (raw) or component (PCA) on one axis."""
        view = self.state.view
        n = self.view_dimensions(view.kind) if view.kind in ("raw", "pca") else 0
        if n < 2:
            return
        i, j = view.i, view.j
        if axis == 0:
            i = (i + step) % n
            i = (i + step) % n if i == j else i
        else:
            j = (j + step) % n
            j = (j + step) % n if j == i else j
        self.state.view = replace(view, i=i, j=j)

    # ------------------------------------------------------------------ drawing
    def refresh_points(self, keep_view: bool = False) -> None:
        view = self.state.view
        xy = self.points_for(view)
        self.xy = xy
        if xy is None:
            self.scatter.set_points(np.zeros((0, 2), np.float32))
            self._coloured_n = -1
            self._set_missing(0)
            self.points_changed.emit()
            return
        moving = self._is_moving(view)
        self.scatter.set_points(xy, keep_view=keep_view or moving)
        if moving:
            self._settle_view(xy, first=not keep_view)
        self.scatter.set_axis_labels(*self.axis_labels_for(view))
        if len(xy) != self._coloured_n:
            self.refresh_colours()
        self.scatter.set_selection(self.state.selection)
        self._update_current_marker()
        self.points_changed.emit()  # (the missing rows are counted by the scatter: `_set_missing`)

    def _set_missing(self, n: int) -> None:
        if n != self.missing:
            self.missing = n
        self.missing_changed.emit(n)

    def labels(self) -> tuple[np.ndarray, list[str]] | None:
        codes, dataset = self.state.codes, self.state.dataset
        labels = codes.labels if codes is not None and codes.labels is not None else None
        if labels is None and dataset is not None:
            labels = dataset.labels
        if labels is None:
            return None
        labels = np.asarray(labels, dtype=np.int64)
        names = list(dataset.class_names or []) if dataset is not None else []
        count = int(labels.max()) + 1 if len(labels) else 0
        names += [str(k) for k in range(len(names), count)]
        return labels, names

    def categories(self, mode: str) -> tuple[np.ndarray, list[str]] | None:
        if mode == "label":
            return self.labels()
        if mode == "cluster":
            clusters = getattr(self.state, "cluster_labels", None)
            if clusters is None or self.state.codes is None or len(clusters) != len(self.state.codes):
                return None
            clusters = np.asarray(clusters, dtype=np.int64)
            return clusters, [f"cluster {k}" for k in range(int(clusters.max()) + 1 if len(clusters) else 0)]
        return None

    def continuous_values(self, mode: str) -> tuple[np.ndarray, str] | None:
        codes, dataset = self.state.codes, self.state.dataset
        if codes is None:
            return None
        measured = find_colouring(self.state, mode)
        if measured is not None:
            return np.asarray(measured.values, dtype=np.float64), measured.label
        if mode == "z_norm":
            latent = self.state.latent()
            return np.linalg.norm(latent, axis=1), "‖μ‖" if self.latent_kind() == "mu" else "‖z‖"
        if mode == "recon_error":
            return np.asarray(codes.recon_error, dtype=np.float64), CONTINUOUS[mode]
        if mode == "mean_logvar":
            return (None if codes.logvar is None else (codes.logvar.mean(axis=1), CONTINUOUS[mode]))
        if mode.startswith("attr:") and dataset is not None and dataset.attributes is not None:
            name = mode[5:]
            names = list(dataset.attribute_names or [])
            if name in names and len(dataset.attributes) == len(codes):
                return np.asarray(dataset.attributes[:, names.index(name)], dtype=np.float64), name
        return None

    def colour_modes(self) -> list[tuple[str, str]]:
        """(mode, title) of every colouring possible with what is loaded, for the view panel."""
        codes, dataset = self.state.codes, self.state.dataset
        modes = []
        if self.labels() is not None:
            modes.append(("label", "class label"))
        modes += [("z_norm", "‖z‖ (norm of the code)"), ("recon_error", "reconstruction error")]
        if codes is not None and codes.logvar is not None:
            modes.append(("mean_logvar", "mean log σ² (VAE)"))
        if getattr(self.state, "cluster_labels", None) is not None:
            modes.append(("cluster", "cluster"))
        if dataset is not None and dataset.attribute_names:
            modes += [(f"attr:{name}", f"attribute: {name}") for name in dataset.attribute_names]
        modes += [(c.key, c.title) for c in self.state.measured_colourings if find_colouring(self.state, c.key)]
        modes.append(("none", "none"))
        return modes

    def refresh_colours(self) -> None:
        codes = self.state.codes
        if codes is None or self.xy is None or len(self.xy) != len(codes):
            return
        n = len(codes)
        self._coloured_n = n
        mode = self.state.color_by
        categories = self.categories(mode)
        if categories is not None:
            self.scatter.set_categorical(*categories)
            self.scatter.set_hidden_classes(set(self.state.hidden_classes))
            return
        values = self.continuous_values(mode)
        if values is not None:
            self.scatter.set_continuous(values[0], values[1])
            return
        if mode != "none":
            self.message.emit(f"nothing to colour by '{mode}' with this model and dataset")
        self.scatter.set_uniform()

    def _update_current_marker(self) -> None:
        index, xy = self.state.current_index, self.xy
        if index is not None and xy is not None and 0 <= index < len(xy) and np.isfinite(xy[index]).all():
            self.scatter.set_marker("current", (float(xy[index, 0]), float(xy[index, 1])))
        else:
            self.scatter.set_marker("current", None)

    # ------------------------------------------------------------------ state events
    def _on_codes(self) -> None:
        codes = self.state.codes
        self.runner.cancel(PCA_JOB)
        if self._tsne_source == "latent":
            self.runner.cancel(TSNE_JOB)
        if self._umap_run is not None and self._umap_run[1] == "latent":
            self.runner.cancel(UMAP_JOB)
        self._coloured_n = -1
        self._on_hovered(-1)
        self.view_state.codes_changed(codes)
        if codes is not None:
            self._ensure_pca()
        self.view_state.events.pca.emit()  # once the small PCAs are fitted: listeners find them
        view = self.view_state.valid_view(self.state.view, codes)
        if view != self.state.view:
            self.state.view = view  # redraws
        else:
            self.refresh_points()

    def _on_dataset(self) -> None:
        if self._tsne_source in ("pixels", "file"):
            self.runner.cancel(TSNE_JOB)
        if self._umap_run is not None and self._umap_run[1] in ("pixels", "file"):
            self.runner.cancel(UMAP_JOB)
        gone = self.view_state.dataset_changed()
        own = self._add_file_layouts()
        if own is not None:
            self.show_layout(own)  # a codes file's own map is what its author wants to see first
        elif self.state.view.key in gone:
            self.state.view = DEFAULT_VIEW

    def _add_file_layouts(self) -> str | None:
        """The layouts a codes file brings (``x``/``y``, ``tsne_x``/``tsne_y``…) as views; returns the first."""
        dataset = self.state.dataset
        first = None
        for key, coords in (getattr(dataset, "layouts", None) or {}).items():
            added = self.add_layout(layout_name(key), coords, show=False)
            first = first or added
        return first

    def _on_view(self) -> None:
        if self.state.codes is not None and not self.is_valid(self.state.view):
            self.message.emit(f"{self.state.view.label()} does not exist for these codes; showing PCA 1/2")
            self.state.view = DEFAULT_VIEW
            return
        self.refresh_points()

    def _on_use_mu(self) -> None:
        self._ensure_pca()
        self.pca_changed.emit()
        self._coloured_n = -1
        self.refresh_points(keep_view=self.state.view.kind not in ("raw", "pca"))

    def _on_color_by(self) -> None:
        self.state.hidden_classes = frozenset()  # hidden class ids mean nothing under another colouring
        self.refresh_colours()

    def _on_cluster_labels(self) -> None:
        if self.state.color_by == "cluster":
            self.refresh_colours()

    def _on_measured_colourings(self) -> None:
        self.refresh_colours()  # the colouring shown may be one that was replaced or withdrawn

    def _on_hidden_classes(self) -> None:
        self.scatter.set_hidden_classes(set(self.state.hidden_classes))

    def _on_selection(self) -> None:
        self.scatter.set_selection(self.state.selection)

    # ------------------------------------------------------------------ scatter gestures
    @Slot(int)
    def _on_hovered(self, index: int) -> None:
        dataset = self.state.dataset
        if index < 0 or dataset is None or index >= len(dataset):
            self.scatter.hide_tooltip()
            return
        image = dataset.display_image(index)  # None: a codes file without a thumbnail for this row
        text = self.describe(index)
        self.scatter.show_tooltip(html.escape(text) if image is None else hover_pixmap(image, text))

    def describe(self, index: int) -> str:
        """``#index · class name`` for tool tips and the inspector."""
        text = f"#{index:,}"
        labels = self.labels()
        if labels is not None and 0 <= index < len(labels[0]) and 0 <= labels[0][index] < len(labels[1]):
            text += f" · {labels[1][labels[0][index]]}"
        return text

    @Slot(int)
    def _on_clicked(self, index: int) -> None:
        if index >= 0:
            self.state.current_index = int(index)

    @Slot(object, str)
    def _on_selected(self, indices: Any, mode: str) -> None:
        picked = np.asarray(indices, dtype=np.int64).ravel()
        current = self.state.selection
        if mode == "add":
            picked = np.union1d(current, picked)
        elif mode == "subtract":
            picked = np.setdiff1d(current, picked)
        self.state.select(picked)

    @Slot(object)
    def _on_legend_hidden(self, hidden: Any) -> None:
        self.state.hidden_classes = frozenset(int(k) for k in hidden)

    # ------------------------------------------------------------------ PCA
    def _ensure_pca(self) -> None:
        """Fit the PCA of the plotted codes: at once when small, else in a worker (70k × 256 takes a second)."""
        kind, latent, codes = self.latent_kind(), self.state.latent(), self.state.codes
        if latent is None or self.view_state.pca(kind) is not None:
            return
        n, d = latent.shape
        if n * d * d <= PCA_INLINE_WORK:
            self.view_state.pca_fits[kind] = PCAModel.fit(latent)  # before anyone listens: no event
            return

        def job() -> Job[tuple]:
            yield Progress("fitting PCA", 0, None, f"{n:,} × {d}")
            return codes, kind, PCAModel.fit(latent)

        self.runner.start(PCA_JOB, job, title="PCA", on_done=self._on_pca_fitted)

    # ------------------------------------------------------------------ t-SNE
    def tsne_input(self, params: TSNEParams | UMAPParams) -> tuple[Callable[[], np.ndarray], str, str, str]:
        """(loader run in the worker, cache key of the input, source, layout name) for ``params.input``: the
        same inputs for t-SNE and UMAP."""
        codes, dataset = self.state.codes, self.state.dataset
        name = params.label()
        if params.input == "pixels":
            if dataset is None:
                raise TSNEError("load a dataset first")
            if not has_pixels(dataset):
                raise TSNEError("codes opened from a file have no pixels to embed",
                                hint="embed z, μ or a PCA of them, or open the dataset the codes came from")
            return (lambda: dataset.float_images().reshape(len(dataset), -1)), f"pixels:{dataset.fingerprint()}", \
                "pixels", name
        if codes is None:
            raise TSNEError("encode a dataset with a model first")
        codes_key = f"{codes.model_key}:{codes.data_key}" if codes.model_key and codes.data_key else \
            array_fingerprint(codes.z)
        if params.input == "mu":
            if codes.mu is None:
                raise TSNEError("this model has no mu: it is not a VAE", hint="use z as the t-SNE input")
            mu = codes.mu
            return (lambda: mu), f"{codes_key}:mu", "latent", name
        if params.input == "z":
            z = codes.z
            return (lambda: z), f"{codes_key}:z", "latent", name
        kind, latent, pca = self.latent_kind(), self.state.latent(), self.pca
        k = min(params.pca_components, latent.shape[1])

        def reduce() -> np.ndarray:
            return (pca or PCAModel.fit(latent)).transform(latent, k).astype(np.float32)

        if kind == "mu":
            source = params.input_label() if hasattr(params, "input_label") else f"PCA-{k}"
            name = name.replace(source, f"{source} of μ", 1)
        return reduce, f"{codes_key}:{kind}:pca{k}", "latent", name

    def run_tsne(self, params: TSNEParams, show_when_done: bool = True) -> str | None:
        """Compute the layout for ``params`` (from the cache at once, else in a worker, stopping a run in progress).

        The view never switches when a run starts: its layout joins the list as it streams, and the user may
        show it at any time. ``show_when_done`` shows it once it has finished (scripts and figures); the view
        panel passes False and offers a "Show t-SNE" button instead (`layout_ready`).
        """
        try:
            loader, input_key, source, key = self.tsne_input(params)
        except LatentExplorerError as exc:
            self.errors.show_error(exc, "t-SNE")
            return None
        cached = self.tsne_cache.layout(input_key, params)
        if cached is not None:
            self._put_layout(Layout(key, "tsne", cached, key, source))
            self.message.emit(f"t-SNE {key}: from cache")
            self._finished(key, show_when_done)
            return key
        self.runner.cancel(TSNE_JOB)  # the run in progress keeps its partial layout under its own name
        self._tsne_key, self._tsne_source = key, source
        self._show_tsne_when_done = show_when_done
        self._tsne_early = params.early_exaggeration_iter
        cache = self.tsne_cache

        def job() -> Job[np.ndarray]:
            data = loader()
            return (yield from iter_tsne(data, params, cache, input_key))

        self.runner.start(TSNE_JOB, job, title="t-SNE", on_progress=self._on_tsne_progress, on_done=self._on_tsne_done,
                          on_cancel=self._on_tsne_cancelled, on_error=self._on_tsne_failed)
        self.projection_phase.emit("t-SNE", "starting")
        self.tsne_running.emit(True)
        return key

    def cancel_tsne(self) -> None:
        self.runner.cancel(TSNE_JOB)

    def is_tsne_running(self) -> bool:
        return self.runner.is_running(TSNE_JOB)

    def running_tsne_key(self) -> str | None:
        """The key of the t-SNE layout being computed (a session saves it once it has finished or stopped)."""
        return self._tsne_key

    def put_layout(self, layout: Layout) -> None:
        """Add or replace a layout exactly as given (key, origin, note): a session restoring its maps."""
        self._put_layout(layout)

    def _put_layout(self, layout: Layout) -> None:
        self.view_state.put_layout(layout)

    def _finished(self, key: str, show: bool) -> None:
        """A computed map is complete: show it when asked to, else tell the panel it is ready to be shown."""
        if show:
            self.show_layout(key)
        elif self.state.view.key != key:
            self.layout_ready.emit(key)

    def _stream(self, key: str, coords: np.ndarray, note: str, finished: bool) -> None:
        _, added = self.view_state.stream(key, coords, note, finished)
        if self.state.view.key == key:
            self.refresh_points(keep_view=True)
        if added or finished:
            self.layouts_changed.emit()

    def _on_tsne_progress(self, progress: Progress) -> None:
        if not isinstance(progress, Progress):
            return
        self.projection_phase.emit("t-SNE", tsne_phase_text(progress, self._tsne_early))
        if self._tsne_key and progress.partial is not None:
            self._stream(self._tsne_key, progress.partial, f"running {progress.done}/{progress.total}", False)

    def _on_pca_fitted(self, result: Any) -> None:
        codes, kind, model = result
        if codes is self.state.codes:
            self.view_state.set_pca(kind, model)
            self.message.emit("PCA fitted")
            if self.state.view.kind == "pca":
                self.refresh_points()

    def _on_tsne_done(self, result: np.ndarray) -> None:
        if self._tsne_key:
            key, self._tsne_key, self._tsne_source = self._tsne_key, None, ""
            self._stream(key, result, "", True)
            self.tsne_running.emit(False)
            self.projection_phase.emit("t-SNE", f"done: {len(result):,} points")
            self.message.emit(f"t-SNE finished: {len(result):,} points")
            self._finished(key, self._show_tsne_when_done)

    def _on_tsne_cancelled(self, partial_layout: Any) -> None:
        if not self._tsne_key:
            return
        key, self._tsne_key = self._tsne_key, None
        layout = self.layouts.get(key)
        if partial_layout is not None and layout is not None:
            done = layout.note.removeprefix("running ")
            self._stream(key, partial_layout, f"stopped at {done}", False)
            self.message.emit(f"t-SNE stopped: the layout at {done} iterations is kept")
            self.projection_phase.emit("t-SNE", f"stopped at {done} iterations (the layout is kept)")
        else:
            self.projection_phase.emit("t-SNE", "stopped")
        self._tsne_source = ""
        self.tsne_running.emit(False)

    def _on_tsne_failed(self, exc: BaseException) -> bool:
        if self._tsne_key:
            self._tsne_key, self._tsne_source = None, ""
            self.tsne_running.emit(False)
            self.projection_phase.emit("t-SNE", "failed")
        return False  # the error reporter tells the user

    # ------------------------------------------------------------------ UMAP
    def run_umap(self, params: UMAPParams, show_when_done: bool = True) -> str | None:
        """Compute the UMAP layout for ``params`` in a worker (or from the cache), like `run_tsne`.

        umap-learn reports epochs but no intermediate layout, so the map appears once it is complete.
        """
        try:
            if not umap_available():
                raise UMAPError("UMAP needs the umap-learn package, which is not installed", hint=UMAP_HINT)
            loader, input_key, source, key = self.tsne_input(params)
        except LatentExplorerError as exc:
            self.errors.show_error(exc, "UMAP")
            return None
        cached = self.umap_cache.layout(input_key, params)
        if cached is not None:
            self._put_layout(Layout(key, "umap", cached, key, source))
            self.message.emit(f"{key}: from cache")
            self._finished(key, show_when_done)
            return key
        self.runner.cancel(UMAP_JOB)
        self._umap_run = (key, source, show_when_done)
        cache = self.umap_cache

        def job() -> Job[np.ndarray]:
            data = loader()
            return (yield from iter_umap(data, params, cache, input_key))

        self.runner.start(UMAP_JOB, job, title="UMAP", on_progress=self._on_umap_progress,
                          on_done=self._on_umap_done, on_cancel=self._on_umap_ended, on_error=self._on_umap_failed)
        self.projection_phase.emit("UMAP", "starting")
        self.umap_running.emit(True)
        return key

    def cancel_umap(self) -> None:
        self.runner.cancel(UMAP_JOB)

    def is_umap_running(self) -> bool:
        return self.runner.is_running(UMAP_JOB)

    def _on_umap_progress(self, progress: Progress) -> None:
        if isinstance(progress, Progress):
            self.projection_phase.emit("UMAP", umap_phase_text(progress))

    def _on_umap_done(self, result: np.ndarray) -> None:
        if self._umap_run is None:
            return
        (key, source, show), self._umap_run = self._umap_run, None
        self._put_layout(Layout(key, "umap", np.asarray(result, np.float32), key, source))
        self.umap_running.emit(False)
        self.projection_phase.emit("UMAP", f"done: {len(result):,} points")
        self.message.emit(f"UMAP finished: {len(result):,} points")
        self._finished(key, show)

    def _on_umap_ended(self, _partial: Any = None) -> None:
        if self._umap_run is not None:
            self._umap_run = None
            self.umap_running.emit(False)
            self.projection_phase.emit("UMAP", "stopped (UMAP keeps no partial layout)")

    def _on_umap_failed(self, exc: BaseException) -> bool:
        if self._umap_run is not None:
            self._umap_run = None
            self.umap_running.emit(False)
            self.projection_phase.emit("UMAP", "failed")
        return False

    # ------------------------------------------------------------------ the range of a moving map
    def set_freeze_view(self, frozen: bool) -> None:
        """Keep the visible range while a map streams (the user is looking at one part of it)."""
        self.freeze_view = bool(frozen)

    def _is_moving(self, view: ViewSpec) -> bool:
        layout = self.layouts.get(view.key) if view.kind not in ("raw", "pca") else None
        return layout is not None and layout.kind in MAP_KINDS and not layout.finished

    def _settle_view(self, xy: np.ndarray, first: bool) -> None:
        """A partial map: fit its central percentiles, and move the view only by clear steps (see core.autorange)."""
        if self.freeze_view and not first:
            return
        wanted = robust_range(xy)
        target = wanted if first else settle_range(self.scatter.visible_rect(), wanted)
        if target is not None:
            self.scatter.set_view(*target)

    # ------------------------------------------------------------------ user coordinates
    def load_coordinates(self, path: str | Path) -> str | None:
        """Add an (N, 2) file (e.g. the user's UMAP) as a view; a wrong row count is an error, the view stays."""
        dataset, codes = self.state.dataset, self.state.codes
        n = len(dataset) if dataset is not None else (len(codes) if codes is not None else None)
        try:
            if n is None:
                raise DatasetError("load a dataset before coordinates for it", path=path)
            coords = load_coordinates(path, n)
        except LatentExplorerError as exc:
            self.errors.show_error(exc, "Coordinates")
            return None
        return self.add_layout(Path(path).stem, coords)

    def add_layout(self, name: str, coords: np.ndarray, kind: str = "custom", show: bool = True) -> str:
        """Add an (N, 2) layout of the loaded dataset as a view (e.g. restored from a session); returns its key.

        It lasts as long as the dataset, like coordinates loaded from a file.
        """
        coords = np.asarray(coords, dtype=np.float32)
        n = len(self.state.dataset) if self.state.dataset is not None else None
        if coords.ndim != 2 or coords.shape[1] != 2 or (n is not None and len(coords) != n):
            raise DatasetError(f"a layout of shape {coords.shape} does not fit {n} samples",
                               hint="give one (x, y) row per sample of the loaded dataset")
        key, count = name, 1
        while key in self.layouts:
            count += 1
            key = f"{name} ({count})"
        self._put_layout(Layout(key, kind, coords, key, "file"))
        if show:
            self.show_layout(key)
        return key

    def shutdown(self) -> None:
        self.scatter.hide_tooltip()
