"""UMAP (the app's `core.umap` job) beside openTSNE on the same Fashion-MNIST codes: time, and how well each map
keeps the latent neighbours (recall@10 of the exact latent k-NN among the map's k-NN, on sampled queries).

Codes: ``demo:fashion-conv-vae`` on all 70,000 images (``--quick``: the first 10,000), encoded once and cached;
PCA-50 of the pixels when that model is missing. UMAP runs with a seed, so umap-learn uses one thread; openTSNE
runs a plain ``TSNE.fit`` (500 + 250 iterations) on every core. Wall and CPU time (all threads) are reported
for both, and umap-learn's one-off numba compilation is timed apart on a tiny input before the real run.

(Named ``umap_vs_tsne`` rather than ``umap``: a script called umap.py would shadow the umap-learn package for
everything it imports.)
"""

from __future__ import annotations

import time

import numpy as np

from _common import Bench

QUERIES, QUERIES_QUICK = 2000, 1000
K = 10


def fashion_codes(limit: int | None) -> tuple[np.ndarray, str]:
    from latent_explorer.core.datasets import load_dataset
    from latent_explorer.core.encoding import iter_encode_cached
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models import demo_models, load_model
    from latent_explorer.core.projections import PCAModel

    dataset = load_dataset("fashion-mnist")
    if "fashion-conv-vae" in demo_models():
        codes = run_job(iter_encode_cached(load_model("demo:fashion-conv-vae", device="cpu"), dataset))
        data, what = codes.z, f"z of demo:fashion-conv-vae (z_dim {codes.latent_dim})"
    else:
        pixels = dataset.float_images().reshape(len(dataset), -1)
        data, what = PCAModel.fit(pixels).transform(pixels, 50), "PCA-50 of the pixels (no fashion-conv-vae demo)"
    return np.ascontiguousarray(data[:limit], dtype=np.float32), what


def clocked(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def map_recall(latent_nn: np.ndarray, layout: np.ndarray, queries: np.ndarray) -> float:
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.neighbors import iter_neighbors, recall_at_k

    found = run_job(iter_neighbors(layout, layout[queries], k=K + 1, exclude_self=False))
    own = found.indices == queries[:, None]  # drop each query itself from its map neighbours
    map_nn = np.array([row[~mask][:K] for row, mask in zip(found.indices, own, strict=True)])
    return recall_at_k(latent_nn, map_nn)


def main() -> int:
    bench = Bench("UMAP beside openTSNE on Fashion-MNIST codes", __doc__)
    args = bench.parse()
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.neighbors import iter_neighbors
    from latent_explorer.core.tsne import default_n_jobs
    from latent_explorer.core.umap import UMAPParams, iter_umap, umap_available

    if not umap_available():
        print("umap-learn is not installed (pip install 'latent-explorer[umap]')")
        return 1
    data, what = fashion_codes(10000 if args.quick else None)
    n_jobs = default_n_jobs()
    print(f"{len(data):,} codes: {what}; openTSNE threads: {n_jobs}")
    bench.header()

    rng = np.random.default_rng(0)
    queries = np.sort(rng.choice(len(data), QUERIES_QUICK if args.quick else QUERIES, replace=False))
    exact, wall, cpu = clocked(lambda: run_job(iter_neighbors(data, data[queries], k=K + 1, exclude_self=False)))
    latent_nn = np.array([row[row != q][:K] for row, q in zip(exact.indices, queries, strict=True)])
    bench.add(f"exact latent {K}-NN of {len(queries):,} queries", wall, "s")

    _, wall, _ = clocked(lambda: run_job(iter_umap(rng.normal(size=(300, 8)), UMAPParams(n_epochs=10))))
    bench.add("UMAP first-use compile (300 points)", wall, "s")

    progress: list = []
    umap_layout, umap_wall, umap_cpu = clocked(lambda: run_job(iter_umap(data, UMAPParams(), None),
                                                               progress.append))

    from openTSNE import TSNE

    def tsne_fit() -> np.ndarray:
        return np.asarray(TSNE(n_jobs=n_jobs, random_state=0).fit(data))

    tsne_layout, tsne_wall, tsne_cpu = clocked(tsne_fit)
    bench.add("UMAP wall (seed 0, one thread)", umap_wall, "s", baseline=tsne_wall, target="<= 1.0 (ratio)")
    bench.add("UMAP CPU", umap_cpu, "s", baseline=tsne_cpu)
    bench.add("openTSNE wall", tsne_wall, "s")
    epochs = [p.done for p in progress if p.stage == "UMAP" and p.message == "optimising"]
    bench.add("UMAP epoch reports", len(epochs), "count", target=">= 100")
    umap_recall = map_recall(latent_nn, umap_layout, queries)
    tsne_recall = map_recall(latent_nn, tsne_layout, queries)
    bench.add(f"UMAP recall@{K} of latent neighbours", umap_recall, "frac", baseline=tsne_recall)
    bench.add(f"openTSNE recall@{K} of latent neighbours", tsne_recall, "frac")
    return bench.finish()


if __name__ == "__main__":
    raise SystemExit(main())
