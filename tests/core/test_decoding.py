"""Pure decoding helpers: images, ranges, PCA directions, the off-data meter, prior, arithmetic, grids."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from latent_explorer.core.decoding import (
    DecodeError,
    PCABasis,
    class_means,
    decode_grid,
    decode_images,
    error_tile,
    extend_ranges,
    grid_codes,
    grid_points,
    iter_decoder_sensitivity,
    iter_exact_map_placement,
    iter_prepare_latents,
    iter_typical_nn_distance,
    knn_placement,
    latent_arithmetic,
    lift_point,
    model_for_device,
    radius_report,
    sample_prior,
    slider_ranges,
    tile_images,
    torch_threads,
)
from latent_explorer.core.jobs import run_job
from latent_explorer.core.projections import PCAModel, RawAxes


class LinearModel:
    """A decoder whose image is a fixed linear function of z: easy to reason about."""

    name = "linear"
    is_variational = False
    device = torch.device("cpu")

    def __init__(self, latent_dim: int = 4, shape=(1, 3, 3), weights: np.ndarray | None = None, fail: str = ""):
        self.latent_dim = latent_dim
        self.input_shape = shape
        size = int(np.prod(shape))
        if weights is None:
            weights = np.random.default_rng(0).standard_normal((latent_dim, size))
        self.weights = torch.as_tensor(weights, dtype=torch.float32)
        self.fail = fail

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        if self.fail == "raise":
            raise RuntimeError("boom in the decoder")
        out = (z @ self.weights).reshape(len(z), *self.input_shape)
        if self.fail == "nan":
            out[:] = float("nan")
        return out

    def to(self, device):
        return self


@pytest.fixture(scope="module")
def codes() -> np.ndarray:
    """Three tight clusters in 6-D, anisotropic: a stand-in for an encoder's codes."""
    rng = np.random.default_rng(1)
    centres = rng.normal(0, 5, (3, 6))
    scale = np.array([3.0, 2.0, 1.0, 0.5, 0.3, 0.1])
    return (centres[rng.integers(0, 3, 1500)] + rng.standard_normal((1500, 6)) * scale * 0.2).astype(np.float32)


def test_decode_images_gives_display_arrays(digits_vae):
    from latent_explorer.core.models import load_model

    model = load_model(str(digits_vae))
    images = decode_images(model, np.zeros((3, model.latent_dim), np.float32))
    assert images.shape == (3, 8, 8)
    assert images.dtype == np.float32 and images.min() >= 0.0 and images.max() <= 1.0
    single = decode_images(model, np.zeros(model.latent_dim, np.float32))
    assert single.shape == (1, 8, 8)
    colour = decode_images(LinearModel(shape=(3, 2, 5)), np.ones((2, 4), np.float32))
    assert colour.shape == (2, 2, 5, 3)


@pytest.mark.parametrize("fail, words", [("raise", "boom in the decoder"), ("nan", "NaN")])
def test_failing_decoder_raises_decode_error(fail, words):
    with pytest.raises(DecodeError, match=words):
        decode_images(LinearModel(fail=fail), np.zeros((2, 4), np.float32))


def test_wrong_dimension_and_nan_codes_are_refused():
    with pytest.raises(DecodeError, match="5 dimensions"):
        decode_images(LinearModel(), np.zeros((1, 5), np.float32))
    with pytest.raises(DecodeError, match="NaN"):
        decode_images(LinearModel(), np.full((1, 4), np.nan, np.float32))


def test_error_tile_is_grey_with_a_red_cross():
    tile = error_tile(8, 8)
    assert tile.shape == (64, 64, 3)
    red = (tile[..., 0] > 0.8) & (tile[..., 1] < 0.2)
    assert red[0, 0] and red[-1, -1] and red[0, -1] and red[32, 32]
    assert np.allclose(tile[0, 32], 0.55)  # grey away from the diagonals


def test_model_for_device_keeps_the_model_on_its_own_device():
    model = LinearModel()
    assert model_for_device(model, "auto") is model
    assert model_for_device(model, "cpu") is model


def test_slider_ranges_are_data_percentiles_and_extend(codes):
    lo, hi = slider_ranges(codes)
    assert np.allclose(lo, np.percentile(codes, 0.5, axis=0), atol=1e-5)
    assert np.allclose(hi, np.percentile(codes, 99.5, axis=0), atol=1e-5)
    wide_lo, wide_hi = extend_ranges(lo, hi, 0.5)
    assert np.allclose(wide_hi - wide_lo, 2 * (hi - lo), rtol=1e-5)
    flat_lo, flat_hi = slider_ranges(np.ones((10, 2), np.float32))
    assert np.all(flat_hi > flat_lo)


