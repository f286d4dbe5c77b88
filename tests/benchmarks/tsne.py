"""t-SNE: the app's default against openTSNE's defaults on the same codes, in one run; and the neighbour searches.

For each size (20,000 and 70,000 Fashion-MNIST codes; 5,000 with --quick):
- the neighbour search openTSNE offers here, each timed on its own (``PerplexityBasedNN`` with ``method`` =
  exact (up to 20,000 codes), annoy, pynndescent (not with --quick), and hnsw where hnswlib is installed; the
  first call in the process, so numba's compilation counts for pynndescent, as it does for a user's first run);
- openTSNE's defaults, ``openTSNE.TSNE(n_jobs, random_state).fit(codes)`` (its own neighbour choice, 250 + 500
  iterations), against the app's default (`core.tsne.TSNEParams()`: the neighbour search chosen per size, the
  shorter schedule and the KL stopping rule) run the way the window runs it: `iter_tsne` in a `JobRunner`
  worker with the partial layouts delivered to a slot on the GUI thread, a 10 ms GUI timer recording how late
  each tick is. Both paths start from nothing (no cached neighbours) and are interleaved when repeated.
Quality, for both layouts: the KL divergence under the same affinities (openTSNE's defaults' P, evaluated with
openTSNE's own FFT objective), and recall@10 — the share of each code's 10 nearest latent neighbours (exact,
32-d) that are among its 10 nearest neighbours in the map (2,000 codes sampled). Wall and CPU time (every thread
of the process) are reported apart; the ratio uses wall time, the user's wait.
Targets: openTSNE / app total time >= 2.0, KL of the app <= 1.05 × openTSNE's, GUI timer lateness p99 <= 50 ms.
Codes: ``demo:fashion-conv-vae`` encoded once (cached), or PCA-50 of the pixels when that model is missing.
"""

from __future__ import annotations

import time

import numpy as np

from _common import Bench, median, percentile

TICK_MS = 10
RECALL_SAMPLE = 2000
_KEEP: list = []  # runners outlive their run: see app_run


def fashion_codes(limit: int | None) -> tuple[np.ndarray, str]:
    from latent_explorer.core.datasets import load_dataset
    from latent_explorer.core.encoding import iter_encode_cached
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models import demo_models, load_model
    from latent_explorer.core.projections import PCAModel

    dataset = load_dataset("fashion-mnist")
    if "fashion-conv-vae" in demo_models():
        model = load_model("demo:fashion-conv-vae", device="cpu")
        codes = run_job(iter_encode_cached(model, dataset))
        data, what = codes.z, f"z of demo:fashion-conv-vae (z_dim {codes.latent_dim})"
    else:
        pixels = dataset.float_images().reshape(len(dataset), -1)
        data, what = PCAModel.fit(pixels).transform(pixels, 50), "PCA-50 of the pixels (no fashion-conv-vae demo)"
    data = np.ascontiguousarray(data[:limit], dtype=np.float32)
    return data, what


def neighbour_methods() -> list[str]:
    methods = ["exact", "annoy", "pynndescent"]
    try:
        import hnswlib  # noqa: F401 - only whether it is installed
        methods.append("hnsw")
    except ImportError:
        pass
    return methods


def time_neighbours(data: np.ndarray, method: str, n_jobs: int) -> tuple[float, float]:
    """(wall s, CPU s) of openTSNE's perplexity affinities with this neighbour search."""
    from openTSNE.affinity import PerplexityBasedNN

    wall, cpu = time.perf_counter(), time.process_time()
    PerplexityBasedNN(data, perplexity=30, method=method, n_jobs=n_jobs, random_state=0)
    return time.perf_counter() - wall, time.process_time() - cpu


def opentsne_defaults(data: np.ndarray, n_jobs: int):
    """openTSNE with every default; returns (wall s, CPU s, layout, its affinities)."""
    from openTSNE import TSNE

    wall, cpu = time.perf_counter(), time.process_time()
    embedding = TSNE(n_jobs=n_jobs, random_state=0).fit(data)
    return time.perf_counter() - wall, time.process_time() - cpu, np.asarray(embedding), embedding.affinities


