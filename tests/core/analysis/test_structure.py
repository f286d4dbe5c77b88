"""Structure estimators on data whose answer is known: a curve (≈ 1), a 5-D subspace (≈ 5), a full Gaussian
(biased low, within loose bounds), and the Gaussian baseline's ratio (≈ 1 for Gaussian data)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from latent_explorer.core.analysis.binning import AnalysisError
from latent_explorer.core.analysis.neighbours import QUERY_BLOCK, iter_nearest_neighbours, nearest_neighbours
from latent_explorer.core.analysis.structure import (
    StructureSettings,
    binned_medians,
    gaussian_like,
    iter_structure,
    ks_statistic,
    levina_bickel,
    mackay_ghahramani,
    structure,
    two_nn,
)

N = 2500
D = 256


def embedded(y: np.ndarray, seed: int = 0) -> np.ndarray:
    """``y`` (n, m) placed on a random m-dimensional subspace of R^256, shifted off the origin."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((D, y.shape[1])))
    return (y @ basis.T + rng.standard_normal(D)).astype(np.float32)


def helix(n: int, seed: int = 0) -> np.ndarray:
    t = np.random.default_rng(seed).uniform(0.0, 1.0, n)
    return embedded(np.stack([np.cos(4 * np.pi * t), np.sin(4 * np.pi * t), 3 * t, 0.5 * np.cos(2 * np.pi * t)], 1))


SETTINGS = StructureSettings(k=20, prior_samples=400)


@pytest.fixture(scope="module")
def curve():
    return structure(helix(N), SETTINGS)


@pytest.fixture(scope="module")
def five_d():
    return structure(embedded(np.random.default_rng(1).standard_normal((N, 5))), SETTINGS)


@pytest.fixture(scope="module")
def full_gaussian():
    return structure(np.random.default_rng(2).standard_normal((N, D)).astype(np.float32), SETTINGS)


# ------------------------------------------------------------------------------------------ neighbours
def test_neighbours_are_exact_across_blocks_and_exclude_the_point_itself():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((QUERY_BLOCK + 190, 40)) * rng.uniform(0.1, 3.0, 40) + 50.0).astype(np.float32)
    found = nearest_neighbours(x, 6)
    expected_d, expected_i = NearestNeighbors(n_neighbors=7, algorithm="brute").fit(x.astype(np.float64)) \
        .kneighbors(x.astype(np.float64))
    assert np.array_equal(found.indices, expected_i[:, 1:])
    np.testing.assert_allclose(found.distances, expected_d[:, 1:], rtol=1e-9)
    assert (found.indices != np.arange(len(x))[:, None]).all()


def test_small_distances_far_from_the_origin_are_measured_directly():
    rng = np.random.default_rng(4)
    x = np.full((300, 64), 1000.0) + rng.standard_normal((300, 64)) * 1e-3  # expansion would round these to 0
    found = nearest_neighbours(x.astype(np.float32), 1)
    x32 = x.astype(np.float32).astype(np.float64)
    truth = np.linalg.norm(x32[found.indices[:, 0]] - x32, axis=1)
    np.testing.assert_allclose(found.distances[:, 0], truth, rtol=1e-9)
    assert (found.distances > 0).all()


def test_neighbours_of_a_subset_of_queries_and_duplicates():
    x = np.random.default_rng(5).standard_normal((200, 8)).astype(np.float32)
    x[10] = x[3]
    found = nearest_neighbours(x, 3, queries=np.array([3, 10, 50]))
    assert found.indices.shape == (3, 3) and list(found.queries) == [3, 10, 50]
    assert found.indices[0, 0] == 10 and found.indices[1, 0] == 3 and found.distances[0, 0] == 0.0


def test_neighbour_search_is_cancellable_and_checks_its_input():
    x = np.random.default_rng(6).standard_normal((3 * QUERY_BLOCK, 16)).astype(np.float32)
    job = iter_nearest_neighbours(x, 5)
    assert next(job).done == 0 and next(job).done == QUERY_BLOCK
    job.close()
    with pytest.raises(AnalysisError, match="need at least"):
        nearest_neighbours(x[:5], 5)
    x[7, 2] = np.nan
    with pytest.raises(AnalysisError, match="NaN"):
        nearest_neighbours(x, 5)


# ------------------------------------------------------------------------------------------ estimators
def test_levina_bickel_and_mackay_ghahramani_formulas():
    lid = levina_bickel(np.array([[1.0, 2.0, 4.0], [0.0, 1.0, 2.0]]))
    assert lid[0] == pytest.approx(1.0 / np.mean([np.log(4.0), np.log(2.0)]))
    assert np.isnan(lid[1])  # a duplicate neighbour gives no estimate
    assert mackay_ghahramani(np.array([0.5, 0.25, np.nan])) == pytest.approx(1.0 / 0.375)


def test_two_nn_recovers_the_pareto_exponent():
    mu = np.random.default_rng(7).pareto(3.0, 20000) + 1.0  # F(μ) = 1 − μ^−3
    assert two_nn(np.ones_like(mu), mu).dimension == pytest.approx(3.0, rel=0.03)


