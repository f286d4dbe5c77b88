"""t-SNE as a staged, cancellable job with streamed layouts (openTSNE underneath).

The stages follow openTSNE's own API (and Orange's t-SNE widget): affinities → initialisation →
``TSNEEmbedding.optimize`` in chunks. Each chunk yields a copy of the layout so a view can show it
forming, and closing the generator between chunks stops the run with that layout kept. A `TSNECache`
keeps finished layouts per (input, parameters) and affinities per (input, perplexity, seed), so a new
exaggeration or iteration count reruns only the optimisation.
"""

from __future__ import annotations

import copy
import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.jobs import Job, Progress

INPUTS = ("z", "mu", "pca", "pixels")
INITIALISATIONS = ("pca", "spectral", "random")
CHUNK_ITERATIONS = 50
MOMENTUM = 0.8  # openTSNE's default for both phases
MAX_STEP_NORM = 5.0  # openTSNE's default


class TSNEError(LatentExplorerError):
    """t-SNE parameters that cannot work with this input."""


def default_n_jobs() -> int:
    """Every core this process may use: openTSNE releases the GIL, so the GUI thread still runs."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class TSNEParams:
    """What a t-SNE run depends on. ``input`` picks the data; ``pca_components`` is used for "pca"."""

    input: str = "z"  # "z" | "mu" | "pca" (PCA of the plotted codes) | "pixels"
    pca_components: int = 50
    perplexity: float = 30.0
    early_exaggeration: float = 12.0
    early_exaggeration_iter: int = 250
    exaggeration: float = 1.0
    n_iter: int = 500
    seed: int = 0
    initialization: str = "pca"

    def __post_init__(self) -> None:
        if self.input not in INPUTS:
            raise TSNEError(f"t-SNE input must be one of {', '.join(INPUTS)}, not '{self.input}'")
        if self.initialization not in INITIALISATIONS:
            raise TSNEError(f"initialisation must be one of {', '.join(INITIALISATIONS)}, "
                            f"not '{self.initialization}'")
        if self.perplexity <= 0:
            raise TSNEError(f"perplexity must be positive, got {self.perplexity}")
        if not self.exaggeration > 0:
            raise TSNEError(f"exaggeration must be positive, got {self.exaggeration}")
        if not self.early_exaggeration > 0:
            raise TSNEError(f"early exaggeration must be positive, got {self.early_exaggeration}")
        if self.n_iter < 0 or self.early_exaggeration_iter < 0:
            raise TSNEError("iteration counts cannot be negative")
        if self.input == "pca" and self.pca_components < 2:
            raise TSNEError(f"PCA input needs at least 2 components, got {self.pca_components}")

    @property
    def total_iterations(self) -> int:
        return self.early_exaggeration_iter + self.n_iter

    def input_label(self) -> str:
        return f"PCA-{self.pca_components}" if self.input == "pca" else self.input

    def label(self) -> str:
        """A short name for menus and the view selector."""
        text = f"{self.input_label()} p{self.perplexity:g}"
        if self.exaggeration != 1:
            text += f" ex{self.exaggeration:g}"
        if self.early_exaggeration != 12 or self.early_exaggeration_iter != 250:
            text += f" ee{self.early_exaggeration:g}×{self.early_exaggeration_iter}"
        text += f" {self.n_iter}it {self.initialization} s{self.seed}"
        return text

    def layout_key(self) -> tuple:
        """Everything the finished layout depends on (besides the input data itself)."""
        return tuple(sorted(asdict(self).items()))

    def affinity_key(self) -> tuple:
        return (self.perplexity, self.seed)


def array_fingerprint(data: np.ndarray) -> str:
    """Content hash of an array: the input part of every cache key."""
    arr = np.ascontiguousarray(data)
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{arr.shape}{arr.dtype}".encode())
    h.update(arr.data)
    return h.hexdigest()


class TSNECache:
    """Finished layouts and affinities, bounded (a 70k affinity matrix is ~100 MB). Thread-safe."""

    def __init__(self, max_layouts: int = 16, max_affinities: int = 2):
        self._layouts: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._affinities: OrderedDict[tuple, Any] = OrderedDict()
        self.max_layouts, self.max_affinities = max_layouts, max_affinities
        self._lock = threading.Lock()
        self.affinity_builds = 0  # how many times the neighbour search ran (tests and the status bar use it)

    @staticmethod
    def _get(store: OrderedDict, key: tuple) -> Any:
        value = store.get(key)
        if value is not None:
            store.move_to_end(key)
        return value

    @staticmethod
    def _put(store: OrderedDict, key: tuple, value: Any, limit: int) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > limit:
            store.popitem(last=False)

    def layout(self, input_key: str, params: TSNEParams) -> np.ndarray | None:
        with self._lock:
            return self._get(self._layouts, (input_key, params.layout_key()))

    def store_layout(self, input_key: str, params: TSNEParams, layout: np.ndarray) -> None:
        with self._lock:
            self._put(self._layouts, (input_key, params.layout_key()), layout, self.max_layouts)

    def affinities(self, input_key: str, params: TSNEParams) -> Any:
        with self._lock:
            return self._get(self._affinities, (input_key, *params.affinity_key()))

    def store_affinities(self, input_key: str, params: TSNEParams, affinities: Any) -> None:
        with self._lock:
            self.affinity_builds += 1
            self._put(self._affinities, (input_key, *params.affinity_key()), affinities, self.max_affinities)

    def clear(self) -> None:
        with self._lock:
            self._layouts.clear()
            self._affinities.clear()


def compute_affinities(data: np.ndarray, params: TSNEParams, n_jobs: int):
    """openTSNE's perplexity-based kNN affinities (exact below 1,000 points, Annoy above)."""
    from openTSNE.affinity import PerplexityBasedNN

    n = len(data)
    if n < 4:
        raise TSNEError(f"t-SNE needs at least 4 points, got {n}")
    perplexity = min(params.perplexity, (n - 1) / 3.0)
    return PerplexityBasedNN(np.ascontiguousarray(data), perplexity=perplexity, method="auto",
                             n_jobs=n_jobs, random_state=params.seed)