def test_pca_sliders_move_z_along_one_component(codes):
    basis = PCABasis.fit(codes)
    assert np.allclose(basis.components @ basis.components.T, np.eye(6), atol=1e-5)
    assert np.all(np.diff(basis.std) <= 1e-6)  # largest variance first
    z = codes[7]
    before = basis.coordinates(z)
    moved = basis.move(z, 1, before[1] + 2.0)
    after = basis.coordinates(moved)
    assert after[1] == pytest.approx(before[1] + 2.0, abs=1e-4)
    assert np.allclose(np.delete(after, 1), np.delete(before, 1), atol=1e-4)
    step = moved - z
    assert np.allclose(step, 2.0 * basis.std[1] * basis.components[1], atol=1e-4)  # 2 SDs along PC2


def test_pca_basis_from_the_windows_pca_agrees(codes):
    pca = PCAModel.fit(codes)
    basis = PCABasis.from_model(pca)
    own = PCABasis.fit(codes)
    assert np.allclose(basis.std, own.std, rtol=1e-3)
    assert np.allclose(np.abs(basis.components @ own.components.T), np.eye(6), atol=1e-3)


def test_lift_point_on_a_pca_plane_projects_back_to_the_cursor(codes):
    plane = PCAModel.fit(codes).plane(0, 2)
    base = codes[3]
    z = lift_point(plane, 1.25, -0.75, base)
    assert np.allclose(plane.transform(z[None])[0], (1.25, -0.75), atol=1e-4)
    # off the plane, the base is held
    others = PCAModel.fit(codes).transform(np.stack([z, base]))[:, [1, 3, 4, 5]]
    assert np.allclose(others[0], others[1], atol=1e-4)


def test_grid_points_cover_the_rectangle_top_row_first():
    xy = grid_points((0.0, 4.0, 0.0, 2.0), 2, 4)
    assert xy.shape == (8, 2)
    assert np.allclose(xy[0], (0.5, 1.5)) and np.allclose(xy[-1], (3.5, 0.5))


def test_decoded_grid_codes_lie_on_the_grid_of_the_plane(codes):
    plane = RawAxes(0, 1)
    rect = (-1.0, 1.0, -2.0, 2.0)
    z = grid_codes(plane, rect, 3, codes[0])
    assert np.allclose(plane.transform(z), grid_points(rect, 3), atol=1e-6)
    assert np.allclose(z[:, 2:], codes[0, 2:])
    mosaic, grid_z = decode_grid(LinearModel(latent_dim=6), plane, rect, 3, codes[0])
    assert mosaic.shape == (3 * 3 + 2, 3 * 3 + 2) and len(grid_z) == 9


def test_tile_images_places_tiles_row_by_row():
    images = np.stack([np.full((2, 3), v, np.float32) for v in (0.1, 0.2, 0.3, 0.4)])
    mosaic = tile_images(images, 2, 2, pad=1, pad_value=1.0)
    assert mosaic.shape == (5, 7)
    assert mosaic[0, 0] == pytest.approx(0.1) and mosaic[0, 4] == pytest.approx(0.2)
    assert mosaic[3, 0] == pytest.approx(0.3) and mosaic[4, 6] == pytest.approx(0.4)
    assert mosaic[2, 0] == 1.0 and mosaic[0, 3] == 1.0


def test_latent_arithmetic_is_a_minus_b_plus_c():
    a, b, c = np.array([1.0, 2.0]), np.array([0.5, 0.5]), np.array([3.0, -1.0])
    assert np.allclose(latent_arithmetic(a, b, c), [3.5, 0.5])
    assert np.allclose(latent_arithmetic(a, b, c, 2.0, 0.0, 1.0), [5.0, 3.0])


def test_class_means(codes):
    labels = np.arange(len(codes)) % 3
    means = class_means(codes, labels, n_classes=4)
    assert np.allclose(means[1], codes[labels == 1].mean(0), atol=1e-5)
    assert np.isnan(means[3]).all()


def test_prior_samples_have_the_expected_radii():
    d = 32
    normal = sample_prior(4000, d, "normal", seed=1)
    assert normal.shape == (4000, d) and normal.dtype == np.float32
    assert np.median(np.linalg.norm(normal, axis=1)) == pytest.approx(np.sqrt(d), rel=0.05)
    for a in (2.0, 10.0):
        uniform = sample_prior(4000, d, "uniform", scale=a, seed=1)
        assert np.abs(uniform).max() <= a
        assert np.median(np.linalg.norm(uniform, axis=1)) == pytest.approx(a * np.sqrt(d / 3.0), rel=0.05)
    data = normal * 0.25
    report = radius_report(normal, data)
    assert report.ratio == pytest.approx(4.0, rel=1e-3)
    assert "×4.00" in report.text()
    with pytest.raises(ValueError):
        sample_prior(2, 2, "cauchy")


