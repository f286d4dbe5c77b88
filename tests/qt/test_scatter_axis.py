"""The scatter's fast axes look like pyqtgraph's own and fall back to them for what they do not cover."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage

from latent_explorer.qt.scatter_axis import FastAxis


def render(fast: bool, x_range, y_range, grid: bool = False) -> tuple[np.ndarray, dict]:
    widget = pg.GraphicsLayoutWidget()
    widget.setBackground("w")
    axes = {side: (FastAxis(side) if fast else pg.AxisItem(side)) for side in ("left", "bottom")}
    for axis in axes.values():
        axis.setStyle(autoReduceTextSpace=False)  # as FastAxis does, so both lay the plot out alike
    plot = widget.addPlot(axisItems=axes)
    if grid:
        plot.showGrid(x=True, y=True)
    plot.setXRange(*x_range, padding=0)
    plot.setYRange(*y_range, padding=0)
    widget.resize(500, 350)
    widget.show()
    for _ in range(5):
        pg.QtWidgets.QApplication.processEvents()
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    out = pixels[:, :image.width()].copy()
    widget.close()
    return out, axes


@pytest.mark.parametrize("x_range, y_range", [((-3.21, 12.7), (0.1234, 0.1301)), ((-1e-3, 2e-3), (-250.0, 900.0))])
def test_fast_axes_draw_what_pyqtgraph_draws(qtbot, x_range, y_range):
    from latent_explorer.qt.app import make_application

    make_application()
    stock, _ = render(False, x_range, y_range)
    fast, axes = render(True, x_range, y_range)
    ink_stock, ink_fast = stock < 128, fast < 128
    assert ink_stock.sum() > 300  # tick labels and ticks were drawn
    # the same ticks and labels; glyphs may sit a fraction of a pixel apart
    assert abs(int(ink_fast.sum()) - int(ink_stock.sum())) < 0.05 * ink_stock.sum()
    assert (ink_fast != ink_stock).sum() < 0.1 * ink_stock.sum()
    assert axes["left"]._layout is not None  # the fast path ran


def test_fast_axes_leave_grids_to_pyqtgraph(qtbot):
    from latent_explorer.qt.app import make_application

    make_application()
    stock, _ = render(False, (0, 10), (0, 5), grid=True)
    fast, axes = render(True, (0, 10), (0, 5), grid=True)
    assert axes["left"]._layout is None
    np.testing.assert_array_equal(fast, stock)


def test_fast_tick_values_are_pyqtgraphs(qtbot):
    from latent_explorer.qt.app import make_application

    make_application()
    rng = np.random.default_rng(3)
    axis = FastAxis("bottom")
    for _ in range(300):
        centre = rng.normal(0, 10) * 10.0 ** rng.integers(-4, 4)
        half = 10.0 ** rng.uniform(-5, 3)
        length = float(rng.integers(80, 2000))
        ours = axis._tick_values(centre - half, centre + half, length)
        stock = axis.tickValues(centre - half, centre + half, length)
        assert [s for s, _ in ours] == pytest.approx([s for s, _ in stock])
        for (spacing, got), (_, expected) in zip(ours, stock, strict=True):
            assert got == pytest.approx(expected, abs=spacing * 1e-6)
            assert axis.tickStrings(got, 1.0, spacing) == axis.tickStrings(expected, 1.0, spacing)


def test_numeric_labels_are_measured_as_qt_measures_them(qtbot):
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QPainter

    from latent_explorer.qt.app import make_application

    make_application()
    axis = FastAxis("left")
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        font = painter.font()
        rng = np.random.default_rng(4)
        for _ in range(300):
            text = axis.tickStrings([rng.normal() * 10.0 ** rng.integers(-6, 6)], 1.0, 10.0 ** rng.integers(-7, 5))[0]
            qt = painter.boundingRect(QRectF(0, 0, 100, 100), Qt.AlignmentFlag.AlignCenter, text)
            assert axis._label(painter, font.key(), font, text) == pytest.approx((qt.width(), qt.height() * 0.8))
    finally:
        painter.end()


def test_fast_axes_follow_a_new_pen(qtbot):
    """The pens are kept between frames: a pen set after the first paint still colours the next one (ticks and
    axis line in the axis pen, labels in the text pen)."""
    from latent_explorer.qt.app import make_application

    make_application()
    widget = pg.GraphicsLayoutWidget()
    widget.setBackground("w")
    axis = FastAxis("bottom")
    plot = widget.addPlot(axisItems={"bottom": axis})
    plot.setXRange(0, 10, padding=0)
    widget.resize(400, 300)
    widget.show()

    def colours() -> np.ndarray:
        for _ in range(5):
            pg.QtWidgets.QApplication.processEvents()
        image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
        box = axis.sceneBoundingRect().toAlignedRect()
        return pixels[box.top():box.bottom(), box.left():box.right(), :3].reshape(-1, 3).astype(int)

    def reddish(rgb: np.ndarray) -> int:
        return int(((rgb[:, 2] > 150) & (rgb[:, 1] < 100) & (rgb[:, 0] < 100)).sum())  # (B, G, R) order

    def bluish(rgb: np.ndarray) -> int:
        return int(((rgb[:, 0] > 150) & (rgb[:, 1] < 100) & (rgb[:, 2] < 100)).sum())

    before = colours()
    assert axis._layout is not None and reddish(before) == 0
    axis.setPen("r")
    red = colours()
    assert reddish(red) > 100  # the axis line and ticks
    axis.setTextPen("b")
    blue = colours()
    assert bluish(blue) > 20 and reddish(blue) > 100  # labels in the text pen, ticks still in the axis pen
    widget.close()
