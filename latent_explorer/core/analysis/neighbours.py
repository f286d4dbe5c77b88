"""Exact k nearest neighbours of every code (or of a sample of them), by brute force in blocks.

In 256 dimensions a KD-tree or ball tree prunes nothing and visits every point anyway; a blocked matrix
product is the fastest exact search. Each block of queries gets squared distances by the expansion
‖q‖² − 2 q·x + ‖x‖² on centred float32 codes, keeps a few more candidates than asked, then measures those
candidates directly in float64 and sorts them: the expansion loses small distances to rounding (the
nearest neighbour of a code can be a thousand times closer than the cloud's radius), the direct difference
does not. A code is never its own neighbour; exact duplicates are neighbours at distance 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from latent_explorer.core.analysis.binning import AnalysisError
from latent_explorer.core.jobs import Job, Progress, run_job

QUERY_BLOCK = 512  # 512 × 70,000 float32 distances: 143 MB per block
EXTRA_CANDIDATES = 4  # kept beyond k from the expansion, re-measured exactly, so that near-ties sort right


@dataclass(frozen=True)
class Neighbours:
    """The k nearest other codes of each queried code, nearest first."""

    queries: np.ndarray  # (m,) indices of the queried codes
    indices: np.ndarray  # (m, k) int64
    distances: np.ndarray  # (m, k) float64, ascending

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])


def iter_nearest_neighbours(x: np.ndarray, k: int, queries: np.ndarray | None = None,
                            stage: str = "nearest neighbours") -> Job[Neighbours]:
    """Exact k nearest neighbours of ``x[queries]`` (default: every row) among all rows of ``x``.

    Cost: one (m × n × d) product, O(m·n·d); a block of `QUERY_BLOCK` queries between two progress reports,
    so closing the job cancels it within one block.
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise AnalysisError(f"nearest neighbours need codes of shape (n, d), got {x.shape}")
    n = len(x)
    if not 1 <= k < n:
        raise AnalysisError(f"k = {k} neighbours need at least {k + 1} codes, got {n}",
                            hint="choose k between 1 and the number of codes − 1")
    if not np.isfinite(x).all():
        raise AnalysisError("the codes hold NaN or infinite values", hint="check the model's output")
    queries = np.arange(n) if queries is None else np.asarray(queries, np.int64)
    centred64 = x.astype(np.float64) - x.mean(axis=0, dtype=np.float64)
    data = torch.from_numpy(centred64.astype(np.float32))
    sq = (data * data).sum(1)
    keep = min(n - 1, k + EXTRA_CANDIDATES)
    indices = np.empty((len(queries), k), np.int64)
    distances = np.empty((len(queries), k), np.float64)
    yield Progress(stage, 0, len(queries))
    with torch.inference_mode():
        for start in range(0, len(queries), QUERY_BLOCK):
            rows = queries[start:start + QUERY_BLOCK]
            idx = torch.from_numpy(rows)
            d2 = torch.addmm(sq[None, :], data[idx], data.T, alpha=-2.0)  # ‖x‖² − 2 q·x (‖q‖² is constant per row)
            d2[torch.arange(len(rows)), idx] = float("inf")  # not its own neighbour
            _, candidates = torch.topk(d2, keep, dim=1, largest=False, sorted=False)
            del d2
            cand = candidates.numpy()
            exact = np.linalg.norm(centred64[cand] - centred64[rows][:, None, :], axis=2)
            order = np.argsort(exact, axis=1, kind="stable")[:, :k]
            indices[start:start + len(rows)] = np.take_along_axis(cand, order, axis=1)
            distances[start:start + len(rows)] = np.take_along_axis(exact, order, axis=1)
            yield Progress(stage, start + len(rows), len(queries))
    return Neighbours(queries, indices, distances)


def nearest_neighbours(x: np.ndarray, k: int, queries: np.ndarray | None = None) -> Neighbours:
    return run_job(iter_nearest_neighbours(x, k, queries))
