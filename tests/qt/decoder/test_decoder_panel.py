"""The decoder panel: sliders ↔ z, PCA directions, decoding under the cursor, grids, prior, arithmetic, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg
import pytest
import torch
from PySide6.QtCore import QObject, Signal

from latent_explorer.core.decoding import PCABasis
from latent_explorer.core.encoding import iter_encode
from latent_explorer.core.jobs import run_job
from latent_explorer.core.models import demo_models, load_model
from latent_explorer.core.projections import PCAModel, RawAxes
from latent_explorer.qt.app import configure_pyqtgraph


class FakeScatter(QObject):
    """The scatter's API as the decoder panel uses it (see notes/api.md)."""

    sigMouseMoved = Signal(float, float)
    sigViewChanged = Signal(object)

    def __init__(self):
        super().__init__()
        self.markers: dict[str, tuple[float, float] | None] = {}
        self.plot_widget = pg.PlotWidget()
        self.plot_item = self.plot_widget.getPlotItem()
        self.rect = (-1.0, 1.0, -1.0, 1.0)

    def set_marker(self, name, xy, color=None):
        self.markers[name] = xy

    def visible_rect(self):
        return self.rect


class FakeView:
    """The view state as the decoder panel uses it: the PCA and the projection of the current view."""

    def __init__(self):
        self.pca = None
        self.projection = None
        self.layouts: dict = {}
        self.xy = None

    def current_projection(self):
        return self.projection

    def load_coordinates(self, path):
        return None


class Host:
    """The decoder feature installed alone against a context (no main window), with a fake scatter and view."""

    def __init__(self, context, errors: list):
        self.context, self.errors = context, errors
        self.state, self.runner, self.scatter = context.state, context.jobs, context.scatter
        self.view = context.view
        self.window = context.parent

    @property
    def decoder_panel(self):
        return self.context.decoder

    @property
    def pca(self):
        return self.view.pca

    @pca.setter
    def pca(self, value):
        self.view.pca = value

    @property
    def projection(self):
        return self.view.projection

    @projection.setter
    def projection(self, value):
        self.view.projection = value


class BrokenDecoder:
    """Wraps a model; its decoder raises or returns NaN."""

    def __init__(self, model, fail: str):
        self.model, self.fail = model, fail
        self.latent_dim, self.input_shape, self.device = model.latent_dim, model.input_shape, model.device
        self.is_variational, self.name = model.is_variational, f"broken-{fail}"

    def decode(self, z):
        if self.fail == "raise":
            raise RuntimeError("the decoder fell over")
        return torch.full((len(z), *self.input_shape), float("nan"))

    def encode(self, x, generator=None):
        return self.model.encode(x, generator)


@pytest.fixture(scope="module")
def vae_and_codes(digits_vae, digits):
    model = load_model(str(digits_vae), device="cpu")
    return model, run_job(iter_encode(model, digits, with_reconstruction=False))


@pytest.fixture
def host(qtbot, qapp, feature_context, vae_and_codes, digits):
    from latent_explorer.qt.features import decoder

    configure_pyqtgraph()
    context = feature_context(scatter=FakeScatter(), view=FakeView())
    context.sources.device = "cpu"
    errors: list[Exception] = []
    context.errors.show_error = lambda exc, title="Error": errors.append(exc)
    widgets = decoder.FEATURE.install(context)
    window = context.parent
    window.setCentralWidget(widgets["decoder"])
    window.resize(700, 900)
    window.show()
    host = Host(context, errors)
    panel = host.decoder_panel
    model, codes = vae_and_codes
    host.state.dataset = digits
    host.state.model = model
    host.state.codes = codes
    qtbot.waitUntil(lambda: panel.prepared is not None, timeout=20000)
    qtbot.waitUntil(lambda: panel.shown_seq > 0 and panel.shown_seq == panel.worker.latest_seq, timeout=10000)
    yield host
    context.close()
    assert not panel.worker.isRunning() and not panel.grid.worker.isRunning()
    assert host.runner.shutdown(20000) and panel.jobs.shutdown(20000)


def wait_decoded(qtbot, panel):
    qtbot.waitUntil(lambda: panel.shown_seq == panel.worker.latest_seq, timeout=10000)


