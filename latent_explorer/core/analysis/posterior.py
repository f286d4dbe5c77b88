"""Statistics of a VAE's posterior q(z|x) = N(mu, diag(exp(logvar))).

- logvar's range and mean (a tiny KL weight drives it to about −13, i.e. σ ≈ 0.0015);
- KL to the prior per dimension, mean over samples of 0.5·(mu² + exp(logvar) − 1 − logvar);
- active units (Burda et al. 2016): dimensions whose Var_x[mu] exceeds 0.01;
- how far the sampled z lies from mu, element-wise, and how much that moves the radius ‖z‖ against ‖mu‖.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latent_explorer.core.analysis.binning import (
    AnalysisError,
    Histogram,
    fit_bin_width,
    histogram,
    nice_bin_width,
    uniform_edges,
)
from latent_explorer.core.analysis.radius import radii
from latent_explorer.core.jobs import Job, Progress, run_job

ACTIVE_VARIANCE = 0.01
ROW_CHUNK = 8192


@dataclass(frozen=True)
class PosteriorStatistics:
    logvar_min: float
    logvar_max: float
    logvar_mean: float
    logvar_histogram: Histogram  # over every element of logvar
    kl_per_dim: np.ndarray  # (d,)
    mu_variance: np.ndarray  # (d,) Var_x[mu], ddof=0
    logvar_mean_per_dim: np.ndarray  # (d,)
    offset_histogram: Histogram  # |z − mu| over every element
    offset_max: float
    offset_mean: float
    radius_z: np.ndarray  # (n,)
    radius_mu: np.ndarray  # (n,)

    @property
    def active(self) -> np.ndarray:
        return self.mu_variance > ACTIVE_VARIANCE

    @property
    def active_count(self) -> int:
        return int(self.active.sum())

    @property
    def kl_total(self) -> float:
        return float(self.kl_per_dim.sum())

    @property
    def radius_abs_diff(self) -> np.ndarray:
        return np.abs(self.radius_z - self.radius_mu)

    @property
    def radius_rel_diff(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.radius_mu > 0, self.radius_abs_diff / self.radius_mu, np.nan)

    def summary(self) -> tuple[list[str], list[list]]:
        absolute, relative = self.radius_abs_diff, self.radius_rel_diff
        rows = [
            ["logvar min", self.logvar_min], ["logvar max", self.logvar_max], ["logvar mean", self.logvar_mean],
            ["KL total (nats per sample)", self.kl_total],
            [f"active units (Var[mu] > {ACTIVE_VARIANCE})", self.active_count],
            ["max |z - mu|", self.offset_max], ["mean |z - mu|", self.offset_mean],
            ["mean radius |z|", float(self.radius_z.mean())], ["mean radius |mu|", float(self.radius_mu.mean())],
            ["max abs radius difference", float(absolute.max())],
            ["mean abs radius difference", float(absolute.mean())],
            ["max rel radius difference", float(np.nanmax(relative))],
            ["mean rel radius difference", float(np.nanmean(relative))],
        ]
        return ["quantity", "value"], rows

    def per_dimension(self) -> tuple[list[str], list[list]]:
        header = ["dim", "KL", "Var[mu]", "mean logvar", "active"]
        return header, [[i, float(self.kl_per_dim[i]), float(self.mu_variance[i]),
                         float(self.logvar_mean_per_dim[i]), int(self.active[i])]
                        for i in range(len(self.kl_per_dim))]


def _check(mu: np.ndarray, logvar: np.ndarray, z: np.ndarray) -> None:
    if mu is None or logvar is None:
        raise AnalysisError("posterior statistics need a VAE's mu and logvar",
                            hint="load a variational model (encoder returning mu and logvar)")
    if mu.shape != logvar.shape or mu.shape != z.shape or mu.ndim != 2 or len(mu) == 0:
        raise AnalysisError(f"mu {mu.shape}, logvar {logvar.shape} and z {z.shape} must share one (n, d) shape")


def iter_posterior_statistics(mu: np.ndarray, logvar: np.ndarray, z: np.ndarray) -> Job[PosteriorStatistics]:
    """One pass over the rows in chunks, after the extremes that fix the histograms' edges.

    Element-wise terms are computed in the codes' own precision (float32) and summed in float64.
    """
    _check(mu, logvar, z)
    n, d = mu.shape
    chunks = [slice(start, start + ROW_CHUNK) for start in range(0, n, ROW_CHUNK)]
    yield Progress("VAE posterior", 0, len(chunks) + 1, "extremes")
    lv_min, lv_max = float(logvar.min()), float(logvar.max())
    offset_max = max(float(np.abs(z[part] - mu[part]).max()) for part in chunks)
    mu_mean = mu.mean(axis=0, dtype=np.float64)
    centre = mu_mean.astype(mu.dtype)
    logvar_edges = uniform_edges(lv_min, lv_max, fit_bin_width(nice_bin_width(logvar), lv_min, lv_max))
    offset_width = nice_bin_width(np.abs(z[chunks[0]] - mu[chunks[0]]))
    offset_edges = uniform_edges(0.0, offset_max, fit_bin_width(offset_width, 0.0, offset_max))
    logvar_counts = np.zeros(len(logvar_edges) - 1, np.int64)
    offset_counts = np.zeros(len(offset_edges) - 1, np.int64)
    kl_sum, lv_sum, mu_scatter, offset_sum = np.zeros(d), np.zeros(d), np.zeros(d), 0.0
    for step, part in enumerate(chunks, start=1):
        yield Progress("VAE posterior", step, len(chunks) + 1, "sums and histograms")
        m, lv = mu[part], logvar[part]
        kl_sum += np.sum(0.5 * (m * m + np.exp(lv) - 1.0 - lv), axis=0, dtype=np.float64)
        lv_sum += np.sum(lv, axis=0, dtype=np.float64)
        deviation = m - centre
        mu_scatter += np.sum(deviation * deviation, axis=0, dtype=np.float64)
        offset = np.abs(z[part] - m)
        offset_sum += float(np.sum(offset, dtype=np.float64))
        logvar_counts += histogram(lv, logvar_edges, inside=True)
        offset_counts += histogram(offset, offset_edges, inside=True)
    return PosteriorStatistics(
        logvar_min=lv_min, logvar_max=lv_max, logvar_mean=float(lv_sum.sum() / (n * d)),
        logvar_histogram=Histogram(logvar_edges, logvar_counts),
        kl_per_dim=kl_sum / n, mu_variance=mu_scatter / n, logvar_mean_per_dim=lv_sum / n,
        offset_histogram=Histogram(offset_edges, offset_counts), offset_max=offset_max,
        offset_mean=offset_sum / (n * d), radius_z=radii(z), radius_mu=radii(mu))


def posterior_statistics(mu: np.ndarray, logvar: np.ndarray, z: np.ndarray) -> PosteriorStatistics:
    return run_job(iter_posterior_statistics(mu, logvar, z))


def selection_histograms(stats: PosteriorStatistics, mu: np.ndarray, logvar: np.ndarray, z: np.ndarray,
                         rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """logvar and |z − mu| counts of the selected rows, on the same edges as the whole."""
    rows = np.asarray(rows, dtype=np.int64)
    return (histogram(logvar[rows], stats.logvar_histogram.edges, inside=True),
            histogram(np.abs(z[rows] - mu[rows]), stats.offset_histogram.edges, inside=True))


def sigma_in_plane(logvar: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Posterior σ projected on a 2-D view: sqrt(Σ_k (basis[a, k]·σ_k)²) for each of the 2 view axes.

    ``basis`` is (2, d): unit vectors e_i, e_j for raw axes, or the plane's principal components. Exact for
    a diagonal Gaussian: the projection's variance along unit vector b is Σ_k b_k² σ_k².
    """
    variance = np.exp(np.asarray(logvar, dtype=np.float64))
    return np.sqrt(variance @ (np.asarray(basis, dtype=np.float64) ** 2).T)
