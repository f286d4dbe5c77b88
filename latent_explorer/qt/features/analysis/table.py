"""A read-only, sortable table of numbers for the analysis panels (numbers sort as numbers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

HIGHLIGHT_ROW = QColor(255, 224, 178)
HIGHLIGHT_TEXT = QColor(0, 0, 0)


class _NumericItem(QTableWidgetItem):
    """Sorts by the value it shows, numbers as numbers."""

    def __init__(self, value: Any):
        if isinstance(value, (bool, np.bool_)):
            text, value = ("yes" if value else ""), int(value)
        elif isinstance(value, (int, np.integer)):
            text, value = f"{int(value):,}" if abs(int(value)) >= 10000 else str(int(value)), int(value)
        elif isinstance(value, (float, np.floating)):
            text, value = f"{float(value):.6g}", float(value)
        else:
            text = str(value)
        super().__init__(text)
        self.setData(Qt.ItemDataRole.UserRole, value)
        self.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)
        if isinstance(value, (int, float)):
            self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(Qt.ItemDataRole.UserRole), other.data(Qt.ItemDataRole.UserRole)
        if isinstance(mine, (int, float)) and isinstance(theirs, (int, float)):
            return mine < theirs
        return str(mine) < str(theirs)


class NumericTable(QTableWidget):
    """A read-only, sortable table of numbers; rows are known by the value in their first column."""

    rowClicked = Signal(object)  # first-column value of the clicked row
    rowDoubleClicked = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.cellClicked.connect(lambda row, _col: self.rowClicked.emit(self.key(row)))
        self.cellDoubleClicked.connect(lambda row, _col: self.rowDoubleClicked.emit(self.key(row)))

    def key(self, row: int) -> Any:
        return self.item(row, 0).data(Qt.ItemDataRole.UserRole)

    def set_rows(self, header: Sequence[str], rows: Sequence[Sequence], highlight: set | None = None) -> None:
        """Replace the content; rows whose key is in ``highlight`` get a coloured background."""
        sorting = self.isSortingEnabled()
        self.setSortingEnabled(False)
        self.clear()
        self.setColumnCount(len(header))
        self.setHorizontalHeaderLabels(list(header))
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            marked = highlight is not None and row[0] in highlight
            for c, value in enumerate(row):
                item = _NumericItem(value)
                if marked:
                    item.setBackground(HIGHLIGHT_ROW)
                    item.setForeground(HIGHLIGHT_TEXT)
                self.setItem(r, c, item)
        self.setSortingEnabled(sorting)

    def select_key(self, key: Any) -> None:
        for row in range(self.rowCount()):
            if self.key(row) == key:
                self.selectRow(row)
                self.scrollToItem(self.item(row, 0))
                return
