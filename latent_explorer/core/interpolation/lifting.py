"""Lifting a path into z through the view it was drawn on, and placing codes in other views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from latent_explorer.core.interpolation.constants import MAP_KINDS, PathError
from latent_explorer.core.interpolation.geometry import lift, resample
from latent_explorer.core.interpolation.path import LatentPath


@dataclass
class LiftedPath:
    """A path resampled at equal arc length and lifted into latent space."""

    samples: np.ndarray  # (k, 2) points in the view the path was drawn on
    t: np.ndarray  # (k,) fraction of the arc length
    z: np.ndarray  # (k, d) float32
    start_code: np.ndarray  # (d,) the code the straight comparison rows start from
    end_code: np.ndarray
    exact: bool  # False on a map (t-SNE, user layout): each z is built from the codes of nearby map points

    @property
    def steps(self) -> int:
        return len(self.z)


def endpoint_code(projection: Any, xy: Sequence[float], index: int | None, latent: np.ndarray,
                  mean: np.ndarray) -> np.ndarray:
    """The code of a path's endpoint: the snapped data point's own code, else the view's inverse with base = mean."""
    if index is not None and 0 <= int(index) < len(latent):
        return np.asarray(latent[int(index)], np.float64)
    return np.asarray(projection.inverse(np.asarray([xy], np.float64), np.asarray(mean, np.float64)),
                      np.float64)[0]


def lift_path(path: LatentPath, projection: Any, latent: np.ndarray, steps: int | None = None,
              mean: np.ndarray | None = None) -> LiftedPath:
    """Resample ``path`` at ``steps`` (default: its own) equal arc-length points and lift them through ``projection``.

    Raw axes set two coordinates and PCA planes invert exactly; both hold the other coordinates as
    ``path.hold`` says. A map's inverse (`MapLayout`) ignores the hold and averages the codes of the nearest
    map points, weighted by distance: an approximation.
    """
    latent = np.asarray(latent)
    if latent.ndim != 2 or not len(latent):
        raise PathError("there are no codes to lift the path with", hint="encode a dataset with a model first")
    mean = latent.mean(axis=0, dtype=np.float64) if mean is None else np.asarray(mean, np.float64)
    vertices = path.vertex_array()
    samples, t = resample(vertices, steps or path.steps)
    start = endpoint_code(projection, vertices[0], path.start_index, latent, mean)
    end = endpoint_code(projection, vertices[-1], path.end_index, latent, mean)
    z = lift(samples, t, projection, start, end, mean, path.hold)
    if not np.isfinite(z).all():
        raise PathError("the path lifts to NaN or infinite codes", hint="draw it where the view has data")
    return LiftedPath(samples=samples, t=t, z=z.astype(np.float32), start_code=start.astype(np.float32),
                      end_code=end.astype(np.float32), exact=getattr(projection, "kind", "") not in MAP_KINDS)


def path_projection(view: dict[str, Any], latent: np.ndarray, pca: Any = None,
                    layout_coords: np.ndarray | None = None) -> Any:
    """The projection a path was drawn through, rebuilt without the window (scripts, the figure command).

    A PCA plane uses ``pca`` when given (the window's), else a PCA fitted to ``latent``; a t-SNE or user map
    needs its coordinates (``layout_coords``, one row per code).
    """
    from latent_explorer.core.projections import MapLayout, PCAModel, RawAxes

    kind = view.get("kind")
    i, j = int(view.get("i", 0)), int(view.get("j", 1))
    d = np.shape(latent)[1]
    if kind in ("raw", "pca"):
        if not (0 <= i < d and 0 <= j < d):
            raise PathError(f"the path was drawn on {kind} axes {i}/{j}, but the codes have {d} dimensions",
                            hint="load the model the path was drawn with")
        if kind == "raw":
            return RawAxes(i, j)
        return (pca if pca is not None else PCAModel.fit(latent)).plane(i, j)
    if kind in MAP_KINDS:
        if layout_coords is None:
            raise PathError(f"the path was drawn on the map '{view.get('key', '')}', whose coordinates are needed",
                            hint="export the map's coordinates (File ▸ Export ▸ Data ▸ View Coordinates) and "
                                 "pass them with the path")
        coords = np.asarray(layout_coords, np.float64)
        if coords.shape != (len(latent), 2):
            raise PathError(f"the map has shape {coords.shape}; one (x, y) row per code ({len(latent)}) is needed")
        return MapLayout(coords, latent, str(view.get("key", "map")), kind=str(kind))
    raise PathError(f"unknown view kind '{kind}'")


def place_codes(projection: Any, z: np.ndarray) -> np.ndarray:
    """Where codes land in a view: exact for raw/PCA, by the positions of their nearest codes on a map."""
    return np.asarray(projection.transform(np.asarray(z, np.float32)), np.float64).reshape(-1, 2)
