"""t-SNE of the Fashion-MNIST codes through the app's worker path versus one bare openTSNE call.

The app's path: `core.tsne.iter_tsne` (affinities → initialisation → optimisation in chunks, a layout copy
yielded after each chunk) run by the `JobRunner` in a QApplication event loop (offscreen), the partial layouts
delivered to a slot in the GUI thread. The baseline: ``openTSNE.TSNE(...).fit`` with the same affinities
method, iterations, seed and thread count, in the same process. While the app's run goes, a 10 ms QTimer on the
GUI thread records how late each tick is: the GUI must stay responsive while t-SNE runs.

Codes: ``demo:fashion-conv-vae`` encoded once (cached), or PCA-50 of the pixels when that model is missing.
"""

from __future__ import annotations

import time

import numpy as np

from _common import Bench, median, percentile

TICK_MS = 10
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


def bare_run(data: np.ndarray, params, n_jobs: int) -> tuple[float, np.ndarray]:
    from openTSNE import TSNE
    from openTSNE.affinity import PerplexityBasedNN

    t0 = time.perf_counter()
    affinities = PerplexityBasedNN(data, perplexity=params.perplexity, method="auto", n_jobs=n_jobs,
                                   random_state=params.seed)
    tsne = TSNE(perplexity=params.perplexity, early_exaggeration=params.early_exaggeration,
                early_exaggeration_iter=params.early_exaggeration_iter, exaggeration=params.exaggeration,
                n_iter=params.n_iter, initialization=params.initialization, n_jobs=n_jobs,
                random_state=params.seed)
    layout = np.asarray(tsne.fit(data, affinities=affinities))
    return time.perf_counter() - t0, layout


def app_run(data: np.ndarray, params, n_jobs: int) -> tuple[float, np.ndarray, list[float], int]:
    """Wall time of the worker path, its layout, the GUI timer's lateness per tick (ms), partials received."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Qt, QTimer, Slot

    from latent_explorer.core.tsne import TSNECache, iter_tsne
    from latent_explorer.workers.runner import JobRunner

    class Receiver(QObject):
        """Stands for the window: takes every partial layout in the GUI thread, and times the event loop."""

        def __init__(self):
            super().__init__()
            self.partials = 0
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
    cache = TSNECache()
    t0 = time.perf_counter()
    receiver._last = t0
    timer.start()
    runner.start("tsne", lambda: iter_tsne(data, params, cache, "bench", n_jobs=n_jobs), on_progress=receiver.progress,
                 on_done=receiver.done, on_error=receiver.failed)
    receiver.loop.exec()
    if receiver.error is not None:
        raise receiver.error
    elapsed = time.perf_counter() - t0
    timer.stop()
    runner.shutdown()
    # deliver the worker's last queued signals while the runner still exists (a deleted runner's pending
    # relays crash the next event loop)
    for _ in range(3):
        QCoreApplication.processEvents()
    _KEEP.append(runner)
    return elapsed, receiver.result, receiver.lateness, receiver.partials


def main() -> int:
    bench = Bench("t-SNE: the app's worker path vs a bare openTSNE call",
                  "t-SNE of 70,000 Fashion-MNIST codes (10,000 with --quick) in a worker with streamed layouts, "
                  "versus openTSNE alone; and the GUI thread's timer lateness meanwhile")
    bench.parser.add_argument("--repeat", type=int, default=None,
                              help="pairs of runs, interleaved; the fastest of each path counts (default 1, 2 quick)")
    bench.parse()
    bench.args.repeat = bench.args.repeat or (2 if bench.quick else 1)
    from latent_explorer.core.tsne import TSNEParams, default_n_jobs
    from latent_explorer.qt.app import make_application

    make_application()
    n = 10_000 if bench.quick else None
    params = TSNEParams(early_exaggeration_iter=100, n_iter=200) if bench.quick else TSNEParams()
    n_jobs = default_n_jobs()
    data, what = fashion_codes(n)
    print(f"\n  data: {len(data):,} × {data.shape[1]} — {what}")
    print(f"  parameters: perplexity {params.perplexity:g}, {params.early_exaggeration_iter} + {params.n_iter} "
          f"iterations, init {params.initialization}, n_jobs {n_jobs}, affinities PerplexityBasedNN(method='auto')")
    # warm up both paths (imports, thread pools) on a small slice so neither pays it in the figures
    warm = TSNEParams(early_exaggeration_iter=10, n_iter=10)
    bare_run(data[:2000], warm, n_jobs)
    app_run(data[:2000], warm, n_jobs)

    # interleaved (bare, app, app, bare, …) and the fastest of each kept: the machine is shared and noisy
    bare_times, app_times, lateness, partials = [], [], [], 0
    for rep in range(bench.args.repeat):
        for path in (("bare", "app") if rep % 2 == 0 else ("app", "bare")):
            if path == "bare":
                seconds, bare_layout = bare_run(data, params, n_jobs)
                bare_times.append(seconds)
            else:
                seconds, app_layout, ticks, partials = app_run(data, params, n_jobs)
                app_times.append(seconds)
                lateness += ticks
            print(f"  run {rep + 1}: {path:<4} {seconds:8.2f} s", flush=True)
    bench.header()
    bench.add("wall time, app worker path (JobRunner, chunks)", min(app_times), "s", baseline=min(bare_times),
              target="<= 1.15 (ratio)")
    bench.add("GUI timer lateness p99 during the app runs", percentile(lateness, 99), "ms", target="<= 50")
    bench.add("GUI timer lateness median", median(lateness), "ms")
    bench.add("GUI timer lateness max", max(lateness), "ms")
    bench.add("partial layouts streamed to the GUI per run", partials, "count")
    bench.add("largest coordinate difference app vs bare", float(np.abs(app_layout - bare_layout).max()), "units")
    return bench.finish()


if __name__ == "__main__":
    raise SystemExit(main())
