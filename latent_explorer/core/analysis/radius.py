"""Number density of codes against their L2 radius, beside the chi distribution that N(0, I) would give.

Under the prior z ~ N(0, I_d) the radius ‖z‖ follows a chi distribution with d degrees of freedom: mean
√2·Γ((d+1)/2)/Γ(d/2) (close to √d), peak √(d−1), nothing near the origin. The reference curve is its pdf
scaled to counts (n × bin width × pdf), on the same axis as the histogram.
"""

from __future__ import annotations

import math
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
from latent_explorer.core.jobs import Job, Progress, run_job

REFERENCE_POINTS = 400
REFERENCE_SPAN = 10.0  # the chi pdf is drawn within ±10 of its mean (its sd is below 0.71 for any d)
ROW_CHUNK = 16384


def radii(x: np.ndarray) -> np.ndarray:
    """‖x_i‖ for every row, accumulated in float64."""
    x = np.asarray(x)
    out = np.empty(len(x))
    for start in range(0, len(x), ROW_CHUNK):
        part = x[start:start + ROW_CHUNK].astype(np.float64)
        out[start:start + ROW_CHUNK] = np.sqrt(np.einsum("ij,ij->i", part, part))
    return out


def chi_mean(d: int) -> float:
    """Mean of the chi distribution with d degrees of freedom: √2·Γ((d+1)/2)/Γ(d/2)."""
    return math.sqrt(2.0) * math.exp(math.lgamma((d + 1) / 2) - math.lgamma(d / 2))


def chi_mode(d: int) -> float:
    return math.sqrt(max(d - 1, 0))


def chi_pdf(r: np.ndarray, d: int) -> np.ndarray:
    """pdf of the chi distribution with d degrees of freedom, computed in logs (stable for d in the hundreds)."""
    r = np.asarray(r, dtype=np.float64)
    out = np.zeros_like(r)
    positive = r > 0
    log_norm = (d / 2 - 1) * math.log(2.0) + math.lgamma(d / 2)
    out[positive] = np.exp((d - 1) * np.log(r[positive]) - 0.5 * r[positive] ** 2 - log_norm)
    if d == 1:
        out[r == 0] = math.sqrt(2 / math.pi)
    return out


@dataclass(frozen=True)
class RadiusProfile:
    """One set of radii summarised: histogram, mean, median and the peak (centre of the fullest bin)."""

    name: str  # "z" or "mu"
    radii: np.ndarray
    histogram: Histogram
    mean: float
    median: float
    peak: float


@dataclass(frozen=True)
class RadiusDensity:
    """The radius profile of the plotted codes (and of the other code set of a VAE), and the chi reference."""

    dim: int
    count: int
    profiles: list[RadiusProfile]
    reference_r: np.ndarray  # where the chi pdf is drawn
    reference_counts: np.ndarray  # n × bin width × pdf
    chi_mean: float
    chi_mode: float

    @property
    def main(self) -> RadiusProfile:
        return self.profiles[0]

    def summary(self) -> tuple[list[str], list[list]]:
        header = ["codes", "mean radius", "median radius", "peak radius", "chi mean", "chi mode", "bin width"]
        rows = [[p.name, p.mean, p.median, p.peak, self.chi_mean, self.chi_mode, p.histogram.bin_width]
                for p in self.profiles]
        return header, rows


def _profile(name: str, r: np.ndarray, edges: np.ndarray) -> RadiusProfile:
    counts = histogram(r, edges)
    hist = Histogram(edges, counts)
    return RadiusProfile(name, r, hist, float(r.mean()), float(np.median(r)), float(hist.centres[np.argmax(counts)]))


def iter_radius_density(codes: dict[str, np.ndarray], bin_width: float | None = None) -> Job[RadiusDensity]:
    """Radius histograms of each named code set (the first is the main one) on shared edges from 0.

    ``bin_width`` None picks a round width giving about 100 bins over the main radii's range."""
    if not codes:
        raise AnalysisError("no codes to measure")
    first = next(iter(codes.values()))
    if first.ndim != 2 or len(first) == 0:
        raise AnalysisError(f"radius density needs codes of shape (n, d), got {first.shape}")
    n, d = first.shape
    yield Progress("density by radius", 0, len(codes) + 1, "radii")
    named = {name: radii(x) for name, x in codes.items()}
    top = max(float(r.max()) for r in named.values())
    hi = max(top, chi_mean(d) + 4.0)
    bin_width = bin_width or fit_bin_width(nice_bin_width(next(iter(named.values()))), 0.0, hi)
    edges = uniform_edges(0.0, hi, bin_width)
    profiles = []
    for step, (name, r) in enumerate(named.items(), start=1):
        yield Progress("density by radius", step, len(codes) + 1, f"histogram of ‖{name}‖")
        profiles.append(_profile(name, r, edges))
    grid = np.linspace(max(edges[0], chi_mean(d) - REFERENCE_SPAN), min(edges[-1], chi_mean(d) + REFERENCE_SPAN),
                       REFERENCE_POINTS)
    return RadiusDensity(d, n, profiles, grid, n * bin_width * chi_pdf(grid, d), chi_mean(d), chi_mode(d))


def radius_density(codes: dict[str, np.ndarray], bin_width: float | None = None) -> RadiusDensity:
    return run_job(iter_radius_density(codes, bin_width))
