"""Rasterise millions of 2-D points into an ARGB image at screen resolution with numpy (and numba where it is).

Why: drawing points one by one (QPainter, pyqtgraph's ScatterPlotItem) costs microseconds per point; binning
them into pixels costs nanoseconds. Every frame the visible points are mapped to integer pixels (points are
kept sorted by x, so the columns in view are one slice), one colour key per pixel is written (the last point
drawn wins; selected points are drawn after the others), and the key image is dilated with a small disc so
that every point is a dot of the same size in pixels whatever the zoom. One look-up table (`key_lut`) turns keys
into premultiplied ARGB32 pixels (``QImage.Format_ARGB32_Premultiplied``), written straight into the image's
buffer (`Rasterizer.render_into`); at full opacity only the colour slot matters, and its first 256 entries do.
Where numba is installed the per-point passes and the look-up run compiled (`core.splat_jit`), drawing the same
pixels. Density mode sums counts and colours per pixel instead (`Rasterizer.render_density`).

A pixel key is a uint32. Its low half indexes the colour table: bit 15 = selected, bits 8–14 = how many
points fell in the pixel (for opacity that builds up where points pile up; 0 when not counted), bits 0–7 =
colour slot (0 = empty, 1–253 = palette entries, 254 = a missing value, 255 = the greyed-out colour). Its high
half decides which dot is on top where dots overlap after dilation: bit 31 = selected again, bits 16–30 = a
fixed pseudo-random rank of the point, so no class is favoured by its id. At full opacity nothing is counted
and a uint16 key does: bit 15 = selected, bits 8–14 = the top of the rank, bits 0–7 = slot (half the memory
traffic of the dilation).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from latent_explorer.core import splat_jit
from latent_explorer.core.colors import DESELECTED_COLOR, MISSING_VALUE_COLOR
from latent_explorer.core.spatial import GridIndex, centred_float32, count_cells, sample_cells, subset_starts

SELECTED_BITS = (1 << 31) | (1 << 15)
RANK_SHIFT = 16
RANK_MASK = 0x7FFF
GREY_SLOT = 255
MISSING_SLOT = 254
MAX_SLOTS = 253  # palette entries 1..253
MAX_COUNT = 127
DESELECTED_ALPHA = 0.45
LOD_POINTS = 3_000_000  # more points than this in view, and cells under a pixel: a sample of each cell is drawn
COUNTED_LOD_POINTS = 2_000_000  # the same for the counting level (partial opacity, density: exact per cell)
LOD_PER_CELL = 4  # points of each cell in that sample: a cell under a pixel touches at most 4 pixels
SPLAT_BLOCK = 4096  # points per block of the compiled splat: its pixel indices stay in the first-level cache
LOG1P_TABLE = np.log1p(np.arange(1 << 16, dtype=np.float32))  # of whole counts, as numpy computes them
SPARSE_STAMP_SHARE = 0.25  # stamp dots point by point below this many stamp pixels per canvas pixel (measured
# crossover: a stamped point costs about 40 ns, a dense frame about 1.6 ms of fixed passes over the canvas)


def _index_in(position: float, last: int) -> int:
    """The whole part of ``position`` clamped to [0, last], infinities to the nearer end and NaN to 0 (numpy's
    clip of a scalar costs some microseconds, several per frame)."""
    if not math.isfinite(position):
        return last if position > 0 else 0
    return min(max(math.floor(position), 0), last)


@dataclass(frozen=True)
class Columns:
    """Where each column of the hover grid begins in a layer's point order: the points of the columns a frame
    shows are one slice (see `core.spatial.GridIndex`, whose sort the layers share)."""

    x0: float  # left edge of the first column, centred data units
    width: float  # of one column
    starts: np.ndarray  # (n_columns + 1,) positions

    def span(self, lo: float, hi: float) -> tuple[int, int]:
        """The slice of points whose column overlaps the data interval [lo, hi]."""
        last = len(self.starts) - 2
        c0 = _index_in((lo - self.x0) / self.width, last)
        c1 = _index_in((hi - self.x0) / self.width, last)
        return int(self.starts[c0]), int(self.starts[c1 + 1])


@dataclass(frozen=True)
class Cells:
    """Where each cell of the hover grid begins in a layer's point order (cells numbered column by column, so a
    column's cells in a range of rows are one slice): what lets a frame read only the cells under its view."""

    x0: float  # the grid's corner, centred data units
    y0: float
    width: float  # of one cell
    height: float
    ny: int  # cells per column
    starts: np.ndarray  # (nx * ny + 1,) positions

    def ranges(self, x_lo: float, x_hi: float, y_lo: float, y_hi: float) -> np.ndarray:
        """(k, 2) int64 [start, stop) slices of the points in the cells that overlap the data rectangle, one
        per grid column (one in all where every row is in view). Cells on the border, which also hold the
        outliers clamped into them, are taken whenever their column or row is."""
        nx = (len(self.starts) - 1) // self.ny
        c0, c1 = (_index_in((v - self.x0) / self.width, nx - 1) for v in (x_lo, x_hi))
        r0, r1 = (_index_in((v - self.y0) / self.height, self.ny - 1) for v in (y_lo, y_hi))
        if r0 == 0 and r1 == self.ny - 1:
            return np.array([[self.starts[c0 * self.ny], self.starts[(c1 + 1) * self.ny]]], np.int64)
        first = np.arange(c0, c1 + 1) * self.ny
        starts, stops = self.starts[first + r0], self.starts[first + r1 + 1]
        filled = stops > starts
        return np.ascontiguousarray(np.column_stack([starts[filled], stops[filled]]), np.int64)


