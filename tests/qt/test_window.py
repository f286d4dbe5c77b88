"""The explorer window: views and their switching, t-SNE in a worker, coordinates files, colouring, pointing."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from latent_explorer.core.datasets import Dataset
from latent_explorer.core.encoding import Codes
from latent_explorer.core.state import ViewSpec
from latent_explorer.core.tsne import TSNEParams

QUICK_TSNE = TSNEParams(early_exaggeration_iter=50, n_iter=50, perplexity=15)
STREAMING_TSNE = TSNEParams(early_exaggeration_iter=50, n_iter=200, perplexity=15, kl_stop=0)
LONG_TSNE = TSNEParams(early_exaggeration_iter=250, n_iter=20000, perplexity=15)


def blobs(n: int = 300, d: int = 6, variational: bool = True) -> tuple[Dataset, Codes]:
    """Three separated clusters of codes with 8×8 images: a dataset and its 'encoding', no model needed."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), n // 3)
    z = (rng.normal(size=(3, d)) * 6)[labels] + rng.normal(size=(n, d)) * np.linspace(2, 0.2, d)
    images = rng.integers(0, 256, (n, 1, 8, 8), dtype=np.uint8)
    dataset = Dataset("blobs", images, labels, class_names=["ring", "star", "moon"], source="test")
    mu = (z * 0.8).astype(np.float32) if variational else None
    logvar = rng.normal(size=(n, d)).astype(np.float32) - 2 if variational else None
    codes = Codes(z=z.astype(np.float32), mu=mu, logvar=logvar, labels=labels,
                  recon_error=rng.random(n).astype(np.float32))
    return dataset, codes


@pytest.fixture
def loaded(main_window):
    dataset, codes = blobs()
    main_window.state.dataset = dataset
    main_window.state.codes = codes
    return main_window


def axis_labels(window) -> tuple[str, str]:
    plot = window.scatter.plot_item
    return plot.getAxis("bottom").labelText, plot.getAxis("left").labelText


def wait_tsne_done(qtbot, window, timeout=30000) -> None:
    qtbot.waitUntil(lambda: not window.view_controller.is_tsne_running(), timeout=timeout)


def test_opens_on_pca_coloured_by_class_and_inspects(main_window, qtbot, digits_vae):
    main_window.show()
    main_window.open_dataset("digits", then_model=str(digits_vae))
    qtbot.waitUntil(lambda: main_window.state.codes is not None, timeout=30000)
    assert main_window.state.view == ViewSpec("pca", 0, 1)
    assert main_window.scatter.n_points == 1797
    ratio = main_window.pca.explained_variance_ratio_
    assert axis_labels(main_window) == (f"PC1 ({ratio[0]:.1%})", f"PC2 ({ratio[1]:.1%})")
    assert main_window.scatter.legend.count() == 10 and main_window.scatter.legend.isVisibleTo(main_window)
    np.testing.assert_allclose(main_window.scatter._xy, main_window.pca.plane(0, 1).transform(
        main_window.state.codes.z), atol=1e-4)
    # a click fills the inspector with the image, its reconstruction and the facts
    main_window.scatter.sigClicked.emit(42)
    assert main_window.state.current_index == 42
    assert "current" in main_window.scatter.markers()
    inspector = main_window.panel("inspector")
    assert inspector.image.image() is not None and inspector.reconstruction.image() is not None
    assert inspector.reconstruction.image().shape == (8, 8)
    label = main_window.state.dataset.class_names[main_window.state.dataset.labels[42]]
    assert "#42" in inspector.facts.text() and label in inspector.facts.text()
    assert "reconstruction error" in inspector.facts.text()
    pane = main_window.panel("data")
    assert "1,797" in pane.summary.text() and "z_dim 4" in pane.summary.text()


