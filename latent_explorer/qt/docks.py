"""The window's docks, made from the features' `DockSpec`s: one tab group per area, arranged by named layouts.

Every area (left, right, bottom) holds one tab group, so that each panel gets the whole height or width of
its area instead of a slice of it; the named layouts of `qt/layouts.py` say which docks are shown and how much
room each area takes. The left and right areas own the window's corners, so they run the full height and the
bottom area sits under the scatter.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QTabWidget, QWidget

from latent_explorer.qt.feature import BOTTOM, LEFT, RIGHT, DockSpec
from latent_explorer.qt.layouts import DEFAULT_LAYOUT, LAYOUTS, shown_in
from latent_explorer.qt.menus import MenuAnchors

HEADLESS_PLATFORMS = ("offscreen", "minimal")  # no window manager: a maximised window would ignore resize()
LEAST_SCROLL_HEIGHT = 160  # below the panel's own height a dock scrolls vertically, down to this


class DockScroll(QScrollArea):
    """A dock's panel, scrolled vertically only where the screen is smaller than the panel needs.

    It never scrolls or clips sideways: its minimum width is the panel's (plus room for the vertical bar), so
    the dock is never narrower than its controls. At the window sizes the layouts are made for, the panel fits
    and nothing scrolls (tests/qt/test_layout_fit.py checks it).
    """

    def __init__(self, widget: QWidget):
        super().__init__()
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(widget)  # not "widget resizable": that sizes a panel with a wrapped label to its
        # preferred height for the width, so the dock scrolls (and jumps whenever the label's text changes)

    def fit(self) -> None:
        """The panel takes the viewport's width, and its height unless it needs more (then it scrolls)."""
        widget, viewport = self.widget(), self.viewport().size()
        widget.resize(viewport.width(), max(viewport.height(), widget.minimumSizeHint().height()))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self.fit()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.fit()
            self.updateGeometry()  # the panel's minimum width may have changed: so does the dock's
        return super().eventFilter(watched, event)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt name
        inner = self.widget().minimumSizeHint()
        return QSize(inner.width() + self.verticalScrollBar().sizeHint().width(),
                     min(inner.height(), LEAST_SCROLL_HEIGHT))

    def sizeHint(self) -> QSize:  # noqa: N802
        inner = self.widget().sizeHint()
        return QSize(max(inner.width(), self.minimumSizeHint().width()), inner.height())


