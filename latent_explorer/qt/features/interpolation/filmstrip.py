"""The filmstrip of a path: rows of decoded frames with an off-data bar under each, and the player.

`FilmstripView` paints every row from one image per row (nearest-neighbour scaling, so frames stay sharp at any
size); the frames shrink to fit the dock. Hovering a frame reports (row, frame) — the panel puts a marker on the
scatter — and the frame at the player's position is outlined in every row. `FramePlayer` steps through one row
on a timer, forward then back like the exported GIF, and shows the frame enlarged.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.core.interpolation import OFF_DATA_FULL_SCALE, Filmstrip, StripRow, score_colour
from latent_explorer.qt.features.interpolation.overlay import HIGHLIGHT_COLOUR
from latent_explorer.qt.image_view import ImageView, to_qimage

LABEL_PX = 96
GAP_PX = 2
BAR_PX = 4
MIN_FRAME_PX = 4
MIN_VIEW_PX = 24  # below this, show every k-th frame rather than shrink them further
MAX_FRAME_PX = 96
HIGHLIGHT = QColor(*HIGHLIGHT_COLOUR)  # the same amber as the ring on the scatter


def row_image(row: StripRow) -> QImage:
    """The frames of a row side by side, one image: (H, n·W) grey or RGB."""
    frames = np.asarray(row.frames, np.float32)
    tiled = np.concatenate(list(frames), axis=1) if len(frames) else np.zeros((1, 1), np.float32)
    return to_qimage(tiled)


def frame_index(t: float, n: int) -> int:
    """The frame of an n-frame row nearest to the fraction ``t`` of the path."""
    return int(round(min(1.0, max(0.0, t)) * (n - 1))) if n > 1 else 0


class FilmstripView(QWidget):
    """Rows of frames, labelled, with off-data bars; reports the frame under the mouse."""

    sigHovered = Signal(int, int)  # row, frame; (-1, -1) when the mouse leaves the frames
    sigClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.strip: Filmstrip | None = None
        self.note = ""
        self._images: list[QImage] = []
        self._hovered = (-1, -1)
        self._current_t: float | None = None
        self.active_row = 0
        self.paint_count = 0
        self.setMouseTracking(True)
        self.setMinimumSize(240, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(900, 200)

    # ------------------------------------------------------------------ content
    def set_strip(self, strip: Filmstrip | None, note: str = "") -> None:
        """Show ``strip`` (None clears); ``note`` is written when there are no rows (why nothing is shown)."""
        self.strip = strip
        self.note = note
        self._images = [row_image(r) for r in strip.rows] if strip is not None else []
        self.active_row = min(self.active_row, max(0, len(self._images) - 1))
        self.update()

    @property
    def hovered(self) -> tuple[int, int]:
        """(row, frame) under the mouse, (-1, -1) if none."""
        return self._hovered

    def rows(self) -> list[StripRow]:
        return list(self.strip.rows) if self.strip is not None else []

    def set_current(self, t: float | None) -> None:
        """Outline the frames at this fraction of the path in every row (None: no outline)."""
        self._current_t = t
        self.update()

    # ------------------------------------------------------------------ geometry
    def _layout(self) -> tuple[int, np.ndarray, int]:
        """(frame size in pixels, the columns shown as fractions of the path, the longest row's length).

        Frames are never drawn smaller than ``MIN_VIEW_PX`` when the height allows more: a long path in a narrow
        dock shows every 2nd, 3rd… frame (always the last one); the player and the exports keep them all.
        """
        rows = self.rows()
        if not rows:
            return 0, np.zeros(0), 0
        n = max(len(r) for r in rows)
        avail = self.width() - LABEL_PX - GAP_PX
        fit_h = self.height() / len(rows) - BAR_PX - 3 * GAP_PX
        target = max(MIN_VIEW_PX, min(MAX_FRAME_PX, fit_h))
        fit = max(2, int(avail // (target + GAP_PX)))
        stride = 1 if fit >= n else int(np.ceil((n - 1) / (fit - 1)))
        shown = list(range(0, n, stride))
        if shown[-1] != n - 1:
            shown.append(n - 1)
        size = int(max(MIN_FRAME_PX, min(MAX_FRAME_PX, fit_h, avail / len(shown) - GAP_PX)))
        return size, np.asarray(shown, np.float64) / max(1, n - 1), n

    def frame_px(self) -> int:
        return self._layout()[0]

    @property
    def stride(self) -> int:
        """1 when every frame is shown, k when every k-th is."""
        _, columns, n = self._layout()
        return int(round(columns[1] * (n - 1))) if len(columns) > 1 else 1

    def shown_frames(self, row: int) -> np.ndarray:
        """The frames of ``row`` drawn, one per column (a row shorter than the longest is matched by t)."""
        _, columns, _ = self._layout()
        n = len(self.rows()[row])
        return np.array([frame_index(t, n) for t in columns], dtype=int)

    def row_top(self, row: int) -> int:
        return GAP_PX + row * (self.frame_px() + BAR_PX + 3 * GAP_PX)

    def _column_rect(self, row: int, column: int) -> QRect:
        s = self.frame_px()
        return QRect(LABEL_PX + GAP_PX + column * (s + GAP_PX), self.row_top(row), s, s)

    def frame_rect(self, row: int, frame: int) -> QRect:
        """Where ``frame`` of ``row`` is drawn (the nearest shown frame when every k-th is shown)."""
        shown = self.shown_frames(row)
        return self._column_rect(row, int(np.argmin(np.abs(shown - frame))) if len(shown) else 0)

    def frame_at(self, pos: QPoint) -> tuple[int, int]:
        """(row, frame) under a point of the widget, (-1, -1) if none."""
        s = self.frame_px()
        if not s:
            return -1, -1
        row = int((pos.y() - GAP_PX) // (s + BAR_PX + 3 * GAP_PX))
        column = int((pos.x() - LABEL_PX - GAP_PX) // (s + GAP_PX))
        if 0 <= row < len(self.rows()) and pos.x() >= LABEL_PX + GAP_PX:
            shown = self.shown_frames(row)
            if 0 <= column < len(shown):
                return row, int(shown[column])
        return -1, -1

    # ------------------------------------------------------------------ mouse
    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt name
        hit = self.frame_at(event.position().toPoint())
        if hit != self._hovered:
            self._hovered = hit
            self.sigHovered.emit(*hit)
            self.update()
        if hit[0] >= 0:
            QToolTip.showText(event.globalPosition().toPoint(), self.describe(*hit), self)
        else:
            QToolTip.hideText()

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self._hovered != (-1, -1):
            self._hovered = (-1, -1)
            self.sigHovered.emit(-1, -1)
            self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        row, frame = self.frame_at(event.position().toPoint())
        if row >= 0:
            self.active_row = row
            self.sigClicked.emit(row, frame)
            self.update()

    def describe(self, row: int, frame: int) -> str:
        item = self.rows()[row]
        n = len(item)
        text = f"{item.name} · frame {frame + 1}/{n} · t = {frame / max(1, n - 1):.2f}"
        if item.scores is not None:
            text += f" · off-data {float(item.scores[frame]):.2f}×"
        if self.stride > 1:
            text += f"\n(every {self.stride} frames shown: widen the panel, or play, to see them all)"
        return text

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        rows = self.rows()
        if not rows:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect().adjusted(8, 8, -8, -8),
                             int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap), self.note)
            painter.end()
            return
        s = self.frame_px()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        font = QFont(painter.font())
        font.setPixelSize(10)
        for r, (row, image) in enumerate(zip(rows, self._images, strict=True)):
            top = self.row_top(r)
            h, w = row.frames.shape[1:3]
            shown = self.shown_frames(r)
            for column, frame in enumerate(shown):
                painter.drawImage(QRectF(self._column_rect(r, column)), image, QRectF(frame * w, 0, w, h))
            if row.scores is not None:
                self._paint_bars(painter, r, np.asarray(row.scores)[shown], top + s + 1)
            font.setBold(r == self.active_row)
            painter.setFont(font)
            painter.setPen(self.palette().text().color())
            box = QRect(4, top, LABEL_PX - 8, s + BAR_PX + GAP_PX)
            label = row.name
            if row.scores is not None and len(row.scores):
                mean = float(np.nanmean(row.scores))
                two_lines = box.height() >= 2 * painter.fontMetrics().height()
                label += f"\noff-data {mean:.2f}×" if two_lines else f" {mean:.2f}×"
            lines = [painter.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight, box.width())
                     for line in label.split("\n")]
            painter.drawText(box, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), "\n".join(lines))
        self._paint_outlines(painter, rows)
        painter.end()
        self.paint_count += 1

    def _paint_bars(self, painter: QPainter, r: int, scores: np.ndarray, y: int) -> None:
        for column, score in enumerate(np.asarray(scores, np.float64)):
            rect = self._column_rect(r, column)
            painter.fillRect(QRect(rect.left(), y, rect.width(), BAR_PX), QColor(225, 225, 225))
            fill = rect.width() if not np.isfinite(score) else max(1, int(round(
                rect.width() * min(1.0, score / OFF_DATA_FULL_SCALE))))
            painter.fillRect(QRect(rect.left(), y, fill, BAR_PX), QColor(*score_colour(float(score))))

    def _paint_outlines(self, painter: QPainter, rows: list[StripRow]) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self._current_t is not None:
            painter.setPen(QPen(HIGHLIGHT, 2))
            for r, row in enumerate(rows):
                painter.drawRect(self.frame_rect(r, frame_index(self._current_t, len(row))).adjusted(-1, -1, 1, 1))
        row, frame = self._hovered
        if row >= 0:
            painter.setPen(QPen(QColor(20, 20, 20), 2))
            painter.drawRect(self.frame_rect(row, frame).adjusted(-1, -1, 1, 1))


class FramePlayer(QWidget):
    """One row played as an animation (forward, then back), the current frame enlarged."""

    sigFrame = Signal(int)  # the frame on show changed (index in the row)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.row: StripRow | None = None
        self.index = 0
        self._direction = 1
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.step)
        self.image_view = ImageView(minimum=96)
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play the path as an animation (the highlighted frame moves along the path)")
        self.play_button.toggled.connect(self.set_playing)
        self.fps_spin = QSpinBox(minimum=1, maximum=60, value=12, suffix=" fps")
        self.fps_spin.setToolTip("Frames per second, for playing and for the exported GIF")
        self.fps_spin.valueChanged.connect(lambda _v: self._apply_rate())
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self.show_frame)
        self.caption = QLabel("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.image_view, 1)
        layout.addWidget(self.caption)
        layout.addWidget(self.slider)
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.fps_spin)
        layout.addLayout(controls)

    @property
    def frame_ms(self) -> int:
        return max(1, int(round(1000 / self.fps_spin.value())))

    def set_row(self, row: StripRow | None, keep_fraction: bool = True) -> None:
        """Play this row; the position along the path is kept when the row length changes."""
        fraction = self.index / max(1, len(self.row) - 1) if self.row is not None and keep_fraction else 0.0
        self.row = row
        n = len(row) if row is not None else 0
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, n - 1))
        self.slider.blockSignals(False)
        self.index = frame_index(fraction, n) if n else 0
        self.show_frame(self.index)

    @Slot(int)
    def show_frame(self, index: int) -> None:
        row = self.row
        if row is None or not len(row):
            self.image_view.set_image(None)
            self.caption.setText("")
            return
        self.index = int(min(max(0, index), len(row) - 1))
        if self.slider.value() != self.index:
            self.slider.blockSignals(True)
            self.slider.setValue(self.index)
            self.slider.blockSignals(False)
        self.image_view.set_image(row.frames[self.index])
        text = f"{row.name}: {self.index + 1}/{len(row)}"
        if row.scores is not None:
            text += f" · off-data {float(row.scores[self.index]):.2f}×"
        self.caption.setText(text)
        self.sigFrame.emit(self.index)

    @Slot(bool)
    def set_playing(self, on: bool) -> None:
        if self.play_button.isChecked() != on:
            self.play_button.setChecked(on)  # toggles back into this slot
            return
        self.play_button.setText("Pause" if on else "Play")
        if on:
            self.timer.start(self.frame_ms)
        else:
            self.timer.stop()

    def _apply_rate(self) -> None:
        if self.timer.isActive():
            self.timer.start(self.frame_ms)

    @Slot()
    def step(self) -> None:
        """The next frame: forward to the end, then back to the start."""
        n = len(self.row) if self.row is not None else 0
        if n < 2:
            return
        nxt = self.index + self._direction
        if not 0 <= nxt < n:
            self._direction = -self._direction
            nxt = self.index + self._direction
        self.show_frame(nxt)