def initial_layout(data: np.ndarray, affinities, params: TSNEParams) -> np.ndarray:
    """The starting layout; "pca" needs at least 2 columns and falls back to "random" (same seed) below that."""
    from openTSNE import initialization

    if params.initialization == "pca" and data.shape[1] >= 2:
        return initialization.pca(data, n_components=2, random_state=params.seed)
    if params.initialization == "spectral":
        return initialization.spectral(affinities.P, n_components=2, random_state=params.seed)
    return initialization.random(len(data), n_components=2, random_state=params.seed)


def iter_tsne(data: np.ndarray, params: TSNEParams, cache: TSNECache | None = None, input_key: str | None = None,
              n_jobs: int | None = None, chunk: int = CHUNK_ITERATIONS) -> Job[np.ndarray]:
    """Embed ``data`` (N, D) in 2-D; yields ``Progress(partial=layout)`` after each chunk of iterations.

    Returns the (N, 2) float32 layout. ``input_key`` names the data in the cache (hashed when omitted).
    """
    from openTSNE import TSNEEmbedding

    n_jobs = n_jobs or default_n_jobs()
    data = np.asarray(data, dtype=np.float32)
    if data.ndim != 2:
        data = data.reshape(len(data), -1)
    if not np.isfinite(data).all():
        raise TSNEError("the t-SNE input holds NaN or infinite values")
    total = params.total_iterations
    if cache is not None:
        input_key = input_key or array_fingerprint(data)
        cached = cache.layout(input_key, params)
        if cached is not None:
            yield Progress("t-SNE", total, total, "from cache")
            return cached.copy()

    affinities = cache.affinities(input_key, params) if cache is not None else None
    if affinities is None:
        yield Progress("t-SNE: nearest neighbours", 0, None, f"{len(data):,} points")
        affinities = compute_affinities(data, params, n_jobs)
        if cache is not None:
            cache.store_affinities(input_key, params, affinities)
    # optimize() scales P in place during exaggeration: a run still stopping must not share it with this one
    affinities = copy.copy(affinities)
    affinities.P = affinities.P.copy()

    yield Progress("t-SNE: initialisation", 0, total, params.initialization)
    init = initial_layout(data, affinities, params)
    embedding = TSNEEmbedding(init, affinities, random_state=params.seed, n_jobs=n_jobs, learning_rate="auto",
                              momentum=MOMENTUM, max_step_norm=MAX_STEP_NORM, negative_gradient_method="auto")
    yield Progress("t-SNE", 0, total, "early exaggeration", partial=np.asarray(embedding, np.float32))

    done = 0
    phases = (("early exaggeration", params.early_exaggeration, params.early_exaggeration_iter),
              ("optimising", params.exaggeration, params.n_iter))
    for stage, exaggeration, iterations in phases:
        if iterations <= 0:
            continue
        # Scale P once per phase, as one openTSNE optimize() call does: scaling it per chunk would round P
        # differently and the layout would drift from a plain openTSNE run. P is this run's own copy.
        affinities.P *= exaggeration
        learning_rate = len(data) / exaggeration  # openTSNE's "auto" rate for this exaggeration
        left = iterations
        while left > 0:
            step = min(chunk, left)
            embedding.optimize(n_iter=step, exaggeration=1.0, learning_rate=learning_rate, momentum=MOMENTUM,
                               inplace=True)
            left -= step
            done += step
            kl = embedding.kl_divergence / exaggeration - np.log(exaggeration)
            yield Progress("t-SNE", done, total, f"{stage}, KL {kl:.3f}", partial=np.asarray(embedding, np.float32))
        affinities.P /= exaggeration
    layout = np.asarray(embedding, np.float32)
    if cache is not None:
        cache.store_layout(input_key, params, layout)
    return layout.copy()
