"""Path geometry: arc-length resampling, lifting through raw/PCA views, slerp, filmstrips, GIF, JSON."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.spatial import cKDTree

from latent_explorer.core.errors import DatasetError
from latent_explorer.core.interpolation import (
    Filmstrip,
    LatentPath,
    PathError,
    StripRow,
    crossfade,
    decode_strip,
    filmstrip,
    lift,
    lift_path,
    off_data_scores,
    path_projection,
    place_codes,
    render_filmstrip,
    resample,
    save_gif,
    simplify_indices,
    slerp,
    strip_image,
)
from latent_explorer.core.projections import MapLayout, PCAModel, RawAxes


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


# ------------------------------------------------------------------------------------ maps, strips, scores
def small_map(n: int = 300, d: int = 6, seed: int = 0):
    """Codes on a curved 1-D manifold in d dimensions and a 2-D layout of them (a stand-in for t-SNE)."""
    rng = np.random.default_rng(seed)
    s = np.sort(rng.uniform(0, 3, n))
    codes = np.column_stack([np.cos(s), np.sin(s), s, *(0.05 * rng.normal(size=(d - 3, n)))]).astype(np.float32)
    coords = np.column_stack([s * 10, rng.normal(size=n) * 0.5])
    return codes, coords


def test_map_lift_builds_codes_from_the_nearest_map_points():
    codes, coords = small_map()
    layout = MapLayout(coords, codes, "t-SNE", kind="tsne")
    a, b = 20, 250
    path = LatentPath("along", [coords[a].tolist(), coords[b].tolist()], view={"kind": "tsne", "key": "t"},
                      steps=16, start_index=a, end_index=b)
    lifted = lift_path(path, layout, codes)
    assert not lifted.exact
    np.testing.assert_allclose(lifted.z[0], codes[a], atol=1e-6)  # snapped ends are the data codes
    np.testing.assert_allclose(lifted.z[-1], codes[b], atol=1e-6)
    # every z is a distance-weighted mean of its k nearest map points' codes
    tree = cKDTree(coords)
    for point, z in zip(lifted.samples[1:-1], lifted.z[1:-1], strict=True):
        dist, idx = tree.query(point, k=layout.k)
        w = 1 / dist
        np.testing.assert_allclose(z, (codes[idx] * w[:, None]).sum(0) / w.sum(), atol=1e-5)
    # the approximation follows the manifold: the third coordinate grows along the path as s does
    assert np.all(np.diff(lifted.z[:, 2]) > -0.05)
    # placing the codes back in the map lands near the drawn points (an approximation, not exact)
    back = place_codes(layout, lifted.z)
    assert np.median(np.hypot(*(back - lifted.samples).T)) < 2.0


def test_unsnapped_endpoint_code_uses_the_mean_off_plane():
    rng = np.random.default_rng(1)
    codes = rng.normal(size=(200, 5))
    axes = RawAxes(0, 1)
    path = LatentPath("p", [[1.0, 2.0], [3.0, 4.0]], view={"kind": "raw", "i": 0, "j": 1}, steps=3)
    lifted = lift_path(path, axes, codes)
    mean = codes.mean(0)
    np.testing.assert_allclose(lifted.start_code, [1.0, 2.0, *mean[2:]], atol=1e-6)
    np.testing.assert_allclose(lifted.z[1, 2:], mean[2:], atol=1e-6)  # blend of two mean-based ends
    with pytest.raises(PathError, match="5 dimensions"):
        path_projection({"kind": "raw", "i": 0, "j": 7}, codes)
    with pytest.raises(PathError, match="coordinates are needed"):
        path_projection({"kind": "tsne", "key": "t"}, codes)


def test_batch_scores_match_the_meter_one_by_one():
    from latent_explorer.core.decoding import OffDataMeter

    rng = np.random.default_rng(2)
    codes = rng.normal(size=(2000, 8)).astype(np.float32)
    meter = OffDataMeter(codes, typical=0.7, k=5)
    queries = np.concatenate([codes[:5], rng.normal(size=(5, 8)) * 4]).astype(np.float32)
    np.testing.assert_allclose(off_data_scores(meter, queries), [meter.score(q) for q in queries], rtol=1e-5)


def test_simplify_keeps_corners_and_ends():
    t = np.linspace(0, 1, 50)
    stroke = np.concatenate([np.column_stack([t * 100, t * 0]), np.column_stack([100 + t * 0, t * 80])])
    keep = simplify_indices(stroke, 1.0)
    np.testing.assert_allclose(stroke[keep], [[0, 0], [100, 0], [100, 80]])
    assert list(simplify_indices(stroke[:2], 1.0)) == [0, 1]


def test_slerp_of_opposite_codes_falls_back_to_a_line():
    path = slerp(np.array([1.0, 0.0]), np.array([-1.0, 0.0]), 5)
    assert np.isfinite(path).all() and np.allclose(path[2], 0.0)


class LinearDecoder:
    """A decoder with known output: image = sigmoid(z · W), 4×5 pixels."""

    latent_dim = 3
    input_shape = (1, 4, 5)

    def __init__(self):
        self.w = torch.from_numpy(np.random.default_rng(3).normal(size=(3, 20)).astype(np.float32))

    def decode(self, z):
        return torch.sigmoid(z @ self.w).reshape(len(z), 1, 4, 5)


def test_strip_rows_share_endpoints_and_fade_between_images():
    model = LinearDecoder()
    codes = np.random.default_rng(4).normal(size=(100, 3))
    plane = PCAModel.fit(codes).plane(0, 1)
    a, b = plane.transform(codes[:2])  # snapped ends sit on their data points
    path = LatentPath("p", [a.tolist(), [0.0, 1.0], b.tolist()], view={"kind": "pca"}, steps=9, start_index=0,
                      end_index=1)
    lifted = lift_path(path, plane, codes)
    strip = decode_strip(model, lifted)
    assert strip.names == ["path", "linear", "spherical", "pixel fade"]
    path_row, linear, spherical, fade = strip.rows
    for row in (path_row, linear, spherical, fade):
        assert row.frames.shape == (9, 4, 5)
    np.testing.assert_allclose(linear.z[[0, -1]], codes[[0, 1]], atol=1e-6)
    np.testing.assert_allclose(spherical.z[[0, -1]], codes[[0, 1]], atol=1e-6)
    np.testing.assert_allclose(path_row.frames[[0, -1]], linear.frames[[0, -1]], atol=1e-6)
    np.testing.assert_allclose(fade.frames[4], (linear.frames[0] + linear.frames[-1]) / 2, atol=1e-6)
    assert fade.z is None and path_row.scores is None  # no meter given
    # snapped data images take the fade's ends; a grey image beside colour frames is matched
    images = (np.zeros((4, 5)), np.ones((4, 5)))
    faded = decode_strip(model, lifted, rows=("pixel fade",), endpoint_images=images)
    assert faded.names == ["pixel fade"] and np.allclose(faded.rows[0].frames[[0, 4, 8]].mean((1, 2)), [0, 0.5, 1])


def test_strip_picture_has_labels_and_meter_bars():
    from latent_explorer.core.decoding import OffDataMeter, iter_typical_nn_distance
    from latent_explorer.core.jobs import run_job

    model = LinearDecoder()
    codes = np.random.default_rng(5).normal(size=(300, 3)).astype(np.float32)
    path = LatentPath("p", [codes[2, :2].tolist(), [9.0, 0.0]], view={"kind": "raw", "i": 0, "j": 1}, steps=6,
                      start_index=2)
    lifted = lift_path(path, RawAxes(0, 1), codes)
    strip = decode_strip(model, lifted, meter=OffDataMeter(codes, run_job(iter_typical_nn_distance(codes))))
    scores = strip.row("path").scores
    assert scores[0] < 2.0 < scores[-1]  # starts on the data, ends far off it
    picture = strip_image(strip, scale=2, gap=2, labels=True)
    assert picture.shape == (4 * (8 + 5 + 2) + 2, 96 + 6 * (10 + 2) + 2, 3)
    bar_row = 2 + 8 + 1
    first, last = picture[bar_row, 96 + 2], picture[bar_row, 96 + 2 + 5 * 12]
    assert tuple(first) == (46, 125, 50) and tuple(last) == (198, 40, 40)  # green on the data, red off it
    assert (picture[:, :90] < 100).any()  # the row names are written in the gutter


def test_a_long_strip_wraps_into_aligned_blocks():
    rng = np.random.default_rng(2)
    frames = {name: rng.random((21, 4, 4)).astype(np.float32) for name in ("path", "linear")}
    strip = Filmstrip([StripRow(name, f) for name, f in frames.items()])
    one_line = strip_image(strip, scale=2, gap=2, labels=False, bar=0)
    assert one_line.shape[:2] == (2 + 2 * (8 + 2), 21 * (8 + 2) + 2)
    wrapped = strip_image(strip, scale=2, gap=2, labels=False, bar=0, columns=8)  # 8 + 8 + 5 frames
    block_h, block_gap = 2 * (8 + 2), 4 * 2 + 4
    assert wrapped.shape[:2] == (3 * block_h + 2 * block_gap + 2, 8 * (8 + 2) + 2)
    for frame in (0, 7, 8, 20):  # frame f of row r sits in block f // 8, column f % 8, row r of the block
        block, column = divmod(frame, 8)
        for r in range(2):
            top, left = 2 + block * (block_h + block_gap) + r * (8 + 2), 2 + column * (8 + 2)
            np.testing.assert_array_equal(wrapped[top:top + 8, left:left + 8],
                                          one_line[2 + r * 10:2 + r * 10 + 8, 2 + frame * 10:2 + frame * 10 + 8])
    assert (wrapped[2 + 2 * (block_h + block_gap):, 2 + 5 * 10:] == 255).all()  # the last block's rest is blank
    assert strip_image(strip, scale=2, labels=False, bar=0, columns=100).shape == one_line.shape  # nothing to wrap
    with pytest.raises(PathError, match="at least one frame per line"):
        strip_image(strip, columns=-1)


def test_render_filmstrip_without_a_display(tmp_path, digits, digits_vae):
    from latent_explorer.core.encoding import iter_encode
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models import load_model

    model = load_model(str(digits_vae), device="cpu")
    codes = run_job(iter_encode(model, digits, with_reconstruction=False))
    xy = PCAModel.fit(codes.z).plane(0, 1).transform(codes.z)
    path = LatentPath("p", [xy[0].tolist(), xy[9].tolist()], view={"kind": "pca", "i": 0, "j": 1}, steps=12,
                      start_index=0, end_index=9)
    strip = render_filmstrip(model, codes, digits, path, tmp_path / "strip.png", scale=2)
    with Image.open(tmp_path / "strip.png") as im:
        assert im.size == (96 + 12 * (16 + 2) + 2, 4 * (16 + 5 + 2) + 2)
    np.testing.assert_allclose(strip.row("pixel fade").frames[0], digits.display_image(0))
    render_filmstrip(model, codes, digits, path, tmp_path / "strip.gif")
    with Image.open(tmp_path / "strip.gif") as im:
        assert im.n_frames == 22 and im.size == (8 * 4, 8 * 4)
    with pytest.raises(PathError, match="cannot write '.txt'"):
        render_filmstrip(model, codes, digits, path, tmp_path / "strip.txt")
