"""``latent-explorer export``: codes (or a selection of them) for Embedding Projector, Embedding Atlas or as codes.

Registers itself with `latent_explorer.cli` on import. The codes come from a codes file (``--codes``) or are
encoded from ``--model`` and ``--data`` (cached); ``--data`` beside ``--codes`` supplies the thumbnails.
"""

from __future__ import annotations

import argparse
import sys

from latent_explorer.cli import EXTRA_PARSERS, add_data_options, command, load_data, run_with_bar
from latent_explorer.core.exchange import FORMATS, ExchangeError


def add_export_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export codes for Embedding Projector, Embedding Atlas, or as a codes file",
                       description="Write the codes (or a selection) in a form another tool opens: 'projector' "
                                   "(a folder: tensors.tsv, metadata.tsv, sprite.png, projector_config.json), "
                                   "'atlas' (one .parquet for Embedding Atlas and latent-scope) or 'codes' "
                                   "(.parquet/.arrow/.npz in the codes schema).")
    p.add_argument("--to", required=True, choices=FORMATS, help="the target tool or format")
    p.add_argument("--out", required=True, help="projector: a folder; atlas: a .parquet; codes: a codes file")
    p.add_argument("--codes", help="a codes file (.parquet, .arrow/.feather, .npz, .npy) or a folder of parts")
    p.add_argument("--model", help="with --data: encode these (cached) instead of reading --codes")
    add_data_options(p, required=False)
    p.add_argument("--selection", help="export only these rows: .npy of indices, the window's selection .csv, "
                                       "or one index per line")
    p.add_argument("--layout", help="the map's x/y: a layout name of the codes file, or an (N, 2) .npy/.npz/.csv")
    p.add_argument("--neighbors", type=int, default=0, help="atlas: add the K exact latent neighbours of each row")
    p.add_argument("--no-images", action="store_true", help="leave out thumbnails (sprite, image column)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--allow-pickle", action="store_true", help="allow loading a whole pickled model (runs code)")


EXTRA_PARSERS.append(add_export_parser)


def _load(args: argparse.Namespace):
    """The codes as a `CodesFile`, and the dataset when one was named (for thumbnails)."""
    from latent_explorer.core.codes_file import CodesFile, read_codes

    if args.codes and args.model:
        raise ExchangeError("give either --codes or --model with --data, not both")
    dataset = load_data(args) if args.data else None
    if args.codes:
        fields = None if args.to == "codes" or not args.no_images else \
            ("id", "label", "attributes", "z", "mu", "logvar", "recon_error", "layouts")
        return read_codes(args.codes, fields=fields), dataset  # ids are checked against the dataset's size
    if not (args.model and dataset is not None):
        raise ExchangeError("name the codes: --codes FILE, or --model and --data to encode them",
                            hint="latent-explorer export --to atlas --codes codes.parquet --out atlas.parquet")
    from latent_explorer.core.encoding import iter_encode_cached
    from latent_explorer.core.models import load_model

    model = load_model(args.model, device=args.device, allow_pickle=args.allow_pickle,
                       check_samples=dataset.float_images(slice(0, 2)))
    codes = run_with_bar(iter_encode_cached(model, dataset))
    attrs = (dict(zip(dataset.attribute_names, dataset.attributes.T, strict=True))
             if dataset.attributes is not None and dataset.attribute_names else {})
    import numpy as np

    return CodesFile(codes=codes, ids=np.arange(len(codes), dtype=np.int64), class_names=dataset.class_names,
                     attributes=attrs, has_recon_error=True, source=str(dataset.source)), dataset


@command("export")
def cmd_export(args: argparse.Namespace) -> int:
    from latent_explorer.core import exchange

    if args.neighbors < 0:
        raise ExchangeError(f"--neighbors must be 0 or more, got {args.neighbors}")
    if args.to == "codes":
        from latent_explorer.core.codes_file import check_codes_suffix

        check_codes_suffix(args.out)
    contents, dataset = _load(args)
    indices = exchange.read_selection(args.selection, len(contents)) if args.selection else None
    if args.to == "codes":
        out = exchange.write_codes_selection(args.out, contents, indices)
        print(f"wrote {out}: {len(contents) if indices is None else len(indices)} codes", file=sys.stderr)
        return 0
    layout_name = None
    if args.layout and args.layout in contents.layouts:
        layout_name = args.layout
    items = exchange.items_from_codes_file(contents, layout=layout_name, dataset=dataset)
    if args.layout and layout_name is None:
        from latent_explorer.core.projections import load_coordinates

        items.layout = load_coordinates(args.layout, len(contents)).astype("float32")
    if args.no_images:
        items.thumbnail = None
    if indices is not None:
        items = items.subset(indices)
    if args.to == "projector":
        written = run_with_bar(exchange.iter_write_projector(args.out, items))
        print(f"wrote {', '.join(p.name for p in written)} in {args.out}; open projector.tensorflow.org ▸ Load, "
              f"or point TensorBoard at the folder", file=sys.stderr)
    else:
        out = run_with_bar(exchange.iter_write_atlas(args.out, items, images=not args.no_images,
                                                     neighbors=args.neighbors))
        print(f"wrote {out}: {len(items)} rows; open it with:\n  "
              f"{exchange.atlas_command(out, items, not args.no_images, args.neighbors)}", file=sys.stderr)
    return 0
