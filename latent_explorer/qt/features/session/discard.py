"""Ask before an open replaces unsaved work: "Discard …? / Save Session First / Cancel".

Opening another model, dataset or session drops what was made for the current ones: the interpolation paths,
the selection, the t-SNE maps and loaded layouts, and any change to an opened session. The window's user
entry points (the Open dialogs, the demos, recent files, a dropped file, Open Session) ask this guard first;
it asks only when something was changed since the session was last saved or opened, and there is work to lose.
Autosaves do not count as saved: they are a safety net, not the user's file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox

from latent_explorer.qt.context import FeatureContext

DISCARD, SAVE, CANCEL = "discard", "save", "cancel"


class DiscardGuard:
    """Says what unsaved work an open would drop, and asks the user whether to go on."""

    def __init__(self, context: FeatureContext, manager: Any):
        self.context, self.manager = context, manager
        self.unsaved = False  # changed since the last save or open by the user (autosave leaves it set)
        self.last_question: str | None = None
        manager.session_saved.connect(self._saved)
        manager.session_opened.connect(self._saved)

    def mark_changed(self, *_: Any) -> None:
        self.unsaved = True

    def _saved(self, *_: Any) -> None:
        self.unsaved = False

    def work(self) -> list[str]:
        """The unsaved work an open would drop, in words ("2 interpolation paths", "40 selected samples")."""
        if not self.unsaved:
            return []
        items = []
        interpolation = self.context.interpolation
        paths = len(interpolation.paths()) if interpolation is not None else 0
        if paths:
            items.append(f"{paths} interpolation path{'s' if paths != 1 else ''}")
        selected = len(self.context.state.selection)
        if selected:
            items.append(f"{selected:,} selected sample{'s' if selected != 1 else ''}")
        layouts = list(self.context.view.layouts.values())
        tsne = sum(layout.kind == "tsne" for layout in layouts)
        if tsne:
            items.append(f"{tsne} t-SNE map{'s' if tsne != 1 else ''}")
        others = len(layouts) - tsne
        if others:
            items.append(f"{others} other layout{'s' if others != 1 else ''}")
        if self.manager.current_path is not None:
            items.append(f"the changes to the session {Path(self.manager.current_path).name}")
        return items

    def confirm(self, what: str) -> bool:
        """True when opening ``what`` may go ahead: nothing to lose, the user discards it, or saved it first."""
        items = self.work()
        if not items:
            return True
        answer = self.ask(what, items)
        if answer == SAVE:
            return self.manager.ask_save() is not None  # the save dialog cancelled or failed: nothing is opened
        return answer == DISCARD

    def ask(self, what: str, items: list[str]) -> str:
        """The question itself (a modal message box): DISCARD, SAVE or CANCEL."""
        text = f"Opening {what} discards the unsaved work: {', '.join(items)}."
        self.last_question = text
        box = QMessageBox(QMessageBox.Icon.Question, "Discard unsaved work?", text,
                          QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Save
                          | QMessageBox.StandardButton.Cancel, self.context.parent)
        box.setInformativeText("Save the session first to keep it.")
        box.button(QMessageBox.StandardButton.Discard).setText("Discard and Open")
        box.button(QMessageBox.StandardButton.Save).setText("Save Session First…")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        answer = box.exec()
        return {QMessageBox.StandardButton.Discard: DISCARD,
                QMessageBox.StandardButton.Save: SAVE}.get(QMessageBox.StandardButton(answer), CANCEL)
