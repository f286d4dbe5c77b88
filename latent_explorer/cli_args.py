"""Typed command-line arguments: every option is parsed into its type and range before anything runs.

Each parser is an ``argparse`` ``type=``: a bad value ends as argparse's usage message and exit code 2, never as a
traceback from deep inside a loader or a tensor allocation. Output locations are checked when the command starts
(`check_output`): writable, not under a file, not a device or ``/proc``, and never one of the inputs.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from latent_explorer.core.errors import LatentExplorerError, OutputError
from latent_explorer.core.limits import MAX_IMAGE_SIDE
from latent_explorer.core.safe_files import regular_file


def integer(lo: int, hi: int | None = None, what: str = "a whole number") -> Callable[[str], int]:
    """``type=`` for a whole number in [lo, hi]."""
    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}") from None
        if value < lo or (hi is not None and value > hi):
            bound = f"from {lo:,} to {hi:,}" if hi is not None else f"at least {lo:,}"
            raise argparse.ArgumentTypeError(f"{value} is out of range: give {what} {bound}")
        return value
    parse.__name__ = "integer"
    return parse


def number(lo: float, hi: float, *, above: bool = False, what: str = "a number") -> Callable[[str], float]:
    """``type=`` for a finite number in [lo, hi] (or (lo, hi] with ``above``)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"'{text}' is not finite: give {what} such as 0.001")
        if value < lo or value > hi or (above and value == lo):
            bound = f"above {lo:g} and at most {hi:g}" if above else f"from {lo:g} to {hi:g}"
            raise argparse.ArgumentTypeError(f"{value:g} is out of range: give {what} {bound}")
        return value
    parse.__name__ = "number"
    return parse


_PAIR = re.compile(r"^\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*$")


def image_shape(text: str) -> tuple[int, int]:
    """``--shape HxW`` (or ``N`` for a square) with each side from 1 to the side limit."""
    limit = MAX_IMAGE_SIDE
    match = _PAIR.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"'{text}' is not HxW: give e.g. 64x64")
    h = int(match.group(1))
    w = int(match.group(2) or h)
    if not (1 <= h <= limit and 1 <= w <= limit):
        raise argparse.ArgumentTypeError(f"{h}x{w} is out of range: each side from 1 to {limit} pixels")
    return h, w


def widget_size(text: str) -> tuple[int, int]:
    """``--size WxH`` of a figure, each side from 50 to 8000 screen pixels."""
    match = _PAIR.match(text)
    if not match or match.group(2) is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not WxH: give e.g. 800x600")
    w, h = int(match.group(1)), int(match.group(2))
    if min(w, h) < 50 or max(w, h) > 8000:
        raise argparse.ArgumentTypeError(f"{w}x{h} is out of range: each side between 50 and 8000 pixels")
    return w, h


_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(?::(\d+))?)$")


def device(text: str) -> str:
    """``--device``: auto, cpu, cuda, cuda:N or mps, and only one this machine has."""
    match = _DEVICE.match(text.strip().lower())
    if not match:
        raise argparse.ArgumentTypeError(f"'{text}' is not a device: give auto, cpu, cuda, cuda:N or mps")
    name = match.group(1)
    if name in ("auto", "cpu"):
        return name
    import torch

    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError(f"'{text}': this machine has no CUDA device (use cpu or auto)")
        index = int(match.group(2) or 0)
        if index >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(f"'{text}': this machine has {torch.cuda.device_count()} CUDA "
                                             f"device(s), numbered from 0")
        return name
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_available():
        raise argparse.ArgumentTypeError(f"'{text}': this machine has no MPS device (use cpu or auto)")
    return name


# ----------------------------------------------------------------------------------------------- inputs
def check_input_files(args: argparse.Namespace, options: Iterable[str]) -> None:
    """Options that name one file (labels, attributes, a path, a layout, a session) must name a regular file.

    ``/dev/zero`` or a pipe given where a file is expected would be read until memory runs out.
    """
    for option in options:
        value = getattr(args, option.lstrip("-").replace("-", "_"), None)
        if value:
            regular_file(Path(value).expanduser(), f"file for {option}", LatentExplorerError)


# ---------------------------------------------------------------------------------------------- outputs
_SYSTEM_TREES = (Path("/proc"), Path("/sys"), Path("/dev"))


def _resolved(path: str | Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser().resolve()))


def check_output(path: str | Path, inputs: Iterable[tuple[str, str | Path | None]], *, folder: bool = False,
                 option: str = "--out") -> Path:
    """Refuse an output that would overwrite an input or cannot be written; returns the resolved path.

    Inputs are compared after resolving links, so ``--out ./data.npz`` and ``--data data.npz`` (or a link to it)
    are the same file. Nothing is created here.
    """
    target = _resolved(path)
    for input_option, given in inputs:
        if not given:
            continue
        candidate = Path(str(given)).expanduser()
        if not candidate.exists():
            continue
        source = _resolved(candidate)
        if source == target or (not folder and target.exists() and _same_file(target, source)):
            raise OutputError(f"{option} names the input {input_option} {given}; writing it would destroy it",
                              path=target, hint=f"choose another {option}; the input was not touched")
        if folder and source.is_relative_to(target):
            raise OutputError(f"{option} is a folder holding the input {input_option} {given}; writing into it "
                              "could overwrite it", path=target, hint=f"choose another {option} folder")
    for tree in _SYSTEM_TREES:
        if target.is_relative_to(tree):
            raise OutputError(f"{option} is inside {tree}, the system's tree of devices and processes, not a "
                              "place for files", path=target, hint=f"choose a {option} in your own folders")
    if target.exists():
        if folder and not target.is_dir():
            raise OutputError(f"{option} is a file; a folder was expected", path=target,
                              hint=f"choose a new or existing folder for {option}")
        if not folder and not target.is_file():
            raise OutputError(f"{option} is {'a folder' if target.is_dir() else 'not a regular file'}; "
                              "an output file was expected", path=target, hint=f"name a file, e.g. {option} out.npz")
    ancestor = target.parent if not folder or not target.exists() else target
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"{option} lies under {ancestor}, which is a file, not a folder", path=target,
                          hint=f"choose a {option} in an existing folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"{option}: the folder {ancestor} is not writable", path=target,
                          hint=f"choose a {option} in a folder you can write to")
    return target


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
