"""Exact latent neighbours: the same sets and distances as a brute-force search, for points and for any z."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import latent_explorer.core.neighbors as neighbors_module
from latent_explorer.core.jobs import run_job
from latent_explorer.core.neighbors import NeighborsError, iter_neighbors, nearest, recall_at_k


def brute(data: np.ndarray, queries: np.ndarray, k: int, exclude_self: bool) -> tuple[np.ndarray, np.ndarray]:
    d = np.sqrt(((queries[:, None, :].astype(np.float64) - data[None].astype(np.float64)) ** 2).sum(-1))
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(d, order, axis=1)


def test_graph_matches_brute_force_across_blocks():
    rng = np.random.default_rng(0)
    data = (rng.normal(size=(700, 12)) * 50 + 1000).astype(np.float32)  # large offset: cancellation-prone
    result = run_job(iter_neighbors(data, k=7, block=128))
    ref_idx, ref_dist = brute(data, data, 7, exclude_self=True)
    np.testing.assert_array_equal(result.indices, ref_idx)
    np.testing.assert_allclose(result.distances, ref_dist, rtol=1e-5)
    assert not (result.indices == np.arange(700)[:, None]).any()


def test_point_and_free_z_queries():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(300, 5)).astype(np.float32)
    hit = nearest(data, 42, k=5)
    ref_idx, ref_dist = brute(data, data, 5, exclude_self=True)
    np.testing.assert_array_equal(hit.indices[0], ref_idx[42])
    np.testing.assert_allclose(hit.distances[0], ref_dist[42], rtol=1e-5)
    z = data[42] + 1e-3
    free = nearest(data, z, k=1)
    assert free.indices[0, 0] == 42 and free.distances[0, 0] == pytest.approx(np.sqrt(5) * 1e-3, rel=1e-2)


def test_cosine_distance():
    data = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]], np.float32)
    hit = nearest(data, 0, k=2, metric="cosine")
    assert hit.indices.tolist() == [[2, 1]]
    np.testing.assert_allclose(hit.distances[0], [1 - np.cos(np.pi / 4), 1.0], rtol=1e-5)


def test_bad_queries_are_explained():
    data = np.zeros((5, 3), np.float32)
    with pytest.raises(NeighborsError, match="between 1 and 4"):
        nearest(data, 0, k=5)
    with pytest.raises(NeighborsError, match="does not exist"):
        nearest(data, 9)
    with pytest.raises(NeighborsError, match="2 dimensions"):
        nearest(data, np.zeros(2))
    with pytest.raises(NeighborsError, match="metric"):
        nearest(data, 0, k=2, metric="manhattan")


def test_recall_and_doctests():
    assert recall_at_k(np.array([[1, 2, 3]]), np.array([[3, 4, 5]])) == pytest.approx(1 / 3)
    assert doctest.testmod(neighbors_module).failed == 0
