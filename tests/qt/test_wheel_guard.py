"""The wheel over a setting changes it only when the setting has focus; otherwise the area around scrolls."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider

from latent_explorer.qt.wheel_guard import install_wheel_guard, is_guarded


def wheel(widget: QWidget, notches: int = -1) -> None:
    """One wheel turn over the middle of ``widget`` (negative: towards the user, i.e. scroll down)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(widget.rect().center())), QPoint(0, 0),
                        QPoint(0, 120 * notches), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


@pytest.fixture
def settings_page(qtbot):
    """A scroll area, taller inside than its viewport, holding one of each guarded kind of widget."""
    from latent_explorer.qt.app import make_application

    install_wheel_guard(make_application())
    area = QScrollArea()
    page = QWidget()
    layout = QVBoxLayout(page)
    combo = QComboBox()
    combo.addItems(["PCA", "t-SNE", "UMAP"])
    combo.setCurrentIndex(1)
    spin, double = QSpinBox(), QDoubleSpinBox()
    spin.setValue(50)
    double.setValue(30.0)
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 100)
    slider.setValue(50)
    labelled = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
    labelled.setRange(0.0, 10.0)
    labelled.setValue(5.0)
    for widget in (combo, spin, double, slider, labelled):
        layout.addWidget(widget)
    layout.addSpacing(2000)
    area.setWidget(page)
    area.resize(300, 200)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    area.activateWindow()
    qtbot.waitUntil(area.isActiveWindow, timeout=5000)
    area.setFocus()  # activating the window focused its first setting: none has focus to begin with
    qtbot.waitUntil(lambda: QApplication.focusWidget() is area, timeout=2000)
    return area, {"combo": combo, "spin": spin, "double": double, "slider": slider, "labelled": labelled}


def values(widgets) -> dict[str, float]:
    return {"combo": widgets["combo"].currentIndex(), "spin": widgets["spin"].value(),
            "double": widgets["double"].value(), "slider": widgets["slider"].value(),
            "labelled": widgets["labelled"].value()}


@pytest.mark.parametrize("name", ["combo", "spin", "double", "slider", "labelled"])
def test_the_wheel_over_an_unfocused_setting_scrolls_instead(settings_page, qtbot, name):
    area, widgets = settings_page
    target = widgets[name]
    if name == "labelled":  # the wheel lands on the slider inside the labelled slider
        target = next(child for child in target.findChildren(QSlider))
    before = values(widgets)
    assert QApplication.focusWidget() is area
    wheel(target)
    assert values(widgets) == before
    assert area.verticalScrollBar().value() > 0  # the page scrolled instead
    parts = [widgets[name], *widgets[name].findChildren(QWidget)]
    assert all(part.focusPolicy() != Qt.FocusPolicy.WheelFocus for part in parts if is_guarded(part))


@pytest.mark.parametrize("name", ["combo", "spin", "double", "slider"])
def test_the_wheel_over_a_focused_setting_changes_it(settings_page, qtbot, name):
    area, widgets = settings_page
    widgets[name].setFocus()
    qtbot.waitUntil(widgets[name].hasFocus, timeout=2000)
    before = values(widgets)
    wheel(widgets[name], notches=1)
    after = values(widgets)
    assert after[name] != before[name]
    assert {k: v for k, v in after.items() if k != name} == {k: v for k, v in before.items() if k != name}
    assert area.verticalScrollBar().value() == 0


def test_the_window_installs_the_guard_once(main_window, qtbot):
    app = QApplication.instance()
    guard = install_wheel_guard(app)
    assert install_wheel_guard(app) is guard
    main_window.show()
    main_window.raise_panel("view")
    combo = main_window.panel("view").view_combo
    qtbot.waitUntil(combo.isVisible, timeout=2000)
    assert combo.focusPolicy() == Qt.FocusPolicy.StrongFocus  # polished by the window's guard
