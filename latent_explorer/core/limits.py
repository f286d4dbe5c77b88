"""How much a file from someone else may make us allocate: one place for every size limit.

Files declare their sizes (IDX header dimensions, ``.npy`` header shape × dtype, zip member sizes, image
width × height). Every loader checks what a file *declares* against these limits and against the file's own
size **before** allocating, so a 2 MB file that promises 90 GB is refused with a message instead of taking the
machine down. The limits are generous for real data (Fashion-MNIST is 55 MB, a CelebA folder at 64×64 a few
GB) and can be changed with environment variables:

- ``LATENT_EXPLORER_MEMORY_BUDGET``: the most one file may make us allocate, e.g. ``2G``, ``512M``
  (default: half the physical memory, at most 16 GiB).
- ``LATENT_EXPLORER_MAX_IMAGE_PIXELS``: images with more pixels than this are skipped (default 64 million).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from latent_explorer.core.errors import LimitError

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30

MAX_IMAGE_SIDE = 4096
MAX_LATENT_DIM = 65_536
MEMORY_BUDGET_ENV = "LATENT_EXPLORER_MEMORY_BUDGET"
MAX_IMAGE_PIXELS_ENV = "LATENT_EXPLORER_MAX_IMAGE_PIXELS"

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": KIB, "m": MIB, "g": GIB, "t": 1 << 40}


def parse_size(text: str, what: str = MEMORY_BUDGET_ENV) -> int:
    """``"2G"`` → 2 GiB in bytes; ``"512M"``, ``"100k"``, ``"123"`` (bytes) likewise."""
    match = _SIZE.match(text)
    if not match:
        raise LimitError(f"{what} = '{text}' is not a size", hint="give a number of bytes, or e.g. 512M, 2G")
    value = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if value <= 0:
        raise LimitError(f"{what} = '{text}' must be more than 0 bytes", hint="e.g. 512M or 2G")
    return value


def format_size(n: int | float) -> str:
    """Bytes in the unit a person reads: 1.5 GiB, 230 MiB, 12 KiB."""
    n = float(n)
    for unit, size in (("TiB", 1 << 40), ("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} bytes"


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 * GIB


@dataclass(frozen=True)
class Limits:
    """Every size limit in one value; `current_limits()` reads the environment each time."""

    memory_budget: int  # bytes one file (all its arrays together) may make us allocate
    max_image_pixels: int = 64_000_000  # width × height of one image in a folder; larger ones are skipped
    max_image_side: int = MAX_IMAGE_SIDE  # --shape / model input sides
    max_channels: int = 4
    max_latent_dim: int = MAX_LATENT_DIM  # z_dim of a built-in model: 1e9 would ask for hundreds of GB of weights
    max_text_bytes: int = 64 * MIB  # config.json, model.toml, state.json, attribute lists
    max_expansion: int = 200  # decompressed ÷ compressed bytes allowed above `expansion_floor`
    expansion_floor: int = 256 * MIB  # below this, any compression ratio is fine (all-zero masks compress well)

    def check_allocation(self, nbytes: int, what: str, path: object = None) -> None:
        """Refuse a declared allocation beyond the memory budget, before it is made."""
        if nbytes > self.memory_budget:
            raise LimitError(f"{what} would need {format_size(nbytes)}, more than the memory budget of "
                             f"{format_size(self.memory_budget)}", path=path,
                             hint=f"if the file is genuine, raise the budget: {MEMORY_BUDGET_ENV}=… (e.g. 32G)")

    def check_expansion(self, declared: int, compressed: int, what: str, path: object = None) -> None:
        """Refuse a compressed part that claims to grow far beyond what real data compresses to."""
        if declared > self.expansion_floor and declared > self.max_expansion * max(compressed, 1):
            raise LimitError(f"{what} claims to decompress from {format_size(compressed)} to "
                             f"{format_size(declared)} (×{declared // max(compressed, 1):,}): a decompression bomb",
                             path=path, hint="do not open this file; ask its author for the uncompressed data")
        self.check_allocation(declared, what, path)


def current_limits() -> Limits:
    """The limits in force now: the defaults, changed by the environment variables above."""
    budget_text = os.environ.get(MEMORY_BUDGET_ENV)
    budget = parse_size(budget_text) if budget_text else min(16 * GIB, _physical_memory() // 2)
    pixels_text = os.environ.get(MAX_IMAGE_PIXELS_ENV)
    if pixels_text:
        try:
            pixels = int(pixels_text)
        except ValueError as exc:
            raise LimitError(f"{MAX_IMAGE_PIXELS_ENV} = '{pixels_text}' is not a whole number",
                             hint="e.g. 64000000") from exc
        if pixels < 1:
            raise LimitError(f"{MAX_IMAGE_PIXELS_ENV} must be at least 1")
        return Limits(memory_budget=budget, max_image_pixels=pixels)
    return Limits(memory_budget=budget)
