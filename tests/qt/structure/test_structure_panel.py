"""The structure dock in the real window: computed on request in a worker on digits codes, every plot titled
and readable, cancellable, exported as CSV, and its local dimension offered as a colouring of the scatter."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from latent_explorer.core.encoding import Codes, iter_encode_cached
from latent_explorer.core.jobs import run_job
from latent_explorer.core.models import load_model
from latent_explorer.qt.features.structure.panel import LID_COLOURING


@pytest.fixture(scope="module")
def digits_codes(digits) -> Codes:
    model = load_model("demo:digits-conv-vae", device="cpu")
    return run_job(iter_encode_cached(model, digits, seed=0, use_cache=False))


def plain_codes(z: np.ndarray) -> Codes:
    return Codes(z=z, mu=None, logvar=None, labels=None, recon_error=np.zeros(len(z), np.float32))


def shown_panel(window, qtbot):
    window.resize(1400, 1000)
    window.show()
    window.raise_panel("structure")
    panel = window.panel("structure")
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    return panel


def finished(qtbot, panel, timeout: int = 60000):
    qtbot.waitUntil(lambda: panel.result is not None and not panel.runner.is_running(panel.name), timeout=timeout)
    return panel.result


def test_structure_of_digits_codes_is_drawn_exported_and_colours_the_scatter(main_window, qtbot, digits,
                                                                             digits_codes, tmp_path):
    panel = shown_panel(main_window, qtbot)
    main_window.state.dataset = digits
    main_window.state.codes = digits_codes
    assert panel.result is None and "press Compute" in panel.status.text()  # on request only
    space_names = [panel.space_box.itemData(i) for i in range(panel.space_box.count())]
    assert space_names == ["z", "mu", "pca"]
    panel.k_box.setValue(12)
    panel.space_box.setCurrentIndex(space_names.index("mu"))
    panel.compute()
    result = finished(qtbot, panel)
    assert result.count == len(digits) and result.data.k == 12
    assert 1.0 < result.data.lid_median < digits_codes.latent_dim + 1
    assert "TwoNN global dimension" in panel.headline.text()
    assert f"{result.data.two_nn.dimension:.3g}" in panel.headline.text()

    panel.tabs.setCurrentIndex(0)
    qtbot.wait(50)
    for plot in panel.plots.plots:
        assert plot.titleLabel.text, "every plot has a title"
        for axis in ("bottom", "left"):
            assert plot.getAxis(axis).labelText, f"the {axis} axis has a title"
            assert not plot.getAxis(axis).autoSIPrefix
        assert plot.legend is not None and len(plot.legend.items) >= 1
    assert any("median" in label.text for _, label in panel.plots.lid.legend.items)
    assert f"{result.nn_ratio:.3g}" in panel.plots.nn.titleLabel.text
    for tab in (0, 1):
        panel.tabs.setCurrentIndex(tab)
        qtbot.wait(50)
        widget = panel.tabs.currentWidget()
        assert widget.height() >= 250
        for plot in widget.ci.items:
            assert plot.sceneBoundingRect().height() >= 250 - 40  # the plot area within the widget's margins

    # the colouring: listed by the view panel, drawn with a colour bar titled by it
    modes = dict(panel.context.view.colour_modes())
    assert LID_COLOURING in modes and modes[LID_COLOURING] == "local intrinsic dimension (k = 12, μ)"
    panel.colour_button.click()
    assert main_window.state.color_by == LID_COLOURING
    scatter = panel.context.scatter
    assert scatter.color_bar is not None and scatter.color_bar.isVisible()
    assert scatter.color_bar.getAxis("left").labelText == "local ID"
    values, label = panel.context.view.continuous_values(LID_COLOURING)
    np.testing.assert_allclose(values, result.data.lid)

    written = panel.export_csv(tmp_path / "structure.csv")
    names = {p.name for p in written}
    assert {"structure.csv", "structure-local-dimension.csv", "structure-lid-histogram.csv",
            "structure-nn-distance.csv", "structure-prior-scores.csv", "structure-lid-by-radius.csv"} <= names
    with open(tmp_path / "structure-local-dimension.csv") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == len(digits) + 1
    assert float(rows[1][1]) == pytest.approx(result.data.lid[0])
    with open(tmp_path / "structure-nn-distance.csv") as fh:
        counts = [int(r[2]) for r in list(csv.reader(fh))[1:]]
    assert 0.99 * len(digits) <= sum(counts) <= len(digits)  # the top 0.2 % may lie past the last bin
    assert panel.export_png(tmp_path / "structure.png").stat().st_size > 1000

    # new codes: the measurement no longer holds; the colouring is withdrawn and the scatter falls back
    main_window.state.dataset = None
    main_window.state.codes = plain_codes(digits_codes.z[:500].copy())
    assert main_window.state.color_by == "label"
    assert LID_COLOURING not in dict(panel.context.view.colour_modes())
    assert panel.result is None and not panel.colour_button.isEnabled()


def test_cancel_stops_the_structure_job_and_publishes_nothing(main_window, qtbot, digits):
    panel = shown_panel(main_window, qtbot)
    rng = np.random.default_rng(0)
    n = 30_000  # a few seconds of neighbours: still running when cancelled
    main_window.state.dataset = None
    main_window.state.codes = plain_codes(rng.normal(size=(n, 64)).astype(np.float32))
    panel.compute()
    qtbot.waitUntil(lambda: panel.cancel_button.isVisible(), timeout=10000)
    handle = panel.runner.handle(panel.name)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: handle.state != "running", timeout=10000)
    assert handle.state in ("cancelled", "abandoned")
    qtbot.waitUntil(lambda: not handle.thread_alive(), timeout=20000)
    assert panel.result is None
    assert "cancelled" in panel.status.text()
    assert not panel.colour_button.isEnabled()
    assert main_window.state.measured_colourings == ()


def test_pca_space_and_bad_k_reach_the_user(main_window, qtbot, digits, digits_codes):
    panel = shown_panel(main_window, qtbot)
    main_window.state.dataset = digits
    main_window.state.codes = digits_codes
    panel.space_box.setCurrentIndex(panel.space_box.findData("pca"))
    assert panel.pca_box.isEnabled() and panel.pca_box.maximum() == digits_codes.latent_dim
    panel.pca_box.setValue(3)
    panel.k_box.setValue(8)
    panel.compute()
    result = finished(qtbot, panel)
    assert result.dim == 3 and "PCA-3" in panel.plots.lid.titleLabel.text
    assert result.data.lid_median < 3.5
