"""``latent-explorer report``: every analysis of one or two models on one dataset, as one HTML file.

Registers itself with `latent_explorer.cli` on import. The window's figures are rendered offscreen through
`latent_explorer.qt.headless.render_figure`, imported only when the command runs (``--no-window-figures``
leaves Qt out entirely); the structure and KMeans charts and every table come from core.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from latent_explorer.cli import EXTRA_PARSERS, add_data_options, command, data_options, load_data, run_with_bar


def add_report_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write one self-contained HTML report of every analysis for one or two models",
                       description="Encode the data with each model (seed 0, cached), run every analysis (radius, "
                                   "per-axis density, PCA spectrum, KMeans inertia, VAE posterior, reconstruction "
                                   "error, structure) and write one HTML file with the figures embedded, its tables "
                                   "as CSV in <out>-tables/ beside it, and the command and versions that made it.")
    p.add_argument("--model", action="append", required=True,
                   help="demo:NAME, a checkpoint folder or a model.toml; give it twice to compare two models")
    add_data_options(p)
    p.add_argument("--out", required=True, help="the report, e.g. report.html")
    p.add_argument("--k", type=int, default=20, help="neighbours for the local intrinsic dimension (default 20)")
    p.add_argument("--space", default="z", help="codes for the structure analysis: z, mu (VAE) or pca:K")
    p.add_argument("--prior-samples", type=int, default=2000, help="samples of each prior scored (default 2000)")
    p.add_argument("--uniform-scale", type=float, default=2.0, help="a of the uniform prior U[-a, a] (default 2)")
    p.add_argument("--kmeans-k", default="2:40:4", help="KMeans sweep FIRST:LAST:STEP (default 2:40:4)")
    p.add_argument("--kmeans-seeds", type=int, default=2, help="KMeans seeds per k (default 2)")
    p.add_argument("--no-window-figures", action="store_true",
                   help="leave out the window's figures (no Qt needed); tables and charts stay")
    p.add_argument("--size", default="800x520", help="WxH of the window's figures in pixels (default 800x520)")
    p.add_argument("--device", default="cpu", help="cpu (default, reproducible), cuda or mps")
    p.add_argument("--allow-pickle", action="store_true", help="allow loading a whole pickled model (runs code)")


EXTRA_PARSERS.append(add_report_parser)


@command("report")
def cmd_report(args: argparse.Namespace) -> int:
    from latent_explorer.core.analysis import StructureSettings
    from latent_explorer.core.analysis.kmeans import k_values
    from latent_explorer.core.model_report import ReportModel, ReportSettings, iter_report
    from latent_explorer.core.models import load_model
    from latent_explorer.core.report import ReportError, command_line

    if len(args.model) > 2:
        raise ReportError(f"a report compares one or two models, not {len(args.model)}",
                          hint="give --model once or twice")
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ReportError("a report is an HTML file", path=out, hint="name it e.g. report.html")
    if not out.parent.is_dir():
        raise ReportError("the folder does not exist", path=out.parent, hint="create it first")
    settings = ReportSettings(
        structure=StructureSettings(k=args.k, prior_samples=args.prior_samples, uniform_scale=args.uniform_scale),
        space=args.space, kmeans_ks=tuple(_k_range(args.kmeans_k, k_values)),
        kmeans_seeds=tuple(range(max(1, args.kmeans_seeds))))
    size = _size(args.size)
    dataset = load_data(args)
    started = time.perf_counter()
    models, figures = [], {}
    for tag, spec in zip("AB", args.model, strict=False):
        model = load_model(spec, device=args.device, allow_pickle=args.allow_pickle,
                           check_samples=dataset.float_images(slice(0, 2)))
        models.append(ReportModel(spec, model))
        if not args.no_window_figures:
            print(f"{tag}: {spec}: the window's figures", file=sys.stderr)
            figures[tag] = window_figures(args, spec, size=size)
    written = run_with_bar(iter_report(models, dataset, settings, out, command_line(), args.data, figures))
    print(f"wrote {out} and {len(written) - 1} tables in {out.stem}-tables/ "
          f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return 0


def window_figures(args: argparse.Namespace, spec: str, size: tuple[int, int]) -> dict[str, bytes]:
    """The window's scatter and panels for one model, rendered offscreen to PNG bytes by figure name."""
    from latent_explorer.core.model_report import WINDOW_FIGURES
    from latent_explorer.qt.headless import FigureRequest, render_figure

    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="latent-explorer-report-") as folder:
        for name, _caption in WINDOW_FIGURES:
            path = Path(folder) / f"{name}.png"
            print(f"  figure: {name}", file=sys.stderr)
            request = FigureRequest(out=path, model=spec, data=args.data, data_options=data_options(args),
                                    view="pca:1,2", default_color="label", panel=None if name == "scatter" else name,
                                    size=size, device=args.device, allow_pickle=args.allow_pickle)
            render_figure(request, warn=lambda text: print(f"warning: {text}", file=sys.stderr))
            out[name] = path.read_bytes()
    return out


def _k_range(text: str, k_values) -> list[int]:
    from latent_explorer.core.report import ReportError

    parts = text.split(":")
    try:
        first, last, step = (int(v) for v in (parts + ["1"])[:3]) if len(parts) in (2, 3) else (0, 0, 0)
    except ValueError as exc:
        raise ReportError(f"cannot read the KMeans range '{text}'", hint="give FIRST:LAST:STEP, e.g. 2:40:4") from exc
    if len(parts) not in (2, 3):
        raise ReportError(f"cannot read the KMeans range '{text}'", hint="give FIRST:LAST:STEP, e.g. 2:40:4")
    return k_values(first, last, step)


def _size(text: str) -> tuple[int, int]:
    from latent_explorer.core.report import ReportError

    w, _, h = text.lower().partition("x")
    try:
        size = int(w), int(h)
    except ValueError as exc:
        raise ReportError(f"cannot read the size '{text}'", hint="give WxH, e.g. --size 800x520") from exc
    if min(size) < 200 or max(size) > 4000:
        raise ReportError(f"the size {text} is out of range", hint="each side between 200 and 4000 pixels")
    return size
