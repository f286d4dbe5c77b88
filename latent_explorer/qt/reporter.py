"""How the window tells the user: a line in the status bar, and a non-blocking message box for errors."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.load_options import for_window


class StatusReporter:
    """The window's `ErrorReporter`: keeps the session going after an error, and remembers the last one."""

    def __init__(self, label: QLabel, parent: QWidget):
        self.label, self.parent = label, parent
        self.last_error: Exception | None = None

    def say(self, text: str) -> None:
        self.label.setText(text)

    def show_error(self, exc: BaseException, title: str = "Error") -> None:
        self.last_error = exc
        # a fix naming a command-line flag names the Open Dataset field that sets the same option instead
        text = for_window(str(exc)) if isinstance(exc, LatentExplorerError) else f"{type(exc).__name__}: {exc}"
        self.say(f"{title}: {(text.splitlines() or [''])[0]}")
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self.parent)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
