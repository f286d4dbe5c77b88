"""The neighbours panel: the k nearest codes of the selected point (or of the decoder's current z).

Nearness is measured among the codes themselves (`core.neighbors`, exact), never in the 2-D map on show: two
points next to each other on a t-SNE map may be far apart in z and the other way round. Each neighbour is shown
with its thumbnail, class and distance; "Select these" makes them the selection, so every view shows where they
lie. The search runs off the GUI thread (10 million codes take a while) and follows the point as it changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.core.jobs import Job
from latent_explorer.core.neighbors import METRICS, Neighbors, iter_neighbors
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.image_view import to_qimage
from latent_explorer.workers.runner import JobRunner

SEARCH_JOB = "neighbours"
THUMB_PX = 56
SOURCES = (("point", "the selected point"), ("decoder", "the decoder's current z"))


def search(latent: np.ndarray, query: np.ndarray, k: int, metric: str, exclude: int | None) -> Job[Neighbors]:
    """The k nearest rows of ``latent`` to ``query``; the query's own row (``exclude``) is not its neighbour."""
    extra = 1 if exclude is not None else 0
    k_found = min(k + extra, len(latent))
    found = yield from iter_neighbors(latent, query[None, :], k=k_found, metric=metric)
    indices, distances = found.indices[0], found.distances[0]
    if exclude is not None:
        keep = indices != exclude
        indices, distances = indices[keep], distances[keep]
    return Neighbors(indices[None, :k], distances[None, :k])


class NeighboursPanel(QWidget):
    """k nearest codes in latent space, with thumbnails and distances; selects them on request."""

    def __init__(self, context: FeatureContext):
        super().__init__()
        self.context, self.state = context, context.state
        self.jobs = JobRunner(self)  # our own runner: searches that follow the point stay out of the status bar
        self.result: Neighbors | None = None
        self._query_row: int | None = None
        self._build()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # one search per pass of the event loop, however many changes came
        self._timer.timeout.connect(self.refresh)
        events = self.state.events
        self._hooks = (events.current_index, events.current_z, events.codes, events.use_mu)
        for event in self._hooks:
            event.connect(self._schedule)
        context.on_close(self.shutdown)
        self._schedule()

    def _build(self) -> None:
        form = QFormLayout()
        self.source_combo = QComboBox()
        for key, title in SOURCES:
            self.source_combo.addItem(title, key)
        self.source_combo.setToolTip("whose neighbours: the point clicked on the scatter, or the z the decoder shows")
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 500)
        self.k_spin.setValue(10)
        self.k_spin.setToolTip("how many neighbours")
        self.metric_combo = QComboBox()
        self.metric_combo.addItems(list(METRICS))
        self.metric_combo.setToolTip("distance between codes: euclidean, or cosine (1 − cos of the angle)")
        form.addRow("neighbours of", self.source_combo)
        form.addRow("k", self.k_spin)
        form.addRow("distance", self.metric_combo)
        for widget in (self.source_combo, self.metric_combo):
            widget.currentIndexChanged.connect(self._schedule)
        self.k_spin.valueChanged.connect(self._schedule)
        self.summary = QLabel("click a point to see its nearest codes")
        self.summary.setWordWrap(True)
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setWordWrap(True)
        self.list.setToolTip("double-click a neighbour to make it the selected point")
        self.list.itemActivated.connect(self._on_activated)
        self.select_button = QPushButton("Select these")
        self.select_button.setToolTip("make the neighbours (and the point itself) the selection on the scatter")
        self.select_button.clicked.connect(self.select_neighbours)
        self.select_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.select_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    # ------------------------------------------------------------------ searching
    def _schedule(self, *_: Any) -> None:
        self._timer.start()

    def query(self) -> tuple[np.ndarray, int | None] | None:
        """(the query code, its own row or None) for the chosen source, or None when there is none."""
        latent = self.state.latent()
        if latent is None:
            return None
        if self.source_combo.currentData() == "decoder":
            z = self.state.current_z
            if z is None or np.asarray(z).shape != (latent.shape[1],):
                return None
            return np.asarray(z, np.float32), None
        index = self.state.current_index
        if index is None or not 0 <= index < len(latent):
            return None
        return np.asarray(latent[index], np.float32), int(index)

    def refresh(self) -> None:
        """Search again for the current query (or clear the list when there is none)."""
        self.jobs.cancel(SEARCH_JOB)
        query, latent = self.query(), self.state.latent()
        if query is None or latent is None or len(latent) < 2:
            self._show(None, None, "click a point (or decode a z) to see its nearest codes")
            return
        z, row = query
        k = min(self.k_spin.value(), len(latent) - (row is not None))
        metric = self.metric_combo.currentText()
        codes = self.state.codes
        self.summary.setText(f"searching {len(latent):,} codes…")
        self.jobs.start(SEARCH_JOB, lambda: search(latent, z, k, metric, row), title="nearest codes",
                        on_done=lambda found: self._on_found(found, row, codes),
                        on_error=self._on_failed)

    def _on_found(self, found: Neighbors, row: int | None, codes: Any) -> None:
        if codes is not self.state.codes:
            return  # searched in codes that have been replaced since
        what = f"#{row:,}" if row is not None else "the decoder's z"
        kind = "μ" if self.state.use_mu and codes is not None and codes.mu is not None else "z"
        self._show(found, row, f"{found.indices.shape[1]} nearest codes of {what} in {kind} "
                               f"({self.metric_combo.currentText()}, exact)")

    def _on_failed(self, exc: BaseException) -> bool:
        self._show(None, None, f"no neighbours: {exc}")
        return True

    # ------------------------------------------------------------------ showing
    def _show(self, found: Neighbors | None, row: int | None, text: str) -> None:
        self.result, self._query_row = found, row
        self.summary.setText(text)
        self.list.clear()
        self.select_button.setEnabled(found is not None and found.indices.size > 0)
        if found is None:
            return
        dataset = self.state.dataset
        names = self.context.view.labels()
        for index, distance in zip(found.indices[0].tolist(), found.distances[0].tolist(), strict=True):
            label = ""
            if names is not None and 0 <= index < len(names[0]) and 0 <= names[0][index] < len(names[1]):
                label = f" · {names[1][names[0][index]]}"
            item = QListWidgetItem(f"#{index}{label}\nd = {distance:.4g}")
            item.setData(Qt.ItemDataRole.UserRole, int(index))
            image = dataset.display_image(index) if dataset is not None and index < len(dataset) else None
            if image is not None:
                pixmap = QPixmap.fromImage(to_qimage(image)).scaled(
                    THUMB_PX, THUMB_PX, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
                item.setIcon(QIcon(pixmap))
            self.list.addItem(item)

    def neighbour_indices(self) -> np.ndarray:
        return np.zeros(0, np.int64) if self.result is None else self.result.indices[0].copy()

    def select_neighbours(self) -> None:
        """The neighbours (and the point they are the neighbours of) become the selection."""
        picked = self.neighbour_indices()
        if self._query_row is not None:
            picked = np.append(picked, self._query_row)
        if picked.size:
            self.state.select(picked)
            self.context.errors.say(f"selected {picked.size} points: the nearest codes and their query")

    def _on_activated(self, item: QListWidgetItem) -> None:
        self.state.current_index = int(item.data(Qt.ItemDataRole.UserRole))

    def shutdown(self) -> None:
        """The window is closing: stop listening and stop the search."""
        for event in self._hooks:
            event.disconnect(self._schedule)
        self._hooks = ()
        self._timer.stop()
        self.jobs.shutdown(2000)