class WindowDocks:
    """The docks by name, their tab groups, and the named layouts (View ▸ Layout)."""

    def __init__(self, window: QMainWindow, menus: MenuAnchors):
        self.window, self.menus = window, menus
        self.docks: dict[str, QDockWidget] = {}
        self.specs: dict[str, DockSpec] = {}
        self.current = DEFAULT_LAYOUT
        for corner, area in ((Qt.Corner.TopLeftCorner, LEFT), (Qt.Corner.BottomLeftCorner, LEFT),
                             (Qt.Corner.TopRightCorner, RIGHT), (Qt.Corner.BottomRightCorner, RIGHT)):
            window.setCorner(corner, area)
        window.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
        self.layout_menu = menus.add_menu("view.layout", "&Layout")
        self.layout_actions: dict[str, QAction] = {}
        group = QActionGroup(window)
        for key, layout in LAYOUTS.items():
            action = QAction(layout.title, window, checkable=True)
            action.setStatusTip(layout.tip)
            action.triggered.connect(lambda _checked=False, k=key: self.apply_layout(k))
            group.addAction(action)
            self.layout_menu.addAction(action)
            self.layout_actions[key] = action
        self.layout_menu.addSeparator()
        self.reset_action = self.layout_menu.addAction("&Reset Layout", lambda: self.default_layout())
        self.reset_action.setStatusTip("Fill the screen with the Explore layout at its default sizes")
        self.layout_actions[self.current].setChecked(True)

    def add(self, spec: DockSpec, widget: QWidget) -> QDockWidget:
        """Dock ``widget`` in the tab group of its area (docks are added in area and order)."""
        dock = QDockWidget(spec.title, self.window)
        dock.setObjectName(spec.name)
        dock.setWidget(DockScroll(widget))
        self.window.addDockWidget(spec.area, dock)
        group = [self.docks[name] for name, other in self.specs.items() if other.area == spec.area]
        if group:
            self.window.tabifyDockWidget(group[0], dock)
        dock.setVisible(shown_in(spec, self.current))
        self.menus.add_action("view.docks", dock.toggleViewAction())
        self.docks[spec.name] = dock
        self.specs[spec.name] = spec
        return dock

    def dock(self, name: str) -> QDockWidget | None:
        return self.docks.get(name)

    def widget(self, name: str) -> QWidget:
        """The widget of a dock (the dock holds it inside a `DockScroll`)."""
        return self.docks[name].widget().widget()

    def raise_dock(self, name: str) -> None:
        """Show a dock and bring its tab to the front."""
        dock = self.docks.get(name)
        if dock is not None:
            dock.setVisible(True)
            dock.raise_()

    # ------------------------------------------------------------------ named layouts
    def restored(self, key: str) -> None:
        """The window restored a saved arrangement, last switched to the named layout ``key``."""
        if key in LAYOUTS:
            self.current = key
            self.layout_actions[key].setChecked(True)

    def default_layout(self, size: QSize | None = None) -> None:
        """Fill the screen (or ``size``, where there is no real screen) with the default layout."""
        window = self.window
        if size is None:
            self._fill_screen()
            if QGuiApplication.platformName() not in HEADLESS_PLATFORMS:
                # again once shown: a window not yet shown may have been grown past the screen to the panels'
                # sizes before they were polished, and keeps that width otherwise (a headless screen is no
                # real screen: there the caller's own resize stands)
                QTimer.singleShot(0, window, self._fill_screen)
        else:
            window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMaximized)
            window.resize(size)
        self.apply_layout(DEFAULT_LAYOUT)

    def _fill_screen(self) -> None:
        window, screen = self.window, self.window.screen()
        if screen is None:
            return
        available = screen.availableGeometry()
        if window.frameGeometry() != available:
            window.move(available.topLeft())
            window.resize(available.size())
        if QGuiApplication.platformName() not in HEADLESS_PLATFORMS:  # a window manager fits the frame
            window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)

    def apply_layout(self, key: str) -> None:
        """Arrange the docks as the named layout ``key`` says: every dock back in its area's tab group, the
        layout's docks shown (the first of each group in front), the others hidden, each area at its share."""
        if key not in LAYOUTS:
            raise KeyError(f"no layout {key!r}; the layouts are {', '.join(LAYOUTS)}")
        window = self.window
        self.current = key
        self.layout_actions[key].setChecked(True)
        for area in (LEFT, RIGHT, BOTTOM):
            names = sorted((name for name, spec in self.specs.items() if spec.area == area),
                           key=lambda name: self.specs[name].order)
            for name in names:
                dock = self.docks[name]
                dock.setFloating(False)
                if window.dockWidgetArea(dock) != area:
                    window.addDockWidget(area, dock)
            for name in names[1:]:
                window.tabifyDockWidget(self.docks[names[0]], self.docks[name])
            shown = [name for name in names if shown_in(self.specs[name], key)]
            for name in names:
                self.docks[name].setVisible(name in shown)
            if shown:
                self.docks[shown[0]].raise_()
        QTimer.singleShot(0, window, lambda: self._size_areas(key))  # sizes take once the docks are laid out
        self._size_areas(key)

    def _size_areas(self, key: str) -> None:
        window, layout = self.window, LAYOUTS[key]
        for area, share in layout.shares.items():
            front = [dock for name, dock in self.docks.items()
                     if self.specs[name].area == area and not dock.isHidden() and not dock.isFloating()]
            if not front:
                continue
            horizontal = area != BOTTOM
            extent = window.width() if horizontal else window.height()
            need = max((d.minimumSizeHint().width() if horizontal else d.minimumSizeHint().height())
                       for d in front)
            orientation = Qt.Orientation.Horizontal if horizontal else Qt.Orientation.Vertical
            window.resizeDocks(front[:1], [max(need, share.pixels(extent))], orientation)
