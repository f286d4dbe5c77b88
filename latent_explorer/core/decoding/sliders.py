"""The decoder's sliders: ranges from the data, PCA directions, and how strongly each direction moves the image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from latent_explorer.core.decoding.images import decode_images
from latent_explorer.core.jobs import Job, Progress

PERCENTILES = (0.5, 99.5)


@dataclass
class LatentSummary:
    """Per-axis facts of the plotted codes: where sliders start, end and rest."""

    mean: np.ndarray  # (d,)
    variance: np.ndarray  # (d,)
    lo: np.ndarray  # (d,) 0.5th percentile
    hi: np.ndarray  # (d,) 99.5th percentile
    median_radius: float  # median ‖z‖ of the data

    @classmethod
    def of(cls, z: np.ndarray, percentiles: tuple[float, float] = PERCENTILES) -> LatentSummary:
        z = np.asarray(z, dtype=np.float32)
        lo, hi = slider_ranges(z, percentiles)
        return cls(mean=z.mean(axis=0), variance=z.var(axis=0), lo=lo, hi=hi,
                   median_radius=float(np.median(np.linalg.norm(z, axis=1))))


def slider_ranges(values: np.ndarray, percentiles: tuple[float, float] = PERCENTILES) -> tuple[np.ndarray, np.ndarray]:
    """Per-column (lo, hi) percentiles of ``values`` (N, k); a constant column gets a range of ±0.5."""
    lo, hi = np.percentile(np.asarray(values, dtype=np.float32), percentiles, axis=0)
    flat = hi - lo < 1e-6
    lo = np.where(flat, lo - 0.5, lo)
    hi = np.where(flat, hi + 0.5, hi)
    return lo.astype(np.float32), hi.astype(np.float32)


def extend_ranges(lo: np.ndarray, hi: np.ndarray, factor: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Widen each range by ``factor`` of its width on both sides (the "extend" button)."""
    pad = (np.asarray(hi) - np.asarray(lo)) * factor
    return (lo - pad).astype(np.float32), (hi + pad).astype(np.float32)


@dataclass
class PCABasis:
    """Principal directions of the codes: move z along PCi in units of its standard deviation, the rest held."""

    mean: np.ndarray  # (d,)
    components: np.ndarray  # (k, d), orthonormal rows
    std: np.ndarray  # (k,) standard deviation along each component

    @classmethod
    def fit(cls, z: np.ndarray) -> PCABasis:
        """Eigen-decomposition of the covariance (d × d), largest variance first."""
        data = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32))
        mean = data.mean(0)
        centred = (data - mean).double()
        cov = centred.T @ centred / max(1, len(data) - 1)
        values, vectors = torch.linalg.eigh(cov)
        order = torch.argsort(values, descending=True)
        keep = order[: min(len(order), max(1, len(data) - 1))]
        return cls(mean=mean.numpy(), components=vectors[:, keep].T.float().numpy(),
                   std=np.sqrt(np.clip(values[keep].numpy(), 0, None)).astype(np.float32))

    @classmethod
    def from_model(cls, pca: Any) -> PCABasis:
        """From a fitted PCA with sklearn's attribute names (``mean_``, ``components_``, ``explained_variance_``)."""
        return cls(mean=np.asarray(pca.mean_, np.float32), components=np.asarray(pca.components_, np.float32),
                   std=np.sqrt(np.clip(np.asarray(pca.explained_variance_, np.float64), 0, None)).astype(np.float32))

    @property
    def safe_std(self) -> np.ndarray:
        return np.where(self.std > 1e-12, self.std, 1.0).astype(np.float32)

    def coordinates(self, z: np.ndarray) -> np.ndarray:
        """z (d,) or (n, d) → coordinates along each component, in standard deviations."""
        return ((np.asarray(z, np.float32) - self.mean) @ self.components.T) / self.safe_std

    def move(self, z: np.ndarray, component: int, value: float) -> np.ndarray:
        """z with its coordinate along ``component`` set to ``value`` SDs; the other components held."""
        z = np.asarray(z, np.float32)
        current = float(self.coordinates(z)[component])
        step = (value - current) * float(self.safe_std[component])
        return (z + step * self.components[component]).astype(np.float32)

    def directions(self) -> np.ndarray:
        """(k, d): one SD along each component (the unit of the PCA sliders)."""
        return self.components * self.safe_std[:, None]


def pca_slider_ranges(basis: PCABasis, z: np.ndarray, sample: int = 10000, seed: int = 0,
                      percentiles: tuple[float, float] = PERCENTILES) -> tuple[np.ndarray, np.ndarray]:
    """Percentile ranges of the data's PCA coordinates (in SDs), on a sample of at most ``sample`` codes."""
    z = np.asarray(z)
    if len(z) > sample:
        z = z[np.random.default_rng(seed).choice(len(z), sample, replace=False)]
    return slider_ranges(basis.coordinates(z), percentiles)


def iter_decoder_sensitivity(model: Any, bases: np.ndarray, directions: np.ndarray, step: float,
                             batch_size: int = 512) -> Job[np.ndarray]:
    """How much the decoded image changes per unit step along each direction.

    Central differences at every base code: RMS pixel change of decode(b ± step·u) divided by 2·step,
    averaged over the bases. Returns (k,) for ``directions`` (k, d).
    """
    bases = np.atleast_2d(np.asarray(bases, np.float32))
    directions = np.asarray(directions, np.float32)
    k = len(directions)
    total = len(bases) * k
    out = np.zeros(k, np.float64)
    done = 0
    yield Progress("decoder sensitivity", 0, total)
    per_batch = max(1, batch_size // 2)
    for base in bases:
        for start in range(0, k, per_batch):
            dirs = directions[start:start + per_batch]
            codes = np.concatenate([base + step * dirs, base - step * dirs])
            images = decode_images(model, codes).reshape(2 * len(dirs), -1)
            plus, minus = images[: len(dirs)], images[len(dirs):]
            out[start:start + len(dirs)] += np.sqrt(((plus - minus) ** 2).mean(axis=1)) / (2 * step)
            done += len(dirs)
            yield Progress("decoder sensitivity", done, total)
    return (out / len(bases)).astype(np.float32)
