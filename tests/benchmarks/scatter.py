"""Scatter frame times: the app's LatentScatter versus pyqtgraph's stock ScatterPlotItem (per-point brushes).

Both draw the same points in a 1200×900 offscreen widget through the same pan/zoom sequence (zoom step by step
from the whole cloud down to a square 1/160 of its width — 0.25 wide for a cloud spanning ±20 — then pan),
each frame timed from the view change until Qt has painted it (one paint; ``viewport().repaint()`` when Qt did
not paint by itself) and the event queue is empty. Data: Fashion-MNIST
(70,000 codes of demo:fashion-conv-vae reduced to 2-D by PCA, or, without that model, the first two principal
components of the raw pixels), then synthetic clusters of 200,000 and 1,000,000 points (anisotropic Gaussians
and thin curved filaments, 10 classes). Hover: the point under 1000 random mouse positions at 1,000,000
points, against a brute-force numpy search as the baseline.
Targets: ≤ 16 ms per frame at 200,000 points, ≤ 33 ms at 1,000,000, hover ≤ 2 ms.
"""

from __future__ import annotations

import time

import numpy as np

from _common import Bench, median

WIDTH, HEIGHT = 1200, 900
ZOOM_FRAMES, PAN_FRAMES = 20, 10
FINAL_FRACTION = 0.25 / 40.0  # of the cloud's width
STOCK_FRAMES_1M = 3


# ---------------------------------------------------------------------- data
def fashion_points() -> tuple[np.ndarray, np.ndarray, str]:
    """(70000, 2) coordinates, labels, and a note saying where they come from."""
    from sklearn.decomposition import PCA

    from latent_explorer.core.datasets import load_dataset
    from latent_explorer.core.encoding import iter_encode_cached
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models import demo_models, load_model

    dataset = load_dataset("fashion-mnist")
    if "fashion-conv-vae" in demo_models():
        model = load_model("demo:fashion-conv-vae", device="cpu")
        codes = run_job(iter_encode_cached(model, dataset))
        latent = codes.mu if codes.mu is not None else codes.z
        xy = PCA(n_components=2, random_state=0).fit_transform(latent)
        note = "Fashion-MNIST codes of demo:fashion-conv-vae (mu), PCA to 2-D"
    else:
        pixels = dataset.images.reshape(len(dataset), -1).astype(np.float32) / 255.0
        xy = PCA(n_components=2, random_state=0).fit_transform(pixels)
        note = "first two PCA components of the raw Fashion-MNIST pixels (demo:fashion-conv-vae not available)"
    return xy.astype(np.float64), dataset.labels, note


