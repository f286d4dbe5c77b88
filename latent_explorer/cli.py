"""Command line: ``latent-explorer [gui] | train | encode | info``, built on core/ alone (GUI imported lazily)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence

from latent_explorer import __version__
from latent_explorer.cli_args import check_input_files, check_output, device, image_shape, integer, number
from latent_explorer.core.errors import CancelledError, LatentExplorerError
from latent_explorer.core.jobs import Job, Progress, T, run_job
from latent_explorer.core.limits import MAX_LATENT_DIM

SUBCOMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


class ProgressBar:
    """A one-line progress bar on stderr; a plain log line per stage when stderr is not a terminal."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self.last_stage = ""
        self.last_print = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if p.stage == "epoch done" or (p.message and p.stage != self.last_stage and not self.tty):
            self._clear()
            print(p.message or p.stage, file=self.stream, flush=True)
        if self.tty and (now - self.last_print > 0.1 or p.done == p.total):
            frac = p.fraction
            bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac)) if frac is not None else "..."
            count = f"{p.done}/{p.total}" if p.total else ""
            self.stream.write(f"\r{p.stage:<16} [{bar}] {count} {p.message}"[:110].ljust(110))
            self.stream.flush()
            self.last_print = now
        self.last_stage = p.stage

    def _clear(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 110 + "\r")

    def close(self) -> None:
        if self.tty:
            self._clear()
            self.stream.flush()


def run_with_bar(job: Job[T]) -> T:
    bar = ProgressBar()
    try:
        return run_job(job, bar)
    finally:
        bar.close()


def command(name: str):
    def register(fn: Callable[[argparse.Namespace], int]):
        SUBCOMMANDS[name] = fn
        return fn
    return register


def add_data_options(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--data", required=required,
                   help="'digits', 'fashion-mnist[-train|-test]', an IDX/.npz/.npy file or an image folder")
    p.add_argument("--x-key", help=".npz: name of the image array")
    p.add_argument("--y-key", help=".npz: name of the label array")
    p.add_argument("--labels", help=".npy/IDX: labels file")
    p.add_argument("--shape", type=image_shape, help="image folders: HxW to resize to, e.g. 64x64")
    p.add_argument("--mode", choices=["auto", "L", "RGB"], default="auto", help="image folders: grey or colour")
    p.add_argument("--attributes", help="image folders: CelebA list_attr_celeba.txt")
    p.add_argument("--limit", type=integer(1, what="a number of images"),
                   help="image folders: load at most this many images (at least 1)")


def add_code_consent(p: argparse.ArgumentParser) -> None:
    """``--allow-code``: the only way a model that runs code (Python, TorchScript, .pt2, pickle) loads here."""
    p.add_argument("--allow-code", "--trust", "--allow-pickle", dest="allow_code", action="store_true",
                   help="allow loading a model that runs code when loaded (a Python source, TorchScript, a .pt2 "
                        "program or a pickle): only for files you trust")


def data_options(args: argparse.Namespace) -> dict:
    opts = {k: getattr(args, k) for k in ("x_key", "y_key", "labels", "mode", "attributes", "limit")
            if getattr(args, k, None) is not None}
    if getattr(args, "shape", None):
        opts["shape"] = tuple(args.shape)
    return opts


