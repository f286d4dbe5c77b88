"""A dialog over the remembered code consents: what was allowed, when, and a way to revoke it."""

from __future__ import annotations

import time

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.core.consent import ConsentStore, current_policy
from latent_explorer.core.errors import LatentExplorerError


class ConsentDialog(QDialog):
    """One row per remembered consent (format, the files that run, the date); Revoke forgets the selected ones."""

    COLUMNS = ("format", "files that run", "allowed on", "content hash")

    def __init__(self, parent: QWidget | None = None, store: ConsentStore | None = None):
        super().__init__(parent)
        self.setWindowTitle("Code consent")
        self.resize(760, 320)
        self.store = store or current_policy().store or ConsentStore()
        layout = QVBoxLayout(self)
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.revoke_button = QPushButton("Revoke selected")
        self.revoke_all_button = QPushButton("Revoke all")
        buttons.addButton(self.revoke_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.revoke_all_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.revoke_button.clicked.connect(self.revoke_selected)
        self.revoke_all_button.clicked.connect(self.revoke_all)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        grants = sorted(self.store.grants(), key=lambda g: -g.granted_at)
        self.table.setRowCount(len(grants))
        for row, grant in enumerate(grants):
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(grant.granted_at)) if grant.granted_at else ""
            for col, text in enumerate((grant.format, "\n".join(grant.files), when, grant.content_hash)):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.resizeRowsToContents()
        self.note.setText(
            f"{len(grants)} model(s) may run their code without asking again. A revoked model asks again the next "
            f"time it is opened. Stored in {self.store.path}." if grants else
            "No model may run code without asking: every python, TorchScript, .pt2 or pickled model asks first.")
        self.revoke_button.setEnabled(bool(grants))
        self.revoke_all_button.setEnabled(bool(grants))

    def revoke_selected(self) -> int:
        hashes = {self.table.item(i.row(), 3).text() for i in self.table.selectionModel().selectedRows()}
        return self._revoke(lambda: sum(self.store.revoke(h) for h in hashes))

    def revoke_all(self) -> int:
        return self._revoke(self.store.revoke_all)

    def _revoke(self, action) -> int:
        try:
            count = action()
        except LatentExplorerError as exc:
            self.note.setText(str(exc))
            return 0
        self.refresh()
        return count
