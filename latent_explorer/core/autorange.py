"""The visible range of a map that is still moving: robust to outliers, and steady from one frame to the next.

A t-SNE run streams a new layout every few iterations. Fitting the view to every point of each frame lets a
handful of far points (common early on, and on a VAE's codes) squash the map into a line, and rescales the view
at every frame. `robust_range` fits the central percentiles instead, with a margin; `settle_range` keeps the
current range unless the map has outgrown it or shrunk well inside it, so the view moves rarely and only by a
clear step.
"""

from __future__ import annotations

import numpy as np

Range = tuple[float, float, float, float]  # x0, x1, y0, y1
LOW_PERCENTILE, HIGH_PERCENTILE = 1.0, 99.0
MARGIN = 0.1  # of the percentile span, on each side
SAMPLE = 20_000  # percentiles of a large map are taken on this many of its points
MIN_ASPECT = 0.05  # the thinner axis spans at least this share of the wider one
SHRINK_BELOW = 0.5  # the view shrinks once the map spans less than this share of it on an axis


def robust_range(xy: np.ndarray, low: float = LOW_PERCENTILE, high: float = HIGH_PERCENTILE,
                 margin: float = MARGIN, sample: int = SAMPLE) -> Range | None:
    """The ``low``–``high`` percentile box of the finite points, widened by ``margin``; None without points."""
    points = np.asarray(xy)
    if len(points) > sample:  # a fixed, spread-out subset: the same rows every frame, so the range is steady
        points = points[np.linspace(0, len(points) - 1, sample).astype(np.int64)]
    points = points[np.isfinite(points).all(axis=1)]
    if not len(points):
        return None
    (x0, y0), (x1, y1) = np.percentile(points, [low, high], axis=0)
    span = max(x1 - x0, y1 - y0, 1e-9)
    least = span * MIN_ASPECT  # a degenerate line keeps some room on its thin axis instead of a zero span
    x0, x1 = _at_least(x0, x1, least)
    y0, y1 = _at_least(y0, y1, least)
    pad_x, pad_y = (x1 - x0) * margin, (y1 - y0) * margin
    return float(x0 - pad_x), float(x1 + pad_x), float(y0 - pad_y), float(y1 + pad_y)


def _at_least(lo: float, hi: float, extent: float) -> tuple[float, float]:
    if hi - lo >= extent:
        return lo, hi
    mid = (lo + hi) / 2
    return mid - extent / 2, mid + extent / 2


def settle_range(current: Range | None, wanted: Range | None, shrink_below: float = SHRINK_BELOW) -> Range | None:
    """The range to switch to, or None to keep ``current``: only when ``wanted`` reaches outside it, or fills
    less than ``shrink_below`` of it on an axis."""
    if wanted is None:
        return None
    if current is None:
        return wanted
    cx0, cx1, cy0, cy1 = current
    wx0, wx1, wy0, wy1 = wanted
    outgrown = wx0 < cx0 or wx1 > cx1 or wy0 < cy0 or wy1 > cy1
    shrunk = (wx1 - wx0) < shrink_below * (cx1 - cx0) or (wy1 - wy0) < shrink_below * (cy1 - cy0)
    return wanted if outgrown or shrunk else None
