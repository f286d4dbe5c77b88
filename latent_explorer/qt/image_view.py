"""An image enlarged with nearest-neighbour scaling (pixels stay square and sharp), grey or RGB.

Used for decoded images, mosaics and thumbnails. A message (a failed decode's reason) is drawn over the
image and repeated in the tooltip. ``painted`` is emitted after each paint, so a caller can time the path
from a change to the pixels on screen.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


def to_qimage(image: np.ndarray) -> QImage:
    """(H, W) or (H, W, 3) float in [0, 1] (or uint8) → a QImage that owns its pixels."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.clip(np.nan_to_num(arr.astype(np.float32), nan=0.0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        qimage = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8)
    else:
        qimage = QImage(arr[..., :3].copy().data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return qimage.copy()  # detach from the numpy buffer


class ImageView(QWidget):
    """Shows one image, scaled up by whole pixels when it fits (fractional scaling otherwise)."""

    painted = Signal()

    def __init__(self, parent: QWidget | None = None, minimum: int = 64, message_font_px: int = 11):
        super().__init__(parent)
        self._qimage: QImage | None = None
        self._array: np.ndarray | None = None
        self._message = ""
        self._message_font_px = message_font_px
        self.paint_count = 0
        self.setMinimumSize(minimum, minimum)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def set_image(self, image: np.ndarray | None, message: str = "") -> None:
        """Show ``image`` (None clears); ``message`` is drawn over it (errors, hints)."""
        self._array = None if image is None else np.asarray(image)
        self._qimage = None if image is None else to_qimage(image)
        self._message = message
        self.setToolTip(message)
        self.update()

    def image(self) -> np.ndarray | None:
        return self._array

    def message(self) -> str:
        return self._message

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(224, 224)

    def target_rect(self) -> QRect:
        """Where the image lands: centred, aspect kept, whole-pixel scale when it is at least 1."""
        if self._qimage is None:
            return QRect()
        iw, ih = self._qimage.width(), self._qimage.height()
        scale = min(self.width() / iw, self.height() / ih)
        if scale >= 1:
            scale = float(int(scale))
        w, h = max(1, int(iw * scale)), max(1, int(ih * scale))
        return QRect((self.width() - w) // 2, (self.height() - h) // 2, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        if self._qimage is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(self.target_rect(), self._qimage)
        if self._message:
            font = painter.font()
            font.setPixelSize(self._message_font_px)
            painter.setFont(font)
            box = self.rect().adjusted(4, 4, -4, -4)
            flags = int(Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter) | int(Qt.TextFlag.TextWordWrap)
            bounds = painter.boundingRect(box, flags, self._message)
            painter.fillRect(bounds.adjusted(-3, -2, 3, 2), QColor(255, 255, 255, 215))
            painter.setPen(QColor(150, 0, 0))
            painter.drawText(box, flags, self._message)
        painter.end()
        self.paint_count += 1
        self.painted.emit()
