"""The analysis docks in the real window: computed in workers when codes arrive (or when first shown),
linked to the selection and the scatter's view, cancellable, exported to CSV and PNG."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import scipy.stats
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage

from latent_explorer.core.datasets import Dataset
from latent_explorer.core.encoding import Codes
from latent_explorer.core.state import ViewSpec
from latent_explorer.qt.features.analysis.table import HIGHLIGHT_ROW

ODD_AXIS = 5


def vae_codes(n: int = 600, d: int = 8, seed: int = 0, variational: bool = True) -> tuple[Dataset, Codes]:
    """Codes with one broad off-centre axis, a known logvar, and 8×8 images to go with them."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), n // 3)
    mu = rng.normal(0, 1, (n, d)).astype(np.float32)
    mu[:, ODD_AXIS] = rng.normal(5, 8, n)
    logvar = np.full((n, d), -6.0, np.float32)
    z = mu + rng.normal(size=(n, d)).astype(np.float32) * np.float32(np.exp(-3.0))
    images = rng.integers(0, 256, (n, 1, 8, 8), dtype=np.uint8)
    dataset = Dataset("synthetic", images, labels, class_names=["a", "b", "c"], source="test")
    codes = Codes(z=z, mu=mu if variational else None, logvar=logvar if variational else None, labels=labels,
                  recon_error=rng.gamma(2.0, 0.01, n).astype(np.float32))
    return dataset, codes


def front(window, qtbot, name: str):
    """Show the window and bring one analysis tab to the front; returns its panel."""
    window.show()
    window.raise_panel(name)
    panel = window.panel(name)
    qtbot.waitUntil(panel.is_shown, timeout=5000)
    return panel


def load(window, variational: bool = True, **kw) -> Codes:
    dataset, codes = vae_codes(variational=variational, **kw)
    window.state.dataset = dataset
    window.state.codes = codes
    return codes


def computed(qtbot, panel, timeout: int = 20000):
    qtbot.waitUntil(lambda: panel.result is not None and not panel.runner.is_running(panel.name), timeout=timeout)
    return panel.result


# ---------------------------------------------------------------------------------------------- computing
def test_front_panel_computes_when_codes_arrive_and_hidden_tabs_when_shown(main_window, qtbot):
    axes = front(main_window, qtbot, "analysis-axes")
    pca = main_window.panel("analysis-pca")
    codes = load(main_window)
    result = computed(qtbot, axes)
    assert result.stats.flagged_axes.tolist() == [ODD_AXIS]
    assert pca.result is None and "when shown" in pca.status.text()
    main_window.raise_panel("analysis-pca")
    spectrum = computed(qtbot, pca)
    assert len(spectrum.ratio) == codes.latent_dim
    # new codes: the old result is dropped and the front panel computes again
    load(main_window, seed=1)
    assert pca.result is None or pca.runner.is_running(pca.name)
    assert computed(qtbot, pca) is not spectrum


def test_every_panel_fills_for_a_vae_and_exports(main_window, qtbot, tmp_path):
    load(main_window)
    for name in ("analysis-axes", "analysis-radius", "analysis-pca", "analysis-vae", "analysis-recon"):
        panel = front(main_window, qtbot, name)
        computed(qtbot, panel)
        assert "ready" in panel.status.text()
        sheets = panel.csv_sheets()
        written = panel.export_csv(tmp_path / f"{name}.csv")
        assert len(written) == len(sheets)
        for path, (header, rows) in zip(written, sheets.values(), strict=True):
            with open(path, newline="") as fh:
                lines = list(csv.reader(fh))
            assert lines[0] == header and len(lines) == len(rows) + 1
        assert QImage(str(panel.export_png(tmp_path / f"{name}.png"))).width() >= 800


