"""The search field of the scatter toolbar: an index, a range, a class or part of a file name selects samples."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLineEdit

SEARCH_TIP = ("Find samples and select them: 12 · 10-20 · 3,5,7 · a class name · label:3 · part of a file name "
              "(name:img_01)\nEnter: select what matches · Shift+Enter: add it to the selection · Esc: leave the field")
BAD_INPUT_STYLE = "QLineEdit { background: #fde2e2; }"


class SearchField(QLineEdit):
    """Emits the query and whether it adds to the selection when Enter is pressed; shows whether it matched."""

    sigSearch = Signal(str, bool)  # query, add to the selection

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("Find: 12, 10-20, class, file…")
        self.setToolTip(SEARCH_TIP)
        self.setClearButtonEnabled(True)
        self.setMaximumWidth(220)
        self.textEdited.connect(lambda _: self.show_result(True))

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            add = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.sigSearch.emit(self.text(), add)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.clearFocus()  # back to the window: the next Esc clears the selection
            event.accept()
            return
        super().keyPressEvent(event)

    def show_result(self, ok: bool, message: str = "") -> None:
        """Tint the field when the query could not be read or matched nothing; its tip says what happened."""
        self.setStyleSheet("" if ok else BAD_INPUT_STYLE)
        self.setToolTip(f"{message}\n\n{SEARCH_TIP}" if message else SEARCH_TIP)

    def focus(self) -> None:
        """Edit ▸ Find…: into the field with its text selected, ready to be typed over."""
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.selectAll()
