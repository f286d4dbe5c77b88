"""The scatter's own small toolbar: mouse tool, reset view, density mode, point size and opacity."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QLabel, QSlider, QSpinBox, QToolBar

TOOL_ACTIONS = (  # (tool, text, tip); "path" is switched on by the paths feature, not from here
    ("pan", "Pan", "Drag to pan, wheel to zoom, right-drag to zoom to a box, double-click to see everything"),
    ("zoom", "Zoom", "Drag a box to zoom into it"),
    ("box", "Box", "Drag a box to select (Shift: add, Ctrl/Alt: subtract)"),
    ("lasso", "Lasso", "Draw around points to select them (Shift: add, Ctrl/Alt: subtract)"),
)


class ScatterToolbar(QToolBar):
    sigTool = Signal(str)
    sigResetView = Signal()
    sigDensity = Signal(bool)
    sigPointSize = Signal(int)
    sigOpacity = Signal(float)

    def __init__(self, parent=None) -> None:
        super().__init__("Scatter", parent)
        self.setMovable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.tool_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)  # "path" checks none
        for tool, text, tip in TOOL_ACTIONS:
            action = QAction(text, self, checkable=True, toolTip=tip)
            action.triggered.connect(lambda checked=False, t=tool: self.sigTool.emit(t))
            group.addAction(action)
            self.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions["pan"].setChecked(True)
        self.addSeparator()
        reset = QAction("Reset view", self, toolTip="Show the whole cloud (or double-click the plot)")
        reset.triggered.connect(self.sigResetView.emit)
        self.addAction(reset)
        self.density_action = QAction("Density", self, checkable=True,
                                      toolTip="Draw a log-scaled 2-D histogram: class colours mix where they overlap")
        self.density_action.toggled.connect(self.sigDensity.emit)
        self.addAction(self.density_action)
        self.addSeparator()
        self.addWidget(QLabel(" Size "))
        self.size_spin = QSpinBox(minimum=1, maximum=15, value=3, suffix=" px", toolTip="Point size in pixels")
        self.size_spin.valueChanged.connect(self.sigPointSize.emit)
        self.addWidget(self.size_spin)
        self.addWidget(QLabel(" Opacity "))
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, minimum=5, maximum=100, value=100,
                                      toolTip="Point opacity: below 100 %, overlapping points build up")
        self.opacity_slider.setMaximumWidth(110)
        self.opacity_slider.valueChanged.connect(lambda v: self.sigOpacity.emit(v / 100.0))
        self.addWidget(self.opacity_slider)

    def show_state(self, tool: str, density: bool, point_size: int, opacity: float) -> None:
        """Reflect settings changed through the API, without echoing signals back."""
        for widget in (self, self.density_action, self.size_spin, self.opacity_slider):
            widget.blockSignals(True)
        try:
            for name, action in self.tool_actions.items():
                action.setChecked(name == tool)
            self.density_action.setChecked(density)
            self.size_spin.setValue(int(point_size))
            self.opacity_slider.setValue(int(round(opacity * 100)))
        finally:
            for widget in (self, self.density_action, self.size_spin, self.opacity_slider):
                widget.blockSignals(False)