def test_slider_moves_z_and_the_image(host, qtbot):
    panel = host.decoder_panel
    state = host.state
    rows = panel.sliders.shown_rows()
    assert len(rows) == 4  # z_dim 4: one slider per axis
    z0 = panel.current_z()
    before = panel.image_view.image().copy()
    row = panel.sliders.row(2)
    target = float(row.slider.maximum())
    row.slider.setValue(target)
    assert state.current_z[2] == pytest.approx(target, abs=1e-5)
    assert np.allclose(np.delete(state.current_z, 2), np.delete(z0, 2))
    wait_decoded(qtbot, panel)
    assert not np.allclose(panel.image_view.image(), before)
    expected = panel.decode_model().decode(torch.from_numpy(state.current_z[None])).numpy()[0, 0]
    assert np.allclose(panel.image_view.image(), expected, atol=1e-5)


def test_z_moves_the_sliders_back(host):
    panel = host.decoder_panel
    z = panel.latent()[10].copy()
    host.state.current_z = z
    for row in panel.sliders.shown_rows():
        lo, hi = row.slider.minimum(), row.slider.maximum()
        assert row.slider.value() == pytest.approx(np.clip(z[row.key], lo, hi), abs=1e-4)
    assert np.array_equal(host.state.current_z, z)  # following z never writes it back


def test_buttons_set_z_from_selected_point_mean_and_zero(host, qtbot):
    panel = host.decoder_panel
    panel.follow_box.setChecked(False)
    host.state.current_index = 33
    panel.sliders.zero_button.click()
    assert np.allclose(host.state.current_z, 0.0)
    panel.sliders.from_selected_button.click()
    assert np.allclose(host.state.current_z, panel.latent()[33])
    panel.sliders.mean_button.click()
    assert np.allclose(host.state.current_z, panel.latent().mean(0), atol=1e-5)
    panel.follow_box.setChecked(True)
    host.state.current_index = 7
    assert np.allclose(host.state.current_z, panel.latent()[7])


def test_ranges_come_from_the_data_and_extend(host):
    panel = host.decoder_panel
    latent = panel.latent()
    row = panel.sliders.row(0)
    assert row.slider.minimum() == pytest.approx(np.percentile(latent[:, 0], 0.5), abs=1e-3)
    assert row.slider.maximum() == pytest.approx(np.percentile(latent[:, 0], 99.5), abs=1e-3)
    width = row.slider.maximum() - row.slider.minimum()
    panel.sliders.extend_button.click()
    assert row.slider.maximum() - row.slider.minimum() == pytest.approx(2 * width, rel=1e-3)


def test_pca_direction_sliders_move_z_along_the_component(host):
    panel = host.decoder_panel
    host.pca = PCAModel.fit(panel.latent())
    panel.sliders.set_mode("pca")
    basis = PCABasis.from_model(host.pca)
    z0 = panel.current_z()
    coords0 = basis.coordinates(z0)
    row = panel.sliders.row(0)
    assert row.name_label.text() == "PC1"
    row.slider.setValue(1.5)
    z1 = panel.current_z()
    coords1 = basis.coordinates(z1)
    assert coords1[0] == pytest.approx(1.5, abs=1e-3)
    assert np.allclose(coords1[1:], coords0[1:], atol=1e-3)
    step = z1 - z0
    assert np.allclose(step / np.linalg.norm(step), np.sign(1.5 - coords0[0]) * basis.components[0], atol=1e-3)
    other = panel.sliders.row(1).slider  # the other sliders follow z
    assert other.value() == pytest.approx(np.clip(coords1[1], other.minimum(), other.maximum()), abs=1e-3)


def test_pca_sliders_take_the_windows_pca_when_it_arrives(host, qtbot):
    panel = host.decoder_panel
    latent = panel.latent()
    panel.sliders.set_mode("pca")
    own = panel.sliders.basis()
    pca = PCAModel.fit(latent)
    pca.components_ = -pca.components_  # signs the panel's own fit would not choose
    host.pca = pca
    host.state.current_z = latent[3].copy()
    qtbot.waitUntil(lambda: panel.sliders.row(0) is not None and panel.sliders.basis() is not own, timeout=5000)
    slider = panel.sliders.row(0).slider
    expected = PCABasis.from_model(pca).coordinates(latent[3])[0]
    assert slider.value() == pytest.approx(np.clip(expected, slider.minimum(), slider.maximum()), abs=1e-3)


