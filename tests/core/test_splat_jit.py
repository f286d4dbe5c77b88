"""The compiled rasteriser draws the numpy rasteriser's frames pixel for pixel (where numba is installed)."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core import splat_jit
from latent_explorer.core.colors import categorical_palette
from latent_explorer.core.splat import (
    PixelMap,
    Rasterizer,
    SortedPoints,
    build_layers,
    disc_stamp,
    key_lut,
    over_backdrop,
    slot_palette,
)

pytestmark = pytest.mark.skipif(not splat_jit.available(), reason="numba is not installed")


def _frame(layers, pixel_map, diameter, lut, count, compiled, monkeypatch) -> np.ndarray:
    monkeypatch.setitem(splat_jit._state, "ready", compiled)
    out = np.zeros((pixel_map.height, pixel_map.width), np.uint32)
    Rasterizer().render_into(layers, pixel_map, disc_stamp(diameter), lut, count, out)
    return out


def _gaussian_layers(n: int, seed: int):
    """(layers, palette, centre) of n standard normal points in 4 classes."""
    rng = np.random.default_rng(seed)
    xy = rng.normal(0, 1, (n, 2))
    palette = slot_palette(categorical_palette(4))
    points = SortedPoints(xy)
    return build_layers(points, (rng.integers(0, 4, n) + 1).astype(np.uint8), palette), palette, points.center


@pytest.mark.parametrize("n_pixels", [300, 30000])  # sparse (dots stamped whole) and dense (dilated canvas)
@pytest.mark.parametrize("opacity", [1.0, 0.5])
def test_compiled_frames_equal_the_numpy_frames(n_pixels, opacity, monkeypatch):
    assert splat_jit.warm_up()
    rng = np.random.default_rng(8)
    side = 200
    cells = rng.choice(side * side, n_pixels, replace=False)  # one point per pixel centre: no rounding ties
    xy = np.column_stack([cells % side + 0.5, cells // side + 0.5]) / 10.0
    labels = rng.integers(0, 5, n_pixels)
    palette = slot_palette(categorical_palette(5))
    points = SortedPoints(xy)
    cx, cy = points.center
    lut = key_lut(palette, opacity)
    drawn = 0
    for diameter in (1, 2, 3, 5, 8):  # even diameters have an off-centre anchor; 2 and 3 are square
        for zoom, x0, y0 in ((10.0, 0.0, 0.0), (40.0, 5.0125, 8.0125), (200.0, 9.0025, 11.0025)):
            pixel_map = PixelMap(side, side, ax=zoom, bx=zoom * (cx - x0), ay=zoom, by=zoom * (cy - y0))
            for selected in (None, rng.random(n_pixels) < 0.3):
                layers = build_layers(points, (labels + 1).astype(np.uint8), palette, selected=selected)
                expected = _frame(layers, pixel_map, diameter, lut, opacity < 1, False, monkeypatch)
                got = _frame(layers, pixel_map, diameter, lut, opacity < 1, True, monkeypatch)
                np.testing.assert_array_equal(got, expected)
                drawn += int((expected != 0).sum())
    assert drawn > 0


def test_a_kept_frame_redrawn_sparse_equals_a_fresh_frame(monkeypatch):
    """Sparse frames drawn into the same buffer reset only the last sparse frame's pixels: a sequence of views
    (sparse, dense, sparse again, a new size, a new colour table) gives each frame a fresh rasteriser gives."""
    assert splat_jit.warm_up()
    monkeypatch.setitem(splat_jit._state, "ready", True)
    layers, palette, (cx, cy) = _gaussian_layers(20000, seed=3)
    white = over_backdrop(key_lut(palette, 1.0), 0xFFFFFFFF)
    dark = over_backdrop(key_lut(palette, 1.0), 0xFF202020)
    kept = Rasterizer()
    buffers: dict[tuple, np.ndarray] = {}
    sequence = [(200, 2000.0, 0.03, white), (200, 3000.0, -0.02, white), (200, 20.0, 0.0, white),
                (200, 2500.0, 0.01, white), (200, 2500.0, 0.01, dark), (150, 3000.0, 0.04, dark),
                (200, 2200.0, -0.04, white),
                (200, 2200.0, 0.05, white)]
    sparse_frames, last = 0, None
    for side, zoom, centre, lut in sequence:
        pixel_map = PixelMap(side, side, ax=zoom, bx=zoom * (cx - centre) + side / 2, ay=-zoom,
                             by=-zoom * (cy - centre) + side / 2)
        out = buffers.setdefault(side, np.zeros((side, side), np.uint32))
        kept.render_into(layers, pixel_map, disc_stamp(3), lut, False, out, kept=out is last)
        last = out
        fresh = np.full((side, side), 7, np.uint32)  # whatever a new image holds
        Rasterizer().render_into(layers, pixel_map, disc_stamp(3), lut, False, fresh)
        np.testing.assert_array_equal(out, fresh)
        assert (out != lut[0]).sum() > 50  # dots were drawn
        sparse_frames += kept._sparse_clean
    assert sparse_frames >= 5  # most frames are sparse, and follow a sparse frame in the same buffer


def test_consecutive_dense_frames_of_one_rasteriser_equal_fresh_frames(monkeypatch):
    """The compiled path clears its canvas and counts while it reads them for the next frame instead of
    zeroing them first: a run of dense frames through one rasteriser (point sizes 1 to 5, counted and not,
    a new canvas size and back) gives each frame a fresh rasteriser gives (which the test above compares
    with the numpy path; random points here, so float32 and float64 pixel edges may differ from numpy's)."""
    assert splat_jit.warm_up()
    layers, palette, (cx, cy) = _gaussian_layers(30000, seed=5)
    kept = Rasterizer()
    views = ((200, 30.0, 0.0), (200, 45.0, 0.5), (160, 35.0, -0.3), (200, 30.0, 0.2), (200, 32.0, -0.1))
    # consecutive frames of one kind and size that move: what a frame left behind would show
    frames = [(side, zoom, centre, diameter, opacity)
              for opacity in (1.0, 0.5) for diameter in (3, 2, 1, 5, 3) for side, zoom, centre in views]
    for side, zoom, centre, diameter, opacity in frames:
        pixel_map = PixelMap(side, side, ax=zoom, bx=zoom * (cx - centre) + side / 2, ay=-zoom,
                             by=-zoom * (cy - centre) + side / 2)
        lut = key_lut(palette, opacity)
        monkeypatch.setitem(splat_jit._state, "ready", True)
        got = np.zeros((side, side), np.uint32)
        kept.render_into(layers, pixel_map, disc_stamp(diameter), lut, opacity < 1, got)
        expected = _frame(layers, pixel_map, diameter, lut, opacity < 1, True, monkeypatch)
        np.testing.assert_array_equal(got, expected)
        assert (got != 0).sum() > side * side // 4  # a dense frame


def test_over_backdrop_composes_each_colour_over_the_background():
    palette = slot_palette(categorical_palette(3))
    lut = key_lut(palette, 0.5)
    composed = over_backdrop(lut, 0xFF102030)
    assert composed[0] == 0xFF102030  # an empty pixel is the background
    assert (composed >> 24 == 255).all()
    for key in (1, 2, 1 | (5 << 8), 255):
        a = int(lut[key] >> 24)
        for shift, under in ((16, 0x10), (8, 0x20), (0, 0x30)):
            expected = min(255, int(lut[key] >> shift & 0xFF) + round(under * (255 - a) / 255))
            assert abs(int(composed[key] >> shift & 0xFF) - expected) <= 1


def test_compiled_counts_build_up_opacity(monkeypatch):
    assert splat_jit.warm_up()
    points = SortedPoints(np.array([[0.0, 0.0]] * 3 + [[1.0, 0.0]]))
    palette = slot_palette(np.array([[255, 0, 0]], np.uint8))
    layers = build_layers(points, np.ones(4, np.uint8), palette)
    cx, cy = points.center
    pixel_map = PixelMap(10, 10, ax=4.0, bx=1.0 + 4.0 * cx, ay=-4.0, by=5.0 + 4.0 * cy)
    alpha = _frame(layers, pixel_map, 1, key_lut(palette, 0.5), True, True, monkeypatch) >> 24
    assert alpha[5, 1] == round(255 * (1 - 0.5 ** 3)) and alpha[5, 5] == round(255 * 0.5)
    assert (alpha > 0).sum() == 2



def test_compiled_bounds_and_labels_agree_with_numpy():
    assert splat_jit.warm_up()
    rng = np.random.default_rng(5)
    xy = rng.normal(0, 3, (5000, 2))
    found = np.zeros(4)
    assert splat_jit.kernel("bounds")(xy, found)
    np.testing.assert_array_equal(found, [xy[:, 0].min(), xy[:, 0].max(), xy[:, 1].min(), xy[:, 1].max()])
    xy[17, 1] = np.inf
    assert not splat_jit.kernel("bounds")(xy, found)
    labels = rng.integers(-2, 9, 5000)
    out, counts = np.empty(5000, np.int32), np.zeros(7, np.int64)
    assert splat_jit.kernel("compact_labels")(labels, out, counts)
    np.testing.assert_array_equal(out, labels)
    np.testing.assert_array_equal(counts, np.bincount(labels[(labels >= 0) & (labels < 7)], minlength=7))
    assert not splat_jit.kernel("compact_labels")(np.array([1, 2**40]), np.empty(2, np.int32), counts)
