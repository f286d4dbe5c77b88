"""Linked brushing from a histogram: a dragged range selects the samples whose value lies in it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QToolButton

from latent_explorer.core.analysis import indices_in_band

if TYPE_CHECKING:
    from latent_explorer.qt.features.analysis.base import AnalysisPanel


class BandSelector(QObject):
    """A draggable range on a histogram; releasing it selects the samples whose value lies in the band.

    ``values()`` gives the per-sample quantity the histogram counts (radius, one axis, reconstruction
    error), or None when there is nothing to select from. While dragging only the count is shown; the
    selection is written to the state on release (sigRegionChangeFinished), which is the expensive part.
    """

    def __init__(self, panel: AnalysisPanel, plot: pg.PlotItem, values: Callable[[], np.ndarray | None]):
        super().__init__(panel)
        self.panel, self.plot, self.values = panel, plot, values
        self.region = pg.LinearRegionItem(brush=pg.mkBrush(31, 119, 180, 50))
        self.region.setZValue(10)
        self.region.sigRegionChanged.connect(self._on_dragging)
        self.region.sigRegionChangeFinished.connect(self._on_released)
        self.button = QToolButton()
        self.button.setText("Select range")
        self.button.setToolTip("Drag the band's edges over the histogram: the samples inside are selected")
        self.button.setCheckable(True)
        self.button.toggled.connect(self.set_active)
        self._selected: np.ndarray | None = None
        panel.state.events.selection.connect(self._on_state_selection)

    @property
    def active(self) -> bool:
        return self.region.scene() is not None

    @Slot(bool)
    def set_active(self, on: bool) -> None:
        if on == self.active:
            return
        if on:
            (x0, x1), _ = self.plot.vb.viewRange()
            span = x1 - x0
            self.region.blockSignals(True)
            self.region.setRegion((x0 + 0.6 * span, x0 + 0.8 * span))
            self.region.blockSignals(False)
            self.plot.addItem(self.region, ignoreBounds=True)
            self._on_released()
        else:
            self.plot.removeItem(self.region)
        self.button.blockSignals(True)
        self.button.setChecked(on)
        self.button.blockSignals(False)

    def set_band(self, lo: float, hi: float) -> None:
        """Place the band and select what it holds, as a drag ending there would."""
        self.set_active(True)
        self.region.setRegion((lo, hi))
        self.region.sigRegionChangeFinished.emit(self.region)

    def band_indices(self) -> np.ndarray | None:
        values = self.values()
        if values is None:
            return None
        lo, hi = self.region.getRegion()
        return indices_in_band(values, lo, hi)

    def _on_dragging(self) -> None:
        values = self.values()
        if values is not None:
            lo, hi = self.region.getRegion()
            count = int(np.count_nonzero((values >= lo) & (values <= hi)))
            self.panel.set_status(f"band {lo:.4g} … {hi:.4g}: {count:,} samples (release to select)")

    def _on_released(self) -> None:
        indices = self.band_indices()
        if indices is None:
            return
        lo, hi = self.region.getRegion()
        self._selected = indices
        self.panel.state.select(indices)
        self.panel.set_status(f"selected {len(indices):,} samples with {lo:.4g} ≤ value ≤ {hi:.4g}")

    def _on_state_selection(self, selection: np.ndarray) -> None:
        """A selection made elsewhere (scatter, another panel) detaches the band: hide it."""
        if self.active and (self._selected is None or not np.array_equal(selection, self._selected)):
            self.set_active(False)

    def reset(self) -> None:
        self._selected = None
        self.set_active(False)
