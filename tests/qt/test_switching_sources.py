"""Switching model or dataset leaves nothing of the previous one on screen (and raises nothing)."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core.interpolation import LatentPath
from latent_explorer.core.models import demo_models
from latent_explorer.core.state import ViewSpec

pytestmark = pytest.mark.skipif("digits-conv-ae" not in demo_models(), reason="the digits AE demo is not built")


@pytest.fixture(scope="module")
def wide_model(tmp_path_factory, digits):
    """A digits autoencoder with 20 latent dimensions (the demo has 8), trained for one epoch."""
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models.checkpoint import TrainConfig
    from latent_explorer.core.models.training import iter_train

    out = tmp_path_factory.mktemp("wide") / "digits-z20"
    run_job(iter_train(TrainConfig(arch="conv-ae", z_dim=20, epochs=1, batch_size=64), digits, out))
    return out


def test_moving_to_a_narrower_model_resets_everything_bound_to_the_old_one(main_window, qtbot, wide_model):
    window = main_window
    window.show()
    state, context = window.state, window.context
    window.open_dataset("digits", then_model=str(wide_model))
    qtbot.waitUntil(lambda: state.codes is not None and state.codes.latent_dim == 20 and window.pca is not None
                    and not window.runner.is_running(), timeout=60000)
    state.view = ViewSpec("pca", 0, 17)  # PC1 / PC18
    xy = window.view_controller.xy
    paths = context.interpolation
    entry = paths.add_path(LatentPath("wide", [xy[0].tolist(), xy[40].tolist()],
                                      view={"kind": "pca", "i": 0, "j": 17, "key": ""}, steps=8,
                                      start_index=0, end_index=40))
    assert entry.lifted is not None and entry.lifted.z.shape[1] == 20
    state.select([1, 2, 3])
    prior, arithmetic = context.decoder.prior, context.decoder.arithmetic
    prior.side_spin.setValue(2)
    prior.sample()
    qtbot.waitUntil(lambda: prior.overlay is not None, timeout=20000)
    for name, index in (("A", 3), ("B", 7), ("C", 11)):
        state.current_index = index
        arithmetic.set_from_selected(name)
    assert arithmetic.compute() is not None and "A − B + C" in window.scatter.markers()

    window.sources.confirm_discard = lambda what: True  # asked whether to drop the selection: the user agrees
    window.open_demo("digits-conv-ae")  # 8 latent dimensions, the same dataset
    qtbot.waitUntil(lambda: state.codes is not None and state.codes.latent_dim == 8
                    and not window.runner.is_running(), timeout=60000)
    assert window.last_error is None
    assert state.view == ViewSpec("pca", 0, 1) and window.pca.n_components == 8
    assert len(state.selection) == 0 and state.current_index is None
    assert prior.draw is None and prior.overlay is None and prior.samples_xy is None
    assert arithmetic.result is None and len(arithmetic.neighbours) == 0
    assert not {"A", "B", "C", "A − B + C"} & set(window.scatter.markers())
    assert entry.lifted is None and "needs 18 dimensions" in entry.problem  # marked, not silently wrong
    assert all(shape.name != "wide" or shape.vertices is None for shape in paths.overlay.shapes)
    assert window.view_controller.view_state.snapshot() == {"layouts": [], "pca": {"z": 8}}


def test_a_new_dataset_drops_its_maps_and_the_selection(main_window, qtbot, digits_vae):
    window = main_window
    state = window.state
    window.open_dataset("digits", then_model=str(digits_vae))
    qtbot.waitUntil(lambda: state.codes is not None and not window.runner.is_running(), timeout=60000)
    coords = np.random.default_rng(0).normal(size=(len(state.codes), 2)).astype(np.float32)
    key = window.view_controller.add_layout("umap", coords)
    state.select([4, 5])
    assert state.view.key == key
    window.open_dataset("digits")  # opened again: another dataset object, with its own maps
    qtbot.waitUntil(lambda: state.codes is not None and not window.runner.is_running(), timeout=60000)
    assert key not in window.view_controller.layouts and state.view.kind == "pca"
    assert len(state.selection) == 0 and window.last_error is None
