"""Uniform bins shared by every analysis histogram, and the band selections made on them.

One set of edges serves the whole data and any selection of it, so a selection's curve is drawn on the
same bins as the whole. `histogram` counts exactly as ``np.histogram`` does, faster on float32 codes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from latent_explorer.core.errors import LatentExplorerError

MAX_BINS = 5000


class AnalysisError(LatentExplorerError):
    """An analysis cannot be computed on these codes or with these settings."""


@dataclass(frozen=True)
class Histogram:
    """Counts over uniform bins; ``counts`` is (bins,) for one variable or (columns, bins) for many."""

    edges: np.ndarray  # (bins + 1,)
    counts: np.ndarray

    @property
    def centres(self) -> np.ndarray:
        return 0.5 * (self.edges[:-1] + self.edges[1:])

    @property
    def bin_width(self) -> float:
        return float(self.edges[1] - self.edges[0])


def nice_bin_width(values: np.ndarray, target_bins: int = 100) -> float:
    """A round bin width (1, 2 or 5 × 10^k) giving about ``target_bins`` bins over the central 99.8 %."""
    flat = np.asarray(values).ravel()
    if flat.size == 0:
        return 1.0
    if flat.size > 200_000:  # a regular subsample is plenty for a bin width
        flat = flat[:: flat.size // 200_000]
    lo, hi = np.quantile(flat.astype(np.float64), [0.001, 0.999])
    span = float(hi - lo)
    if not np.isfinite(span) or span <= 0:
        span = max(abs(float(hi)), 1.0)
    return round_width(span / target_bins)


def round_width(raw: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is at least ``raw``."""
    if not raw > 0:
        return 1.0
    exponent = math.floor(math.log10(raw))
    for step in (1.0, 2.0, 5.0, 10.0):
        width = step * 10.0**exponent
        if width >= raw * (1 - 1e-12):
            return float(width)
    return float(10.0 ** (exponent + 1))


def fit_bin_width(width: float, lo: float, hi: float, max_bins: int = MAX_BINS) -> float:
    """An automatic ``width``, widened to the smallest round width that keeps [lo, hi] within ``max_bins`` bins.

    Automatic widths follow the typical spread of the values (a median axis width, a central quantile range);
    edges span every value, so a few broad axes or far-out values would otherwise ask for far too many bins.
    Two bins are kept in hand for the edges' alignment on multiples of the width.
    """
    span = float(hi) - float(lo)
    if not (np.isfinite(span) and span > 0):
        return width  # uniform_edges reports non-finite ranges; one bin covers an empty one
    return max(width, round_width(span / (max_bins - 2)))


def uniform_edges(lo: float, hi: float, width: float, max_bins: int = MAX_BINS) -> np.ndarray:
    """Edges on multiples of ``width`` that cover [lo, hi]; a clear error if that makes too many bins."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise AnalysisError(f"the values are not finite (range {lo} … {hi})",
                            hint="check the codes for NaN or infinite values")
    if not width > 0:
        raise AnalysisError(f"the bin width must be positive, not {width}")
    first = math.floor(lo / width)
    first -= first * width > lo  # float rounding can put the first edge just above lo
    last = max(first + 1, math.ceil(hi / width))
    last += last * width < hi
    bins = last - first
    if bins > max_bins:
        raise AnalysisError(f"a bin width of {width:g} gives {bins:,} bins over [{lo:.4g}, {hi:.4g}]",
                            hint=f"use a bin width of at least {(hi - lo) / max_bins:.3g}")
    return np.arange(first, last + 1, dtype=np.float64) * width


def _bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """np.histogram's rule: bin i holds edges[i] <= v < edges[i+1], the last bin also holds its right edge.

    Values must lie within the edges. The bin is first computed in the values' own precision (float32 codes
    stay float32, which is faster); only values within rounding distance of an edge are then placed exactly,
    by comparing them with the float64 edges as numpy does, so the counts equal np.histogram's.
    """
    shape = np.shape(values)
    v = np.asarray(values).reshape(-1)
    bins = len(edges) - 1
    scale_64 = bins / (edges[-1] - edges[0])
    magnitude = bins + 2.0 * scale_64 * max(abs(edges[0]), abs(edges[-1]))  # |q| and |lo| in bin units
    real = np.result_type(v.dtype, np.float32).type
    tolerance = 8 * np.finfo(real).eps * magnitude  # a bound on the rounding error of q, in bins
    if tolerance > 0.01:  # float32 too coarse for these edges (far from 0): guess in float64
        real, tolerance = np.float64, 8 * np.finfo(np.float64).eps * magnitude
    q = (v - real(edges[0])) * real(scale_64)
    index = q.astype(np.intp)
    q -= index  # the position within the bin
    near = np.flatnonzero((q < tolerance) | (q > 1 - tolerance))
    if near.size:
        exact = v[near].astype(np.float64)
        i = np.clip(index[near], 0, bins - 1)
        i -= exact < edges[i]
        i += (exact >= edges[i + 1]) & (i != bins - 1)
        index[near] = i
    return index.reshape(shape)


def histogram(values: np.ndarray, edges: np.ndarray, inside: bool = False) -> np.ndarray:
    """Counts of ``values`` in ``edges``. Values outside the edges are dropped, as np.histogram does;
    ``inside=True`` promises there are none and skips that check."""
    v = np.asarray(values).ravel()
    if not inside:
        v = v[(v >= edges[0]) & (v <= edges[-1])]
    if v.size == 0:
        return np.zeros(len(edges) - 1, np.int64)
    return np.bincount(_bin_index(v, edges), minlength=len(edges) - 1).astype(np.int64)


def indices_in_band(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Sorted indices of the samples whose value lies in the closed band [lo, hi]."""
    lo, hi = min(lo, hi), max(lo, hi)
    v = np.asarray(values)
    return np.flatnonzero((v >= lo) & (v <= hi)).astype(np.int64)
