"""The scatter's ViewBox: pyqtgraph's pan and wheel zoom, plus the gestures of the current tool.

Right-drag always zooms to a box; double-click resets the view; a left drag does what the tool says
("pan", "zoom" box, "box" or "lasso" selection, "path" drawing). The ViewBox only draws the rubber bands;
what a gesture means is decided by its `GestureHandler` (the LatentScatter).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

TOOLS = ("pan", "zoom", "box", "lasso", "path")
MIN_BOX_PX = 3  # a smaller box zoom is a slip of the hand


class GestureHandler(Protocol):
    def on_click(self, scene_pos: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...
    def on_box(self, rect: QRectF, modifiers: Qt.KeyboardModifier) -> None: ...
    def on_lasso(self, polygon: np.ndarray, modifiers: Qt.KeyboardModifier) -> None: ...
    def on_path(self, polyline: np.ndarray) -> None: ...
    def reset_view(self) -> None: ...


class ScatterViewBox(pg.ViewBox):
    def __init__(self, handler: GestureHandler) -> None:
        super().__init__(enableMenu=True)
        self.handler = handler
        self.tool = "pan"
        self._trace: list[tuple[float, float]] = []
        self.selection_box = QGraphicsRectItem(0, 0, 1, 1)
        pen = QPen(QColor(30, 30, 30), 1, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.selection_box.setPen(pen)
        self.selection_box.setBrush(QBrush(QColor(30, 120, 220, 40)))
        self.selection_box.setZValue(1e9)
        self.selection_box.hide()
        self.addItem(self.selection_box, ignoreBounds=True)
        self.trace_curve = pg.PlotCurveItem(pen=pg.mkPen((30, 30, 30), width=1.5, style=Qt.PenStyle.DashLine))
        self.trace_curve.setZValue(1e9)
        self.trace_curve.hide()
        self.addItem(self.trace_curve, ignoreBounds=True)

    def updateViewRange(self, forceX: bool = False, forceY: bool = False) -> None:  # noqa: N802 - pyqtgraph name
        """pyqtgraph moves the items only when the scene is about to paint, and moving them then schedules a
        second paint of the whole plot; moving them now makes one range change one paint."""
        super().updateViewRange(forceX, forceY)
        self.updateMatrix()

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}; choose from {', '.join(TOOLS)}")
        self.tool = tool

    # ------------------------------------------------------------------ mouse
    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph name
        if ev.button() != Qt.MouseButton.LeftButton:
            super().mouseClickEvent(ev)
            return
        ev.accept()
        if ev.double():
            self.handler.reset_view()
        else:
            self.handler.on_click(ev.scenePos(), ev.modifiers())

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 - pyqtgraph name
        if axis is not None:
            super().mouseDragEvent(ev, axis)
            return
        button = ev.button()
        if button == Qt.MouseButton.RightButton or (button == Qt.MouseButton.LeftButton and self.tool == "zoom"):
            self._drag_zoom_box(ev)
        elif button == Qt.MouseButton.LeftButton and self.tool == "box":
            self._drag_select_box(ev)
        elif button == Qt.MouseButton.LeftButton and self.tool in ("lasso", "path"):
            self._drag_trace(ev)
        else:
            super().mouseDragEvent(ev, axis)

    def _drag_zoom_box(self, ev) -> None:
        ev.accept()
        if not ev.isFinish():
            self.updateScaleBox(ev.buttonDownPos(), ev.pos())
            return
        self.rbScaleBox.hide()
        rect = QRectF(ev.buttonDownPos(), ev.pos()).normalized()
        if rect.width() >= MIN_BOX_PX and rect.height() >= MIN_BOX_PX:
            self.showAxRect(self.childGroup.mapRectFromParent(rect), padding=0)

    def _drag_select_box(self, ev) -> None:
        ev.accept()
        rect = self.childGroup.mapRectFromParent(QRectF(ev.buttonDownPos(), ev.pos())).normalized()
        if not ev.isFinish():
            self.selection_box.setRect(rect)
            self.selection_box.show()
            return
        self.selection_box.hide()
        self.handler.on_box(rect, ev.modifiers())

    def _drag_trace(self, ev) -> None:
        ev.accept()
        if ev.isStart():
            start = self.mapSceneToView(ev.buttonDownScenePos())
            self._trace = [(start.x(), start.y())]
        here = self.mapSceneToView(ev.scenePos())
        self._trace.append((here.x(), here.y()))
        trace = np.asarray(self._trace, dtype=np.float64)
        if not ev.isFinish():
            closed = trace if self.tool == "path" else np.vstack([trace, trace[:1]])
            self.trace_curve.setData(closed[:, 0], closed[:, 1])
            self.trace_curve.show()
            return
        self.trace_curve.hide()
        self._trace = []
        if self.tool == "lasso":
            self.handler.on_lasso(trace, ev.modifiers())
        else:
            self.handler.on_path(trace)
