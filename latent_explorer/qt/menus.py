"""The menu bar as named anchors: a feature adds its entries to a section ("file.session") by name.

Menus and their sections are declared here, in the order they appear; a feature never looks a menu up by
its title or inserts before another feature's entries. Entries of one section keep the order in which the
features add them, which is the order of the feature list. Empty sections take no room (Qt collapses the
separators between them).
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMenuBar, QWidget

# (menu title, sections in order); a section's anchor is "<menu>.<section>"
MENU_LAYOUT: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("file", "&File", ("open", "interpolation", "session", "export", "quit")),
    ("edit", "&Edit", ("undo", "selection", "settings")),
    ("demos", "&Demos", ("models",)),
    ("view", "&View", ("layout", "docks", "theme")),
    ("help", "&Help", ("shortcuts", "about")),
)
ANCHORS: tuple[str, ...] = tuple(f"{menu}.{section}" for menu, _, sections in MENU_LAYOUT for section in sections)


class MenuAnchors:
    """Builds the menu bar from `MENU_LAYOUT` and adds entries at named anchors."""

    def __init__(self, bar: QMenuBar, owner: QWidget):
        self.owner = owner
        self.menus: dict[str, QMenu] = {}
        self._ends: dict[str, QAction] = {}  # the separator that closes each section: entries go before it
        for key, title, sections in MENU_LAYOUT:
            menu = bar.addMenu(title)
            self.menus[key] = menu
            for section in sections:
                self._ends[f"{key}.{section}"] = menu.addSeparator()

    def menu(self, anchor: str) -> QMenu:
        """The menu that holds ``anchor``."""
        self._check(anchor)
        return self.menus[anchor.partition(".")[0]]

    def add_action(self, anchor: str, action: QAction) -> QAction:
        """Add ``action`` at the end of the section ``anchor``."""
        self.menu(anchor).insertAction(self._ends[anchor], action)
        return action

    def add(self, anchor: str, text: str, slot, shortcut=None) -> QAction:
        """A new action owned by the window, triggering ``slot``, at the end of the section ``anchor``."""
        action = QAction(text, self.owner)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        return self.add_action(anchor, action)

    def add_menu(self, anchor: str, title: str) -> QMenu:
        """A submenu at the end of the section ``anchor``."""
        parent = self.menu(anchor)
        submenu = QMenu(title, parent)
        parent.insertMenu(self._ends[anchor], submenu)
        return submenu

    def entries(self, anchor: str) -> list[QAction]:
        """The actions of one section, in order."""
        menu = self.menu(anchor)
        actions = menu.actions()
        end = actions.index(self._ends[anchor])
        start = end - 1
        while start >= 0 and actions[start] not in self._ends.values():
            start -= 1
        return actions[start + 1:end]

    def _check(self, anchor: str) -> None:
        if anchor not in self._ends:
            raise KeyError(f"no menu anchor {anchor!r}; the anchors are {', '.join(ANCHORS)}")
