"""KMeans inertia against the number of clusters, several seeds per k to show how much it varies.

A sweep is a job that fits one MiniBatchKMeans at a time and yields the curve so far as its partial
result, so a cancelled sweep keeps every fit already done. Inertia is the sum of squared distances from
each code to its nearest centre over all codes (not over the last mini-batch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from latent_explorer.core.analysis.binning import AnalysisError
from latent_explorer.core.analysis.threads import single_threaded_math
from latent_explorer.core.jobs import Job, Progress

ROW_CHUNK = 8192
BATCH_SIZE = 2048


def k_values(first: int, last: int, step: int) -> list[int]:
    """The ks of a sweep, ``first … last`` inclusive; a clear error for a range that makes no sense."""
    if first < 1 or step < 1 or last < first:
        raise AnalysisError(f"the k range {first}…{last} step {step} is empty or invalid",
                            hint="use 1 <= first <= last and step >= 1, e.g. 2…80 step 2")
    return list(range(first, last + 1, step))


def nearest_centre(x: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each row's nearest centre and the squared distance to it (chunked, float64)."""
    c = np.asarray(centres, dtype=np.float64)
    c_sq = np.einsum("ij,ij->i", c, c)
    labels = np.empty(len(x), np.int64)
    dist = np.empty(len(x))
    for start in range(0, len(x), ROW_CHUNK):
        part = np.asarray(x[start:start + ROW_CHUNK], dtype=np.float64)
        d2 = np.einsum("ij,ij->i", part, part)[:, None] - 2.0 * part @ c.T + c_sq[None, :]
        labels[start:start + len(part)] = np.argmin(d2, axis=1)
        dist[start:start + len(part)] = np.maximum(d2.min(axis=1), 0.0)
    return labels, dist


@dataclass
class KMeansSweep:
    """Inertia for each (k, seed); NaN where the fit has not run yet (a cancelled or running sweep)."""

    ks: list[int]
    seeds: list[int]
    inertia: np.ndarray  # (len(ks), len(seeds))
    centres: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)  # (k, seed) -> (k, d)

    @property
    def done(self) -> int:
        return int(np.isfinite(self.inertia).sum())

    @property
    def complete(self) -> bool:
        return self.done == self.inertia.size

    def finished_ks(self) -> list[int]:
        return [k for k, row in zip(self.ks, self.inertia, strict=True) if np.isfinite(row).any()]

    def best_centres(self, k: int) -> np.ndarray:
        """The centres of the lowest-inertia seed at ``k``."""
        row = self.inertia[self.ks.index(k)]
        if not np.isfinite(row).any():
            raise AnalysisError(f"k = {k} has not been computed yet", hint="run the sweep over this k first")
        return self.centres[(k, self.seeds[int(np.nanargmin(row))])]

    def labels(self, x: np.ndarray, k: int) -> np.ndarray:
        """Cluster of every code for ``k`` clusters (nearest centre of the best seed)."""
        return nearest_centre(x, self.best_centres(k))[0]

    def snapshot(self) -> KMeansSweep:
        return KMeansSweep(list(self.ks), list(self.seeds), self.inertia.copy(), dict(self.centres))

    def table(self) -> tuple[list[str], list[list]]:
        header = ["k", "mean inertia", "min inertia", "max inertia", "std inertia",
                  *(f"inertia seed {s}" for s in self.seeds)]
        rows = []
        for k, row in zip(self.ks, self.inertia, strict=True):
            if not np.isfinite(row).any():
                continue
            done = row[np.isfinite(row)]
            rows.append([k, float(done.mean()), float(done.min()), float(done.max()), float(done.std()),
                         *(float(v) for v in row)])
        return header, rows


def fit_kmeans(x: np.ndarray, k: int, seed: int, batch_size: int = BATCH_SIZE) -> tuple[np.ndarray, float]:
    """One MiniBatchKMeans fit: its centres and their inertia over all of ``x``."""
    from sklearn.cluster import MiniBatchKMeans

    model = MiniBatchKMeans(n_clusters=k, random_state=seed, batch_size=batch_size, n_init=1,
                            compute_labels=False)
    with single_threaded_math():
        model.fit(x)
        centres = model.cluster_centers_.astype(np.float64)
        return centres, float(nearest_centre(x, centres)[1].sum())


def iter_kmeans_sweep(x: np.ndarray, ks: list[int], seeds: list[int], batch_size: int = BATCH_SIZE
                      ) -> Job[KMeansSweep]:
    """Fit every (k, seed) in turn; each step yields `Progress` with the sweep so far as ``partial``."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 2 or len(x) == 0:
        raise AnalysisError(f"KMeans needs codes of shape (n, d), got {x.shape}")
    if not seeds:
        raise AnalysisError("KMeans needs at least one seed")
    too_many = [k for k in ks if k > len(x)]
    if too_many:
        raise AnalysisError(f"k = {too_many[0]} is more than the {len(x):,} codes",
                            hint=f"keep k at or below {len(x):,}")
    sweep = KMeansSweep(list(ks), list(seeds), np.full((len(ks), len(seeds)), np.nan))
    total = sweep.inertia.size
    yield Progress("KMeans inertia", 0, total, f"k = {ks[0]}", partial=sweep.snapshot())
    for row, k in enumerate(ks):
        for column, seed in enumerate(seeds):
            centres, inertia = fit_kmeans(x, k, seed, batch_size)
            sweep.inertia[row, column] = inertia
            sweep.centres[(k, seed)] = centres
            yield Progress("KMeans inertia", sweep.done, total, f"k = {k}, seed {seed}", partial=sweep.snapshot())
    return sweep