def test_projection_switch_keeps_selection_and_labels(loaded, qtbot):
    window, state = loaded, loaded.state
    state.select([1, 5, 7, 250])
    np.testing.assert_array_equal(window.scatter.selection, [1, 5, 7, 250])
    state.view = ViewSpec("raw", 2, 3)
    np.testing.assert_array_equal(window.scatter._xy, state.codes.z[:, [2, 3]])
    assert axis_labels(window) == ("z2", "z3")
    np.testing.assert_array_equal(window.scatter.selection, [1, 5, 7, 250])
    state.view = ViewSpec("pca", 1, 0)
    ratio = window.pca.explained_variance_ratio_
    assert axis_labels(window) == (f"PC2 ({ratio[1]:.1%})", f"PC1 ({ratio[0]:.1%})")
    np.testing.assert_array_equal(window.scatter.selection, [1, 5, 7, 250])
    assert window.current_projection().kind == "pca"
    # the view panel follows, and choosing a row in its lists moves the axis
    panel = window.panel("view")
    assert panel.x_list.currentRow() == 1 and panel.y_list.item(0).text().startswith("PC1 (")
    panel.y_list.setCurrentRow(4)
    assert state.view == ViewSpec("pca", 1, 4)


def test_arrow_keys_step_through_axes(loaded, qtbot):
    window, state = loaded, loaded.state
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)  # shortcuts fire in the active window only
    state.view = ViewSpec("raw", 0, 1)
    window.scatter.plot_widget.setFocus()
    qtbot.keyClick(window.scatter.plot_widget, Qt.Key.Key_Right)
    assert state.view == ViewSpec("raw", 2, 1)  # z1 is on the other axis: skipped
    qtbot.keyClick(window.scatter.plot_widget, Qt.Key.Key_Up)
    assert state.view == ViewSpec("raw", 2, 3)
    window.view_controller.step_axis(1, -1)
    window.view_controller.step_axis(1, -1)
    assert state.view == ViewSpec("raw", 2, 0)
    window.view_controller.step_axis(0, -1)
    window.view_controller.step_axis(0, -1)
    assert state.view == ViewSpec("raw", 5, 0)  # wraps around


def test_tsne_streams_partial_layouts_then_finishes(loaded, qtbot):
    window, controller = loaded, loaded.view_controller
    streamed = []  # the layout as it grows, whichever view is shown (a run does not switch the view)

    def record(method: str, _phase: str) -> None:
        layout = controller.layouts.get(key)
        if method == "t-SNE" and layout is not None and not any(s is layout.coords for s in streamed):
            streamed.append(layout.coords)

    key = controller.run_tsne(STREAMING_TSNE)
    controller.projection_phase.connect(record)
    assert window.panel("view").run_button.text() == "Stop t-SNE"
    assert window.state.view.kind == "pca"  # a run never switches the view by itself
    qtbot.waitUntil(lambda: key in controller.layouts, timeout=20000)
    controller.show_layout(key)  # the user asks to watch it stream
    wait_tsne_done(qtbot, window)
    record("t-SNE", "done")
    assert window.state.view == ViewSpec("tsne", key=key)
    layout = controller.layouts[key]
    assert layout.finished and layout.coords.shape == (300, 2)
    assert len(streamed) >= 3  # initial layout, chunks, final
    assert not np.allclose(streamed[0], streamed[-1])
    np.testing.assert_array_equal(window.scatter._xy, layout.coords)
    assert axis_labels(window) == ("t-SNE 1", "t-SNE 2")
    assert window.current_projection().kind == "tsne"
    assert window.panel("view").run_button.text() == "Run t-SNE"
    assert window.panel("view").view_combo.currentText() == f"t-SNE {key}"


def test_tsne_inputs_pixels_pca_and_mu(loaded, qtbot):
    window, controller = loaded, loaded.view_controller
    keys = []
    for source in ("pixels", "pca", "mu"):
        keys.append(controller.run_tsne(TSNEParams(**{**QUICK_TSNE.__dict__, "input": source,
                                                      "pca_components": 3})))
        wait_tsne_done(qtbot, window)
        assert controller.layouts[keys[-1]].finished
    assert keys[0].startswith("pixels") and keys[1].startswith("PCA-3") and keys[2].startswith("mu")
    assert not np.allclose(controller.layouts[keys[0]].coords, controller.layouts[keys[2]].coords)
    # a new encoding drops the layouts made from the codes, keeps the one made from the pixels
    window.state.codes = blobs()[1]
    assert list(controller.layouts) == [keys[0]]