def app_run(data: np.ndarray, params, n_jobs: int):
    """The worker path: (wall s, CPU s, layout, GUI timer lateness per tick in ms, partial layouts, last message)."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Qt, QTimer, Slot

    from latent_explorer.core.tsne import TSNECache, iter_tsne
    from latent_explorer.workers.runner import JobRunner

    class Receiver(QObject):
        """Stands for the window: takes every partial layout in the GUI thread, and times the event loop."""

        def __init__(self):
            super().__init__()
            self.partials = 0
            self.message = ""
            self.result: np.ndarray | None = None
            self.error: BaseException | None = None
            self.lateness: list[float] = []
            self._last = time.perf_counter()
            self.loop = QEventLoop()

        @Slot()
        def tick(self) -> None:
            now = time.perf_counter()
            self.lateness.append(max(0.0, (now - self._last) * 1000.0 - TICK_MS))
            self._last = now

        def progress(self, progress) -> None:
            self.message = progress.message
            if progress.partial is not None:
                self.partials += 1

        def done(self, result) -> None:
            self.result = result
            self.loop.quit()

        def failed(self, exc) -> bool:
            self.error = exc
            self.loop.quit()
            return True

    runner = JobRunner()
    receiver = Receiver()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(receiver.tick)
    wall, cpu = time.perf_counter(), time.process_time()
    receiver._last = wall
    timer.start()
    runner.start("tsne", lambda: iter_tsne(data, params, TSNECache(), "bench", n_jobs=n_jobs),
                 on_progress=receiver.progress, on_done=receiver.done, on_error=receiver.failed)
    receiver.loop.exec()
    if receiver.error is not None:
        raise receiver.error
    elapsed, cpu = time.perf_counter() - wall, time.process_time() - cpu
    timer.stop()
    runner.shutdown()
    # deliver the worker's last queued signals while the runner still exists (a deleted runner's pending
    # relays crash the next event loop)
    for _ in range(3):
        QCoreApplication.processEvents()
    _KEEP.append(runner)
    if receiver.error is not None:
        raise receiver.error
    return elapsed, cpu, receiver.result, receiver.lateness, receiver.partials, receiver.message


def kl_under(layout: np.ndarray, affinities, n_jobs: int) -> float:
    """openTSNE's KL divergence of a layout under given affinities (no optimisation step taken)."""
    from openTSNE import TSNEEmbedding

    embedding = TSNEEmbedding(np.asarray(layout, np.float64), affinities, n_jobs=n_jobs, random_state=0)
    embedding.optimize(n_iter=0, inplace=True)
    return float(embedding.kl_divergence)


def recall_at_10(data: np.ndarray, layouts: list[np.ndarray], seed: int = 0) -> list[float]:
    """Per layout: the mean share of a sampled code's 10 nearest latent neighbours among its 10 nearest in the map."""
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(seed)
    sample = rng.choice(len(data), min(RECALL_SAMPLE, len(data)), replace=False)
    truth = NearestNeighbors(n_neighbors=11).fit(data).kneighbors(data[sample], return_distance=False)[:, 1:]
    out = []
    for layout in layouts:
        found = NearestNeighbors(n_neighbors=11).fit(layout).kneighbors(layout[sample], return_distance=False)[:, 1:]
        out.append(float(np.mean([len(np.intersect1d(a, b)) / 10.0 for a, b in zip(truth, found, strict=True)])))
    return out


