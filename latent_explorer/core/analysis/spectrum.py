"""PCA explained-variance spectrum from the covariance matrix (d × d), which for n ≫ d is far cheaper
than an SVD of the n × d data and gives the same variances (sklearn's ``PCA`` with ``svd_solver="full"``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latent_explorer.core.analysis.binning import AnalysisError
from latent_explorer.core.analysis.threads import single_threaded_math
from latent_explorer.core.jobs import Job, Progress

ROW_CHUNK = 16384


@dataclass(frozen=True)
class PcaSpectrum:
    """Variance along each principal component, largest first (min(n, d) components)."""

    mean: np.ndarray  # (d,)
    components: np.ndarray  # (k, d) unit rows
    variance: np.ndarray  # (k,) with ddof=1, like sklearn's explained_variance_
    ratio: np.ndarray  # (k,) share of the total variance

    @property
    def cumulative(self) -> np.ndarray:
        return np.cumsum(self.ratio)

    def components_for(self, fraction: float) -> int:
        """How many components explain at least ``fraction`` of the variance."""
        return int(min(len(self.ratio), np.searchsorted(self.cumulative, fraction - 1e-12) + 1))

    def table(self) -> tuple[list[str], list[list]]:
        cumulative = self.cumulative
        header = ["component", "variance", "ratio", "cumulative"]
        return header, [[i + 1, float(self.variance[i]), float(self.ratio[i]), float(cumulative[i])]
                        for i in range(len(self.ratio))]


def covariance(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (ddof=1) of the rows of ``x``, accumulated in float64 chunk by chunk."""
    n, d = x.shape
    mean = x.mean(axis=0, dtype=np.float64)
    scatter = np.zeros((d, d))
    for start in range(0, n, ROW_CHUNK):
        part = x[start:start + ROW_CHUNK].astype(np.float64) - mean
        scatter += part.T @ part
    return mean, scatter / (n - 1)


def pca_spectrum(x: np.ndarray) -> PcaSpectrum:
    x = np.asarray(x)
    if x.ndim != 2 or len(x) < 2:
        raise AnalysisError(f"a PCA spectrum needs at least 2 codes, got an array of shape {x.shape}")
    with single_threaded_math():
        mean, cov = covariance(x)
        values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][: min(x.shape)]
    variance = np.clip(values[order], 0.0, None)
    total = float(np.trace(cov))
    ratio = variance / total if total > 0 else np.zeros_like(variance)
    return PcaSpectrum(mean, vectors[:, order].T, variance, ratio)


def iter_pca_spectrum(x: np.ndarray) -> Job[PcaSpectrum]:
    yield Progress("PCA spectrum", 0, None, f"{len(x):,} codes")
    return pca_spectrum(x)