def test_tsne_of_mu_without_a_vae_is_an_error(main_window):
    dataset, codes = blobs(variational=False)
    main_window.state.dataset = dataset
    main_window.state.codes = codes
    assert main_window.view_controller.run_tsne(TSNEParams(input="mu")) is None
    assert "not a VAE" in str(main_window.last_error)
    assert not main_window.runner.is_running()


def test_large_pca_is_fitted_in_a_worker(main_window, qtbot, monkeypatch):
    import latent_explorer.qt.view_controller as view_controller

    monkeypatch.setattr(view_controller, "PCA_INLINE_WORK", 0)
    dataset, codes = blobs()
    main_window.state.dataset = dataset
    main_window.state.codes = codes
    assert main_window.pca is None and main_window.runner.is_running("pca")
    qtbot.waitUntil(lambda: main_window.pca is not None, timeout=10000)
    assert main_window.scatter.n_points == 300 and axis_labels(main_window)[0].startswith("PC1 (")
    assert main_window.scatter.legend.count() == 3


def test_rerun_is_served_from_cache_without_a_job(loaded, qtbot):
    window, controller = loaded, loaded.view_controller
    key = controller.run_tsne(QUICK_TSNE)
    wait_tsne_done(qtbot, window)
    first = controller.layouts[key].coords.copy()
    window.state.view = ViewSpec("pca", 0, 1)
    del controller.layouts[key]
    started = []
    window.runner.jobs_changed.connect(lambda: started.append(window.runner.running()) if window.runner.is_running()
                                       else None)
    assert controller.run_tsne(QUICK_TSNE) == key
    assert not window.runner.is_running() and not started
    assert window.state.view == ViewSpec("tsne", key=key)
    np.testing.assert_array_equal(window.scatter._xy, first)
    # a new exaggeration reruns only the optimisation: the neighbours are reused
    controller.run_tsne(TSNEParams(**{**QUICK_TSNE.__dict__, "exaggeration": 3.0}))
    wait_tsne_done(qtbot, window)
    assert controller.tsne_cache.affinity_builds == 1


def test_cancel_keeps_the_partial_layout(loaded, qtbot):
    window, controller = loaded, loaded.view_controller
    key = controller.run_tsne(LONG_TSNE)
    qtbot.waitUntil(lambda: key in controller.layouts and controller.layouts[key].note.startswith("running")
                    and not controller.layouts[key].note.startswith("running 0/"), timeout=20000)
    controller.show_layout(key)
    row = next(r for r in window.job_list.rows.values() if r.handle.name == "tsne")
    row.cancel_button.click()
    layout = controller.layouts[key]
    assert layout.note.startswith("stopped at") and not layout.finished
    assert window.state.view == ViewSpec("tsne", key=key)
    np.testing.assert_array_equal(window.scatter._xy, layout.coords)
    assert not controller.is_tsne_running()
    assert window.panel("view").run_button.text() == "Run t-SNE"


def test_new_tsne_stops_the_running_one(loaded, qtbot):
    window, controller = loaded, loaded.view_controller
    first = controller.run_tsne(LONG_TSNE)
    qtbot.waitUntil(lambda: first in controller.layouts, timeout=20000)
    second = controller.run_tsne(TSNEParams(**{**QUICK_TSNE.__dict__, "seed": 5}))
    assert controller.layouts[first].note.startswith("stopped")
    wait_tsne_done(qtbot, window)
    assert controller.layouts[second].finished
    assert window.state.view == ViewSpec("tsne", key=second)


