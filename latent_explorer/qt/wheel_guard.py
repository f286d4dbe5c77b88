"""The wheel scrolls, it does not change settings: combo boxes, spin boxes and sliders take the wheel only
while they have the keyboard focus (clicked or tabbed to); otherwise it scrolls the area they sit in.

One event filter on the application covers every such widget, present and future, so no panel has to
remember it. The widgets lose Qt's ``WheelFocus`` (where the wheel itself would give them focus and so a
value change) for ``StrongFocus``.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QScrollBar,
    QWidget,
)

GUARDED = (QComboBox, QAbstractSpinBox, QAbstractSlider)


def is_guarded(widget: QObject) -> bool:
    """A widget whose value the wheel would change (scroll bars are what the wheel is for)."""
    return isinstance(widget, GUARDED) and not isinstance(widget, QScrollBar)


def scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    """The nearest scroll area around ``widget`` (one whose viewport holds it)."""
    parent = widget.parentWidget()
    while parent is not None:
        area = parent.parentWidget()
        if isinstance(area, QAbstractScrollArea) and parent is area.viewport():
            return area
        parent = parent.parentWidget()
    return None


def has_focus_within(widget: QWidget) -> bool:
    """The widget or a part of it (the line edit of a spin box, the slider of a labelled slider) has focus."""
    focus = QApplication.focusWidget()
    return focus is not None and (focus is widget or widget.isAncestorOf(focus))


def owner_of(widget: QWidget) -> QWidget:
    """The outermost guarded widget that ``widget`` is part of (a labelled slider holds a slider and a spin box)."""
    while is_guarded(widget.parentWidget()):
        widget = widget.parentWidget()
    return widget


class WheelGuard(QObject):
    """The application-wide event filter; see the module's docstring."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        kind = event.type()
        if kind == QEvent.Type.Polish and is_guarded(watched):
            if watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            return False
        if kind != QEvent.Type.Wheel or not is_guarded(watched):
            return False
        owner = owner_of(watched)
        if has_focus_within(owner):
            return False
        area = scroll_area_of(owner)
        if area is not None:
            QCoreApplication.sendEvent(area.viewport(), event)  # scroll instead
        event.accept()
        return True


def install_wheel_guard(app: QCoreApplication) -> WheelGuard:
    """Install the guard on ``app`` once (a second call returns the first guard)."""
    guard = getattr(app, "_wheel_guard", None)
    if guard is None:
        guard = WheelGuard(app)
        app.installEventFilter(guard)
        app._wheel_guard = guard
    return guard