@dataclass
class Layer:
    """Points drawn in one pass: centred float32 coordinates and a colour key per point, in grid order
    (``cells``) or, before that sort exists, in row order (``cells=None``: every frame reads every point)."""

    xs: np.ndarray
    ys: np.ndarray
    keys: np.ndarray | int  # uint32 per point, or one key for all
    slots: np.ndarray | int  # colour slot per point, or one for all
    palette: np.ndarray  # (256, 3) colour of each slot
    cells: Cells | None = None  # where each grid cell begins among the layer's points (once sorted)
    keys16: np.ndarray | int = 0  # the short keys of the full-opacity path (see the module docstring)
    x_range: tuple[float, float] = (0.0, 0.0)
    y_range: tuple[float, float] = (0.0, 0.0)
    detail: Layer | None = None  # the level of detail: a sample of each grid cell (see `with_detail`)
    counted: Layer | None = None  # the counting level of detail: each cell's points per colour (`with_detail`)
    detail_cell: tuple[float, float] = (0.0, 0.0)  # the size of those cells, centred data units
    weights: np.ndarray | None = None  # how many points each entry stands for (a counting level of detail)
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
        if len(self.xs):
            self.x_range = (float(self.xs.min()), float(self.xs.max()))
            self.y_range = (float(self.ys.min()), float(self.ys.max()))
        if isinstance(self.keys, np.ndarray):
            short = (self.keys >> np.uint32(16)) & np.uint32(0xFF00)
            short |= self.keys & np.uint32(0xFF)
            self.keys16 = short.astype(np.uint16)
        else:
            self.keys16 = int(self.keys) & 0xFF | (int(self.keys) >> 16) & 0xFF00

    def __len__(self) -> int:
        return len(self.xs)

    @property
    def columns(self) -> Columns | None:
        """Where each grid column begins among the layer's points (its first cell's start)."""
        if self.cells is None:
            return None
        return Columns(self.cells.x0, self.cells.width, self.cells.starts[::self.cells.ny])

    def with_detail(self, grid: GridIndex) -> Layer:
        """This layer (points of ``grid``, in its order, ``cells`` saying where each cell begins among them) with
        two levels of detail, used instead of every point when millions are in view and the grid's cells are at
        most a pixel wide and high (`Rasterizer` decides per frame); built once per style, in the worker:

        - ``detail``: at most LOD_PER_CELL real points of each cell, for frames at full opacity: they cover the
          pixels every point covers;
        - ``counted``: one real point per colour and cell, weighted by how many points of that colour the cell
          holds, for the frames that count (partial opacity, density): counts and colour sums per pixel at the
          resolution of the cells.
        """
        starts = self.cells.starts
        positions, _ = sample_cells(starts, grid.shape, LOD_PER_CELL)
        self.detail = self._taken(positions, cells_of(grid, np.searchsorted(positions, starts)))
        representatives, counts = count_cells(starts, self.slots)
        self.counted = self._taken(representatives, cells_of(grid, np.searchsorted(representatives, starts)))
        self.counted.weights = counts
        self.detail_cell = (float(grid.cell_size[0]), float(grid.cell_size[1]))
        return self

    def _taken(self, positions: np.ndarray, cells: Cells) -> Layer:
        """The layer of these of its points (in grid order: ``cells`` says where each cell begins among them)."""
        keys = self.keys[positions] if isinstance(self.keys, np.ndarray) else self.keys
        slots = self.slots[positions] if isinstance(self.slots, np.ndarray) else self.slots
        return Layer(self.xs[positions], self.ys[positions], keys, slots, self.palette, cells)


class SortedPoints:
    """The finite rows of an (N, 2) array as centred float32 coordinates (what every frame reads), 12 bytes a
    point: in grid order once `sorted` has run (``grid`` is then the hover index, sharing the arrays), in row
    order before (`SortedPoints.unsorted`, cheap enough for the GUI thread: frames then read every point)."""

    def __init__(self, xy: np.ndarray):
        self._adopt(SortedPoints.unsorted(xy).sorted())

    @classmethod
    def unsorted(cls, xy: np.ndarray) -> SortedPoints:
        """The finite rows in row order, centred on the median of a sample, with their bounds."""
        xy = np.asarray(xy)
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError(f"points must be an (N, 2) array, got shape {xy.shape}")
        points = cls.__new__(cls)
        points.n_total = len(xy)
        points.xs, points.ys, points.index, points.center = centred_float32(xy)
        points.grid = None
        if len(points.xs):
            points.lo = points.center + [float(points.xs.min()), float(points.ys.min())]
            points.hi = points.center + [float(points.xs.max()), float(points.ys.max())]
        else:
            points.lo = points.hi = np.zeros(2)
        return points

    def sorted(self) -> SortedPoints:
        """The same points in grid order, with the grid: the one sort of a layout. Pure numpy, no shared state
        touched, so it runs in a worker thread while the unsorted points are drawn."""
        if self.grid is not None:
            return self
        out = SortedPoints.__new__(SortedPoints)
        out.n_total, out.center, out.lo, out.hi = self.n_total, self.center, self.lo, self.hi
        out.grid = GridIndex.from_centred(self.xs, self.ys, self.index, self.center, self.n_total)
        out.xs, out.ys, out.index = out.grid.x, out.grid.y, out.grid.index
        return out

    def _adopt(self, other: SortedPoints) -> None:
        self.__dict__.update(other.__dict__)

    def __len__(self) -> int:
        return len(self.xs)

    @property
    def missing_count(self) -> int:
        return self.n_total - len(self.xs)

    @property
    def columns(self) -> Columns | None:
        """Where each grid column begins (None before the sort)."""
        if self.grid is None:
            return None
        return Columns(float(self.grid.origin[0]), float(self.grid.cell_size[0]), self.grid.column_starts)