def test_wrong_coordinates_file_is_an_error_and_keeps_the_view(loaded, tmp_path):
    window = loaded
    window.state.view = ViewSpec("raw", 1, 2)
    np.save(tmp_path / "umap.npy", np.zeros((299, 2)))
    assert window.load_coordinates(str(tmp_path / "umap.npy")) is None
    assert "umap.npy" in str(window.last_error) and "299" in str(window.last_error)
    assert window.state.view == ViewSpec("raw", 1, 2)
    np.testing.assert_array_equal(window.scatter._xy, window.state.codes.z[:, [1, 2]])


def test_coordinates_file_becomes_a_view_and_missing_points_are_counted(loaded, tmp_path):
    window = loaded
    coords = np.random.default_rng(0).normal(size=(300, 2))
    coords[[3, 30]] = np.nan
    coords[77, 1] = np.inf
    np.savetxt(tmp_path / "my map.csv", coords, delimiter=",", header="x,y", comments="")
    key = window.load_coordinates(str(tmp_path / "my map.csv"))
    assert window.state.view == ViewSpec("custom", key=key)
    assert axis_labels(window) == ("my map 1", "my map 2")
    assert window.scatter.missing_count == 3
    assert window.missing_label.text() == "3 points not drawn (NaN/inf)" and not window.missing_label.isHidden()
    window.state.view = ViewSpec("pca", 0, 1)
    assert window.missing_label.isHidden()
    # a code of the map is placed on its own point
    window.state.view = ViewSpec("custom", key=key)
    np.testing.assert_allclose(window.current_projection().transform(window.state.codes.z[10]), coords[10],
                               atol=1e-5)


def test_selection_is_shared_by_every_view(loaded, qtbot, tmp_path):
    window, state, scatter = loaded, loaded.state, loaded.scatter
    np.save(tmp_path / "map.npy", np.random.default_rng(1).normal(size=(300, 2)))
    key = window.load_coordinates(str(tmp_path / "map.npy"))
    state.view = ViewSpec("pca", 0, 1)
    xy = scatter._xy
    picked = scatter.select_rect(xy[:, 0].min() - 1, np.median(xy[:, 0]), xy[:, 1].min() - 1, xy[:, 1].max() + 1)
    assert len(picked) > 0
    np.testing.assert_array_equal(state.selection, np.sort(picked))
    state.view = ViewSpec("custom", key=key)
    np.testing.assert_array_equal(scatter.selection, np.sort(picked))
    # add and subtract in this view, seen back in PCA
    scatter.sigSelected.emit(np.array([0, 1, 2]), "add")
    scatter.sigSelected.emit(np.array([0]), "subtract")
    expected = np.setdiff1d(np.union1d(picked, [0, 1, 2]), [0])
    state.view = ViewSpec("pca", 0, 1)
    np.testing.assert_array_equal(scatter.selection, expected)


def test_legend_hide_writes_hidden_classes(loaded, qtbot):
    window, state = loaded, loaded.state
    window.show()
    legend = window.scatter.legend
    assert legend.count() == 3
    qtbot.mouseClick(legend.viewport(), Qt.MouseButton.LeftButton, pos=legend.swatch_point(2))
    assert state.hidden_classes == frozenset({2})
    state.hidden_classes = frozenset({0, 1})
    assert window.scatter.hidden_classes == {0, 1}
    state.color_by = "recon_error"  # hidden ids mean nothing under another colouring
    assert state.hidden_classes == frozenset()