# ---------------------------------------------------------------------------------------------- brushing
def test_radius_band_selects_those_points_and_the_selection_is_drawn_against_the_whole(main_window, qtbot):
    panel = front(main_window, qtbot, "analysis-radius")
    codes = load(main_window)
    result = computed(qtbot, panel)
    radius = np.linalg.norm(codes.z.astype(np.float64), axis=1)
    lo, hi = np.percentile(radius, [40, 70])
    panel.band.set_active(True)
    panel.band.region.setRegion((lo, hi))
    panel.band.region.sigRegionChangeFinished.emit(panel.band.region)  # the end of a drag
    expected = np.flatnonzero((radius >= lo) & (radius <= hi))
    assert np.array_equal(main_window.state.selection, expected)
    qtbot.waitUntil(lambda: panel.overlay is not None, timeout=10000)
    edges = result.main.histogram.edges
    assert np.array_equal(panel.overlay, np.histogram(radius[expected], bins=edges)[0])
    x, y = panel.selection_curve.getData()
    assert np.array_equal(y, panel.overlay)
    # a selection made elsewhere detaches the band and replaces the curve
    main_window.state.select([0, 1, 2])
    assert not panel.band.active
    qtbot.waitUntil(lambda: panel.overlay is not None and panel.overlay.sum() == 3, timeout=10000)
    main_window.state.select([])
    assert panel.overlay is None and len(panel.selection_curve.getData()[1] or []) == 0


def test_axis_panel_flags_highlights_focuses_and_puts_an_axis_on_the_scatter(main_window, qtbot):
    panel = front(main_window, qtbot, "analysis-axes")
    codes = load(main_window)
    computed(qtbot, panel)
    row = next(r for r in range(panel.table.rowCount()) if panel.table.key(r) == ODD_AXIS)
    assert panel.table.item(row, 0).background().color() == HIGHLIGHT_ROW
    assert panel.axis == ODD_AXIS  # the first flagged axis is in focus
    other = next(r for r in range(panel.table.rowCount()) if panel.table.key(r) == 2)
    rect = panel.table.visualItemRect(panel.table.item(other, 1))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.axis == 2
    # a click on a curve focuses its axis: far right only the broad axis has points
    hist = panel.result.histogram
    far = np.flatnonzero(hist.centres > 8.0)
    b = int(far[np.argmax(hist.counts[ODD_AXIS, far])])
    assert hist.counts[ODD_AXIS, b] > 0 and hist.counts[:, b].sum() == hist.counts[ODD_AXIS, b]
    panel.graphics.grab()  # a paint fits the view to the curves
    scene = panel.plot.vb.mapViewToScene(QPointF(hist.centres[b], hist.counts[ODD_AXIS, b]))
    pos = panel.graphics.mapFromScene(scene)
    qtbot.mouseClick(panel.graphics.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))
    assert panel.axis == ODD_AXIS
    panel.set_axis(2)
    main_window.state.view = ViewSpec("raw", 0, 1)
    panel.put_on_scatter("y")
    assert main_window.state.view == ViewSpec("raw", 0, 2)
    panel.set_axis(ODD_AXIS)
    panel.put_on_scatter("x")
    assert main_window.state.view == ViewSpec("raw", ODD_AXIS, 2)
    panel.band.set_band(0.0, 10.0)
    values = codes.z[:, ODD_AXIS]
    assert np.array_equal(main_window.state.selection, np.flatnonzero((values >= 0.0) & (values <= 10.0)))
    qtbot.waitUntil(lambda: panel.overlay is not None, timeout=10000)
    axis, counts = panel.overlay
    assert axis == ODD_AXIS
    assert np.array_equal(counts, np.histogram(values[main_window.state.selection],
                                               bins=panel.result.histogram.edges)[0])


def test_density_toggle_and_bin_width(main_window, qtbot):
    panel = front(main_window, qtbot, "analysis-radius")
    load(main_window)
    result = computed(qtbot, panel)
    panel.density_box.setChecked(True)
    x, y = panel.main_curve.getData()
    assert np.sum(y * np.diff(x)) == pytest.approx(1.0)
    assert panel.plot.getAxis("left").labelText == "density"
    panel.density_box.setChecked(False)
    assert np.array_equal(panel.main_curve.getData()[1], result.main.histogram.counts)
    for width in (0.5, 0.05):  # the bin widths the studies used
        panel.width_box.setValue(width)
        qtbot.waitUntil(lambda w=width: panel.result is not None
                        and panel.result.main.histogram.bin_width == pytest.approx(w), timeout=10000)
        assert np.allclose(np.diff(panel.main_curve.getData()[0]), width)


