"""Reconstruction error: its distribution, and the worst-reconstructed samples with their reconstructions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from latent_explorer.core.analysis.binning import (
    AnalysisError,
    Histogram,
    fit_bin_width,
    histogram,
    nice_bin_width,
    uniform_edges,
)
from latent_explorer.core.datasets import Dataset, chw_to_hwc
from latent_explorer.core.jobs import Job, Progress


@dataclass(frozen=True)
class ReconStatistics:
    histogram: Histogram
    mean: float
    median: float
    p99: float
    max: float
    worst: np.ndarray  # indices, worst first

    def summary(self) -> tuple[list[str], list[list]]:
        return ["quantity", "value"], [["mean", self.mean], ["median", self.median], ["99th percentile", self.p99],
                                       ["max", self.max], ["bin width", self.histogram.bin_width]]


@dataclass(frozen=True)
class Reconstruction:
    """One gallery entry: the sample, what the model makes of it, and its error."""

    index: int
    error: float
    image: np.ndarray  # (H, W) or (H, W, 3) float in [0, 1]
    reconstruction: np.ndarray


def worst_indices(errors: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` largest errors, largest first."""
    errors = np.asarray(errors)
    count = min(count, len(errors))
    if count <= 0:
        return np.zeros(0, np.int64)
    top = np.argpartition(-errors, count - 1)[:count]
    return top[np.argsort(-errors[top], kind="stable")].astype(np.int64)


def recon_statistics(errors: np.ndarray, bin_width: float | None = None, worst: int = 24) -> ReconStatistics:
    errors = np.asarray(errors, dtype=np.float64)
    if errors.ndim != 1 or len(errors) == 0:
        raise AnalysisError(f"reconstruction errors must be a non-empty (n,) array, got shape {errors.shape}")
    lo, hi = float(errors.min()), float(errors.max())
    edges = uniform_edges(lo, hi, bin_width or fit_bin_width(nice_bin_width(errors), lo, hi))
    return ReconStatistics(Histogram(edges, histogram(errors, edges)), float(errors.mean()), float(np.median(errors)),
                           float(np.percentile(errors, 99)), float(errors.max()), worst_indices(errors, worst))


def iter_reconstructions(model, dataset: Dataset, latent: np.ndarray, indices: np.ndarray,
                         errors: np.ndarray) -> Job[list[Reconstruction]]:
    """Decode the codes of ``indices`` (mu for a VAE, as the errors were measured) beside their images."""
    indices = np.asarray(indices, dtype=np.int64)
    yield Progress("reconstructions", 0, len(indices))
    with torch.inference_mode():
        decoded = model.decode(torch.from_numpy(np.ascontiguousarray(latent[indices], dtype=np.float32)))
    decoded = decoded.detach().cpu().numpy()
    return [Reconstruction(int(i), float(errors[i]), dataset.display_image(int(i)), chw_to_hwc(decoded[row]))
            for row, i in enumerate(indices)]
