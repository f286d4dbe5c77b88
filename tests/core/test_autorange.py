"""The range of a streaming map: central percentiles with a margin, and steps only when the map changes a lot."""

from __future__ import annotations

import numpy as np

from latent_explorer.core.autorange import robust_range, settle_range
from latent_explorer.core.jobs import Progress
from latent_explorer.core.tsne import phase_text as tsne_phase
from latent_explorer.core.umap import phase_text as umap_phase


def test_a_few_far_outliers_do_not_set_the_range():
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(5000, 2))
    xy[:10] = 1e4  # 0.2 % of the points, far away
    x0, x1, y0, y1 = robust_range(xy)
    assert -5 < x0 < -2 and 2 < x1 < 5 and -5 < y0 < -2 and 2 < y1 < 5


def test_a_degenerate_line_gets_room_on_its_thin_axis():
    xy = np.stack([np.linspace(0, 100, 1000), np.zeros(1000)], axis=1)
    x0, x1, y0, y1 = robust_range(xy)
    assert y1 - y0 >= 0.05 * (x1 - x0) * 0.9 and y0 < 0 < y1


def test_no_finite_points_has_no_range():
    assert robust_range(np.full((4, 2), np.nan)) is None


def test_the_view_stays_while_the_map_moves_a_little_and_steps_when_it_changes_a_lot():
    current = (-10.0, 10.0, -10.0, 10.0)
    assert settle_range(current, (-8.0, 9.0, -9.0, 8.0)) is None  # inside, fills most of it: keep
    assert settle_range(current, (-12.0, 9.0, -9.0, 8.0)) == (-12.0, 9.0, -9.0, 8.0)  # outgrown: grow
    assert settle_range(current, (-2.0, 2.0, -9.0, 9.0)) == (-2.0, 2.0, -9.0, 9.0)  # shrunk to a fifth on x
    assert settle_range(None, current) == current


def test_tsne_phases_are_named_with_the_iteration_within_each_phase_and_kl():
    assert tsne_phase(Progress("t-SNE: nearest neighbours", 0, None, "300 points, exact search"),
                      250).startswith("1/3 neighbours: 300 points")
    assert tsne_phase(Progress("t-SNE", 100, 750, "early exaggeration, KL 3.210"), 250) == \
        "2/3 early exaggeration: iteration 100/250 · KL 3.210"
    assert tsne_phase(Progress("t-SNE", 300, 750, "optimising, KL 1.500"), 250) == \
        "3/3 optimisation: iteration 50/500 · KL 1.500"


def test_umap_phases_are_the_graph_then_epochs():
    assert umap_phase(Progress("UMAP: nearest neighbours", 0, None, "300 points")).startswith("1/2 neighbour graph")
    assert umap_phase(Progress("UMAP", 40, 500, "optimising")) == "2/2 optimisation: epoch 40/500"
