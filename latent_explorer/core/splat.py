"""Rasterise millions of 2-D points into an ARGB image at screen resolution with numpy alone.

Why: drawing points one by one (QPainter, pyqtgraph's ScatterPlotItem) costs microseconds per point; binning
them into pixels costs nanoseconds. Every frame the visible points are mapped to integer pixels (points are
kept sorted by x, so the columns in view are one slice), one colour key per pixel is written (the last point
drawn wins; selected points are drawn after the others), and the key image is dilated with a small disc so
that every point is a dot of the same size in pixels whatever the zoom. At full opacity the result is the colour
slot of each pixel (an 8-bit indexed image, see `slot_argb`); below it, a look-up table turns keys into
premultiplied ARGB32 pixels (``QImage.Format_ARGB32_Premultiplied``). Density mode sums counts and colours per
pixel instead (`Rasterizer.render_density`).

A pixel key is a uint32. Its low half indexes the colour table: bit 15 = selected, bits 8–14 = how many
points fell in the pixel (for opacity that builds up where points pile up; 0 when not counted), bits 0–7 =
colour slot (0 = empty, 1–253 = palette entries, 254 = a missing value, 255 = the greyed-out colour). Its high
half decides which dot is on top where dots overlap after dilation: bit 31 = selected again, bits 16–30 = a
fixed pseudo-random rank of the point, so no class is favoured by its id. At full opacity nothing is counted
and a uint16 key does: bit 15 = selected, bits 8–14 = the top of the rank, bits 0–7 = slot (half the memory
traffic of the dilation).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from latent_explorer.core.colors import DESELECTED_COLOR, MISSING_VALUE_COLOR

SELECTED_BITS = (1 << 31) | (1 << 15)
RANK_SHIFT = 16
RANK_MASK = 0x7FFF
GREY_SLOT = 255
MISSING_SLOT = 254
MAX_SLOTS = 253  # palette entries 1..253
MAX_COUNT = 127
DESELECTED_ALPHA = 0.45


@dataclass
class Layer:
    """Points drawn in one pass, sorted by x: centred float32 coordinates and a colour key per point."""

    xs: np.ndarray
    ys: np.ndarray
    keys: np.ndarray | int  # uint32 per point, or one key for all
    slots: np.ndarray | int  # colour slot per point, or one for all
    palette: np.ndarray  # (256, 3) colour of each slot
    keys16: np.ndarray | int = 0  # the short keys of the full-opacity path (see the module docstring)
    y_range: tuple[float, float] = (0.0, 0.0)
    _rgb: np.ndarray | None = None

    @property
    def rgb(self) -> np.ndarray:
        """(3, n) float32 colour of each point, for density mode (made on first use)."""
        if self._rgb is None:
            colors = self.palette.astype(np.float32)
            if isinstance(self.slots, np.ndarray):
                self._rgb = np.ascontiguousarray(colors[self.slots].T)
            else:
                self._rgb = np.repeat(colors[self.slots][:, None], len(self.xs), axis=1)
        return self._rgb

    def __post_init__(self) -> None:
        if len(self.ys):
            self.y_range = (float(self.ys.min()), float(self.ys.max()))
        if isinstance(self.keys, np.ndarray):
            self.keys16 = (((self.keys >> np.uint32(16)) & np.uint32(0xFF00)) | (self.keys & np.uint32(0xFF)))
            self.keys16 = self.keys16.astype(np.uint16)
        else:
            self.keys16 = int(self.keys) & 0xFF | (int(self.keys) >> 16) & 0xFF00

    def __len__(self) -> int:
        return len(self.xs)


class SortedPoints:
    """The finite rows of an (N, 2) array, sorted by x and centred, as float32 (what every frame reads)."""

    def __init__(self, xy: np.ndarray):
        xy = np.asarray(xy, dtype=np.float64)
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError(f"points must be an (N, 2) array, got shape {xy.shape}")
        self.n_total = len(xy)
        finite = np.isfinite(xy).all(axis=1)
        self.finite = finite
        rows = np.flatnonzero(finite)
        pts = xy[rows]
        if len(pts):
            self.lo = pts.min(axis=0)
            self.hi = pts.max(axis=0)
        else:
            self.lo = self.hi = np.zeros(2)
        self.center = (self.lo + self.hi) / 2.0
        order = np.argsort(pts[:, 0])
        self.index = rows[order]  # sorted position → original row
        self.xs = (pts[order, 0] - self.center[0]).astype(np.float32)
        self.ys = (pts[order, 1] - self.center[1]).astype(np.float32)

    def __len__(self) -> int:
        return len(self.xs)

    @property
    def missing_count(self) -> int:
        return self.n_total - len(self.xs)


def build_layers(points: SortedPoints, slots: np.ndarray, palette: np.ndarray, shown: np.ndarray | None = None,
                 selected: np.ndarray | None = None) -> list[Layer]:
    """The draw passes for one style: the points of shown classes, the selection on top of the greyed rest.

    ``slots`` (N,) uint8 colour slot per original row; ``palette`` (256, 3) uint8 colour of each slot;
    ``shown`` (N,) bool or None for all; ``selected`` (N,) bool or None for no selection.
    """
    slot_sorted = slots[points.index]
    keys_sorted = point_rank(points.index) | slot_sorted
    keep = None if shown is None else shown[points.index]

    def layer(mask: np.ndarray | None, key_bits: int, grey: bool) -> Layer:
        xs = points.xs if mask is None else points.xs[mask]
        ys = points.ys if mask is None else points.ys[mask]
        if grey:
            return Layer(xs, ys, GREY_SLOT, GREY_SLOT, palette)
        s = slot_sorted if mask is None else slot_sorted[mask]
        keys = keys_sorted if mask is None else keys_sorted[mask]
        if key_bits:
            keys = keys | np.uint32(key_bits)
        return Layer(xs, ys, keys, s, palette)

    if selected is None:
        return [layer(keep, 0, grey=False)]
    sel = selected[points.index]
    rest = ~sel if keep is None else keep & ~sel
    chosen = sel if keep is None else keep & sel
    return [layer(rest, 0, grey=True), layer(chosen, SELECTED_BITS, grey=False)]


def point_rank(index: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random rank per original row (Knuth's multiplicative hash), in the key's rank bits."""
    hashed = index.astype(np.uint32) * np.uint32(2654435761)
    return ((hashed >> np.uint32(9)) & np.uint32(RANK_MASK)) << np.uint32(RANK_SHIFT)


