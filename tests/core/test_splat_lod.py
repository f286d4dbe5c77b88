"""The level of detail of very large clouds: a sample of each grid cell covers the pixels every point covers."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core import splat, splat_jit
from latent_explorer.core.colors import categorical_palette
from latent_explorer.core.spatial import GridIndex, sample_cells
from latent_explorer.core.splat import (
    PixelMap,
    Rasterizer,
    SortedPoints,
    build_layers,
    disc_stamp,
    key_lut,
    slot_palette,
)

PATHS = [False] + ([True] if splat_jit.available() else [])  # numpy, and compiled where numba is installed


def _clusters(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, (8, 2))
    labels = rng.integers(0, 8, n)
    xy = centres[labels] + rng.normal(0, 1, (n, 2)) * rng.uniform(0.2, 2.0, (8, 2))[labels]
    xy[:5] = [[60.0, 60.0], [-60.0, 50.0], [55.0, -70.0], [0.0, 80.0], [-75.0, -75.0]]  # far outliers
    return xy, labels


def _frame(layers, pixel_map, compiled: bool, monkeypatch) -> np.ndarray:
    monkeypatch.setitem(splat_jit._state, "ready", compiled)
    palette = layers[0].palette
    out = np.zeros((pixel_map.height, pixel_map.width), np.uint32)
    Rasterizer().render_into(layers, pixel_map, disc_stamp(3), key_lut(palette, 1.0), False, out)
    return out


def test_the_cell_sample_takes_every_cell_and_keeps_the_border_whole():
    xy, _ = _clusters(50_000, 3)
    grid = GridIndex(xy)
    positions, column_starts = sample_cells(grid.starts, grid.shape, 2)
    ny, nx = grid.shape
    counts = np.diff(grid.starts)
    cell_of = np.repeat(np.arange(len(counts)), counts)  # the cell of each sorted position
    taken = np.bincount(cell_of[positions], minlength=len(counts)).reshape(nx, ny)
    counts = counts.reshape(nx, ny)
    inner = np.s_[1:-1, 1:-1]
    np.testing.assert_array_equal(taken[inner], np.minimum(counts[inner], 2))
    for edge in (np.s_[0], np.s_[-1], np.s_[:, 0], np.s_[:, -1]):
        np.testing.assert_array_equal(taken[edge], counts[edge])
    assert len(np.unique(positions)) == len(positions) and np.all(np.diff(positions) > 0)  # grid order kept
    np.testing.assert_array_equal(np.diff(column_starts), taken.sum(axis=1))


@pytest.mark.parametrize("compiled", PATHS)
def test_the_level_of_detail_draws_what_every_point_draws(compiled, monkeypatch):
    if compiled:
        assert splat_jit.warm_up()
    monkeypatch.setattr(splat, "LOD_POINTS", 1000)
    n = 400_000
    xy, labels = _clusters(n, 12)
    points = SortedPoints(xy)
    palette = slot_palette(categorical_palette(8))
    layers = build_layers(points, (labels + 1).astype(np.uint8), palette)
    assert layers[0].detail is not None and len(layers[0].detail) < n / 2
    (x0, y0), (x1, y1) = points.lo - points.center, points.hi - points.center
    side = 240  # 316 cells a side here: cells under a pixel, as with ten million points in a full window
    ax, ay = side / (x1 - x0) * 0.98, side / (y1 - y0) * 0.98
    pixel_map = PixelMap(side, side, ax=ax, bx=-x0 * ax + 2, ay=ay, by=-y0 * ay + 2)
    detail = _frame(layers, pixel_map, compiled, monkeypatch)
    layers[0].detail = None
    exact = _frame(layers, pixel_map, compiled, monkeypatch)
    assert not np.array_equal(detail, exact)  # a sample was drawn: other dots on top here and there
    covered, sampled = exact != 0, detail != 0
    assert (covered & ~sampled).sum() <= 0.01 * covered.sum()  # the sample misses hardly a pixel
    assert not (sampled & ~covered).any()  # and draws none that no point covers
    for corner in xy[:5]:  # the outliers in the border cells are drawn whole
        col, row = (corner - points.center) * [ax, ay] + [-x0 * ax + 2, -y0 * ay + 2]
        assert sampled[int(row) - 1:int(row) + 2, int(col) - 1:int(col) + 2].any()
    for rgb in categorical_palette(8):  # the classes keep their share of the picture
        colour = (int(rgb[0]) << 16) | (int(rgb[1]) << 8) | int(rgb[2])
        share_exact = ((exact & 0xFFFFFF) == colour).sum() / covered.sum()
        share_detail = ((detail & 0xFFFFFF) == colour).sum() / sampled.sum()
        assert abs(share_exact - share_detail) < 0.02


def test_zoomed_in_every_point_is_drawn(monkeypatch):
    monkeypatch.setattr(splat, "LOD_POINTS", 1000)
    xy, labels = _clusters(400_000, 13)
    points = SortedPoints(xy)
    palette = slot_palette(categorical_palette(8))
    layers = build_layers(points, (labels + 1).astype(np.uint8), palette)
    zoom = 60.0  # cells of several pixels: the sample would leave holes, so the frame reads every point
    pixel_map = PixelMap(200, 200, ax=zoom, bx=100.0, ay=zoom, by=100.0)
    detail = _frame(layers, pixel_map, False, monkeypatch)
    layers[0].detail = None
    np.testing.assert_array_equal(detail, _frame(layers, pixel_map, False, monkeypatch))


@pytest.mark.parametrize("compiled", PATHS)
def test_the_counted_detail_keeps_every_point_of_every_colour_in_its_cell(compiled, monkeypatch):
    from latent_explorer.core.spatial import count_cells

    if compiled:
        assert splat_jit.warm_up()
    monkeypatch.setitem(splat_jit._state, "ready", compiled)
    xy, labels = _clusters(60_000, 21)
    grid = GridIndex(xy)
    slots = (labels[grid.index] + 1).astype(np.uint8)
    representatives, counts = count_cells(grid.starts, slots)
    assert int(counts.sum()) == len(xy)  # every point counted once
    assert np.all(np.diff(representatives) > 0)  # in grid order
    cell = np.repeat(np.arange(len(grid.starts) - 1), np.diff(grid.starts))  # the cell of each sorted position
    expected = np.unique(cell.astype(np.int64) * 256 + slots, return_counts=True)
    got = cell[representatives].astype(np.int64) * 256 + slots[representatives]
    order = np.argsort(got)
    np.testing.assert_array_equal(got[order], expected[0])  # one entry per colour and cell
    np.testing.assert_array_equal(counts[order], expected[1])
    starts_of_first = np.r_[0, np.flatnonzero(np.diff(cell[representatives]) != 0) + 1]
    assert np.all(representatives[starts_of_first] == grid.starts[:-1][cell[representatives[starts_of_first]]])


@pytest.mark.parametrize("compiled", PATHS)
def test_counted_frames_from_the_detail_keep_counts_and_colours(compiled, monkeypatch):
    """Density and partial opacity read the counted detail when millions are in view: the same points counted
    (at their cell's first point), the same colour sums, no pixel drawn that no point covers."""
    if compiled:
        assert splat_jit.warm_up()
    monkeypatch.setattr(splat, "LOD_POINTS", 1000)
    monkeypatch.setattr(splat, "COUNTED_LOD_POINTS", 1000)
    monkeypatch.setitem(splat_jit._state, "ready", compiled)
    n = 300_000
    xy, labels = _clusters(n, 14)
    points = SortedPoints(xy)
    palette = slot_palette(categorical_palette(8))
    layers = build_layers(points, (labels + 1).astype(np.uint8), palette)
    counted = layers[0].counted
    assert counted is not None and len(counted) < n / 2 and int(counted.weights.sum()) == n
    (x0, y0), (x1, y1) = points.lo - points.center, points.hi - points.center
    side = 200
    ax, ay = side / (x1 - x0) * 0.98, side / (y1 - y0) * 0.98
    pixel_map = PixelMap(side, side, ax=ax, bx=-x0 * ax + 2, ay=ay, by=-y0 * ay + 2)
    rasterizer = Rasterizer()
    pad = 3
    sums = {}
    for name, drawn in (("detail", [counted]), ("every point", layers[:1])):
        sums[name] = np.zeros((4, (side + 2 * pad) ** 2), np.float32)
        rasterizer._density_numpy(drawn, pixel_map, pad, sums[name])
    np.testing.assert_allclose(sums["detail"].sum(axis=1), sums["every point"].sum(axis=1), rtol=1e-5)
    assert not ((sums["detail"][0] > 0) & (sums["every point"][0] == 0)).any()
    detail = rasterizer.render_density(layers, pixel_map, disc_stamp(3), 1.0)
    layers[0].counted = None
    exact = Rasterizer().render_density(layers, pixel_map, disc_stamp(3), 1.0)
    assert not np.array_equal(detail, exact)  # the counted level was drawn
    assert not ((detail != 0) & (exact == 0)).any()
    # a cell that straddles a pixel edge puts all its points on one side: a few pixels at the cloud's thin
    # edges stay empty (3 % here, where cells are a pixel wide)
    assert (exact != 0).sum() - (detail != 0).sum() <= 0.05 * (exact != 0).sum()
    layers[0].counted = counted
    lut = key_lut(palette, 0.3)
    frames = []
    for counted_layer in (counted, None):
        layers[0].counted = counted_layer
        out = np.zeros((side, side), np.uint32)
        Rasterizer().render_into(layers, pixel_map, disc_stamp(3), lut, True, out)
        frames.append(out)
    alpha_detail, alpha_exact = (frame >> 24 for frame in frames)
    assert not np.array_equal(alpha_detail, alpha_exact)  # the counted level was drawn
    assert not ((alpha_detail > 0) & (alpha_exact == 0)).any()
    assert abs(alpha_detail.mean() - alpha_exact.mean()) <= 0.03 * alpha_exact.mean()


def test_compiled_density_frames_equal_the_numpy_frames(monkeypatch):
    """The compiled density path (sums, colours, the sums cleared for the next frame) against numpy's, frame
    after frame in one rasteriser (a colour channel may differ by one: float32 logarithms)."""
    if not splat_jit.available():
        pytest.skip("numba is not installed")
    assert splat_jit.warm_up()
    rng = np.random.default_rng(9)
    side = 160
    cells = rng.choice(side * side, 5000, replace=False)  # one point per pixel centre, some piled up below
    xy = np.column_stack([cells % side + 0.5, cells // side + 0.5]) / 10.0
    xy = np.vstack([xy, np.repeat(xy[:50], 20, axis=0)])
    labels = rng.integers(0, 5, len(xy))
    palette = slot_palette(categorical_palette(5))
    points = SortedPoints(xy)
    layers = build_layers(points, (labels + 1).astype(np.uint8), palette)
    cx, cy = points.center
    kept = Rasterizer()
    frames = [(side, side, 10.0, 0.0, 0.0, 3, 1.0), (side, side, 25.0, 4.0125, 6.0125, 3, 0.7),
              (side, side, 10.0, 0.0, 0.0, 2, 1.0), (side, side, 40.0, 9.0025, 1.0025, 5, 0.5),
              (side, side, 100.0, 8.00025, 8.00025, 3, 1.0), (side, side, 300.0, 5.00025, 9.00025, 3, 1.0),
              (100, 256, 10.0, 0.0, 0.0, 3, 1.0), (256, 100, 100.0, 5.00025, 9.00025, 3, 1.0),
              (256, 100, 10.0, 0.0, 0.0, 3, 1.0)]  # a few points (the listed pixels only), and new shapes
    few = 0  # frames that coloured only the pixels they filled
    for width, height, zoom, x0, y0, diameter, opacity in frames:
        pixel_map = PixelMap(width, height, ax=zoom, bx=zoom * (cx - x0), ay=zoom, by=zoom * (cy - y0))
        monkeypatch.setitem(splat_jit._state, "ready", False)
        expected = Rasterizer().render_density(layers, pixel_map, disc_stamp(diameter), opacity)
        monkeypatch.setitem(splat_jit._state, "ready", True)
        got = kept.render_density(layers, pixel_map, disc_stamp(diameter), opacity)
        assert (got != 0).sum() == (expected != 0).sum() > 20
        pad = diameter // 2 + 1
        few += kept._density_touched_n < (width + 2 * pad) * (height + 2 * pad) // 8
        for shift in (24, 16, 8, 0):
            difference = ((got >> shift) & 0xFF).astype(int) - ((expected >> shift) & 0xFF).astype(int)
            assert np.abs(difference).max() <= 1
    assert few >= 3


def test_a_frame_reads_the_cells_under_its_view_and_every_point_in_it():
    """`Cells.ranges`: the slices of the cells that overlap a rectangle hold every point inside it (outliers in
    the border cells included) and, away from the whole view, far fewer points than the columns do."""
    from latent_explorer.core.splat import cells_of

    xy, _ = _clusters(80_000, 5)
    points = SortedPoints(xy)
    cells = cells_of(points.grid, points.grid.starts)
    rng = np.random.default_rng(2)
    fewer = []
    for _ in range(50):
        cx, cy = rng.normal(0, 8, 2)
        half = rng.uniform(0.2, 6.0, 2)
        x_lo, x_hi, y_lo, y_hi = cx - half[0], cx + half[0], cy - half[1], cy + half[1]
        ranges = cells.ranges(x_lo, x_hi, y_lo, y_hi)
        read = np.zeros(len(points), bool)
        for start, stop in ranges:
            read[start:stop] = True
        inside = (points.xs >= x_lo) & (points.xs <= x_hi) & (points.ys >= y_lo) & (points.ys <= y_hi)
        assert not (inside & ~read).any()
        i0, i1 = points.columns.span(x_lo, x_hi)
        assert read.sum() <= i1 - i0
        fewer.append(read.sum() / max(i1 - i0, 1))
    outlier = np.flatnonzero(points.index == 0)[0]  # a far outlier, clamped into a border cell
    ox, oy = float(points.xs[outlier]), float(points.ys[outlier])
    ranges = cells.ranges(ox - 0.1, ox + 0.1, oy - 0.1, oy + 0.1)
    assert any(start <= outlier < stop for start, stop in ranges)
    assert np.median(fewer) < 0.5
