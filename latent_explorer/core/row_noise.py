"""The noise of a VAE's reparameterisation as a function of (seed, row) alone.

A torch generator consumed batch after batch makes row i's z depend on the batches before it, so a different
batch size, or batches encoded in parallel by several workers, would give different codes. Here row i's noise is
a counter-based hash (splitmix64) of the seed and i, turned into normal deviates by Box–Muller: the in-process
encoder and every worker of a distributed run compute the same z for the same row, in any order.
"""

from __future__ import annotations

import numpy as np
import torch

from latent_explorer.core.models.base import EPS_CLIP

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """One splitmix64 step on every element (uint64 arithmetic wraps, as the algorithm intends)."""
    with np.errstate(over="ignore"):
        x = x + _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * _MIX1
        x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def row_noise(seed: int, rows: np.ndarray, dim: int) -> np.ndarray:
    """Standard normal deviates, (len(rows), dim) float32 clipped to ±EPS_CLIP, fixed by ``seed`` and each row."""
    rows = np.asarray(rows, dtype=np.uint64).reshape(-1, 1)
    key = _splitmix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))
    with np.errstate(over="ignore"):
        base = _splitmix64(key + rows * np.uint64(2 * dim))
        cols = np.arange(dim, dtype=np.uint64) * np.uint64(2)
        a = _splitmix64(base + cols)
        b = _splitmix64(base + cols + np.uint64(1))
    u1 = 1.0 - (a >> np.uint64(11)).astype(np.float64) * 2.0 ** -53  # (0, 1]: log never sees 0
    u2 = (b >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    eps = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return np.clip(eps, -EPS_CLIP, EPS_CLIP).astype(np.float32)


def sample_z(mu: torch.Tensor, logvar: torch.Tensor, seed: int, rows: np.ndarray) -> torch.Tensor:
    """z = mu + eps·exp(logvar / 2) with eps from `row_noise`: the same formula as the model's own sampling."""
    eps = torch.from_numpy(row_noise(seed, rows, int(mu.shape[1]))).to(mu.device)
    return mu + eps * torch.exp(0.5 * logvar)