def low_half(keys: np.ndarray) -> np.ndarray:
    """The low 16 bits of uint32 keys, as a strided view where the machine is little-endian (no copy)."""
    if sys.byteorder == "little":
        return keys.view(np.uint16)[..., ::2]
    return (keys & np.uint32(0xFFFF)).astype(np.uint16)


@dataclass(frozen=True)
class PixelMap:
    """Data → pixel affine map of one frame: col = x * ax + bx, row = y * ay + by (centred data coords)."""

    width: int
    height: int
    ax: float
    bx: float
    ay: float
    by: float

    def x_range(self, pad: float) -> tuple[float, float]:
        """The data x interval whose columns fall in [-pad, width + pad)."""
        a = (-pad - self.bx) / self.ax
        b = (self.width + pad - self.bx) / self.ax
        return min(a, b), max(a, b)


def disc_stamp(diameter: int) -> np.ndarray:
    """(d, d) bool: the pixels of a dot ``diameter`` pixels wide."""
    d = max(1, int(diameter))
    c = np.arange(d) + 0.5 - d / 2.0
    return (c[:, None] ** 2 + c[None, :] ** 2) <= (d / 2.0) ** 2 + 0.25


def dilate_max(image: np.ndarray, stamp: np.ndarray) -> np.ndarray:
    """Grey-scale dilation (maximum over the stamp) by shifted slices: one horizontal run per stamp row.

    Pixels within the stamp's radius of the border are not valid (the caller pads the canvas).
    """
    d = stamp.shape[0]
    if d <= 1:
        return image
    anchor = (d - 1) // 2
    runs: dict[tuple[int, int], np.ndarray] = {}

    def horizontal(lo: int, hi: int) -> np.ndarray:
        if (lo, hi) not in runs:
            out = image.copy()
            for dx in range(lo, hi + 1):
                if dx > 0:
                    np.maximum(out[:, dx:], image[:, :-dx], out=out[:, dx:])
                elif dx < 0:
                    np.maximum(out[:, :dx], image[:, -dx:], out=out[:, :dx])
            runs[(lo, hi)] = out
        return runs[(lo, hi)]

    def run_of(row: int) -> np.ndarray | None:
        cols = np.flatnonzero(stamp[row])
        return None if cols.size == 0 else horizontal(int(cols[0]) - anchor, int(cols[-1]) - anchor)

    centre = run_of(anchor)
    result = image.copy() if centre is None else centre.copy()
    for row in range(d):
        dy = row - anchor
        run = run_of(row) if dy else None
        if run is None:
            continue
        if dy > 0:
            np.maximum(result[dy:], run[:-dy], out=result[dy:])
        else:
            np.maximum(result[:dy], run[-dy:], out=result[:dy])
    return result


