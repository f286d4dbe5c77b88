"""Scatter frame times at every kind of view: the app's LatentScatter, pyqtgraph's stock item, a bare numpy raster.

Three view classes, each the median over ``RANGES`` different ranges (random centres drawn from the points, so
every range holds data): the whole cloud (every point in view, jittered a little in position and size), medium
(10 % of the cloud's width and height) and deep zoom (1 %). A frame is timed from the range change until Qt has
painted *everything* that change triggered: events are processed until no paint arrives for ``SETTLE_ROUNDS``
rounds in a row, and the number of paints per change is reported. CPU time (``time.process_time``, every thread
of this process) and wall time are reported apart; on this shared machine CPU time is the stable figure.

Interleaving: the ranges come in blocks of ``BLOCK``; each renderer draws a block's ranges one after the other,
then the next renderer draws the same block, and so on (app, floor, stock, block after block), so a drift of
the machine hits all alike. Within a block a renderer's frames follow each other, as while a user pans and zooms
(its own points, canvas and image in the caches); the one frame a renderer draws first after the others (a
range of its own, not one of the block's) is timed apart and reported as the "cold" frame: the stock item's
frame passes some hundred megabytes through the caches, which costs the app's next frame 2.5–3.5 ms.

Baselines, interleaved in the same process, on a plot area of the same size (``WIDTH`` × ``HEIGHT`` device
pixels; the raster paint engine of the offscreen platform):
- stock: pyqtgraph's ``ScatterPlotItem`` in its fairest set-up — one single-brush item per class, no pen,
  ``pxMode``, 3 px dots — through the same ranges, in a plot given the app's two view-level fixes (no SI-prefix
  relayout, the view matrix set at once: one paint per change);
- floor: a bare numpy raster of the same points at the same resolution (x-sorted float32 coordinates, the
  columns in view sliced with ``searchsorted``, pixel indices, one ``np.bincount``), the least any numpy
  rasteriser can do.

Display modes: the same view classes (``MODE_RANGES`` ranges each, consecutive frames) at partial opacity, in
density mode, with a selection (one class) and with two classes hidden: the frames that cannot use the
full-opacity level of detail (they count, or draw a subset).

Load: wall and CPU time of ``set_points`` + ``set_categorical``, the longest the GUI thread is blocked while the
scatter loads (a 5 ms timer's worst lateness until the hover index is ready, or the ``set_points`` call itself),
the latency of the first hover look-up right after ``set_points`` returns and the time until the hover index
answers from its grid, and the bytes per point the scatter keeps (``tracemalloc``: numpy reports its buffers;
the caller's own coordinate array is not counted). Data: synthetic clusters (anisotropic Gaussians and thin
curved filaments, 10 classes) at 200,000 and 1,000,000 points.
Targets at 1,000,000 points: ≤ 5 ms CPU per frame on every view class, ≥ 15× faster than the stock item,
≤ 2× the numpy floor, first hover ≤ 50 ms, no GUI block over 50 ms, ≤ 80 bytes per point. ``--points 10000000``
measures the 10M class (no stock item there): ≤ 33 ms CPU per frame on every view class, everything loaded (copy,
sort, hover grid, colours) within 10 s without blocking the GUI thread.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from _common import Bench, median

WIDTH, HEIGHT = 1200, 900
RANGES = 20
BLOCK = 5  # ranges a renderer draws one after the other before the next renderer draws them
MODE_RANGES = 8  # ranges per view class in each display mode
VIEW_CLASSES = (("whole cloud", None), ("medium (10 % of width)", 0.10), ("deep zoom (1 % of width)", 0.01))
SETTLE_ROUNDS = 3
CLASSES = 10
STOCK_MAX_POINTS = 2_000_000  # above this the stock item is not measured (seconds per frame)


# ---------------------------------------------------------------------- data and views
def synthetic_points(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """10 classes over ±20: six anisotropic Gaussians and four thin curved filaments through the centre."""
    rng = np.random.default_rng(seed)
    sizes = rng.multinomial(n, np.full(CLASSES, 1.0 / CLASSES))
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
            curve -= np.array([0, 6 * np.sin(k)])
            pts = curve + rng.normal(scale=0.004 + 0.004 * k, size=(size, 2))
        parts.append(pts)
        labels.append(np.full(size, label))
    order = rng.permutation(n)
    return np.vstack(parts)[order], np.concatenate(labels)[order]


def view_ranges(xy: np.ndarray, fraction: float | None, count: int, rng) -> list[tuple[float, float, float, float]]:
    """``count`` different (x0, x1, y0, y1): the whole cloud (every point in view) jittered in position and size,
    or windows ``fraction`` of the cloud's width and height around randomly drawn points."""
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = hi - lo
    views = []
    for _ in range(count):
        if fraction is None:
            half = 0.5 * span * rng.uniform(1.03, 1.10)
            centre = (lo + hi) / 2 + rng.uniform(-0.01, 0.01, 2) * span
        else:
            half = 0.5 * span * fraction
            centre = xy[rng.integers(len(xy))]
        views.append((centre[0] - half[0], centre[0] + half[0], centre[1] - half[1], centre[1] + half[1]))
    return views


