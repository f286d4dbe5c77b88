"""The structure plots' curves: data and Gaussian baseline on shared bins; the local dimension per sample."""

from __future__ import annotations

import numpy as np

from latent_explorer.core.analysis.structure import StructureSettings, structure
from latent_explorer.core.analysis.structure_curves import lid_per_sample, shared_edges, structure_curves


def test_curves_share_bins_and_count_every_point_but_the_far_tail():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(800, 6)).astype(np.float32)
    result = structure(x, StructureSettings(k=10, prior_samples=300))
    curves = structure_curves(result)
    for pair in (curves.lid, curves.nn_distance):
        assert len(pair.data) == len(pair.gaussian) == len(pair.edges) - 1
        assert 0.99 * 800 <= pair.data.sum() <= 800 and 0.99 * 800 <= pair.gaussian.sum() <= 800
        assert len(pair.rows()) == len(pair.data)
    assert curves.prior_edges[0] <= 0.0 and curves.prior_edges[-1] >= 1.5  # the meter's unit is in view
    assert set(curves.prior_counts) == {p.prior for p in result.priors}
    lid = lid_per_sample(result)
    np.testing.assert_array_equal(lid, result.data.lid)


def test_shared_edges_ignore_a_far_outlier_and_nan():
    values = np.concatenate([np.linspace(0, 1, 999), [1e6, np.nan]])
    edges = shared_edges([values], bins=10)
    assert edges[0] == 0.0 and edges[-1] < 2.0


def test_lid_per_sample_leaves_unmeasured_samples_empty():
    x = np.random.default_rng(1).normal(size=(500, 4)).astype(np.float32)
    result = structure(x, StructureSettings(k=8, max_points=200, prior_samples=100))
    lid = lid_per_sample(result)
    assert lid.shape == (500,) and np.isfinite(lid).sum() == 200
    np.testing.assert_array_equal(lid[result.data.points], result.data.lid)
