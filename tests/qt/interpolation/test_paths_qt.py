"""The Paths panel in the real window: drawing with the mouse, keys, vertex drags, the strip, files, other views."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from latent_explorer.core.interpolation import ROW_FADE, ROW_LINEAR, ROW_PATH, ROW_SPHERICAL, LatentPath, strip_image
from latent_explorer.core.projections import MapLayout
from latent_explorer.core.state import ViewSpec

MOVE = QEvent.Type.MouseMove
PRESS = QEvent.Type.MouseButtonPress
RELEASE = QEvent.Type.MouseButtonRelease


def send_mouse(scatter, kind, pos: QPointF, buttons=Qt.MouseButton.LeftButton,
               button=Qt.MouseButton.LeftButton) -> None:
    """A real mouse event on the plot's viewport, at widget pixel ``pos`` of the scatter.

    pyqtgraph drops moves closer than 10 ms to the previous one (``mouseRateLimit``): moves are spaced as a mouse's.
    """
    if kind == MOVE:
        time.sleep(0.011)
    viewport = scatter.plot_widget.viewport()
    local = QPointF(viewport.mapFrom(scatter, pos.toPoint()))
    event = QMouseEvent(kind, local, QPointF(viewport.mapToGlobal(local.toPoint())), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


def px(scatter, x: float, y: float) -> QPointF:
    return scatter.map_to_widget(x, y)


def drag(scatter, points: list[tuple[float, float]], steps: int = 6) -> None:
    """Press at the first point, move through the others (in small steps), release at the last."""
    send_mouse(scatter, PRESS, px(scatter, *points[0]))
    for a, b in zip(points[:-1], points[1:], strict=True):
        for t in np.linspace(0, 1, steps + 1)[1:]:
            here = px(scatter, a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
            send_mouse(scatter, MOVE, here, button=Qt.MouseButton.NoButton)
    send_mouse(scatter, RELEASE, px(scatter, *points[-1]), buttons=Qt.MouseButton.NoButton)


def click(scatter, x: float, y: float) -> None:
    send_mouse(scatter, PRESS, px(scatter, x, y))
    send_mouse(scatter, RELEASE, px(scatter, x, y), buttons=Qt.MouseButton.NoButton)


def data_per_pixel(scatter) -> float:
    x0, x1, y0, y1 = scatter.visible_rect()
    size = scatter.view_box.viewPixelSize()
    return float(max(size))


@pytest.fixture
def window(main_window, qtbot, digits_vae):
    main_window.resize(1300, 900)
    main_window.show()
    qtbot.waitExposed(main_window)
    main_window.open_dataset("digits", then_model=str(digits_vae))
    qtbot.waitUntil(lambda: main_window.state.codes is not None and main_window.pca is not None, timeout=30000)
    qtbot.waitUntil(lambda: main_window.context.decoder.meter_ready() is not None, timeout=20000)
    main_window.scatter.set_view(-1.5, 1.5, -1.5, 1.5)
    yield main_window
    main_window.close()
    assert not main_window.context.interpolation.strips.worker.isRunning()


def wait_strip(qtbot, entry) -> None:
    qtbot.waitUntil(entry.strip_current, timeout=10000)


def test_freehand_drag_draws_a_path_in_data_coordinates(window, qtbot):
    panel, scatter = window.context.interpolation, window.scatter
    panel.snap_box.setChecked(False)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    scatter.plot_widget.setFocus()
    qtbot.keyClick(scatter.plot_widget, Qt.Key.Key_P)
    assert panel.drawing and scatter.tool == "path"
    corners = [(-1.0, -1.0), (0.0, 0.8), (1.0, -0.5)]
    drag(scatter, corners, steps=20)
    assert len(panel.entries) == 1 and not panel.drawing and scatter.tool == "pan"
    entry = panel.entries[0]
    vertices = entry.path.vertex_array()
    tolerance = 3 * data_per_pixel(scatter)
    np.testing.assert_allclose(vertices[0], corners[0], atol=tolerance)
    np.testing.assert_allclose(vertices[-1], corners[-1], atol=tolerance)
    # the simplified stroke keeps its corner and few vertices, all on the drawn segments
    assert 3 <= len(vertices) <= 8
    assert np.min(np.hypot(*(vertices - corners[1]).T)) < tolerance
    assert entry.path.view == {"kind": "pca", "i": 0, "j": 1, "key": ""}
    assert entry.path.start_index is None and entry.path.end_index is None
    # lifted through the PCA plane: the codes project back onto the resampled points
    plane = window.current_projection()
    np.testing.assert_allclose(plane.transform(entry.lifted.z), entry.lifted.samples, atol=1e-4)
    wait_strip(qtbot, entry)
    assert entry.strip.names == [ROW_PATH, ROW_LINEAR, ROW_SPHERICAL, ROW_FADE]
    assert all(len(r) == 64 for r in entry.strip.rows) and entry.strip.rows[0].frames.shape[1:] == (8, 8)
    qtbot.waitUntil(lambda: panel.scored(entry), timeout=10000)  # scored in a worker, after the frames
    meter = window.context.decoder.meter_ready()
    np.testing.assert_allclose(entry.strip.rows[0].scores[[0, 30, 63]],
                               [meter.score(entry.lifted.z[i]) for i in (0, 30, 63)], rtol=1e-4)
    assert entry.strip.row(ROW_FADE).scores is None
    assert [s.uid for s in panel.overlay.shapes] == [entry.uid]


def test_click_vertices_backspace_enter_and_escape(window, qtbot):
    panel, scatter = window.context.interpolation, window.scatter
    panel.snap_box.setChecked(False)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    viewport = scatter.plot_widget.viewport()
    panel.draw_action.trigger()
    assert panel.drawing
    for point in ((-1.0, 0.0), (0.0, 1.0), (1.0, 0.0)):
        click(scatter, *point)
    assert len(panel.overlay.in_progress) == 3
    qtbot.keyClick(viewport, Qt.Key.Key_Backspace)
    np.testing.assert_allclose(panel.overlay.in_progress, [(-1.0, 0.0), (0.0, 1.0)], atol=2 * data_per_pixel(scatter))
    qtbot.keyClick(viewport, Qt.Key.Key_Return)
    assert len(panel.entries) == 1 and not panel.drawing
    np.testing.assert_allclose(panel.entries[0].path.vertex_array(), [(-1.0, 0.0), (0.0, 1.0)],
                               atol=2 * data_per_pixel(scatter))
    # Esc drops the path in progress; a second Esc leaves the tool; keys do nothing outside it
    panel.draw_action.trigger()
    click(scatter, 0.5, 0.5)
    click(scatter, -0.5, 0.5)
    qtbot.keyClick(viewport, Qt.Key.Key_Escape)
    assert panel.drawing and len(panel.overlay.in_progress) == 0 and len(panel.entries) == 1
    qtbot.keyClick(viewport, Qt.Key.Key_Escape)
    assert not panel.drawing
    qtbot.keyClick(viewport, Qt.Key.Key_Return)
    assert len(panel.entries) == 1
    # a one-vertex path is refused and drawing goes on
    panel.draw_action.trigger()
    click(scatter, 0.2, 0.2)
    qtbot.keyClick(viewport, Qt.Key.Key_Return)
    assert panel.drawing and len(panel.entries) == 1 and "two different vertices" in panel.info.text()
    # a double click finishes
    click(scatter, 0.8, 0.2)
    send_mouse(scatter, QEvent.Type.MouseButtonDblClick, px(scatter, 0.8, 0.2))
    send_mouse(scatter, RELEASE, px(scatter, 0.8, 0.2), buttons=Qt.MouseButton.NoButton)
    assert len(panel.entries) == 2 and len(panel.entries[1].path.vertices) == 2


def test_endpoints_snap_to_the_nearest_data_point(window, qtbot):
    panel, scatter = window.context.interpolation, window.scatter
    xy = window.view_controller.xy
    inside = np.flatnonzero((np.abs(xy) < 1.2).all(axis=1))
    a, b = int(inside[0]), int(inside[-1])
    nudge = 2 * data_per_pixel(scatter)
    panel.draw_action.trigger()
    drag(scatter, [tuple(xy[a] + nudge), tuple(xy[b] - nudge)])
    entry = panel.entries[0]
    assert entry.path.start_index is not None and entry.path.end_index is not None
    np.testing.assert_allclose(entry.path.vertex_array()[0], xy[entry.path.start_index])
    np.testing.assert_allclose(entry.path.vertex_array()[-1], xy[entry.path.end_index])
    latent = window.state.latent()
    np.testing.assert_allclose(entry.lifted.z[0], latent[entry.path.start_index], atol=1e-5)
    np.testing.assert_allclose(entry.lifted.z[-1], latent[entry.path.end_index], atol=1e-5)
    wait_strip(qtbot, entry)
    fade = entry.strip.row(ROW_FADE).frames
    dataset = window.state.dataset
    np.testing.assert_allclose(fade[0], dataset.display_image(entry.path.start_index), atol=1e-6)
    np.testing.assert_allclose(fade[-1], dataset.display_image(entry.path.end_index), atol=1e-6)


def test_dragging_a_vertex_updates_the_path_and_the_strip(window, qtbot):
    panel, scatter = window.context.interpolation, window.scatter
    entry = panel.add_path(LatentPath("p", [[-1.0, -0.5], [0.0, 0.0], [1.0, -0.5]], view=view_of(window)))
    wait_strip(qtbot, entry)
    before_z = entry.lifted.z.copy()
    before_frames = entry.strip.rows[0].frames.copy()
    previews = []
    panel.strip_shown.connect(previews.append)
    scatter.set_tool("box")  # handles take the drag whatever the tool
    start, end = (0.0, 0.0), (0.2, 1.0)
    send_mouse(scatter, PRESS, px(scatter, *start))
    for t in np.linspace(0, 1, 12)[1:]:
        here = (start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t)
        send_mouse(scatter, MOVE, px(scatter, *here), button=Qt.MouseButton.NoButton)
        qtbot.wait(5)
    qtbot.waitUntil(lambda: True in previews, timeout=5000)  # the coarse strip followed the drag (still held)
    shown = panel.strip_view.rows()
    assert shown[0].name == "path (preview)" and len(np.unique(shown[0].frames, axis=0)) <= 16
    assert len(shown) == 4 and all(len(r) == 64 for r in shown)  # over the last full strip: the layout holds
    send_mouse(scatter, RELEASE, px(scatter, *end), buttons=Qt.MouseButton.NoButton)
    np.testing.assert_allclose(entry.path.vertex_array()[1], end, atol=2 * data_per_pixel(scatter))
    assert len(window.state.selection) == 0  # the box tool did not select
    wait_strip(qtbot, entry)
    assert previews[-1] is False and len(entry.strip.rows[0]) == 64
    assert not np.allclose(entry.lifted.z, before_z)
    assert not np.allclose(entry.strip.rows[0].frames, before_frames)
    # the ends kept their places, only the middle moved
    np.testing.assert_allclose(entry.path.vertex_array()[[0, 2]], [[-1.0, -0.5], [1.0, -0.5]])


def test_hovering_a_frame_and_playing_mark_the_path(window, qtbot):
    panel, scatter = window.context.interpolation, window.scatter
    entry = panel.add_path(LatentPath("p", [[-1.0, -0.5], [1.0, 0.5]], view=view_of(window)))
    wait_strip(qtbot, entry)
    strip = panel.strip_view
    window.raise_panel("paths")  # shown only in the Decode layout: raising shows it
    QApplication.processEvents()
    assert strip.frame_px() >= 4
    shown = strip.shown_frames(0)  # every k-th frame when the dock is narrow, always the first and the last
    assert shown[0] == 0 and shown[-1] == 63 and np.all(np.diff(shown)[:-1] == strip.stride)
    frame = int(shown[len(shown) // 3])
    qtbot.mouseMove(strip, strip.frame_rect(0, frame).center())
    qtbot.waitUntil(lambda: panel.overlay.highlight is not None, timeout=2000)
    assert strip.frame_at(strip.frame_rect(0, frame).center()) == (0, frame)
    np.testing.assert_allclose(marker_xy(scatter), entry.lifted.samples[frame], atol=1e-6)
    QApplication.sendEvent(strip, QEvent(QEvent.Type.Leave))  # the mouse leaves: the ring goes to the player's frame
    assert strip.hovered == (-1, -1) and panel.overlay.highlight is None
    player = panel.player
    player.show_frame(0)
    player.step()
    player.step()
    assert player.index == 2 and "3/64" in player.caption.text()
    np.testing.assert_allclose(marker_xy(scatter), entry.lifted.samples[2], atol=1e-6)
    player.set_playing(True)
    qtbot.waitUntil(lambda: player.index > 4, timeout=3000)
    player.set_playing(False)
    np.testing.assert_allclose(marker_xy(scatter), entry.lifted.samples[player.index], atol=1e-6)


def marker_xy(scatter) -> tuple[float, float]:
    return scatter.window().context.interpolation.overlay.highlight


def view_of(window) -> dict:
    view = window.state.view
    return {"kind": view.kind, "i": view.i, "j": view.j, "key": view.key}


def test_exports_png_gif_and_arrays(window, qtbot, tmp_path):
    panel = window.context.interpolation
    entry = panel.add_path(LatentPath("p", [[-1.0, -0.5], [0.3, 0.6], [1.0, 0.5]], view=view_of(window),
                                      steps=20, start_index=3, end_index=11))
    files = panel.files
    count = files.export_gif(tmp_path / "p.gif", entry)
    with Image.open(tmp_path / "p.gif") as im:
        assert im.n_frames == count == 2 * 20 - 2 and im.size == (8 * 4, 8 * 4)
    files.export_png(tmp_path / "p.png", entry)  # 20 frames at 16 per line: two blocks
    with Image.open(tmp_path / "p.png") as im:
        picture = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(picture, strip_image(entry.strip, scale=3, columns=16))
    files.export_png(tmp_path / "line.png", entry, columns=0)  # one line per row, as asked
    with Image.open(tmp_path / "line.png") as im:
        assert im.width > picture.shape[1] and im.height < picture.shape[0]
    files.export_npz(tmp_path / "p.npz", entry)
    with np.load(tmp_path / "p.npz") as data:
        np.testing.assert_allclose(data["z"], entry.lifted.z)
        np.testing.assert_allclose(data["vertices"], entry.path.vertex_array())
        assert data["samples"].shape == (20, 2) and data["z_linear"].shape == (20, 4)
        assert data["off_data_path"].shape == (20,)
    # the dialogs are one method: answering it drives the buttons
    files.ask_file = lambda save, title, filters, suggested="": tmp_path / "from-button"
    panel.buttons["gif"].click()
    assert (tmp_path / "from-button.gif").exists()
    files.ask_columns = lambda: 5
    files.ask_file = lambda save, title, filters, suggested="": tmp_path / "wrapped"
    panel.buttons["png"].click()
    with Image.open(tmp_path / "wrapped.png") as im:
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), strip_image(entry.strip, scale=3, columns=5))
    assert files.strip_columns == 5  # offered again next time
    files.ask_file = lambda save, title, filters, suggested="": tmp_path / "nowhere" / "x" / "p.png"
    (tmp_path / "nowhere").write_text("a file where a folder should be")
    panel.buttons["png"].click()
    assert window.last_error is not None and "cannot write" in str(window.last_error)


def test_json_round_trip_through_the_panel(window, qtbot, tmp_path):
    panel = window.context.interpolation
    entry = panel.add_path(LatentPath("filament", [[-1.0, -0.5], [0.0, 0.7], [1.0, 0.5]], view=view_of(window),
                                      steps=32, hold="mean", start_index=7))
    z = entry.lifted.z.copy()
    panel.files.save_json(tmp_path / "filament.json", entry)
    panel.clear()
    assert not panel.entries and not panel.overlay.shapes
    window.state.view = ViewSpec("raw", 1, 2)
    loaded = panel.files.load_json(tmp_path / "filament.json")
    assert window.state.view == ViewSpec("pca", 0, 1)  # recreated on the view it names
    assert loaded.path == entry.path
    np.testing.assert_allclose(loaded.lifted.z, z)
    assert panel.list.count() == 1 and panel.list.item(0).text() == "filament"
    assert panel.steps_spin.value() == 32 and panel.hold_combo.currentData() == "mean"
    # a path for a view this model lacks is refused with a message, and nothing changes
    bad = LatentPath("far", [[0, 0], [1, 1]], view={"kind": "raw", "i": 0, "j": 9})
    bad.save(tmp_path / "far.json")
    assert panel.files.load_json(tmp_path / "far.json") is None
    assert "raw z0/z9" in str(window.last_error) and len(panel.entries) == 1
    # rename, hide and delete through the list
    panel.rename(loaded, "ridge")
    assert loaded.path.name == "ridge"
    panel.set_visible(loaded, False)
    assert not panel.overlay.shapes
    panel.delete_path(loaded)
    assert not panel.entries and panel.list.count() == 0


def test_paths_are_kept_in_sessions(window, qtbot):
    parts = window.context.session_parts
    part = parts["paths"]
    panel = window.context.interpolation
    panel.add_path(LatentPath("a", [[-1.0, 0.0], [1.0, 0.0]], view=view_of(window)))
    panel.add_path(LatentPath("b", [[0.0, -1.0], [0.0, 1.0]], view={"kind": "raw", "i": 0, "j": 3}, hold="zero"))
    data, arrays = part.save()
    panel.clear()
    part.restore(data, arrays)
    assert [e.path.name for e in panel.entries] == ["a", "b"]
    assert panel.entries[1].path.hold == "zero" and panel.current().path.name == "b"
    assert all(e.lifted is not None for e in panel.entries)


def test_a_path_is_drawn_in_other_views_by_its_codes(window, qtbot):
    panel, state = window.context.interpolation, window.state
    entry = panel.add_path(LatentPath("p", [[-1.0, -0.5], [0.0, 0.7], [1.0, 0.5]], view=view_of(window)))
    z = entry.lifted.z
    state.view = ViewSpec("raw", 0, 2)
    (shape,) = panel.overlay.shapes
    assert shape.vertices is None and not shape.approximate
    np.testing.assert_allclose(shape.line, z[:, [0, 2]], atol=1e-6)
    state.view = ViewSpec("pca", 1, 2)
    (shape,) = panel.overlay.shapes
    np.testing.assert_allclose(shape.line, window.pca.plane(1, 2).transform(z), atol=1e-5)
    # a map: placed by the codes' nearest neighbours, drawn as an approximation
    latent = state.latent()
    coords = window.pca.transform(latent, 2)[:, ::-1] * 3.0
    window.view_controller.add_layout("map", coords)
    assert state.view.kind == "custom"
    (shape,) = panel.overlay.shapes
    assert shape.approximate
    np.testing.assert_allclose(shape.line, MapLayout(coords, latent, "map").transform(z), atol=1e-4)
    # back where it was drawn: editable again
    state.view = ViewSpec("pca", 0, 1)
    (shape,) = panel.overlay.shapes
    np.testing.assert_allclose(shape.vertices, entry.path.vertex_array())


def test_paths_on_a_tsne_map_lift_approximately_and_place_exactly_on_request(window, qtbot, wait_job):
    panel, state, controller = window.context.interpolation, window.state, window.view_controller
    drawn = panel.add_path(LatentPath("pca", [[-1.0, -0.5], [1.0, 0.5]], view=view_of(window), steps=12))
    latent = state.latent()
    coords = window.pca.transform(latent, 2) * 4.0 + np.sin(window.pca.transform(latent, 2)[:, ::-1])
    key = controller.add_layout("t-SNE test", coords, kind="tsne")
    assert state.view == ViewSpec("tsne", key=key)
    # drawn on the map: every z comes from the codes of nearby map points
    on_map = panel.add_path(LatentPath("map", [coords[0].tolist(), coords[40].tolist()], view=view_of(window),
                                       steps=10, start_index=0, end_index=40))
    assert not on_map.lifted.exact
    np.testing.assert_allclose(on_map.lifted.z[[0, -1]], latent[[0, 40]], atol=1e-5)
    shapes = {s.name: s for s in panel.overlay.shapes}
    assert shapes["pca"].approximate and shapes["map"].vertices is not None
    near = shapes["pca"].line.copy()
    panel.exact_box.setChecked(True)
    wait_job(window.runner, "path-placement", 60000)
    shapes = {s.name: s for s in panel.overlay.shapes}
    assert not shapes["pca"].approximate and shapes["pca"].line.shape == (12, 2)
    assert not np.allclose(shapes["pca"].line, near)
    assert drawn.exact[key][0] == drawn.revision