# ---------------------------------------------------------------------- painting
class PaintCounter:
    """Counts the paint events a viewport receives."""

    def __init__(self, viewport):
        from PySide6.QtCore import QEvent, QObject

        counter = self

        class Filter(QObject):
            def eventFilter(self, watched, event):  # noqa: N802 - Qt name
                if event.type() == QEvent.Type.Paint:
                    counter.count += 1
                return False

        self.count = 0
        self.filter = Filter()
        viewport.installEventFilter(self.filter)


def settle(app, counter: PaintCounter) -> None:
    """Process events until no paint has come for SETTLE_ROUNDS rounds: every paint a change caused is done."""
    quiet, seen = 0, counter.count
    while quiet < SETTLE_ROUNDS:
        app.sendPostedEvents()
        app.processEvents()
        if counter.count == seen:
            quiet += 1
        else:
            quiet, seen = 0, counter.count


class Frames:
    """Times range changes of one view box painted into one viewport."""

    def __init__(self, app, view_box, viewport):
        self.app, self.view_box, self.viewport = app, view_box, viewport
        self.counter = PaintCounter(viewport)
        self.cpu: list[float] = []
        self.wall: list[float] = []
        self.paints: list[int] = []

    def frame(self, view: tuple[float, float, float, float]) -> None:
        x0, x1, y0, y1 = view
        before = self.counter.count
        wall, cpu = time.perf_counter(), time.process_time()
        self.view_box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        settle(self.app, self.counter)
        self.cpu.append((time.process_time() - cpu) * 1000.0)
        self.wall.append((time.perf_counter() - wall) * 1000.0)
        self.paints.append(self.counter.count - before)

    def reset(self) -> None:
        self.cpu, self.wall, self.paints = [], [], []


def fit_plot_area(app, widget, view_box) -> None:
    """Resize ``widget`` so that its plot area (the view box) is WIDTH × HEIGHT pixels."""
    widget.resize(WIDTH + 200, HEIGHT + 100)
    widget.show()
    for _ in range(3):
        app.processEvents()
        rect = view_box.sceneBoundingRect()
        dw, dh = WIDTH - round(rect.width()), HEIGHT - round(rect.height())
        if dw == 0 and dh == 0:
            return
        widget.resize(widget.width() + dw, widget.height() + dh)


