"""t-SNE as a staged, cancellable job with streamed layouts (openTSNE underneath).

The stages follow openTSNE's own API (and Orange's t-SNE widget): affinities → initialisation →
``TSNEEmbedding.optimize`` in chunks. Each chunk yields a copy of the layout so a view can show it
forming, and closing the generator between chunks stops the run with that layout kept. A `TSNECache`
keeps finished layouts per (input, parameters) and affinities per (input, perplexity, seed, neighbour
method), so a new exaggeration, schedule or stopping rule reruns only the optimisation.

The default schedule is shorter than openTSNE's (see `DEFAULT_EARLY_ITERATIONS`, `DEFAULT_ITERATIONS` and
`DEFAULT_KL_STOP`, and ``tests/benchmarks/tsne.py`` for the measurements behind them): the main phase stops once
the KL divergence falls by less than ``kl_stop`` (relative) over 50 iterations, as FIt-SNE and openTSNE's
callbacks allow. `REFERENCE` is openTSNE's own defaults, for comparisons and figures that must match them.
"""

from __future__ import annotations

import copy
import hashlib
import os
import threading
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from latent_explorer.core.bounded_store import BoundedStore
from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.jobs import Job, Progress

INPUTS = ("z", "mu", "pca", "pixels")
INITIALISATIONS = ("pca", "spectral", "random")
# "auto": the fastest method measured for the size (`neighbour_method`); "opentsne": openTSNE's own choice
NEIGHBOUR_METHODS = ("auto", "opentsne", "exact", "annoy", "pynndescent", "hnsw")
CHUNK_ITERATIONS = 50
KL_WINDOW = 50  # iterations over which the relative change of KL is measured for stopping
# Measured on 20,000 Fashion-MNIST codes (32-d), KL of openTSNE's defaults (250 + 500) = 4.013, recall@10 0.208:
# 125 early iterations, then KL 4.157 / 4.129 / 4.108 after 200 / 250 / 300 (+3.6 / +2.9 / +2.4 %), recall
# 0.196 / 0.202 / 0.206; KL falls by 0.92 / 0.66 / 0.52 % per 50 iterations there. Stopping below 0.8 % ends
# at about 125 + 250 = 375 iterations, half of openTSNE's 750, within +3 % of its KL.
DEFAULT_EARLY_ITERATIONS = 125
DEFAULT_ITERATIONS = 500  # an upper bound: the KL rule usually ends the run well before
DEFAULT_KL_STOP = 0.008
# Neighbour searches measured (CPU seconds, perplexity 30, 2 threads): 20,000 × 32: exact 3.2, annoy 15.1,
# pynndescent 6.1 (135 on its first call: numba compiles); 70,000 × 32: exact 27.3, annoy 69.2, pynndescent 67.1.
# Exact search costs n² d: it stays the fastest up to about 70,000 × 32 (n² d = 1.6e11), Annoy beyond.
EXACT_SEARCH_MAX_WORK = 2e11  # n² × dimensions
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
    early_exaggeration_iter: int = DEFAULT_EARLY_ITERATIONS
    exaggeration: float = 1.0
    n_iter: int = DEFAULT_ITERATIONS
    seed: int = 0
    initialization: str = "pca"
    neighbors: str = "auto"  # one of NEIGHBOUR_METHODS
    kl_stop: float = DEFAULT_KL_STOP  # 0: run every iteration

    def __post_init__(self) -> None:
        if self.input not in INPUTS:
            raise TSNEError(f"t-SNE input must be one of {', '.join(INPUTS)}, not '{self.input}'")
        if self.neighbors not in NEIGHBOUR_METHODS:
            raise TSNEError(f"the neighbour search must be one of {', '.join(NEIGHBOUR_METHODS)}, "
                            f"not '{self.neighbors}'")
        if not self.kl_stop >= 0:
            raise TSNEError(f"the KL stopping threshold cannot be negative, got {self.kl_stop}")
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
        if self.optimisation_key() == REFERENCE.optimisation_key() and self.neighbors == REFERENCE.neighbors:
            return f"{self.input_label()} p{self.perplexity:g} reference {self.initialization} s{self.seed}"
        text = f"{self.input_label()} p{self.perplexity:g}"
        if self.exaggeration != 1:
            text += f" ex{self.exaggeration:g}"
        if self.early_exaggeration != 12 or self.early_exaggeration_iter != DEFAULT_EARLY_ITERATIONS:
            text += f" ee{self.early_exaggeration:g}×{self.early_exaggeration_iter}"
        text += f" {self.n_iter}it"
        if self.kl_stop != DEFAULT_KL_STOP:
            text += f" stop{self.kl_stop:g}" if self.kl_stop else " nostop"
        if self.neighbors != "auto":
            text += f" {self.neighbors}"
        text += f" {self.initialization} s{self.seed}"
        return text

    def layout_key(self) -> tuple:
        """Everything the finished layout depends on (besides the input data itself)."""
        return tuple(sorted(asdict(self).items()))

    def affinity_key(self) -> tuple:
        return (self.perplexity, self.seed, self.neighbors)

    def optimisation_key(self) -> tuple:
        """The optimisation's own parameters (what a preset fixes)."""
        return (self.early_exaggeration, self.early_exaggeration_iter, self.exaggeration, self.n_iter, self.kl_stop)

    def with_preset(self, name: str) -> TSNEParams:
        """These parameters with the schedule and neighbour search of a preset (see `PRESETS`)."""
        if name not in PRESETS:
            raise TSNEError(f"unknown t-SNE preset '{name}'; choose from {', '.join(PRESETS)}")
        preset = PRESETS[name]
        return replace(self, early_exaggeration=preset.early_exaggeration,
                       early_exaggeration_iter=preset.early_exaggeration_iter, exaggeration=preset.exaggeration,
                       n_iter=preset.n_iter, kl_stop=preset.kl_stop, neighbors=preset.neighbors)


