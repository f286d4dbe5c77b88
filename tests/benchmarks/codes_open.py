"""Opening a big Parquet codes dataset folder: the time and memory it takes, and whether the window stays usable.

A synthetic folder (``--rows``, default 10,000,000; ``--quick``: 1,000,000) of 20 part files in the codes schema:
``id``, ``label`` (10 classes), ``z`` (16 floats), ``x``, ``y``, with a ``_SUCCESS`` manifest. Each figure is
measured in a fresh child process (so that peak memory is its own, read from VmHWM):

* **open (first)**: `iter_open_codes` as the window runs it: draw columns into memory, the codes streamed into
  memory-mapped files of the cache. Baseline: `read_codes` of every column into memory.
* **open (again)**: the same, with the codes found in the cache.
* **window**: the offscreen window opens the folder through File ▸ Open Codes; the longest stall of its event loop
  (a 10 ms timer's largest gap) until the codes are on screen and the PCA is fitted, and the time until then.
  (Drawing 10 million points is the scatter's own budget, measured by ``scatter.py``.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import Bench

PARTS, DIM, CLASSES = 20, 16, 10


def write_folder(folder: Path, rows: int) -> None:
    from latent_explorer.core.codes_file import codes_schema, codes_table, write_codes_table
    from latent_explorer.core.parquet_dataset import begin_dataset, finish_dataset

    schema = codes_schema(DIM, labels="int", recon_error=False, layouts=("xy",))
    begin_dataset(folder, {})
    rng = np.random.default_rng(0)
    names, per = [], -(-rows // PARTS)
    for k in range(PARTS):
        lo, hi = k * per, min(rows, (k + 1) * per)
        labels = rng.integers(0, CLASSES, hi - lo)
        z = (rng.normal(size=(hi - lo, DIM)) + labels[:, None]).astype(np.float32)
        table = codes_table({"id": np.arange(lo, hi), "label": labels, "z": z, "x": z[:, 0], "y": z[:, 1]},
                            schema=schema)
        names.append(f"part-{k:05d}.parquet")
        write_codes_table(folder / names[-1], table)
    finish_dataset(folder, names, rows, {})


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(mode: str, folder: str) -> dict:
    from latent_explorer.core.codes_file import read_codes
    from latent_explorer.core.codes_source import iter_open_codes
    from latent_explorer.core.jobs import run_job

    before = peak_mb()
    if mode == "window":
        return window_child(folder)
    wall, cpu = time.perf_counter(), time.process_time()
    if mode == "baseline":
        contents = read_codes(folder)
        n = len(contents)
    else:
        opened = run_job(iter_open_codes(folder))
        n = len(opened.codes)
        float(opened.codes.z[::100_000].sum())  # touch a few pages, as a first view would
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "rows": n,
            "peak_mb": peak_mb(), "start_mb": before}


def window_child(folder: str) -> dict:
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer

    from latent_explorer.qt.app import make_application
    from latent_explorer.qt.main_window import MainWindow

    app = make_application()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    app._garbage_collector.settle()  # as the app does once its window is built (`qt.app.run_app`)
    window.resize(1400, 900)
    window.show()
    for _ in range(20):
        app.processEvents()
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    wall, cpu = time.perf_counter(), time.process_time()
    window.sources.open_codes(folder)
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        app.processEvents()
        if window.state.codes is not None and window.pca is not None and not window.runner.is_running():
            break
        time.sleep(0.002)
    shown = time.perf_counter() - wall
    cpu_s = time.process_time() - cpu
    timer.stop()
    result = {"wall_s": shown, "cpu_s": cpu_s, "max_gap_ms": max(gaps) if gaps else float("nan"),
              "p99_gap_ms": float(np.percentile(gaps, 99)) if gaps else float("nan"),
              "points": window.scatter.n_points, "peak_mb": peak_mb(), "error": str(window.last_error or "")}
    window.close()
    return result


def run_child(mode: str, folder: Path, cache: Path) -> dict:
    env = {**os.environ, "LATENT_EXPLORER_CACHE": str(cache), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, __file__, "--child", mode, str(folder)], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3])))
        return 0
    bench = Bench("Opening a big Parquet codes folder")
    bench.parser.add_argument("--rows", type=int, help="rows of the synthetic folder (default 10,000,000)")
    bench.parser.add_argument("--folder", help="reuse (or create) the synthetic folder here")
    args = bench.parse()
    rows = args.rows or (1_000_000 if args.quick else 10_000_000)
    with tempfile.TemporaryDirectory(prefix="lx-codes-bench-") as scratch:
        folder = Path(args.folder) if args.folder else Path(scratch) / "codes"
        if not (folder / "_SUCCESS").exists():
            t0 = time.perf_counter()
            write_folder(folder, rows)
            print(f"wrote {rows:,} rows × {DIM} in {PARTS} parts in {time.perf_counter() - t0:.1f} s", flush=True)
        cache = Path(scratch) / "cache"
        bench.header()
        base = run_child("baseline", folder, cache)
        first = run_child("open", folder, cache)
        again = run_child("open", folder, cache)
        bench.add("read every column into memory: CPU", base["cpu_s"], "s")
        bench.add("read every column into memory: peak", base["peak_mb"], "MB")
        bench.add("open, codes spooled to the cache: CPU", first["cpu_s"], "s", baseline=base["cpu_s"])
        bench.add("open, codes spooled: peak", first["peak_mb"], "MB", baseline=base["peak_mb"],
                  target="<= 1.0 (ratio)")
        bench.add("open again, codes memory-mapped: CPU", again["cpu_s"], "s", baseline=base["cpu_s"],
                  target="<= 1.0 (ratio)")
        bench.add("open again, codes memory-mapped: wall", again["wall_s"], "s")
        bench.add("open again, codes memory-mapped: peak", again["peak_mb"], "MB", baseline=base["peak_mb"],
                  target="<= 1.0 (ratio)")
        window = run_child("window", folder, cache)
        if window["error"]:
            print(f"window error: {window['error']}")
        bench.add("window: open to drawn + PCA fitted (wall)", window["wall_s"], "s")
        bench.add("window: open to drawn + PCA fitted (CPU, all threads)", window["cpu_s"], "s")
        bench.add("window: longest event-loop stall", window["max_gap_ms"], "ms")
        bench.add("window: 99th percentile event-loop gap", window["p99_gap_ms"], "ms", target="<= 100")
        bench.add("window: points on the scatter", window["points"], "")
    return bench.finish()


if __name__ == "__main__":
    raise SystemExit(main())
