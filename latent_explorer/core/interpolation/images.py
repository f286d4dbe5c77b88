"""Writing frames: RGB bytes, a filmstrip mosaic, PNG and animated GIF files (atomically)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from latent_explorer.core.atomic import atomic_path
from latent_explorer.core.interpolation.constants import PathError


@contextlib.contextmanager
def _writing(file: str | Path, suffix: str) -> Iterator[Path]:
    """An atomic write whose OS errors become a `PathError` naming the file."""
    try:
        with atomic_path(file, suffix=suffix) as tmp:
            yield tmp
    except OSError as exc:
        raise PathError(f"cannot write the file ({exc.strerror or exc})", path=file,
                        hint="choose a folder you can write to") from exc


def to_uint8_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) float in [0, 1] → (H, W, 3) uint8; NaNs become mid-grey."""
    img = np.nan_to_num(np.asarray(image, np.float32), nan=0.5)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def filmstrip(rows: list[np.ndarray], scale: int = 3, gap: int = 2) -> np.ndarray:
    """Rows of frames (each (k, H, W[, 3]) in [0, 1]) tiled into one uint8 RGB image, white gaps."""
    if not rows:
        raise ValueError("no rows to tile")
    k = max(len(r) for r in rows)
    h, w = rows[0].shape[1:3]
    sh, sw = h * scale, w * scale
    out = np.full((len(rows) * (sh + gap) - gap, k * (sw + gap) - gap, 3), 255, np.uint8)
    for r, frames in enumerate(rows):
        for c, frame in enumerate(frames):
            tile = to_uint8_rgb(frame).repeat(scale, 0).repeat(scale, 1)
            out[r * (sh + gap):r * (sh + gap) + sh, c * (sw + gap):c * (sw + gap) + sw] = tile
    return out


def save_png(file: str | Path, image: np.ndarray) -> None:
    from PIL import Image

    with _writing(file, ".png") as tmp:
        Image.fromarray(image).save(tmp, format="PNG")


def save_gif(file: str | Path, frames: np.ndarray, scale: int = 4, frame_ms: int = 60, bounce: bool = True) -> int:
    """An animated GIF of the frames (played forward then back if ``bounce``); returns the frame count."""
    from PIL import Image

    seq = [to_uint8_rgb(f).repeat(scale, 0).repeat(scale, 1) for f in frames]
    if bounce and len(seq) > 2:
        seq = seq + seq[-2:0:-1]
    images = [Image.fromarray(s) for s in seq]
    with _writing(file, ".gif") as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0,
                       optimize=False, disposal=1)
    return len(images)
