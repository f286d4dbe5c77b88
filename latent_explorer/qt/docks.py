"""The window's docks, made from the features' `DockSpec`s: placed by area and order, tabbed per side."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QMenu, QScrollArea, QWidget

from latent_explorer.qt.feature import LEFT, DockSpec


class WindowDocks:
    """Right and bottom docks share one tab group per side, so that a dozen of them fit on a laptop screen;
    the left side (loading and view choice) stays stacked. The first dock of each group is raised."""

    def __init__(self, window: QMainWindow, view_menu: QMenu):
        self.window, self.view_menu = window, view_menu
        self.docks: dict[str, QDockWidget] = {}
        self._tab_groups: dict[Qt.DockWidgetArea, QDockWidget] = {}

    def add(self, spec: DockSpec, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(spec.title, self.window)
        dock.setObjectName(spec.name)
        scroller = QScrollArea()  # a tall panel scrolls instead of forcing the window past the screen
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setWidget(widget)
        dock.setWidget(scroller)
        self.window.addDockWidget(spec.area, dock)
        first = self._tab_groups.get(spec.area)
        if first is None:
            if spec.area != LEFT:
                self._tab_groups[spec.area] = dock
        else:
            self.window.tabifyDockWidget(first, dock)
        dock.setVisible(spec.visible)
        self.view_menu.addAction(dock.toggleViewAction())
        self.docks[spec.name] = dock
        return dock

    def dock(self, name: str) -> QDockWidget | None:
        return self.docks.get(name)

    def widget(self, name: str) -> QWidget:
        """The widget of a dock (the dock holds it inside a scroll area)."""
        return self.docks[name].widget().widget()

    def raise_dock(self, name: str) -> None:
        """Show a dock and bring its tab to the front."""
        dock = self.docks.get(name)
        if dock is not None:
            dock.setVisible(True)
            dock.raise_()

    def default_layout(self) -> None:
        """Fit the screen, raise the first tab of each group and give the scatter most of the room."""
        window = self.window
        screen = window.screen().availableGeometry() if window.screen() is not None else None
        if screen is not None:
            window.resize(min(1500, screen.width()), min(950, screen.height()))
        for dock in self._tab_groups.values():
            dock.raise_()
        QTimer.singleShot(0, window, self._default_sizes)  # dock sizes only take once the window is laid out

    def _default_sizes(self) -> None:
        window = self.window
        by_area: dict[Qt.DockWidgetArea, list[QDockWidget]] = {}
        for dock in self.docks.values():
            by_area.setdefault(window.dockWidgetArea(dock), []).append(dock)
        for area, size, orientation in ((Qt.DockWidgetArea.RightDockWidgetArea, 540, Qt.Orientation.Horizontal),
                                        (Qt.DockWidgetArea.LeftDockWidgetArea, 270, Qt.Orientation.Horizontal),
                                        (Qt.DockWidgetArea.BottomDockWidgetArea, 290, Qt.Orientation.Vertical)):
            if by_area.get(area):
                window.resizeDocks(by_area[area][:1], [size], orientation)