# ---------------------------------------------------------------------------------------------- PCA
def test_clicking_a_pca_component_sets_the_view(main_window, qtbot):
    panel = front(main_window, qtbot, "analysis-pca")
    load(main_window)
    spectrum = computed(qtbot, panel)
    main_window.state.view = ViewSpec("pca", 0, 1)
    panel.graphics.grab()  # a paint: pyqtgraph fits the view to the bars when it next draws
    assert panel.plot.vb.viewRange()[0][1] > len(spectrum.ratio)

    def click(component: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        scene = panel.plot.vb.mapViewToScene(QPointF(component, spectrum.ratio[component - 1] / 2))
        pos = panel.graphics.mapFromScene(scene)
        qtbot.mouseClick(panel.graphics.viewport(), Qt.MouseButton.LeftButton, modifier, QPoint(pos.x(), pos.y()))

    click(3)
    assert main_window.state.view == ViewSpec("pca", 2, 1)
    click(5, Qt.KeyboardModifier.ShiftModifier)
    assert main_window.state.view == ViewSpec("pca", 2, 4)
    click(5)  # onto the other axis: the two swap
    assert main_window.state.view == ViewSpec("pca", 4, 2)
    assert panel.table.rowCount() == len(spectrum.ratio)


# ---------------------------------------------------------------------------------------------- KMeans
def test_kmeans_sweep_can_be_cancelled_and_colours_the_scatter_by_cluster(main_window, qtbot, tmp_path):
    panel = front(main_window, qtbot, "analysis-kmeans")
    codes = load(main_window, n=1500)
    assert panel.result is None  # a sweep runs only on request
    panel.first_box.setValue(2)
    panel.last_box.setValue(400)
    panel.step_box.setValue(1)
    panel.run_button.click()
    qtbot.waitUntil(lambda: panel.result is not None and panel.result.done >= 2, timeout=20000)
    assert panel.cancel_button.isVisible()
    panel.cancel_button.click()
    assert not main_window.runner.is_running(panel.name)
    partial = panel.result
    assert 2 <= partial.done < partial.inertia.size and "cancelled" in panel.status.text()
    assert panel.table.rowCount() == len(partial.finished_ks())
    written = panel.export_csv(tmp_path / "kmeans.csv")
    with open(written[0], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["k"]) for r in rows] == partial.finished_ks()
    assert np.allclose([float(r["inertia seed 0"]) for r in rows], partial.inertia[:len(rows), 0])
    panel.k_box.setValue(2)
    panel.colour_button.click()
    labels = main_window.state.cluster_labels
    assert main_window.state.color_by == "cluster"
    assert labels.shape == (len(codes),) and set(np.unique(labels)) <= {0, 1}
    load(main_window, seed=3)
    assert main_window.state.cluster_labels is None and main_window.state.color_by == "label"
    assert panel.result is None


# ---------------------------------------------------------------------------------------------- VAE
def test_vae_panel_is_disabled_for_an_autoencoder(main_window, qtbot):
    panel = front(main_window, qtbot, "analysis-vae")
    load(main_window, variational=False)
    qtbot.wait(50)
    assert panel.result is None and not panel.graphics.isEnabled() and panel.not_vae.isVisibleTo(panel)


def test_vae_panel_statistics_mu_toggle_and_sigma_bars(main_window, qtbot):
    panel = front(main_window, qtbot, "analysis-vae")
    codes = load(main_window)
    stats = computed(qtbot, panel)
    assert stats.logvar_mean == pytest.approx(-6.0) and panel.graphics.isEnabled()
    summary = {row[0]: row[1] for row in panel.csv_sheets()["summary"][1]}
    assert summary["max |z - mu|"] == pytest.approx(np.abs(codes.z - codes.mu).max())
    panel.mu_box.setChecked(True)
    assert main_window.state.use_mu
    main_window.state.use_mu = False
    assert not panel.mu_box.isChecked()

    main_window.state.view = ViewSpec("raw", 1, 3)
    main_window.state.select([4, 8, 15])
    panel.sigma_box.setChecked(True)
    xy, sigma, rows = panel.sigma_geometry()
    assert np.allclose(xy, codes.z[[4, 8, 15]][:, [1, 3]])
    assert np.allclose(sigma, np.exp(-3.0))
    assert panel.sigma_bars in main_window.scatter.plot_item.items
    assert np.allclose(panel.sigma_bars.opts["left"], np.exp(-3.0))

    qtbot.waitUntil(lambda: main_window.pca is not None, timeout=10000)
    main_window.state.view = ViewSpec("pca", 0, 2)
    xy, sigma, rows = panel.sigma_geometry()
    components = np.asarray(main_window.pca.components_)[[0, 2]]
    assert np.allclose(sigma, np.sqrt(np.exp(codes.logvar[rows].astype(np.float64)) @ (components**2).T))
    assert np.allclose(xy, main_window.current_projection().transform(codes.z[rows]), atol=1e-5)
    panel.sigma_box.setChecked(False)
    assert panel.sigma_bars not in main_window.scatter.plot_item.items


