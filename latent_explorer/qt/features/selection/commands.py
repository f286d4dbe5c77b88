"""Selection commands of the window: they read and write ``state.selection`` and nothing else.

Edit ▸ Select All (Ctrl+A), Clear Selection (Esc), Invert Selection (Ctrl+I) and Find… (Ctrl+F, the search field
above the scatter); a click on a legend name selects that class; the status bar always says how many samples are
selected. "All" and "invert" leave out the classes hidden in the legend, whose points cannot be seen.

Esc is not an action shortcut: the interpolation feature binds Esc while a path is drawn, and two shortcuts on
one key cancel each other in Qt. Esc that no widget used reaches the window and clears the selection here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow

from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.selection import class_members, invert, parse_query, visible_indices
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.features.selection.search import SearchField


class SelectionCommands(QObject):
    """The Edit menu's selection entries, the legend's class selection, the search field and the count."""

    def __init__(self, context: FeatureContext):
        super().__init__(context.parent)
        self.context = context
        self.state = context.state
        self.count_label = QLabel()
        self.count_label.setToolTip("Selected samples. Edit ▸ Select All (Ctrl+A), Clear (Esc), Invert (Ctrl+I), "
                                    "Find… (Ctrl+F); click a class in the legend to select it")
        if isinstance(context.parent, QMainWindow):
            context.parent.statusBar().addPermanentWidget(self.count_label)
        self.search = SearchField()
        context.scatter.toolbar.addSeparator()
        context.scatter.toolbar.addWidget(self.search)
        self.search.sigSearch.connect(self.find)
        context.scatter.legend.sigSelectClasses.connect(self.select_classes)
        menus = context.menus
        self.select_all_action = menus.add("edit.selection", "Select &All", self.select_all,
                                           QKeySequence.StandardKey.SelectAll)
        self.clear_action = menus.add("edit.selection", "&Clear Selection\tEsc", self.clear)
        self.invert_action = menus.add("edit.selection", "&Invert Selection", self.invert, QKeySequence("Ctrl+I"))
        self.find_action = menus.add("edit.selection", "&Find…", self.search.focus, QKeySequence.StandardKey.Find)
        context.parent.installEventFilter(self)
        for event in (self.state.events.selection, self.state.events.codes):
            event.connect(self.refresh_count)
        self.refresh_count()

    # ------------------------------------------------------------------ what is selectable
    def _size(self) -> int:
        return len(self.state.codes) if self.state.codes is not None else 0

    def _categories(self) -> tuple[np.ndarray, list[str]] | None:
        """Class ids and names of the colouring the legend shows (labels, or clusters)."""
        return self.context.view.categories(self.state.color_by)

    def _hidden(self) -> tuple[np.ndarray | None, frozenset[int]]:
        categories = self._categories()
        hidden = self.state.hidden_classes
        return (categories[0] if categories is not None else None), (hidden if categories is not None else frozenset())

    # ------------------------------------------------------------------ commands
    def select_all(self) -> None:
        labels, hidden = self._hidden()
        self.state.select(visible_indices(self._size(), labels, hidden))

    def clear(self) -> None:
        self.state.clear_selection()

    def invert(self) -> None:
        labels, hidden = self._hidden()
        self.state.select(invert(self.state.selection, self._size(), labels, hidden))

    def select_classes(self, classes: Any, mode: str = "replace") -> None:
        """The samples of the legend's classes ``classes`` (ids of the current colouring)."""
        categories = self._categories()
        if categories is None or self._size() == 0:
            self.context.errors.say("the current colouring has no classes to select")
            return
        labels, names = categories
        picked = class_members(labels[:self._size()], classes)
        self.state.select(picked, mode=mode)
        named = ", ".join(names[c] if c < len(names) else str(c) for c in sorted(classes))
        self.context.errors.say(f"{'added' if mode == 'add' else 'selected'} {named}: {len(picked):,} samples")

    def find(self, text: str, add: bool = False) -> int | None:
        """Select what the query names; returns how many samples matched (None when it could not be read)."""
        dataset, labels = self.state.dataset, self.context.view.labels()
        try:
            result = parse_query(text, self._size(), labels[0] if labels else None, labels[1] if labels else None,
                                 dataset.sample_names if dataset is not None else None)
        except LatentExplorerError as exc:
            message = exc.message + (f" — {exc.hint}" if exc.hint else "")
            self.search.show_result(False, message)
            self.context.errors.say(f"find: {message}")
            return None
        if len(result.indices):
            self.state.select(result.indices, mode="add" if add else "replace")
        summary = result.summary()
        self.search.show_result(len(result.indices) > 0, summary)
        self.context.errors.say(summary)
        return len(result.indices)

    # ------------------------------------------------------------------ feedback
    def refresh_count(self, *_: Any) -> None:
        n, total = len(self.state.selection), self._size()
        self.count_label.setText(f"{n:,} selected" + (f" of {total:,}" if total else ""))
        self.clear_action.setEnabled(n > 0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if (event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape
                and event.modifiers() == Qt.KeyboardModifier.NoModifier and len(self.state.selection)):
            self.clear()
            return True
        return False
