"""t-SNE and UMAP from the view panel: no switch by themselves, phases shown, Show and Freeze view."""

from __future__ import annotations

import numpy as np
import pytest
from test_window import LONG_TSNE, blobs

from latent_explorer.core.umap import umap_available


@pytest.fixture
def loaded(main_window):
    dataset, codes = blobs()
    main_window.state.dataset = dataset
    main_window.state.codes = codes
    return main_window


def quick_panel(panel) -> None:
    panel.perplexity.setValue(15)
    panel.early_iterations.setValue(50)
    panel.iterations.setValue(60)


def test_a_run_from_the_panel_names_its_phases_and_waits_for_show(loaded, qtbot):
    window, panel, controller = loaded, loaded.panel("view"), loaded.view_controller
    quick_panel(panel)
    phases = []
    controller.projection_phase.connect(lambda method, text: phases.append(text))
    panel.run_button.click()
    qtbot.waitUntil(lambda: not controller.is_tsne_running(), timeout=30000)
    assert window.state.view.kind == "pca"  # neither at the start nor at the end
    assert any(p.startswith("1/3 neighbours") for p in phases)
    assert any(p.startswith("2/3 early exaggeration: iteration") and "KL" in p for p in phases)
    assert any(p.startswith("3/3 optimisation: iteration") for p in phases)
    assert panel.phase_label.text().startswith("t-SNE: done")
    assert panel.show_button.isEnabled() and "ready" in panel.show_button.text()
    panel.show_button.click()
    assert window.state.view.kind == "tsne" and not panel.show_button.isEnabled()


def test_a_streaming_map_is_framed_by_its_percentiles_and_freeze_keeps_the_view(loaded, qtbot):
    window, panel, controller = loaded, loaded.panel("view"), loaded.view_controller
    key = controller.run_tsne(LONG_TSNE, show_when_done=False)
    qtbot.waitUntil(lambda: key in controller.layouts, timeout=20000)
    assert panel.show_button.isEnabled()  # the user may watch it stream
    panel.show_button.click()
    assert window.state.view.key == key
    xy = controller.layouts[key].coords
    x0, x1, _, _ = window.scatter.visible_rect()
    assert x1 - x0 <= 1.5 * (np.percentile(xy[:, 0], 99) - np.percentile(xy[:, 0], 1)) + 1e-6
    panel.freeze_box.setChecked(True)
    frozen = window.scatter.visible_rect()
    seen = len(controller.layouts[key].note)
    notes = {controller.layouts[key].note}
    qtbot.waitUntil(lambda: notes.add(controller.layouts[key].note) or len(notes) >= 3, timeout=30000)
    assert window.scatter.visible_rect() == frozen and seen
    controller.cancel_tsne()


@pytest.mark.slow  # umap-learn compiles with numba on its first run: minutes on a loaded 2-core machine
@pytest.mark.skipif(not umap_available(), reason="umap-learn is not installed")
def test_umap_runs_in_the_worker_with_phases_and_is_shown_on_request(loaded, qtbot):
    window, panel, controller = loaded, loaded.panel("view"), loaded.view_controller
    assert panel.method_tabs.count() == 2
    panel.umap_epochs.setValue(30)
    panel.umap_run_button.click()
    assert panel.umap_run_button.text() == "Stop UMAP"
    qtbot.waitUntil(lambda: not controller.is_umap_running(), timeout=450000)
    assert window.last_error is None and window.state.view.kind == "pca"
    key = next(k for k, v in controller.layouts.items() if v.kind == "umap")
    assert controller.layouts[key].coords.shape == (300, 2)
    assert panel.phase_label.text().startswith("UMAP: done") and "UMAP" in panel.show_button.text()
    panel.show_button.click()
    assert window.state.view.key == key
    assert window.scatter.plot_item.getAxis("bottom").labelText == "UMAP 1"
    # the same parameters again: from the cache, no job
    panel.umap_run_button.click()
    assert not controller.is_umap_running() and "from cache" in window.status_label.text()
