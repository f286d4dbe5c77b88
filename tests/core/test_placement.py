"""The one inverse-distance placement rule, as the decoder, the maps and the paths use it."""

from __future__ import annotations

import numpy as np

from latent_explorer.core.placement import inverse_distance_weights, place_by_neighbours, weighted_mean


def test_weights_follow_inverse_distance_and_an_exact_hit_takes_all():
    w = inverse_distance_weights(np.array([[1.0, 3.0], [0.0, 2.0]]))
    np.testing.assert_allclose(w, [[0.75, 0.25], [1.0, 0.0]])


def test_placement_leaves_out_neighbours_the_map_does_not_place():
    coords = np.array([[0.0, 0.0], [4.0, 0.0], [np.nan, np.nan]])
    xy = place_by_neighbours(coords, np.array([[0, 1], [0, 2], [2, 2]]), np.array([[1.0, 3.0], [1.0, 1.0], [1, 1]]))
    np.testing.assert_allclose(xy[0], [1.0, 0.0])  # 0.75·(0,0) + 0.25·(4,0)
    np.testing.assert_allclose(xy[1], [0.0, 0.0])  # the unplaced neighbour drops out
    assert np.isnan(xy[2]).all()


def test_weighted_mean_takes_any_row_width():
    codes = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = weighted_mean(codes, np.array([[0, 2]]), np.array([[0.5, 0.5]]))
    np.testing.assert_allclose(out, [[4.0, 5.0, 6.0, 7.0]])
    assert out.dtype == np.float64