# openTSNE's defaults: 250 + 500 iterations, every one run, its own neighbour search
REFERENCE = TSNEParams(early_exaggeration_iter=250, n_iter=500, kl_stop=0.0, neighbors="opentsne")
PRESETS = {"fast": TSNEParams(), "reference quality": REFERENCE}


def neighbour_method(params: TSNEParams, n: int, dims: int = 32) -> str:
    """The openTSNE ``method`` to find ``n`` points' neighbours in ``dims`` dimensions with. "auto" picks the
    fastest measured for that size (see `EXACT_SEARCH_MAX_WORK`): exact search while n² × dims stays below it,
    Annoy above (pynndescent is no faster there and compiles for minutes on its first call)."""
    if params.neighbors == "auto":
        return "exact" if float(n) * n * dims <= EXACT_SEARCH_MAX_WORK else "annoy"
    if params.neighbors == "opentsne":
        return "auto"
    if params.neighbors == "hnsw":
        try:
            import hnswlib  # noqa: F401 - only whether it is there
        except ImportError as exc:
            raise TSNEError("the 'hnsw' neighbour search needs the hnswlib package (pip install hnswlib); "
                            "choose 'auto' to use one that is installed") from exc
    return params.neighbors


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
        self._layouts = BoundedStore(max_layouts)
        self._affinities = BoundedStore(max_affinities)
        self._lock = threading.Lock()
        self.affinity_builds = 0  # how many times the neighbour search ran (tests and the status bar use it)

    def layout(self, input_key: str, params: TSNEParams) -> np.ndarray | None:
        with self._lock:
            return self._layouts.get((input_key, params.layout_key()))

    def store_layout(self, input_key: str, params: TSNEParams, layout: np.ndarray) -> None:
        with self._lock:
            self._layouts.put((input_key, params.layout_key()), layout)

    def affinities(self, input_key: str, params: TSNEParams) -> Any:
        with self._lock:
            return self._affinities.get((input_key, *params.affinity_key()))

    def store_affinities(self, input_key: str, params: TSNEParams, affinities: Any) -> None:
        with self._lock:
            self.affinity_builds += 1
            self._affinities.put((input_key, *params.affinity_key()), affinities)

    def clear(self) -> None:
        with self._lock:
            self._layouts.clear()
            self._affinities.clear()


def compute_affinities(data: np.ndarray, params: TSNEParams, n_jobs: int):
    """openTSNE's perplexity-based kNN affinities, neighbours found by `neighbour_method`."""
    from openTSNE.affinity import PerplexityBasedNN

    n = len(data)
    if n < 4:
        raise TSNEError(f"t-SNE needs at least 4 points, got {n}")
    perplexity = min(params.perplexity, (n - 1) / 3.0)
    return PerplexityBasedNN(np.ascontiguousarray(data), perplexity=perplexity,
                             method=neighbour_method(params, n, data.shape[1]), n_jobs=n_jobs,
                             random_state=params.seed)


class KLStop:
    """Says when the main phase may stop: KL fell by less than ``threshold`` (relative) over `KL_WINDOW`
    iterations. Fed (iteration, KL) after every chunk; a threshold of 0 never stops."""

    def __init__(self, threshold: float, window: int = KL_WINDOW):
        self.threshold, self.window = threshold, window
        self._seen: list[tuple[int, float]] = []

    def __call__(self, iteration: int, kl: float) -> bool:
        self._seen.append((iteration, kl))
        if self.threshold <= 0:
            return False
        past = [k for i, k in self._seen if i <= iteration - self.window]
        if not past or not np.isfinite(kl) or past[-1] <= 0:
            return False
        return (past[-1] - kl) / past[-1] < self.threshold


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
        # openTSNE reports nothing while it searches: a busy bar that names the method
        yield Progress("t-SNE: nearest neighbours", 0, None,
                       f"{len(data):,} points, {neighbour_method(params, *data.shape)} search")
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
        converged = KLStop(params.kl_stop if stage == "optimising" else 0.0)
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
            if converged(iterations - left, kl):
                yield Progress("t-SNE", total, total, f"converged after {done} iterations, KL {kl:.3f}",
                               partial=np.asarray(embedding, np.float32))
                break
            yield Progress("t-SNE", done, total, f"{stage}, KL {kl:.3f}", partial=np.asarray(embedding, np.float32))
        affinities.P /= exaggeration
    layout = np.asarray(embedding, np.float32)
    if cache is not None:
        cache.store_layout(input_key, params, layout)
    return layout.copy()


def phase_text(progress: Progress, early_iterations: int) -> str:
    """The phase a t-SNE run is in, for the view panel: neighbours, early exaggeration or optimisation, with the
    iteration within that phase and the KL divergence (openTSNE's own counter restarts between the phases)."""
    stage, message = progress.stage, progress.message or ""
    if "nearest neighbours" in stage:
        return f"1/3 neighbours: {message}" if message else "1/3 neighbours"
    if "initialisation" in stage:
        return f"1/3 initialisation ({message})" if message else "1/3 initialisation"
    kl = message.partition("KL ")[2]
    kl_text = f" · KL {kl}" if kl else ""
    if message.startswith("early exaggeration"):
        return f"2/3 early exaggeration: iteration {progress.done}/{early_iterations}{kl_text}"
    if message.startswith("optimising"):
        main = (progress.total or 0) - early_iterations
        return f"3/3 optimisation: iteration {progress.done - early_iterations}/{main}{kl_text}"
    if message.startswith("converged"):
        return f"done: {message}"
    return message or stage
