"""The neighbours panel: exact latent neighbours of the clicked point or the decoder's z, k, selecting them."""

from __future__ import annotations

import numpy as np

from latent_explorer.core.datasets import Dataset
from latent_explorer.core.encoding import Codes
from latent_explorer.core.neighbors import nearest
from latent_explorer.qt.features.neighbours.panel import NeighboursPanel


def loaded_context(feature_context, n: int = 200, d: int = 5):
    context = feature_context()
    rng = np.random.default_rng(3)
    z = rng.normal(size=(n, d)).astype(np.float32)
    labels = np.arange(n) % 4
    images = rng.integers(0, 256, (n, 1, 6, 6), dtype=np.uint8)
    context.state.dataset = Dataset("pts", images, labels, class_names=list("abcd"), source="test")
    context.state.codes = Codes(z=z, mu=None, logvar=None, labels=labels, recon_error=np.zeros(n, np.float32))
    return context, z


def wait_result(qtbot, panel):
    qtbot.waitUntil(lambda: panel.result is not None and not panel.jobs.is_running(), timeout=10000)


def test_the_clicked_points_neighbours_are_the_exact_latent_ones_with_thumbnails(feature_context, qtbot):
    context, z = loaded_context(feature_context)
    panel = NeighboursPanel(context)
    assert panel.result is None and panel.list.count() == 0
    context.state.current_index = 17
    wait_result(qtbot, panel)
    expected = nearest(z, 17, k=10)
    np.testing.assert_array_equal(panel.neighbour_indices(), expected.indices[0])
    np.testing.assert_allclose(panel.result.distances[0], expected.distances[0], rtol=1e-5)
    assert 17 not in panel.neighbour_indices()
    assert panel.list.count() == 10 and not panel.list.item(0).icon().isNull()
    first = int(expected.indices[0, 0])
    assert panel.list.item(0).text().startswith(f"#{first} · {'abcd'[first % 4]}")
    # k follows the spin box
    panel.k_spin.setValue(3)
    qtbot.waitUntil(lambda: panel.result is not None and panel.result.indices.shape[1] == 3, timeout=10000)
    np.testing.assert_array_equal(panel.neighbour_indices(), expected.indices[0, :3])
    # select them: the neighbours and the point itself
    panel.select_button.click()
    assert sorted(context.state.selection.tolist()) == sorted([*expected.indices[0, :3].tolist(), 17])
    # a double-click moves to a neighbour, and its own neighbours follow
    panel.list.itemActivated.emit(panel.list.item(0))
    assert context.state.current_index == first
    qtbot.waitUntil(lambda: panel.result is not None and first not in panel.neighbour_indices()
                    and panel._query_row == first, timeout=10000)


def test_the_decoders_z_can_be_the_query_and_new_codes_clear_the_list(feature_context, qtbot):
    context, z = loaded_context(feature_context)
    panel = NeighboursPanel(context)
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("decoder"))
    query = z[5] + 0.01
    context.state.current_z = query
    wait_result(qtbot, panel)
    assert panel.neighbour_indices()[0] == 5  # the decoder's z is not a row: nothing is left out
    panel.select_button.click()
    assert sorted(context.state.selection.tolist()) == sorted(panel.neighbour_indices().tolist())
    context.state.codes = None
    qtbot.waitUntil(lambda: panel.result is None, timeout=5000)
    assert panel.list.count() == 0 and not panel.select_button.isEnabled()
