"""Maps of millions of codes: fit t-SNE (openTSNE) or UMAP on a stratified sample, place the rest with transform.

A full t-SNE costs O(N log N) per iteration and holds the whole kNN graph; at millions of codes that is hours and
gigabytes. Fitting on a sample that keeps every class's share (20,000 codes is enough for a readable map) and
placing every other code with the method's own ``transform`` (openTSNE optimises each new point against the
fixed reference map; UMAP projects through its fuzzy graph) costs time linear in N, and chunks of new points are
placed independently, so they run in parallel Ray tasks. The fitted model is shipped to the tasks by pickle,
checked first: openTSNE embeddings (with their Annoy index) and UMAP models both pickle; when one does not,
the points are placed by the mean map position of their nearest sample neighbours instead.

The layout is written back as the ``x``, ``y`` columns: into new part files plus a new manifest that replaces
the old one in one rename, so a reader sees either the old dataset or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.jobs import Job, Progress


class EmbedError(LatentExplorerError):
    """The embedding cannot be computed or written (too few codes, unknown method, unwritable codes)."""


@dataclass
class EmbedRequest:
    codes: Path
    method: str = "tsne"  # "tsne" | "umap"
    fit_sample: int = 20000
    engine: str = "process"  # "process" | "ray"
    use: str | None = None  # "z" | "mu" | None (mu when the codes have it)
    perplexity: float = 30.0
    seed: int = 0
    chunk: int = 10000
    n_jobs: int | None = None
    iterations: int = 500  # t-SNE iterations after early exaggeration (which runs min(250, iterations / 2))


@dataclass
class EmbedSummary:
    rows: int
    fitted: int
    placed: int
    method: str
    placement: str  # "transform" or "neighbours" (when the fitted model did not pickle)
    fit_seconds: float
    place_seconds: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------------------ sampling
def stratified_sample(n: int, size: int, labels: np.ndarray | None, seed: int) -> np.ndarray:
    """``size`` sorted row indices drawn without replacement, each label keeping its share (at least one each)."""
    rng = np.random.default_rng(seed)
    if size >= n:
        return np.arange(n)
    if labels is None:
        return np.sort(rng.choice(n, size, replace=False))
    classes, counts = np.unique(labels, return_counts=True)
    quota = np.maximum(1, np.floor(counts / n * size).astype(int))
    short = size - quota.sum()  # hand the rounding remainder to the largest fractional shares
    if short > 0:
        fractions = counts / n * size - np.floor(counts / n * size)
        quota[np.argsort(-fractions)[:short]] += 1
    picks = [rng.choice(np.flatnonzero(labels == c), min(q, k), replace=False)
             for c, q, k in zip(classes, quota, counts, strict=True)]
    return np.sort(np.concatenate(picks))[:size]


# ------------------------------------------------------------------------------------------ fit and place
def fit_map(data: np.ndarray, method: str, perplexity: float, seed: int, n_jobs: int, iterations: int = 500) -> Any:
    """The fitted map object: an openTSNE ``TSNEEmbedding`` or a ``umap.UMAP``."""
    if method == "tsne":
        from openTSNE import TSNE

        return TSNE(perplexity=min(perplexity, (len(data) - 1) / 3.0), n_jobs=n_jobs, random_state=seed,
                    initialization="pca", n_iter=iterations,
                    early_exaggeration_iter=min(250, iterations // 2)).fit(data)
    if method == "umap":
        try:
            import umap
        except ImportError as exc:
            raise EmbedError("UMAP needs the 'umap-learn' package", hint="pip install umap-learn") from exc
        return umap.UMAP(random_state=seed, n_jobs=1).fit(data)
    raise EmbedError(f"unknown method '{method}'", hint="use tsne or umap")


def map_layout(fitted: Any) -> np.ndarray:
    return np.asarray(fitted.embedding_ if hasattr(fitted, "embedding_") else fitted, np.float32)


def place(fitted: Any, points: np.ndarray) -> np.ndarray:
    """New points in the fitted map, by the method's own transform."""
    return np.asarray(fitted.transform(np.ascontiguousarray(points, np.float32)), np.float32)


