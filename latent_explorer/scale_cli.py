"""``latent-explorer encode --engine ray`` and ``latent-explorer embed``: the commands past one workstation.

Registers ``embed`` with `latent_explorer.cli` on import; ``encode`` hands over to `encode_on_ray` when
``--engine ray`` is given. Ray is imported only when a command needs it, so the rest of the command line works
without the ``[scale]`` extra.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from latent_explorer.cli import ENCODE_ENGINES, EXTRA_PARSERS, command, data_options, run_with_bar


def encode_on_ray(args: argparse.Namespace) -> int:
    """``encode --engine ray``: a Parquet dataset folder in the codes schema, written by a Ray actor pool."""
    from latent_explorer.scale.ray_encode import EncodeRequest, encode_with_ray, ray_session

    out = Path(args.out)
    if out.suffix.lower() in (".npz", ".npy", ".arrow", ".feather", ".parquet", ".pq"):
        from latent_explorer.scale.ray_encode import RayJobError

        raise RayJobError(f"--engine ray writes a Parquet dataset folder, not a '{out.suffix}' file", path=out,
                          hint="name a folder, e.g. --out codes/")
    request = EncodeRequest(model=args.model, data=args.data, out=out, data_options=data_options(args),
                            batch_size=args.batch_size, seed=args.seed, workers=args.workers,
                            call_size=args.call_size,
                            allow_code=args.allow_code)
    with ray_session():
        summary = run_with_bar(encode_with_ray(request))
    for file, reason in summary.skipped[:10]:
        print(f"warning: skipped {file}: {reason}", file=sys.stderr)
    if len(summary.skipped) > 10:
        print(f"warning: skipped {len(summary.skipped) - 10} more unreadable files", file=sys.stderr)
    print(f"wrote {out}/: {summary.rows} codes of dimension {summary.latent_dim} in {len(summary.parts)} parts "
          f"({summary.seconds:.1f} s on {len(summary.nodes)} node(s))", file=sys.stderr)
    return 0


ENCODE_ENGINES["ray"] = encode_on_ray


def add_embed_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("embed", help="a t-SNE or UMAP map of many codes: fit on a sample, place the rest",
                       description="Fit t-SNE (openTSNE) or UMAP on a stratified random sample of the codes and "
                                   "place every other code with the method's transform; the x, y columns are "
                                   "written back into the codes (atomically).")
    p.add_argument("codes", help="a codes file or a Parquet dataset folder (as written by encode)")
    p.add_argument("--method", choices=["tsne", "umap"], default="tsne")
    p.add_argument("--fit-sample", type=int, default=20000, help="codes to fit the map on (default 20,000)")
    p.add_argument("--engine", choices=["process", "ray"], default="process",
                   help="place the rest in this process, or in parallel Ray tasks")
    p.add_argument("--use", choices=["z", "mu"], default=None, help="embed z, or a VAE's mu (default: mu if present)")
    p.add_argument("--perplexity", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--iterations", type=int, default=500, help="t-SNE iterations after early exaggeration")
    p.add_argument("--chunk", type=int, default=10000, help="codes placed per task (default 10,000)")
    p.add_argument("--json", action="store_true", help="print a summary as JSON")


EXTRA_PARSERS.append(add_embed_parser)


@command("embed")
def cmd_embed(args: argparse.Namespace) -> int:
    from latent_explorer.scale.embed import EmbedRequest, iter_embed_codes

    request = EmbedRequest(codes=Path(args.codes), method=args.method, fit_sample=args.fit_sample,
                           engine=args.engine, use=args.use, perplexity=args.perplexity, seed=args.seed,
                           chunk=args.chunk, iterations=args.iterations)
    if args.engine == "ray":
        from latent_explorer.scale.ray_encode import ray_session

        with ray_session():
            summary = run_with_bar(iter_embed_codes(request))
    else:
        summary = run_with_bar(iter_embed_codes(request))
    if args.json:
        print(json.dumps(summary.to_json()))
    print(f"wrote x, y into {args.codes}: {summary.fitted} fitted, {summary.placed} placed "
          f"({summary.fit_seconds:.1f} s + {summary.place_seconds:.1f} s)", file=sys.stderr)
    return 0
