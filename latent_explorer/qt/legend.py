"""The class legend beside the scatter: click a class's name to select its points (Shift/Ctrl-click adds them),
click its swatch to hide or show it, double-click (or Alt-click) to show only that class, and again to show every
class."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListWidget, QListWidgetItem

SWATCH = 12
HIDDEN_TEXT = QColor(160, 160, 160)
ISOLATE_MODIFIERS = Qt.KeyboardModifier.AltModifier
ADD_MODIFIERS = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier
SWATCH_HIT = SWATCH + 8  # a press this close to a row's left edge is on its swatch (the icon and its margin)
TOOLTIP = ("Click a name: select that class (Shift/Ctrl-click: add it to the selection)\n"
           "Click the swatch: hide or show the class\n"
           "Double-click or Alt-click: show only that class; again: show every class")

MIN_WIDTH, MAX_WIDTH = 90, 170  # pixels


def swatch_icon(rgb: tuple[int, int, int], hidden: bool) -> QIcon:
    """A filled square in the class colour, or an empty outline when the class is hidden."""
    pixmap = QPixmap(SWATCH, SWATCH)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    color = QColor(*rgb)
    painter.setPen(QPen(color, 2))
    painter.setBrush(Qt.BrushStyle.NoBrush if hidden else QBrush(color))
    painter.drawRect(1, 1, SWATCH - 3, SWATCH - 3)
    painter.end()
    return QIcon(pixmap)


class ClassLegend(QListWidget):
    """One row per class (colour, name, count).

    Emits the new hidden set after every user toggle, and the classes to select (with "replace" or "add")
    after a click on a name.
    """

    sigHiddenChanged = Signal(object)  # set[int]
    sigSelectClasses = Signal(object, str)  # set[int] of class ids, "replace" | "add"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setIconSize(QSize(SWATCH, SWATCH))
        self.setUniformItemSizes(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setToolTip(TOOLTIP)
        self._colors: list[tuple[int, int, int]] = []
        self._hidden: set[int] = set()
        self._last_press: tuple[int, float, set[int]] | None = None  # row, time, hidden set before it

    @property
    def hidden(self) -> set[int]:
        return set(self._hidden)

    def set_classes(self, names: list[str], colors: np.ndarray, counts: np.ndarray | None = None) -> None:
        """Fill the rows; classes beyond the colour list are not listed."""
        self.clear()
        self._colors = [tuple(int(v) for v in c) for c in np.asarray(colors)[:len(names)]]
        for i, name in enumerate(names[:len(self._colors)]):
            text = name if counts is None else f"{name}  ({int(counts[i]):,})"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setToolTip(f"{text}\n\n{TOOLTIP}")
            self.addItem(item)
        self._hidden = {h for h in self._hidden if h < self.count()}
        self._restyle()
        self._fit_width()

    def _fit_width(self) -> None:
        """As wide as the longest row, but never more than MAX_WIDTH: on a laptop screen the plot needs the room
        more than a long class name does (it is elided; its row's tooltip has it whole)."""
        rows = self.sizeHintForColumn(0) if self.count() else 0
        scrollbar = self.verticalScrollBar().sizeHint().width()
        self.setFixedWidth(max(MIN_WIDTH, min(MAX_WIDTH, rows + 2 * self.frameWidth() + scrollbar)))

    def set_hidden(self, hidden: set[int]) -> None:
        """Show a hidden set decided elsewhere (no signal)."""
        self._hidden = {int(h) for h in hidden}
        self._restyle()

    def _restyle(self) -> None:
        for row in range(self.count()):
            item = self.item(row)
            hidden = row in self._hidden
            item.setIcon(swatch_icon(self._colors[row], hidden))
            item.setForeground(HIDDEN_TEXT if hidden else self.palette().text().color())

    def _apply(self, hidden: set[int]) -> None:
        if hidden != self._hidden:
            self._hidden = hidden
            self._restyle()
            self.sigHiddenChanged.emit(set(hidden))

    def toggle(self, row: int) -> None:
        self._apply(self._hidden ^ {row})

    def isolate(self, row: int, base: set[int] | None = None) -> None:
        """Show only ``row``; if it already was the only one shown, show all."""
        base = self._hidden if base is None else base
        everyone = set(range(self.count()))
        alone = everyone - {row}
        self._apply(set() if base == alone else alone)

    def select_class(self, row: int, add: bool = False) -> None:
        self.sigSelectClasses.emit({row}, "add" if add else "replace")

    def swatch_point(self, row: int) -> QPoint:
        """The centre of a row's swatch in viewport coordinates: a click there hides or shows the class."""
        rect = self.visualItemRect(self.item(row))
        return QPoint(rect.left() + SWATCH_HIT // 2, rect.center().y())

    def _on_swatch(self, row: int, x: int) -> bool:
        return x - self.visualItemRect(self.item(row)).left() < SWATCH_HIT

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt name
        point = event.position().toPoint()
        item = self.itemAt(point)
        if item is None or event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        row = self.row(item)
        self._last_press = (row, time.monotonic(), set(self._hidden))
        if event.modifiers() & ISOLATE_MODIFIERS:
            self.isolate(row)
        elif self._on_swatch(row, point.x()):
            self.toggle(row)
        else:
            self.select_class(row, add=bool(event.modifiers() & ADD_MODIFIERS))
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt name
        item = self.itemAt(event.position().toPoint())
        if item is None or event.button() != Qt.MouseButton.LeftButton:
            super().mouseDoubleClickEvent(event)
            return
        row = self.row(item)
        base = None
        if self._last_press is not None:
            # the first click of the pair already toggled the row: isolate relative to the state before it
            pressed_row, pressed_at, before = self._last_press
            if pressed_row == row and time.monotonic() - pressed_at < QApplication.doubleClickInterval() / 1000:
                base = before
        self._last_press = None
        self.isolate(row, base=base)
        event.accept()