def data_inputs(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """Every file or folder the data options read, by option: an output must be none of them."""
    return [(f"--{k}", getattr(args, k, None)) for k in ("data", "labels", "attributes")]


def load_data(args: argparse.Namespace):
    from latent_explorer.core.loaders import iter_load_dataset  # a plugin's loader when one claims the spec

    check_input_files(args, ("--labels", "--attributes"))
    dataset = run_with_bar(iter_load_dataset(args.data, **data_options(args)))
    for file, reason in dataset.skipped[:10]:
        print(f"warning: skipped {file}: {reason}", file=sys.stderr)
    if len(dataset.skipped) > 10:
        print(f"warning: skipped {len(dataset.skipped) - 10} more unreadable files", file=sys.stderr)
    return dataset


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="latent-explorer", description="Look inside the latent space of "
                                     "autoencoders and VAEs. With no command, opens the window on the demo.")
    parser.add_argument("--version", action="version", version=f"latent-explorer {__version__}")
    sub = parser.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="open the window (the default)")
    gui.add_argument("--model", help="demo:NAME, a checkpoint folder or a model.toml")
    add_data_options(gui, required=False)
    gui.add_argument("--device", type=device, default="auto", help="auto, cpu, cuda or mps")
    gui.add_argument("--session", help="a saved session file to open")
    gui.add_argument("--layout", choices=("explore", "decode", "analyse"),
                     help="start in this arrangement of the panels (View ▸ Layout); default: the one saved")
    gui.add_argument("--codes", help="a codes file (.npz/.npy/.parquet/.arrow/.feather) or Parquet dataset folder "
                                     "to open without a model (--model then attaches one to decode them)")
    gui.add_argument("--compare", metavar="MODEL", help="open the comparison window on this second model "
                     "(demo:NAME, a checkpoint folder or a model.toml)")
    add_code_consent(gui)

    train = sub.add_parser("train", help="train a built-in AE/VAE on a dataset")
    add_data_options(train)
    train.add_argument("--arch", default="conv-vae", choices=["conv-ae", "conv-vae", "mlp-ae"])
    train.add_argument("--z-dim", type=integer(1, MAX_LATENT_DIM, "a latent dimension"), default=32)
    train.add_argument("--beta", type=number(0.0, 1e6, what="a KL weight"), default=1.0,
                       help="KL weight of a VAE (may be as small as 1e-5)")
    train.add_argument("--epochs", type=integer(1, 1_000_000, "a number of epochs"), default=10,
                       help="total epochs (a resumed run continues to this)")
    train.add_argument("--batch-size", type=integer(1, 1 << 20, "a batch size"), default=128)
    train.add_argument("--lr", type=number(0.0, 10.0, above=True, what="a learning rate"), default=1e-3)
    train.add_argument("--seed", type=integer(0, 2**63 - 1, "a seed"), default=0)
    train.add_argument("--device", type=device, default="cpu")
    train.add_argument("--resume", action="store_true", help="continue the checkpoint in --out")
    train.add_argument("--out", required=True, help="checkpoint folder to write")

    enc = sub.add_parser("encode", help="encode a dataset and write z, mu, logvar, labels, recon_error",
                         description="Encode a dataset and write z, labels and recon_error (a VAE also mu and "
                                     "logvar) to a codes file. A VAE's z is a sample, mu + eps * exp(logvar / 2) with "
                                     "eps ~ N(0, I) clipped at 5, drawn for each sample from the seed and the "
                                     "sample's index alone: the same seed gives the same z whatever the batch "
                                     "size, device or cache. recon_error is the mean squared error per pixel of "
                                     "decode(mu) (an autoencoder: decode(z)) against the image in [0, 1].")
    enc.add_argument("--model", required=True)
    add_data_options(enc)
    enc.add_argument("--out", required=True, help="output .parquet, .arrow/.feather or .npz (the codes schema), "
                                                  "or .npy (z alone)")
    enc.add_argument("--batch-size", type=integer(1, 1 << 20, "a batch size"), default=512)
    enc.add_argument("--seed", type=integer(0, 2**63 - 1, "a seed"), default=0,
                     help="seed of a VAE's z sampling (recorded in the output and part of the cache key; default 0)")
    enc.add_argument("--device", type=device, default="auto")
    enc.add_argument("--no-cache", action="store_true")
    enc.add_argument("--call-size", type=integer(1, 1 << 16, "a number of samples"),
                     help="samples per model call (default: 512 images of 28x28 on the CPU, fewer for larger ones); "
                          "both engines give bit-identical codes for the same call size and torch thread count")
    add_code_consent(enc)
    enc.add_argument("--engine", choices=["process", "ray"], default="process",
                     help="process (default): this process; ray: a Ray actor pool writing a Parquet dataset folder "
                          "(local Ray, or the cluster at RAY_ADDRESS; needs the [scale] extra)")
    enc.add_argument("--workers", type=integer(1, 4096, "a number of workers"),
                     help="--engine ray: actors (default: one per GPU, else per CPU)")

    info = sub.add_parser("info", help="describe a model")
    info.add_argument("model")
    info.add_argument("--json", action="store_true")
    add_code_consent(info)

    trust = sub.add_parser("trust", help="list or revoke the window's remembered consent to run model code")
    what = trust.add_mutually_exclusive_group(required=True)
    what.add_argument("--list", action="store_true", help="the models allowed to run code, by content hash")
    what.add_argument("--revoke", metavar="HASH_OR_FILE", help="forget the consent for this hash or file")
    what.add_argument("--revoke-all", action="store_true", help="forget every consent")

    demos = sub.add_parser("demos", help="list the built-in demo models")
    demos.add_argument("--json", action="store_true")

    for register in EXTRA_PARSERS:
        register(sub)
    return parser


