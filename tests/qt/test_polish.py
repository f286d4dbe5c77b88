"""Undo/redo of selection and view changes, light and dark themes, the shortcuts list, the window icon."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core.state import ViewSpec


@pytest.fixture
def window(main_window, qtbot, digits_vae):
    for dock in main_window.docks.values():
        dock.hide()
    main_window.show()
    main_window.open_dataset("digits", then_model=str(digits_vae))
    qtbot.waitUntil(lambda: main_window.state.codes is not None, timeout=60000)
    qtbot.waitUntil(lambda: not main_window.runner.is_running(), timeout=60000)
    return main_window


def test_undo_and_redo_selection_view_and_colouring(window, qtbot):
    state, stack = window.state, window.context.undo.stack
    assert stack.count() == 0  # loading is not undoable
    state.select([1, 2, 3])
    qtbot.wait(1)
    state.view = ViewSpec("raw", 0, 2)
    qtbot.wait(1)
    state.color_by = "label"
    state.hidden_classes = frozenset({4})
    qtbot.wait(1)
    state.color_by = "recon_error"  # resets the hidden classes in the same turn: one command
    qtbot.wait(1)
    assert [stack.text(i) for i in range(stack.count())] == [
        "Selection (3 points)", "View raw z0/z2", "Hidden Classes", "Colour by recon_error, Hidden Classes"]
    window.context.undo.undo_action.trigger()
    assert state.color_by == "label" and state.hidden_classes == frozenset({4})
    assert window.scatter.hidden_classes == {4}
    window.context.undo.undo_action.trigger()
    window.context.undo.undo_action.trigger()
    assert state.view == ViewSpec("pca", 0, 1)
    np.testing.assert_array_equal(window.scatter.selection, [1, 2, 3])
    window.context.undo.undo_action.trigger()
    assert state.selection.tolist() == []
    assert stack.count() == 4  # undoing pushed nothing
    window.context.undo.redo_action.trigger()
    window.context.undo.redo_action.trigger()
    assert state.selection.tolist() == [1, 2, 3] and state.view == ViewSpec("raw", 0, 2)
    state.select([9])  # a new change after undo drops the redo branch
    qtbot.wait(1)
    assert not stack.canRedo() and stack.count() == 3


def test_undo_shortcuts_and_history_cleared_by_a_new_encoding(window, qtbot):
    assert "Ctrl+Z" in [k.toString() for k in window.context.undo.undo_action.shortcuts()]
    assert "Ctrl+Shift+Z" in [k.toString() for k in window.context.undo.redo_action.shortcuts()]
    window.state.select([5])
    qtbot.wait(1)
    assert window.context.undo.stack.count() == 1
    window.state.codes = window.state.codes  # same object: no event
    codes = window.state.codes
    window.state.codes = None
    window.state.codes = codes
    assert window.context.undo.stack.count() == 0


def test_dark_theme_recolours_plots_and_is_remembered(window):
    import pyqtgraph as pg
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    switcher = window.context.theme
    style = QApplication.style().name()
    try:
        switcher.apply("dark")
        assert window.scatter.plot_widget.backgroundBrush().color().name() == "#1e1e1e"
        assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80
        axis = window.scatter.plot_item.getAxis("bottom")
        assert axis.pen().color().lightness() > 150
        assert window.settings.value("theme") == "dark" and switcher.actions["dark"].isChecked()
        assert pg.getConfigOption("background") == "#1e1e1e"
    finally:
        switcher.apply("light")
    assert window.scatter.plot_widget.backgroundBrush().color().name() == "#ffffff"
    assert pg.getConfigOption("background") == "#ffffff"
    assert QApplication.style().name() == style  # the light theme gives the platform's style back


def test_shortcuts_dialog_lists_every_shortcut_without_clashes(window, qtbot):
    from latent_explorer.qt.features.shortcuts.dialog import collect_shortcuts, duplicate_shortcuts

    rows = dict(collect_shortcuts(window))
    for action in ("Save Session", "Open Session", "Undo", "Redo", "Export Scatter Figure", "Copy Scatter Figure"):
        assert action in rows, action
    assert duplicate_shortcuts(window) == {}
    window.context.shortcuts.action.trigger()
    dialog = window.context.shortcuts.dialog
    assert dialog.isVisible() and dialog.table.rowCount() == len(rows)
    listed = {dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())}
    assert listed == set(rows)
    dialog.close()


def test_window_has_the_application_icon(window):
    assert not window.windowIcon().isNull()
    assert window.windowIcon().pixmap(32, 32).width() == 32
