"""View ▸ Theme: light and dark. A theme is a Qt palette plus pyqtgraph's background and foreground.

pyqtgraph's defaults apply to plots created later; plots that exist already are recoloured in place (view
backgrounds, axes, titles). The choice is kept in the settings. The window also gets the application icon here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from latent_explorer.qt.context import FeatureContext
from latent_explorer.resource_files import resource_path


@dataclass(frozen=True)
class Theme:
    name: str
    title: str
    background: str  # plots
    foreground: str  # axes and text of plots
    window: str
    base: str
    text: str
    button: str
    highlight: str


THEMES = {
    "light": Theme("light", "&Light", "#ffffff", "#000000", "#efefef", "#ffffff", "#000000", "#efefef", "#308cc6"),
    "dark": Theme("dark", "&Dark", "#1e1e1e", "#d0d0d0", "#2d2d2d", "#232323", "#e6e6e6", "#353535", "#2f6ea5"),
}
DEFAULT_THEME = "light"


def icon_path() -> Path:
    return resource_path("icons", "latent-explorer.svg")


def palette_for(theme: Theme) -> QPalette:
    palette = QPalette()
    role = QPalette.ColorRole
    colours = {
        role.Window: theme.window, role.WindowText: theme.text, role.Base: theme.base,
        role.AlternateBase: theme.window, role.ToolTipBase: theme.base, role.ToolTipText: theme.text,
        role.Text: theme.text, role.Button: theme.button, role.ButtonText: theme.text,
        role.BrightText: "#ff5555", role.Highlight: theme.highlight, role.HighlightedText: "#ffffff",
        role.PlaceholderText: "#808080", role.Link: theme.highlight,
    }
    for which, colour in colours.items():
        palette.setColor(which, QColor(colour))
    for which in (role.Text, role.WindowText, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, which, QColor("#7f7f7f"))
    return palette


def recolour_plots(root, theme: Theme) -> None:
    """Apply the theme's background and foreground to every pyqtgraph view under ``root``."""
    foreground = pg.mkColor(theme.foreground)
    for view in root.findChildren(pg.GraphicsView):
        view.setBackground(theme.background)
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                item.setPen(foreground)
                item.setTextPen(foreground)
            elif isinstance(item, pg.LabelItem):
                item.opts["color"] = foreground
                item.setText(item.text)


class ThemeSwitcher:
    """View ▸ Theme, and applying a theme to the application and every plot under the window."""

    def __init__(self, context: FeatureContext):
        self.context = context
        window = context.parent
        self.current = ""
        self.native_style = QApplication.instance().style().name()  # what the light theme goes back to
        menu = context.menus.add_menu("view.theme", "&Theme")
        group = QActionGroup(window)
        group.setExclusive(True)
        self.actions: dict[str, QAction] = {}
        for name, theme in THEMES.items():
            action = QAction(theme.title, window, checkable=True)
            action.triggered.connect(lambda checked=False, n=name: self.apply(n))
            group.addAction(action)
            menu.addAction(action)
            self.actions[name] = action
        self.menu = menu

    def apply(self, name: str) -> None:
        theme = THEMES.get(name, THEMES[DEFAULT_THEME])
        app = QApplication.instance()
        if theme.name == "dark" and app.style().name().lower() != "fusion":
            app.setStyle("Fusion")  # the native styles of some platforms ignore a dark palette
        elif theme.name == DEFAULT_THEME and app.style().name().lower() != self.native_style.lower():
            app.setStyle(self.native_style)
        app.setPalette(palette_for(theme) if theme.name != DEFAULT_THEME else app.style().standardPalette())
        pg.setConfigOptions(background=theme.background, foreground=theme.foreground)
        recolour_plots(self.context.parent, theme)
        self.actions[theme.name].setChecked(True)
        self.context.settings.setValue("theme", theme.name)
        self.current = theme.name


def install(context: FeatureContext) -> ThemeSwitcher:
    """The application icon, View ▸ Theme (``context.theme``), and the theme saved last time."""
    icon = QIcon(str(icon_path()))
    context.parent.setWindowIcon(icon)
    app = QApplication.instance()
    if app is not None and app.windowIcon().isNull():
        app.setWindowIcon(icon)
    switcher = ThemeSwitcher(context)
    context.theme = switcher
    saved = str(context.settings.value("theme", DEFAULT_THEME) or DEFAULT_THEME)
    if saved != DEFAULT_THEME:
        switcher.apply(saved)
    else:
        switcher.actions[DEFAULT_THEME].setChecked(True)
        switcher.current = DEFAULT_THEME
    return switcher
