"""UMAP (umap-learn) as a cancellable job beside t-SNE: the same inputs, progress per epoch, a layout cache.

umap-learn is an optional extra (``pip install 'latent-explorer[umap]'``): it brings numba, llvmlite and
pynndescent, and importing it costs about a second of CPU before its first run compiles for several more.
Nothing here imports it until a UMAP is asked for; `umap_available` answers without importing it.

umap-learn has no callback, but it reports its optimisation epochs through tqdm with keyword arguments we
choose (``tqdm_kwds``). The fit runs in a helper thread; tqdm writes "done/total" into a sink that forwards it
as `Progress`, and once the job is closed the sink raises on its next write, which ends the fit between two
epochs. The nearest-neighbour stage before the first epoch cannot be interrupted: a job closed then leaves
its thread to finish that stage and stop at the first epoch; the result is dropped. (Inside Jupyter with
ipywidgets, tqdm draws a widget instead of writing to the sink: the fit then reports only at its end.)
"""

from __future__ import annotations

import importlib.util
import queue
import threading
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from latent_explorer.core.bounded_store import BoundedStore
from latent_explorer.core.errors import CancelledError, LatentExplorerError
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.core.tsne import INPUTS, array_fingerprint

METRICS = ("euclidean", "cosine", "manhattan", "correlation")
INSTALL_HINT = "pip install 'latent-explorer[umap]' (or pip install umap-learn)"


class UMAPError(LatentExplorerError):
    """UMAP parameters that cannot work with this input, or umap-learn missing."""


def umap_available() -> bool:
    """Whether umap-learn is installed, found without importing it (that costs a second)."""
    return importlib.util.find_spec("umap") is not None


@dataclass(frozen=True)
class UMAPParams:
    """What a UMAP run depends on; ``input`` and ``pca_components`` pick the data as for t-SNE."""

    input: str = "z"  # "z" | "mu" | "pca" | "pixels"
    pca_components: int = 50
    n_neighbors: int = 15
    min_dist: float = 0.1
    metric: str = "euclidean"
    n_epochs: int | None = None  # umap-learn's default: 200 above 10,000 points, else 500
    seed: int | None = 0  # None: parallel and not reproducible

    def __post_init__(self) -> None:
        if self.input not in INPUTS:
            raise UMAPError(f"UMAP input must be one of {', '.join(INPUTS)}, not '{self.input}'")
        if self.metric not in METRICS:
            raise UMAPError(f"UMAP metric must be one of {', '.join(METRICS)}, not '{self.metric}'")
        if self.n_neighbors < 2:
            raise UMAPError(f"UMAP needs at least 2 neighbours, got {self.n_neighbors}")
        if self.min_dist < 0:
            raise UMAPError(f"min_dist cannot be negative, got {self.min_dist}")
        if self.n_epochs is not None and self.n_epochs < 1:
            raise UMAPError(f"n_epochs must be positive, got {self.n_epochs}")
        if self.input == "pca" and self.pca_components < 2:
            raise UMAPError(f"PCA input needs at least 2 components, got {self.pca_components}")

    def epochs_for(self, n: int) -> int:
        return self.n_epochs if self.n_epochs is not None else (200 if n > 10000 else 500)

    def label(self) -> str:
        source = f"PCA-{self.pca_components}" if self.input == "pca" else self.input
        return f"UMAP {source} n{self.n_neighbors} d{self.min_dist:g} {self.metric} s{self.seed}"

    def layout_key(self) -> tuple:
        return tuple(sorted(asdict(self).items()))


class UMAPCache:
    """Finished layouts, and the fitted models that place new points (`transform`). Thread-safe, bounded."""

    def __init__(self, max_layouts: int = 16, max_models: int = 2):
        self._layouts = BoundedStore(max_layouts)
        self._models = BoundedStore(max_models)
        self._lock = threading.Lock()
        self.fits = 0  # how many times UMAP actually ran (tests and the status bar use it)

    def layout(self, input_key: str, params: UMAPParams) -> np.ndarray | None:
        with self._lock:
            return self._layouts.get((input_key, params.layout_key()))

    def model(self, input_key: str, params: UMAPParams) -> Any:
        with self._lock:
            return self._models.peek((input_key, params.layout_key()))

    def store(self, input_key: str, params: UMAPParams, layout: np.ndarray, model: Any) -> None:
        with self._lock:
            self.fits += 1
            key = (input_key, params.layout_key())
            self._layouts.put(key, layout)
            self._models.put(key, model)

    def clear(self) -> None:
        with self._lock:
            self._layouts.clear()
            self._models.clear()


class _EpochSink:
    """The file tqdm writes to: forwards "done/total" lines, and raises once the job is cancelled."""

    def __init__(self, events: queue.Queue, cancelled: threading.Event):
        self.events, self.cancelled = events, cancelled

    def write(self, text: str) -> None:
        if self.cancelled.is_set():
            raise CancelledError("UMAP cancelled")
        for part in text.replace("\r", "\n").split("\n"):
            done, sep, total = part.strip().partition("/")
            if sep and done.isdigit() and total.isdigit():
                self.events.put(("epoch", int(done), int(total)))

    def flush(self) -> None:
        if self.cancelled.is_set():
            raise CancelledError("UMAP cancelled")