# ---------------------------------------------------------------------------------------------- reconstruction
def test_recon_gallery_shows_the_worst_and_a_click_selects_it(main_window, qtbot, digits_vae):
    panel = front(main_window, qtbot, "analysis-recon")
    main_window.open_dataset("digits", then_model=str(digits_vae))
    qtbot.waitUntil(lambda: main_window.state.codes is not None, timeout=30000)
    stats, gallery = computed(qtbot, panel)
    errors = main_window.state.codes.recon_error
    assert [entry.index for entry in gallery] == np.argsort(-errors)[:24].tolist()
    assert panel.gallery.count() == 24
    item = panel.gallery.item(3)
    qtbot.mouseClick(panel.gallery.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.gallery.visualItemRect(item).center())
    assert main_window.state.current_index == gallery[3].index
    assert main_window.state.selection.tolist() == [gallery[3].index]
    high = float(np.percentile(errors, 95))
    panel.band.set_band(high, float(errors.max()))
    assert np.array_equal(main_window.state.selection, np.flatnonzero(errors >= high))


# ---------------------------------------------------------------------------------------------- export
def test_csv_export_writes_the_numbers_behind_the_radius_panel(main_window, qtbot, tmp_path):
    panel = front(main_window, qtbot, "analysis-radius")
    codes = load(main_window)
    result = computed(qtbot, panel)
    written = panel.export_csv(tmp_path / "radius.csv")
    assert [p.name for p in written] == ["radius.csv", "radius-histogram.csv"]
    with open(written[0], newline="") as fh:
        summary = list(csv.DictReader(fh))
    assert [row["codes"] for row in summary] == ["z", "mu"]
    assert float(summary[0]["chi mean"]) == pytest.approx(scipy.stats.chi(codes.latent_dim).mean())
    assert float(summary[1]["mean radius"]) == pytest.approx(np.linalg.norm(codes.mu, axis=1).mean(), rel=1e-6)
    with open(written[1], newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["bin start", "bin end", "count |z|", "count |mu|", "chi reference"]
    table = np.array(rows[1:], dtype=np.float64)
    edges = np.append(table[:, 0], table[-1, 1])
    assert np.allclose(edges, result.main.histogram.edges)
    radius = np.linalg.norm(codes.z.astype(np.float64), axis=1)
    assert np.array_equal(table[:, 2], np.histogram(radius, bins=edges)[0])
    centres = 0.5 * (edges[1:] + edges[:-1])
    assert np.allclose(table[:, 4], len(codes) * np.diff(edges) * scipy.stats.chi(codes.latent_dim).pdf(centres))


def test_csv_export_of_the_axes_table(main_window, qtbot, tmp_path):
    panel = front(main_window, qtbot, "analysis-axes")
    codes = load(main_window)
    computed(qtbot, panel)
    written = panel.export_csv(tmp_path / "axes.csv")
    with open(written[0], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == codes.latent_dim
    assert [int(r["axis"]) for r in rows if r["flagged"] == "1"] == [ODD_AXIS]
    assert np.allclose([float(r["centre"]) for r in rows], np.median(codes.z.astype(np.float64), axis=0))
    with open(written[1], newline="") as fh:
        histograms = np.array(list(csv.reader(fh))[1:], dtype=np.float64)
    assert (histograms[:, 2:].sum(axis=0) == len(codes)).all()


def test_png_export_draws_the_plot(main_window, qtbot, tmp_path):
    panel = front(main_window, qtbot, "analysis-pca")
    load(main_window)
    computed(qtbot, panel)
    path = panel.export_png(tmp_path / "pca.png")
    image = QImage(str(path))
    assert image.width() >= 800
    pixels = np.array([image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)])
    assert len(np.unique(pixels)) > 3  # bars, line, text and background, not an empty canvas