def synthetic_points(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """10 classes over ±20: six anisotropic Gaussians and four thin curved filaments through the centre."""
    rng = np.random.default_rng(seed)
    sizes = rng.multinomial(n, np.full(10, 0.1))
    parts, labels = [], []
    for label, size in enumerate(sizes):
        if label < 6:
            angle = rng.uniform(0, np.pi)
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            scale = rng.uniform([0.5, 0.05], [4.0, 0.8])
            centre = rng.uniform(-12, 12, 2)
            pts = (rng.normal(size=(size, 2)) * scale) @ rot.T + centre
        else:
            t = rng.uniform(-1, 1, size)
            k = label - 6
            curve = np.column_stack([18 * t, 6 * np.sin(np.pi * t * (k + 1) / 2 + k)])
            curve -= np.array([0, 6 * np.sin(k)])  # every filament crosses x = 0 near y = 0
            pts = curve + rng.normal(scale=0.004 + 0.004 * k, size=(size, 2))
        parts.append(pts)
        labels.append(np.full(size, label))
    order = rng.permutation(n)
    return np.vstack(parts)[order], np.concatenate(labels)[order]


def view_sequence(xy: np.ndarray, centre: tuple[float, float] | None = None) -> list[tuple[float, float, float, float]]:
    """Whole cloud → a tiny square around ``centre`` (default: the median point) in ZOOM_FRAMES geometric steps,
    then PAN_FRAMES pans."""
    finite = xy[np.isfinite(xy).all(axis=1)]
    lo, hi = finite.min(axis=0), finite.max(axis=0)
    centre = np.median(finite, axis=0) if centre is None else np.asarray(centre, dtype=np.float64)
    start = float(max(hi - lo)) * 1.02
    final = start * FINAL_FRACTION
    views = []
    for i in range(ZOOM_FRAMES):
        half = 0.5 * start * (final / start) ** (i / (ZOOM_FRAMES - 1))
        views.append((centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half))
    half = final / 2
    for i in range(1, PAN_FRAMES + 1):
        dx = final * 0.3 * i
        views.append((centre[0] - half + dx, centre[0] + half + dx, centre[1] - half, centre[1] + half))
    return views


# ---------------------------------------------------------------------- drawing
class PaintCounter:
    """Counts the paint events a viewport receives."""

    def __init__(self, viewport):
        from PySide6.QtCore import QEvent, QObject

        class Filter(QObject):
            def eventFilter(self, watched, event):  # noqa: N802 - Qt name
                if event.type() == QEvent.Type.Paint:
                    counter.count += 1
                return False

        counter = self
        self.count = 0
        self.filter = Filter()
        viewport.installEventFilter(self.filter)


def frame_times(widget, view_box, views, app) -> list[float]:
    """Milliseconds per frame: set the view, let Qt paint the update it scheduled (forcing a repaint when it
    did not), until the event queue is empty. One paint per frame, as on screen."""
    viewport = widget.viewport() if hasattr(widget, "viewport") else widget.plot_widget.viewport()
    counter = getattr(viewport, "_paint_counter", None) or PaintCounter(viewport)
    viewport._paint_counter = counter
    counter.forced = 0
    times = []
    for x0, x1, y0, y1 in views:
        start = time.perf_counter()
        painted = counter.count
        view_box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        app.processEvents()
        if counter.count == painted:
            counter.forced += 1
            viewport.repaint()
            app.processEvents()
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def ours(xy, labels, names, views, app):
    from latent_explorer.qt.scatter import LatentScatter

    scatter = LatentScatter()
    scatter.resize(WIDTH, HEIGHT)
    scatter.show()
    app.processEvents()
    start = time.perf_counter()
    scatter.set_points(xy)
    scatter.set_categorical(labels, names)
    setup_ms = (time.perf_counter() - start) * 1000.0
    app.processEvents()
    frame_times(scatter, scatter.view_box, views[:2], app)  # warm-up
    times = frame_times(scatter, scatter.view_box, views, app)
    forced = scatter.plot_widget.viewport()._paint_counter.forced
    return scatter, times, setup_ms, forced


def stock(xy, labels, views, app, frames: int | None = None):
    import pyqtgraph as pg

    from latent_explorer.core.colors import categorical_palette

    plot = pg.PlotWidget()
    plot.resize(WIDTH, HEIGHT)
    plot.show()
    app.processEvents()
    brushes = [pg.mkBrush(*c) for c in categorical_palette(10)]
    finite = np.isfinite(xy).all(axis=1)
    item = pg.ScatterPlotItem(x=xy[finite, 0], y=xy[finite, 1], pen=None, size=3,
                              brush=[brushes[c % 10] for c in labels[finite]])
    plot.addItem(item)
    app.processEvents()
    picked = views if frames is None else [views[int(i)] for i in np.linspace(0, len(views) - 1, frames)]
    times = frame_times(plot, plot.getPlotItem().getViewBox(), picked, app)
    plot.close()
    plot.deleteLater()
    app.processEvents()
    return times


def hover_times(scatter, rng, count: int) -> tuple[list[float], list[float]]:
    """Milliseconds per look-up at random mouse positions in the plot: ours, and brute force (a few)."""
    x0, x1, y0, y1 = scatter.visible_rect()
    a, b = scatter.map_to_widget(x0, y1), scatter.map_to_widget(x1, y0)
    positions = rng.uniform([a.x(), a.y()], [b.x(), b.y()], size=(count, 2))
    ours_ms = []
    for px, py in positions:
        start = time.perf_counter()
        scatter.nearest(px, py)
        ours_ms.append((time.perf_counter() - start) * 1000.0)
    xy = scatter._xy
    o, e = scatter.map_to_widget(0.0, 0.0), scatter.map_to_widget(1.0, 1.0)
    brute_ms = []
    for px, py in positions[:20]:
        start = time.perf_counter()
        sx = o.x() + xy[:, 0] * (e.x() - o.x())
        sy = o.y() + xy[:, 1] * (e.y() - o.y())
        d2 = (sx - px) ** 2 + (sy - py) ** 2
        int(np.nanargmin(d2))
        brute_ms.append((time.perf_counter() - start) * 1000.0)
    return ours_ms, brute_ms


def main() -> int:
    bench = Bench("scatter: LatentScatter vs pyqtgraph ScatterPlotItem (1200×900, raster engine)")
    args = bench.parse()
    from latent_explorer.qt.app import make_application

    app = make_application()
    global ZOOM_FRAMES, PAN_FRAMES
    if args.quick:
        ZOOM_FRAMES, PAN_FRAMES = 8, 4
    names = [f"class {i}" for i in range(10)]
    fashion_xy, fashion_labels, note = fashion_points()
    print(f"70,000 points: {note}")
    datasets = [("70k Fashion-MNIST", fashion_xy, fashion_labels, "<= 16", None)]
    for n, label, target in ((200_000, "200k synthetic", "<= 16"), (1_000_000, "1M synthetic", "<= 33")):
        xy, labels = synthetic_points(n)
        datasets.append((label, xy, labels, target, (0.0, 0.0)))  # the filaments cross at the origin
    bench.header()
    scatter_1m = None
    for label, xy, labels, target, centre in datasets:
        views = view_sequence(xy, centre)
        scatter, times, setup_ms, forced = ours(xy, labels, names, views, app)
        big = len(xy) >= 1_000_000
        if big and args.quick:
            baseline, stock_note = None, "stock skipped (--quick)"
        else:
            stock_ms = stock(xy, labels, views, app, frames=STOCK_FRAMES_1M if big else None)
            baseline = median(stock_ms)
            stock_note = f"stock over {len(stock_ms)} frames" + (" (too slow for more)" if big else "")
        print(f"  [{label}: {len(views)} frames ({forced} repaints forced), {stock_note}; set_points + colours "
              f"{setup_ms:.0f} ms, p90 frame {np.percentile(times, 90):.1f} ms]")
        bench.add(f"frame, {label} (stock = baseline)", median(times), "ms", baseline=baseline, target=target)
        if big:
            scatter.set_density_mode(True)
            density = frame_times(scatter, scatter.view_box, views[:12], app)
            bench.add(f"frame, {label}, density mode", median(density), "ms")
            scatter.set_density_mode(False)
            scatter_1m = scatter
        else:
            scatter.close()
            scatter.deleteLater()
        app.processEvents()
    scatter_1m.reset_view()
    app.processEvents()
    scatter_1m.nearest(10, 10)  # builds the grid index (done in idle time after set_points in the app)
    ours_ms, brute_ms = hover_times(scatter_1m, np.random.default_rng(0), 200 if args.quick else 1000)
    bench.add("hover look-up, 1M, whole view (brute = baseline)", median(ours_ms), "ms", baseline=median(brute_ms),
              target="<= 2")
    scatter_1m.close()  # widgets must go before the QApplication does, or Qt crashes at interpreter exit
    scatter_1m.deleteLater()
    app.processEvents()
    return bench.finish()


if __name__ == "__main__":
    raise SystemExit(main())