def cells_of(grid: GridIndex, starts: np.ndarray) -> Cells:
    """The grid's cells, beginning at ``starts`` in some layer's point order."""
    return Cells(float(grid.origin[0]), float(grid.origin[1]), float(grid.cell_size[0]), float(grid.cell_size[1]),
                 int(grid.shape[0]), starts)


def build_layers(points: SortedPoints, slots: np.ndarray, palette: np.ndarray, shown: np.ndarray | None = None,
                 selected: np.ndarray | None = None) -> list[Layer]:
    """The draw passes for one style: the points of shown classes, the selection on top of the greyed rest.

    ``slots`` (N,) uint8 colour slot per original row; ``palette`` (256, 3) uint8 colour of each slot;
    ``shown`` (N,) bool or None for all; ``selected`` (N,) bool or None for no selection.
    """
    slot_sorted = slots[points.index]
    keys_sorted = point_rank(points.index)
    keys_sorted |= slot_sorted
    keep = None if shown is None else shown[points.index]
    grid = points.grid

    def layer(mask: np.ndarray | None, key_bits: int, grey: bool) -> Layer:
        xs = points.xs if mask is None else points.xs[mask]
        ys = points.ys if mask is None else points.ys[mask]
        cells = None
        if grid is not None:
            cells = cells_of(grid, grid.starts if mask is None else subset_starts(grid.starts, mask))
        if grey:
            drawn = Layer(xs, ys, GREY_SLOT, GREY_SLOT, palette, cells)
        else:
            s = slot_sorted if mask is None else slot_sorted[mask]
            keys = keys_sorted if mask is None else keys_sorted[mask]
            if key_bits:
                keys = keys | np.uint32(key_bits)
            drawn = Layer(xs, ys, keys, s, palette, cells)
        if grid is not None and len(drawn) > min(LOD_POINTS, COUNTED_LOD_POINTS):
            drawn.with_detail(grid)
        return drawn

    if selected is None:
        return [layer(keep, 0, grey=False)]
    sel = selected[points.index]
    rest = ~sel if keep is None else keep & ~sel
    chosen = sel if keep is None else keep & sel
    return [layer(rest, 0, grey=True), layer(chosen, SELECTED_BITS, grey=False)]


