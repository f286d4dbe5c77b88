"""LatentScatter: the latent-space scatter plot, fast to ten million points.

The cloud is one `PointCloudItem` (rasterised at device resolution each time the view changes, see
`core.splat`), the point under the mouse comes from a `core.spatial.GridIndex` (never from per-point graphics
objects), and the class legend / colour bar sit beside it. New coordinates are drawn at once, unsorted; their one
sort (into grid order, which serves both the frames and the look-ups) runs in a worker thread, and the sorted
points replace the unsorted ones when it is done; until then look-ups scan every point (a few milliseconds at a
million), so the scatter answers from the first moment and the GUI thread never waits for the sort.

A large cloud (`BACKGROUND_STYLE_POINTS` and more) goes further: its float32 copy, its sort and its colour layers
(the level of detail of `core.splat.build_layers` included) are all made in the worker, in that order, and
swapped in as each lands (one colour first, the class colours when ready; a cloud streamed with the same size
keeps its last picture meanwhile), so that no stage of a load blocks the GUI thread for long.

The widget emits what the user does (hover, click, box and lasso selections, legend toggles, view changes) and
shows what it is told (points, colours, selection, markers); it owns no application state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCursor, QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from latent_explorer.core import splat_jit
from latent_explorer.core.colors import (
    UNIFORM_COLOR,
    categorical_palette,
    colormap_lut,
    quantize,
    value_range,
)
from latent_explorer.core.spatial import brute_in_polygon, brute_in_rect, brute_nearest, simplify_polyline
from latent_explorer.core.splat import (
    LOD_POINTS,
    MAX_SLOTS,
    MISSING_SLOT,
    Layer,
    SortedPoints,
    build_layers,
    preview_layer,
    slot_palette,
)
from latent_explorer.qt.legend import ClassLegend
from latent_explorer.qt.point_cloud import PointCloudItem
from latent_explorer.qt.scatter_axis import FastAxis
from latent_explorer.qt.scatter_canvas import ScatterCanvas
from latent_explorer.qt.scatter_toolbar import ScatterToolbar
from latent_explorer.qt.scatter_view import TOOLS, ScatterViewBox

HOVER_RADIUS_PX = 8.0
HOVER_RATE_HZ = 60
VIEW_SETTLE_MS = 150
SORT_POLL_MS = 5
BACKGROUND_STYLE_POINTS = 200_000  # from this many points colours are prepared in the worker (10-25 ms at 1M)
HUGE_POINTS = LOD_POINTS  # from this many points class ids are counted in the worker, bounds first sampled
BOUNDS_SAMPLE = 10_000  # rows read for a huge cloud's first view (each row a cache miss: about 1 ms)
LASSO_STEP_PX = 2.0
RESET_PADDING = 0.03
SUBTRACT_MODIFIERS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


_SORTER: ThreadPoolExecutor | None = None


def sorter() -> ThreadPoolExecutor:
    """The one worker thread that sorts new layouts for every scatter (pure numpy: it touches no Qt object)."""
    global _SORTER
    if _SORTER is None:
        _SORTER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scatter-sort")
    return _SORTER


def selection_mode(modifiers: Qt.KeyboardModifier) -> str:
    """Shift adds to the selection, Ctrl or Alt subtracts from it, no modifier replaces it."""
    if modifiers & Qt.KeyboardModifier.ShiftModifier:
        return "add"
    if modifiers & SUBTRACT_MODIFIERS:
        return "subtract"
    return "replace"


def compact_labels(labels: np.ndarray) -> np.ndarray:
    """Class ids as int32 where they fit (half the memory of int64 at a million points), else int64."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iub":
        labels = labels.astype(np.int64)
    if labels.size and labels.dtype.itemsize > 4 and (labels.min() < -2**31 or labels.max() >= 2**31):
        return labels.astype(np.int64, copy=False)
    return labels.astype(np.int32, copy=False)


