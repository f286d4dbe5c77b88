"""Paths: lifting and decoding a drawn path, the four-row comparison strip, and the strip following a vertex drag.

With the Fashion-MNIST VAE (demo:fashion-conv-vae, CPU, one torch thread as in the app's decode thread) over all
70,000 Fashion-MNIST codes (2,000 with ``--quick``):

- a 64-step path drawn across the PCA 1/2 plane, its ends snapped to data points: lift (resample + inverse) and
  decode, against the bare decode of the same 64 codes in this process;
- the full strip: the path, the linear and spherical interpolation between its end codes and the pixel cross-fade
  of the endpoint images; then the off-data score of every latent frame (192 codes against all the codes, in a
  worker thread in the app), against the bare matrix product it needs;
- the same lift through a t-SNE-like map (`MapLayout` over every code: each z from its nearest map points);
- the real window (offscreen): 60 moves of a vertex at 60 Hz, as a drag of its handle delivers them; how many
  times per second the strip showed new frames, how long from a move to the frames of that move, and from the
  release to the full strip.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from decode import load_codes, load_vae, wait_for

from _common import Bench, median, percentile, timed  # sets the offscreen platform before any Qt import

STEPS = 64
MOVES = 60
MOVE_INTERVAL_MS = 16  # 60 Hz


def snapped_path(xy: np.ndarray, steps: int):
    """A three-vertex path across the cloud, from a data point near the 10th percentile to one near the 90th."""
    from latent_explorer.core.interpolation import LatentPath

    lo, hi = np.percentile(xy, 10, axis=0), np.percentile(xy, 90, axis=0)
    a = int(np.argmin(np.hypot(*(xy - lo).T)))
    b = int(np.argmin(np.hypot(*(xy - hi).T)))
    middle = [(xy[a, 0] + xy[b, 0]) / 2 - (hi[1] - lo[1]) * 0.3, (xy[a, 1] + xy[b, 1]) / 2 + (hi[0] - lo[0]) * 0.3]
    return LatentPath("bench", [xy[a].tolist(), middle, xy[b].tolist()], view={"kind": "pca", "i": 0, "j": 1},
                      steps=steps, start_index=a, end_index=b)


def core_figures(bench: Bench, model, dataset, codes, quick: bool) -> None:
    from latent_explorer.core.decoding import OffDataMeter, decode_images, iter_typical_nn_distance, torch_threads
    from latent_explorer.core.interpolation import decode_strip, lift_path, off_data_scores, snapped_images
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.projections import MapLayout, PCAModel

    latent = codes.z
    plane = PCAModel.fit(latent).plane(0, 1)
    xy = plane.transform(latent)
    path = snapped_path(xy, STEPS)
    mean = latent.mean(axis=0)
    meter = OffDataMeter(latent, run_job(iter_typical_nn_distance(latent, sample=250 if quick else 1000)))
    images = snapped_images(path, dataset)
    repeat = 10 if quick else 30
    z64 = lift_path(path, plane, latent, mean=mean).z
    with torch_threads(1):
        bare = median(timed(lambda: decode_images(model, z64), repeat=repeat, warmup=3))
        lift_only = median(timed(lambda: lift_path(path, plane, latent, mean=mean), repeat=repeat))
        lift_decode = median(timed(lambda: decode_images(model, lift_path(path, plane, latent, mean=mean).z),
                                   repeat=repeat))
        strip = median(timed(lambda: decode_strip(model, lift_path(path, plane, latent, mean=mean),
                                                  endpoint_images=images), repeat=repeat))
        frames = np.concatenate([z64] * 3)
        scores = median(timed(lambda: off_data_scores(meter, frames), repeat=repeat))
        product = median(timed(lambda: meter.codes @ torch.from_numpy(frames).T, repeat=repeat))
    n = f"{len(latent):,}"
    bench.add(f"bare decode of {STEPS} codes, 1 thread (baseline)", bare, "ms")
    bench.add(f"lift only, {STEPS} steps on PCA 1/2", lift_only, "ms", bare)
    bench.add(f"lift + decode, {STEPS} steps on PCA 1/2", lift_decode, "ms", bare, target="<= 100")
    bench.add(f"4-row strip: lift, 3×{STEPS} decodes, fade", strip, "ms", bare)
    bench.add(f"off-data scores of 192 frames over {n} codes", scores, "ms", product)
    coords = xy * np.array([3.0, -2.0]) + np.sin(xy[:, ::-1])  # a distorted map of every code, as t-SNE would give
    layout = MapLayout(coords, latent, "map", kind="tsne")
    layout.inverse(coords[:1], mean)  # build its k-d tree once, as the window does on the first lookup
    map_path = snapped_path(coords, STEPS)
    map_path.view = {"kind": "tsne", "key": "map"}
    with torch_threads(1):
        map_ms = median(timed(lambda: decode_images(model, lift_path(map_path, layout, latent, mean=mean).z),
                              repeat=repeat))
    bench.add(f"lift + decode, {STEPS} steps on a {n}-point map", map_ms, "ms", bare, target="<= 100")


def make_window(model, dataset, codes):
    from PySide6.QtCore import QSettings

    from latent_explorer.qt.app import make_application
    from latent_explorer.qt.main_window import MainWindow

    app = make_application()
    folder = Path(tempfile.mkdtemp(prefix="bench-paths-"))
    window = MainWindow(settings=QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1400, 900)
    window.show()
    window.state.dataset = dataset
    window.state.model = model
    window.state.codes = codes
    panel = window.context.decoder
    if not wait_for(app, lambda: window.pca is not None and panel.meter_ready() is not None, 120.0):
        raise RuntimeError("the window did not fit its PCA or build the off-data meter in time")
    return app, window


def drag_figures(bench: Bench, model, dataset, codes) -> None:
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    app, window = make_window(model, dataset, codes)
    paths = window.context.interpolation
    xy = window.view_controller.xy
    entry = paths.add_path(snapped_path(xy, STEPS))
    if not wait_for(app, entry.strip_current, 30.0):
        raise RuntimeError("the first strip did not arrive")
    middle = entry.path.vertex_array()[1]
    span = np.ptp(xy[np.isfinite(xy).all(axis=1)], axis=0)
    track = [middle + span * 0.15 * np.array([np.sin(a), np.cos(a) - 1]) for a in np.linspace(0, 2 * np.pi, MOVES)]
    moves: list[float] = []
    shown: list[tuple[float, bool, int]] = []  # (time, preview?, revision shown)
    paths.strip_shown.connect(lambda preview: shown.append((time.perf_counter(), preview, entry.revision)))
    revisions: dict[int, float] = {}
    loop = QEventLoop()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(MOVE_INTERVAL_MS)
    step = [0]

    def tick():
        if step[0] >= MOVES:
            timer.stop()
            loop.quit()
            return
        moves.append(time.perf_counter())
        paths.overlay.sigVertexMoved.emit(entry.uid, 1, tuple(track[step[0]]), False)  # what a handle drag emits
        revisions[entry.revision] = moves[-1]
        step[0] += 1

    timer.timeout.connect(tick)
    drag_start = time.perf_counter()
    timer.start()
    loop.exec()
    drag_end = time.perf_counter()
    wait_for(app, lambda: not paths.strips.busy, 2.0)
    previews = [(t, rev) for t, preview, rev in shown if preview]
    release = time.perf_counter()
    paths.overlay.sigVertexMoved.emit(entry.uid, 1, tuple(track[-1]), True)
    wait_for(app, entry.strip_current, 10.0)
    final_ms = (time.perf_counter() - release) * 1000.0
    wait_for(app, lambda: paths.scored(entry), 10.0)
    scored_ms = (time.perf_counter() - release) * 1000.0
    in_drag = [t for t, _ in previews if drag_start <= t <= drag_end]
    rate = len(in_drag) / (drag_end - drag_start)
    latencies = [(t - revisions[rev]) * 1000.0 for t, rev in previews if rev in revisions]
    bench.add(f"drag {MOVES} moves at 60 Hz: strip updates/s", rate, "1/s", target=">= 10")
    bench.add("drag: strip updates during the drag", len(in_drag), "count")
    if latencies:
        bench.add("drag: move → its preview shown, median", median(latencies), "ms")
        bench.add("drag: move → its preview shown, p95", percentile(latencies, 95), "ms")
    bench.add("drag: release → full 4-row strip shown", final_ms, "ms")
    bench.add("drag: release → its off-data bars shown", scored_ms, "ms")
    window.close()


def main() -> int:
    bench = Bench("Paths: lift, decode, comparison strip, vertex drag",
                  "Lifting and decoding drawn paths with the Fashion-MNIST VAE; the strip following a vertex drag.")
    args = bench.parse()
    model, model_name = load_vae()
    dataset, codes, data_name = load_codes(model, args.quick)
    print(f"model: {model_name}; codes: {data_name}, {len(codes):,} × {codes.latent_dim}")
    bench.header()
    core_figures(bench, model, dataset, codes, args.quick)
    drag_figures(bench, model, dataset, codes)
    return bench.finish()


if __name__ == "__main__":
    raise SystemExit(main())
