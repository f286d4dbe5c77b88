"""Find points fast: a uniform grid over 2-D coordinates for hover look-ups, rectangles and lassos.

The grid is built once per layout (one argsort, safe to run off the GUI thread) and its order is shared with the
rasteriser: cells are numbered column by column, so the points of any range of grid columns are one slice of
the sorted arrays (what a frame reads) and the points of one cell are one slice too (what a look-up reads).
Coordinates are kept as float32 offsets from a centre near the bulk of the points (the median of a sample),
8 bytes per point, exact to about 1e-7 of the cloud's extent. A query touches only the cells under its search
rectangle, so the point under the mouse is found in well under a millisecond among a million. Radii are given
per axis (in data units), which makes the search a circle in *screen* space whatever the aspect ratio of the
view. `brute_nearest` answers the same question over unsorted points, for the moment before the grid exists.
"""

from __future__ import annotations

import numpy as np

from latent_explorer.core import splat_jit

POINTS_PER_CELL = 4
MAX_CELLS_PER_AXIS = 2048
CENTRE_SAMPLE = 10_000
BOX_CANDIDATES = 1 << 16  # points a compiled box search collects before handing over to numpy (a huge radius)


def centre_of(xy: np.ndarray) -> np.ndarray:
    """(2,) float64: the median of an evenly strided sample of the finite rows (cheap, robust to outliers)."""
    step = max(1, len(xy) // CENTRE_SAMPLE)
    sample = xy[::step]
    sample = sample[np.isfinite(sample).all(axis=1)]
    if not len(sample):
        return np.zeros(2)
    # the median by partition: np.median imports numpy.ma on first use (150 ms in the GUI thread)
    half = len(sample) // 2
    part = np.partition(sample, (half - 1, half) if len(sample) % 2 == 0 else half, axis=0)
    middle = part[half] if len(sample) % 2 else (part[half - 1] + part[half]) / 2.0
    return np.asarray(middle, np.float64)


def centred_float32(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, rows, centre): float32 offsets from ``centre`` of the finite rows, and which rows they are."""
    xy = np.asarray(xy)
    index_type = np.int32 if len(xy) < 2**31 else np.int64
    with np.errstate(over="ignore", invalid="ignore"):
        all_finite = bool(np.isfinite(xy.sum()))  # one reduction; huge values overflowing fall to the full test
    if all_finite:
        rows = np.arange(len(xy), dtype=index_type)
    else:
        rows = np.flatnonzero(np.isfinite(xy).all(axis=1)).astype(index_type)
    source = xy if len(rows) == len(xy) else xy[rows]
    # the centre in the input's precision, so that the float64 centre kept is exactly the one subtracted
    centre = centre_of(xy).astype(source.dtype).astype(np.float64)
    xs, ys = np.empty(len(rows), np.float32), np.empty(len(rows), np.float32)
    # subtracted in the input's precision and rounded once, into the float32 arrays: no (N,) temporaries
    np.subtract(source[:, 0], source.dtype.type(centre[0]), out=xs, casting="same_kind")
    np.subtract(source[:, 1], source.dtype.type(centre[1]), out=ys, casting="same_kind")
    return xs, ys, rows, centre


def brute_nearest(xs: np.ndarray, ys: np.ndarray, rows: np.ndarray | None, x: float, y: float, rx: float, ry: float,
                  allowed: np.ndarray | None = None) -> int:
    """`GridIndex.nearest` over every point (centred float32 ``xs``, ``ys`` of the original ``rows``, in row
    order; ``rows=None``: position i is row i), for look-ups while the grid is being built. The points within
    the box are found in one compiled pass where numba is ready (`core.splat_jit`: 10 million rows of a float64
    array in some 20 ms, against 140 ms for numpy's passes and temporaries), else with numpy."""
    if not (rx > 0 and ry > 0 and np.isfinite([x, y, rx, ry]).all()) or len(xs) == 0:
        return -1
    near = _in_box(xs, ys, x, y, rx, ry)
    if allowed is not None:
        near = near[allowed[near if rows is None else rows[near]]]
    if near.size == 0:
        return -1
    # distances again in float64 for the few candidates, as the grid measures them
    dx = (xs[near].astype(np.float64) - x) / rx
    dy = (ys[near].astype(np.float64) - y) / ry
    d = dx * dx + dy * dy
    best = d.min()
    if not best <= 1.0:
        return -1
    ties = near[d == best]
    return int((ties if rows is None else rows[ties]).min())


def _in_box(xs: np.ndarray, ys: np.ndarray, x: float, y: float, rx: float, ry: float) -> np.ndarray:
    """Positions of the points with |x_i - x| <= rx and |y_i - y| <= ry (a hair wider: the exact test follows),
    compared in the arrays' own precision against float32 bounds."""
    x32, y32 = np.float32(x), np.float32(y)
    rx32, ry32 = np.float32(rx) * np.float32(1.0001), np.float32(ry) * np.float32(1.0001)
    if splat_jit.ready() and xs.dtype == ys.dtype and xs.dtype in (np.float32, np.float64):
        kind = xs.dtype.type
        found = np.empty(min(len(xs), BOX_CANDIDATES), np.int64)
        count = splat_jit.kernel("in_box")(xs, ys, kind(x32), kind(y32), kind(rx32), kind(ry32), found)
        if count >= 0:
            return found[:count]
    # the points in the vertical strip first (two passes over all), the rest on those few
    dx = xs - x32
    np.abs(dx, out=dx)
    near = np.flatnonzero(dx <= rx32)
    return near[np.abs(ys[near] - y32) <= ry32]


def brute_in_rect(xs: np.ndarray, ys: np.ndarray, rows: np.ndarray | None, x0: float, x1: float, y0: float,
                  y1: float, allowed: np.ndarray | None = None) -> np.ndarray:
    """`GridIndex.in_rect` over every point (centred coordinates), for the moment before the grid exists."""
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    if len(xs) == 0 or not np.isfinite([x0, x1, y0, y1]).all():
        return np.zeros(0, np.int64)
    inside = _inside(xs, ys, x0, x1, y0, y1)
    picked = np.flatnonzero(inside) if rows is None else rows[inside].astype(np.int64)
    if allowed is not None:
        picked = picked[allowed[picked]]
    return np.sort(picked)


def brute_in_polygon(xs: np.ndarray, ys: np.ndarray, rows: np.ndarray | None, polygon: np.ndarray,
                     allowed: np.ndarray | None = None) -> np.ndarray:
    """`GridIndex.in_polygon` over every point (centred coordinates and polygon)."""
    poly = _clean_polygon(polygon)
    if len(poly) < 3 or len(xs) == 0:
        return np.zeros(0, np.int64)
    (x0, y0), (x1, y1) = poly.min(axis=0), poly.max(axis=0)
    box = np.flatnonzero(_inside(xs, ys, x0, x1, y0, y1))
    inside = points_in_polygon(xs[box].astype(np.float64), ys[box].astype(np.float64), poly)
    picked = box[inside].astype(np.int64) if rows is None else rows[box[inside]].astype(np.int64)
    if allowed is not None:
        picked = picked[allowed[picked]]
    return np.sort(picked)


def _inside(px: np.ndarray, py: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Inclusive rectangle test, compared in float64 so that the bounds are not rounded to float32."""
    px, py = px.astype(np.float64), py.astype(np.float64)
    return (px >= x0) & (px <= x1) & (py >= y0) & (py <= y1)


def _clean_polygon(polygon: np.ndarray) -> np.ndarray:
    poly = np.asarray(polygon, dtype=np.float64)
    return poly[np.isfinite(poly).all(axis=1)]


class GridIndex:
    """Points of an (N, 2) array bucketed into a grid; NaN/inf rows are left out.

    ``GridIndex(xy)`` builds it from raw coordinates; `GridIndex.from_centred` from float32 offsets already made
    (the scatter's, so that its sort serves both the rasteriser and the look-ups). Public arrays, in grid order:
    ``x``, ``y`` (float32 offsets from ``centre``), ``index`` (original row of each), ``starts`` (where each
    cell begins; cells numbered column by column, ``cell = col * ny + row``).
    """

    def __init__(self, xy: np.ndarray):
        xs, ys, rows, centre = centred_float32(np.asarray(xy, dtype=np.float64))
        self._build(xs, ys, rows, centre, len(xy))

    @classmethod
    def from_centred(cls, xs: np.ndarray, ys: np.ndarray, rows: np.ndarray, centre: np.ndarray,
                     n_total: int) -> GridIndex:
        """The grid of float32 offsets ``xs``, ``ys`` from ``centre`` of the original ``rows`` (not copied
        beyond the sorted arrays it keeps)."""
        grid = cls.__new__(cls)
        grid._build(xs, ys, rows, centre, n_total)
        return grid

    def _build(self, xs: np.ndarray, ys: np.ndarray, rows: np.ndarray, centre: np.ndarray, n_total: int) -> None:
        self.n_total = n_total
        self.centre = np.asarray(centre, np.float64)
        n = len(xs)
        if n:
            # quantile bounds keep the cells useful when a few points lie far away (they go to the border cells)
            if n > 1000:
                step = max(1, n // 100_000)
                lo = np.array([np.quantile(xs[::step], 0.001), np.quantile(ys[::step], 0.001)], np.float64)
                hi = np.array([np.quantile(xs[::step], 0.999), np.quantile(ys[::step], 0.999)], np.float64)
            else:
                lo = np.array([xs.min(), ys.min()], np.float64)
                hi = np.array([xs.max(), ys.max()], np.float64)
        else:
            lo, hi = np.zeros(2), np.ones(2)
        span = np.maximum(hi - lo, 1e-12)
        per_axis = int(np.clip(np.sqrt(max(n, 1) / POINTS_PER_CELL), 1, MAX_CELLS_PER_AXIS))
        self.shape = (per_axis, per_axis)  # (ny, nx)
        self.origin = lo  # in centred coordinates
        self.cell_size = span / per_axis
        col = self._axis_cells(xs, 0)
        cell = self._axis_cells(ys, 1)
        cell += col * np.int32(per_axis)
        del col
        # numpy's SIMD quicksort: 5× faster than a stable sort; the order inside a cell does not matter (ties
        # are broken by row explicitly, and the same input always sorts the same way)
        order = np.argsort(cell)
        self.index = rows[order]
        self.x = xs[order]
        self.y = ys[order]
        counts = np.bincount(cell, minlength=per_axis * per_axis)
        del cell, order
        self.starts = np.zeros(per_axis * per_axis + 1, np.int64)
        np.cumsum(counts, out=self.starts[1:])

    def __len__(self) -> int:
        return len(self.index)

    @property
    def column_starts(self) -> np.ndarray:
        """(nx + 1,) where each grid column begins in the sorted arrays."""
        return self.starts[::self.shape[0]]

    def _axis_cells(self, values: np.ndarray, axis: int) -> np.ndarray:
        """int32 cell coordinate along ``axis`` of centred float32 values, border cells taking the outliers."""
        scaled = (values - np.float32(self.origin[axis])) * np.float32(1.0 / self.cell_size[axis])
        np.clip(scaled, 0, self.shape[axis] - 1, out=scaled)
        return scaled.astype(np.int32)

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """(col, row) of a centred position, clipped to the grid."""
        n = self.shape[0] - 1
        cx = (x - self.origin[0]) / self.cell_size[0]
        cy = (y - self.origin[1]) / self.cell_size[1]
        return int(np.clip(np.nan_to_num(cx), 0, n)), int(np.clip(np.nan_to_num(cy), 0, n))

    def _candidates(self, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
        """Positions (into the grid-sorted arrays) of every point in the cells the rectangle touches."""
        cx0, cy0 = self.cell_of(x0, y0)
        cx1, cy1 = self.cell_of(x1, y1)
        ny = self.shape[0]
        cols = np.arange(cx0, cx1 + 1)
        begins = self.starts[cols * ny + cy0]
        ends = self.starts[cols * ny + cy1 + 1]
        lengths = ends - begins
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, np.int64)
        # concatenate the ranges begins[k]:ends[k] without a Python loop
        offsets = np.repeat(begins - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        return offsets + np.arange(total)

    def nearest(self, x: float, y: float, rx: float, ry: float, allowed: np.ndarray | None = None) -> int:
        """Index of the point nearest to (x, y) within the ellipse of radii (rx, ry), or -1.

        Distances are measured in units of the radii (a screen-space circle when rx, ry are one radius in
        pixels converted to data units per axis). ``allowed`` (N,) bool skips the points marked False.
        Ties go to the smallest index.
        """
        if not (rx > 0 and ry > 0 and np.isfinite([x, y, rx, ry]).all()) or len(self) == 0:
            return -1
        x, y = x - self.centre[0], y - self.centre[1]
        cand = self._candidates(x - rx, x + rx, y - ry, y + ry)
        if cand.size == 0:
            return -1
        # in float64, like `brute_nearest` (a float32 array minus a Python float stays float32 in numpy 2)
        d2 = ((self.x[cand].astype(np.float64) - x) / rx) ** 2 + ((self.y[cand].astype(np.float64) - y) / ry) ** 2
        if allowed is not None:
            d2[~allowed[self.index[cand]]] = np.inf
        best = float(d2.min())
        if not best <= 1.0:
            return -1
        return int(self.index[cand[d2 == best]].min())

    def in_rect(self, x0: float, x1: float, y0: float, y1: float, allowed: np.ndarray | None = None) -> np.ndarray:
        """Sorted indices of the points with x0 <= x <= x1 and y0 <= y <= y1."""
        x0, x1 = min(x0, x1) - self.centre[0], max(x0, x1) - self.centre[0]
        y0, y1 = min(y0, y1) - self.centre[1], max(y0, y1) - self.centre[1]
        if len(self) == 0 or not np.isfinite([x0, x1, y0, y1]).all():
            return np.zeros(0, np.int64)
        cand = self._candidates(x0, x1, y0, y1)
        picked = self.index[cand[_inside(self.x[cand], self.y[cand], x0, x1, y0, y1)]].astype(np.int64)
        if allowed is not None:
            picked = picked[allowed[picked]]
        return np.sort(picked)

    def in_polygon(self, polygon: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """Sorted indices of the points inside a closed polygon (M, 2) (even-odd rule)."""
        poly = _clean_polygon(polygon) - self.centre
        if len(poly) < 3 or len(self) == 0:
            return np.zeros(0, np.int64)
        (x0, y0), (x1, y1) = poly.min(axis=0), poly.max(axis=0)
        cand = self._candidates(x0, x1, y0, y1)
        px, py = self.x[cand].astype(np.float64), self.y[cand].astype(np.float64)
        box = (px >= x0) & (px <= x1) & (py >= y0) & (py <= y1)
        cand, px, py = cand[box], px[box], py[box]
        inside = points_in_polygon(px, py, poly)
        picked = self.index[cand[inside]].astype(np.int64)
        if allowed is not None:
            picked = picked[allowed[picked]]
        return np.sort(picked)


def subset_starts(starts: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Where each cell begins among the points of grid order where ``mask`` is True (kept in order)."""
    kept = np.zeros(len(mask) + 1, np.int64)
    np.cumsum(mask, out=kept[1:])
    return kept[starts]


def sample_cells(starts: np.ndarray, shape: tuple[int, int], per_cell: int) -> tuple[np.ndarray, np.ndarray]:
    """A level of detail: (positions into grid order, where each column begins among them) of at most
    ``per_cell`` points of every cell (``starts``: where each cell begins, cells numbered column by column,
    ``shape`` (ny, nx)), evenly strided through the cell's slice (its points are in no particular order, so a
    stride takes them alike), in grid order. The border cells, which also hold the far outliers clamped into
    them, are kept whole."""
    ny, nx = shape
    counts = np.diff(starts).reshape(nx, ny)
    border = np.zeros((nx, ny), bool)
    border[0] = border[-1] = True
    border[:, 0] = border[:, -1] = True
    taken = np.where(border, counts, np.minimum(counts, per_cell)).ravel()
    step = np.where(taken < counts.ravel(), counts.ravel() // np.maximum(taken, 1), 1)
    first = np.zeros(len(taken), np.int64)
    np.cumsum(taken[:-1], out=first[1:])
    cell = np.repeat(np.arange(len(taken)), taken)
    within = np.arange(int(taken.sum()), dtype=np.int64) - first[cell]
    positions = starts[:-1][cell] + within * step[cell]
    column_starts = np.zeros(nx + 1, np.int64)
    np.cumsum(taken.reshape(nx, ny).sum(axis=1), out=column_starts[1:])
    return positions, column_starts


def count_cells(starts: np.ndarray, slots: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """A level of detail for counting: (representatives, counts) of every colour slot present in every cell
    (``starts``: where each cell begins in grid order; ``slots``: the colour slot of each point, or one for
    all): the position of the slot's first point in the cell and how many points of that slot the cell holds,
    in grid order. Drawn with their counts as weights, they give each pixel the counts and colour sums of its
    points at the resolution of the cells (a cell's points counted at its first point's pixel)."""
    if not isinstance(slots, np.ndarray):
        counts = np.diff(starts)
        filled = np.flatnonzero(counts)
        return starts[:-1][filled], counts[filled].astype(np.uint32)
    if splat_jit.ready():
        representatives = np.empty(len(slots), np.int64)
        counts = np.empty(len(slots), np.uint32)
        n = splat_jit.kernel("count_cells")(starts, slots, representatives, counts)
        return representatives[:n].copy(), counts[:n].copy()
    # numpy: a stable sort by slot within each cell, then the runs of equal (cell, slot)
    cell = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    order = np.lexsort((np.arange(len(slots)), slots, cell))
    key = cell[order].astype(np.int64) * 256 + slots[order]
    run_starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    counts = np.diff(np.r_[run_starts, len(key)]).astype(np.uint32)
    representatives = order[run_starts]
    ordering = np.argsort(representatives, kind="stable")  # back to grid order of the representatives
    return representatives[ordering], counts[ordering]


def points_in_polygon(px: np.ndarray, py: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(n,) bool: even-odd crossing test of each point against the polygon's edges, vectorised over points."""
    inside = np.zeros(len(px), dtype=bool)
    if len(px) == 0:
        return inside
    xs, ys = polygon[:, 0], polygon[:, 1]
    xe, ye = np.roll(xs, -1), np.roll(ys, -1)
    for ax, ay, bx, by in zip(xs, ys, xe, ye, strict=True):
        if ay == by:
            continue  # a horizontal edge never crosses the ray
        crosses = (ay > py) != (by > py)
        if not crosses.any():
            continue
        at = np.flatnonzero(crosses)
        x_cross = ax + (py[at] - ay) * (bx - ax) / (by - ay)
        inside[at[px[at] < x_cross]] ^= True
    return inside


def simplify_polyline(points: np.ndarray, min_step: float) -> np.ndarray:
    """Drop vertices closer than ``min_step`` to the last kept one (a hand-drawn lasso has thousands)."""
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) < 3 or min_step <= 0:
        return pts
    keep = [0]
    last = pts[0]
    for i in range(1, len(pts)):
        if np.hypot(*(pts[i] - last)) >= min_step:
            keep.append(i)
            last = pts[i]
    if keep[-1] != len(pts) - 1:
        keep.append(len(pts) - 1)
    return pts[keep]


def combine_selection(current: np.ndarray, picked: np.ndarray, mode: str) -> np.ndarray:
    """A new selection from the current one and freshly picked indices: "replace", "add" or "subtract"."""
    picked = np.unique(np.asarray(picked, dtype=np.int64))
    current = np.unique(np.asarray(current, dtype=np.int64))
    if mode == "add":
        return np.union1d(current, picked)
    if mode == "subtract":
        return np.setdiff1d(current, picked, assume_unique=True)
    if mode == "replace":
        return picked
    raise ValueError(f"unknown selection mode {mode!r} (replace, add, subtract)")