def test_filter_and_sensitivity_sort(host, qtbot):
    panel = host.decoder_panel
    panel.sliders.filter_edit.setText("1-2")
    assert [r.key for r in panel.sliders.shown_rows()] == [1, 2]
    panel.sliders.filter_edit.setText("")
    panel.sliders.set_sort("sensitivity")
    qtbot.waitUntil(lambda: "axes" in panel.sliders._sensitivity, timeout=20000)
    sensitivity = panel.sliders._sensitivity["axes"]
    keys = [r.key for r in panel.sliders.shown_rows()]
    assert keys == list(np.argsort(-sensitivity, kind="stable"))
    assert "Δ" in panel.sliders.row(keys[0]).stats_label.text()


def test_decode_under_the_cursor_on_a_pca_plane(host, qtbot):
    panel = host.decoder_panel
    plane = PCAModel.fit(panel.latent()).plane(0, 1)
    host.projection = plane
    panel.cursor.set_enabled(True)
    host.state.current_index = 5
    panel.cursor.base_combo.setCurrentIndex(panel.cursor.base_combo.findData("selected"))
    host.scatter.sigMouseMoved.emit(0.7, -1.3)
    z = panel.current_z()
    assert np.allclose(plane.transform(z[None])[0], (0.7, -1.3), atol=1e-4)
    # off the plane, the selected point's coordinates are held
    full = PCAModel.fit(panel.latent())
    assert np.allclose(full.transform(z[None])[0, 2:], full.transform(panel.latent()[5:6])[0, 2:], atol=1e-4)
    wait_decoded(qtbot, panel)
    qtbot.waitUntil(lambda: host.scatter.markers.get("current z") is not None, timeout=5000)
    assert host.scatter.markers["current z"] == pytest.approx((0.7, -1.3), abs=1e-4)
    panel.cursor.set_enabled(False)
    host.scatter.sigMouseMoved.emit(5.0, 5.0)
    assert np.allclose(panel.current_z(), z)


def test_marker_on_a_map_uses_the_nearest_codes(host, qtbot):
    from latent_explorer.core.projections import MapLayout

    panel = host.decoder_panel
    latent = panel.latent()
    coords = np.random.default_rng(0).normal(size=(len(latent), 2))
    host.projection = MapLayout(coords, latent, "t-SNE", kind="tsne")
    host.state.current_z = latent[42].copy()
    qtbot.waitUntil(lambda: host.scatter.markers.get("current z") is not None, timeout=5000)
    assert host.scatter.markers["current z"] == pytest.approx(tuple(coords[42]), abs=1e-3)


def test_decoded_grid_over_the_visible_rectangle(host, qtbot):
    panel = host.decoder_panel
    host.projection = RawAxes(0, 1)
    panel.tabs.setCurrentWidget(panel.grid)
    panel.grid.size_spin.setValue(5)
    panel.grid.overlay_box.setChecked(True)
    host.scatter.sigViewChanged.emit((-2.0, 2.0, -1.0, 3.0))
    qtbot.waitUntil(lambda: panel.grid.last_result is not None and panel.grid.last_result.tag[0] == -2.0,
                    timeout=10000)
    result = panel.grid.last_result
    assert result.ok and result.images.shape == (25, 8, 8)
    assert np.allclose(RawAxes(0, 1).transform(result.z)[0], (-1.6, 2.6), atol=1e-5)  # top-left cell centre
    assert panel.grid.mosaic().shape == (5 * 8 + 4, 5 * 8 + 4)
    overlay = panel.grid.overlay
    assert overlay is not None and overlay in host.scatter.plot_item.items
    assert overlay.mapRectToParent(overlay.boundingRect()).left() == pytest.approx(-2.0)
    host.projection = MapLayout_like_tsne(panel.latent())
    panel.grid.request((-1.0, 1.0, -1.0, 1.0))
    assert "PCA or raw-axes" in panel.grid.info.text()


def MapLayout_like_tsne(latent):  # noqa: N802 - reads as a constructor
    from latent_explorer.core.projections import MapLayout

    return MapLayout(np.zeros((len(latent), 2)), latent, "t-SNE", kind="tsne")


