"""The window's layouts fit common screens: no control clipped, every plot tall enough, the scatter largest.

The offscreen platform has no real screen, so each test sets the window's size itself; then it raises every
dock the layout shows, one tab at a time, and measures what a user would see.
"""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QSize
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QGraphicsView,
    QLabel,
    QLineEdit,
    QWidget,
)

from latent_explorer.qt.layouts import ANALYSE, DECODE, EXPLORE, LAYOUTS, shown_in

SIZES = (QSize(1366, 768), QSize(1600, 1000), QSize(1920, 1080))
MIN_PLOT_HEIGHT = 250
CONTROLS = (QAbstractButton, QLabel, QComboBox, QAbstractSpinBox, QLineEdit)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny conv VAE on digits (the decoder shows its sliders, the analysis panels their plots)."""
    from latent_explorer.core.datasets import load_digits
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models.checkpoint import TrainConfig
    from latent_explorer.core.models.training import iter_train

    out = tmp_path_factory.mktemp("ckpt") / "digits-vae"
    run_job(iter_train(TrainConfig(arch="conv-vae", z_dim=4, epochs=1, batch_size=64), load_digits(), out))
    return out


@pytest.fixture
def window(main_window, qtbot, checkpoint):
    main_window.show()
    qtbot.waitExposed(main_window)
    main_window.open_dataset("digits", then_model=str(checkpoint))
    qtbot.waitUntil(lambda: main_window.state.codes is not None, timeout=60000)
    return main_window


def settle(qtbot) -> None:
    for _ in range(5):
        QApplication.processEvents()
        qtbot.wait(20)


def shown(dock: QDockWidget) -> bool:
    """On screen: visible and not a tab behind another."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def inside_a_view(widget: QWidget, stop: QWidget) -> bool:
    """Editors and headers of tables and plots scroll with their view, and the line edit of a spin box or combo
    box is its owner's business: their own width is not the dock's."""
    parent = widget.parentWidget()
    while parent is not None and parent is not stop:
        if isinstance(parent, (QAbstractItemView, QGraphicsView, QAbstractSpinBox, QComboBox)):
            return True
        parent = parent.parentWidget()
    return False


def clipping_parent(widget: QWidget, stop: QWidget) -> QWidget:
    """The nearest viewport of a scroll area above ``widget`` (or ``stop``): what it is cut to."""
    parent = widget.parentWidget()
    while parent is not None and parent is not stop:
        area = parent.parentWidget()
        if isinstance(area, QAbstractScrollArea) and parent is area.viewport():
            return parent
        parent = parent.parentWidget()
    return stop


def problems_of(window, dock: QDockWidget) -> list[str]:
    """What is wrong with the dock as shown: clipped controls, plots too low, a panel that must scroll."""
    found = []
    scroll = dock.widget()
    panel = scroll.widget()
    if panel.height() > scroll.viewport().height() + 1:
        found.append(f"{dock.objectName()}: the panel needs {panel.height()} px, the dock shows "
                     f"{scroll.viewport().height()} (it scrolls)")
    for widget in panel.findChildren(QWidget):
        if not widget.isVisible() or inside_a_view(widget, panel):
            continue
        name = f"{dock.objectName()}: {type(widget).__name__} {getattr(widget, 'text', lambda: '')()!r}"
        if isinstance(widget, CONTROLS):
            need = widget.minimumSizeHint().width()
            if need > 0 and widget.width() < need:
                found.append(f"{name} is {widget.width()} px wide, needs {need}")
            clip = clipping_parent(widget, panel)
            left = widget.mapTo(clip, QPoint(0, 0)).x()
            if left < 0 or left + widget.width() > clip.width() + 1:
                found.append(f"{name} spans x {left}..{left + widget.width()} of {clip.width()} px")
        if isinstance(widget, pg.GraphicsView) and widget.height() < MIN_PLOT_HEIGHT:
            found.append(f"{name} plot is {widget.height()} px tall")
    return found