def test_off_data_meter_scores_data_low_and_empty_space_high(codes):
    prepared = run_job(iter_prepare_latents(codes, k=5, sample=400))
    meter = prepared.meter
    on_data = np.array([meter.score(codes[i]) for i in range(0, 1500, 10)])
    assert np.median(on_data) <= 1.0 and np.percentile(on_data, 90) <= 1.5
    far = codes.mean(0) + 40.0 * np.ones(6, np.float32)
    assert meter.score(far) > 10.0
    # exact search: the same neighbours as brute force
    z = codes[11] + 0.3
    indices, distances = meter.nearest(z, 7)
    brute = np.linalg.norm(codes - z, axis=1)
    assert np.array_equal(np.sort(indices), np.sort(np.argsort(brute)[:7]))
    assert np.allclose(distances, np.sort(brute)[:7], atol=1e-3)
    assert prepared.summary.median_radius == pytest.approx(np.median(np.linalg.norm(codes, axis=1)), rel=1e-5)


class Worker(threading.Thread):
    """A thread whose exception is raised again by ``finish``."""

    def __init__(self, target):
        super().__init__(daemon=True)
        self.work, self.error = target, None
        self.start()

    def run(self) -> None:
        try:
            self.work()
        except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
            self.error = exc

    def finish(self) -> None:
        self.join(10)
        assert not self.is_alive()
        if self.error is not None:
            raise self.error


@pytest.mark.parametrize("first_to_leave", ["first", "second"])
def test_overlapping_torch_threads_give_every_thread_its_original_count_back(first_to_leave):
    """The second thread makes its first torch call inside the first one's block, as a new job thread would."""
    original = torch.get_num_threads()
    inner = 1 if original != 1 else 2
    counts: dict[str, int] = {}
    inside = {"first": threading.Event(), "second": threading.Event()}
    leave = {"first": threading.Event(), "second": threading.Event()}

    def use(name: str) -> None:
        with torch_threads(inner):
            counts[f"{name} inside"] = torch.get_num_threads()
            inside[name].set()
            assert leave[name].wait(10)
        counts[f"{name} after"] = torch.get_num_threads()

    workers = {"first": Worker(lambda: use("first"))}
    assert inside["first"].wait(10)
    workers["second"] = Worker(lambda: use("second"))
    assert inside["second"].wait(10)
    for name in (first_to_leave, "second" if first_to_leave == "first" else "first"):
        leave[name].set()
        workers[name].finish()
    Worker(lambda: counts.__setitem__("fresh thread", torch.get_num_threads())).finish()
    assert counts == {"first inside": inner, "second inside": inner, "first after": original,
                      "second after": original, "fresh thread": original}
    assert torch.get_num_threads() == original


def test_typical_distance_excludes_the_point_itself():
    points = np.array([[0.0], [1.0], [3.0], [6.0]], np.float32)
    typical = run_job(iter_typical_nn_distance(points, k=1, sample=4))
    assert typical == pytest.approx(np.median([1.0, 1.0, 2.0, 3.0]))


def test_knn_placement_weights_by_inverse_distance():
    coords = np.array([[0.0, 0.0], [10.0, 0.0]])
    x, y = knn_placement(coords, np.array([0, 1]), np.array([1.0, 3.0]))
    assert (x, y) == pytest.approx((2.5, 0.0))


def test_sensitivity_finds_the_axes_the_decoder_uses():
    weights = np.zeros((4, 9), np.float32)
    weights[0] = 0.1
    weights[2] = 0.03
    model = LinearModel(weights=weights)
    bases = np.zeros((2, 4), np.float32)
    sensitivity = run_job(iter_decoder_sensitivity(model, bases, np.eye(4, dtype=np.float32), step=0.05))
    assert sensitivity[0] == pytest.approx(0.1, rel=1e-3)
    assert sensitivity[2] == pytest.approx(0.03, rel=1e-3)
    assert sensitivity[1] == 0.0 and sensitivity[3] == 0.0


def test_exact_map_placement_lands_near_the_neighbours(codes):
    rng = np.random.default_rng(0)
    pick = rng.choice(len(codes), 300, replace=False)
    small = codes[pick]
    coords = PCAModel.fit(small).transform(small, 2) * 10.0  # a stand-in map with clear clusters
    queries = small[:5] + 0.01
    placed, affinities = run_job(iter_exact_map_placement(coords, small, queries))
    assert placed.shape == (5, 2) and affinities is not None
    spread = np.ptp(coords, axis=0).max()
    assert np.all(np.linalg.norm(placed - coords[:5], axis=1) < 0.25 * spread)