def test_prior_samples_report_radii_and_land_in_the_plot(host, qtbot, wait_job):
    panel = host.decoder_panel
    host.projection = PCAModel.fit(panel.latent()).plane(0, 1)
    prior = panel.prior
    prior._use_uniform(10.0)
    prior.side_spin.setValue(3)
    prior.sample()
    wait_job(host.runner, "prior-samples", 20000)
    column = prior.draw.columns[0]
    assert column.z.shape == (9, 4) and np.abs(column.z).max() <= 10.0
    data_radius = np.median(np.linalg.norm(panel.latent(), axis=1))
    assert column.report.data == pytest.approx(data_radius, rel=1e-4)
    assert column.report.samples == pytest.approx(np.median(np.linalg.norm(column.z, axis=1)), rel=1e-5)
    assert "median ‖z‖" in prior.reports[0].text()
    assert prior.views[0].image().shape == (3 * 8 + 2, 3 * 8 + 2)
    assert prior.overlay is not None and len(prior.overlay.data) == 9
    placed = np.column_stack([prior.overlay.data["x"], prior.overlay.data["y"]])
    assert np.allclose(placed, host.projection.transform(column.z), atol=1e-4)


@pytest.mark.skipif("digits-conv-ae" not in demo_models(), reason="the digits AE demo is not built")
def test_prior_samples_side_by_side_with_a_second_model(host, qtbot):
    prior = host.decoder_panel.prior
    prior.side_spin.setValue(2)
    prior.compare_combo.setCurrentIndex(prior.compare_combo.findData("demo:digits-conv-ae"))
    prior.sample()  # loads the second model first (through the window's loading flow), then draws
    qtbot.waitUntil(lambda: prior.draw is not None and len(prior.draw.columns) == 2, timeout=30000)
    second = prior.draw.columns[1]
    assert second.name == "digits-conv-ae" and second.error is None and second.report is not None
    assert not prior.views[1].isHidden() and prior.views[1].image() is not None


def test_latent_arithmetic_a_minus_b_plus_c(host, qtbot):
    panel = host.decoder_panel
    host.projection = PCAModel.fit(panel.latent()).plane(0, 1)
    arithmetic = panel.arithmetic
    latent = panel.latent()
    for name, index in (("A", 3), ("B", 14), ("C", 25)):
        host.state.current_index = index
        arithmetic.operands[name].set_button.click()
    arithmetic.operands["A"].coefficient.setValue(1.0)
    arithmetic.decode_button.click()
    expected = latent[3] - latent[14] + latent[25]
    assert np.allclose(arithmetic.result, expected, atol=1e-5)
    assert np.allclose(panel.current_z(), expected, atol=1e-5)
    brute = np.argsort(np.linalg.norm(latent - expected, axis=1))[:5]
    assert set(arithmetic.neighbours.tolist()) == set(brute.tolist())
    assert all(view.image() is not None for view in arithmetic.neighbour_views)
    for name in ("A", "B", "C", "A − B + C"):
        assert host.scatter.markers.get(name) is not None
    assert host.scatter.markers["A − B + C"] == pytest.approx(tuple(host.projection.transform(expected[None])[0]),
                                                              abs=1e-4)
    # class means as operands
    arithmetic.use_class_means(1, 2, 3)
    arithmetic.decode_button.click()
    labels = host.state.codes.labels
    means = [latent[labels == c].mean(0) for c in (1, 2, 3)]
    assert np.allclose(arithmetic.result, means[0] - means[1] + means[2], atol=1e-4)


def test_off_data_meter_on_and_off_the_data(host, qtbot):
    panel = host.decoder_panel
    host.state.current_z = panel.latent()[100].copy()
    qtbot.waitUntil(lambda: panel.meter.value is not None and panel.meter.value <= 1.5, timeout=5000)
    far = panel.latent().mean(0) + 50 * panel.latent().std(0)
    host.state.current_z = far
    qtbot.waitUntil(lambda: panel.meter.value is not None and panel.meter.value > 10, timeout=5000)
    assert "off the data" in panel.meter.label.text()


@pytest.mark.parametrize("fail, words", [("raise", "fell over"), ("nan", "NaN")])
def test_broken_decoder_shows_an_error_tile_and_the_panel_goes_on(host, qtbot, fail, words):
    panel = host.decoder_panel
    good = host.state.model
    host.state.model = BrokenDecoder(good, fail)
    qtbot.waitUntil(lambda: words in panel.image_view.message(), timeout=10000)
    tile = panel.image_view.image()
    assert tile.ndim == 3 and tile[0, 0, 0] > 0.8 and tile[0, 0, 1] < 0.2  # the red cross
    panel.sliders.row(0).slider.setValue(0.1)  # still answers
    wait_decoded(qtbot, panel)
    assert words in panel.image_view.message()
    assert host.errors == []  # no dialog: the tile says it
    host.state.model = good
    wait_decoded(qtbot, panel)
    qtbot.waitUntil(lambda: panel.image_view.message() == "", timeout=10000)
    assert panel.image_view.image().shape == (8, 8)


