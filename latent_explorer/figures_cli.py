"""``latent-explorer figure``: the window's figures, rendered without a display.

Registers itself with `latent_explorer.cli` on import. Qt is imported only when the command runs, so the rest
of the command line keeps working on machines without Qt's libraries.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from latent_explorer.cli import EXTRA_PARSERS, add_code_consent, add_data_options, command, data_inputs, data_options
from latent_explorer.cli_args import check_input_files, check_output, device, integer, number, widget_size


def add_figure_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("figure", help="render a figure (scatter or panel) to PNG, SVG or PDF without a display",
                       description="Render the scatter of a view, or an analysis panel, exactly as the window "
                                   "draws it. The format follows the extension of --out.")
    p.add_argument("--model", help="demo:NAME, a checkpoint folder or a model.toml (default: the demo for the data)")
    add_data_options(p, required=False)
    p.add_argument("--codes", help="a codes file (.npz/.npy/.parquet/.arrow) or Parquet dataset folder, drawn "
                                   "without a model (scatter, PCA, t-SNE and the analyses of the codes)")
    p.add_argument("--session", help="a saved session (.lxs) to render; --model/--data give new locations")
    p.add_argument("--view", help="pca:I,J (components from 1), raw:I,J (latent axes from 0) or tsne "
                                  "(default: the session's view, else pca:1,2)")
    p.add_argument("--color", help="label, z_norm, recon_error, mean_logvar, cluster, attr:NAME or none")
    p.add_argument("--zoom", help="X0,X1,Y0,Y1: the data rectangle to show (default: the whole cloud)")
    p.add_argument("--panel", help="render this panel instead of the scatter: axes, kmeans, pca, radius, recon, vae "
                                   "(its computation runs first, the KMeans sweep too)")
    p.add_argument("--perplexity", type=number(0.0, 1e4, above=True, what="a perplexity"), default=30.0,
                   help="t-SNE perplexity (--view tsne)")
    p.add_argument("--pca-k", type=integer(1, 100_000, "a number of components"),
                   help="t-SNE on the first K principal components (default: on the codes)")
    p.add_argument("--tsne-iter", type=integer(1, 1_000_000, "a number of iterations"), default=500,
                   help="t-SNE iterations after early exaggeration")
    p.add_argument("--tsne-early-iter", type=integer(0, 1_000_000, "a number of iterations"), default=250,
                   help="t-SNE early exaggeration iterations")
    p.add_argument("--seed", type=integer(0, 2**32 - 1, "a seed"), default=0, help="t-SNE seed")
    p.add_argument("--mu", action="store_true", help="plot a VAE's mu instead of sampled z")
    p.add_argument("--title", help="a title above the plot (above a panel's plots, which keep their own)")
    p.add_argument("--size", type=widget_size, default="1000x700",
                   help="WxH of the figure in screen pixels (default 1000x700)")
    p.add_argument("--dpi", type=number(1.0, 10_000.0, what="a resolution in dots per inch"),
                   help="resolution written into the PNG (e.g. 300: printed at width/300 inches; default: "
                        "96 × scale, the on-screen size)")
    p.add_argument("--data-out", help="write the numbers behind the figure: a panel's tables, or the scatter's "
                                      "coordinates and labels; .csv (one file per table, beside the first) or "
                                      ".json (all in one)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--scale", type=number(0.0, 16.0, above=True, what="a scale"),
                      help="pixels per screen pixel: 2 or 4 for print (PNG; vector formats: resolution of the "
                           "point cloud)")
    size.add_argument("--width", type=integer(16, 32_000, "a width in pixels"),
                      help="width of the PNG in pixels (the height follows)")
    p.add_argument("--point-size", type=number(0.0, 200.0, above=True, what="a dot size"),
                   help="dot size in screen pixels")
    p.add_argument("--device", type=device, default="cpu", help="cpu (default, reproducible), cuda or mps")
    add_code_consent(p)
    p.add_argument("--out", help="output file: .png, .svg or .pdf (optional with --filmstrip)")
    p.add_argument("--path", help="a path saved as JSON (Paths panel ▸ Save…), for --filmstrip")
    p.add_argument("--filmstrip", help="write the path's decoded filmstrip: .png (path, linear, spherical and "
                                       "pixel-fade rows), .gif (animation) or .npz (codes and scores)")
    p.add_argument("--strip-columns", type=integer(0, 10_000, "a number of frames"), default=16,
                   help="frames per line of a .png filmstrip: a longer path wraps into blocks (default 16; 0: one "
                        "line)")
    p.add_argument("--layout", help="a path drawn on a t-SNE or user map: that map's coordinates (.npy/.npz/.csv, "
                                    "as exported from the window)")
    # let "--zoom -2,2,-1,1" through: argparse takes only plain negative numbers for values, not lists of them
    p._negative_number_matcher = re.compile(r"^-\d[\d.eE+-]*(,[-+]?[\d.eE+-]+)*$")


EXTRA_PARSERS.append(add_figure_parser)


def figure_inputs(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """Every file the figure command reads, by option: no output may be one of them."""
    return [*data_inputs(args),
            *((f"--{k}", getattr(args, k)) for k in ("model", "session", "path", "layout", "codes"))]


def refuse_session_code(args: argparse.Namespace) -> None:
    """A session whose model runs code loads it only with --allow-code: say which file, before anything runs."""
    from latent_explorer.core.consent import current_policy
    from latent_explorer.core.session import read_session, session_code_artifact

    artifact = session_code_artifact(read_session(args.session), args.model)
    if artifact is not None:
        current_policy().require(artifact, explicit=args.allow_code)


@command("figure")
def cmd_figure(args: argparse.Namespace) -> int:
    from latent_explorer.qt.headless import FigureRequest, parse_view, parse_zoom, render_figure

    if args.codes is not None:
        check_codes_figure(args)
    elif args.session is None and args.data is None:
        from latent_explorer.qt.headless import FigureError

        raise FigureError("name the data (--data), a codes file (--codes) or a saved session (--session)")
    if bool(args.path) != bool(args.filmstrip):
        from latent_explorer.qt.headless import FigureError

        raise FigureError("--path and --filmstrip go together", hint="--path path.json --filmstrip strip.png")
    check_input_files(args, ("--labels", "--attributes", "--session", "--path", "--layout"))
    for option in ("out", "filmstrip", "data_out"):
        if getattr(args, option):
            check_output(getattr(args, option), figure_inputs(args), option=f"--{option.replace('_', '-')}")
    if args.session is not None:
        refuse_session_code(args)
    if args.filmstrip:
        write_filmstrip(args)
        if not args.out:
            return 0
    elif not args.out:
        from latent_explorer.qt.headless import FigureError

        raise FigureError("name the output file (--out fig.png)")
    if args.view is not None:
        parse_view(args.view)  # a typo fails before anything is loaded
    view = args.view if args.view is not None or args.session is not None else "pca:1,2"
    request = FigureRequest(
        out=Path(args.out), model=args.model, data=args.data, data_options=data_options(args),
        session=Path(args.session) if args.session else None, view=view,
        color=args.color, default_color="label" if args.session is None and args.panel is None else None,
        zoom=parse_zoom(args.zoom) if args.zoom else None, panel=args.panel, perplexity=args.perplexity,
        pca_k=args.pca_k, tsne_iterations=args.tsne_iter, tsne_early_iterations=args.tsne_early_iter,
        seed=args.seed, use_mu=True if args.mu else None, title=args.title, size=tuple(args.size), dpi=args.dpi,
        data_out=Path(args.data_out) if args.data_out else None,
        scale=args.scale, width=args.width, point_size=args.point_size, device=args.device,
        allow_pickle=args.allow_code, codes=Path(args.codes) if args.codes else None)
    out = render_figure(request, warn=lambda text: print(f"warning: {text}", file=sys.stderr))
    print(f"wrote {out}", file=sys.stderr)
    return 0


MODEL_PANELS = ("decoder", "paths", "interpolation", "recon")  # panels that decode: they need a model


def check_codes_figure(args: argparse.Namespace) -> None:
    """``--codes``: the codes are the data, and nothing that decodes can be drawn from them (exit 2, one line)."""
    from latent_explorer.core.errors import LatentExplorerError

    given = [f"--{k}" for k in ("data", "session", "model") if getattr(args, k, None)]
    if given:
        raise LatentExplorerError(f"--codes is drawn without a model or dataset; {', '.join(given)} cannot go "
                                  "with it", hint="drop " + ", ".join(given) + ", or draw from --data and --model")
    if args.filmstrip or args.path:
        raise LatentExplorerError("a filmstrip decodes a path, which needs a model: --codes has none",
                                  hint="draw the filmstrip from --data and --model")
    panel = (args.panel or "").lower()
    needs = next((name for name in MODEL_PANELS if panel and (panel in name or name in panel)), None)
    if needs is not None:
        raise LatentExplorerError(f"the panel '{args.panel}' decodes codes, which needs a model; --codes has none",
                                  path=args.codes, hint="draw it from --data and --model, or choose a panel of "
                                                        "the codes: radius, axes, pca, kmeans, vae")


def write_filmstrip(args: argparse.Namespace) -> None:
    """The path's filmstrip without any window: load, encode (cached), lift, decode, write."""
    from latent_explorer.cli import load_data
    from latent_explorer.core.encoding import iter_encode_cached
    from latent_explorer.core.interpolation import LatentPath, render_filmstrip
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models import default_demo_for, load_model
    from latent_explorer.core.projections import load_coordinates

    if args.data is None:
        from latent_explorer.qt.headless import FigureError

        raise FigureError("--filmstrip needs the data (--data) the path was drawn on")
    path = LatentPath.load(args.path)
    dataset = load_data(args)
    model = load_model(args.model or f"demo:{default_demo_for(dataset.name)}", device=args.device,
                       allow_code=args.allow_code, check_samples=dataset.float_images(slice(0, 2)))
    codes = run_job(iter_encode_cached(model, dataset))
    layout = load_coordinates(args.layout, len(codes)) if args.layout else None
    render_filmstrip(model, codes, dataset, path, args.filmstrip, layout_coords=layout,
                     columns=args.strip_columns or None)
    print(f"wrote {args.filmstrip}", file=sys.stderr)
