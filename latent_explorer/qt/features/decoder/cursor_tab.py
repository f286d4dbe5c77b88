"""Decode under the cursor: moving or dragging over a PCA or raw-axes plane decodes the point beneath it.

Empty space included: the plane point goes back to z through ``projection.inverse(xy, base)``, the
coordinates off the plane held at the selected point's code, the dataset mean or zero.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from latent_explorer.core.decoding import lift_point
from latent_explorer.qt.features.decoder.host import DecoderHost

BASE_CHOICES = (("selected", "the selected point"), ("mean", "the dataset mean"), ("zero", "zero"))
EXACT_KINDS = ("raw", "pca")


def base_combo() -> QComboBox:
    """Where the off-plane coordinates come from."""
    combo = QComboBox()
    for value, label in BASE_CHOICES:
        combo.addItem(label, value)
    combo.setToolTip("The coordinates that the plane does not show are held at this code")
    return combo


class CursorTab(QWidget):
    def __init__(self, panel: DecoderHost):
        super().__init__()
        self.panel = panel
        layout = QVBoxLayout(self)
        self.enable_box = QCheckBox("Decode the point under the cursor")
        self.enable_box.setToolTip("Move or drag over the plot: the image shows the code under the mouse, "
                                   "empty space included")
        layout.addWidget(self.enable_box)
        form = QFormLayout()
        self.base_combo = base_combo()
        form.addRow("Off-plane coordinates from", self.base_combo)
        layout.addLayout(form)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        layout.addStretch(1)
        self.enable_box.toggled.connect(lambda _on: self.describe_view())
        self.describe_view()

    @property
    def enabled(self) -> bool:
        return self.enable_box.isChecked()

    def set_enabled(self, on: bool) -> None:
        self.enable_box.setChecked(on)

    def describe_view(self) -> None:
        projection = self.panel.projection()
        if projection is None:
            self.info.setText("No plane on show yet.")
        elif projection.kind in EXACT_KINDS:
            x, y = projection.axis_labels()
            self.info.setText(f"{x} × {y}: exact — the code under the cursor projects back onto it.")
        else:
            self.info.setText("This map has no exact inverse: the code is built from the nearest map points' "
                              "codes (an approximation). Use a PCA or raw-axes view for exact decoding.")

    @Slot(float, float)
    def on_mouse_moved(self, x: float, y: float) -> None:
        if not self.enabled:
            return
        projection = self.panel.projection()
        base = self.panel.offplane_base(self.base_combo.currentData())
        if projection is None or base is None:
            return
        self.panel.set_current_z(lift_point(projection, x, y, base))