def place_by_neighbours(fit_data: np.ndarray, layout: np.ndarray, points: np.ndarray, k: int = 10) -> np.ndarray:
    """Fallback placement: each point at the distance-weighted mean position of its k nearest fitted codes."""
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.neighbors import iter_neighbors

    found = run_job(iter_neighbors(fit_data, points, k=min(k, len(fit_data)), exclude_self=False))
    weights = 1.0 / (found.distances.astype(np.float64) + 1e-6)
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("qk,qkc->qc", weights, layout[found.indices]).astype(np.float32)


def picklable(obj: Any) -> bytes | None:
    """The pickled object, or None when it does not pickle (then placement falls back to neighbours)."""
    try:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - any failure to pickle means the same: do not ship it
        return None


def _place_chunk(blob: bytes, points: np.ndarray) -> np.ndarray:
    """A Ray task's body: unpickle the fitted map (Ray caches the object per worker) and place one chunk."""
    import threadpoolctl

    with threadpoolctl.threadpool_limits(1):
        return place(pickle.loads(blob), points)


def iter_fit_and_place(data: np.ndarray, labels: np.ndarray | None, request: EmbedRequest) -> Job[tuple]:
    """(layout (N, 2) float32, fitted rows, placement, fit seconds, place seconds) for ``data`` (N, D)."""
    from latent_explorer.core.tsne import default_n_jobs

    n = len(data)
    if n < 8:
        raise EmbedError(f"an embedding needs at least 8 codes, got {n}")
    n_jobs = request.n_jobs or default_n_jobs()
    sample = stratified_sample(n, max(8, request.fit_sample), labels, request.seed)
    rest = np.setdiff1d(np.arange(n), sample, assume_unique=True)
    yield Progress(f"{request.method}: fitting", 0, None, f"{len(sample):,} of {n:,} codes")
    t0 = time.perf_counter()
    fitted = fit_map(data[sample], request.method, request.perplexity, request.seed, n_jobs, request.iterations)
    fit_seconds = time.perf_counter() - t0
    layout = np.empty((n, 2), np.float32)
    layout[sample] = map_layout(fitted)
    t0 = time.perf_counter()
    chunks = [rest[s:s + request.chunk] for s in range(0, len(rest), max(1, request.chunk))]
    blob = picklable(fitted) if chunks else b""
    placement = "transform" if blob is not None else "neighbours"
    yield Progress(f"{request.method}: placing", 0, len(rest), f"{len(rest):,} codes by {placement}")
    if blob is None:
        for k, idx in enumerate(chunks):
            layout[idx] = place_by_neighbours(data[sample], layout[sample], data[idx])
            yield Progress(f"{request.method}: placing", sum(len(c) for c in chunks[:k + 1]), len(rest))
    elif request.engine == "ray":
        yield from _place_on_ray(blob, data, chunks, layout, len(rest), request.method)
    else:
        for k, idx in enumerate(chunks):
            layout[idx] = place(fitted, data[idx])
            yield Progress(f"{request.method}: placing", sum(len(c) for c in chunks[:k + 1]), len(rest))
    return layout, len(sample), placement, fit_seconds, time.perf_counter() - t0


def _place_on_ray(blob: bytes, data: np.ndarray, chunks: list[np.ndarray], layout: np.ndarray, total: int,
                  method: str) -> Job[None]:
    from latent_explorer.scale.ray_encode import RayJobError, ray_module

    ray = ray_module()
    if not ray.is_initialized():
        raise RayJobError("Ray is not running", hint="run inside ray_session()")
    task = ray.remote(num_cpus=1, max_retries=3)(_place_chunk)
    model_ref = ray.put(blob)
    pending = {task.remote(model_ref, data[idx]): idx for idx in chunks}
    done = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        idx = pending.pop(ready[0])
        try:
            layout[idx] = ray.get(ready[0])
        except Exception as exc:  # a task that failed after its retries
            raise RayJobError(f"placing codes {int(idx[0])}–{int(idx[-1])} failed ({exc})") from exc
        done += len(idx)
        yield Progress(f"{method}: placing", done, total)