def preview_layer(points: SortedPoints, palette: np.ndarray) -> Layer:
    """One colour for a cloud whose colours are still being prepared: every point, or, above LOD_POINTS (no
    level of detail exists yet), every k-th of them, so that no more than LOD_POINTS are drawn (40 ms of the GUI
    thread for ten million otherwise). Shown for the second or two the worker needs; then the real layers."""
    step = max(1, -(-len(points) // LOD_POINTS))
    if step == 1:
        return Layer(points.xs, points.ys, 1, 1, palette)
    # contiguous copies: the compiled kernels are built for contiguous coordinates
    xs, ys = np.ascontiguousarray(points.xs[::step]), np.ascontiguousarray(points.ys[::step])
    return Layer(xs, ys, 1, 1, palette)


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

    def y_range(self, pad: float) -> tuple[float, float]:
        """The data y interval whose rows fall in [-pad, height + pad)."""
        a = (-pad - self.by) / self.ay
        b = (self.height + pad - self.by) / self.ay
        return min(a, b), max(a, b)


def disc_stamp(diameter: int) -> np.ndarray:
    """(d, d) bool: the pixels of a dot ``diameter`` pixels wide."""
    d = max(1, int(diameter))
    c = np.arange(d) + 0.5 - d / 2.0
    return (c[:, None] ** 2 + c[None, :] ** 2) <= (d / 2.0) ** 2 + 0.25


def stamp_row_spans(stamp: np.ndarray) -> list[tuple[int, int] | None]:
    """Each row of a dot's stamp as (lo, hi), the column offsets of its first and last pixel from the anchor
    (``(d - 1) // 2``), or None for an empty row: the horizontal run a dilation takes for that row."""
    anchor = (stamp.shape[0] - 1) // 2
    spans: list[tuple[int, int] | None] = []
    for row in stamp:
        cols = np.flatnonzero(row)
        spans.append(None if cols.size == 0 else (int(cols[0]) - anchor, int(cols[-1]) - anchor))
    return spans


def dilate_max(image: np.ndarray, stamp: np.ndarray, scratch: tuple[np.ndarray, np.ndarray] | None = None
               ) -> np.ndarray:
    """Grey-scale dilation (maximum over the stamp) by shifted slices: one horizontal run per stamp row.

    Pixels within the stamp's radius of the border are not valid (the caller pads the canvas). ``scratch``: two
    arrays shaped like ``image`` to work in (the result is the second), so a frame allocates nothing; a square
    stamp (every disc up to 3 pixels) is separable: one horizontal and one vertical run, 2 (d - 1) passes.
    """
    d = stamp.shape[0]
    if d <= 1:
        return image
    anchor = (d - 1) // 2
    if stamp.all():
        run, result = scratch if scratch is not None else (np.empty_like(image), np.empty_like(image))
        shifts = [s for s in range(-anchor, d - anchor) if s]
        _max_of_shifts(image, run, shifts, axis=1)
        _max_of_shifts(run, result, shifts, axis=0)
        return result
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

    spans = stamp_row_spans(stamp)

    def run_of(row: int) -> np.ndarray | None:
        return None if spans[row] is None else horizontal(*spans[row])

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


def clear_ring(canvas: np.ndarray) -> None:
    """Zero the outermost rows and columns of a padded canvas: where the points off the canvas were put."""
    canvas[0] = canvas[-1] = 0
    canvas[:, 0] = canvas[:, -1] = 0


def _max_of_shifts(src: np.ndarray, dst: np.ndarray, shifts: list[int], axis: int) -> None:
    """dst = the maximum of ``src`` shifted by each of ``shifts`` (and not shifted) along ``axis``; the first shift
    writes ``dst`` outright, so no pass is spent copying."""

    def cut(a: np.ndarray, lo: int | None, hi: int | None) -> np.ndarray:
        return a[:, lo:hi] if axis == 1 else a[lo:hi]

    first = True
    for s in shifts:
        # dst[i] takes src[i - s]: for s > 0 the part [s:], for s < 0 the part [:s]
        target, source = ((s, None), (None, -s)) if s > 0 else ((None, s), (-s, None))
        base = src if first else dst
        np.maximum(cut(base, *target), cut(src, *source), out=cut(dst, *target))
        if first:
            rest = (None, s) if s > 0 else (s, None)  # the border the shift does not reach
            np.copyto(cut(dst, *rest), cut(src, *rest))
            first = False
    if first:
        np.copyto(dst, src)


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


def over_backdrop(lut: np.ndarray, backdrop: int) -> np.ndarray:
    """A premultiplied colour table composed over one opaque colour (0xAARRGGBB): every entry opaque, the
    empty key the backdrop itself. Frames drawn with it need no blending when shown (see
    `qt.point_cloud.PointCloudItem.backdrop`)."""
    lut = np.asarray(lut, np.uint32)
    alpha = (lut >> np.uint32(24)).astype(np.uint32)
    keep = np.uint32(255) - alpha
    out = np.full(lut.shape, 0xFF000000, np.uint32)
    for shift in (16, 8, 0):
        colour = (lut >> np.uint32(shift)) & np.uint32(0xFF)
        under = np.uint32((backdrop >> shift) & 0xFF)
        # c + b (255 - a) / 255, rounded (the premultiplied "over")
        mixed = colour + (under * keep + np.uint32(127)) // np.uint32(255)
        out |= np.minimum(mixed, np.uint32(255)) << np.uint32(shift)
    return out


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
        self._dilation: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._slots = np.zeros((0, 0), np.uint8)
        self._sums: np.ndarray | None = None
        self._ones = np.ones(0, np.float32)
        self._ones_u32 = np.ones(0, np.uint32)
        self._counts = np.zeros(0, np.uint32)
        self._work: tuple[np.ndarray, ...] | None = None
        self._compiled_buffers: dict[tuple, np.ndarray] = {}
        self._cleared: list[np.ndarray] = []  # the work arrays the last frame left zero (see `_clear_buffer`)
        self._no_weights = np.ones(1, np.uint32)
        self._density_touched_n = 0  # how many pixels the last compiled density frame filled
        # the sparse frames' canvas, kept clear but for the pixels the last one wrote (see `_render_sparse`)
        self._sparse_canvas = np.zeros((0, 0), np.uint16)
        self._sparse_touched = np.empty(0, np.int64)
        self._sparse_touched_n = 0
        self._sparse_frame: tuple | None = None  # (frame shape, empty colour) of the last sparse frame
        self._sparse_clean = False  # whether the frame given last holds the last sparse frame, untouched

    def _scratch(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per-frame work arrays, kept between frames: fresh multi-megabyte arrays cost page faults every frame.

        (float32 products, int32 columns, int32 rows, intp pixel indices: numpy scatters through intp
        indices without converting them, twice as fast as through int32.)
        """
        if self._work is None or len(self._work[0]) < n:
            self._work = (np.empty(n, np.float32), np.empty(n, np.int32), np.empty(n, np.int32),
                          np.empty(n, np.intp))
        return tuple(a[:n] for a in self._work)

    def _dilated(self, image: np.ndarray, stamp: np.ndarray) -> np.ndarray:
        key = (image.shape, image.dtype.str)
        if key not in self._dilation:
            self._dilation = {key: (np.empty_like(image), np.empty_like(image))}
        return dilate_max(image, stamp, self._dilation[key])

    def _dilate_into(self, canvas: np.ndarray, stamp: np.ndarray, lut: np.ndarray, mask, use_lut: bool,
                     out: np.ndarray, pad: int) -> None:
        """out = the canvas dilated by the dot (`dilate_max`'s pixels), cropped by ``pad``, through the colour
        table ``lut`` (``use_lut``) or as it is (density colours), compiled, with the canvas left zero for the
        next frame: one pass over it through a few rolling rows (square dots of 2 and 3 pixels, the usual
        sizes, with the shifts as constants; any other disc, a high-DPI screen's 6-pixel dot, one horizontal
        run per distinct row span of the dot)."""
        d = stamp.shape[0]
        h, w = canvas.shape
        if d in (2, 3) and stamp.all():
            rows = self._buffer_uninitialised("rolling rows", (4, w), canvas.dtype)
            splat_jit.kernel("dilate_square_lut")(canvas, rows, lut, mask, use_lut, out, pad, d)
            return
        of_row = stamp_row_spans(stamp)
        spans = sorted({span for span in of_row if span is not None})  # the distinct runs, each made once
        span_of_row = np.array([-1 if span is None else spans.index(span) for span in of_row], np.int64)
        runs = self._buffer_uninitialised("disc runs", (len(spans), d, w), canvas.dtype)
        acc = self._buffer_uninitialised("disc row", (w,), canvas.dtype)
        splat_jit.kernel("dilate_disc_lut")(canvas, runs, np.array(spans, np.int64).reshape(-1, 2), span_of_row, acc,
                                            lut, mask, use_lut, out, pad, (d - 1) // 2)

    def _buffer_uninitialised(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """A work array kept between frames of the same size, its contents left as they are (it is written
        whole)."""
        key = (name, shape, np.dtype(dtype).str)
        array = self._compiled_buffers.get(key)
        if array is None:
            for old in [k for k in self._compiled_buffers if k[0] == name]:
                dropped = self._compiled_buffers.pop(old)
                self._cleared = [kept for kept in self._cleared if kept is not dropped]
            array = self._compiled_buffers[key] = np.empty(shape, dtype)
        return array

    @staticmethod
    def _span(layer: Layer, pm: PixelMap, pad: int, width: int, height: int) -> tuple[int, int, bool]:
        """(i0, i1, whole): the slice of the layer's points a frame must read, and whether they all land on the
        canvas (the usual "see everything" frame: then no per-point test)."""
        if not len(layer):
            return 0, 0, True
        cols_spanned = sorted(v * pm.ax + pm.bx + pad for v in layer.x_range)
        rows_spanned = sorted(v * pm.ay + pm.by + pad for v in layer.y_range)
        whole = (rows_spanned[0] >= 0 and rows_spanned[1] < height - 1 and cols_spanned[0] >= 0
                 and cols_spanned[1] < width - 1)
        if whole or layer.columns is None:
            return 0, len(layer), whole
        i0, i1 = layer.columns.span(*pm.x_range(pad))
        return i0, i1, False

    def _ranges(self, layer: Layer, pm: PixelMap, pad: int, width: int, height: int) -> np.ndarray:
        """(k, 2) int64 slices of the layer's points a compiled frame reads: all of them when they all land on
        the canvas, else the cells under the view, column by column (`Cells.ranges`: a medium zoom of ten
        million points read a fifth of them through whole grid columns, most of them above or below the
        view), else the columns in view."""
        i0, i1, whole = self._span(layer, pm, pad, width, height)
        if whole or layer.cells is None or i1 <= i0:
            return np.array([[i0, i1]], np.int64)
        # the canvas with its padding, in the layer's centred data units (`_span` covers the padding too)
        x_lo, x_hi = pm.x_range(pad)
        y_lo, y_hi = pm.y_range(pad)
        return layer.cells.ranges(x_lo, x_hi, y_lo, y_hi)

    def _pixels(self, layer: Layer, pm: PixelMap, pad: int, width: int, height: int):
        """Flat pixel index (in the padded canvas) of each point of the layer's slice in view, and that slice.

        Points off the canvas land on its outer ring (see `clear_ring`). The index array is scratch space: valid
        until the next call.
        """
        i0, i1, whole = self._span(layer, pm, pad, width, height)
        if i1 <= i0:
            return None, None
        f, col, row, flat = self._scratch(int(i1 - i0))
        with np.errstate(invalid="ignore", over="ignore"):  # far-off points overflow the cast; masked below
            for coords, out, a, b, span in ((layer.xs[i0:i1], col, pm.ax, pm.bx, layer.x_range),
                                            (layer.ys[i0:i1], row, pm.ay, pm.by, layer.y_range)):
                if abs(a) * max(abs(span[0]), abs(span[1])) < 2.0 ** 14:
                    # every product below 16384 pixels: float32 keeps 1/1000 of a pixel, one multiply will do
                    np.multiply(coords, np.float32(a), out=f)
                    np.add(f, np.float32(b + pad), out=out, casting="unsafe")
                else:
                    # deep zoom: (x - x_origin) * a + rest, since the subtraction of nearby float32 values is
                    # exact, so pixels stay exact (what remains is the float32 storage, ~1e-7 of the extent)
                    origin = np.float32(-b / a)
                    np.subtract(coords, origin, out=f)
                    f *= np.float32(a)
                    np.add(f, np.float32(b + float(origin) * a + pad), out=out, casting="unsafe")
        if not whole:
            # points off the canvas go to its outer ring, padding that no dot reaches the view from (cropped;
            # callers that count points per pixel clear it): cheaper than compressing every array
            np.clip(col, 0, width - 1, out=col)
            np.clip(row, 0, height - 1, out=row)
        # (truncation toward zero puts points just left of / above the canvas in its first column or row: the
        # same ring)
        row *= np.int32(width)
        row += col
        np.copyto(flat, row)  # numpy scatters through intp indices twice as fast as through int32
        return flat, np.s_[i0:i1]

    def render(self, layers: list[Layer], pm: PixelMap, stamp: np.ndarray, lut: np.ndarray,
               count: bool) -> np.ndarray:
        """(height, width) uint32 premultiplied ARGB. ``count``: let opacity build up where points pile up."""
        image = self._key_image(layers, pm, stamp, count)
        if count:
            return np.take(lut, low_half(image))
        return np.take(lut, image & np.uint16(0x80FF))  # drop the rank bits: count 0 reads as one point

    def render_into(self, layers: list[Layer], pm: PixelMap, stamp: np.ndarray, lut: np.ndarray, count: bool,
                    out: np.ndarray, kept: bool = False) -> None:
        """Write the frame straight into ``out``, (height, width) uint32 premultiplied ARGB (an image's own
        buffer: no frame-sized temporary, no format conversion). ``lut`` is `key_lut`'s table (or one composed
        over a backdrop, `over_backdrop`). The compiled kernels draw it where numba is installed and compiled
        (`core.splat_jit`), else the numpy path. ``kept``: ``out`` holds this rasteriser's last frame, untouched
        since (then a frame of few points only redraws the pixels of the last one and its own)."""
        sparse_was_clean, self._sparse_clean = self._sparse_clean and kept, False
        layers = self._in_detail(layers, pm, stamp, counted=count)
        if splat_jit.ready():
            self._render_compiled(layers, pm, stamp, lut, count, out, sparse_was_clean)
        elif count:
            np.take(lut, low_half(self._key_image(layers, pm, stamp, True)), out=out, mode="clip")
        else:
            # at full opacity a colour depends on the slot alone: one 256-entry table (1 KB, in cache), one take
            np.take(lut[:256], self.render_slots(layers, pm, stamp), out=out, mode="clip")

    def _in_detail(self, layers: list[Layer], pm: PixelMap, stamp: np.ndarray, counted: bool) -> list[Layer]:
        """Each layer, or its level of detail where more than LOD_POINTS (COUNTED_LOD_POINTS for the counting
        level, which keeps every point's count and colour) of its points are in view and its grid
        cells are at most a pixel wide and high: the sample of each cell at full opacity (every pixel a point
        covers is then covered by the sample too), each cell's points per colour with their counts when the
        frame counts (``counted``: partial opacity, density)."""
        pad = stamp.shape[0] // 2 + 1
        w, h = pm.width + 2 * pad, pm.height + 2 * pad
        drawn = []
        for layer in layers:
            detail = layer.counted if counted else layer.detail
            if detail is not None:
                cell_w, cell_h = layer.detail_cell
                i0, i1, _ = self._span(layer, pm, pad, w, h)
                enough = COUNTED_LOD_POINTS if counted else LOD_POINTS
                if i1 - i0 > enough and abs(pm.ax) * cell_w <= 1.0 and abs(pm.ay) * cell_h <= 1.0:
                    layer = detail
            drawn.append(layer)
        return drawn

    def _buffer(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """A zeroed work array of the compiled path, kept between frames of the same size."""
        array = self._buffer_uninitialised(name, shape, dtype)
        array.fill(0)
        return array

    def _clear_buffer(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """`_buffer`, zeroed only when the frame that used it last did not leave it zero (`_left_clear`): the
        kernels that read a canvas row last clear it while it is in the cache, which saves a pass of its own.
        The buffer counts as used until it is declared clear again, so a frame that fails half-way leaves the
        next one to clear it."""
        array = self._buffer_uninitialised(name, shape, dtype)
        if not any(kept is array for kept in self._cleared):
            array.fill(0)
        self._cleared = [kept for kept in self._cleared if kept is not array]
        return array

    def _left_clear(self, array: np.ndarray) -> None:
        """Declare a `_clear_buffer` array zero again."""
        self._cleared.append(array)

    def _render_compiled(self, layers: list[Layer], pm: PixelMap, stamp: np.ndarray, lut: np.ndarray,
                         count: bool, out: np.ndarray, sparse_was_clean: bool = False) -> None:
        """`render_into` with one pass over the points in view and one over the canvas (none for a sparse
        frame: `_render_sparse`)."""
        pad = stamp.shape[0] // 2 + 1
        w, h = pm.width + 2 * pad, pm.height + 2 * pad
        spans = [self._ranges(layer, pm, pad, w, h) for layer in layers]
        in_view = sum(int((ranges[:, 1] - ranges[:, 0]).sum()) for ranges in spans)
        n_offsets = int(stamp.sum())
        if not count and stamp.shape[0] > 1 and in_view * n_offsets < SPARSE_STAMP_SHARE * w * h:
            self._render_sparse(layers, spans, pm, stamp, lut, out, pad, sparse_was_clean, in_view * n_offsets)
            return
        dtype = np.uint32 if count else np.uint16
        canvas = self._clear_buffer("canvas", (h, w), dtype)
        counts = self._clear_buffer("counts", (h, w), np.uint32) if count else self._buffer("counts", (1, 1),
                                                                                          np.uint32)
        bx, by = pm.bx + pad, pm.by + pad
        index = self._index_scratch(SPLAT_BLOCK)
        for layer, ranges in zip(layers, spans, strict=True):
            keys = layer.keys if count else layer.keys16
            per_point = keys if isinstance(keys, np.ndarray) else np.zeros(1, dtype)
            weights = layer.weights if layer.weights is not None else self._no_weights
            splat_jit.kernel("splat")(layer.xs, layer.ys, per_point, dtype(0 if per_point is keys else keys),
                                      per_point is not keys, ranges, pm.ax, bx, pm.ay, by, w, h, canvas.ravel(),
                                      counts.ravel(), count, index, weights, layer.weights is not None)
        if count:
            splat_jit.kernel("merge_counts")(canvas, counts, np.uint32(MAX_COUNT))  # leaves the counts zero
            self._left_clear(counts)
        # at full opacity a colour depends on the slot alone: the table's first 256 entries (1 KB, in cache)
        mask, lut = (dtype(0xFFFF), lut) if count else (dtype(0xFF), lut[:256])
        if stamp.shape[0] > 1:  # dilated, coloured and cleared in one pass
            self._dilate_into(canvas, stamp, lut, mask, True, out, pad)
            self._left_clear(canvas)
        else:
            splat_jit.kernel("lut_crop")(canvas, lut, mask, out, pad)

    def _render_sparse(self, layers: list[Layer], spans: list[np.ndarray], pm: PixelMap,
                       stamp: np.ndarray, lut: np.ndarray, out: np.ndarray, pad: int, was_clean: bool,
                       most_pixels: int) -> None:
        """A frame of few points (a deep zoom) at full opacity: each dot stamped whole into a canvas kept between
        such frames, its pixels coloured in ``out`` as they are written (`splat_jit._stamp_into_frame`). The
        pixels the last sparse frame wrote are reset first where ``out`` still holds it, else the canvas and
        ``out`` are cleared whole: no pass over the whole canvas otherwise."""
        w, h = pm.width + 2 * pad, pm.height + 2 * pad
        canvas = self._sparse_canvas
        empty = np.uint32(lut[0])
        if (was_clean and canvas.shape == (h, w) and self._sparse_frame == (out.shape, int(empty))
                and self._sparse_touched_n <= len(self._sparse_touched)):
            splat_jit.kernel("unstamp")(canvas, out, self._sparse_touched, self._sparse_touched_n, pad, empty)
        else:
            if canvas.shape != (h, w):
                canvas = self._sparse_canvas = np.zeros((h, w), np.uint16)
            else:
                canvas.fill(0)
            out.fill(empty)
        if len(self._sparse_touched) < most_pixels:
            self._sparse_touched = np.empty(max(most_pixels, 2 * len(self._sparse_touched)), np.int64)
        offsets = np.argwhere(stamp) - (stamp.shape[0] - 1) // 2
        off_y, off_x = offsets[:, 0].copy(), offsets[:, 1].copy()
        bx, by = pm.bx + pad, pm.by + pad
        touched = 0
        for layer, ranges in zip(layers, spans, strict=True):
            keys = layer.keys16
            per_point = keys if isinstance(keys, np.ndarray) else np.zeros(1, np.uint16)
            touched = splat_jit.kernel("stamp_into_frame")(
                layer.xs, layer.ys, per_point, np.uint16(0 if per_point is keys else keys), per_point is not keys,
                ranges, pm.ax, bx, pm.ay, by, canvas, off_y, off_x, lut[:256], np.uint16(0xFF), out, pad,
                self._sparse_touched, touched)
        self._sparse_touched_n = int(touched)
        self._sparse_frame = (out.shape, int(empty))
        self._sparse_clean = True

    def _index_scratch(self, n: int) -> np.ndarray:
        """int32 pixel indices of one block of points (a canvas never has 2**31 pixels), kept between frames."""
        index = self._compiled_buffers.get(("index",))
        if index is None or len(index) < n:
            index = self._compiled_buffers[("index",)] = np.empty(n, np.int32)
        return index

    def render_slots(self, layers: list[Layer], pm: PixelMap, stamp: np.ndarray) -> np.ndarray:
        """(height, width) uint8 colour slot of each pixel, at full opacity (a 256-entry table look-up colours it,
        cheaper than the 65536-entry one). The array is the rasteriser's own buffer, overwritten by the next
        frame."""
        image = self._key_image(layers, pm, stamp, count=False)
        if self._slots.shape != image.shape:
            self._slots = np.empty(image.shape, np.uint8)
        if sys.byteorder == "little":
            np.copyto(self._slots, image.view(np.uint8)[:, ::2])
        else:
            np.copyto(self._slots, image & np.uint16(0xFF), casting="unsafe")
        return self._slots

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
        # few points in view (a zoom): stamp each point's dot straight into the canvas (numpy's fast
        # ``maximum.at``, one pass per stamp pixel) instead of dilating the whole canvas afterwards
        offsets = np.argwhere(stamp) - (stamp.shape[0] - 1) // 2
        in_view = sum(i1 - i0 for i0, i1, _ in (self._span(layer, pm, pad, w, h) for layer in layers))
        sparse = not count and in_view * len(offsets) < SPARSE_STAMP_SHARE * size
        for layer in layers:
            flat, sl = self._pixels(layer, pm, pad, w, h)
            if flat is None:
                continue
            point_keys = layer.keys if count else layer.keys16
            k = point_keys[sl] if isinstance(point_keys, np.ndarray) else point_keys
            if sparse:
                # a dot pixel outside the padded canvas wraps to another row's padding: cropped, never seen
                shifted = np.empty_like(flat)
                for dy, dx in offsets:
                    np.add(flat, np.intp(dy * w + dx), out=shifted)
                    np.clip(shifted, 0, size - 1, out=shifted)
                    np.maximum.at(keys, shifted, k if isinstance(k, np.ndarray) else keys.dtype.type(k))
                continue
            keys[flat] = k
            if counts is not None:
                if self._ones_u32.size < flat.size:
                    self._ones_u32 = np.ones(flat.size, np.uint32)
                # ufunc.at with matching dtypes takes numpy's fast path (no bincount-sized allocation per frame)
                weights = self._ones_u32[:flat.size] if layer.weights is None else layer.weights[sl]
                np.add.at(counts, flat, weights)
        if counts is not None:
            clear_ring(counts.reshape(h, w))  # the points off the canvas (see `_pixels`)
            np.minimum(counts, np.uint32(MAX_COUNT), out=counts)
            counts <<= np.uint32(8)
            keys |= counts
        image = keys.reshape(h, w) if sparse else self._dilated(keys.reshape(h, w), stamp)
        return image[pad:pad + pm.height, pad:pad + pm.width]

    def _density_compiled(self, layers: list[Layer], pm: PixelMap, pad: int, stamp: np.ndarray,
                          opacity: float, out: np.ndarray) -> None:
        """`render_density_into` compiled: one pass over each layer's points in view (`splat_jit._density_splat`,
        which lists the pixels it fills and finds the largest count), then the filled pixels coloured and their
        sums cleared for the next frame (the listed ones when they are few, a zoom; else one pass over the
        canvas), then the dilation into ``out`` in one pass that also clears the colour buffer (`_dilate_into`;
        one-pixel dots are copied and their listed pixels cleared)."""
        w, h = pm.width + 2 * pad, pm.height + 2 * pad
        size = w * h
        argb = self._clear_buffer("density", (h, w), np.uint32)
        # count, then red, green and blue times the count, side by side; the last entry is the spare, where the
        # points off the canvas go
        sums = self._clear_buffer("density sums", (size + 1, 4), np.float32)
        filled = self._buffer_uninitialised("density filled", (size,), np.int32)  # the pixels it fills, listed
        sums[size] = (-np.inf, 0.0, 0.0, 0.0)
        touched = 0
        largest = np.zeros(1, np.float32)
        index = self._index_scratch(SPLAT_BLOCK)
        for layer in layers:
            weights = layer.weights if layer.weights is not None else self._no_weights
            touched = splat_jit.kernel("density_splat")(
                layer.xs, layer.ys, layer.rgb, weights, layer.weights is not None, self._ranges(layer, pm, pad, w, h),
                pm.ax, pm.bx + pad, pm.ay, pm.by + pad, w, h, sums, index, filled, touched, largest)
        level = np.float32(np.clip(opacity, 0.0, 1.0))
        flat = argb.ravel()
        if touched < size // 8:
            splat_jit.kernel("density_pack_touched")(sums, largest[0], level, LOG1P_TABLE, filled, touched, flat)
        else:
            splat_jit.kernel("density_pack")(sums, largest[0], level, LOG1P_TABLE, flat)
        sums[size] = 0  # the filled pixels' sums were cleared as they were coloured: all of them are zero again
        self._left_clear(sums)
        self._density_touched_n = touched
        if stamp.shape[0] > 1:  # dilated and cropped into ``out`` in one pass, which clears the colours
            self._dilate_into(argb, stamp, self._no_weights, np.uint32(0), False, out, pad)
        else:
            np.copyto(out, argb[pad:pad + pm.height, pad:pad + pm.width])
            splat_jit.kernel("zero_at")(flat, filled, touched)
        self._left_clear(argb)

    def _density_numpy(self, layers: list[Layer], pm: PixelMap, pad: int, sums: np.ndarray) -> None:
        """The density sums with numpy's ``add.at``: count (or weight), then each colour channel times it."""
        w, h = pm.width + 2 * pad, pm.height + 2 * pad
        for layer in layers:
            flat, sl = self._pixels(layer, pm, pad, w, h)
            if flat is None:
                continue
            if self._ones.size < flat.size:
                self._ones = np.ones(flat.size, np.float32)
            # ufunc.at with matching float32 dtypes takes numpy's fast path: faster than bincount here, no allocation
            counts = self._ones[:flat.size] if layer.weights is None else layer.weights[sl].astype(np.float32)
            np.add.at(sums[0], flat, counts)
            for k in range(3):
                channel = layer.rgb[k, sl] if layer.weights is None else layer.rgb[k, sl] * counts
                np.add.at(sums[k + 1], flat, channel)

    def render_density(self, layers: list[Layer], pm: PixelMap, stamp: np.ndarray, opacity: float) -> np.ndarray:
        """A log-scaled 2-D histogram at screen resolution; each pixel the mean colour of its points."""
        out = np.empty((pm.height, pm.width), np.uint32)
        self.render_density_into(layers, pm, stamp, opacity, out)
        return out

    def render_density_into(self, layers: list[Layer], pm: PixelMap, stamp: np.ndarray, opacity: float,
                            out: np.ndarray) -> None:
        """`render_density` straight into ``out``, (height, width) uint32 premultiplied ARGB (an image's own
        buffer, kept between frames: no frame-sized allocation)."""
        self._sparse_clean = False  # ``out`` may be the buffer the sparse frames draw into
        pad = stamp.shape[0] // 2 + 1
        w, h = pm.width + 2 * pad, pm.height + 2 * pad
        size = w * h
        layers = self._in_detail(layers, pm, stamp, counted=True)
        if splat_jit.ready():
            self._density_compiled(layers, pm, pad, stamp, opacity, out)
            return
        if self._sums is None or self._sums.shape[1] != size:
            self._sums = np.zeros((4, size), np.float32)  # count, then r, g, b sums
        sums = self._sums
        sums.fill(0)
        self._density_numpy(layers, pm, pad, sums)
        for plane in sums:
            clear_ring(plane.reshape(h, w))  # the points off the canvas (see `_pixels`)
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
        np.copyto(out, image[pad:pad + pm.height, pad:pad + pm.width])
