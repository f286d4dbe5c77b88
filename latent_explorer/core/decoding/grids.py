"""Decoded grids over a rectangle of a projection plane, and the code under one point of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from latent_explorer.core.decoding.images import decode_images
from latent_explorer.core.projections import Projection


def grid_points(rect: Sequence[float], rows: int, cols: int | None = None) -> np.ndarray:
    """Cell centres of a rows × cols grid over (x0, x1, y0, y1): top row (largest y) first, left to right."""
    cols = cols or rows
    x0, x1, y0, y1 = (float(v) for v in rect)
    xs = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
    ys = y1 - (np.arange(rows) + 0.5) * (y1 - y0) / rows
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def grid_codes(projection: Projection, rect: Sequence[float], rows: int, base: np.ndarray,
               cols: int | None = None) -> np.ndarray:
    """The codes under a grid of the visible rectangle, off-plane coordinates taken from ``base``."""
    xy = grid_points(rect, rows, cols)
    return np.asarray(projection.inverse(xy, np.asarray(base, np.float32)), np.float32)


def tile_images(images: np.ndarray, rows: int, cols: int | None = None, pad: int = 1,
                pad_value: float = 1.0) -> np.ndarray:
    """Lay out (n, H, W[, 3]) images as one mosaic, row by row, with ``pad`` pixels between tiles."""
    cols = cols or rows
    images = np.asarray(images, np.float32)
    n, h, w = images.shape[:3]
    extra = images.shape[3:]
    out = np.full((rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad, *extra), pad_value, np.float32)
    for i in range(min(n, rows * cols)):
        r, c = divmod(i, cols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = images[i]
    return out


def decode_grid(model: Any, projection: Projection, rect: Sequence[float], rows: int,
                base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mosaic, codes) of a rows × rows decoded grid over ``rect`` of the projection's plane."""
    codes = grid_codes(projection, rect, rows, base)
    return tile_images(decode_images(model, codes), rows), codes


def lift_point(projection: Projection, x: float, y: float, base: np.ndarray) -> np.ndarray:
    """The z under a point of the plane: ``projection.inverse`` with off-plane coordinates from ``base``."""
    return np.asarray(projection.inverse(np.array([[x, y]], np.float32), np.asarray(base, np.float32)),
                      np.float32)[0]
