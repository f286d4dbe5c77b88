"""Density per axis: every axis' histogram overlaid, the axes that stand out flagged, one axis in focus.

The focused axis (click its curve or its table row) is drawn bold, carries the selection's curve and the
range selector; "alone" hides the other axes, and "→ x" / "→ y" put it on the scatter's raw-axes view.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QToolButton

from latent_explorer.core.analysis import AxisDensity, histogram, histogram_rows, iter_axis_density
from latent_explorer.core.encoding import Codes
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.core.state import ViewSpec
from latent_explorer.qt.features.analysis.band import BandSelector
from latent_explorer.qt.features.analysis.base import (
    SELECTION_BRUSH,
    SELECTION_PEN,
    AnalysisPanel,
    CsvSheet,
    plot_click_handler,
    step_curve,
    with_table,
)
from latent_explorer.qt.features.analysis.plotting import has_data, labelled_plot, set_legend, set_title

OTHER_PEN = pg.mkPen(120, 120, 120, 90, width=1)
FLAGGED_PEN = pg.mkPen(255, 127, 14, 230, width=2)
FOCUS_PEN = pg.mkPen(31, 119, 180, width=3)


class AxisDensityPanel(AnalysisPanel):
    name = "analysis-axes"
    title = "Density per axis"

    def build(self) -> None:
        self.axis: int = -1  # the axis in focus; -1 until a result picks one
        self.width_box = self.bin_width_box("Bin width along every axis (auto: a tenth of the typical axis width)")
        self.alone_box = QCheckBox("alone")
        self.alone_box.setToolTip("Show only the axis in focus")
        self.alone_box.toggled.connect(self.redraw)
        self.controls.addWidget(self.alone_box)
        for text, slot, tip in (("→ x", lambda: self.put_on_scatter("x"), "Scatter this axis horizontally (raw axes)"),
                                ("→ y", lambda: self.put_on_scatter("y"), "Scatter this axis vertically (raw axes)")):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            self.controls.addWidget(button)
        self.plot = labelled_plot(self.graphics, self.title, "coordinate value (latent units)", self.count_label())
        self.others = pg.PlotDataItem(pen=OTHER_PEN, connect="finite")
        self.flagged_curve = pg.PlotDataItem(pen=FLAGGED_PEN, connect="finite")
        self.focus_curve = pg.PlotDataItem(pen=FOCUS_PEN)
        self.selection_curve = step_curve(np.zeros(1), np.zeros(2), pen=SELECTION_PEN, brush=SELECTION_BRUSH)
        for item in (self.others, self.flagged_curve, self.selection_curve, self.focus_curve):
            self.plot.addItem(item)
        self.band = BandSelector(self, self.plot, self._focus_values)
        self.controls.addWidget(self.band.button)
        self.add_hint(self.plot)
        plot_click_handler(self.plot, self._on_plot_click)
        self.table = with_table(self)
        self.table.setSortingEnabled(True)
        self.table.rowClicked.connect(self.set_axis)
        self.table.rowDoubleClicked.connect(lambda axis: (self.set_axis(axis), self.alone_box.setChecked(True)))

    # ------------------------------------------------------------------ computing
    def make_job(self, codes: Codes) -> Job:
        return iter_axis_density(self.latent(), self.width_box.value() or None)

    def make_overlay_job(self, result: AxisDensity, selection: np.ndarray) -> Job:
        values, edges, axis = self.latent()[selection, self.axis], result.histogram.edges, self.axis

        def job():
            yield Progress("selection per axis", 0, None)
            return axis, histogram(values, edges)

        return job()

    # ------------------------------------------------------------------ drawing
    def show_result(self, result: AxisDensity) -> None:
        flagged = result.stats.flagged_axes
        if not 0 <= self.axis < len(result.stats.centre):  # new codes: focus the first axis that stands out
            self.axis = int(flagged[0]) if len(flagged) else 0
        header, rows = result.stats.table()
        rows = [[*row[:-1], bool(row[-1])] for row in rows]  # "yes" in the flagged column
        self.table.set_rows(header, rows, highlight=set(flagged.tolist()))
        self.table.select_key(self.axis)
        self._draw_curves()
        listed = ", ".join(map(str, flagged[:12])) + ("…" if len(flagged) > 12 else "")
        self.set_status(f"{len(rows)} axes, {len(flagged)} flagged" + (f": {listed}" if len(flagged) else ""))

    def _draw_curves(self) -> None:
        result: AxisDensity = self.result
        hist = result.histogram
        centres = hist.centres
        counts = self.scaled(hist.counts, hist.bin_width)
        flagged = result.stats.flagged.copy()
        alone = self.alone_box.isChecked()
        others = ~flagged
        others[self.axis] = flagged[self.axis] = False
        self.others.setData(*_joined(centres, counts[others]) if not alone else ([], []))
        self.flagged_curve.setData(*_joined(centres, counts[flagged]) if not alone else ([], []))
        self.focus_curve.setData(centres, counts[self.axis])
        self.plot.setLabel("bottom", f"coordinate value of {self.latent_name()} (latent units)")
        self.plot.setLabel("left", self.count_label())
        stats = result.stats
        set_title(self.plot, f"{self.title} ({len(counts)} axes of {self.latent_name()})",
                  f"axis {self.axis} in focus: centre {stats.centre[self.axis]:.3g}, "
                  f"width {stats.width[self.axis]:.3g}" + (" (flagged)" if stats.flagged[self.axis] else ""))
        self._update_legend()
        if alone:
            self.plot.enableAutoRange()

    def _update_legend(self) -> None:
        """Name what is drawn: the other axes, the flagged ones, the axis in focus and the selection on it."""
        if self.result is None:
            set_legend(self.plot, [])
            return
        alone = self.alone_box.isChecked()
        flagged = int(self.result.stats.flagged.sum()) - int(bool(self.result.stats.flagged[self.axis]))
        others = len(self.result.stats.centre) - 1 - flagged
        entries = []
        if not alone and others:
            entries.append((self.others, f"other axes ({others})"))
        if not alone and flagged:
            entries.append((self.flagged_curve, f"flagged axes ({flagged}): centre or width stands out"))
        entries.append((self.focus_curve, f"axis {self.axis} (in focus)"))
        if has_data(self.selection_curve):
            entries.append((self.selection_curve, f"selection on axis {self.axis}"))
        set_legend(self.plot, entries)

    def show_overlay(self, overlay) -> None:
        if overlay is None or self.result is None or overlay[0] != self.axis:
            self.selection_curve.setData([], [])
        else:
            hist = self.result.histogram
            self.selection_curve.setData(hist.edges, self.scaled(overlay[1], hist.bin_width))
        self._update_legend()

    def clear(self) -> None:
        for item in (self.others, self.flagged_curve, self.focus_curve, self.selection_curve):
            item.setData([], [])
        self.table.setRowCount(0)
        set_title(self.plot, self.title)
        set_legend(self.plot, [])
        self.band.reset()
        self.axis = -1

    # ------------------------------------------------------------------ interaction
    def set_axis(self, axis: int) -> None:
        """Focus one axis: bold curve, title, the selection's curve and the range selector follow it."""
        if self.result is None or not 0 <= int(axis) < len(self.result.stats.centre):
            return
        self.axis = int(axis)
        self.table.select_key(self.axis)
        self._draw_curves()
        self.band.reset()
        self.refresh_overlay()

    def _on_plot_click(self, x: float, y: float, _modifiers) -> None:
        """Focus the axis whose curve passes nearest the click, at the clicked coordinate's bin."""
        if self.result is None or self.alone_box.isChecked():
            return
        hist = self.result.histogram
        b = int(np.clip(np.searchsorted(hist.edges, x) - 1, 0, len(hist.centres) - 1))
        counts = self.scaled(hist.counts, hist.bin_width)[:, b]
        self.set_axis(int(np.argmin(np.abs(counts - y))))

    def put_on_scatter(self, slot: str) -> None:
        """Show the focused axis on the scatter's raw view, keeping the other axis when there is one."""
        codes = self.state.codes
        if codes is None:
            return
        view = self.state.view
        if view.kind == "raw":
            i, j = (self.axis, view.j) if slot == "x" else (view.i, self.axis)
        else:
            other = next(a for a in range(codes.latent_dim) if a != self.axis) if codes.latent_dim > 1 else 0
            i, j = (self.axis, other) if slot == "x" else (other, self.axis)
        self.state.view = ViewSpec("raw", i, j)

    def _focus_values(self) -> np.ndarray | None:
        latent = self.latent()
        return None if latent is None or self.result is None else latent[:, self.axis]

    # ------------------------------------------------------------------ export
    def csv_sheets(self) -> dict[str, CsvSheet]:
        if self.result is None:
            return {}
        hist = self.result.histogram
        header = ["bin start", "bin end", *(f"axis {a}" for a in range(len(hist.counts)))]
        return {"axes": self.result.stats.table(), "histograms": (header, histogram_rows(hist.edges, *hist.counts))}


def _joined(x: np.ndarray, curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Many curves on the same x as one polyline broken by NaN: one item draws them all."""
    if len(curves) == 0:
        return np.zeros(0), np.zeros(0)
    xs = np.tile(np.append(x, np.nan), len(curves))
    ys = np.hstack([curves, np.full((len(curves), 1), np.nan)]).ravel()
    return xs, ys
