"""The curves a structure analysis is drawn with: the data and its Gaussian baseline on shared bins, so that
the two read against each other, and the prior samples' off-data scores.

The window's structure panel and the comparison of two models draw these; they hold only counts and edges,
small enough to be exported as CSV beside the summary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latent_explorer.core.analysis.binning import histogram
from latent_explorer.core.analysis.structure import StructureAnalysis

CURVE_BINS = 60


@dataclass(frozen=True)
class PairedHistogram:
    """Two distributions of one quantity on the same bins: the codes and their Gaussian baseline."""

    edges: np.ndarray
    data: np.ndarray
    gaussian: np.ndarray

    def rows(self) -> list[list]:
        return [[float(self.edges[b]), float(self.edges[b + 1]), int(self.data[b]), int(self.gaussian[b])]
                for b in range(len(self.edges) - 1)]


@dataclass(frozen=True)
class StructureCurves:
    """Everything the structure plots draw, derived from one `StructureAnalysis`."""

    lid: PairedHistogram  # local dimension of the codes and of the Gaussian baseline
    nn_distance: PairedHistogram  # distance to the nearest other point
    prior_edges: np.ndarray  # off-data score bins shared by every prior
    prior_counts: dict[str, np.ndarray]  # prior label -> counts


def shared_edges(values: list[np.ndarray], bins: int = CURVE_BINS, upper_quantile: float = 0.998) -> np.ndarray:
    """Equal-width edges from the smallest value to the ``upper_quantile`` of all ``values`` together: one
    far outlier would otherwise squeeze every other bin into a single column."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values]).astype(np.float64)
    if finite.size == 0:
        return np.linspace(0.0, 1.0, bins + 1)
    lo, hi = float(finite.min()), float(np.quantile(finite, upper_quantile))
    if not hi > lo:
        hi = lo + 1.0
    return np.linspace(lo, hi, bins + 1)


def paired(data: np.ndarray, gaussian: np.ndarray, bins: int = CURVE_BINS) -> PairedHistogram:
    edges = shared_edges([data, gaussian], bins)
    return PairedHistogram(edges, histogram(data[np.isfinite(data)], edges),
                           histogram(gaussian[np.isfinite(gaussian)], edges))


def structure_curves(result: StructureAnalysis, bins: int = CURVE_BINS) -> StructureCurves:
    """The shared-bin histograms of one analysis (cheap: a few passes over the per-point values)."""
    scores = [p.scores for p in result.priors]
    edges = shared_edges(scores, bins) if scores else np.linspace(0.0, 1.0, bins + 1)
    edges = np.linspace(min(0.0, float(edges[0])), max(float(edges[-1]), 1.5), bins + 1)  # the unit (1) is in view
    return StructureCurves(
        lid=paired(result.data.lid, result.gaussian.lid, bins),
        nn_distance=paired(result.data.nn_distance, result.gaussian.nn_distance, bins),
        prior_edges=edges,
        prior_counts={p.prior: histogram(p.scores, edges) for p in result.priors})


def lid_per_sample(result: StructureAnalysis) -> np.ndarray:
    """The local dimension of every sample (NaN for a sample not measured, or one with a duplicate)."""
    out = np.full(result.count, np.nan, dtype=np.float64)
    out[result.data.points] = result.data.lid
    return out
