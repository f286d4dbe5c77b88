"""Undo and redo of what the user looks at: the selection, the view, the colouring, hidden classes, z or μ.

The undo stack observes the state rather than every widget: whatever changes these fields (a lasso, the view
panel, arrow keys, a legend click) becomes one command. Changes made within one turn of the event loop form a
single command, so a change of colouring and the reset of hidden classes it causes undo together. While a
command is applied, the observer is muted, so undo never pushes anything itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QKeySequence, QUndoCommand, QUndoStack

from latent_explorer.qt.context import FeatureContext

TRACKED = ("use_mu", "view", "color_by", "hidden_classes", "selection")  # the order they are applied in
UNDO_LIMIT = 200


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    return a == b


def describe(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Menu text of a command: "Undo Selection (12 points)", "Undo View PCA 1/3", ..."""
    parts = []
    for name in TRACKED:
        if name not in after:
            continue
        value = after[name]
        if name == "selection":
            parts.append(f"Selection ({len(value):,} points)" if len(value) else "Clear Selection")
        elif name == "view":
            parts.append(f"View {value.label()}")
        elif name == "color_by":
            parts.append(f"Colour by {value}")
        elif name == "hidden_classes":
            parts.append("Hidden Classes")
        elif name == "use_mu":
            parts.append("Plot μ" if value else "Plot z")
    return ", ".join(parts) or "Change"


class StateChange(QUndoCommand):
    """Fields of the state before and after one user action."""

    def __init__(self, history: UndoHistory, before: dict[str, Any], after: dict[str, Any]):
        super().__init__(describe(before, after))
        self.history, self.before, self.after = history, before, after
        self._done = True  # pushed after the change happened: the first redo() has nothing to do

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self.history.apply(self.after)

    def undo(self) -> None:
        self.history.apply(self.before)


class UndoHistory(QObject):
    """Turns state changes into commands on ``self.stack``; cleared when the dataset, model or codes change."""

    def __init__(self, context: FeatureContext):
        super().__init__(context.parent)
        self.state = context.state
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(UNDO_LIMIT)
        self._applying = False
        self._before: dict[str, Any] = {}
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(0)
        self._flush.timeout.connect(self.commit)
        for name in TRACKED:
            getattr(self.state.events, name).connect(lambda new, old=None, name=name: self._changed(name, old))
        for name in ("dataset", "model", "codes"):
            getattr(self.state.events, name).connect(self.clear)

    def _changed(self, name: str, old: Any) -> None:
        if self._applying or self.state.codes is None:
            return
        self._before.setdefault(name, old)
        self._flush.start()

    def commit(self) -> None:
        """Push what changed since the first change of this event-loop turn (nothing if it all changed back)."""
        before, self._before = self._before, {}
        after = {name: getattr(self.state, name) for name in before}
        changed = {name for name in before if not _same(before[name], after[name])}
        if changed:
            self.stack.push(StateChange(self, {n: before[n] for n in changed}, {n: after[n] for n in changed}))

    def apply(self, values: dict[str, Any]) -> None:
        self._applying = True
        try:
            for name in TRACKED:
                if name in values and not _same(getattr(self.state, name), values[name]):
                    setattr(self.state, name, values[name])
        finally:
            self._applying = False

    def clear(self, *_) -> None:
        self._before = {}
        self._flush.stop()
        self.stack.clear()


def install(context: FeatureContext) -> UndoHistory:
    """The history (``context.undo``) and Edit ▸ Undo/Redo."""
    history = UndoHistory(context)
    context.undo = history
    owner = context.parent
    history.undo_action = history.stack.createUndoAction(owner, "&Undo")
    history.undo_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo))
    history.redo_action = history.stack.createRedoAction(owner, "&Redo")
    history.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    context.menus.add_action("edit.undo", history.undo_action)
    context.menus.add_action("edit.undo", history.redo_action)
    return history