def numpy_floor(xs: np.ndarray, ys: np.ndarray, view) -> np.ndarray:
    """The bare raster: x-sorted float32 points, the columns in view sliced, one bincount at WIDTH × HEIGHT."""
    x0, x1, y0, y1 = view
    i0, i1 = np.searchsorted(xs, [np.float32(x0), np.float32(x1)])
    col = ((xs[i0:i1] - np.float32(x0)) * np.float32(WIDTH / (x1 - x0))).astype(np.int32)
    row = ((np.float32(y1) - ys[i0:i1]) * np.float32(HEIGHT / (y1 - y0))).astype(np.int32)
    inside = (row >= 0) & (row < HEIGHT) & (col >= 0) & (col < WIDTH)
    flat = row[inside] * WIDTH + col[inside]
    return np.bincount(flat, minlength=WIDTH * HEIGHT)


def stock_plot(app, xy: np.ndarray, labels: np.ndarray):
    """pyqtgraph's fairest stock set-up: one single-brush ScatterPlotItem per class, pxMode, no pen."""
    import pyqtgraph as pg

    from latent_explorer.core.colors import categorical_palette

    plot = pg.PlotWidget(background="w")
    for label, colour in enumerate(categorical_palette(CLASSES)):
        pts = xy[labels == label]
        plot.addItem(pg.ScatterPlotItem(x=pts[:, 0], y=pts[:, 1], pen=None, brush=pg.mkBrush(*colour), size=3,
                                        pxMode=True))
    view_box = plot.getPlotItem().getViewBox()
    # the same two view-level fixes the app's scatter has, so that the comparison is about the items: no SI
    # prefix check (a label relayout per range change) and the view matrix set at once (one paint per change)
    for side in ("left", "bottom", "top", "right"):
        plot.getPlotItem().getAxis(side).enableAutoSIPrefix(False)
    update_range = view_box.updateViewRange

    def update_now(force_x: bool = False, force_y: bool = False) -> None:
        update_range(force_x, force_y)
        view_box.updateMatrix()

    view_box.updateViewRange = update_now
    fit_plot_area(app, plot, view_box)
    return plot, view_box


# ---------------------------------------------------------------------- load, hover, memory
class Lateness:
    """A 5 ms timer on the GUI thread; its worst lateness is the longest the thread was blocked."""

    def __init__(self):
        from PySide6.QtCore import QObject, Qt, QTimer, Slot

        class Ticker(QObject):
            def __init__(self):
                super().__init__()
                self.last = time.perf_counter()
                self.last_cpu = time.thread_time()
                self.worst = 0.0
                self.worst_cpu = 0.0

            @Slot()
            def tick(self) -> None:
                now, cpu = time.perf_counter(), time.thread_time()
                self.worst = max(self.worst, (now - self.last) * 1000.0 - 5.0)
                self.worst_cpu = max(self.worst_cpu, (cpu - self.last_cpu) * 1000.0)
                self.last, self.last_cpu = now, cpu

        self.ticker = Ticker()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.ticker.tick)

    def start(self) -> None:
        self.ticker.last, self.ticker.worst = time.perf_counter(), 0.0
        self.ticker.last_cpu, self.ticker.worst_cpu = time.thread_time(), 0.0
        self.timer.start()

    def stop(self) -> tuple[float, float]:
        """(worst lateness, wall ms; the GUI thread's own CPU time between the two ticks of the worst, ms): on a
        loaded machine the wall figure also counts the time the thread waited for a core."""
        self.timer.stop()
        return self.ticker.worst, self.ticker.worst_cpu


def index_ready(scatter) -> bool:
    """Whether the scatter's hover grid is built (a scatter without background building builds on demand)."""
    return bool(getattr(scatter, "index_ready", True))


