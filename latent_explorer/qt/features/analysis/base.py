"""What every analysis panel shares: a pyqtgraph plot, an optional sortable table, export to PNG and CSV,
and a computation that runs in a worker and is redone when the codes change.

A panel only says what to compute (`make_job`, a core job) and how to draw it (`show_result`); the base
schedules it with ``window.runner``, drops stale results, and computes lazily: a panel hidden behind
another dock tab computes when it is first shown, not on every encoding. The current selection is drawn
against the whole as a second, filled curve (`make_overlay_job` / `show_overlay`); a `BandSelector`
(analysis_band.py) turns a dragged range on a histogram into ``state.selection``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.core.analysis import write_sheets
from latent_explorer.core.encoding import Codes
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.features.analysis.plotting import EmptyHint, plain_axes
from latent_explorer.qt.features.analysis.table import NumericTable
from latent_explorer.qt.figure_export import Figure, export_figure
from latent_explorer.qt.figure_options import FigureOptions, ask_figure_options, default_options
from latent_explorer.qt.job_controls import JobControls, PanelJob, failure_line, tool_button

# colours that read on the light and the dark theme alike
WHOLE_PEN = pg.mkPen((31, 119, 180), width=2)  # whole pixels: no uneven steps without antialiasing
SELECTION_PEN = pg.mkPen((214, 39, 40), width=1)
SELECTION_BRUSH = pg.mkBrush(214, 39, 40, 90)
MIN_EXPORT_WIDTH = 800

CsvSheet = tuple[list[str], list[list]]


# ---------------------------------------------------------------------------------------------- panel
class AnalysisPanel(QWidget):
    """Base of the analysis docks. Subclasses set ``name``/``title`` and implement the hooks below."""

    name = "analysis"
    title = "Analysis"
    follows_use_mu = True  # recompute when the scatter switches between z and mu
    auto_compute = True  # compute when codes arrive (False: only on the user's request)
    has_density_toggle = True  # offer "density" (curves normalised to unit area) instead of counts

    def __init__(self, context: FeatureContext):
        super().__init__()
        self.context = context
        self.state = context.state
        self.runner = context.jobs
        self.result: Any = None
        self.overlay: Any = None
        self._stale = True
        self.job = PanelJob(self.runner, self.name, self.title)
        self._tab_visible = True
        self.hints: list[EmptyHint] = []
        self.setObjectName(self.name)

        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(4, 2, 4, 2)
        self.job_controls = JobControls(self.cancel, width=120)
        self.progress_bar, self.cancel_button = self.job_controls.progress_bar, self.job_controls.cancel_button
        self.density_box = QCheckBox("density")
        self.density_box.setToolTip("Scale every curve to unit area, so a selection compares with the whole")
        self.density_box.toggled.connect(self.redraw)
        self.density_box.setVisible(self.has_density_toggle)
        self.recompute_button = tool_button("Recompute", self.compute, "Compute again with these settings")
        self.png_button = tool_button("PNG", self.ask_export_png, "Export the plot as a PNG image")
        self.csv_button = tool_button("CSV", self.ask_export_csv, "Export the numbers behind the plot as CSV")
        self.status = QLabel("")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.graphics = pg.GraphicsLayoutWidget()
        self.body = QSplitter(Qt.Orientation.Vertical)
        self.body.addWidget(self.graphics)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self.controls)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.status)

        self.build()
        for item in self.graphics.ci.items:  # every plot shows its values as they are, however it was made
            if isinstance(item, pg.PlotItem):
                plain_axes(item)
        self.controls.addStretch(1)
        for widget in (self.density_box, self.progress_bar, self.cancel_button, self.recompute_button,
                       self.png_button, self.csv_button):
            self.controls.addWidget(widget)

        self.state.events.codes.connect(self._on_codes)
        self.state.events.selection.connect(self._on_selection)
        self.state.events.use_mu.connect(self._on_use_mu)
        if self.state.codes is not None:
            self._on_codes(self.state.codes)
        else:
            self.show_hints()

    # ------------------------------------------------------------------ hooks for subclasses
    def build(self) -> None:
        """Add controls to ``self.controls`` and plots to ``self.graphics`` (and tables to ``self.body``)."""

    def make_job(self, codes: Codes) -> Job | None:
        """The core job computing this panel's result (it runs in a worker thread)."""
        return None

    def show_result(self, result: Any) -> None:
        """Draw a finished (or partial) result."""

    def clear(self) -> None:
        """Forget the drawing: no codes, or codes that changed."""

    def make_overlay_job(self, result: Any, selection: np.ndarray) -> Job | None:
        """The job computing the selection's curve on the result's bins, or None if this panel has none."""
        return None

    def show_overlay(self, overlay: Any) -> None:
        """Draw the selection's curve (None: remove it)."""

    def csv_sheets(self) -> dict[str, CsvSheet]:
        """The numbers behind the panel: sheet name -> (header, rows); the first sheet is the main one."""
        return {}

    def unavailable_reason(self, codes: Codes) -> str | None:
        """Why this panel has nothing to show for these codes (a VAE panel for a plain autoencoder), or None."""
        return None

    def idle_hint(self) -> str:
        """What the empty plot says when codes are there but nothing was computed yet."""
        return "Computes when this tab is shown"

    def figure_view(self) -> pg.GraphicsLayoutWidget:
        """The plots a figure of this panel shows (without the controls, tables and gallery)."""
        return self.graphics

    # ------------------------------------------------------------------ helpers for subclasses
    @property
    def overlay_name(self) -> str:
        return f"{self.name}:selection"

    @property
    def density(self) -> bool:
        return self.has_density_toggle and self.density_box.isChecked()

    def scaled(self, counts: np.ndarray, bin_width: float) -> np.ndarray:
        """Counts as drawn: raw, or normalised to unit area when "density" is on."""
        counts = np.asarray(counts, dtype=np.float64)
        if not self.density:
            return counts
        total = counts.sum(axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(total > 0, counts / (total * bin_width), 0.0)

    def count_label(self) -> str:
        return "density" if self.density else "points per bin"

    def latent(self) -> np.ndarray | None:
        return self.state.latent()

    def latent_name(self) -> str:
        codes = self.state.codes
        return "mu" if codes is not None and codes.is_variational and self.state.use_mu else "z"

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def add_hint(self, plot: pg.PlotItem) -> EmptyHint:
        """Say on ``plot`` what to do while it is empty (see `empty_hint_text`)."""
        hint = EmptyHint(plot)
        self.hints.append(hint)
        return hint

    def empty_hint_text(self) -> str:
        """The sentence an empty plot shows now: open data, not applicable, computing, or the panel's own."""
        codes = self.state.codes
        if codes is None:
            return f"Open a model and a dataset to see the {self.title.lower()}"
        reason = self.unavailable_reason(codes)
        if reason is not None:
            return reason
        if self.runner.is_running(self.name):
            return "Computing…"
        return self.idle_hint()

    def show_hints(self) -> None:
        text = self.empty_hint_text()
        for hint in self.hints:
            hint.show(text)

    def _draw(self, result: Any) -> None:
        for hint in self.hints:
            hint.hide()
        self.show_result(result)

    def bin_width_box(self, tip: str, decimals: int = 3) -> QDoubleSpinBox:
        """A bin-width spin box where 0 reads "auto"; editing it recomputes."""
        box = QDoubleSpinBox()
        box.setDecimals(decimals)
        box.setRange(0.0, 1e6)
        box.setSingleStep(10.0 ** -(decimals - 1))
        box.setSpecialValueText("auto")
        box.setToolTip(tip)
        box.setKeyboardTracking(False)
        box.valueChanged.connect(self.compute)
        self.controls.addWidget(QLabel("bin width"))
        self.controls.addWidget(box)
        return box

    # ------------------------------------------------------------------ computing
    @Slot()
    def compute(self) -> None:
        """Start this panel's job on the current codes (replacing a running one)."""
        self._stale = False
        codes = self.state.codes
        if codes is None:
            self._reset()
            self.set_status("no codes yet: open a model and a dataset")
            return
        job = self.make_job(codes)
        if job is None:
            self.show_hints()
            return
        self.job.start(job, on_progress=self._on_progress, on_done=self._on_finished, on_error=self._on_failed,
                       on_cancel=self._on_cancelled)
        self.set_status("computing…")
        if self.result is None:
            self.show_hints()

    def _reset(self) -> None:
        self.job.drop()
        self.result = None
        self.overlay = None
        self.runner.cancel(self.overlay_name)
        self.clear()
        self.show_hints()

    def is_shown(self) -> bool:
        """On screen: visible, and its dock is not a hidden tab (Qt keeps those "visible")."""
        return self.isVisible() and self._tab_visible

    @Slot(bool)
    def set_tab_visible(self, visible: bool) -> None:
        """The dock's ``visibilityChanged``: a tab brought to the front computes what it missed."""
        self._tab_visible = visible
        if visible and self._stale and self.state.codes is not None and self.auto_compute:
            QTimer.singleShot(0, self, self._compute_if_stale)

    @Slot()
    def cancel(self) -> None:
        self.runner.cancel(self.name)

    def refresh_overlay(self) -> None:
        selection = self.state.selection
        if self.result is None or selection is None or len(selection) == 0:
            self.runner.cancel(self.overlay_name)
            self.overlay = None
            self.show_overlay(None)
            return
        job = self.make_overlay_job(self.result, selection)
        if job is not None:
            self.runner.start(self.overlay_name, lambda: job, title=f"{self.title} (selection)",
                              on_done=self._on_overlay)

    @Slot()
    def redraw(self) -> None:
        if self.result is not None:
            self._draw(self.result)
        self.show_overlay(self.overlay)

    # ------------------------------------------------------------------ state and runner events
    def _on_codes(self, codes: Codes | None) -> None:
        self._reset()
        self._stale = True
        if codes is None:
            self.set_status("no codes yet: open a model and a dataset")
            return
        if not self.auto_compute:
            self._stale = False
            self.set_status(f"{len(codes):,} codes (z_dim {codes.latent_dim}) ready")
            return
        if self.is_shown():
            self.compute()
        else:
            self.set_status("computes when shown")

    def _on_use_mu(self, _value: bool) -> None:
        if self.follows_use_mu and self.state.codes is not None and self.state.codes.is_variational:
            self._on_codes(self.state.codes)

    def _on_selection(self, _selection: np.ndarray) -> None:
        self.refresh_overlay()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        if self._stale and self.state.codes is not None and self.auto_compute:
            QTimer.singleShot(0, self, self._compute_if_stale)

    def _compute_if_stale(self) -> None:
        if self._stale and self.is_shown():
            self.compute()

    def _on_progress(self, progress: Progress) -> None:
        if not isinstance(progress, Progress):
            return
        self.set_status(self.job_controls.show(progress))
        if progress.partial is not None:
            self.result = progress.partial
            self._draw(progress.partial)

    def _idle(self) -> None:
        self.job_controls.idle()

    def _on_finished(self, result: Any) -> None:
        self._idle()
        self.result = result
        self._draw(result)
        self.set_status(f"ready in {self.job.elapsed_s() * 1000:.0f} ms")
        self.refresh_overlay()

    def _on_overlay(self, overlay: Any) -> None:
        self.overlay = overlay
        self.show_overlay(overlay)

    def _on_failed(self, exc: BaseException) -> bool:
        self._idle()
        if self.result is None:
            self.show_hints()
        self.set_status(f"failed: {failure_line(exc)}")
        return False  # the runner's reporter tells the user as well

    def _on_cancelled(self, partial: Any) -> None:
        self._idle()
        if self.job.replacing:
            return
        if partial is not None:
            self.result = partial
            self._draw(partial)
        elif self.result is None:
            self.show_hints()
        self.set_status("cancelled" + (": showing what was computed" if partial is not None else ""))

    # ------------------------------------------------------------------ export
    def figure(self) -> Figure:
        return Figure(self.title, self.figure_view())

    def export_png(self, path: str | Path, width: int | None = None, title: str | None = None,
                   dpi: float | None = None) -> Path:
        """The plots as a PNG ``width`` pixels wide (at least `MIN_EXPORT_WIDTH`), with an optional title above
        and ``dpi`` written into the file (what a word processor sizes it by)."""
        figure = self.figure()
        width = max(MIN_EXPORT_WIDTH, int(width or figure.size.width()))
        return export_figure(figure, Path(path), width=width, heading=title, dpi=dpi)

    def export_csv(self, path: str | Path) -> list[Path]:
        """The first sheet goes to ``path``, every other one beside it as ``<stem>-<sheet>.csv`` (all or none)."""
        return self.export_data(path)

    def export_data(self, path: str | Path) -> list[Path]:
        """The numbers behind the panel by the file's suffix: CSV (one file per sheet) or JSON (one file)."""
        return write_sheets(path, self.csv_sheets(), title=self.title)

    def ask_png_options(self) -> FigureOptions | None:
        """Width, title and DPI of the PNG (None: cancelled). Tests replace this."""
        figure = self.figure()
        return ask_figure_options(self, self.title, figure.size, default_options(figure.size))

    def ask_export_png(self) -> None:
        options = self.ask_png_options()
        if options is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.title} as PNG", f"{self.name}.png",
                                              "PNG images (*.png)")
        if path:
            try:
                self.set_status(f"wrote {self.export_png(path, options.width, options.heading, options.dpi)}")
            except Exception as exc:  # noqa: BLE001 - any failure is reported, the session goes on
                self.context.errors.show_error(exc, "PNG export failed")

    def ask_export_csv(self) -> None:
        if not self.csv_sheets():
            self.set_status("nothing to export yet")
            return
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.title} as CSV", f"{self.name}.csv",
                                              "CSV files (*.csv)")
        if path:
            try:
                written = self.export_csv(path)
                self.set_status("wrote " + ", ".join(p.name for p in written))
            except OSError as exc:
                self.context.errors.show_error(exc, "CSV export failed")