def test_codes_of_another_size_wait_for_the_encoding(host, qtbot):
    panel = host.decoder_panel
    host.state.current_z = np.zeros(9, np.float32)
    assert "9 dimensions" in panel.image_view.message()


def test_panel_mounts_in_the_main_window(main_window, qtbot, digits_vae):
    panel = main_window.context.decoder
    assert "decoder" in main_window.docks
    main_window.open_dataset("digits", then_model=str(digits_vae))
    qtbot.waitUntil(lambda: main_window.state.codes is not None, timeout=30000)
    qtbot.waitUntil(lambda: panel.prepared is not None, timeout=20000)
    qtbot.waitUntil(lambda: panel.image_view.image() is not None, timeout=10000)
    assert panel.image_view.image().shape == (8, 8)
    main_window.close()
    assert not panel.worker.isRunning()


class WideLinearModel:
    """A 64-dimensional linear decoder: for the paged, sorted slider list."""

    is_variational = False
    device = torch.device("cpu")
    name = "wide"

    def __init__(self, dim: int = 64):
        self.latent_dim, self.input_shape = dim, (1, 8, 8)
        self.weights = torch.from_numpy(np.random.default_rng(2).standard_normal((dim, 64)).astype(np.float32) * 0.05)

    def decode(self, z):
        return torch.sigmoid(z @ self.weights).reshape(len(z), 1, 8, 8)


def test_wide_codes_page_and_sort_by_variance(host, qtbot):
    from latent_explorer.core.encoding import Codes
    from latent_explorer.qt.features.decoder.sliders_tab import PAGE

    panel = host.decoder_panel
    rng = np.random.default_rng(0)
    scales = rng.uniform(0.1, 3.0, 64).astype(np.float32)
    z = rng.standard_normal((500, 64)).astype(np.float32) * scales
    host.state.codes = None
    host.state.model = WideLinearModel()
    host.state.dataset = None
    host.state.codes = Codes(z=z, mu=None, logvar=None, labels=None, recon_error=np.zeros(500, np.float32))
    qtbot.waitUntil(lambda: panel.prepared is not None and panel.prepared.meter.codes.shape == (500, 64),
                    timeout=10000)
    assert panel.sliders.sort == "variance"  # many axes: the ones that vary most first
    keys = [r.key for r in panel.sliders.shown_rows()]
    assert len(keys) == PAGE
    assert keys == list(np.argsort(-z.var(0), kind="stable")[:PAGE])
    panel.sliders.more_button.click()
    assert len(panel.sliders.shown_rows()) == 64
    panel.sliders.filter_edit.setText("z7, 40")
    assert sorted(r.key for r in panel.sliders.shown_rows()) == [7, 40]
    wait_decoded(qtbot, panel)
    assert panel.image_view.image().shape == (8, 8)


def test_prior_samples_placed_exactly_in_a_tsne_map(host, qtbot, wait_job):
    from latent_explorer.core.projections import MapLayout

    panel = host.decoder_panel
    latent = panel.latent()
    coords = PCAModel.fit(latent).transform(latent, 2)
    host.projection = MapLayout(coords, latent, "t-SNE", kind="tsne")
    prior = panel.prior
    prior.side_spin.setValue(2)
    prior.sample()
    wait_job(host.runner, "prior-samples", 20000)
    assert prior.exact_button.isEnabled()
    near = prior.samples_xy.copy()  # placed by their nearest codes at once
    prior.exact_button.click()
    wait_job(host.runner, "prior-placement", 60000)
    assert prior.samples_xy.shape == (4, 2) and not np.allclose(prior.samples_xy, near)
    assert len(prior.overlay.data) == 4


def test_prior_draw_for_a_replaced_model_is_dropped(host, qtbot, wait_job):
    panel = host.decoder_panel
    host.projection = PCAModel.fit(panel.latent()).plane(0, 1)
    prior = panel.prior
    prior.side_spin.setValue(2)
    prior.sample()
    wait_job(host.runner, "prior-samples", 20000)
    shown = prior.draw
    stale = dataclasses.replace(shown, model=object())  # decoded by a model that has been replaced since
    prior._on_sampled(stale)
    assert prior.draw is shown
