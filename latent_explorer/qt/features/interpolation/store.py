"""The paths of a window: each drawn path with its lift into z, its filmstrip and where it lands in other views.

`ViewProjections` builds the projection of any view the window can show — not only the one on screen — because a
path is lifted through the view it was drawn on and drawn in all the others by projecting its z-points. No widgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.interpolation import MAP_KINDS, Filmstrip, LatentPath, LiftedPath, lift_path, place_codes
from latent_explorer.core.placement import inverse_distance_weights, weighted_mean
from latent_explorer.core.projections import MapLayout, RawAxes
from latent_explorer.core.state import ViewSpec
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.features.interpolation.overlay import PATH_COLOURS

PCA_PENDING = "the PCA is still being fitted"  # a path on a PCA plane is lifted once it is


def spec_of(view: dict[str, Any]) -> ViewSpec:
    return ViewSpec(str(view.get("kind", "pca")), int(view.get("i", 0)), int(view.get("j", 1)),
                    str(view.get("key", "")))


def view_dict(spec: ViewSpec) -> dict[str, Any]:
    return {"kind": spec.kind, "i": spec.i, "j": spec.j, "key": spec.key}


@dataclass
class PathEntry:
    """One path of the window and what is derived from it (recomputed when ``revision`` moves on)."""

    uid: int
    path: LatentPath
    colour: tuple[int, int, int]
    revision: int = 0
    lifted: LiftedPath | None = None  # at the path's own number of steps
    problem: str = ""  # why it could not be lifted (its view is not available)
    strip: Filmstrip | None = None  # the full strip of ``strip_revision``
    strip_revision: int = -1
    exact: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict)  # map key → (revision, openTSNE xy)
    _placed: dict[tuple, np.ndarray] = field(default_factory=dict)

    @property
    def spec(self) -> ViewSpec:
        return spec_of(self.path.view)

    def touch(self) -> None:
        """The path changed: everything derived from it is stale."""
        self.revision += 1
        self._placed.clear()

    def strip_current(self) -> bool:
        return self.strip is not None and self.strip_revision == self.revision

    def placed(self, key: tuple, compute) -> np.ndarray:
        """Cached placement of the lifted points in another view (``compute()`` on a miss)."""
        if key not in self._placed:
            self._placed = {key: compute()}  # one view at a time: the one on screen
        return self._placed[key]


class ViewProjections:
    """The projection of any view of the window, built from its state, PCA and layouts (maps are cached)."""

    def __init__(self, context: FeatureContext):
        self.context = context
        self._maps: dict[tuple, MapLayout] = {}
        self._code_index: tuple[np.ndarray, Any] | None = None  # (codes, a k-NN index of them)
        self._neighbours: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def get(self, view: dict[str, Any]) -> tuple[Any, str]:
        """(projection, "") for a view that exists now, else (None, why not)."""
        state = self.context.state
        latent = state.latent()
        if latent is None:
            return None, "no codes yet: load a model and a dataset"
        spec = spec_of(view)
        d = latent.shape[1]
        if spec == state.view:
            try:
                current = self.context.view.current_projection()
            except LatentExplorerError:
                current = None
            if current is not None:
                return current, ""
        if spec.kind in ("raw", "pca") and not (0 <= spec.i < d and 0 <= spec.j < d):
            return None, f"{spec.label()} needs {max(spec.i, spec.j) + 1} dimensions; the codes have {d}"
        if spec.kind == "raw":
            return RawAxes(spec.i, spec.j), ""
        if spec.kind == "pca":
            pca = self.context.view.pca
            if pca is None:
                return None, PCA_PENDING
            return pca.plane(spec.i, spec.j), ""
        if spec.kind in MAP_KINDS:
            layouts = self.context.view.layouts
            layout = layouts.get(spec.key)
            if layout is None or len(layout.coords) != len(latent):
                return None, f"the map '{spec.key}' is not open: run that t-SNE or load its coordinates again"
            key = (spec.key, id(latent), id(layout.coords))
            if key not in self._maps:
                self._maps = {k: v for k, v in self._maps.items() if k[0] != spec.key}
                self._maps[key] = MapLayout(layout.coords, latent, layout.name, kind=layout.kind)
            return self._maps[key], ""
        return None, f"unknown view kind '{spec.kind}'"

    def lift(self, entry: PathEntry, steps: int | None = None) -> LiftedPath | None:
        """Lift ``entry`` through the view it was drawn on; None (and ``entry.problem`` says why) if impossible."""
        projection, problem = self.get(entry.path.view)
        latent = self.context.state.latent()
        if projection is None:
            entry.problem = problem
            return None
        try:
            lifted = lift_path(entry.path, projection, latent, steps=steps, mean=self.mean(latent))
        except (LatentExplorerError, ValueError) as exc:
            entry.problem = str(exc).splitlines()[0]
            return None
        entry.problem = ""
        return lifted

    def mean(self, latent: np.ndarray) -> np.ndarray:
        decoder = self.context.decoder
        mean = decoder.mean_code() if decoder is not None else None
        if mean is None or np.shape(mean) != (latent.shape[1],):
            mean = latent.mean(axis=0)
        return np.asarray(mean, np.float64)

    def place(self, entry: PathEntry, view: ViewSpec, z: np.ndarray) -> tuple[np.ndarray | None, bool]:
        """(xy of ``z`` in ``view``, exact?) — exact for raw/PCA and for openTSNE placements, else approximate."""
        if view.kind in MAP_KINDS:
            exact = entry.exact.get(view.key)
            if exact is not None and exact[0] == entry.revision and len(exact[1]) == len(z):
                return exact[1], True
        projection, _ = self.get(view_dict(view))
        if projection is None:
            return None, False
        coords = getattr(projection, "coords", None)
        if coords is not None:  # a map: the nearest codes stay, the map may move (a t-SNE run streams layouts)
            idx, weights = self.code_neighbours(entry, z, projection.k)
            key = ("map", view.key, id(coords), len(z))
            return entry.placed(key, lambda: weighted_mean(coords, idx, weights)), False
        key = (view.kind, view.i, view.j, id(projection), len(z))
        return entry.placed(key, lambda: place_codes(projection, z)), True

    def code_neighbours(self, entry: PathEntry, z: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Each z's k nearest codes and their inverse-distance weights (as `MapLayout.transform` weighs them),
        computed once per path revision and set of codes."""
        latent = self.context.state.latent()
        key = (id(latent), entry.uid, entry.revision, len(z), k)
        found = self._neighbours.get(key)
        if found is None:
            if self._code_index is None or self._code_index[0] is not latent:
                from sklearn.neighbors import NearestNeighbors

                self._code_index = (latent, NearestNeighbors(n_neighbors=min(k, len(latent))).fit(latent))
            dist, idx = self._code_index[1].kneighbors(np.asarray(z, latent.dtype))
            found = (idx, inverse_distance_weights(dist))
            self._neighbours = {k_: v for k_, v in self._neighbours.items() if k_[1] != entry.uid}
            self._neighbours[key] = found
        return found


def next_colour(entries: list[PathEntry]) -> tuple[int, int, int]:
    """The first palette colour no path uses (cycling when all are taken)."""
    used = [e.colour for e in entries]
    free = [c for c in PATH_COLOURS if c not in used]
    return free[0] if free else PATH_COLOURS[len(entries) % len(PATH_COLOURS)]
