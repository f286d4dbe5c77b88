"""The comparison window on two digits models: encodes the second model in a worker, draws both scatters,
links their selection by sample (and with the main window), overlays radius, per-axis and local-dimension
distributions with legends naming the models, and shows each model's prior samples."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core.encoding import iter_encode_cached
from latent_explorer.core.jobs import run_job
from latent_explorer.core.models import load_model


@pytest.fixture(scope="module")
def first_model():
    return load_model("demo:digits-conv-ae", device="cpu")


def loaded(window, digits, model):
    window.state.dataset = digits
    window.state.model = model
    window.state.codes = run_job(iter_encode_cached(model, digits, use_cache=False))


def test_two_models_side_by_side_with_linked_selection(main_window, qtbot, digits, first_model):
    loaded(main_window, digits, first_model)
    main_window.show()
    main_window.context.compare.compare_with("demo:digits-conv-vae")
    window = main_window.context.compare.window
    qtbot.waitUntil(lambda: window.result is not None, timeout=120000)
    result = window.result
    assert len(result.samples) == len(digits)  # fewer samples than the default subset: all of them
    assert "all 1,797 samples" in window.status.text()
    a, b = window.scatters
    assert a.plot.titleLabel.text.startswith("A: digits-conv-ae") and "B: digits-conv-vae" in b.plot.titleLabel.text
    assert len(a.xy) == len(b.xy) == len(digits)
    for plot in (window.radius_plot, window.axis_plot, window.lid_plot):
        names = [label.text for _, label in plot.legend.items]
        assert len(names) == 2 and names[0].startswith("A: ") and names[1].startswith("B: ")
        assert plot.titleLabel.text and plot.getAxis("bottom").labelText and plot.getAxis("left").labelText
    header, rows = result.structure_rows()
    assert window.table.rowCount() == len(rows) and window.table.columnCount() == 3
    for image in window.prior_images:
        assert image.image is not None and image.image.shape[0] > 8 * 3

    # a rectangle in scatter A selects those samples; they light up in B and in the main window's state
    x, y = a.xy[:, 0], a.xy[:, 1]
    rect = pg_rect(np.quantile(x, 0.0), np.quantile(y, 0.0), np.median(x), np.median(y))
    a._on_rectangle(rect, False)
    inside = np.flatnonzero((x <= rect.right()) & (y <= rect.bottom()))  # the lower left quarter, in float64
    assert 0 < len(inside) < len(x)
    np.testing.assert_array_equal(main_window.state.selection, result.samples[inside])
    assert len(b.selected.data) == len(inside)
    np.testing.assert_allclose(np.column_stack([b.selected.data["x"], b.selected.data["y"]]), b.xy[inside])
    # and a selection made elsewhere shows in both
    main_window.state.select([0, 1, 2])
    assert len(a.selected.data) == len(b.selected.data) == 3
    window.axis_box.setValue(3)
    assert "axis z3" in window.axis_plot.titleLabel.text
    window.clear_button.click()
    assert len(main_window.state.selection) == 0 and len(a.selected.data) == 0


def test_a_subset_is_said_and_cancel_stops(main_window, qtbot, digits, first_model):
    loaded(main_window, digits, first_model)
    main_window.context.compare.show()
    window = main_window.context.compare.window
    window.samples_box.setValue(2000)
    assert window.samples_box.value() == 2000
    window.set_second_model("demo:digits-conv-vae")
    window.compare()
    handle = window.runner.handle("compare")
    window.cancel_button.click()
    qtbot.waitUntil(lambda: handle.state != "running", timeout=20000)
    qtbot.waitUntil(lambda: not handle.thread_alive(), timeout=60000)
    assert window.result is None and "cancelled" in window.status.text()


def test_comparing_without_codes_says_what_to_do(main_window, qtbot):
    main_window.context.compare.show()
    window = main_window.context.compare.window
    window.compare()
    assert "open a model and a dataset" in window.status.text()
    assert main_window.runner.handle("compare") is None


def pg_rect(x0, y0, x1, y1):
    from PySide6.QtCore import QRectF

    return QRectF(float(x0), float(y0), float(x1 - x0), float(y1 - y0))
