"""Number density along each latent axis, and the axes that stand out from the rest.

Each axis is summarised by a robust centre (median) and width (IQR / 1.349, equal to σ for a Gaussian),
its standard deviation and skew. An axis is flagged when its centre or its width is far from the other
axes': a robust z-score (deviation from the median over 1.4826 × MAD) above `OUTLIER_Z`. Differences
smaller than `MIN_SPREAD_FRACTION` of the typical width never count, so axes that differ only by
sampling noise are not flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from latent_explorer.core.analysis.binning import AnalysisError, Histogram, fit_bin_width, round_width, uniform_edges
from latent_explorer.core.jobs import Job, Progress, run_job

OUTLIER_Z = 3.5
MIN_SPREAD_FRACTION = 0.05
IQR_TO_SIGMA = 1.349
MAD_TO_SIGMA = 1.4826
ROW_CHUNK = 8192
TRANSPOSE_ROWS = 2048


@dataclass(frozen=True)
class AxisStatistics:
    """Per-axis summaries, each an array of length z_dim."""

    centre: np.ndarray  # median
    width: np.ndarray  # IQR / 1.349
    mean: np.ndarray
    std: np.ndarray
    skew: np.ndarray  # Fisher-Pearson, biased (scipy.stats.skew's default)
    centre_z: np.ndarray  # robust z-score of the centre among all axes
    width_z: np.ndarray
    flagged: np.ndarray  # bool

    @property
    def flagged_axes(self) -> np.ndarray:
        return np.flatnonzero(self.flagged)

    def table(self) -> tuple[list[str], list[list[float]]]:
        header = ["axis", "centre", "width", "mean", "std", "skew", "centre_z", "width_z", "flagged"]
        rows = [[i, *(float(col[i]) for col in (self.centre, self.width, self.mean, self.std, self.skew,
                                                 self.centre_z, self.width_z)), int(self.flagged[i])]
                for i in range(len(self.centre))]
        return header, rows


@dataclass(frozen=True)
class AxisDensity:
    """Counts per bin for every axis on shared edges, with the axes' statistics."""

    histogram: Histogram  # counts (z_dim, bins)
    stats: AxisStatistics


def robust_z(values: np.ndarray, min_scale: float = 0.0) -> np.ndarray:
    """(v - median) / max(1.4826 MAD, min_scale); zeros where there is no spread at all."""
    v = np.asarray(values, dtype=np.float64)
    deviation = v - np.median(v)
    scale = max(MAD_TO_SIGMA * float(np.median(np.abs(deviation))), min_scale)
    if scale == 0.0:
        return np.zeros_like(v)
    return deviation / scale


def sorted_axes(z: np.ndarray) -> np.ndarray:
    """(d, n): every axis' values sorted, in the codes' own precision.

    Sorting beats partitioning here (numpy's vectorised sort takes ~0.15 s for 70,000 × 256 float32), and a
    sorted axis gives every quantile and every histogram by binary search. The transpose goes in row blocks,
    which keeps it cache-friendly (about 2.5× faster than one strided copy).
    """
    z = np.asarray(z)
    if z.dtype not in (np.float32, np.float64):
        z = z.astype(np.float64)
    out = np.empty((z.shape[1], z.shape[0]), z.dtype)
    for start in range(0, len(z), TRANSPOSE_ROWS):
        out[:, start:start + TRANSPOSE_ROWS] = z[start:start + TRANSPOSE_ROWS].T
    out.sort(axis=1)
    return out


