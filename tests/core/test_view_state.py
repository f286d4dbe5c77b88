"""View state without Qt: what is bound to the codes or the dataset goes when they change."""

from __future__ import annotations

import numpy as np

from latent_explorer.core.encoding import Codes
from latent_explorer.core.projections import PCAModel, PCAPlane, RawAxes
from latent_explorer.core.state import ViewSpec
from latent_explorer.core.view_state import DEFAULT_VIEW, Layout, ViewState


def codes(n: int = 50, d: int = 20, seed: int = 0) -> Codes:
    z = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return Codes(z=z, mu=None, logvar=None, labels=None, recon_error=np.zeros(n, np.float32), model_key=f"m{d}",
                 data_key="data")


def layout(key: str, source: str, n: int = 50) -> Layout:
    return Layout(key, "tsne" if source == "latent" else "custom", np.zeros((n, 2), np.float32), key, source)


def test_new_codes_drop_their_pca_maps_and_layouts_but_keep_the_datasets():
    state, old = ViewState(), codes()
    fired = []
    state.events.layouts.connect(lambda: fired.append("layouts"))
    state.set_pca("z", PCAModel.fit(old.z))
    for key, source in (("tsne-z", "latent"), ("pixels", "pixels"), ("umap.npy", "file")):
        state.put_layout(layout(key, source))
    assert state.projection(ViewSpec("tsne", key="tsne-z"), old.z, "z") is not None
    gone = state.codes_changed(codes(d=8, seed=1))
    assert gone == ["tsne-z"] and state.snapshot() == {"layouts": ["pixels", "umap.npy"], "pca": {}}
    assert "layouts" in fired
    assert state.codes_changed(codes(n=30, d=8)) == ["pixels", "umap.npy"]  # another row count: not this data
    state.put_layout(layout("umap.npy", "file"))
    assert state.dataset_changed() == ["umap.npy"] and state.layouts == {}


def test_a_view_of_a_wider_model_has_no_projection_instead_of_raising():
    """PCA 1/18 asked of 8-dimensional codes (the moment between new codes and the view falling back)."""
    state, narrow = ViewState(), codes(d=8)
    state.set_pca("z", PCAModel.fit(narrow.z))
    wide_view = ViewSpec("pca", 0, 17)
    assert state.projection(wide_view, narrow.z, "z") is None
    assert not state.is_valid(wide_view, narrow) and state.valid_view(wide_view, narrow) == DEFAULT_VIEW
    assert isinstance(state.projection(ViewSpec("pca", 0, 7), narrow.z, "z"), PCAPlane)
    assert state.projection(ViewSpec("raw", 3, 12), narrow.z, "z") is None
    assert isinstance(state.projection(ViewSpec("raw", 3, 7), narrow.z, "z"), RawAxes)
    assert state.projection(ViewSpec("pca", 0, 1), narrow.z, "mu") is None  # no PCA of mu fitted


def test_a_layout_for_another_row_count_has_no_projection():
    state = ViewState()
    state.put_layout(layout("map", "pixels", n=40))
    assert state.projection(ViewSpec("tsne", key="map"), codes().z, "z") is None
