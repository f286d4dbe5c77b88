"""Exports: data tables (CSV/.npz), figures that match the screen (PNG 1×/2×/4×, SVG, PDF, clipboard), the
Export menu and context menus of the window, and clear errors for an unwritable folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from conftest import read_only
from latent_explorer.core.encoding import Codes
from latent_explorer.core.export import (
    ExportError,
    codes_table,
    coordinates_table,
    csv_header,
    read_table,
    selection_table,
    write_table,
)


@pytest.fixture
def codes() -> Codes:
    rng = np.random.default_rng(1)
    n, d = 50, 3
    return Codes(z=rng.normal(size=(n, d)).astype(np.float32), mu=rng.normal(size=(n, d)).astype(np.float32),
                 logvar=rng.normal(size=(n, d)).astype(np.float32), labels=rng.integers(0, 3, n),
                 recon_error=rng.random(n).astype(np.float32))


# ------------------------------------------------------------------------------------------ tables
def test_codes_of_the_selection_as_csv_and_npz(tmp_path, codes):
    names = ["shirt, long", 'the "bag"', "shoe"]
    table = codes_table(codes, np.array([4, 9, 30]), class_names=names)
    assert csv_header(table)[:6] == ["index", "label", "class", "z0", "z1", "z2"]
    write_table(tmp_path / "c.csv", table)
    back = read_table(tmp_path / "c.csv")
    assert back["index"].tolist() == [4, 9, 30]
    np.testing.assert_allclose(back["mu1"], codes.mu[[4, 9, 30], 1], rtol=1e-6)
    np.testing.assert_allclose(back["logvar2"], codes.logvar[[4, 9, 30], 2], rtol=1e-6)
    assert back["class"].tolist() == [names[k] for k in codes.labels[[4, 9, 30]]]
    write_table(tmp_path / "c.npz", table)
    with np.load(tmp_path / "c.npz") as npz:
        np.testing.assert_array_equal(npz["z"], codes.z[[4, 9, 30]])
        assert npz["logvar"].shape == (3, 3) and npz["class"].dtype.kind == "U"


def test_plain_autoencoder_codes_skip_mu_and_logvar(codes):
    plain = Codes(z=codes.z, mu=None, logvar=None, labels=None, recon_error=codes.recon_error)
    table = codes_table(plain)
    assert list(table) == ["index", "z", "recon_error"]
    with pytest.raises(ExportError, match="mu and logvar exist only"):
        codes_table(plain, parts=("mu", "logvar"))


def test_csv_floats_read_back_bit_for_bit(tmp_path):
    rng = np.random.default_rng(3)
    f64 = np.concatenate([rng.normal(size=500) * 10.0 ** rng.integers(-30, 30, 500),
                          [0.1 + 0.2, 1 / 3, np.nextafter(1.0, 2.0), 5e-324, 1.7976931348623157e308, -0.0]])
    f32 = np.concatenate([(rng.normal(size=500) * 10.0 ** rng.integers(-30, 30, 500)).astype(np.float32),
                          np.float32([1 / 3, np.nextafter(np.float32(1), np.float32(2)), 1e-45, 3.4028235e38,
                                      16777217.0, -0.0])])
    table = {"f64": f64, "f32": f32, "pair": np.stack([f32, f32[::-1]], axis=1)}
    write_table(tmp_path / "f.csv", table)
    back = read_table(tmp_path / "f.csv")
    np.testing.assert_array_equal(back["f64"].view(np.uint64), f64.view(np.uint64))
    np.testing.assert_array_equal(back["f32"].astype(np.float32).view(np.uint32), f32.view(np.uint32))
    np.testing.assert_array_equal(back["pair1"].astype(np.float32).view(np.uint32), f32[::-1].view(np.uint32))


def test_coordinates_and_selection_tables(tmp_path):
    xy = np.array([[0.0, 1.0], [2.0, 3.0], [np.nan, 5.0]])
    table = coordinates_table(xy, labels=np.array([0, 1, 1]), class_names=["a", "b"])
    write_table(tmp_path / "xy.csv", table)
    back = read_table(tmp_path / "xy.csv")
    assert back["x"][:2].tolist() == [0.0, 2.0] and np.isnan(back["x"][2]) and back["class"].tolist() == ["a", "b", "b"]
    assert selection_table(np.array([2, 0]), np.array([0, 1, 1]))["label"].tolist() == [1, 0]
    with pytest.raises(ExportError, match="only 3 samples"):
        coordinates_table(xy, indices=np.array([5]))
    with pytest.raises(ExportError, match="name the file .csv or .npz"):
        write_table(tmp_path / "xy.xlsx", table)


def test_table_to_read_only_folder_fails_clearly_and_keeps_the_old_file(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "xy.csv").write_text("old\n")
    read_only(folder, monkeypatch)
    try:
        with pytest.raises(ExportError, match="cannot write") as info:
            write_table(folder / "xy.csv", coordinates_table(np.zeros((3, 2))))
        assert str(folder / "xy.csv") in str(info.value) and "nothing was changed" in str(info.value)
        assert (folder / "xy.csv").read_text() == "old\n"
    finally:
        folder.chmod(0o755)


# ------------------------------------------------------------------------------------------ figures
@pytest.fixture
def scatter(qtbot):
    from latent_explorer.qt.app import make_application
    from latent_explorer.qt.scatter import LatentScatter

    make_application()
    widget = LatentScatter()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    rng = np.random.default_rng(0)
    widget.set_points(rng.normal(size=(3000, 2)))
    widget.set_categorical(rng.integers(0, 4, 3000), ["ankle", "boot", "coat", "dress"])
    widget.set_axis_labels("PC1 (40%)", "PC2 (20%)")
    widget.plot_item.setTitle("Fashion")
    widget.set_selection(np.arange(0, 3000, 7))
    qtbot.waitExposed(widget)
    qtbot.wait(50)
    return widget


def _pixels(image) -> np.ndarray:
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGBA8888)  # bytes in R, G, B, A order
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return array[:, : image.width(), :3].astype(np.int16)


def test_png_at_scale_one_matches_the_screen(scatter):
    from latent_explorer.qt.figure_export import render_image, scatter_figure

    fig = scatter_figure(scatter)
    assert fig.rect().top() == scatter.toolbar.height()  # the toolbar is not part of the figure
    assert fig.rect().width() == scatter.width()  # plot and legend
    exported = _pixels(render_image(fig, 1))
    screen = _pixels(scatter.grab(fig.rect()).toImage())
    assert exported.shape == screen.shape
    differ = np.abs(exported - screen).max(axis=2) > 8
    assert differ.mean() < 0.005, f"{differ.mean():.2%} of the pixels differ from the screen"
    legend = exported[:, -scatter.legend.width():]
    assert (np.abs(legend - np.array([31, 119, 180])).sum(axis=2) < 30).any()  # the first class's swatch


def test_png_at_scale_two_and_four_keep_the_layout(scatter):
    from latent_explorer.qt.figure_export import render_image, scatter_figure

    fig = scatter_figure(scatter)
    one = _pixels(render_image(fig, 1))
    two = render_image(fig, 2)
    assert (two.width(), two.height()) == (2 * fig.size.width(), 2 * fig.size.height())
    assert round(two.dotsPerMeterX() * 0.0254) == 192  # printed, the 2× figure keeps its size
    halved = _pixels(two).reshape(one.shape[0], 2, one.shape[1], 2, 3).mean(axis=(1, 3))
    # the same picture at twice the resolution: the ink (non-white) sits in the same places
    ink_one, ink_two = one.sum(axis=2) < 600, halved.sum(axis=2) < 600
    assert (ink_one == ink_two).mean() > 0.95
    four = render_image(fig, width=4 * fig.size.width())
    assert four.width() == 4 * fig.size.width()
    assert scatter.cloud.point_size == 3  # the export's larger dots were put back


def test_svg_and_pdf_are_vector_with_the_labels(scatter, tmp_path):
    from PySide6.QtSvg import QSvgRenderer

    from latent_explorer.qt.figure_export import export_figure, scatter_figure

    fig = scatter_figure(scatter)
    svg = export_figure(fig, tmp_path / "f.svg")
    text = svg.read_text()
    for label in ("PC1 (40%)", "Fashion", "ankle"):
        assert label in text
    assert "<image" in text  # the point cloud
    assert QSvgRenderer(str(svg)).isValid()
    pdf = export_figure(fig, tmp_path / "f.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + \
        pdf.count(b"/Type/Page") >= 1
    with pytest.raises(ExportError, match=".png, .svg or .pdf"):
        export_figure(fig, tmp_path / "f.gif")


def test_figure_to_read_only_folder_is_an_error(scatter, tmp_path, monkeypatch):
    from latent_explorer.qt.figure_export import export_figure, scatter_figure

    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "f.png").write_bytes(b"old")
    read_only(folder, monkeypatch)
    try:
        with pytest.raises(ExportError, match="cannot write"):
            export_figure(scatter_figure(scatter), folder / "f.png")
        assert (folder / "f.png").read_bytes() == b"old"
    finally:
        folder.chmod(0o755)


def test_copy_to_clipboard(scatter):
    from PySide6.QtWidgets import QApplication

    from latent_explorer.qt.figure_export import copy_figure, scatter_figure

    fig = scatter_figure(scatter)
    image = copy_figure(fig)
    pasted = QApplication.clipboard().image()
    assert (pasted.width(), pasted.height()) == (image.width(), image.height()) == (fig.size.width(),
                                                                                   fig.size.height())
    assert b"<svg" in bytes(QApplication.clipboard().mimeData().data("image/svg+xml"))


# ------------------------------------------------------------------------------------------ window
@pytest.fixture
def loaded_window(main_window, qtbot, digits_vae):
    """The window on digits with its docks closed (their analyses would only slow the test down)."""
    window = main_window
    window.resize(1300, 900)
    window.show()
    for dock in window.docks.values():
        dock.hide()
    window.open_dataset("digits", then_model=str(digits_vae))
    qtbot.waitUntil(lambda: window.state.codes is not None, timeout=60000)
    qtbot.waitUntil(lambda: window.scatter.n_points == 1797 and not window.runner.is_running(), timeout=60000)
    return window


def _show_plot_dock(window, qtbot):
    """Open one dock that holds a pyqtgraph plot (an analysis panel, if installed) and let it compute."""
    import pyqtgraph as pg

    dock = next((d for name, d in sorted(window.docks.items()) if "radius" in name), None) or next(
        (d for d in window.docks.values() if d.widget().findChildren(pg.GraphicsView)), None)
    if dock is None:
        pytest.skip("no panel with a plot is installed")
    dock.show()
    qtbot.waitUntil(lambda: not window.runner.is_running(), timeout=60000)
    return dock


def _submenu(menu, title: str):
    from PySide6.QtWidgets import QMenu

    menus = [m for m in menu.findChildren(QMenu) if m.title() == title]
    assert len(menus) == 1, f"{len(menus)} submenus called {title}"
    return menus[0]


def test_export_menu_lists_every_plot_and_writes_them(loaded_window, qtbot, tmp_path):
    import pyqtgraph as pg
    from PySide6.QtGui import QImage

    window = loaded_window
    controller = window.context.export
    dock = _show_plot_dock(window, qtbot)
    window.context.export.menu.aboutToShow.emit()
    titles = [a.text() for a in window.context.export.menu.actions() if a.text()]
    assert "Scatter" in titles and "&Data" in titles
    views = dock.widget().findChildren(pg.GraphicsView)
    assert any(t == dock.windowTitle() or t.startswith(dock.windowTitle() + " — ") for t in titles)
    assert sum(t.startswith(dock.windowTitle()) for t in titles) == len(views)
    targets = iter([tmp_path / "scatter.png", tmp_path / "scatter.svg"])
    controller.ask_save_path = lambda *args: next(targets)
    scatter_menu = _submenu(window.context.export.menu, "Scatter")
    qtbot.wait(20)
    size = controller.scatter_figure().size
    next(a for a in scatter_menu.actions() if a.text() == "PNG 2× (print)…").trigger()
    image = QImage(str(tmp_path / "scatter.png"))
    assert (image.width(), image.height()) == (2 * size.width(), 2 * size.height())
    next(a for a in scatter_menu.actions() if a.text() == "SVG…").trigger()
    assert "<svg" in (tmp_path / "scatter.svg").read_text()
    scene = window.scatter.plot_widget.scene()
    assert "Export Figure" in [a.text() for a in scene.contextMenu]


def test_data_exports_from_the_window(loaded_window, qtbot, tmp_path):
    window = loaded_window
    controller = window.context.export
    window.state.select([3, 10, 11])
    window.context.export.menu.aboutToShow.emit()
    data_menu = _submenu(window.context.export.menu, "&Data")
    actions = {a.text(): a for a in data_menu.actions()}
    for text, name in (("View Coordinates (all points)…", "xy.csv"), ("Selected Indices…", "sel.npz"),
                       ("Codes z/μ/logvar (selection)…", "codes.csv")):
        controller.ask_save_path = lambda *args, name=name: tmp_path / name
        actions[text].trigger()
        qtbot.waitUntil(lambda name=name: (tmp_path / name).exists() or window.last_error is not None, timeout=30000)
        assert window.last_error is None, window.last_error
        qtbot.waitUntil(lambda: not window.runner.is_running(), timeout=30000)
    xy = read_table(tmp_path / "xy.csv")
    np.testing.assert_allclose(np.c_[xy["x"], xy["y"]], window.view_controller.xy, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(xy["label"], window.state.dataset.labels)
    with np.load(tmp_path / "sel.npz") as sel:
        assert sel["index"].tolist() == [3, 10, 11]
    codes = read_table(tmp_path / "codes.csv")
    np.testing.assert_allclose(codes["z0"], window.state.codes.z[[3, 10, 11], 0], rtol=1e-6)
    assert "mu3" in codes and "logvar0" in codes


def test_window_reports_an_unwritable_export(loaded_window, qtbot, tmp_path, monkeypatch):
    window = loaded_window
    folder = tmp_path / "ro"
    folder.mkdir()
    read_only(folder, monkeypatch)
    try:
        window.context.export.export(window.context.export.scatter_figure(), folder / "f.png")
        assert isinstance(window.last_error, ExportError) and "cannot write" in str(window.last_error)
        window.last_error = None
        window.context.export.write(window.context.export.selection, folder / "s.csv")
        qtbot.waitUntil(lambda: window.last_error is not None, timeout=30000)
        assert "folder you can write to" in str(window.last_error)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)
    assert window.state.codes is not None  # the session is intact


def test_exported_panel_figure_has_its_plot(loaded_window, qtbot, tmp_path):
    from PySide6.QtGui import QImage

    from latent_explorer.qt.figure_export import export_figure, window_figures

    dock = _show_plot_dock(loaded_window, qtbot)
    fig = next(f for f in window_figures(loaded_window) if f.title.startswith(dock.windowTitle()))
    fig.widget.resize(600, 400)
    path = export_figure(fig, tmp_path / "panel.png")
    image = QImage(str(path))
    assert (image.width(), image.height()) == (fig.size.width(), fig.size.height())
    assert len(np.unique(_pixels(image).reshape(-1, 3), axis=0)) > 2  # axes and text, not a blank image


def test_export_file_mode_is_normal(loaded_window, tmp_path):
    path = loaded_window.context.export.export(loaded_window.context.export.scatter_figure(), tmp_path / "m.png")
    assert path is not None and path.stat().st_mode & 0o044 == 0o044 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_paths_are_strings_or_paths(tmp_path):
    assert Path(write_table(str(tmp_path / "a.npz"), {"index": np.arange(3)})).exists()


def test_scatter_export_asks_width_title_and_dpi(loaded_window, qtbot, tmp_path):
    from PIL import Image

    from latent_explorer.qt.figure_options import FigureOptions, exported_size

    window = loaded_window
    controller = window.context.export
    asked = []

    def answer(fig, options):
        asked.append(options)
        return FigureOptions(1800, "Digits in PCA", 300)

    controller.ask_options = answer
    controller.ask_save_path = lambda *args: tmp_path / "scatter.png"
    controller.export_scatter_action.trigger()
    start = asked[0]
    assert start.width >= 2000 and start.dpi == 300  # a print-ready start, not the ~540 px on screen
    assert start.title.startswith("digits — PCA 1/2")  # says what is shown
    fig = controller.scatter_figure()
    with Image.open(tmp_path / "scatter.png") as image:
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.1)
        expected = exported_size(fig.size, FigureOptions(1800, "Digits in PCA", 300))
        assert image.size == (1800, expected.height())
        pixels = np.asarray(image.convert("RGB"))
    band = round(1800 / fig.size.width() * 28)
    title_ink = (pixels[:band].astype(int).sum(axis=2) < 200).mean()
    assert 0.002 < title_ink < 0.2  # dark text in the title band above the plot
    window.context.export.menu.aboutToShow.emit()
    scatter_menu = _submenu(window.context.export.menu, "Scatter")
    assert "PNG with Width, Title and DPI…" in [a.text() for a in scatter_menu.actions()]
    controller.ask_options = lambda fig, options: None  # cancelled: nothing asked further, nothing written
    controller.ask_save_path = lambda *args: pytest.fail("asked for a file after a cancel")
    controller.export_scatter_action.trigger()


def test_panel_png_takes_width_title_and_dpi(main_window, qtbot, tmp_path):
    from PIL import Image

    from latent_explorer.core.datasets import Dataset
    from latent_explorer.core.encoding import Codes

    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 4)).astype(np.float32)
    main_window.state.dataset = Dataset("synthetic", rng.integers(0, 255, (300, 1, 8, 8), dtype=np.uint8),
                                        np.zeros(300, int), source="test")
    main_window.state.codes = Codes(z=z, mu=None, logvar=None, labels=np.zeros(300, int),
                                    recon_error=np.ones(300, np.float32))
    main_window.show()
    main_window.raise_panel("analysis-radius")
    panel = main_window.panel("analysis-radius")
    qtbot.waitUntil(lambda: panel.result is not None and not main_window.runner.is_running(), timeout=20000)
    path = panel.export_png(tmp_path / "radius.png", width=1500, title="Radius", dpi=600)
    with Image.open(path) as image:
        assert image.width == 1500 and image.info["dpi"] == pytest.approx((600, 600), abs=0.1)
        titled_height = image.height
    on_screen = panel.figure().size.width()
    with Image.open(panel.export_png(tmp_path / "plain.png", width=1500)) as image:
        assert image.height < titled_height  # no title band
        assert image.info["dpi"][0] == pytest.approx(96 * 1500 / on_screen, abs=0.1)  # prints at screen size