def load(app, scatter, xy, labels, names) -> dict[str, float]:
    """set_points + set_categorical as the window does them, then the first hover and the wait for the index."""
    lateness = Lateness()
    probe = xy[len(xy) // 3]
    lateness.start()
    wall, cpu, gui_cpu = time.perf_counter(), time.process_time(), time.thread_time()
    scatter.set_points(xy)
    call_ms = (time.perf_counter() - wall) * 1000.0
    call_cpu_ms = (time.thread_time() - gui_cpu) * 1000.0
    scatter.set_categorical(labels, names)
    load_wall = (time.perf_counter() - wall) * 1000.0
    load_cpu = (time.process_time() - cpu) * 1000.0
    app.processEvents()  # the first paint, as the window would show it
    pos = scatter.map_to_widget(float(probe[0]), float(probe[1]))
    hover_start = time.perf_counter()
    first = scatter.nearest(pos.x(), pos.y())
    first_hover_ms = (time.perf_counter() - hover_start) * 1000.0
    while not index_ready(scatter):
        app.processEvents()
        time.sleep(0.001)
    ready_ms = (time.perf_counter() - wall) * 1000.0
    while getattr(scatter, "loading", False):  # the rest of the worker's jobs (a large cloud's colours)
        app.processEvents()
        time.sleep(0.001)
    loaded_ms = (time.perf_counter() - wall) * 1000.0
    for _ in range(5):
        app.processEvents()
    worst, worst_cpu = lateness.stop()
    return {"set_points_ms": call_ms, "load_wall_ms": load_wall, "load_cpu_ms": load_cpu,
            "first_hover_ms": first_hover_ms, "first_hover_found": float(first >= 0), "index_ready_ms": ready_ms,
            "loaded_ms": loaded_ms,
            "gui_block_ms": max(worst, call_ms), "gui_block_cpu_ms": max(worst_cpu, call_cpu_ms)}


def bytes_per_point(app, make_scatter, xy, labels, names) -> tuple[float, float]:
    """(kept, peak) bytes per point of a freshly loaded scatter, its hover index, colours and levels of detail
    built, after one frame."""
    scatter = make_scatter()
    app.processEvents()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    scatter.set_points(xy)
    scatter.set_categorical(labels, names)
    while not index_ready(scatter) or getattr(scatter, "loading", False):  # the colours and levels of detail too
        app.processEvents()
        time.sleep(0.001)
    scatter.nearest(10, 10)
    for _ in range(5):
        app.processEvents()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    scatter.close()
    scatter.deleteLater()
    app.processEvents()
    return (current - base) / len(xy), (peak - base) / len(xy)


def display_modes(app, scatter, frames: Frames, xy, labels, count: int, rng) -> dict[str, dict[str, float]]:
    """Median frame CPU per view class in each display mode, consecutive frames (the scatter is left as found)."""
    views = {name.split(" (")[0]: view_ranges(xy, fraction, count, rng) for name, fraction in VIEW_CLASSES}
    modes = {
        "opacity 0.5": (lambda: scatter.set_opacity(0.5), lambda: scatter.set_opacity(1.0)),
        "density": (lambda: scatter.set_density_mode(True), lambda: scatter.set_density_mode(False)),
        "selection of one class": (lambda: scatter.set_selection(np.flatnonzero(labels == 3)),
                                   lambda: scatter.set_selection(np.zeros(0, np.int64))),
        "two classes hidden": (lambda: scatter.set_hidden_classes({1, 2}), lambda: scatter.set_hidden_classes(set())),
    }
    result = {}
    for mode, (enter, leave) in modes.items():
        enter()
        while getattr(scatter, "loading", False):  # a large cloud's layers are built in the worker
            app.processEvents()
            time.sleep(0.001)
        result[mode] = {}
        for view_name, ranges in views.items():
            frames.reset()
            frames.frame(ranges[-1])  # the first frame of a mode builds what it draws from: not timed
            frames.reset()
            for view in ranges:
                frames.frame(view)
            result[mode][view_name] = median(frames.cpu)
        leave()
        while getattr(scatter, "loading", False):
            app.processEvents()
            time.sleep(0.001)
    return result


# ---------------------------------------------------------------------- main
def main() -> int:
    bench = Bench("scatter: LatentScatter vs stock pyqtgraph vs a bare numpy raster (1200×900 plot area, raster)")
    bench.parser.add_argument("--points", type=int, nargs="+", metavar="N",
                              help="cloud sizes to measure (default: 200000 1000000; e.g. --points 10000000)")
    args = bench.parse()
    from latent_explorer.qt.app import make_application
    from latent_explorer.qt.scatter import LatentScatter

    app = make_application()
    names = [f"class {i}" for i in range(CLASSES)]
    sizes = args.points or ((200_000,) if args.quick else (200_000, 1_000_000))
    ranges = 6 if args.quick else RANGES

    def make_scatter():
        scatter = LatentScatter(toolbar=False)
        scatter.legend.show()  # as it will be once coloured by class, so the plot area keeps its size
        fit_plot_area(app, scatter, scatter.view_box)
        return scatter

    bench.header()
    # the compiled rasteriser (numba, where installed) is compiled in a worker thread when the first scatter is
    # made; the frames and loads below are the steady state, so wait for it here and report how long it took
    from latent_explorer.core import splat_jit

    start = time.perf_counter()
    first = make_scatter()
    while splat_jit.available() and not splat_jit.ready():
        app.processEvents()
        time.sleep(0.01)
    bench.add("compiled rasteriser ready after (0: numpy only)", (time.perf_counter() - start) * 1000.0
              if splat_jit.ready() else 0.0, "ms")
    app._garbage_collector.settle()  # as the window does once it is built (see `qt.collector`)
    first.close()
    first.deleteLater()
    for n in sizes:
        label = f"{n // 1000:,}k" if n < 1_000_000 else f"{n // 1_000_000}M"
        big = n >= 1_000_000
        huge = n > STOCK_MAX_POINTS  # the 10M class: its own targets, no stock item (seconds per frame)
        frame_target = "<= 33" if huge else "<= 5" if big else None
        ratio_target = None if huge else ">= 15 (ratio)" if big else None
        xy, labels = synthetic_points(n)
        scatter = make_scatter()
        figures = load(app, scatter, xy, labels, names)
        plot, stock_box = (None, None) if huge else stock_plot(app, xy, labels)
        order = np.argsort(xy[:, 0])
        xs, ys = xy[order, 0].astype(np.float32), xy[order, 1].astype(np.float32)
        del order
        ours = Frames(app, scatter.view_box, scatter.plot_widget.viewport())
        stock = None if huge else Frames(app, stock_box, plot.viewport())
        rng = np.random.default_rng(1)
        for view in view_ranges(xy, 0.05, 2, rng):  # warm-up: imports, caches, buffers
            ours.frame(view)
            if stock is not None:
                stock.frame(view)
            numpy_floor(xs, ys, view)
        all_ours, all_stock, all_floor = [], [], []
        for view_name, fraction in VIEW_CLASSES:
            ours.reset()
            if stock is not None:
                stock.reset()
            floor_cpu, cold_ours, cold_stock = [], [], []
            views = view_ranges(xy, fraction, ranges, rng)
            firsts = view_ranges(xy, fraction, -(-ranges // BLOCK), rng)  # each renderer's first frame per block
            for start, first in zip(range(0, ranges, BLOCK), firsts, strict=True):
                block = views[start:start + BLOCK]
                for frames, cold in ((ours, cold_ours), (stock, cold_stock)):
                    if frames is None:
                        continue
                    frames.frame(first)  # after the other renderers: timed apart
                    cold.append(frames.cpu.pop())
                    frames.wall.pop()
                    frames.paints.pop()
                    for view in block:
                        frames.frame(view)
                    if frames is ours:
                        numpy_floor(xs, ys, first)
                        for view in block:
                            cpu = time.process_time()
                            numpy_floor(xs, ys, view)
                            floor_cpu.append((time.process_time() - cpu) * 1000.0)
            all_ours += ours.cpu
            all_floor += floor_cpu
            ours_cpu, floor = median(ours.cpu), median(floor_cpu)
            stock_note = "" if stock is None else (f", stock {median(stock.paints):g}; stock wall "
                                                   f"{median(stock.wall):.1f} ms")
            print(f"  [{label}, {view_name}: {ranges} ranges; paints per change: app {median(ours.paints):g} "
                  f"(max {max(ours.paints)}){stock_note}; wall app {median(ours.wall):.2f} ms; "
                  f"p90 app CPU {np.percentile(ours.cpu, 90):.2f} ms]")
            bench.add(f"frame CPU, {label}, {view_name}", ours_cpu, "ms", target=frame_target)
            bench.add(f"frame wall, {label}, {view_name}", median(ours.wall), "ms")
            bench.add("  cold frame CPU (first after the other renderers)", median(cold_ours), "ms")
            if stock is not None:
                all_stock += stock.cpu
                stock_cpu = median(stock.cpu)
                bench.add("  stock item / app (speed-up)", stock_cpu / ours_cpu, "x", baseline=stock_cpu,
                          ratio=stock_cpu / ours_cpu, target=ratio_target)
                bench.add("  stock item / app, cold frames", median(cold_stock) / median(cold_ours), "x",
                          baseline=median(cold_stock), ratio=median(cold_stock) / median(cold_ours))
            bench.add("  app / numpy floor", ours_cpu / floor, "x", baseline=floor, ratio=ours_cpu / floor,
                      target="<= 2 (ratio)" if big and not huge else None)
        bench.add(f"frame CPU, {label}, all views", median(all_ours), "ms", target=frame_target)
        if all_stock:
            bench.add("  stock item / app, all views", median(all_stock) / median(all_ours), "x",
                      baseline=median(all_stock), ratio=median(all_stock) / median(all_ours), target=ratio_target)
        bench.add("  app / numpy floor, all views", median(all_ours) / median(all_floor), "x",
                  baseline=median(all_floor), ratio=median(all_ours) / median(all_floor),
                  target="<= 2 (ratio)" if big and not huge else None)
        for mode, frames_cpu in display_modes(app, scatter, ours, xy, labels, MODE_RANGES if not args.quick else 3,
                                              rng).items():
            for view_name, cpu in frames_cpu.items():
                bench.add(f"frame CPU, {label}, {mode}, {view_name}", cpu, "ms", target="<= 33" if huge else None)
        bench.add(f"load {label}: set_points + colours, wall", figures["load_wall_ms"], "ms")
        bench.add(f"load {label}: set_points + colours, CPU", figures["load_cpu_ms"], "ms")
        bench.add(f"load {label}: longest GUI-thread block", figures["gui_block_ms"], "ms",
                  target="<= 50" if big else None)
        bench.add(f"load {label}: GUI thread's most CPU between 5 ms ticks", figures["gui_block_cpu_ms"], "ms",
                  target="<= 50" if big else None)
        bench.add(f"load {label}: everything ready (copy, sort, hover grid, colours) after", figures["loaded_ms"],
                  "ms", target="<= 10000" if huge else None)
        bench.add(f"load {label}: first hover right after loading", figures["first_hover_ms"], "ms",
                  target="<= 50" if big else None)
        bench.add(f"load {label}: first hover found the point (1 = yes)", figures["first_hover_found"], "")
        bench.add(f"load {label}: hover grid ready after", figures["index_ready_ms"], "ms")
        if plot is not None:
            plot.close()
            plot.deleteLater()
        scatter.close()
        scatter.deleteLater()
        app.processEvents()
        kept, peak = bytes_per_point(app, make_scatter, xy, labels, names)
        bench.add(f"memory {label}: bytes per point kept", kept, "B", target="<= 80" if big else None)
        bench.add(f"memory {label}: bytes per point at the peak of loading", peak, "B")
    return bench.finish()


if __name__ == "__main__":
    raise SystemExit(main())
