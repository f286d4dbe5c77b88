"""Path geometry: arc-length resampling, lifting through raw/PCA views, slerp, filmstrips, GIF, JSON."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latent_explorer.core.errors import DatasetError
from latent_explorer.core.paths import (
    LatentPath,
    crossfade,
    filmstrip,
    lift,
    resample,
    save_gif,
    slerp,
)
from latent_explorer.core.projections import PCAModel, RawAxes


def test_resample_equal_arc_length():
    verts = np.array([[0, 0], [3, 0], [3, 4]], float)  # lengths 3 and 4
    pts, t = resample(verts, 8)
    steps = np.hypot(*np.diff(pts, axis=0).T)
    assert np.allclose(steps, 1.0) and np.allclose(pts[0], [0, 0]) and np.allclose(pts[-1], [3, 4])
    assert t[0] == 0 and t[-1] == 1 and len(t) == 8
    pts, _ = resample(np.array([[1, 1], [1, 1], [2, 1]], float), 3)  # a repeated vertex
    assert np.allclose(pts, [[1, 1], [1.5, 1], [2, 1]])


def test_raw_lift_sets_two_coords_and_blends_the_rest():
    start, end = np.arange(5.0), np.arange(5.0) + 10
    pts, t = resample(np.array([[0, 0], [1, 1]], float), 5)
    z = lift(pts, t, RawAxes(1, 3), start, end, np.zeros(5), hold="blend")
    assert np.allclose(z[:, [1, 3]], pts)
    assert np.allclose(z[:, 0], np.linspace(0, 10, 5)) and np.allclose(z[:, 4], np.linspace(4, 14, 5))
    zero = lift(pts, t, RawAxes(1, 3), start, end, np.zeros(5), hold="zero")
    assert np.allclose(zero[:, [0, 2, 4]], 0)


def test_pca_lift_round_trip():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(500, 12)) * np.linspace(3, 0.1, 12)
    plane = PCAModel.fit(codes).plane(0, 17 % 12)
    verts = np.array([[-2.0, 1.0], [0.5, 0.3], [2.0, -1.5]])
    pts, t = resample(verts, 64)
    z = lift(pts, t, plane, codes[0], codes[1], codes.mean(0), hold="blend")
    scale = np.ptp(plane.transform(codes), axis=0).max()
    assert np.abs(plane.transform(z) - pts).max() <= 1e-6 * scale


def test_slerp_keeps_radius_between_equal_norms():
    a, b = np.array([3.0, 0, 0]), np.array([0, 3.0, 0])
    path = slerp(a, b, 9)
    assert np.allclose(np.linalg.norm(path, axis=1), 3.0)
    assert np.allclose(path[0], a) and np.allclose(path[-1], b)


def test_crossfade_and_filmstrip_shapes():
    a, b = np.zeros((4, 5)), np.ones((4, 5))
    fade = crossfade(a, b, 5)
    assert fade.shape == (5, 4, 5) and np.allclose(fade[2], 0.5)
    strip = filmstrip([fade, fade], scale=2, gap=1)
    assert strip.shape == (2 * 8 + 1, 5 * 10 + 4, 3) and strip.dtype == np.uint8
    assert strip[0, 0, 0] == 0 and strip[0, -1, 0] == 255


def test_gif_frame_count_and_size(tmp_path):
    frames = np.linspace(0, 1, 6)[:, None, None] * np.ones((6, 7, 9))
    n = save_gif(tmp_path / "p.gif", frames, scale=3)
    with Image.open(tmp_path / "p.gif") as im:
        assert im.size == (27, 21) and im.n_frames == n == 10


def test_path_json_round_trip_and_bad_files(tmp_path):
    path = LatentPath("along filament", [[0, 0], [1, 2], [3, 1]], view={"kind": "pca", "i": 0, "j": 1}, steps=32)
    path.save(tmp_path / "p.json")
    again = LatentPath.load(tmp_path / "p.json")
    assert again == path
    (tmp_path / "bad.json").write_text('{"format": "latent-explorer-path", "name": "x", "vertices": [[0, 0]]}')
    with pytest.raises(DatasetError, match="two finite vertices"):
        LatentPath.load(tmp_path / "bad.json")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(DatasetError, match="cannot read"):
        LatentPath.load(tmp_path / "junk.json")