def _release_tqdm_lock() -> None:
    """Give back tqdm's class-wide lock after a cancelled fit.

    Why: tqdm's ``refresh`` takes that lock and releases it after drawing, without ``try/finally``; the
    `CancelledError` our sink raises while it draws leaves the lock held by the ending fit thread, and every later
    tqdm bar in the process, so the next UMAP, would wait for it forever. Only the owning thread can release it,
    so this runs in the fit thread, and releases as often as it was taken (an unowned lock refuses at once).
    """
    from tqdm import tqdm

    for inner in reversed(getattr(tqdm.get_lock(), "locks", [])):
        for _ in range(16):
            try:
                inner.release()
            except (RuntimeError, AssertionError, ValueError):  # not (or no longer) held by this thread
                break


def _reducer(params: UMAPParams, n: int, sink: _EpochSink | None):
    try:
        import umap
    except ImportError as exc:
        raise UMAPError("UMAP needs the umap-learn package, which is not installed", hint=INSTALL_HINT) from exc
    tqdm_kwds = {"disable": sink is None, "file": sink, "mininterval": 0, "miniters": 1,
                 "bar_format": "{n}/{total}\n", "leave": False}
    return umap.UMAP(n_neighbors=min(params.n_neighbors, n - 1), min_dist=params.min_dist, metric=params.metric,
                     n_epochs=params.n_epochs, random_state=params.seed, n_components=2, tqdm_kwds=tqdm_kwds,
                     low_memory=True, n_jobs=1 if params.seed is not None else -1)  # a seed means one thread


def iter_umap(data: np.ndarray, params: UMAPParams, cache: UMAPCache | None = None, input_key: str | None = None,
              poll_seconds: float = 0.1) -> Job[np.ndarray]:
    """Embed ``data`` (N, D) in 2-D with UMAP; yields `Progress` per epoch and returns the (N, 2) float32 layout.

    Closing the generator stops the fit at the next epoch. ``input_key`` names the data in the cache.
    """
    data = np.asarray(data, dtype=np.float32)
    if data.ndim != 2:
        data = data.reshape(len(data), -1)
    n = len(data)
    if n < 4:
        raise UMAPError(f"UMAP needs at least 4 points, got {n}")
    if not np.isfinite(data).all():
        raise UMAPError("the UMAP input holds NaN or infinite values")
    total = params.epochs_for(n)
    if cache is not None:
        input_key = input_key or array_fingerprint(data)
        cached = cache.layout(input_key, params)
        if cached is not None:
            yield Progress("UMAP", total, total, "from cache")
            return cached.copy()
    if not umap_available():
        raise UMAPError("UMAP needs the umap-learn package, which is not installed", hint=INSTALL_HINT)

    events: queue.Queue = queue.Queue()
    cancelled = threading.Event()
    sink = _EpochSink(events, cancelled)

    def fit() -> None:
        try:
            # no warnings.catch_warnings() here: it swaps the process-wide filters, from this helper thread
            reducer = _reducer(params, n, sink)
            layout = reducer.fit_transform(data)
            reducer.tqdm_kwds = {"disable": True}  # later transforms report to nobody, and are never cancelled
            events.put(("done", reducer, np.asarray(layout, np.float32)))
        except BaseException as exc:  # noqa: BLE001 - every failure reaches the job's owner
            if isinstance(exc, CancelledError):
                _release_tqdm_lock()
            events.put(("error", exc, None))

    heartbeat = Progress("UMAP: nearest neighbours", 0, None, f"{n:,} points")
    yield heartbeat
    worker = threading.Thread(target=fit, name="umap-fit", daemon=True)
    worker.start()
    try:
        while True:
            try:
                kind, first, second = events.get(timeout=poll_seconds)
            except queue.Empty:
                yield heartbeat  # a chance to close the job while umap-learn works without reporting
                continue
            if kind == "epoch":
                heartbeat = Progress("UMAP", first, second, "optimising")
                yield heartbeat
            elif kind == "error":
                if isinstance(first, LatentExplorerError):
                    raise first
                raise UMAPError(f"UMAP failed: {first}") from first
            else:
                reducer, layout = first, second
                break
    finally:
        cancelled.set()  # a closed job: the fit stops at its next epoch; a finished one: nothing left to stop
    if cache is not None:
        cache.store(input_key, params, layout, reducer)
    yield Progress("UMAP", total, total, "done")
    return layout.copy()


def place_points(model: Any, new_data: np.ndarray) -> np.ndarray:
    """Put new points (M, D) on a fitted UMAP's map with umap-learn's ``transform``: (M, 2) float32."""
    if model is None:
        raise UMAPError("there is no fitted UMAP to place points on", hint="run the UMAP first (it is cached)")
    new = np.asarray(new_data, dtype=np.float32)
    new = new.reshape(1, -1) if new.ndim == 1 else new.reshape(len(new), -1)
    expected = model._raw_data.shape[1] if hasattr(model, "_raw_data") else new.shape[1]
    if new.shape[1] != expected:
        raise UMAPError(f"the new points have {new.shape[1]} dimensions, the map was fitted on {expected}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(model.transform(new), np.float32)


def phase_text(progress: Progress) -> str:
    """The phase a UMAP run is in, for the view panel: the neighbour graph, then the optimisation epochs."""
    if "nearest neighbours" in progress.stage:
        return f"1/2 neighbour graph: {progress.message}" if progress.message else "1/2 neighbour graph"
    if progress.message == "optimising" and progress.total:
        return f"2/2 optimisation: epoch {progress.done}/{progress.total}"
    return progress.message or progress.stage