def quantiles_of_sorted(axes: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """(len(q), d) quantiles of sorted rows, interpolated linearly as ``np.percentile`` does by default."""
    n = axes.shape[1]
    out = np.empty((len(q), len(axes)))
    for row, fraction in enumerate(q):
        position = fraction * (n - 1)
        lo = int(np.floor(position))
        hi = min(lo + 1, n - 1)
        t = position - lo
        a, b = axes[:, lo].astype(np.float64), axes[:, hi].astype(np.float64)
        out[row] = a + (b - a) * t if t < 0.5 else b - (b - a) * (1 - t)
    return out


def histograms_of_sorted(axes: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(d, bins) counts of sorted rows in ``edges``, with np.histogram's rule (the last bin is closed)."""
    counts = np.empty((len(axes), len(edges) - 1), np.int64)
    for i, values in enumerate(axes):
        below = np.searchsorted(values, edges, side="left")  # compared in float64, as np.histogram does
        below[-1] = np.searchsorted(values, edges[-1], side="right")
        counts[i] = np.diff(below)
    return counts


def axis_moments(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, std (ddof=0) and skew (biased, like scipy.stats.skew) of every column, in row chunks.

    Deviations are taken from the mean rounded to the codes' precision, summed in float64, and corrected
    for that rounding exactly (moments about a shifted origin).
    """
    n = len(z)
    mean = z.mean(axis=0, dtype=np.float64)
    shift = mean.astype(z.dtype)
    s2, s3 = np.zeros(z.shape[1]), np.zeros(z.shape[1])
    for start in range(0, n, ROW_CHUNK):
        deviation = z[start:start + ROW_CHUNK] - shift
        square = deviation * deviation
        s2 += np.sum(square, axis=0, dtype=np.float64)
        s3 += np.sum(square * deviation, axis=0, dtype=np.float64)
    delta = mean - shift
    m2 = np.maximum(s2 / n - delta**2, 0.0)
    m3 = s3 / n - 3 * delta * (s2 / n) + 2 * delta**3
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(m2 > 0, m3 / m2**1.5, 0.0)
    return mean, np.sqrt(m2), skew


def axis_statistics(z: np.ndarray, axes: np.ndarray | None = None) -> AxisStatistics:
    """Centre, width, mean, std and skew of every column of ``z`` (n, d), and which columns stand out.

    ``axes`` is `sorted_axes(z)` when the caller already has it.
    """
    z = np.asarray(z)
    if z.ndim != 2 or len(z) < 2:
        raise AnalysisError(f"per-axis statistics need at least 2 codes, got an array of shape {z.shape}")
    if z.dtype not in (np.float32, np.float64):
        z = z.astype(np.float64)
    q25, centre, q75 = quantiles_of_sorted(sorted_axes(z) if axes is None else axes, (0.25, 0.5, 0.75))
    mean, std, skew = axis_moments(z)
    width = (q75 - q25) / IQR_TO_SIGMA
    typical_width = float(np.median(width)) if np.median(width) > 0 else float(np.median(std))
    floor = MIN_SPREAD_FRACTION * typical_width
    centre_z = robust_z(centre, floor)
    width_z = robust_z(width, floor)
    flagged = (np.abs(centre_z) > OUTLIER_Z) | (np.abs(width_z) > OUTLIER_Z)
    return AxisStatistics(centre, width, mean, std, skew, centre_z, width_z, flagged)


def auto_axis_bin_width(stats: AxisStatistics) -> float:
    """A round width near a tenth of the typical axis width: about 40 bins across a typical axis."""
    typical = float(np.median(stats.width)) or float(np.median(stats.std)) or 1.0
    return round_width(typical / 10)


def axis_density(z: np.ndarray, bin_width: float | None = None) -> AxisDensity:
    """Histograms of every axis on shared edges plus `axis_statistics`; ``bin_width`` None picks one."""
    return run_job(iter_axis_density(z, bin_width))


def iter_axis_density(z: np.ndarray, bin_width: float | None = None) -> Job[AxisDensity]:
    """`axis_density` as a job: sort every axis once, then statistics and histograms from the sorted axes."""
    z = np.asarray(z)
    if z.ndim != 2 or len(z) < 2:
        raise AnalysisError(f"per-axis density needs at least 2 codes, got an array of shape {z.shape}")
    yield Progress("density per axis", 0, 3, "sorting each axis")
    axes = sorted_axes(z)
    yield Progress("density per axis", 1, 3, "statistics")
    stats = axis_statistics(z, axes)
    yield Progress("density per axis", 2, 3, "histograms")
    lo, hi = float(axes[:, 0].min()), float(axes[:, -1].max())
    edges = uniform_edges(lo, hi, bin_width or fit_bin_width(auto_axis_bin_width(stats), lo, hi))
    return AxisDensity(Histogram(edges, histograms_of_sorted(axes, edges)), stats)