def main() -> int:
    bench = Bench("t-SNE: the app's default vs openTSNE's defaults, and the neighbour searches",
                  "t-SNE of 20,000 and 70,000 Fashion-MNIST codes (5,000 with --quick): neighbour searches, then "
                  "the app's default in its worker against openTSNE's defaults, time and quality")
    bench.parser.add_argument("--sizes", type=int, nargs="+", help="numbers of codes (default 20000 70000)")
    bench.parser.add_argument("--repeat", type=int, default=1, help="interleaved pairs of runs per size (fastest kept)")
    bench.parser.add_argument("--skip-neighbours", action="store_true", help="do not time each neighbour search")
    bench.parse()
    from latent_explorer.core.tsne import TSNEParams, default_n_jobs, neighbour_method
    from latent_explorer.qt.app import make_application

    make_application()
    sizes = bench.args.sizes or ([5000] if bench.quick else [20_000, 70_000])
    n_jobs = default_n_jobs()
    codes, what = fashion_codes(max(sizes))
    params = TSNEParams()
    print(f"\n  codes: {what}; n_jobs {n_jobs}; app default: {params.early_exaggeration_iter} + up to "
          f"{params.n_iter} iterations, KL stop {params.kl_stop:g} per 50, neighbours '{params.neighbors}'")
    warm = codes[:1500]  # imports and thread pools, paid by neither path below
    opentsne_defaults(warm, n_jobs)
    app_run(warm, TSNEParams(early_exaggeration_iter=10, n_iter=10), n_jobs)
    bench.header()
    for n in sizes:
        data = codes[:n]
        label = f"{n // 1000}k"
        if not bench.args.skip_neighbours:
            for method in neighbour_methods():
                if method == "pynndescent" and bench.quick:
                    print(f"  [{label}: pynndescent skipped with --quick: its first call compiles for minutes]")
                    continue
                if method == "exact" and n > 20_000:
                    print(f"  [{label}: exact neighbour search skipped above 20,000 codes]")
                    continue
                wall, cpu = time_neighbours(data, method, n_jobs)
                bench.add(f"{label}: neighbours, {method} (wall)", wall, "s")
                bench.add(f"{label}: neighbours, {method} (CPU)", cpu, "s")
            print(f"  [{label}: the app's default search here: {neighbour_method(params, *data.shape)}]")
        ref_runs, app_runs = [], []
        for rep in range(bench.args.repeat):
            for path in (("opentsne", "app") if rep % 2 == 0 else ("app", "opentsne")):
                if path == "opentsne":
                    ref_runs.append(opentsne_defaults(data, n_jobs))
                    print(f"  [{label} run {rep + 1}: openTSNE defaults {ref_runs[-1][0]:.1f} s]", flush=True)
                else:
                    app_runs.append(app_run(data, params, n_jobs))
                    print(f"  [{label} run {rep + 1}: app default {app_runs[-1][0]:.1f} s, "
                          f"{app_runs[-1][5]}]", flush=True)
        ref = min(ref_runs, key=lambda r: r[0])
        app = min(app_runs, key=lambda r: r[0])
        ref_wall, ref_cpu, ref_layout, affinities = ref
        app_wall, app_cpu, app_layout, lateness, partials, _message = app
        bench.add(f"{label}: total wall, app default (openTSNE defaults = baseline)", app_wall, "s",
                  baseline=ref_wall)
        bench.add(f"{label}: openTSNE defaults / app default, wall", ref_wall / app_wall, "x", baseline=ref_wall,
                  ratio=ref_wall / app_wall, target=">= 2.0 (ratio)")
        bench.add(f"{label}: total CPU, app default (openTSNE defaults = baseline)", app_cpu, "s", baseline=ref_cpu)
        kl_ref = kl_under(ref_layout, affinities, n_jobs)
        kl_app = kl_under(app_layout, affinities, n_jobs)
        bench.add(f"{label}: KL, app default (openTSNE defaults = baseline)", kl_app, "", baseline=kl_ref,
                  target="<= 1.05 (ratio)")
        recall_app, recall_ref = recall_at_10(data, [app_layout, ref_layout])
        bench.add(f"{label}: recall@10 of latent neighbours, app (openTSNE = baseline)", recall_app, "",
                  baseline=recall_ref)
        bench.add(f"{label}: GUI timer lateness p99 during the app run", percentile(lateness, 99), "ms",
                  target="<= 50")
        bench.add(f"{label}: GUI timer lateness median", median(lateness), "ms")
        bench.add(f"{label}: partial layouts streamed to the GUI", partials, "count")
    return bench.finish()


if __name__ == "__main__":
    raise SystemExit(main())
