"""PCA spectrum: explained-variance ratio per component (bars) and cumulative (line).

Clicking a bar (or a table row) makes that component the scatter's horizontal PCA axis; with Shift held,
the vertical one. The components on screen are drawn in colour; the selection's own spectrum is overlaid.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from latent_explorer.core.analysis import PcaSpectrum, iter_pca_spectrum, pca_spectrum
from latent_explorer.core.encoding import Codes
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.core.state import ViewSpec
from latent_explorer.qt.features.analysis.base import (
    SELECTION_BRUSH,
    SELECTION_PEN,
    AnalysisPanel,
    CsvSheet,
    plot_click_handler,
    with_table,
)
from latent_explorer.qt.features.analysis.plotting import has_data, labelled_plot, set_legend, set_title

BAR_BRUSH = pg.mkBrush(150, 150, 150)
X_BRUSH = pg.mkBrush(31, 119, 180)
Y_BRUSH = pg.mkBrush(255, 127, 14)
CUMULATIVE_PEN = pg.mkPen(44, 160, 44, width=2)


class PcaSpectrumPanel(AnalysisPanel):
    name = "analysis-pca"
    title = "PCA spectrum"
    has_density_toggle = False

    def build(self) -> None:
        self.plot = labelled_plot(self.graphics, self.title, "principal component",
                                  "fraction of the variance explained", grid=(False, True), legend_at=(10, 10))
        self.graphics.setToolTip("Click a bar: that component on the scatter's x axis; Shift+click: on its y axis")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=BAR_BRUSH, pen=None)
        self.cumulative = pg.PlotDataItem(pen=CUMULATIVE_PEN, symbol="o", symbolSize=6, symbolBrush=(44, 160, 44),
                                          symbolPen=None)
        self.selection_curve = pg.PlotDataItem(pen=SELECTION_PEN, fillLevel=0, brush=SELECTION_BRUSH)
        for item in (self.bars, self.cumulative, self.selection_curve):
            self.plot.addItem(item)
        self.x_sample = pg.BarGraphItem(x=[], height=[], width=0.8, brush=X_BRUSH, pen=None)
        self.y_sample = pg.BarGraphItem(x=[], height=[], width=0.8, brush=Y_BRUSH, pen=None)
        self.add_hint(self.plot)
        plot_click_handler(self.plot, self._on_plot_click)
        self.table = with_table(self)
        self.table.rowClicked.connect(lambda component: self.set_component(int(component) - 1, self._slot()))
        self.state.events.view.connect(self._on_view)

    # ------------------------------------------------------------------ computing
    def make_job(self, codes: Codes) -> Job:
        return iter_pca_spectrum(self.latent())

    def make_overlay_job(self, result: PcaSpectrum, selection: np.ndarray) -> Job | None:
        if len(selection) < 2:
            return None
        values = self.latent()[selection]

        def job():
            yield Progress("selection's PCA spectrum", 0, None)
            return pca_spectrum(values)

        return job()

    # ------------------------------------------------------------------ drawing
    def show_result(self, result: PcaSpectrum) -> None:
        k = len(result.ratio)
        self.bars.setOpts(x=np.arange(1, k + 1), height=result.ratio, brushes=self._brushes(k))
        self.cumulative.setData(np.arange(1, k + 1), result.cumulative)
        self.table.set_rows(*result.table(), highlight=self._on_screen())
        set_title(self.plot, f"{self.title} of {self.latent_name()} ({k} components)",
                  f"first component {result.ratio[0]:.1%}; 90 % of the variance in {result.components_for(0.9)}, "
                  f"99 % in {result.components_for(0.99)} components")
        self._update_legend()

    def _update_legend(self) -> None:
        if self.result is None:
            set_legend(self.plot, [])
            return
        entries = [(self.bars, "per component"), (self.cumulative, "cumulative")]
        view = self.state.view
        if view.kind == "pca":
            entries += [(self.x_sample, f"PC{view.i + 1}: scatter x axis"), (self.y_sample, f"PC{view.j + 1}: y axis")]
        if has_data(self.selection_curve):
            entries.append((self.selection_curve, "selection, per component"))
        set_legend(self.plot, entries)

    def show_overlay(self, overlay: PcaSpectrum | None) -> None:
        if overlay is None:
            self.selection_curve.setData([], [])
        else:
            self.selection_curve.setData(np.arange(1, len(overlay.ratio) + 1), overlay.ratio)
        self._update_legend()

    def clear(self) -> None:
        set_legend(self.plot, [])
        self.bars.setOpts(x=[], height=[], brushes=None)
        for item in (self.cumulative, self.selection_curve):
            item.setData([], [])
        set_title(self.plot, self.title)
        self.table.setRowCount(0)

    def _on_screen(self) -> set[int]:
        """1-based numbers of the components the scatter shows (if it shows PCA)."""
        view = self.state.view
        return {view.i + 1, view.j + 1} if view.kind == "pca" else set()

    def _brushes(self, k: int) -> list:
        brushes = [BAR_BRUSH] * k
        view = self.state.view
        if view.kind == "pca":
            for component, brush in ((view.i, X_BRUSH), (view.j, Y_BRUSH)):
                if 0 <= component < k:
                    brushes[component] = brush
        return brushes

    def _on_view(self, _view: ViewSpec) -> None:
        if self.result is not None:
            self.show_result(self.result)

    # ------------------------------------------------------------------ interaction
    @staticmethod
    def _slot(modifiers=None) -> str:
        modifiers = QApplication.keyboardModifiers() if modifiers is None else modifiers
        return "y" if modifiers & Qt.KeyboardModifier.ShiftModifier else "x"

    def _on_plot_click(self, x: float, _y: float, modifiers) -> None:
        if self.result is None:
            return
        component = int(round(x)) - 1
        if 0 <= component < len(self.result.ratio):
            self.set_component(component, self._slot(modifiers))

    def set_component(self, component: int, slot: str = "x") -> None:
        """Put principal component ``component`` (0-based) on the PCA view's x or y axis."""
        if self.result is None or not 0 <= component < len(self.result.ratio):
            return
        view = self.state.view
        i, j = (view.i, view.j) if view.kind == "pca" else (0, 1)
        if slot == "x":
            i, j = component, (i if j == component else j)
        else:
            i, j = (j if i == component else i), component
        self.state.view = ViewSpec("pca", i, j)

    # ------------------------------------------------------------------ export
    def csv_sheets(self) -> dict[str, CsvSheet]:
        return {} if self.result is None else {"spectrum": self.result.table()}