def key_lut(palette: np.ndarray, opacity: float) -> np.ndarray:
    """(65536,) uint32 premultiplied ARGB for every pixel key (see the module docstring)."""
    keys = np.arange(65536, dtype=np.uint32)
    slot = keys & 0xFF
    count = np.maximum((keys >> 8) & 0x7F, 1).astype(np.float64)
    a = float(np.clip(opacity, 0.0, 1.0))
    alpha = 1.0 - (1.0 - a) ** count
    alpha = np.where(slot == GREY_SLOT, alpha * DESELECTED_ALPHA, alpha)
    alpha[slot == 0] = 0.0
    rgb = palette[slot].astype(np.float64) * alpha[:, None]
    a8 = np.round(alpha * 255).astype(np.uint32)
    rgb8 = np.round(rgb).astype(np.uint32)
    return (a8 << 24) | (rgb8[:, 0] << 16) | (rgb8[:, 1] << 8) | rgb8[:, 2]


def slot_argb(palette: np.ndarray) -> np.ndarray:
    """(256,) uint32 straight (not premultiplied) ARGB of each slot at full opacity, for an indexed image."""
    alpha = np.full(256, 255, np.uint32)
    alpha[0] = 0
    alpha[GREY_SLOT] = round(255 * DESELECTED_ALPHA)
    rgb = palette.astype(np.uint32)
    return (alpha << 24) | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]


def slot_palette(colors: np.ndarray) -> np.ndarray:
    """(256, 3) uint8 slot table: slot 0 unused, slots 1.. the given colours, then the missing-value and
    greyed-out colours."""
    table = np.zeros((256, 3), np.uint8)
    n = min(len(colors), MAX_SLOTS)
    table[1:1 + n] = colors[:n]
    table[MISSING_SLOT] = MISSING_VALUE_COLOR
    table[GREY_SLOT] = DESELECTED_COLOR
    return table


