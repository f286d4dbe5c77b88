"""Placement by nearest neighbours, weighted by inverse distance: the one rule for maps without an inverse.

A t-SNE map or loaded coordinates place a new code at the weighted mean of the map positions of its nearest
codes, and turn a point of the map back into a code the same way from its nearest map points. The decoder's
markers, the interpolation paths drawn on other views and `MapLayout` all use these two functions.
"""

from __future__ import annotations

import numpy as np

EXACT_DISTANCE = 1e-12  # closer than this is the same point: it takes all the weight


def inverse_distance_weights(distances: np.ndarray) -> np.ndarray:
    """(n, k) distances → (n, k) weights ∝ 1/distance, each row summing to 1; an exact hit takes all of it."""
    dist = np.atleast_2d(np.asarray(distances, np.float64))
    exact = dist <= EXACT_DISTANCE
    weights = 1.0 / np.maximum(dist, EXACT_DISTANCE)
    rows = exact.any(axis=1)
    weights[rows] = exact[rows].astype(np.float64)
    return weights / weights.sum(axis=1, keepdims=True)


def weighted_mean(values: np.ndarray, indices: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(n, c): the rows ``values[indices]`` averaged with ``weights``; neighbours whose values are not finite
    (samples a map does not place) are left out, and a row with no finite neighbour is NaN."""
    points = np.asarray(values)[np.atleast_2d(indices)].astype(np.float64, copy=False)  # (n, k, c): rows only
    ok = np.isfinite(points).all(axis=2)
    w = np.where(ok, np.atleast_2d(weights), 0.0)
    total = w.sum(axis=1, keepdims=True)
    w = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    out = np.einsum("nk,nkc->nc", w, np.nan_to_num(points))
    out[total[:, 0] <= 0] = np.nan
    return out


def place_by_neighbours(values: np.ndarray, indices: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """(n, c): each row's neighbours' values, weighted by inverse distance."""
    return weighted_mean(values, indices, inverse_distance_weights(distances))