def color_slots(n: int, mode: str, labels: np.ndarray | None, n_classes: int, class_colors: np.ndarray,
                values: np.ndarray | None, levels: tuple[float, float], cmap: str,
                uniform_color: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Colour slot of every point and the (256, 3) slot palette of a colouring ("categorical", "continuous",
    else one colour)."""
    if mode == "categorical" and labels is not None:
        # one table look-up per point: class k → slot k % MAX_SLOTS + 1; anything else is clipped to -1 or
        # n_classes, both reading the last entry: missing
        table = np.full(n_classes + 1, MISSING_SLOT, np.uint8)
        table[:n_classes] = np.arange(n_classes) % MAX_SLOTS + 1
        return table[np.clip(labels, -1, n_classes)], slot_palette(class_colors)
    if mode == "continuous" and values is not None:
        level = quantize(values, *levels, MAX_SLOTS)
        slots = np.where(level < 0, MISSING_SLOT, level + 1).astype(np.uint8)
        return slots, slot_palette(colormap_lut(cmap, MAX_SLOTS))
    return np.ones(n, np.uint8), slot_palette(np.array([uniform_color], np.uint8))


@dataclass(frozen=True)
class StyleSnapshot:
    """A colouring as it was asked for: what the layers of any points are built from, in whichever thread."""

    n: int
    mode: str
    labels: np.ndarray | None
    n_classes: int
    class_colors: np.ndarray
    values: np.ndarray | None
    levels: tuple[float, float]
    cmap: str
    uniform_color: tuple[int, int, int]
    hidden: tuple[int, ...]
    selection: np.ndarray

    def shown(self) -> np.ndarray | None:
        """(n,) bool of the points look-ups may find (None: all), hidden classes left out."""
        if self.mode == "categorical" and self.hidden and self.labels is not None:
            return ~np.isin(self.labels, np.asarray(self.hidden, self.labels.dtype))
        return None

    def layers(self, points: SortedPoints, shown: np.ndarray | None) -> tuple[list[Layer], np.ndarray]:
        """The draw passes of these points in this colouring, and the slot palette."""
        slots, palette = color_slots(self.n, self.mode, self.labels, self.n_classes, self.class_colors, self.values,
                                     self.levels, self.cmap, self.uniform_color)
        selected = None
        if len(self.selection):
            selected = np.zeros(self.n, bool)
            selected[self.selection] = True
        return build_layers(points, slots, palette, shown, selected), palette


def compact_labels_and_counts(labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """`compact_labels` and `class_counts` together: in one compiled pass where numba is ready (a million ids in
    about 2 ms instead of 8), else with numpy."""
    labels = np.asarray(labels)
    if splat_jit.ready() and labels.dtype in splat_jit.LABEL_DTYPES and labels.flags.c_contiguous:
        out, counts = np.empty(len(labels), np.int32), np.zeros(n_classes, np.int64)
        if splat_jit.kernel("compact_labels")(labels, out, counts):
            return out, counts
    labels = compact_labels(labels)
    return labels, class_counts(labels, n_classes)


def class_counts(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes,) points per class; ids outside [0, n_classes) are not counted. One pass where every id is
    in range (the usual case: a mask and a copy first cost 10 times more at ten million points)."""
    if not labels.size:
        return np.zeros(n_classes, np.int64)
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0 or hi >= n_classes:
        labels = labels[(labels >= 0) & (labels < n_classes)]
    return np.bincount(labels, minlength=n_classes)[:n_classes]


class PassiveScatterItem(pg.ScatterPlotItem):
    """A few symbols (hover ring, named markers) that never take a click meant for the points beneath."""

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph name
        ev.ignore()


class LatentScatter(QWidget):
    """The scatter plot of a 2-D view of the codes.

    Shows: `set_points`, then `set_categorical` / `set_continuous` / `set_uniform`, `set_selection`,
    `set_hidden_classes`, `set_marker`. Reports: sigHovered / sigClicked (point index or -1), sigSelected
    (indices, "replace" | "add" | "subtract"), sigHiddenChanged (legend toggles), sigMouseMoved (data x, y),
    sigViewChanged ((x0, x1, y0, y1) once the view settles) and sigPathDrawn (the "path" tool's polyline).
    ``plot_item`` takes the overlays of other views.
    """

    sigMissingCounted = Signal(int)  # NaN/inf rows of the points, once counted (a large cloud's in the worker)
    sigHovered = Signal(int)
    sigClicked = Signal(int)
    sigSelected = Signal(object, str)
    sigMouseMoved = Signal(float, float)
    sigViewChanged = Signal(object)
    sigHiddenChanged = Signal(object)
    sigPathDrawn = Signal(object)  # (n, 2) data coordinates of a polyline drawn with the "path" tool

    def __init__(self, parent: QWidget | None = None, toolbar: bool = True) -> None:
        super().__init__(parent)
        self._xy = np.zeros((0, 2))
        self._points = SortedPoints.unsorted(self._xy)
        self._sorting: Future | None = None
        self._styling: Future | None = None  # layers being prepared in the worker (large clouds)
        self._preparing: Future | None = None  # a large cloud's float32 copy being made in the worker
        self._first_frame = {"fresh": False, "reset": False}  # what to do when that copy lands
        self._labelling: Future | None = None  # a huge cloud's class ids, made int32 and counted
        self._mode = "uniform"  # "uniform" | "categorical" | "continuous"
        self._labels: np.ndarray | None = None
        self._names: list[str] = []
        self._class_colors = np.zeros((0, 3), np.uint8)
        self._values: np.ndarray | None = None
        self._value_label = ""
        self._cmap = "viridis"
        self._levels = (0.0, 1.0)
        self._uniform_color = UNIFORM_COLOR
        self._hidden: set[int] = set()
        self._shown: np.ndarray | None = None
        self._selection = np.zeros(0, np.int64)
        self._hovered = -1
        self._markers: dict[str, PassiveScatterItem] = {}

        self.plot_widget = ScatterCanvas()
        self.plot_widget.setBackground("w")
        self.view_box = ScatterViewBox(self)
        self.plot_item: pg.PlotItem = self.plot_widget.addPlot(
            row=0, col=0, viewBox=self.view_box, axisItems={side: FastAxis(side) for side in ("left", "bottom")})
        self.plot_item.hideButtons()
        for side in ("left", "bottom", "top", "right"):
            # an SI prefix is never wanted on latent coordinates, and checking for one re-lays the label out
            # (HTML and geometry) at every range change, hidden axes too: a second paint per frame
            self.plot_item.getAxis(side).enableAutoSIPrefix(False)
        self.view_box.disableAutoRange()
        self.cloud = PointCloudItem()
        self.cloud.setZValue(-10)  # overlays other panels add (paths, ellipses) go above the points
        self.plot_item.addItem(self.cloud)
        self.plot_widget.cover_with(self.cloud)
        self.hover_marker = PassiveScatterItem(size=12, pen=pg.mkPen((0, 0, 0), width=1.5), brush=None)
        self.hover_marker.setZValue(50)
        self.hover_marker.hide()
        self.plot_item.addItem(self.hover_marker, ignoreBounds=True)
        self.color_bar: pg.ColorBarItem | None = None

        self.legend = ClassLegend()
        self.legend.setMaximumWidth(190)
        self.legend.hide()
        self.legend.sigHiddenChanged.connect(self._on_legend_hidden)

        self.toolbar = ScatterToolbar()
        self.toolbar.sigTool.connect(self.set_tool)
        self.toolbar.sigResetView.connect(self.reset_view)
        self.toolbar.sigDensity.connect(self.set_density_mode)
        self.toolbar.sigPointSize.connect(self.set_point_size)
        self.toolbar.sigOpacity.connect(self.set_opacity)
        self.toolbar.setVisible(toolbar)

        self.missing_label = QLabel(self.plot_widget)
        self.missing_label.setStyleSheet("color: #b03030; background: rgba(255,255,255,200); padding: 2px;")
        self.missing_label.hide()
        self.tooltip_label = QLabel(self.plot_widget)
        self.tooltip_label.setStyleSheet("background: #ffffee; border: 1px solid #888; padding: 3px;")
        self.tooltip_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.tooltip_label.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.plot_widget, 1)
        row.addWidget(self.legend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addLayout(row, 1)

        self._mouse_proxy = pg.SignalProxy(self.plot_widget.scene().sigMouseMoved, rateLimit=HOVER_RATE_HZ,
                                           slot=self._on_mouse_moved)
        self._view_timer = QTimer(self, singleShot=True, interval=VIEW_SETTLE_MS)
        self._view_timer.timeout.connect(lambda: self.sigViewChanged.emit(self.visible_rect()))
        self.view_box.sigRangeChanged.connect(self._view_timer.start)
        self.view_box.sigResized.connect(self._place_overlays)
        # the sort's result is collected by polling from the GUI thread: the worker never holds a Qt object
        self._sort_timer = QTimer(self, interval=SORT_POLL_MS)
        self._sort_timer.timeout.connect(self._collect_sorted)
        self._levels_timer = QTimer(self, singleShot=True, interval=30)
        self._levels_timer.timeout.connect(self._apply_color_bar_levels)
        self.plot_widget.installEventFilter(self)

    # ------------------------------------------------------------------ data
    @property
    def n_points(self) -> int:
        return len(self._xy)

    @property
    def missing_count(self) -> int:
        """How many rows have NaN/inf coordinates (not drawn, not selectable)."""
        return self._points.missing_count

    @property
    def selection(self) -> np.ndarray:
        return self._selection.copy()

    @property
    def hidden_classes(self) -> set[int]:
        return set(self._hidden)

    @property
    def hovered_index(self) -> int:
        return self._hovered

    @property
    def tool(self) -> str:
        return self.view_box.tool

    @property
    def point_size(self) -> int:
        """Dot diameter in (logical) pixels."""
        return self.cloud.point_size

    @property
    def opacity(self) -> float:
        return self.cloud.opacity

    @property
    def density_mode(self) -> bool:
        return self.cloud.density

    @property
    def index_ready(self) -> bool:
        """Whether the points are in grid order (fast look-ups and frames); False while the sort runs."""
        if self._preparing is not None or self._sorting is not None:
            return False
        return self._points.grid is not None or not len(self._points)

    @property
    def loading(self) -> bool:
        """Whether the worker is still preparing the points (copy, sort, hover grid, a large cloud's colours)."""
        return any(job is not None for job in self._worker_jobs())

    def _worker_jobs(self) -> tuple[Future | None, ...]:
        """The worker's jobs for the current points: copy, sort, colours, class ids (None where not running)."""
        return self._preparing, self._sorting, self._styling, self._labelling

    def set_points(self, xy: np.ndarray, keep_view: bool = False) -> None:
        """New coordinates (N, 2). Colours, selection and hidden classes are kept while N stays the same.

        Float arrays are kept as given (not copied): the caller must not change them afterwards.
        """
        xy = np.asarray(xy)
        if xy.dtype.kind != "f":
            xy = xy.astype(np.float64)
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError(f"set_points takes an (N, 2) array, got shape {xy.shape}")
        if len(xy) != len(self._xy):
            self._mode, self._labels, self._values = "uniform", None, None
            self._selection = np.zeros(0, np.int64)
            self._shown = None
            self.legend.hide()
            self._show_color_bar(False)
        n_changed = len(xy) != len(self._xy)
        self._xy = xy
        for pending in self._worker_jobs():
            if pending is not None:
                pending.cancel()  # a layout streamed since: its sort and colours are not wanted any more
        self._preparing = self._sorting = self._styling = self._labelling = None
        self._set_hovered(-1)
        if self._background_style():
            # a large cloud: even its float32 copy (25 ms at 1M) is made in the worker, then sorted, then
            # coloured; each stage is swapped in as it lands (`_collect_sorted`), the GUI thread never waits
            self._points = SortedPoints.unsorted(np.zeros((0, 2)))  # look-ups find nothing for those few ms
            preparing = self._preparing = sorter().submit(SortedPoints.unsorted, xy)
            self._sorting = sorter().submit(lambda: preparing.result().sorted())
            self._first_frame = {"fresh": n_changed or not self.cloud.layers, "reset": not keep_view}
            if not keep_view:
                self._reset_to_bounds_of(xy)
            self._restyle()
            return
        self._points = SortedPoints.unsorted(xy)
        if len(self._points) > 1:
            self._sorting = sorter().submit(self._points.sorted)
            self._sort_timer.start()
        self.cloud.set_points(self._points)
        self._restyle()
        self._show_missing()
        if not keep_view:
            self.reset_view()

    @Slot()
    def _collect_sorted(self) -> None:
        """Swap in what the worker finished: the sorted points (same coordinates: nothing moves on screen) and,
        for a large cloud, its colours."""
        future = self._preparing
        if future is not None and future.done():
            self._preparing = None
            points = future.result()  # (a failure in the worker is raised here, in the GUI thread)
            self._points = points
            if self._first_frame["fresh"]:
                # drawn at once in one colour (no per-point work), coloured when the worker is done; a cloud
                # streamed with the same size keeps its last picture instead (a one-colour frame would flicker)
                palette = slot_palette(np.array([self._uniform_color], np.uint8))
                self.cloud.set_points(points)
                self.cloud.set_layers([preview_layer(points, palette)], palette)
            self._show_missing()
            if self._first_frame["reset"]:
                self.reset_view()
        future = self._sorting
        if future is not None and future.done() and self._preparing is None:
            self._sorting = None
            points = future.result()
            if points.n_total == self._points.n_total:
                self._points = points
                if not self._background_style():
                    self.cloud.set_points(points)
                    self._restyle()
        future = self._styling
        if future is not None and future.done() and self._preparing is None:
            self._styling = None
            if not future.cancelled():
                points, layers, palette, shown = future.result()
                if points.n_total == self._points.n_total:
                    self._shown = shown
                    self.cloud.set_points(points)
                    self.cloud.set_layers(layers, palette)
                    if self._hovered >= 0 and shown is not None and not shown[self._hovered]:
                        self._set_hovered(-1)
        future = self._labelling
        if future is not None and future.done():
            self._labelling = None
            if not future.cancelled():
                labels, counts = future.result()
                if self._mode == "categorical" and len(labels) == self.n_points:
                    self._labels = labels  # the same ids, in half the memory
                    self._fill_legend(counts)
        if not self.loading:
            self._sort_timer.stop()

    def wait_until_sorted(self, timeout: float | None = None) -> None:
        """Block until the background sort (and the colours of a large cloud) are done and swapped in (tests,
        exports)."""
        for pending in self._worker_jobs():
            if pending is not None and not pending.cancelled():
                with contextlib.suppress(CancelledError):  # a newer layout replaced it meanwhile
                    pending.exception(timeout)
        self._collect_sorted()

    def set_categorical(self, labels: np.ndarray, names: Sequence[str]) -> None:
        """Colour by class: tab10/tab20/glasbey, with a legend (click hides, double-click isolates)."""
        names = [str(n) for n in names]
        labels = self._per_point(labels, "labels")
        if self._labelling is not None:
            self._labelling.cancel()
            self._labelling = None
        if self.n_points >= HUGE_POINTS and labels.dtype.kind in "iu":
            # a huge cloud's ids are made int32 and counted in the worker (30 ms of the GUI thread at ten
            # million); they colour as given meanwhile, and the legend's counts follow
            counts = None
            self._labelling = sorter().submit(compact_labels_and_counts, labels, len(names))
            self._sort_timer.start()
        else:
            labels, counts = compact_labels_and_counts(labels, len(names))
        self._mode, self._labels, self._names = "categorical", labels, names
        self._class_colors = categorical_palette(len(names))
        self._hidden = {h for h in self._hidden if h < len(names)}
        self._fill_legend(counts)
        self.legend.show()
        self._show_color_bar(False)
        self._restyle()

    def _fill_legend(self, counts: np.ndarray | None) -> None:
        """The legend's rows for the current classes (their colours, ``counts`` where known) and hidden set."""
        self.legend.set_classes(self._names, self._class_colors[np.arange(len(self._names)) % MAX_SLOTS], counts)
        self.legend.set_hidden(self._hidden)

    def set_continuous(self, values: np.ndarray, label: str, cmap: str = "viridis") -> None:
        """Colour by a value through a colour map, with a colour bar whose handles adjust the range."""
        values = self._per_point(values, "values").astype(np.float32)
        lut = colormap_lut(cmap, MAX_SLOTS)  # raises for an unknown name before anything changes
        self._mode, self._values, self._value_label, self._cmap = "continuous", values, label, cmap
        self._levels = value_range(values)
        self.legend.hide()
        self._show_color_bar(True, lut)
        self._restyle()

    def set_uniform(self, color: tuple[int, int, int] = UNIFORM_COLOR) -> None:
        """One colour for every point (colour by "none")."""
        self._mode, self._uniform_color = "uniform", tuple(int(c) for c in color)
        self.legend.hide()
        self._show_color_bar(False)
        self._restyle()

    def set_hidden_classes(self, hidden: set[int]) -> None:
        """Hide these classes (categorical colouring). Does not emit sigHiddenChanged."""
        self._hidden = {int(h) for h in hidden}
        self.legend.set_hidden(self._hidden)
        self._restyle()

    def set_selection(self, indices: np.ndarray) -> None:
        """Highlight these points and grey the rest; an empty array greys nothing."""
        idx = np.unique(np.asarray(indices, dtype=np.int64).ravel())
        self._selection = idx[(idx >= 0) & (idx < self.n_points)]
        self._restyle()

    def _per_point(self, array: np.ndarray, what: str) -> np.ndarray:
        array = np.asarray(array).ravel()
        if len(array) != self.n_points:
            raise ValueError(f"{len(array)} {what} for {self.n_points} points")
        return array

    # ------------------------------------------------------------------ style
    def set_point_size(self, px: float) -> None:
        self.cloud.set_point_size(px)
        self._sync_toolbar()

    def set_opacity(self, a: float) -> None:
        self.cloud.set_opacity(a)
        self._sync_toolbar()

    def set_density_mode(self, on: bool) -> None:
        self.cloud.set_density_mode(on)
        self._sync_toolbar()

    def set_axis_labels(self, x: str, y: str) -> None:
        self.plot_item.setLabel("bottom", x)
        self.plot_item.setLabel("left", y)

    def set_tool(self, tool: str) -> None:
        """"pan" | "zoom" | "box" | "lasso" | "path" — what a left drag does."""
        self.view_box.set_tool(tool)
        cursor = Qt.CursorShape.OpenHandCursor if tool == "pan" else Qt.CursorShape.CrossCursor
        self.plot_widget.viewport().setCursor(cursor)
        self._sync_toolbar()

    def _sync_toolbar(self) -> None:
        self.toolbar.show_state(self.view_box.tool, self.cloud.density, self.cloud.point_size, self.cloud.opacity)

    def _background_style(self) -> bool:
        """Whether colours are prepared in the worker: a large cloud, where that costs tens of milliseconds."""
        return self.n_points >= BACKGROUND_STYLE_POINTS

    def _style(self) -> StyleSnapshot:
        """The current colouring, frozen (the arrays it holds are replaced, never changed in place), so that its
        layers can be built in the worker thread while the widget goes on."""
        return StyleSnapshot(self.n_points, self._mode, self._labels, len(self._names), self._class_colors,
                             self._values, self._levels, self._cmap, self._uniform_color, tuple(sorted(self._hidden)),
                             self._selection)

    def _restyle(self) -> None:
        """The style changed: what look-ups may find now, and the layers, built when the next frame is drawn
        (or, for a large cloud, in the worker: the frame keeps the last colours until they are ready)."""
        build = self._style()
        if self._background_style():
            if self._styling is not None:
                self._styling.cancel()
            sorting, points = self._sorting, self._points

            def job() -> tuple:
                # the worker runs jobs in order: the copy and sort submitted before this job are finished by now
                source = sorting.result() if sorting is not None else points
                shown = build.shown()
                return (source, *build.layers(source, shown), shown)

            self._styling = sorter().submit(job)
            self._sort_timer.start()
            return
        self._shown = shown = build.shown()
        self.cloud.set_layer_source(lambda: build.layers(self._points, shown))
        if self._hovered >= 0 and self._shown is not None and not self._shown[self._hovered]:
            self._set_hovered(-1)

    def _show_color_bar(self, on: bool, lut: np.ndarray | None = None) -> None:
        if not on:
            if self.color_bar is not None:
                self.color_bar.hide()
            return
        cmap = pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut)
        lo, hi = self._levels
        if self.color_bar is None:
            self.color_bar = pg.ColorBarItem(values=(lo, hi), colorMap=cmap, label=self._value_label,
                                             interactive=True, rounding=(hi - lo) / 1000.0, colorMapMenu=False)
            self.color_bar.sigLevelsChanged.connect(lambda *_: self._levels_timer.start())
            self.color_bar.sigLevelsChangeFinished.connect(self._apply_color_bar_levels)
            self.plot_widget.addItem(self.color_bar, row=0, col=1)
        else:
            self.color_bar.rounding = (hi - lo) / 1000.0
            self.color_bar.setColorMap(cmap)
            self.color_bar.setLevels((lo, hi))
            self.color_bar.getAxis("left").setLabel(self._value_label)
        self.color_bar.show()

    def _apply_color_bar_levels(self, *_) -> None:
        if self.color_bar is None or self._mode != "continuous":
            return
        levels = tuple(float(v) for v in self.color_bar.levels())
        if levels != self._levels and levels[1] > levels[0]:
            self._levels = levels
            self._restyle()

    @property
    def color_levels(self) -> tuple[float, float]:
        """(vmin, vmax) of the continuous colouring."""
        return self._levels

    def _on_legend_hidden(self, hidden: set[int]) -> None:
        self._hidden = set(hidden)
        self._restyle()
        self.sigHiddenChanged.emit(set(hidden))

    # ------------------------------------------------------------------ markers and overlays
    def set_marker(self, name: str, xy: tuple[float, float] | None, color="#d62728", symbol: str = "star",
                   size: float = 18) -> None:
        """A named marker drawn on top of the cloud (e.g. "current z"); ``xy=None`` removes it."""
        item = self._markers.get(name)
        if xy is None:
            if item is not None:
                self.plot_item.removeItem(item)
                del self._markers[name]
            return
        if item is None:
            item = PassiveScatterItem()
            item.setZValue(100 + len(self._markers))
            self.plot_item.addItem(item, ignoreBounds=True)
            self._markers[name] = item
        item.setData(pos=[tuple(float(v) for v in xy)], symbol=symbol, size=size, brush=pg.mkBrush(color),
                     pen=pg.mkPen((0, 0, 0), width=1))

    def markers(self) -> list[str]:
        return list(self._markers)

    def show_tooltip(self, content: str | QPixmap | QImage, pos: QPoint | None = None) -> None:
        """Show text (rich text allowed) or an image in a small box near ``pos`` (widget coordinates; default:
        the mouse). It stays inside the plot and ignores the mouse; `hide_tooltip` removes it."""
        label = self.tooltip_label
        if isinstance(content, QImage):
            content = QPixmap.fromImage(content)
        if isinstance(content, QPixmap):
            label.setPixmap(content)
        else:
            label.setText(content)
        label.adjustSize()
        anchor = self.plot_widget.mapFromGlobal(QCursor.pos()) if pos is None else self.plot_widget.mapFrom(self, pos)
        area = self.plot_widget.rect()
        x = anchor.x() + 16
        y = anchor.y() + 16
        if x + label.width() > area.right():
            x = anchor.x() - 16 - label.width()
        if y + label.height() > area.bottom():
            y = anchor.y() - 16 - label.height()
        label.move(max(0, x), max(0, y))
        label.show()
        label.raise_()

    def hide_tooltip(self) -> None:
        self.tooltip_label.hide()

    def _show_missing(self) -> None:
        missing = self.missing_count
        self.missing_label.setVisible(missing > 0)
        if missing:
            self.missing_label.setText(f"{missing:,} of {self.n_points:,} points not drawn: NaN/inf coordinates")
            self.missing_label.adjustSize()
            self._place_overlays()
        self.sigMissingCounted.emit(missing)

    def _place_overlays(self) -> None:
        """The missing-points note sits in the top-left corner of the plot area."""
        corner = self.plot_widget.mapFromScene(self.view_box.sceneBoundingRect().topLeft())
        self.missing_label.move(corner.x() + 6, corner.y() + 6)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self._place_overlays()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt name
        if watched is self.plot_widget:
            if event.type() == QEvent.Type.Leave:
                self._set_hovered(-1)
            elif event.type() == QEvent.Type.Resize:
                self._place_overlays()
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------------ view
    def visible_rect(self) -> tuple[float, float, float, float]:
        """(x0, x1, y0, y1) of the data shown."""
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        return float(x0), float(x1), float(y0), float(y1)

    def set_view(self, x0: float, x1: float, y0: float, y1: float) -> None:
        """Show exactly this data rectangle."""
        self.view_box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def reset_view(self) -> None:
        """Show the whole cloud (every finite point)."""
        if not len(self._points):
            return
        (x0, y0), (x1, y1) = self._points.lo, self._points.hi
        self._show_bounds(x0, x1, y0, y1)

    def _show_bounds(self, x0: float, x1: float, y0: float, y1: float) -> None:
        """Show this data rectangle with a little padding around it."""
        pad_x, pad_y = (x1 - x0) * RESET_PADDING, (y1 - y0) * RESET_PADDING
        if pad_x <= 0 or pad_y <= 0:  # one point, or all on a line: show a unit around them
            pad_x = pad_y = max(pad_x, pad_y, 0.5)
        self.set_view(x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y)

    def _reset_to_bounds_of(self, xy: np.ndarray) -> None:
        """Show the whole of coordinates not yet copied (a large cloud's first moments): their bounds read from
        the caller's array (4 ms at 1M) where every value is finite, else the view waits for the copy's."""
        if not len(xy):
            return
        if len(xy) >= HUGE_POINTS:
            # a huge cloud: the bounds of an evenly strided sample now (reading all ten million rows holds the
            # GUI thread for 27 ms), the exact ones when the copy lands, before anything is drawn
            sample = xy[::max(1, len(xy) // BOUNDS_SAMPLE)]
            sample = sample[np.isfinite(sample).all(axis=1)]
            if len(sample):
                (x0, y0), (x1, y1) = sample.min(axis=0), sample.max(axis=0)
                self._show_bounds(float(x0), float(x1), float(y0), float(y1))
            return
        # column by column (a reduction over axis 0 of an (N, 2) array runs N inner loops of length 2); a NaN
        # or an infinity anywhere shows in the bounds themselves
        if splat_jit.ready() and xy.dtype in (np.float64, np.float32) and xy.flags.c_contiguous:
            found = np.zeros(4)
            finite = splat_jit.kernel("bounds")(xy, found)  # one pass (4 ms less at a million)
            bounds = tuple(float(v) for v in found) if finite else (np.nan,) * 4
        else:
            x, y = xy[:, 0], xy[:, 1]
            bounds = (float(x.min()), float(x.max()), float(y.min()), float(y.max()))
        if np.isfinite(bounds).all():
            self._show_bounds(*bounds)
            self._first_frame["reset"] = False

    def map_to_widget(self, x: float, y: float) -> QPointF:
        """Data coordinates → this widget's pixel coordinates."""
        scene = self.view_box.mapViewToScene(QPointF(x, y))
        viewport = self.plot_widget.viewportTransform().map(scene)
        return QPointF(self.plot_widget.viewport().mapTo(self, viewport))

    def map_from_widget(self, x_px: float, y_px: float) -> QPointF:
        """This widget's pixel coordinates → data coordinates."""
        return self.view_box.mapSceneToView(self._widget_to_scene(x_px, y_px))

    def _widget_to_scene(self, x_px: float, y_px: float) -> QPointF:
        viewport = self.plot_widget.viewport().mapFrom(self, QPointF(x_px, y_px))
        inverse, _ = self.plot_widget.viewportTransform().inverted()
        return inverse.map(viewport)

    # ------------------------------------------------------------------ look-ups
    def _scanned(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        """(xs, ys, rows, centre) for a scan of every point: the float32 copy, or, while a large cloud's copy is
        being made in the worker, the caller's own coordinates (rows None: positions are rows)."""
        if self._preparing is not None and len(self._xy):
            return self._xy[:, 0], self._xy[:, 1], None, np.zeros(2)
        points = self._points
        return points.xs, points.ys, points.index, points.center

    def _find_nearest(self, x: float, y: float, rx: float, ry: float) -> int:
        """The grid's answer, or a scan of every point while the grid is being built."""
        if self._points.grid is not None:
            return self._points.grid.nearest(x, y, rx, ry, allowed=self._shown)
        xs, ys, rows, (cx, cy) = self._scanned()
        return brute_nearest(xs, ys, rows, x - cx, y - cy, rx, ry, allowed=self._shown)

    def _find_in_rect(self, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
        if self._points.grid is not None:
            return self._points.grid.in_rect(x0, x1, y0, y1, allowed=self._shown)
        xs, ys, rows, (cx, cy) = self._scanned()
        return brute_in_rect(xs, ys, rows, x0 - cx, x1 - cx, y0 - cy, y1 - cy, allowed=self._shown)

    def _find_in_polygon(self, polygon: np.ndarray) -> np.ndarray:
        if self._points.grid is not None:
            return self._points.grid.in_polygon(polygon, allowed=self._shown)
        xs, ys, rows, centre = self._scanned()
        return brute_in_polygon(xs, ys, rows, np.asarray(polygon, np.float64) - centre, allowed=self._shown)

    def nearest(self, x_px: float, y_px: float, radius_px: float = HOVER_RADIUS_PX) -> int:
        """Index of the shown point nearest to widget pixel (x_px, y_px) within ``radius_px`` pixels, or -1."""
        return self._nearest_scene(self._widget_to_scene(x_px, y_px), radius_px)

    def _nearest_scene(self, scene_pos: QPointF, radius_px: float) -> int:
        if not self.n_points or not self.view_box.sceneBoundingRect().contains(scene_pos):
            return -1
        here = self.view_box.mapSceneToView(scene_pos)
        per_px_x, per_px_y = self.view_box.viewPixelSize()
        return self._find_nearest(here.x(), here.y(), radius_px * per_px_x, radius_px * per_px_y)

    def _set_hovered(self, index: int) -> None:
        if index == self._hovered:
            return
        self._hovered = index
        if index < 0:
            self.hover_marker.setData([], [])
        else:
            self.hover_marker.setData([self._xy[index, 0]], [self._xy[index, 1]])
        self.hover_marker.setVisible(index >= 0)  # an empty item is still painted (0.5 ms a frame) unless hidden
        self.sigHovered.emit(index)

    def _on_mouse_moved(self, args) -> None:
        scene_pos = args[0]
        if not self.view_box.sceneBoundingRect().contains(scene_pos):
            self._set_hovered(-1)
            return
        here = self.view_box.mapSceneToView(scene_pos)
        self.sigMouseMoved.emit(float(here.x()), float(here.y()))
        self._set_hovered(self._nearest_scene(scene_pos, HOVER_RADIUS_PX))

    # ------------------------------------------------------------------ gestures (called by the ViewBox)
    def on_click(self, scene_pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        self.sigClicked.emit(self._nearest_scene(scene_pos, HOVER_RADIUS_PX))

    def on_box(self, rect: QRectF, modifiers: Qt.KeyboardModifier) -> None:
        picked = self._find_in_rect(rect.left(), rect.right(), rect.top(), rect.bottom())
        self.sigSelected.emit(picked, selection_mode(modifiers))

    def on_lasso(self, polygon: np.ndarray, modifiers: Qt.KeyboardModifier) -> None:
        per_px = np.array(self.view_box.viewPixelSize(), dtype=np.float64)
        polygon = simplify_polyline(polygon / per_px, LASSO_STEP_PX) * per_px
        picked = self._find_in_polygon(polygon)
        self.sigSelected.emit(picked, selection_mode(modifiers))

    def on_path(self, polyline: np.ndarray) -> None:
        self.sigPathDrawn.emit(polyline)

    def select_polygon(self, polygon: np.ndarray, mode: str = "replace") -> np.ndarray:
        """Indices of the shown points inside a data-space polygon; emits sigSelected like a lasso would."""
        picked = self._find_in_polygon(np.asarray(polygon, np.float64))
        self.sigSelected.emit(picked, mode)
        return picked

    def select_rect(self, x0: float, x1: float, y0: float, y1: float, mode: str = "replace") -> np.ndarray:
        """Indices of the shown points inside a data rectangle; emits sigSelected like a box would."""
        picked = self._find_in_rect(x0, x1, y0, y1)
        self.sigSelected.emit(picked, mode)
        return picked


__all__ = ["LatentScatter", "TOOLS", "selection_mode"]
