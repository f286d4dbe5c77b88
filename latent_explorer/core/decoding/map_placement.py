"""Placing new codes in a t-SNE map: by their nearest codes at once, or exactly with openTSNE (slow)."""

from __future__ import annotations

from typing import Any

import numpy as np

from latent_explorer.core.jobs import Job, Progress
from latent_explorer.core.placement import place_by_neighbours


def knn_placement(coords: np.ndarray, indices: np.ndarray, distances: np.ndarray) -> tuple[float, float]:
    """A map position from the positions of one code's nearest neighbours, weighted by 1/distance."""
    xy = place_by_neighbours(coords, np.asarray(indices)[None], np.asarray(distances)[None])[0]
    return float(xy[0]), float(xy[1])



def iter_exact_map_placement(coords: np.ndarray, codes: np.ndarray, z: np.ndarray, affinities: Any = None,
                             perplexity: float = 30.0, seed: int = 0, n_jobs: int = 1) -> Job[tuple[np.ndarray, Any]]:
    """Place new codes in a fixed t-SNE map with openTSNE's ``transform``: exact but slow, for batches only.

    Returns (positions (n, 2), the map's affinities); pass the affinities back to skip the neighbour search
    of the map's codes next time.
    """
    from openTSNE import TSNEEmbedding
    from openTSNE.affinity import PerplexityBasedNN

    codes = np.ascontiguousarray(codes, dtype=np.float32)
    if affinities is None:
        yield Progress("t-SNE placement: neighbours of the map", 0, None, f"{len(codes):,} codes")
        affinities = PerplexityBasedNN(codes, perplexity=min(perplexity, (len(codes) - 1) / 3.0), method="auto",
                                       n_jobs=n_jobs, random_state=seed)
    yield Progress("t-SNE placement: optimising", 0, None, f"{len(z)} samples")
    embedding = TSNEEmbedding(np.ascontiguousarray(coords, dtype=np.float64), affinities, random_state=seed,
                              n_jobs=n_jobs)
    placed = embedding.transform(np.ascontiguousarray(z, dtype=np.float32), k=min(25, len(codes) - 1))
    return np.asarray(placed, np.float64), affinities