# ---------------------------------------------------------------------------------------------- drawing
def step_curve(counts: np.ndarray, edges: np.ndarray, pen=WHOLE_PEN, brush=None) -> pg.PlotDataItem:
    """A histogram drawn as steps over its bin edges (filled down to 0 when ``brush`` is given)."""
    item = pg.PlotDataItem(edges, counts, stepMode="center", pen=pen)
    if brush is not None:
        item.setFillLevel(0)
        item.setBrush(brush)
    return item


def plot_click_handler(plot: pg.PlotItem, callback: Callable[[float, float, Qt.KeyboardModifier], None]):
    """Call ``callback(x, y, modifiers)`` in data coordinates for a left click inside ``plot``'s view box."""

    def on_click(event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        pos = event.scenePos()
        if not plot.vb.sceneBoundingRect().contains(pos):
            return
        point = plot.vb.mapSceneToView(pos)
        callback(point.x(), point.y(), event.modifiers())

    plot.scene().sigMouseClicked.connect(on_click)
    return on_click


def with_table(panel: AnalysisPanel, stretch: tuple[int, int] = (3, 2)) -> NumericTable:
    """Add a sortable table under the plot."""
    table = NumericTable()
    panel.body.addWidget(table)
    panel.body.setStretchFactor(0, stretch[0])
    panel.body.setStretchFactor(1, stretch[1])
    return table


# ---------------------------------------------------------------------------------------------- docks
def follow_dock(context: FeatureContext, widget: AnalysisPanel) -> None:
    """Once the window has made the dock: follow whether its tab is in front. A window shown already has
    sent the first visibility changes before this runs, so the current state is read off the dock."""
    dock = context.docks.dock(widget.name)
    if dock is not None:
        dock.visibilityChanged.connect(widget.set_tab_visible)
        if context.parent.isVisible():
            widget.set_tab_visible(not dock.visibleRegion().isEmpty())
