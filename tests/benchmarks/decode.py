"""Live decoding: a simulated slider drag through the decoder panel, the off-data meter, a decoded grid.

The drag: 200 slider value changes at 60 Hz (a QTimer in an offscreen QApplication) on the decoder panel
with the Fashion-MNIST VAE (demo:fashion-conv-vae, on CPU; a freshly built untrained conv VAE of the same
shape when the demo is absent), over all 70,000 Fashion-MNIST codes (2,000 with ``--quick``), so the off-data
meter and the marker run as in the app. Latency runs from the value change to the image view's paintEvent. Also:
the lag from the last change to its image, how many shown images had been superseded when decoded, the
off-data meter per update over 70,000 × 256 codes, and one 16 × 16 decoded grid. Baselines, measured in
this process: the bare decoder call for one image (256 for the grid; a bare matrix-vector product over
the codes for the meter).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _common import Bench, median, percentile, timed  # sets the offscreen platform before any Qt import

DRAG_STEPS = 200
DRAG_INTERVAL_MS = 16  # 60 Hz
METER_CODES = (70_000, 256)
CODE_SUBSET = 2000


def load_vae():
    """The demo VAE, or an untrained conv VAE of the same shape (and say so)."""
    from latent_explorer.core.errors import ModelError
    from latent_explorer.core.models import load_model

    try:
        return load_model("demo:fashion-conv-vae", device="cpu"), "demo:fashion-conv-vae"
    except ModelError:
        from latent_explorer.core.models.builtin import build
        from latent_explorer.core.models.checkpoint import TrainConfig, load_checkpoint, save_checkpoint

        folder = Path(tempfile.mkdtemp()) / "untrained-fashion-conv-vae"
        torch.manual_seed(0)
        save_checkpoint(folder, build("conv-vae", (1, 28, 28), 32), TrainConfig(arch="conv-vae", z_dim=32))
        return load_checkpoint(folder, device="cpu"), "UNTRAINED conv VAE z=32 (demo:fashion-conv-vae absent)"


def load_codes(model, quick: bool):
    """All 70,000 Fashion-MNIST codes through the app's encoding cache (the first run encodes them, a minute
    or two), or 2,000 test images with ``--quick``; random images when Fashion-MNIST is not installed."""
    from latent_explorer.core.datasets import Dataset, fashion_mnist_available, load_fashion_mnist
    from latent_explorer.core.encoding import iter_encode, iter_encode_cached
    from latent_explorer.core.jobs import run_job

    if fashion_mnist_available():
        if quick:
            dataset = load_fashion_mnist(split="test").subset(np.arange(CODE_SUBSET), name="fashion-mnist-test")
            return dataset, run_job(iter_encode(model, dataset, with_reconstruction=False)), "Fashion-MNIST test"
        dataset = load_fashion_mnist()
        return dataset, run_job(iter_encode_cached(model, dataset)), "Fashion-MNIST (cached encoding)"
    rng = np.random.default_rng(0)
    images = (rng.random((CODE_SUBSET, 1, 28, 28)) * 255).astype(np.uint8)
    dataset = Dataset(name="noise", images=images, source="benchmark")
    return dataset, run_job(iter_encode(model, dataset, with_reconstruction=False)), "random images (no Fashion-MNIST)"


class FakeView:
    """The view state as the decoder panel uses it, without a scatter to keep in step."""

    pca = None
    layouts: dict = {}
    xy = None

    def current_projection(self):
        return None

    def load_coordinates(self, path):
        return None


def make_host():
    """The decoder feature installed alone against a context, without the rest of the app's work (no scatter to
    draw markers on: the figures are the decoder's own)."""
    from PySide6.QtCore import QObject, QSettings, Signal
    from PySide6.QtWidgets import QMainWindow

    class NoScatter(QObject):
        """The scatter's signals the decoder listens to, and markers that go nowhere."""

        sigMouseMoved = Signal(float, float)
        sigViewChanged = Signal(object)
        plot_item = None

        def set_marker(self, name, xy, color=None):
            pass

    from latent_explorer.qt.features import decoder
    from latent_explorer.qt.standalone import standalone_context

    host = QMainWindow()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    context = standalone_context(host, settings, scatter=NoScatter(), view=FakeView())
    context.errors.show_error = lambda exc, title="Error": print(f"  error: {title}: {exc}")
    panel = decoder.FEATURE.install(context)["decoder"]
    host.context = context
    host.setCentralWidget(panel)
    host.resize(600, 900)
    host.show()
    return host, panel