def check_layout(window, qtbot, key: str) -> list[str]:
    """Raise every dock the layout shows, one at a time, and collect what does not fit."""
    found = []
    names = [name for name, spec in window.layout_docks.specs.items() if shown_in(spec, key)]
    assert names, f"the layout {key} shows no dock"
    for name in names:
        window.raise_panel(name)
        settle(qtbot)
        dock = window.docks[name]
        assert shown(dock), f"{name} is not on screen in {key}"
        found += problems_of(window, dock)
    if window.scatter.height() < MIN_PLOT_HEIGHT:
        found.append(f"the scatter is {window.scatter.height()} px tall")
    return found


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s.width()}x{s.height()}")
def test_the_default_layout_fits_and_the_scatter_is_largest(window, qtbot, size):
    window.layout_docks.default_layout(size)
    settle(qtbot)
    assert window.size() == size
    assert window.layout_docks.current == EXPLORE
    areas = {name: dock.width() * dock.height() for name, dock in window.docks.items() if shown(dock)}
    scatter = window.scatter.width() * window.scatter.height()
    assert all(scatter > area for area in areas.values()), (scatter, areas)
    problems = check_layout(window, qtbot, EXPLORE)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("key", [DECODE, ANALYSE])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s.width()}x{s.height()}")
def test_each_named_layout_fits(window, qtbot, size, key):
    window.layout_docks.default_layout(size)
    window.apply_layout(key)
    settle(qtbot)
    assert window.size() == size and window.layout_docks.layout_actions[key].isChecked()
    shown_names = {name for name, dock in window.docks.items() if shown(dock)}
    expected = {name for name, spec in window.layout_docks.specs.items() if shown_in(spec, key)}
    assert shown_names <= expected  # no dock of another layout left on screen
    problems = check_layout(window, qtbot, key)
    assert not problems, "\n".join(problems)


def test_switching_back_to_explore_restores_its_docks(window, qtbot):
    window.layout_docks.default_layout(SIZES[1])
    for key in LAYOUTS:
        window.apply_layout(key)
        settle(qtbot)
    window.layout_docks.reset_action.trigger()
    settle(qtbot)
    visible = {name for name, dock in window.docks.items() if not dock.isHidden()}
    assert visible == {name for name, spec in window.layout_docks.specs.items() if shown_in(spec, EXPLORE)}
    assert window.layout_docks.layout_actions[EXPLORE].isChecked()


def test_the_decoder_keeps_its_width_and_scroll_position_while_its_texts_change(window, qtbot):
    """Its texts (meter, status) change on every click: neither the dock's width nor, where the screen is too
    low and the dock scrolls, its scroll position may follow them."""
    window.layout_docks.default_layout(QSize(1366, 560))
    settle(qtbot)
    decoder, scroll = window.panel("decoder"), window.docks["decoder"].widget()
    width = decoder.minimumSizeHint().width()
    assert scroll.verticalScrollBar().maximum() > 0  # this low, the decoder scrolls
    scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())
    position = scroll.verticalScrollBar().value()

    def tabs_y() -> int:  # where the decoder's tabs are on screen
        return decoder.tabs.mapTo(scroll.viewport(), QPoint(0, 0)).y()

    where = tabs_y()
    for score, status in ((0.41, "ready"), (17.5, "a much longer status line that wraps " * 4), (None, ""),
                          (123.0, "ready")):
        decoder.meter.set_score(score)
        decoder.status.setText(status)
        settle(qtbot)
        assert decoder.minimumSizeHint().width() == width
        assert scroll.verticalScrollBar().value() == position
        assert tabs_y() == where


def test_the_command_line_offers_every_named_layout():
    from latent_explorer.cli import build_parser

    gui = build_parser().parse_args(["gui", "--layout", "analyse"])
    assert gui.layout == "analyse"
    choices = next(a for a in build_parser()._subparsers._group_actions[0].choices["gui"]._actions
                   if a.dest == "layout").choices
    assert tuple(choices) == tuple(LAYOUTS)
