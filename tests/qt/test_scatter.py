"""The latent scatter: pixels read back from the widget, look-ups against brute force, gestures, legend."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from latent_explorer.core.colors import DESELECTED_COLOR, categorical_palette, colormap_lut
from latent_explorer.core.spatial import GridIndex, combine_selection, points_in_polygon
from latent_explorer.core.splat import (
    PixelMap,
    Rasterizer,
    SortedPoints,
    build_layers,
    disc_stamp,
    key_lut,
    slot_palette,
)

WHITE = (255, 255, 255)


# ---------------------------------------------------------------------- helpers
@pytest.fixture
def scatter(qtbot):
    from latent_explorer.qt.app import make_application
    from latent_explorer.qt.scatter import LatentScatter

    make_application()
    widget = LatentScatter()
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def grab_rgb(widget) -> np.ndarray:
    """The widget as it looks now, (H, W, 3) uint8 RGB."""
    QApplication.processEvents()
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    h, w = image.height(), image.width()
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())[:, :w * 4]
    return raw.reshape(h, w, 4)[..., [2, 1, 0]].copy()


def pixel_at(rgb: np.ndarray, widget, x: float, y: float) -> tuple[int, int, int]:
    p = widget.map_to_widget(x, y)
    return tuple(int(v) for v in rgb[int(p.y()), int(p.x())])


def count_color(rgb: np.ndarray, color, tol: int = 3) -> int:
    return int((np.abs(rgb.astype(int) - np.array(color)).max(axis=2) <= tol).sum())


def plot_area(widget, rgb: np.ndarray) -> np.ndarray:
    """The pixels inside the ViewBox only (no axes, legend, toolbar)."""
    x0, x1, y0, y1 = widget.visible_rect()
    a, b = widget.map_to_widget(x0, y1), widget.map_to_widget(x1, y0)
    return rgb[int(a.y()) + 1:int(b.y()) - 1, int(a.x()) + 1:int(b.x()) - 1]


def screen_xy(widget, xy: np.ndarray) -> np.ndarray:
    """Widget pixel coordinates of data points (the view's affine map, from two reference points)."""
    o, e = widget.map_to_widget(0.0, 0.0), widget.map_to_widget(1.0, 1.0)
    return np.column_stack([o.x() + xy[:, 0] * (e.x() - o.x()), o.y() + xy[:, 1] * (e.y() - o.y())])


class FakeDrag:
    """The parts of pyqtgraph's MouseDragEvent the ScatterViewBox reads."""

    def __init__(self, view_box, start, end, modifiers=Qt.KeyboardModifier.NoModifier, finish=True, begin=True):
        self._vb, self._start, self._end = view_box, start, end
        self._modifiers, self._finish, self._begin = modifiers, finish, begin

    def _item(self, data_xy):
        return self._vb.mapFromView(QPointF(*data_xy))

    def button(self):
        return Qt.MouseButton.LeftButton

    def buttonDownPos(self, btn=None):  # noqa: N802
        return self._item(self._start)

    def pos(self):
        return self._item(self._end)

    def buttonDownScenePos(self, btn=None):  # noqa: N802
        return self._vb.mapViewToScene(QPointF(*self._start))

    def scenePos(self):  # noqa: N802
        return self._vb.mapViewToScene(QPointF(*self._end))

    def isStart(self):  # noqa: N802
        return self._begin

    def isFinish(self):  # noqa: N802
        return self._finish

    def modifiers(self):
        return self._modifiers

    def accept(self):
        pass


def send_mouse(widget, kind, pos: QPointF, button=Qt.MouseButton.LeftButton, buttons=None,
               modifiers=Qt.KeyboardModifier.NoModifier):
    """A real mouse event on the plot's viewport (QTest cannot hold a button down while moving)."""
    viewport = widget.plot_widget.viewport()
    local = QPointF(viewport.mapFrom(widget, pos.toPoint()))
    buttons = button if buttons is None else buttons
    event = QMouseEvent(kind, local, QPointF(viewport.mapToGlobal(local.toPoint())), button, buttons, modifiers)
    QApplication.sendEvent(viewport, event)


def double_click(qtbot, widget, pos):
    """What Qt delivers for a double click: press, release, double-click, release."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(widget, Qt.MouseButton.LeftButton, pos=pos)


# ---------------------------------------------------------------------- rendering
def test_categorical_colours_at_the_right_pixels(scatter):
    xy = np.array([[-1.0, 0.0], [0.0, 1.0], [1.0, -1.0], [1.5, 1.5]])
    scatter.set_points(xy)
    scatter.set_categorical(np.array([0, 1, 2, 1]), ["a", "b", "c"])
    scatter.set_point_size(5)
    scatter.set_view(-2, 2, -2, 2)
    rgb = grab_rgb(scatter)
    tab = categorical_palette(3)
    for (x, y), label in zip(xy, [0, 1, 2, 1], strict=True):
        assert pixel_at(rgb, scatter, x, y) == tuple(tab[label])
    assert pixel_at(rgb, scatter, 0.5, 0.5) == WHITE
    assert count_color(plot_area(scatter, rgb), tab[1]) == 2 * disc_stamp(5).sum()


def test_on_screen_the_frame_is_opaque_and_looks_as_the_blended_one(scatter):
    """Over one opaque background the colours are composed into the frame (an opaque image, no blending when
    shown); an item beneath the cloud, or an export, gets the transparent frame. Both look the same."""
    import pyqtgraph as pg
    from PySide6.QtGui import QImage

    rng = np.random.default_rng(2)
    xy = rng.normal(0, 1, (3000, 2))
    scatter.set_points(xy)
    scatter.set_categorical(rng.integers(0, 4, len(xy)), list("abcd"))
    scatter.set_opacity(0.6)  # partial opacity: the composition matters
    scatter.set_view(-3, 3, -3, 3)
    opaque = grab_rgb(scatter)
    assert scatter.cloud._image.format() == QImage.Format.Format_RGB32
    assert scatter.cloud.backdrop(None) is None  # rendered to another device (an export): transparent

    class Beneath(pg.GraphicsObject):
        def boundingRect(self):  # noqa: N802 - Qt name
            return pg.QtCore.QRectF(0, 0, 0, 0)

        def paint(self, *args):
            pass

    beneath = Beneath()
    beneath.setZValue(scatter.cloud.zValue() - 1)
    scatter.plot_item.addItem(beneath, ignoreBounds=True)
    blended = grab_rgb(scatter)
    assert scatter.cloud._image.format() == QImage.Format.Format_ARGB32_Premultiplied
    area = plot_area(scatter, opaque)
    assert count_color(area, WHITE, tol=0) < area.shape[0] * area.shape[1]  # points were drawn
    difference = np.abs(plot_area(scatter, opaque).astype(int) - plot_area(scatter, blended).astype(int))
    assert difference.max() <= 2  # (rounding of the composition)
    scatter.plot_item.removeItem(beneath)
    blue = (51, 102, 153)  # (not black: a pixel nobody paints reads black in a grab)
    scatter.plot_widget.setBackground(blue)
    dark = grab_rgb(scatter)
    assert scatter.cloud._image.format() == QImage.Format.Format_RGB32
    assert pixel_at(dark, scatter, 2.9, 2.9) == blue
    # the view paints no background under an opaque frame; wherever the frame is not drawn it still shows
    scatter.set_view(100, 101, 100, 101)  # away from every point
    inside = np.s_[:-8, 8:]  # (the axes' ticks reach 5 px into the plot)
    assert (plot_area(scatter, grab_rgb(scatter))[inside] == blue).all()
    scatter.set_view(-3, 3, -3, 3)
    scatter.set_density_mode(True)  # a transparent frame
    assert count_color(plot_area(scatter, grab_rgb(scatter)), blue, tol=0) > 1000
    scatter.set_density_mode(False)
    scatter.cloud.set_layers([], scatter.cloud.palette)  # nothing to draw after the promise was made
    assert (plot_area(scatter, grab_rgb(scatter))[inside] == blue).all()


def test_points_keep_their_pixel_size_when_zoomed_into_a_tiny_square(scatter):
    rng = np.random.default_rng(1)
    far = rng.uniform(-20, 20, size=(2000, 2))
    far = far[np.abs(far).max(axis=1) > 2]
    xy = np.vstack([[0.0, 0.0], far])
    labels = np.r_[1, np.zeros(len(far), int)]
    scatter.set_points(xy)
    scatter.set_categorical(labels, ["cloud", "origin"])
    scatter.set_point_size(7)
    orange = categorical_palette(2)[1]
    scatter.set_view(-1, 1, -1, 1)
    whole = count_color(plot_area(scatter, grab_rgb(scatter)), orange)
    scatter.set_view(-0.125, 0.125, -0.125, 0.125)
    tiny = count_color(plot_area(scatter, grab_rgb(scatter)), orange)
    assert whole == tiny == disc_stamp(7).sum()


def test_deep_zoom_places_points_on_the_right_pixel(scatter):
    xy = np.array([[-20.0, -20.0], [20.0, 20.0], [13.3712, -7.2093], [13.3721, -7.2101]])
    scatter.set_points(xy)
    scatter.set_categorical(np.array([0, 0, 1, 2]), ["far", "a", "b"])
    scatter.set_point_size(3)
    scatter.set_view(13.370, 13.374, -7.212, -7.208)
    rgb = grab_rgb(scatter)
    tab = categorical_palette(3)
    assert pixel_at(rgb, scatter, *xy[2]) == tuple(tab[1])
    assert pixel_at(rgb, scatter, *xy[3]) == tuple(tab[2])
    assert count_color(plot_area(scatter, rgb), tab[1]) == disc_stamp(3).sum()


def test_nan_rows_are_counted_not_drawn_nor_found(scatter):
    xy = np.array([[0.0, 0.0], [np.nan, 1.0], [1.0, np.inf], [0.5, 0.5], [np.nan, np.nan]])
    scatter.set_points(xy)
    scatter.set_categorical(np.array([0, 1, 1, 0, 1]), ["ok", "broken"])
    assert scatter.missing_count == 3
    assert scatter.missing_label.isVisible() and "3 of 5" in scatter.missing_label.text()
    rgb = grab_rgb(scatter)
    assert count_color(plot_area(scatter, rgb), categorical_palette(2)[1]) == 0
    assert count_color(plot_area(scatter, rgb), categorical_palette(2)[0]) > 0
    assert scatter.select_rect(-10, 10, -10, 10).tolist() == [0, 3]


def test_continuous_colouring_draws_a_colour_bar(scatter):
    xy = np.array([[-1.0, 0.0], [1.0, 0.0]])
    scatter.set_points(xy)
    scatter.set_point_size(6)
    scatter.set_continuous(np.array([0.0, 1.0]), "error")
    assert scatter.color_bar is not None and scatter.color_bar.isVisible()
    assert not scatter.legend.isVisible()
    scatter.set_view(-2, 2, -1, 1)
    rgb = grab_rgb(scatter)
    lut = colormap_lut("viridis", 253)
    assert np.abs(np.array(pixel_at(rgb, scatter, -1, 0)) - lut[0]).max() <= 2
    assert np.abs(np.array(pixel_at(rgb, scatter, 1, 0)) - lut[-1]).max() <= 2
    bar = scatter.color_bar.sceneBoundingRect()
    left = scatter.plot_widget.mapFromScene(bar.topLeft()).x()
    strip = rgb[:, left:]
    for color in (lut[0], lut[126], lut[-1]):  # the bar shows the whole map beside the plot
        assert count_color(strip, color, tol=6) > 0
    assert scatter.color_levels == pytest.approx((0.005, 0.995), abs=1e-6)


def test_density_mode_renders_and_differs_from_points(scatter):
    rng = np.random.default_rng(2)
    xy = np.vstack([rng.normal(0, 1, (20000, 2)), rng.normal(3, 0.3, (20000, 2))])
    scatter.set_points(xy)
    scatter.set_categorical(np.repeat([0, 1], 20000), ["wide", "tight"])
    points = plot_area(scatter, grab_rgb(scatter))
    scatter.set_density_mode(True)
    density = plot_area(scatter, grab_rgb(scatter))
    assert points.shape == density.shape
    assert (np.abs(points.astype(int) - density).sum(axis=2) > 30).mean() > 0.01
    assert count_color(density, WHITE, tol=0) < density.shape[0] * density.shape[1]
    # the dense cluster is drawn more opaque (darker on white) than the sparse rim
    core = np.array(pixel_at(grab_rgb(scatter), scatter, 3.0, 3.0))
    assert core.sum() < 3 * 255 - 100


def test_selection_greys_the_rest(scatter):
    xy = np.array([[-1.0, 0.0], [1.0, 0.0]])
    scatter.set_points(xy)
    scatter.set_categorical(np.array([0, 1]), ["a", "b"])
    scatter.set_point_size(5)
    scatter.set_view(-2, 2, -2, 2)
    scatter.set_selection(np.array([0]))
    rgb = grab_rgb(scatter)
    assert pixel_at(rgb, scatter, -1, 0) == tuple(categorical_palette(2)[0])
    grey = np.array(pixel_at(rgb, scatter, 1, 0))
    assert np.ptp(grey) <= 2 and DESELECTED_COLOR[0] < grey[0] < 255
    scatter.set_selection(np.zeros(0, int))
    assert pixel_at(grab_rgb(scatter), scatter, 1, 0) == tuple(categorical_palette(2)[1])


def test_opacity_builds_up_where_points_pile_up(scatter):
    xy = np.array([[-1.0, 0.0]] + [[1.0, 0.0]] * 5)
    scatter.set_points(xy)
    scatter.set_view(-2, 2, -2, 2)
    scatter.set_opacity(0.3)
    rgb = grab_rgb(scatter)
    single, pile = np.array(pixel_at(rgb, scatter, -1, 0)), np.array(pixel_at(rgb, scatter, 1, 0))
    assert 255 > single.min() > pile.min()


def test_toolbar_sets_size_opacity_density_and_tool(scatter):
    bar = scatter.toolbar
    bar.size_spin.setValue(6)
    bar.opacity_slider.setValue(40)
    bar.density_action.trigger()
    bar.tool_actions["lasso"].trigger()
    assert (scatter.cloud.point_size, scatter.cloud.opacity, scatter.cloud.density, scatter.tool) == \
        (6, pytest.approx(0.4), True, "lasso")
    scatter.set_point_size(2)
    scatter.set_tool("pan")
    assert bar.size_spin.value() == 2 and bar.tool_actions["pan"].isChecked()


def test_tooltip_shows_text_or_image_near_a_point(scatter):
    from PySide6.QtGui import QPixmap

    scatter.set_points(np.array([[0.0, 0.0], [1.0, 1.0]]))
    anchor = scatter.map_to_widget(0.0, 0.0).toPoint()
    pixmap = QPixmap(28, 28)
    pixmap.fill(Qt.GlobalColor.red)
    scatter.show_tooltip(pixmap, anchor)
    label = scatter.tooltip_label
    assert label.isVisible() and label.pixmap().size() == pixmap.size()
    corner = scatter.plot_widget.mapTo(scatter, label.geometry().topLeft())
    assert 0 < abs(corner.x() - anchor.x()) < 80 and 0 < abs(corner.y() - anchor.y()) < 80
    scatter.show_tooltip("<b>#1</b> Trouser", anchor)
    assert "Trouser" in label.text()
    scatter.hide_tooltip()
    assert not label.isVisible()


def test_markers_are_drawn_on_top(scatter):
    scatter.set_points(np.array([[0.0, 0.0], [1.0, 1.0]]))
    scatter.set_view(-2, 2, -2, 2)
    scatter.set_marker("current z", (0.0, 0.0), color=(200, 0, 200), symbol="s", size=14)
    assert pixel_at(grab_rgb(scatter), scatter, 0, 0) == (200, 0, 200)
    scatter.set_marker("current z", None)
    assert scatter.markers() == []


# ---------------------------------------------------------------------- look-ups
def test_hover_lookup_returns_the_true_nearest_point(scatter):
    rng = np.random.default_rng(3)
    xy = np.vstack([rng.normal(0, 2, (4000, 2)), rng.normal(0, 0.02, (1000, 2)) * [1, 30]])
    scatter.set_points(xy)
    scatter.set_view(-3, 3, -1, 1)  # non-square pixels: screen distance differs from data distance
    screen = screen_xy(scatter, xy)
    found = 0
    for px, py in rng.uniform([60, 60], [560, 420], size=(300, 2)):
        d = np.hypot(screen[:, 0] - px, screen[:, 1] - py)
        expected = int(np.argmin(d)) if d.min() <= 8 else -1
        got = scatter.nearest(px, py, radius_px=8)
        if got != expected:  # only a tie within rounding may differ
            assert got >= 0 and expected >= 0 and abs(d[got] - d[expected]) < 1e-6
        found += expected >= 0
    assert found > 50


def test_hidden_classes_are_not_hovered_or_selected(scatter):
    xy = np.array([[0.0, 0.0], [0.01, 0.0], [1.0, 1.0]])
    scatter.set_points(xy)
    scatter.set_categorical(np.array([0, 1, 1]), ["a", "b"])
    p = scatter.map_to_widget(0.0, 0.0)
    assert scatter.nearest(p.x(), p.y()) == 0
    scatter.set_hidden_classes({0})
    assert scatter.nearest(p.x(), p.y()) == 1
    assert scatter.select_rect(-5, 5, -5, 5).tolist() == [1, 2]


def test_mouse_hover_and_click_emit_indices(scatter, qtbot):
    xy = np.array([[-1.0, 0.0], [1.0, 0.5]])
    scatter.set_points(xy)
    scatter.set_view(-2, 2, -2, 2)
    target = scatter.map_to_widget(1.0, 0.5) + QPointF(2, -1)
    with qtbot.waitSignal(scatter.sigHovered, timeout=2000) as hovered:
        send_mouse(scatter, QEvent.Type.MouseMove, target, Qt.MouseButton.NoButton)
    assert hovered.args == [1]
    assert scatter.hovered_index == 1
    with qtbot.waitSignal(scatter.sigMouseMoved, timeout=2000) as moved:
        send_mouse(scatter, QEvent.Type.MouseMove, scatter.map_to_widget(0.5, -1.0), Qt.MouseButton.NoButton)
    assert moved.args == pytest.approx([0.5, -1.0], abs=0.02)
    assert scatter.hovered_index == -1
    with qtbot.waitSignal(scatter.sigClicked, timeout=2000) as clicked:
        send_mouse(scatter, QEvent.Type.MouseButtonPress, target)
        send_mouse(scatter, QEvent.Type.MouseButtonRelease, target, buttons=Qt.MouseButton.NoButton)
    assert clicked.args == [1]
    empty = scatter.map_to_widget(0.0, -1.5)
    with qtbot.waitSignal(scatter.sigClicked, timeout=2000) as clicked:
        send_mouse(scatter, QEvent.Type.MouseButtonPress, empty)
        send_mouse(scatter, QEvent.Type.MouseButtonRelease, empty, buttons=Qt.MouseButton.NoButton)
    assert clicked.args == [-1]


def test_double_click_resets_the_view(scatter):
    scatter.set_points(np.array([[-20.0, -20.0], [20.0, 20.0], [0.1, 0.1]]))
    scatter.set_view(-0.125, 0.125, -0.125, 0.125)
    centre = scatter.map_to_widget(0.0, 0.0)
    send_mouse(scatter, QEvent.Type.MouseButtonPress, centre)
    send_mouse(scatter, QEvent.Type.MouseButtonRelease, centre, buttons=Qt.MouseButton.NoButton)
    send_mouse(scatter, QEvent.Type.MouseButtonDblClick, centre)
    send_mouse(scatter, QEvent.Type.MouseButtonRelease, centre, buttons=Qt.MouseButton.NoButton)
    x0, x1, y0, y1 = scatter.visible_rect()
    assert x0 <= -20 and x1 >= 20 and y0 <= -20 and y1 >= 20


# ---------------------------------------------------------------------- selections
def test_box_selection_returns_the_right_indices_and_modes(scatter, qtbot):
    rng = np.random.default_rng(4)
    xy = rng.uniform(-5, 5, size=(3000, 2))
    xy[7] = np.nan
    scatter.set_points(xy)
    scatter.set_tool("box")
    inside = np.flatnonzero((xy[:, 0] >= -1) & (xy[:, 0] <= 2) & (xy[:, 1] >= -3) & (xy[:, 1] <= 0.5))
    cases = [(Qt.KeyboardModifier.NoModifier, "replace"), (Qt.KeyboardModifier.ShiftModifier, "add"),
             (Qt.KeyboardModifier.ControlModifier, "subtract"), (Qt.KeyboardModifier.AltModifier, "subtract")]
    for modifiers, mode in cases:
        with qtbot.waitSignal(scatter.sigSelected) as selected:
            scatter.view_box.mouseDragEvent(FakeDrag(scatter.view_box, (-1, -3), (2, 0.5), modifiers))
        picked, got_mode = selected.args
        assert got_mode == mode
        assert np.array_equal(picked, inside)


def test_box_selection_with_real_mouse_drag(scatter, qtbot):
    xy = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, 1.0], [1.2, -1.0]])
    scatter.set_points(xy)
    scatter.set_view(-2, 2, -2, 2)
    scatter.set_tool("box")
    start, end = scatter.map_to_widget(-0.5, 1.5), scatter.map_to_widget(1.5, -0.5)
    with qtbot.waitSignal(scatter.sigSelected, timeout=2000) as selected:
        send_mouse(scatter, QEvent.Type.MouseButtonPress, start)
        for t in np.linspace(0, 1, 6)[1:]:
            send_mouse(scatter, QEvent.Type.MouseMove, start + (end - start) * t, Qt.MouseButton.NoButton,
                       buttons=Qt.MouseButton.LeftButton)
        send_mouse(scatter, QEvent.Type.MouseButtonRelease, end, buttons=Qt.MouseButton.NoButton)
    assert selected.args[0].tolist() == [0, 1] and selected.args[1] == "replace"


def test_lasso_selection_returns_the_points_inside(scatter, qtbot):
    rng = np.random.default_rng(5)
    xy = rng.uniform(-3, 3, size=(5000, 2))
    radius = np.abs(xy).sum(axis=1)
    xy = xy[np.abs(radius - 2.0) > 0.05]  # nothing on the edge of the diamond
    scatter.set_points(xy)
    scatter.set_tool("lasso")
    corners = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0]])
    trace = np.vstack([np.linspace(corners[i], corners[(i + 1) % 4], 40, endpoint=False) for i in range(4)])
    vb = scatter.view_box
    vb.mouseDragEvent(FakeDrag(vb, tuple(trace[0]), tuple(trace[0]), finish=False))
    for point in trace[1:-1]:
        vb.mouseDragEvent(FakeDrag(vb, tuple(trace[0]), tuple(point), finish=False, begin=False))
    with qtbot.waitSignal(scatter.sigSelected) as selected:
        vb.mouseDragEvent(FakeDrag(vb, tuple(trace[0]), tuple(trace[-1]), Qt.KeyboardModifier.ShiftModifier,
                                   begin=False))
    picked, mode = selected.args
    assert mode == "add"
    assert np.array_equal(picked, np.flatnonzero(np.abs(xy).sum(axis=1) < 2.0))


def test_path_tool_emits_the_drawn_polyline(scatter, qtbot):
    scatter.set_points(np.array([[0.0, 0.0], [1.0, 1.0]]))
    scatter.set_tool("path")
    vb = scatter.view_box
    vb.mouseDragEvent(FakeDrag(vb, (0, 0), (0.5, 0.2), finish=False))
    with qtbot.waitSignal(scatter.sigPathDrawn) as drawn:
        vb.mouseDragEvent(FakeDrag(vb, (0, 0), (1, 1), begin=False))
    assert np.allclose(drawn.args[0][[0, -1]], [[0, 0], [1, 1]], atol=1e-9)
    with pytest.raises(ValueError, match="unknown tool"):
        scatter.set_tool("wand")


# ---------------------------------------------------------------------- legend
def test_legend_swatch_click_hides_a_class_and_double_click_isolates(scatter, qtbot):
    xy = np.array([[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    scatter.set_points(xy)
    scatter.set_categorical(np.array([0, 1, 2]), ["a", "b", "c"])
    scatter.set_point_size(5)
    scatter.set_view(-2, 2, -2, 2)
    tab = categorical_palette(3)
    legend = scatter.legend
    assert legend.isVisible() and legend.count() == 3 and "(1)" in legend.item(1).text()
    row_b = legend.visualItemRect(legend.item(1)).center()
    with qtbot.waitSignal(scatter.sigHiddenChanged) as changed:
        qtbot.mouseClick(legend.viewport(), Qt.MouseButton.LeftButton, pos=legend.swatch_point(1))
    assert changed.args == [{1}]
    rgb = grab_rgb(scatter)
    assert pixel_at(rgb, scatter, 0, 0) == WHITE
    assert count_color(plot_area(scatter, rgb), tab[1]) == 0
    assert pixel_at(rgb, scatter, -1, 0) == tuple(tab[0])
    with qtbot.waitSignal(scatter.sigHiddenChanged) as changed:
        qtbot.mouseClick(legend.viewport(), Qt.MouseButton.LeftButton, pos=legend.swatch_point(1))
    assert changed.args == [set()]
    double_click(qtbot, legend.viewport(), row_b)
    assert scatter.hidden_classes == {0, 2}
    rgb = grab_rgb(scatter)
    assert pixel_at(rgb, scatter, 0, 0) == tuple(tab[1]) and pixel_at(rgb, scatter, 1, 0) == WHITE
    double_click(qtbot, legend.viewport(), row_b)
    assert scatter.hidden_classes == set()
    row_c = legend.visualItemRect(legend.item(2)).center()
    qtbot.mouseClick(legend.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier, row_c)
    assert scatter.hidden_classes == {0, 1}


def test_set_hidden_classes_is_silent_and_shown_in_legend(scatter, qtbot):
    scatter.set_points(np.zeros((4, 2)))
    scatter.set_categorical(np.array([0, 1, 2, 3]), list("abcd"))
    with qtbot.assertNotEmitted(scatter.sigHiddenChanged):
        scatter.set_hidden_classes({2, 3})
    assert scatter.legend.hidden == {2, 3}


def test_view_changes_are_reported_once_settled(scatter, qtbot):
    scatter.set_points(np.array([[0.0, 0.0], [4.0, 2.0]]))
    with qtbot.waitSignal(scatter.sigViewChanged, timeout=2000) as changed:
        scatter.set_view(1, 2, 0.5, 1.5)
    assert changed.args[0] == pytest.approx((1, 2, 0.5, 1.5))


def test_empty_and_degenerate_clouds(scatter):
    scatter.set_points(np.zeros((0, 2)))
    assert scatter.nearest(100, 100) == -1 and len(scatter.select_rect(-1, 1, -1, 1)) == 0
    grab_rgb(scatter)
    scatter.set_points(np.full((3, 2), np.nan))
    assert scatter.missing_count == 3 and scatter.nearest(100, 100) == -1
    grab_rgb(scatter)
    scatter.set_points(np.array([[2.0, 3.0], [2.0, 3.0]]))
    x0, x1, y0, y1 = scatter.visible_rect()
    assert x0 < 2 < x1 and y0 < 3 < y1 and x1 - x0 >= 0.9
    p = scatter.map_to_widget(2.0, 3.0)
    assert scatter.nearest(p.x(), p.y()) == 0
    assert pixel_at(grab_rgb(scatter), scatter, 2.0, 3.0) != WHITE


def test_bad_arguments_are_refused_clearly(scatter):
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        scatter.set_points(np.zeros((5, 3)))
    scatter.set_points(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="4 labels for 5 points"):
        scatter.set_categorical(np.zeros(4, int), ["a"])


# ---------------------------------------------------------------------- core pieces (no Qt)
def test_grid_index_matches_brute_force():
    rng = np.random.default_rng(6)
    xy = np.vstack([rng.normal(0, 1, (3000, 2)), [[1e6, -1e6], [np.nan, 0.0]]])
    grid = GridIndex(xy)
    allowed = rng.random(len(xy)) > 0.2
    for x, y in rng.normal(0, 1.2, size=(200, 2)):
        rx, ry = 0.1, 0.3
        d2 = ((xy[:, 0] - x) / rx) ** 2 + ((xy[:, 1] - y) / ry) ** 2
        d2[~allowed | np.isnan(d2)] = np.inf
        expected = int(np.argmin(d2)) if d2.min() <= 1 else -1
        assert grid.nearest(x, y, rx, ry, allowed=allowed) == expected
    box = (-0.5, 1.0, -2.0, 0.25)
    finite = np.isfinite(xy).all(axis=1)
    with np.errstate(invalid="ignore"):
        truth = finite & (xy[:, 0] >= box[0]) & (xy[:, 0] <= box[1]) & (xy[:, 1] >= box[2]) & (xy[:, 1] <= box[3])
    assert np.array_equal(grid.in_rect(*box), np.flatnonzero(truth))
    assert grid.nearest(1e6, -1e6, 1.0, 1.0) == 3000


def test_points_in_polygon_handles_concave_shapes():
    u_shape = np.array([[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3]], dtype=float)
    px = np.array([0.5, 1.5, 2.5, 1.5, 4.0])
    py = np.array([2.0, 2.0, 2.0, 0.5, 0.5])
    assert points_in_polygon(px, py, u_shape).tolist() == [True, False, True, True, False]


def test_combine_selection_modes():
    current = np.array([1, 2, 3])
    assert combine_selection(current, np.array([3, 4]), "add").tolist() == [1, 2, 3, 4]
    assert combine_selection(current, np.array([3, 4]), "subtract").tolist() == [1, 2]
    assert combine_selection(current, np.array([4, 4]), "replace").tolist() == [4]
    with pytest.raises(ValueError):
        combine_selection(current, current, "xor")


def test_rasterizer_is_deterministic_and_unbiased_by_class_id():
    rng = np.random.default_rng(7)
    n = 60000
    xy = rng.normal(0, 1, (n, 2))
    labels = rng.integers(0, 10, n)
    points = SortedPoints(xy)
    palette = slot_palette(categorical_palette(10))
    layers = build_layers(points, (labels + 1).astype(np.uint8), palette)
    pixel_map = PixelMap(200, 200, ax=40.0, bx=100.0, ay=-40.0, by=100.0)
    frames = [Rasterizer().render(layers, pixel_map, disc_stamp(3), key_lut(palette, 1.0), count=False)
              for _ in range(2)]
    assert np.array_equal(frames[0], frames[1])
    argb = frames[0]
    colors = ((argb >> 16) & 0xFF, (argb >> 8) & 0xFF, argb & 0xFF)
    shares = []
    for rgb in categorical_palette(10):
        shares.append(((colors[0] == rgb[0]) & (colors[1] == rgb[1]) & (colors[2] == rgb[2])).sum())
    shares = np.array(shares) / np.sum(shares)
    assert shares.min() > 0.07 and shares.max() < 0.13  # every class ~10 % of the dense core


def test_rasterizer_counts_for_partial_opacity():
    points = SortedPoints(np.array([[0.0, 0.0]] * 3 + [[1.0, 0.0]]))
    palette = slot_palette(np.array([[255, 0, 0]], np.uint8))
    layers = build_layers(points, np.ones(4, np.uint8), palette)
    cx, cy = points.center  # frames map centred coordinates: x = 0 to column 1, x = 1 to column 5
    pixel_map = PixelMap(10, 10, ax=4.0, bx=1.0 + 4.0 * cx, ay=-4.0, by=5.0 + 4.0 * cy)
    argb = Rasterizer().render(layers, pixel_map, disc_stamp(1), key_lut(palette, 0.5), count=True)
    alpha = argb >> 24
    assert alpha[5, 1] == round(255 * (1 - 0.5 ** 3)) and alpha[5, 5] == round(255 * 0.5)
    assert (alpha > 0).sum() == 2


def _frames_of(points, labels, palette, pixel_map, selected=None):
    layers = build_layers(points, (labels + 1).astype(np.uint8), palette, selected=selected)
    return Rasterizer().render_slots(layers, pixel_map, disc_stamp(3)).copy()


@pytest.mark.parametrize("n_pixels", [300, 30000])  # stamped dot by dot, and dilated as a whole canvas
def test_unsorted_and_grid_sorted_points_draw_the_same_frame(n_pixels):
    rng = np.random.default_rng(8)
    side = 200
    cells = rng.choice(side * side, n_pixels, replace=False)  # one point per pixel: no draw order to depend on
    xy = np.column_stack([cells % side + 0.5, cells // side + 0.5]) / 10.0
    labels = rng.integers(0, 5, n_pixels)
    palette = slot_palette(categorical_palette(5))
    unsorted, grid_sorted = SortedPoints.unsorted(xy), SortedPoints(xy)
    assert unsorted.grid is None and grid_sorted.grid is not None
    np.testing.assert_array_equal(unsorted.center, grid_sorted.center)
    selected = rng.random(n_pixels) < 0.3
    cx, cy = unsorted.center
    for zoom, x0, y0 in ((10.0, 0.0, 0.0), (40.0, 5.0, 8.0), (200.0, 9.0, 11.0)):  # whole, partial, deep
        pixel_map = PixelMap(side, side, ax=zoom, bx=zoom * (cx - x0), ay=zoom, by=zoom * (cy - y0))
        for sel in (None, selected):
            expected = _frames_of(unsorted, labels, palette, pixel_map, sel)
            np.testing.assert_array_equal(_frames_of(grid_sorted, labels, palette, pixel_map, sel), expected)
            assert (expected > 0).any()


def test_lookups_answer_the_same_while_sorting_and_after(scatter):
    rng = np.random.default_rng(9)
    xy = rng.normal(0, 1, (20000, 2))
    scatter.set_points(xy)
    assert not scatter.index_ready  # the sort runs in its worker; nothing has collected it yet
    probes = [scatter.map_to_widget(*p) for p in xy[:40]]
    before = [scatter.nearest(p.x(), p.y()) for p in probes]
    box_before = scatter.select_rect(-0.5, 0.7, -1.0, 0.2)
    lasso = np.array([[-1.0, -1.0], [1.0, -0.5], [0.2, 1.2]])
    lasso_before = scatter.select_polygon(lasso)
    scatter.wait_until_sorted(10)
    assert scatter.index_ready
    assert [scatter.nearest(p.x(), p.y()) for p in probes] == before
    assert before.count(-1) == 0
    np.testing.assert_array_equal(scatter.select_rect(-0.5, 0.7, -1.0, 0.2), box_before)
    np.testing.assert_array_equal(scatter.select_polygon(lasso), lasso_before)
    inside = (xy[:, 0] >= -0.5) & (xy[:, 0] <= 0.7) & (xy[:, 1] >= -1.0) & (xy[:, 1] <= 0.2)
    np.testing.assert_array_equal(box_before, np.flatnonzero(inside))


def test_a_newer_layout_wins_over_a_sort_still_running(scatter, qtbot):
    rng = np.random.default_rng(10)
    first, second = rng.normal(0, 1, (50000, 2)), rng.normal(5, 1, (50000, 2))
    scatter.set_points(first)
    scatter.set_points(second, keep_view=True)
    qtbot.waitUntil(lambda: scatter.index_ready, timeout=10000)
    scatter.reset_view()
    p = scatter.map_to_widget(*second[7])
    assert scatter.nearest(p.x(), p.y()) == 7
    np.testing.assert_allclose(scatter._points.lo, second.min(axis=0), rtol=1e-6)


@pytest.mark.parametrize("diameter", [1, 2, 3, 4, 5])
def test_dilation_is_the_maximum_over_the_dot(diameter):
    from latent_explorer.core.splat import dilate_max

    rng = np.random.default_rng(diameter)
    image = ((rng.random((40, 50)) < 0.05) * rng.integers(1, 60000, (40, 50))).astype(np.uint16)
    stamp = disc_stamp(diameter)
    got = dilate_max(image, stamp, (np.empty_like(image), np.empty_like(image)))
    anchor = (diameter - 1) // 2
    padded = np.pad(image, diameter)
    expected = np.zeros_like(image)
    for r, c in np.argwhere(stamp):
        dy, dx = r - anchor, c - anchor  # a point at (y, x) also colours (y + dy, x + dx)
        shifted = padded[diameter - dy:diameter - dy + 40, diameter - dx:diameter - dx + 50]
        expected = np.maximum(expected, shifted)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("compiled", [False, True])
def test_scans_before_the_grid_agree_with_the_grid(compiled, monkeypatch):
    from latent_explorer.core import splat_jit
    from latent_explorer.core.spatial import brute_in_polygon, brute_in_rect, brute_nearest, centred_float32

    if compiled and not splat_jit.warm_up():
        pytest.skip("numba is not installed")
    monkeypatch.setitem(splat_jit._state, "ready", compiled)
    rng = np.random.default_rng(11)
    xy = np.vstack([rng.normal(0, 1, (5000, 2)), [[np.nan, 1.0], [50.0, -50.0]]])
    xs, ys, rows, centre = centred_float32(xy)
    grid = GridIndex(xy)
    allowed = rng.random(len(xy)) > 0.3
    for x, y in rng.normal(0, 1.2, (300, 2)):
        for mask in (None, allowed):
            expected = grid.nearest(x, y, 0.05, 0.2, allowed=mask)
            assert brute_nearest(xs, ys, rows, x - centre[0], y - centre[1], 0.05, 0.2, allowed=mask) == expected
    assert brute_nearest(xs, ys, rows, 50.0 - centre[0], -50.0 - centre[1], 1.0, 1.0) == 5001
    # the caller's own float64 columns (strided), positions as rows: the scan while the float32 copy is made
    raw_x, raw_y = xy[:, 0], xy[:, 1]
    for x, y in rng.normal(0, 1.2, (100, 2)):
        monkeypatch.setitem(splat_jit._state, "ready", False)
        expected = brute_nearest(raw_x, raw_y, None, x, y, 0.05, 0.2, allowed=allowed)
        monkeypatch.setitem(splat_jit._state, "ready", compiled)
        assert brute_nearest(raw_x, raw_y, None, x, y, 0.05, 0.2, allowed=allowed) == expected
        assert expected == grid.nearest(x, y, 0.05, 0.2, allowed=allowed)
    assert brute_nearest(raw_x, raw_y, None, 0.0, 0.0, 100.0, 100.0) >= 0  # more candidates than collected
    box = (-0.5, 1.0, -2.0, 0.25)
    shifted = (box[0] - centre[0], box[1] - centre[0], box[2] - centre[1], box[3] - centre[1])
    np.testing.assert_array_equal(brute_in_rect(xs, ys, rows, *shifted, allowed=allowed),
                                  grid.in_rect(*box, allowed=allowed))
    lasso = np.array([[-1.0, -1.0], [1.5, -0.5], [0.2, 1.2]])
    np.testing.assert_array_equal(brute_in_polygon(xs, ys, rows, lasso - centre, allowed=allowed),
                                  grid.in_polygon(lasso, allowed=allowed))


def test_a_large_cloud_is_prepared_in_the_worker_and_answers_meanwhile(scatter, qtbot, monkeypatch):
    from latent_explorer.qt import scatter as scatter_module

    monkeypatch.setattr(scatter_module, "BACKGROUND_STYLE_POINTS", 1000)
    rng = np.random.default_rng(11)
    xy = rng.normal(0, 1, (20000, 2))
    labels = (xy[:, 0] > 0).astype(int)
    scatter.set_view(-4, 4, -4, 4)
    scatter.set_points(xy, keep_view=True)
    scatter.set_categorical(labels, ["left", "right"])
    assert not scatter.index_ready
    probes = [scatter.map_to_widget(*p) for p in xy[:30]]
    meanwhile = [scatter.nearest(p.x(), p.y()) for p in probes]  # a scan of the caller's coordinates
    scatter.wait_until_sorted(10)
    assert scatter.index_ready
    assert [scatter.nearest(p.x(), p.y()) for p in probes] == meanwhile
    assert meanwhile.count(-1) == 0
    rgb = plot_area(scatter, grab_rgb(scatter))
    for color in categorical_palette(2):
        assert count_color(rgb, color) > 200  # the class colours arrived from the worker
    scatter.set_selection(np.flatnonzero(labels == 0))
    scatter.wait_until_sorted(10)
    rgb = plot_area(scatter, grab_rgb(scatter))
    assert count_color(rgb, categorical_palette(2)[1]) == 0  # the other class is greyed now
    scatter.set_hidden_classes({0})
    scatter.wait_until_sorted(10)
    p = scatter.map_to_widget(*xy[np.flatnonzero(labels == 0)[0]])
    assert scatter.nearest(p.x(), p.y(), radius_px=0.5) in (-1, *np.flatnonzero(labels == 1))


def test_a_huge_cloud_shows_a_preview_and_counts_its_classes_in_the_worker(scatter, monkeypatch):
    """Above HUGE_POINTS the class ids are made int32 and counted in the worker (the legend's counts follow),
    the first view comes from a sample of the rows and is made exact when the copy lands, and the one-colour
    picture before the colours draws at most LOD_POINTS points."""
    from latent_explorer.core import splat
    from latent_explorer.qt import scatter as scatter_module

    monkeypatch.setattr(scatter_module, "BACKGROUND_STYLE_POINTS", 1000)
    monkeypatch.setattr(scatter_module, "HUGE_POINTS", 5000)
    monkeypatch.setattr(scatter_module, "BOUNDS_SAMPLE", 100)
    monkeypatch.setattr(splat, "LOD_POINTS", 4000)
    import threading

    sort_may_run = threading.Event()  # the sort waits, so the preview is on screen until the test lets it go
    sort_now = splat.SortedPoints.sorted

    def sorted_later(self):
        assert sort_may_run.wait(10)
        return sort_now(self)

    monkeypatch.setattr(splat.SortedPoints, "sorted", sorted_later)
    rng = np.random.default_rng(4)
    xy = rng.normal(0, 1, (30000, 2))
    xy[123] = (40.0, -30.0)  # an outlier a sample of the rows misses
    labels = rng.integers(0, 3, len(xy))
    scatter.set_points(xy)
    scatter.set_categorical(labels, ["a", "b", "c"])
    assert scatter._labels.dtype == labels.dtype  # colouring with the ids as given meanwhile
    assert scatter.legend.item(0).text() == "a"  # the counts come with the worker's answer
    while scatter._preparing is not None:
        scatter._preparing.result(10)
        scatter._collect_sorted()
    preview = scatter.cloud.layers
    assert len(preview) == 1 and len(preview[0]) <= 4000
    sort_may_run.set()
    scatter.wait_until_sorted(10)
    assert scatter._labels.dtype == np.int32
    np.testing.assert_array_equal(scatter._labels, labels)
    texts = [scatter.legend.item(i).text() for i in range(scatter.legend.count())]
    assert texts == [f"{name}  ({count:,})" for name, count in zip("abc", np.bincount(labels), strict=True)]
    x0, x1, y0, y1 = scatter.visible_rect()
    assert x1 >= 40.0 and y0 <= -30.0  # the exact bounds, outlier included
    assert sum(len(layer) for layer in scatter.cloud.layers) == len(xy)  # every point once coloured


@pytest.mark.parametrize("compiled", [False, True])
def test_class_ids_are_compacted_and_counted_alike_on_both_paths(compiled, monkeypatch):
    from latent_explorer.core import splat_jit
    from latent_explorer.qt.scatter import compact_labels_and_counts

    if compiled and not splat_jit.warm_up():
        pytest.skip("numba is not installed")
    monkeypatch.setitem(splat_jit._state, "ready", compiled)
    labels = np.random.default_rng(6).integers(-1, 6, 3000)
    compact, counts = compact_labels_and_counts(labels, 4)
    assert compact.dtype == np.int32
    np.testing.assert_array_equal(compact, labels)
    np.testing.assert_array_equal(counts, [(labels == k).sum() for k in range(4)])
    wide, wide_counts = compact_labels_and_counts(np.array([0, 2**40, 1]), 2)
    assert wide.dtype == np.int64 and wide[1] == 2**40 and wide_counts.tolist() == [1, 1]


def test_the_frame_keeps_its_size_while_the_range_changes(scatter):
    """A range change maps the view to the same device rectangle give or take rounding (900.0000001 pixels):
    the frame keeps the plot area's size, so its image and canvas are kept (a pixel more every other change
    cost new buffers and a cleared canvas)."""
    rng = np.random.default_rng(4)
    xy = rng.normal(0, 1, (20000, 2))
    scatter.set_points(xy)
    scatter.set_categorical(rng.integers(0, 3, len(xy)), list("abc"))
    sizes, images = set(), set()
    for centre, half in zip(rng.uniform(-0.5, 0.5, 12), rng.uniform(0.3, 3.0, 12), strict=True):
        scatter.set_view(centre - half, centre + half, -centre - half * 0.7, -centre + half * 0.7)
        grab_rgb(scatter)
        sizes.add((scatter.cloud._frame.width(), scatter.cloud._frame.height()))
        images.add(id(scatter.cloud._image))
    area = scatter.view_box.sceneBoundingRect()
    assert len(sizes) == 1 and len(images) == 1
    (width, height), = sizes
    assert abs(width - area.width()) <= 1 and abs(height - area.height()) <= 1