class Rasterizer:
    """Turns layers into an ARGB32 frame; keeps its scratch buffers between frames of the same size."""

    def __init__(self) -> None:
        self._keys: dict[type, np.ndarray] = {}
        self._sums: np.ndarray | None = None
        self._ones = np.ones(0, np.float32)
        self._ones_u32 = np.ones(0, np.uint32)
        self._counts = np.zeros(0, np.uint32)
        self._work: tuple[np.ndarray, ...] | None = None

    def _scratch(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per-frame work arrays, kept between frames: fresh multi-megabyte arrays cost page faults every frame."""
        if self._work is None or len(self._work[0]) < n:
            self._work = (np.empty(n, np.float32), np.empty(n, np.float32), np.empty(n, np.int32),
                          np.empty(n, np.int32))
        return tuple(a[:n] for a in self._work)

    def _pixels(self, layer: Layer, pm: PixelMap, pad: int, width: int, height: int):
        """Flat pixel index (in the padded canvas) of each point of the layer that lands on it, and which.

        The index array is scratch space: valid until the next call.
        """
        lo, hi = pm.x_range(pad)
        i0, i1 = np.searchsorted(layer.xs, [np.float32(lo), np.float32(hi)])
        if i1 <= i0:
            return None, None
        fx, fy, col, row = self._scratch(int(i1 - i0))
        # (x - x_origin) * a + rest rather than x * a + b: the subtraction of nearby float32 values is exact, so
        # deep zooms keep sub-pixel accuracy (what remains is the float32 storage: ~1e-7 of the cloud's width)
        for coords, out, a, b in ((layer.xs[i0:i1], fx, pm.ax, pm.bx), (layer.ys[i0:i1], fy, pm.ay, pm.by)):
            origin = np.float32(-b / a)
            np.subtract(coords, origin, out=out)
            out *= np.float32(a)
            out += np.float32(b + float(origin) * a + pad)
        # the whole layer inside the canvas (the usual "see everything" frame): no per-point test
        rows_spanned = sorted(v * pm.ay + pm.by + pad for v in layer.y_range)
        cols_spanned = sorted(float(layer.xs[i]) * pm.ax + pm.bx + pad for i in (i0, i1 - 1))
        ok = None
        if not (rows_spanned[0] >= 0 and rows_spanned[1] < height - 1 and cols_spanned[0] >= 0
                and cols_spanned[1] < width - 1):
            ok = (fy >= 0) & (fy < height) & (fx >= 0) & (fx < width)
            if ok.all():
                ok = None
            else:
                fx, fy = fx[ok], fy[ok]
                col, row = col[:len(fx)], row[:len(fx)]
        np.copyto(col, fx, casting="unsafe")
        np.copyto(row, fy, casting="unsafe")
        row *= np.int32(width)
        row += col
        return row, (np.s_[i0:i1], ok)

    def render(self, layers: list[Layer], pm: PixelMap, stamp: np.ndarray, lut: np.ndarray,
               count: bool) -> np.ndarray:
        """(height, width) uint32 premultiplied ARGB. ``count``: let opacity build up where points pile up."""
        image = self._key_image(layers, pm, stamp, count)
        if count:
            return np.take(lut, low_half(image))
        return np.take(lut, image & np.uint16(0x80FF))  # drop the rank bits: count 0 reads as one point

    def render_slots(self, layers: list[Layer], pm: PixelMap, stamp: np.ndarray) -> np.ndarray:
        """(height, width) uint8 colour slot of each pixel, at full opacity: an indexed image for `slot_argb`
        colours (converting that is cheaper than a 65536-entry table look-up per pixel)."""
        image = self._key_image(layers, pm, stamp, count=False)
        if sys.byteorder == "little":
            return np.ascontiguousarray(image.view(np.uint8)[:, ::2])
        return (image & np.uint16(0xFF)).astype(np.uint8)

    def _key_image(self, layers: list[Layer], pm: PixelMap, stamp: np.ndarray, count: bool) -> np.ndarray:
        """The dilated key of every pixel in view: uint32 keys with counts, else uint16 short keys."""
        pad = stamp.shape[0] // 2 + 1
        w, h = pm.width + 2 * pad, pm.height + 2 * pad
        size = w * h
        dtype = np.uint32 if count else np.uint16
        keys = self._keys.get(dtype)
        if keys is None or keys.size != size:
            keys = self._keys[dtype] = np.zeros(size, dtype)
        keys.fill(0)
        counts = None
        if count:
            counts = self._counts = self._counts if self._counts.size == size else np.zeros(size, np.uint32)
            counts.fill(0)
        for layer in layers:
            flat, where = self._pixels(layer, pm, pad, w, h)
            if flat is None:
                continue
            point_keys = layer.keys if count else layer.keys16
            if isinstance(point_keys, np.ndarray):
                sl, ok = where
                k = point_keys[sl]
                keys[flat] = k if ok is None else k[ok]
            else:
                keys[flat] = point_keys
            if counts is not None:
                if self._ones_u32.size < flat.size:
                    self._ones_u32 = np.ones(flat.size, np.uint32)
                # ufunc.at with matching dtypes takes numpy's fast path (no bincount-sized allocation per frame)
                np.add.at(counts, flat, self._ones_u32[:flat.size])
        if counts is not None:
            np.minimum(counts, np.uint32(MAX_COUNT), out=counts)
            counts <<= np.uint32(8)
            keys |= counts
        return dilate_max(keys.reshape(h, w), stamp)[pad:pad + pm.height, pad:pad + pm.width]

    def render_density(self, layers: list[Layer], pm: PixelMap, stamp: np.ndarray, opacity: float) -> np.ndarray:
        """A log-scaled 2-D histogram at screen resolution; each pixel the mean colour of its points."""
        pad = stamp.shape[0] // 2 + 1
        w, h = pm.width + 2 * pad, pm.height + 2 * pad
        size = w * h
        if self._sums is None or self._sums.shape[1] != size:
            self._sums = np.zeros((4, size), np.float32)  # count, then r, g, b sums
        sums = self._sums
        sums.fill(0)
        for layer in layers:
            flat, where = self._pixels(layer, pm, pad, w, h)
            if flat is None:
                continue
            sl, ok = where
            if self._ones.size < flat.size:
                self._ones = np.ones(flat.size, np.float32)
            # ufunc.at with matching float32 dtypes takes numpy's fast path: faster than bincount here, no allocation
            np.add.at(sums[0], flat, self._ones[:flat.size])
            for k in range(3):
                weights = layer.rgb[k, sl]
                np.add.at(sums[k + 1], flat, weights if ok is None else weights[ok])
        filled = np.flatnonzero(sums[0])
        argb = np.zeros(size, np.uint32)
        if filled.size:
            n = sums[0, filled]
            level = np.log1p(n) / np.log1p(n.max())
            alpha = np.float32(np.clip(opacity, 0.0, 1.0)) * (np.float32(0.15) + np.float32(0.85) * level)
            scale = alpha / n
            packed = (alpha * np.float32(255) + np.float32(0.5)).astype(np.uint32) << np.uint32(24)
            for k, shift in ((1, 16), (2, 8), (3, 0)):
                packed |= (sums[k, filled] * scale + np.float32(0.5)).astype(np.uint32) << np.uint32(shift)
            argb[filled] = packed
        image = dilate_max(argb.reshape(h, w), stamp)
        return np.ascontiguousarray(image[pad:pad + pm.height, pad:pad + pm.width])
