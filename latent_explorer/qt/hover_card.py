"""The hover card: a sample's image, enlarged with nearest-neighbour (pixels stay sharp), above its label.

Drawn into one pixmap so the scatter's own floating label (`LatentScatter.show_tooltip`) can show it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from latent_explorer.qt.image_view import to_qimage

CARD_IMAGE_PX = 112
TEXT_GAP_PX = 3


def hover_pixmap(image: np.ndarray, text: str, size_px: int = CARD_IMAGE_PX) -> QPixmap:
    """The image scaled by a whole factor to about ``size_px``, with ``text`` centred underneath."""
    qimage = to_qimage(image)
    scale = max(1, size_px // max(qimage.width(), qimage.height(), 1))
    w, h = qimage.width() * scale, qimage.height() * scale
    font = QApplication.font()
    metrics = QFontMetrics(font)
    text_w, text_h = metrics.horizontalAdvance(text), metrics.height()
    width = max(w, text_w)
    pixmap = QPixmap(width, h + TEXT_GAP_PX + text_h)
    pixmap.fill(QColor(255, 255, 238))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
    painter.drawImage(QRect((width - w) // 2, 0, w, h), qimage)
    painter.setFont(font)
    painter.setPen(QColor(0, 0, 0))
    painter.drawText(QRect(0, h + TEXT_GAP_PX, width, text_h), int(Qt.AlignmentFlag.AlignHCenter), text)
    painter.end()
    return pixmap