def wait_for(app, condition, timeout_s: float = 60.0) -> bool:
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            return False
        app.processEvents()
        time.sleep(0.001)
    return True


def simulate_drag(app, panel) -> dict:
    """200 slider changes at 60 Hz; returns change times, paint times and the results painted."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    row = panel.sliders.shown_rows()[0]  # the axis with the largest data variance
    lo, hi = row.slider.minimum(), row.slider.maximum()
    sweep = np.concatenate([np.linspace(lo, hi, DRAG_STEPS // 2), np.linspace(hi, lo, DRAG_STEPS - DRAG_STEPS // 2)])
    changes: dict[int, tuple[float, float]] = {}  # seq -> (time before the change, time after it was posted)
    paints: list[tuple[int, float, float]] = []  # (seq on screen, paint time, its decode-finished time)
    last_painted = [0]

    def on_paint():
        seq = panel.shown_seq
        if seq != last_painted[0] and panel.last_result is not None:
            last_painted[0] = seq
            paints.append((seq, time.perf_counter(), panel.last_result.decoded))

    panel.image_view.painted.connect(on_paint)
    step = [0]
    loop = QEventLoop()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(DRAG_INTERVAL_MS)

    def tick():
        if step[0] >= DRAG_STEPS:
            timer.stop()
            loop.quit()
            return
        before = time.perf_counter()
        row.slider.setValue(float(sweep[step[0]]))
        changes[panel.worker.latest_seq] = (before, time.perf_counter())
        step[0] += 1

    timer.timeout.connect(tick)
    timer.start()
    loop.exec()
    last_seq = max(changes)
    wait_for(app, lambda: last_painted[0] == last_seq, 5.0)
    panel.image_view.painted.disconnect(on_paint)
    return {"changes": changes, "paints": paints, "last_seq": last_seq}


def drag_figures(bench: Bench, drag: dict, baseline_ms: float, worker) -> None:
    changes, paints, last_seq = drag["changes"], drag["paints"], drag["last_seq"]
    latencies = [(t_paint - changes[seq][0]) * 1000.0 for seq, t_paint, _ in paints if seq in changes]
    bench.add("slider drag: change → painted, median", median(latencies), "ms", baseline_ms, target="<= 5")
    bench.add("slider drag: change → painted, p95", percentile(latencies, 95), "ms", baseline_ms, target="<= 16")
    final = next((t for seq, t, _ in reversed(paints) if seq == last_seq), None)
    lag = (final - changes[last_seq][0]) * 1000.0 if final is not None else float("inf")
    bench.add("slider drag: last change → its image", lag, "ms", baseline_ms, target="<= 20")
    posted_after = sorted((seq, after) for seq, (_, after) in changes.items())
    stale = 0
    for seq, _, decoded in paints:
        newer = [after for s, after in posted_after if s > seq]
        stale += bool(newer) and min(newer) < decoded  # a newer value was already posted when this was decoded
    bench.add("slider drag: images shown already superseded", stale, "count", target="<= 0")
    bench.add("slider drag: images shown (of 200 changes)", len(paints), "count")
    bench.add("slider drag: decodes run", worker.decode_count, "count")
    bench.add("slider drag: decodes dropped (superseded when done)", worker.dropped_count, "count")


def meter_figures(bench: Bench, quick: bool) -> None:
    from latent_explorer.core.decoding import OffDataMeter, iter_typical_nn_distance, torch_threads
    from latent_explorer.core.jobs import run_job

    rng = np.random.default_rng(0)
    codes = rng.standard_normal(METER_CODES, dtype=np.float32)
    t0 = time.perf_counter()
    typical = run_job(iter_typical_nn_distance(codes, k=5, sample=250 if quick else 1000))
    build_ms = (time.perf_counter() - t0) * 1000.0
    meter = OffDataMeter(codes, typical, k=5)
    queries = codes[rng.choice(len(codes), 50)] + 0.1 * rng.standard_normal((50, METER_CODES[1]), dtype=np.float32)
    it = iter(queries.tolist() * 10)
    per_update = timed(lambda: meter.score(np.asarray(next(it), np.float32)), repeat=100 if not quick else 30)
    codes_t, query_t = meter.codes, torch.from_numpy(queries[0])
    with torch_threads(1):
        bare = timed(lambda: torch.mv(codes_t, query_t), repeat=100 if not quick else 30)
    bench.add("off-data meter per update (70,000 × 256, random codes)", median(per_update), "ms", median(bare),
              target="<= 10")
    bench.add("off-data meter: typical NN distance, once per encoding", build_ms, "ms")


def grid_figure(bench: Bench, model, codes: np.ndarray, quick: bool) -> None:
    from latent_explorer.core.decoding import decode_grid, torch_threads
    from latent_explorer.core.projections import PCAModel
    from latent_explorer.qt.features.decoder.grid_tab import BATCH_THREADS

    plane = PCAModel.fit(codes).plane(0, 1)
    xy = plane.transform(codes)
    rect = (*np.percentile(xy[:, 0], [1, 99]), *np.percentile(xy[:, 1], [1, 99]))
    base = codes.mean(0)
    batch = torch.from_numpy(plane.inverse(np.zeros((256, 2)), base).astype(np.float32))
    with torch_threads(BATCH_THREADS):  # as in the grid's worker
        grid_ms = timed(lambda: decode_grid(model, plane, rect, 16, base), repeat=3 if quick else 10)
        bare = timed(lambda: model.decode(batch), repeat=3 if quick else 10)
    bench.add(f"decoded grid 16 × 16 (inverse + decode + mosaic), {BATCH_THREADS} thread(s)", median(grid_ms), "ms",
              median(bare))


def main() -> int:
    bench = Bench("decode", __doc__)
    args = bench.parse()
    from latent_explorer.core.decoding import torch_threads
    from latent_explorer.qt.app import make_application

    app = make_application()
    model, model_note = load_vae()
    dataset, codes, data_note = load_codes(model, args.quick)
    print(f"model: {model_note}; codes: {len(codes):,}, {data_note}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads in the main thread")
    bench.header()

    one = torch.from_numpy(codes.z[:1])
    with torch_threads(1):  # as in the decode worker
        baseline_one = median(timed(lambda: model.decode(one), repeat=200, warmup=20))
    bench.add("bare decoder call, one image, 1 thread (baseline)", baseline_one, "ms")
    default_threads = median(timed(lambda: model.decode(one), repeat=100, warmup=10))
    bench.add(f"bare decoder call, one image, {torch.get_num_threads()} threads", default_threads, "ms")

    host, panel = make_host()
    state = host.context.state
    state.dataset, state.model, state.codes = dataset, model, codes
    if not wait_for(app, lambda: panel.prepared is not None and panel.shown_seq == panel.worker.latest_seq):
        print("  the panel did not get ready")
        return 1
    drag = simulate_drag(app, panel)
    drag_figures(bench, drag, baseline_one, panel.worker)
    host.context.close()  # the decoder stops its threads
    host.close()

    meter_figures(bench, args.quick)
    grid_figure(bench, model, codes.z[:CODE_SUBSET], args.quick)
    return bench.finish()


if __name__ == "__main__":
    raise SystemExit(main())
