"""Colour palettes and value-to-colour mapping, as plain numpy (no Qt), shared by the views and figure export.

Categories get a qualitative palette (tab10, tab20, then colorcet's glasbey), never a gradient: neighbouring
class ids must not look alike. Continuous values get a perceptual colour map (viridis or any colorcet name).
"""

from __future__ import annotations

import numpy as np

from latent_explorer.core.errors import LatentExplorerError

TAB10 = [
    "1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22", "17becf",
]
TAB20 = [
    "1f77b4", "aec7e8", "ff7f0e", "ffbb78", "2ca02c", "98df8a", "d62728", "ff9896", "9467bd", "c5b0d5", "8c564b",
    "c49c94", "e377c2", "f7b6d2", "7f7f7f", "c7c7c7", "bcbd22", "dbdb8d", "17becf", "9edae5",
]
# viridis (CC0, van der Walt, Smith, Firing) sampled at 25 evenly spaced stops; linear interpolation between
# them stays within 2.4/255 of the full table
VIRIDIS_STOPS = [
    "440154", "471164", "481f70", "472d7b", "443983", "404688", "3b528b", "365d8d", "31688e", "2c728e", "287c8e",
    "24868e", "21918c", "1f9a8a", "20a486", "27ad81", "35b779", "48c16e", "5cc863", "75d054", "8ed645", "aadc32",
    "c8e020", "e2e418", "fde725",
]

UNIFORM_COLOR = (31, 119, 180)  # tab10 blue: every point when nothing is coloured
MISSING_VALUE_COLOR = (150, 150, 150)  # a point whose value is NaN
DESELECTED_COLOR = (205, 205, 205)  # points outside a non-empty selection


def hex_to_rgb(codes: list[str]) -> np.ndarray:
    """``["1f77b4", "#ff7f0e"]`` → (n, 3) uint8."""
    clean = [c.lstrip("#") for c in codes]
    return np.array([[int(c[i:i + 2], 16) for i in (0, 2, 4)] for c in clean], dtype=np.uint8)


def categorical_palette(n_classes: int) -> np.ndarray:
    """(n_classes, 3) uint8: tab10 up to 10 classes, tab20 up to 20, glasbey (256 colours, cycled) beyond."""
    if n_classes <= 0:
        return np.zeros((0, 3), np.uint8)
    if n_classes <= 10:
        return hex_to_rgb(TAB10[:n_classes])
    if n_classes <= 20:
        return hex_to_rgb(TAB20[:n_classes])
    import colorcet

    glasbey = hex_to_rgb(list(colorcet.glasbey))
    return glasbey[np.arange(n_classes) % len(glasbey)]


def colormap_lut(name: str = "viridis", size: int = 256) -> np.ndarray:
    """(size, 3) uint8 table of a continuous colour map: "viridis", or any colorcet name ("fire", "bgy", …)."""
    if name == "viridis":
        stops = hex_to_rgb(VIRIDIS_STOPS).astype(np.float64)
    else:
        import colorcet

        palette = colorcet.palette.get(name)
        if palette is None:
            raise LatentExplorerError(f"unknown colour map '{name}'",
                                      hint="use 'viridis' or a colorcet name such as 'fire', 'bgy', 'coolwarm'")
        stops = hex_to_rgb(list(palette)).astype(np.float64)
    at = np.linspace(0.0, 1.0, len(stops))
    t = np.linspace(0.0, 1.0, size)
    return np.stack([np.interp(t, at, stops[:, k]) for k in range(3)], axis=1).round().astype(np.uint8)


def value_range(values: np.ndarray, lower_pct: float = 0.5, upper_pct: float = 99.5) -> tuple[float, float]:
    """A robust colour range: percentiles of the finite values, so that a few outliers don't wash it out."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(finite, [lower_pct, upper_pct])
    if not hi > lo:
        lo, hi = float(finite.min()), float(finite.max())
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    return float(lo), float(hi)


def quantize(values: np.ndarray, vmin: float, vmax: float, levels: int) -> np.ndarray:
    """Values → level index in [0, levels); NaN/inf → -1. int16 (levels ≤ 32767)."""
    v = np.asarray(values, dtype=np.float32)
    span = float(vmax - vmin) or 1.0
    scaled = (v - np.float32(vmin)) * np.float32(levels / span)
    out = np.clip(np.nan_to_num(scaled, nan=0.0, posinf=levels - 1, neginf=0.0), 0, levels - 1).astype(np.int16)
    out[~np.isfinite(v)] = -1
    return out