EXTRA_PARSERS: list[Callable[[argparse._SubParsersAction], None]] = []
ENCODE_ENGINES: dict[str, Callable[[argparse.Namespace], int]] = {}  # --engine NAME → its encode command


@command("train")
def cmd_train(args: argparse.Namespace) -> int:
    from latent_explorer.core.models.checkpoint import TrainConfig
    from latent_explorer.core.models.training import iter_train

    check_output(args.out, data_inputs(args), folder=True)
    dataset = load_data(args)
    config = TrainConfig(arch=args.arch, z_dim=args.z_dim, input_shape=dataset.image_shape, beta=args.beta,
                         lr=args.lr, batch_size=args.batch_size, epochs=args.epochs, seed=args.seed)
    print(f"training {args.arch} z_dim={args.z_dim} beta={args.beta} on {dataset.name} ({len(dataset)} images "
          f"{list(dataset.image_shape)}) for {args.epochs} epochs → {args.out}", file=sys.stderr)
    config = run_with_bar(iter_train(config, dataset, args.out, resume=args.resume, device=args.device))
    last = config.history[-1] if config.history else {}
    print(json.dumps({"out": args.out, "epochs": config.epochs_done, **last}))
    return 0


@command("encode")
def cmd_encode(args: argparse.Namespace) -> int:
    from latent_explorer.core.codes_file import check_codes_suffix, write_codes
    from latent_explorer.core.encoding import iter_encode_cached
    from latent_explorer.core.loaders import load_model  # a plugin's model format when one claims the spec

    check_output(args.out, [*data_inputs(args), ("--model", args.model)])
    if args.engine != "process":
        return ENCODE_ENGINES[args.engine](args)  # registered by latent_explorer.scale_cli
    check_codes_suffix(args.out)  # a wrong extension fails before the encoding, not after
    dataset = load_data(args)
    model = load_model(args.model, device=args.device, allow_code=args.allow_code,
                       check_samples=dataset.float_images(slice(0, 2)))
    codes = run_with_bar(iter_encode_cached(model, dataset, batch_size=args.batch_size, seed=args.seed,
                                            use_cache=not args.no_cache, call_size=args.call_size))
    attributes = (dict(zip(dataset.attribute_names, dataset.attributes.T, strict=True))
                  if dataset.attributes is not None and dataset.attribute_names else None)
    write_codes(args.out, codes, class_names=dataset.class_names, seed=args.seed, attributes=attributes)
    print(f"wrote {args.out}: {len(codes)} codes of dimension {codes.latent_dim}"
          f"{' (VAE: z, mu, logvar)' if codes.is_variational else ''}", file=sys.stderr)
    return 0


@command("info")
def cmd_info(args: argparse.Namespace) -> int:
    from latent_explorer.core.loaders import load_model  # a plugin's model format when one claims the spec

    model = load_model(args.model, device="cpu", allow_code=args.allow_code)
    facts = {"name": model.name, "kind": model.info.kind, "format": model.info.format,
             "source": model.info.source, "variational": model.is_variational,
             "input_shape": list(model.input_shape), "input_range": list(model.input_range),
             "z_dim": model.latent_dim, "parameters": model.info.parameters,
             "runs_code_when_loaded": model.info.runs_code,
             **{k: v for k, v in model.info.extra.items() if v is not None and k != "class_names"}}
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        width = max(len(k) for k in facts)
        for key, value in facts.items():
            print(f"{key:<{width}}  {value}")
    return 0


