"""Help ▸ Keyboard Shortcuts: every action of the window that has a shortcut, collected when the dialog opens,
so shortcuts added by any panel are listed without registering them."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.qt.context import FeatureContext


def collect_shortcuts(window: QWidget) -> list[tuple[str, str]]:
    """(action, shortcuts) for every QAction of the window with a shortcut, sorted by action text."""
    rows: dict[str, str] = {}
    for action in window.findChildren(QAction):
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()]
        text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…").strip()
        if keys and text:
            rows[text] = ", ".join(keys)
    return sorted(rows.items(), key=lambda row: row[0].lower())


def duplicate_shortcuts(window: QWidget) -> dict[str, list[str]]:
    """Key sequences bound to more than one differently named action (ambiguous: Qt fires none of them)."""
    owners: dict[str, set[str]] = {}
    for action in window.findChildren(QAction):
        for key in action.shortcuts():
            if not key.isEmpty():
                owners.setdefault(key.toString(), set()).add(action.text().replace("&", ""))
    return {key: sorted(names) for key, names in owners.items() if len(names) > 1}


class ShortcutsDialog(QDialog):
    def __init__(self, window: QWidget):
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts")
        rows = collect_shortcuts(window)
        table = QTableWidget(len(rows), 2, self)
        table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (text, keys) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(text))
            table.setItem(row, 1, QTableWidgetItem(keys))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.table = table
        self.resize(460, 520)


class ShortcutsHelp:
    """Help ▸ Keyboard Shortcuts (``context.shortcuts``): the dialog lists the window's actions when it opens."""

    def __init__(self, context: FeatureContext):
        self.window = context.parent
        self.dialog: ShortcutsDialog | None = None
        self.action = context.menus.add("help.shortcuts", "&Keyboard Shortcuts", self.show,
                                        QKeySequence.StandardKey.HelpContents)

    def show(self) -> None:
        self.dialog = ShortcutsDialog(self.window)
        self.dialog.open()


def install(context: FeatureContext) -> ShortcutsHelp:
    context.shortcuts = ShortcutsHelp(context)
    return context.shortcuts