def test_colouring_modes_and_mu(loaded, qtbot):
    window, state, scatter = loaded, loaded.state, loaded.scatter
    panel = window.panel("view")

    def modes() -> list[str]:
        return [panel.colour_combo.itemData(k) for k in range(panel.colour_combo.count())]

    assert modes() == ["label", "z_norm", "recon_error", "mean_logvar", "none"]
    state.color_by = "z_norm"
    assert scatter.color_bar is not None and scatter.color_bar.isVisible() and not scatter.legend.isVisibleTo(window)
    np.testing.assert_allclose(scatter._values, np.linalg.norm(state.codes.z, axis=1), rtol=1e-5)
    state.use_mu = True
    assert panel.use_mu.isChecked()
    np.testing.assert_allclose(scatter._values, np.linalg.norm(state.codes.mu, axis=1), rtol=1e-5)
    np.testing.assert_allclose(window.pca.mean_, state.codes.mu.mean(0), atol=1e-5)  # the PCA of mu, not z
    np.testing.assert_allclose(scatter._xy, window.pca.plane(0, 1).transform(state.codes.mu), atol=1e-4)
    state.color_by = "mean_logvar"
    np.testing.assert_allclose(scatter._values, state.codes.logvar.mean(1), rtol=1e-5)
    state.color_by = "none"
    assert scatter._mode == "uniform" and not scatter.legend.isVisibleTo(window)
    # clusters from the analysis features colour by category
    state.cluster_labels = np.arange(300) % 4
    assert "cluster" in modes()
    state.color_by = "cluster"
    assert scatter.legend.count() == 4 and scatter.legend.item(3).text().startswith("cluster 3")
    np.testing.assert_array_equal(scatter._labels, np.arange(300) % 4)


def test_colouring_an_autoencoder_without_logvar_falls_back(main_window):
    dataset, codes = blobs(variational=False)
    main_window.state.dataset = dataset
    main_window.state.codes = codes
    panel = main_window.panel("view")
    assert "mean_logvar" not in [panel.colour_combo.itemData(k) for k in range(panel.colour_combo.count())]
    assert not panel.use_mu.isEnabled()
    main_window.state.color_by = "mean_logvar"
    assert main_window.scatter._mode == "uniform"
    assert "mean_logvar" in main_window.status_label.text()


def test_hover_shows_the_image_card(loaded, qtbot):
    window = loaded
    window.show()
    window.scatter.sigHovered.emit(7)
    label = window.scatter.tooltip_label
    assert not label.isHidden() and label.pixmap().width() >= 8 * 8
    assert window.view_controller.describe(7) == "#7 · ring"
    window.scatter.sigHovered.emit(-1)
    assert label.isHidden()


def test_closing_during_tsne_is_clean(loaded, qtbot):
    window, controller = loaded, loaded.view_controller
    window.show()
    controller.run_tsne(LONG_TSNE)
    qtbot.waitUntil(lambda: bool(controller.layouts), timeout=20000)
    window.close()
    assert not window.runner.is_running()
    assert window.runner.shutdown(10000)


def test_dock_layout_is_remembered(main_window, qtbot, isolated_dirs):
    from latent_explorer.qt.main_window import MainWindow

    main_window.show()
    main_window.docks["inspector"].hide()
    main_window.close()
    settings = QSettings(str(isolated_dirs / "settings.ini"), QSettings.Format.IniFormat)
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    again.show()
    assert again.docks["inspector"].isHidden() and not again.docks["view"].isHidden()
    again.close()


def test_codes_for_a_replaced_dataset_are_dropped(loaded):
    """An encoding that finishes after its dataset was replaced must not be shown with the new one."""
    window = loaded
    current = window.state.codes
    old_dataset, stale = blobs(n=90)
    window.sources._on_encoded(window.state.model, old_dataset, stale)
    assert window.state.codes is current


def test_hidden_classes_reset_with_a_new_dataset(loaded, qtbot):
    window = loaded
    window.state.hidden_classes = frozenset({1})
    window.open_dataset("digits")
    qtbot.waitUntil(lambda: window.state.dataset.name == "digits", timeout=10000)
    assert window.state.hidden_classes == frozenset()


def test_axes_beyond_the_codes_fall_back_to_pca(loaded):
    window = loaded
    window.state.view = ViewSpec("raw", 40, 41)  # remembered from a wider model, say
    assert window.state.view == ViewSpec("pca", 0, 1)
    assert window.scatter.n_points == 300