# ------------------------------------------------------------------------------------------------ the file
def iter_embed_codes(request: EmbedRequest) -> Job[EmbedSummary]:
    """Read the codes, fit and place, write ``x``, ``y`` back; a Parquet dataset folder or a .parquet file."""
    from latent_explorer.core.codes_file import read_codes

    path = Path(request.codes)
    if not (path.is_dir() or path.suffix.lower() in (".parquet", ".pq")):
        raise EmbedError("embed writes x, y back into a Parquet codes file or dataset folder", path=path,
                         hint="write the codes as .parquet (encode --out codes.parquet) or a folder (--engine ray)")
    yield Progress("reading the codes", 0, None)
    wanted = ["z", "mu", "label"]
    codes_file = read_codes(path, fields=wanted)
    codes = codes_file.codes
    use = request.use or ("mu" if codes.mu is not None else "z")
    data = codes.mu if use == "mu" else codes.z
    if data is None:
        raise EmbedError("the codes have no 'mu' column", path=path, hint="use --use z")
    labels = codes.labels
    layout, fitted, placement, fit_s, place_s = yield from iter_fit_and_place(np.asarray(data, np.float32),
                                                                             labels, request)
    yield Progress("writing x, y", 0, None)
    info = {"method": request.method, "fit_sample": fitted, "placement": placement, "input": use,
            "perplexity": request.perplexity, "seed": request.seed}
    write_layout(path, layout, info)
    return EmbedSummary(rows=len(layout), fitted=fitted, placed=len(layout) - fitted, method=request.method,
                        placement=placement, fit_seconds=fit_s, place_seconds=place_s)


def write_layout(path: Path, layout: np.ndarray, info: dict[str, Any]) -> None:
    """Set the ``x``, ``y`` columns of every row, in reading order, keeping every other column and the metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from latent_explorer.core.atomic import atomic_path
    from latent_explorer.core.parquet_dataset import dataset_parts, finish_dataset, read_manifest

    def with_xy(table: pa.Table, xy: np.ndarray) -> pa.Table:
        for name, values in (("x", xy[:, 0]), ("y", xy[:, 1])):
            column = pa.array(np.ascontiguousarray(values, np.float32))
            if name in table.column_names:
                table = table.set_column(table.column_names.index(name), pa.field(name, pa.float32()), column)
            else:
                table = table.append_column(pa.field(name, pa.float32()), column)
        meta = dict(table.schema.metadata or {})
        meta[b"latent_explorer.layout_xy"] = json.dumps(info).encode()
        return table.replace_schema_metadata(meta)

    if not path.is_dir():
        table = pq.read_table(path)
        if table.num_rows != len(layout):
            raise EmbedError(f"the file has {table.num_rows} rows, the layout {len(layout)}", path=path)
        with atomic_path(path) as tmp:
            pq.write_table(with_xy(table, layout), tmp)
        return
    old_parts = dataset_parts(path)
    manifest = read_manifest(path) or {}
    generation = int(manifest.get("generation", 0)) + 1
    new_parts, offset = [], 0
    for k, part in enumerate(old_parts):
        table = pq.read_table(part)
        rows = table.num_rows
        if offset + rows > len(layout):
            raise EmbedError("the dataset has more rows than were embedded; it changed while embedding", path=path)
        name = f"part-{k:06d}-g{generation}.parquet"
        with atomic_path(path / name) as tmp:
            pq.write_table(with_xy(table, layout[offset:offset + rows]), tmp)
        new_parts.append(name)
        offset += rows
    if offset != len(layout):
        raise EmbedError(f"the dataset has {offset} rows, the layout {len(layout)}", path=path)
    keep = {k: v for k, v in manifest.items() if k not in ("parts", "rows", "version")}
    finish_dataset(path, new_parts, offset, {**keep, "generation": generation, "layout_xy": info})
    for part in old_parts:  # only after the new manifest names the new parts
        if part.name not in new_parts:
            with contextlib.suppress(OSError):
                part.unlink()
