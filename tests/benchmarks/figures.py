"""Figures and sessions at Fashion-MNIST size (70,000 points): export cost against drawing the screen, and the
cost of saving and reopening a session and of exporting the codes.

- PNG export of the scatter at 1× versus ``widget.grab()`` of the same rectangle (what the screen costs);
  target: ≤ 2× the grab. At 4× (print) the time is reported against the same grab.
- Session save (view, selection, 70,000-point t-SNE map) and read; target: ≤ 500 ms each.
- CSV of z, μ, log σ² (32-d) for every point versus ``np.savetxt`` of the same numbers; target: ≤ 1.5×.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from _common import Bench, median, timed
from latent_explorer.core.encoding import Codes
from latent_explorer.core.export import codes_table, write_table
from latent_explorer.core.session import Session, SourceRef, read_session, write_session


def main() -> int:
    bench = Bench("figures and sessions: exports of 70,000 points")
    args = bench.parse()
    n = 10_000 if args.quick else 70_000
    d = 32
    repeat = 3 if args.quick else 5
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, n)
    xy = rng.normal(size=(n, 2)) + labels[:, None] * 0.5
    bench.header()

    from latent_explorer.qt.app import make_application
    from latent_explorer.qt.figure_export import render_image, scatter_figure
    from latent_explorer.qt.scatter import LatentScatter

    app = make_application()
    scatter = LatentScatter()
    scatter.resize(1000, 800)
    scatter.show()
    scatter.set_points(xy)
    scatter.set_categorical(labels, [f"class {k}" for k in range(10)])
    scatter.set_axis_labels("PC1", "PC2")
    for _ in range(20):
        app.processEvents()
    fig = scatter_figure(scatter)
    rect = fig.rect()

    def grab() -> None:
        scatter.cloud.invalidate()  # the screen redraws the cloud after a change of view
        scatter.grab(rect)

    def export(scale: float):
        def run() -> None:
            scatter.cloud.invalidate()
            render_image(fig, scale)
        return run

    grab_ms = median(timed(grab, repeat))
    bench.add(f"scatter PNG 1× ({n:,} points, {rect.width()}×{rect.height()})", median(timed(export(1), repeat)),
              "ms", baseline=grab_ms, target="<= 2 (ratio)")
    bench.add("scatter PNG 4× (print)", median(timed(export(4), repeat)), "ms", baseline=grab_ms)
    scatter.close()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.lxs"
        session = Session(dataset=SourceRef("fashion-mnist", "0" * 32, "fashion-mnist"),
                          model=SourceRef("demo:fashion-conv-vae", "1" * 32, "fashion-conv-vae"))
        session.add_part("view", {"view": {"kind": "tsne", "i": 0, "j": 1, "key": "t"}, "color_by": "label"})
        session.add_part("selection", {}, {"indices": np.sort(rng.choice(n, n // 10, replace=False))})
        session.add_part("layouts", {"layouts": [{"array": "layout0", "key": "t"}]},
                         {"layout0": rng.normal(size=(n, 2)).astype(np.float32)})
        bench.add("session save (t-SNE map, selection)", median(timed(lambda: write_session(path, session), repeat)),
                  "ms", target="<= 500")
        bench.add("session read", median(timed(lambda: read_session(path), repeat)), "ms", target="<= 500")
        bench.add("session file size", path.stat().st_size / 1e6, "MB")

        codes = Codes(z=rng.normal(size=(n, d)).astype(np.float32), mu=rng.normal(size=(n, d)).astype(np.float32),
                      logvar=rng.normal(size=(n, d)).astype(np.float32), labels=labels,
                      recon_error=rng.random(n).astype(np.float32))
        table = codes_table(codes)
        block = np.column_stack([table["index"], table["label"], table["z"], table["mu"], table["logvar"],
                                 table["recon_error"]])
        fmt = ["%d", "%d"] + ["%.8g"] * (3 * d + 1)
        csv = Path(folder) / "codes.csv"
        baseline = median(timed(lambda: np.savetxt(Path(folder) / "plain.csv", block, fmt=fmt, delimiter=","), 1,
                                warmup=0))
        bench.add("codes CSV (z, μ, log σ², all points)", median(timed(lambda: write_table(csv, table), 1, warmup=0)),
                  "ms", baseline=baseline, target="<= 1.5 (ratio)")
        npz = Path(folder) / "codes.npz"
        bench.add("codes .npz (same table)", median(timed(lambda: write_table(npz, table), repeat)), "ms")
    return bench.finish()


if __name__ == "__main__":
    raise SystemExit(main())
