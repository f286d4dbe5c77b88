"""How far a code lies from the data (the off-data meter), prepared once per set of codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from latent_explorer.core.decoding.sliders import LatentSummary
from latent_explorer.core.jobs import Job, Progress

# torch.set_num_threads sets the calling thread's count, and the count a thread takes at its first torch call:
# a thread starting while another is inside `torch_threads` reads that one's temporary count as its own.
_DEFAULT_THREADS = torch.get_num_threads()


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run a small torch computation on ``n`` threads of the calling thread.

    A matrix-vector product is memory-bound: extra intra-op threads add nothing, and on a busy machine
    they mostly wait for each other (measured: 12 ms on two threads, 2.8 ms on one, 70,000 × 256).
    On leaving, the thread gets the process's original count back, never the count it found on entry, which
    may be another thread's temporary one. Each thread keeps its own count, so this leaves the counts of
    threads still inside their blocks alone, and the last to leave puts the count of new threads back too.
    """
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(_DEFAULT_THREADS)


class OffDataMeter:
    """How far a z lies from the data: mean distance to its k nearest codes ÷ the typical such distance.

    The typical distance (median over a sample of codes of the mean distance to their k nearest *other*
    codes) is computed once per encoding; each query is one exact matrix-vector product over all codes.
    A code of the data scores about 1 or less; a point in empty space scores high.
    """

    def __init__(self, codes: np.ndarray, typical: float, k: int = 5):
        self.codes = torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32))
        self.sq_norms = (self.codes * self.codes).sum(1)
        self.typical = float(typical)
        self.k = int(k)

    def __len__(self) -> int:
        return len(self.codes)

    def nearest(self, z: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Indices and distances of the ``k`` nearest codes to one z, nearest first (exact search)."""
        k = min(int(k or self.k), len(self.codes))
        query = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32).ravel())
        with torch_threads(1):
            sq = torch.addmv(self.sq_norms, self.codes, query, alpha=-2.0)
            _, indices = torch.topk(sq, k, largest=False, sorted=True)
            # the expansion ‖c‖² − 2c·z + ‖z‖² loses small distances to rounding: measure the k found directly
            distances = torch.linalg.vector_norm(self.codes[indices] - query, dim=1)
            order = torch.argsort(distances)
        return indices[order].numpy(), distances[order].numpy()

    def score(self, z: np.ndarray) -> float:
        """Mean distance to the k nearest codes, in units of the data's typical nearest-neighbour distance."""
        _, distances = self.nearest(z)
        return float(distances.mean() / self.typical) if self.typical > 0 else float("inf")


def iter_typical_nn_distance(codes: np.ndarray, k: int = 5, sample: int = 1000, seed: int = 0,
                             batch_size: int = 128) -> Job[float]:
    """Median over ``sample`` codes of the mean distance to their k nearest other codes (exact search)."""
    data = torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32))
    n = len(data)
    if n < 2:
        return 1.0
    k = min(k, n - 1)
    picks = np.random.default_rng(seed).choice(n, min(sample, n), replace=False)
    sq = (data * data).sum(1)
    means = []
    yield Progress("typical neighbour distance", 0, len(picks))
    for start in range(0, len(picks), batch_size):
        idx = torch.from_numpy(picks[start:start + batch_size])
        query = data[idx]
        d2 = sq[None, :] - 2.0 * (query @ data.T) + sq[idx][:, None]
        d2[torch.arange(len(idx)), idx] = float("inf")  # not its own neighbour
        values, _ = torch.topk(d2, k, dim=1, largest=False)
        means.append(torch.sqrt(torch.clamp(values, min=0.0)).mean(1).numpy())
        yield Progress("typical neighbour distance", min(len(picks), start + batch_size), len(picks))
    typical = float(np.median(np.concatenate(means)))
    return typical if typical > 0 else 1e-12


@dataclass
class PreparedLatents:
    """Everything the decoder panel derives once per encoding."""

    summary: LatentSummary
    meter: OffDataMeter


def iter_prepare_latents(z: np.ndarray, k: int = 5, sample: int = 1000) -> Job[PreparedLatents]:
    """Slider ranges and the off-data meter for a new set of codes (a background job)."""
    yield Progress("decoder: slider ranges", 0, None)
    summary = LatentSummary.of(z)
    typical = yield from iter_typical_nn_distance(z, k=k, sample=sample)
    return PreparedLatents(summary=summary, meter=OffDataMeter(z, typical, k=k))