def test_ks_statistic_and_binned_medians():
    assert ks_statistic(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])) == (1.0, True)
    assert ks_statistic(np.array([4.0, 5.0]), np.array([1.0, 2.0, 3.0])) == (1.0, False)
    by = np.random.default_rng(8).uniform(0, 10, 20000)
    binned = binned_medians(by * 2.0, by, bins=10)
    np.testing.assert_allclose(binned.median, 2.0 * binned.centres, atol=0.1)
    assert (binned.lower < binned.median).all() and (binned.median < binned.upper).all()


def test_gaussian_like_has_the_data_mean_and_covariance():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((20000, 4)) @ np.array([[2.0, 0, 0, 0], [1.0, 1.0, 0, 0], [0, 0, 0.5, 0], [0, 0, 0, 0]])
    g = gaussian_like(x + 3.0, seed=1).astype(np.float64)
    np.testing.assert_allclose(g.mean(0), x.mean(0) + 3.0, atol=0.05)
    np.testing.assert_allclose(np.cov(g.T), np.cov(x.T), atol=0.1)
    assert np.ptp(g[:, 3]) < 1e-4  # a direction without variance stays without


# ---------------------------------------------------------------------------------------- known answers
def test_a_curve_in_256_dimensions_is_one_dimensional(curve):
    assert curve.data.two_nn.dimension == pytest.approx(1.0, abs=0.2)
    assert curve.data.lid_median == pytest.approx(1.0, abs=0.2)
    assert curve.data.lid_global == pytest.approx(1.0, abs=0.2)
    # a Gaussian of the curve's covariance fills its 4-D span: the curve is far emptier than it
    assert curve.gaussian.two_nn.dimension > 3.0 and curve.nn_ratio < 0.2 and curve.nn_data_smaller
    assert all(p.fraction_beyond_typical == 1.0 for p in curve.priors)  # the prior misses a curve


def test_a_five_dimensional_subspace_is_five_dimensional(five_d):
    assert five_d.data.two_nn.dimension == pytest.approx(5.0, abs=0.5)
    assert five_d.data.lid_median == pytest.approx(5.0, abs=0.6)
    assert five_d.data.lid_global == pytest.approx(5.0, abs=0.5)
    assert five_d.nn_ratio == pytest.approx(1.0, abs=0.05)  # the data is the Gaussian its baseline samples


def test_a_full_gaussian_reads_high_but_below_its_dimension(full_gaussian):
    # the estimators' known downward bias at high dimension: 2,500 points in 256-D read far below 256
    for estimate in (full_gaussian.data.two_nn.dimension, full_gaussian.data.lid_median,
                     full_gaussian.data.lid_global):
        assert 40.0 < estimate < 0.6 * D
    assert full_gaussian.nn_ratio == pytest.approx(1.0, abs=0.05)
    assert full_gaussian.data.two_nn.dimension == pytest.approx(full_gaussian.gaussian.two_nn.dimension, rel=0.15)


def test_prior_samples_from_the_data_distribution_score_like_the_data():
    x = np.random.default_rng(10).standard_normal((4000, 12)).astype(np.float32)
    result = structure(x, StructureSettings(k=10, prior_samples=2000))
    normal, uniform = result.priors
    assert normal.fraction_beyond_typical == pytest.approx(0.5, abs=0.12)
    assert uniform.fraction_beyond_typical > normal.fraction_beyond_typical  # U[−2, 2]^12 reaches the corners


def test_histogram_radius_profile_and_summary_are_consistent(five_d):
    finite = five_d.data.lid[np.isfinite(five_d.data.lid)]
    assert five_d.lid_histogram.counts.sum() == finite.size == N
    assert five_d.lid_by_radius.counts.sum() >= 0.99 * N
    header, rows = five_d.summary()
    assert header[0] == "measurement" and {r[0] for r in rows} >= {"TwoNN dimension", "seconds"}


def test_large_sets_are_measured_on_a_sample_with_a_note():
    x = np.random.default_rng(11).standard_normal((900, 6)).astype(np.float32)
    result = structure(x, StructureSettings(k=8, max_points=300, prior_samples=100))
    assert len(result.data.points) == len(result.data.lid) == 300 and "random sample" in result.notes[0]
    assert result.data.two_nn.dimension == pytest.approx(6.0, abs=1.0)


def test_duplicates_are_counted_not_estimated():
    x = np.random.default_rng(12).standard_normal((500, 3)).astype(np.float32)
    x[100:110] = x[0]
    result = structure(x, StructureSettings(k=5, prior_samples=50))
    assert np.isnan(result.data.lid[[0, *range(100, 110)]]).all()
    assert any("duplicate" in note for note in result.notes)


def test_structure_job_reports_stages_and_refuses_too_few_codes():
    x = np.random.default_rng(13).standard_normal((300, 4)).astype(np.float32)
    job = iter_structure(x, StructureSettings(k=5, prior_samples=50))
    stages = []
    try:
        while True:
            stages.append(next(job).stage)
    except StopIteration as stop:
        assert stop.value.count == 300
    assert stages[0] == "neighbours of the codes" and "neighbours of the Gaussian" in stages
    assert "prior samples" in stages
    with pytest.raises(AnalysisError, match="lower k"):
        structure(x[:5], StructureSettings(k=5))
