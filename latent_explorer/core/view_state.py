"""What the views derive from the codes, as evented state without Qt: layouts, PCA fits, projections.

`ExplorerState` says what is loaded and which view is asked for; `ViewState` holds what that takes: the PCA
fitted per latent kind (z or μ), the t-SNE maps and loaded coordinates (`Layout`), the key of the t-SNE run in
progress, and the projections built from them. Everything here is bound to the codes or the dataset it was
made from, and `codes_changed` / `dataset_changed` drop what no longer fits, so no view can show a PCA of
another model or a map of another dataset. The window's scatter adapter paints it; figures and scripts can
use it without a window. ``events.layouts`` and ``events.pca`` fire when those change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from psygnal import Signal, SignalGroup

from latent_explorer.core.encoding import Codes
from latent_explorer.core.projections import MapLayout, PCAModel, Projection, RawAxes
from latent_explorer.core.state import ViewSpec

DEFAULT_VIEW = ViewSpec("pca", 0, 1)
LATENT_SOURCE = "latent"  # a layout made from the codes: dropped with them
MAP_AXES = {"tsne": "t-SNE", "umap": "UMAP"}  # axis titles of the computed maps
DATASET_SOURCES = frozenset({"pixels", "file"})  # made from the images or loaded for them: dropped with the dataset


@dataclass
class Layout:
    """A precomputed map of the dataset: a t-SNE run (finished or stopped) or coordinates from a file."""

    key: str
    kind: str  # "tsne" | "umap" | "custom"
    coords: np.ndarray  # (N, 2)
    name: str
    source: str  # what it was made from: "latent" (dropped with the codes), "pixels" or "file" (with the dataset)
    finished: bool = True
    note: str = ""  # "running 150/750", "stopped at 150/750"

    def title(self) -> str:
        prefix = "t-SNE " if self.kind == "tsne" else ""  # a UMAP layout's name already starts with "UMAP"
        return f"{prefix}{self.name}" + (f" ({self.note})" if self.note else "")

    def axis_labels(self) -> tuple[str, str]:
        base = MAP_AXES.get(self.kind, self.name)
        return f"{base} 1", f"{base} 2"


class ViewEvents(SignalGroup):
    layouts = Signal()  # a layout was added, finished, stopped or dropped
    pca = Signal()  # a PCA was fitted, or the fits were dropped with their codes


class ViewState:
    """Layouts, PCA fits and projections of the loaded codes (see the module docstring)."""

    def __init__(self) -> None:
        self.events = ViewEvents()
        self.layouts: dict[str, Layout] = {}
        self.pca_fits: dict[str, PCAModel] = {}  # per latent kind: "z" | "mu"
        self.tsne_key: str | None = None  # the layout a t-SNE run in progress streams into
        self.tsne_source = ""
        self._maps: dict[tuple[str, str], MapLayout] = {}  # (layout key, latent kind) → its projection

    # ------------------------------------------------------------------ reading
    def pca(self, kind: str) -> PCAModel | None:
        return self.pca_fits.get(kind)

    def is_valid(self, view: ViewSpec, codes: Codes | None) -> bool:
        """Whether ``view`` exists for these codes: axes within the latent size, or a layout that is open."""
        if view.kind in ("raw", "pca"):
            d = codes.latent_dim if codes is not None else 0
            return 0 <= view.i < d and 0 <= view.j < d
        return view.key in self.layouts

    def projection(self, view: ViewSpec, latent: np.ndarray | None, kind: str) -> Projection | None:
        """What turns a point of ``view`` back into a code; None when the view does not exist (yet) for these."""
        if latent is None:
            return None
        d = latent.shape[1]
        if view.kind == "raw":
            return RawAxes(view.i, view.j) if 0 <= view.i < d and 0 <= view.j < d else None
        if view.kind == "pca":
            pca = self.pca(kind)
            if pca is None or not (0 <= view.i < pca.n_components and 0 <= view.j < pca.n_components):
                return None  # a view of a wider model, asked before the view falls back
            return pca.plane(view.i, view.j)
        layout = self.layouts.get(view.key)
        if layout is None or len(layout.coords) != len(latent):
            return None
        cache_key = (view.key, kind)
        if cache_key not in self._maps:
            self._maps[cache_key] = MapLayout(layout.coords, latent, layout.name, kind=layout.kind)
        return self._maps[cache_key]

    # ------------------------------------------------------------------ writing
    def set_pca(self, kind: str, model: PCAModel) -> None:
        self.pca_fits[kind] = model
        self.events.pca.emit()

    def put_layout(self, layout: Layout) -> None:
        self.layouts[layout.key] = layout
        self._maps = {k: v for k, v in self._maps.items() if k[0] != layout.key}
        self.events.layouts.emit()

    def stream(self, key: str, coords: np.ndarray, note: str, finished: bool) -> tuple[Layout, bool]:
        """A t-SNE run's newest coordinates for ``key``; returns (the layout, whether it was new)."""
        layout = self.layouts.get(key)
        added = layout is None
        if added:
            layout = Layout(key, "tsne", coords, key, self.tsne_source)
        layout.coords, layout.note, layout.finished = coords, note, finished
        self.layouts[key] = layout
        self._maps = {k: v for k, v in self._maps.items() if k[0] != key}
        return layout, added

    def drop_layouts(self, sources: set[str] | frozenset[str],
                     keep: Callable[[Layout], bool] | None = None) -> list[str]:
        """Drop the layouts made from ``sources`` (unless ``keep`` says otherwise); returns their keys."""
        gone = [k for k, v in self.layouts.items() if v.source in sources and not (keep and keep(v))]
        for key in gone:
            del self.layouts[key]
        self._maps = {k: v for k, v in self._maps.items() if k[0] not in gone}
        if gone:
            self.events.layouts.emit()
        return gone

    def codes_changed(self, codes: Codes | None) -> list[str]:
        """New codes (or none): every PCA fit, every projection and the layouts made from the old codes go;
        layouts of the dataset stay when they still have one row per sample. Returns the dropped layouts.

        ``events.pca`` is left to the caller, who fits the new PCA first (listeners then find it)."""
        self.pca_fits.clear()
        self._maps.clear()
        gone = self.drop_layouts({LATENT_SOURCE})
        if codes is not None:
            gone += self.drop_layouts(DATASET_SOURCES, keep=lambda layout: len(layout.coords) == len(codes))
        return gone

    def dataset_changed(self) -> list[str]:
        """Another dataset: the maps of its images and the coordinates loaded for it go."""
        return self.drop_layouts(DATASET_SOURCES)

    def valid_view(self, view: ViewSpec, codes: Codes | None) -> ViewSpec:
        """``view`` if it exists for these codes, else the default view (PCA 1/2)."""
        return view if codes is None or self.is_valid(view, codes) else DEFAULT_VIEW

    def snapshot(self) -> dict[str, Any]:
        """What is derived now (for tests and reports): layout keys and the fitted PCA sizes."""
        return {"layouts": sorted(self.layouts), "pca": {k: m.n_components for k, m in self.pca_fits.items()}}