@command("demos")
def cmd_demos(args: argparse.Namespace) -> int:
    from latent_explorer.core.models import demo_models, demo_path
    from latent_explorer.core.models.checkpoint import read_config

    rows = []
    for name in demo_models():
        cfg = read_config(demo_path(name))
        rows.append({"model": f"demo:{name}", "arch": cfg.arch, "z_dim": cfg.z_dim, "beta": cfg.beta,
                     "dataset": cfg.dataset.get("name"), "epochs": cfg.epochs_done})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['model']:<28} {r['arch']:<9} z_dim={r['z_dim']:<4} beta={r['beta']:<6} "
                  f"{r['dataset']} ({r['epochs']} epochs)")
    return 0


@command("trust")
def cmd_trust(args: argparse.Namespace) -> int:
    from latent_explorer.core.consent import ConsentStore

    store = ConsentStore()
    if args.list:
        grants = store.grants()
        for g in sorted(grants, key=lambda g: g.granted_at):
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(g.granted_at))
            print(f"{g.content_hash}  {g.format:<12} {when}  {', '.join(g.files)}")
        if not grants:
            print("no model is allowed to run code", file=sys.stderr)
        return 0
    if args.revoke_all:
        print(f"revoked {store.revoke_all()} consent(s)", file=sys.stderr)
        return 0
    n = store.revoke(args.revoke)
    if n == 0:
        raise LatentExplorerError(f"no remembered consent matches '{args.revoke}'",
                                  hint="see latent-explorer trust --list for the hashes and files")
    print(f"revoked {n} consent(s)", file=sys.stderr)
    return 0


@command("gui")
def cmd_gui(args: argparse.Namespace) -> int:
    from latent_explorer.qt.app import run_app

    args.allow_pickle = args.allow_code  # the name the window reads
    return run_app(args)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["gui", *argv]
    from latent_explorer.core.logs import configure_logging
    from latent_explorer.core.threads import configure_process

    configure_process()  # one thread count per pool, before any job: see core/threads.py
    configure_logging()  # warnings and the app's messages go to the log file, not the terminal
    _load_extensions()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and what was wrong (or --help, --version)
        return exc.code if isinstance(exc.code, int) else 2
    from latent_explorer.core.consent import command_line_policy, install_policy

    previous = None
    if args.command != "gui":  # the window asks, and remembers; a command runs code only with --allow-code
        previous = install_policy(command_line_policy(bool(getattr(args, "allow_code", False))))
    try:
        return SUBCOMMANDS[args.command](args)
    except CancelledError as exc:
        print(f"cancelled: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except LatentExplorerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # from a model's code while it encodes or decodes: ours never exit in a command
        print(f"error: the model's code called sys.exit({exc.code!r}) while {args.command} ran\n"
              "  fix: remove the sys.exit/exit() call from the model's code", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"error: out of memory while {args.command} ran\n  fix: use a smaller --batch-size or dataset, or "
              "lower LATENT_EXPLORER_MEMORY_BUDGET so that large files are refused up front", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug of ours: one line for the user, the traceback on request
        if os.environ.get("LATENT_EXPLORER_DEBUG"):
            raise
        print(f"error: internal error in {args.command} ({type(exc).__name__}: {exc})\n  fix: this is a bug in "
              "Latent Explorer, not in your files; run again with LATENT_EXPLORER_DEBUG=1 and report the traceback",
              file=sys.stderr)
        return 1
    finally:
        if args.command != "gui":
            install_policy(previous)


def _load_extensions() -> None:
    """Sub-commands that live in their own modules (figure export, ...) register themselves on import."""
    import importlib

    for module in ("latent_explorer.figures_cli", "latent_explorer.exchange_cli", "latent_explorer.plugins_cli",
                   "latent_explorer.report_cli", "latent_explorer.scale_cli"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


if __name__ == "__main__":
    raise SystemExit(main())
