"""The off-data meter's widget: how far the current z lies from the data, as a coloured bar and a number."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

METER_BANDS = ((2.0, "#2e7d32", "on the data"), (4.0, "#ef6c00", "near the data"),
               (float("inf"), "#c62828", "off the data"))


class OffDataBar(QWidget):
    """The off-data meter: k-NN distance of the current z over the data's typical one, as a bar and a number."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setRange(0, 500)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(10)
        self.label = QLabel("off-data: —")
        self.label.setToolTip("Mean distance from the current z to its k nearest codes, in units of the typical "
                              "nearest-neighbour distance among the codes: about 1 or less on the data, high "
                              "in empty space.")
        # as wide as its longest text, so that the panel's width does not follow the score
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("99.99× (near the data, k=99)"))
        layout.addWidget(QLabel("Off the data"))
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.label)
        self._band = -1
        self.value: float | None = None

    def set_score(self, score: float | None, k: int = 5) -> None:
        self.value = score
        if score is None or not np.isfinite(score):
            self.bar.setValue(0)
            self.label.setText("off-data: —")
            return
        self.bar.setValue(int(min(5.0, score) * 100))
        band = next(i for i, (limit, _, _) in enumerate(METER_BANDS) if score <= limit)
        _, colour, words = METER_BANDS[band]
        self.label.setText(f"{score:.2f}× ({words}, k={k})")
        if band != self._band:  # restyle only when the colour changes: styling is slow
            self._band = band
            self.bar.setStyleSheet(f"QProgressBar::chunk {{ background: {colour}; }}")
