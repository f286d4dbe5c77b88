"""The Paths panel: draw interpolation paths on the scatter and watch them decoded as filmstrips.

Press P (or "Draw path") and drag to draw freehand, or click vertices; Enter (or a double-click) finishes,
Backspace removes the last vertex, Esc cancels. Endpoints snap to the nearest data point. Each path is resampled
at equal arc length and lifted into latent space through the view it was drawn on (`lift_path`), drawn
in every other view by projecting its codes, and decoded into a strip docked under the scatter beside the straight
line and the great-circle arc between the same endpoints and the pixel cross-fade of the endpoint images.

While a vertex is dragged the strip shows a coarse preview (16 steps, the path row only); the full strip follows
on release, and the off-data scores of its frames a moment later (decoding and scoring: `strip_decoder`). The
overlay on the scatter is `overlay`; the paths and their lifts `store`; the strip and the player `filmstrip`;
file actions (JSON, PNG, GIF, .npz) and the session part `files`.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QColor, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.core.decoding import iter_exact_map_placement
from latent_explorer.core.interpolation import (
    HOLD_MODES,
    ROW_FADE,
    ROW_PATH,
    STRIP_ROWS,
    Filmstrip,
    LatentPath,
    LiftedPath,
    PathError,
    decode_strip,
    off_data_scores,
    place_codes,
    snapped_images,
)
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.features.interpolation.filmstrip import FilmstripView, FramePlayer, frame_index
from latent_explorer.qt.features.interpolation.overlay import PathOverlay, PathShape
from latent_explorer.qt.features.interpolation.store import PathEntry, ViewProjections, next_colour, view_dict
from latent_explorer.qt.features.interpolation.strip_decoder import StripDecoder, StripTag, preview_strip

PLACE_JOB = "path-placement"
DEFAULT_STEPS = 64
PREVIEW_STEPS = 16
SNAP_RADIUS_PX = 12.0
HOLD_LABELS = {
    "blend": "blend start → end codes",
    "start": "start point's code",
    "mean": "mean code",
    "zero": "zero",
}
DRAW_HINT = ("Drawing a path: drag to draw freehand, or click vertices and press Enter (or double-click). "
             "Backspace removes the last vertex, Esc cancels.")
HELP_TEXT = (
    "<b>Paths</b> — press <b>P</b> and drag on the plot to draw freehand, or click vertices and press Enter "
    "(or double-click). Backspace removes the last vertex, Esc cancels. Drag a vertex afterwards to edit the "
    "path; the strip follows. Endpoints snap to the nearest data point (within 12 pixels).<br><br>"
    "Each path is resampled at equal arc length (<i>steps</i>) and lifted into z through the view it was drawn "
    "on. <b>Raw axes</b> set two coordinates and <b>PCA</b> planes invert exactly; the other coordinates are held "
    "(<i>hold</i>) at the start point's code, the mean, zero, or — by default — blended from the start point's "
    "code to the end point's along the path. An endpoint that is not snapped takes the code under it with the "
    "mean's off-plane coordinates.<br><br>"
    "On a <b>t-SNE map</b> (or loaded coordinates) there is no inverse: each point's z is the distance-weighted "
    "mean of the codes of its nearest map points. <b>This is an approximation</b>: the codes need not lie on "
    "any path in latent space, and the map places them back only roughly. In other views a path is drawn by "
    "projecting its codes (exact for raw and PCA; on a map by its codes' nearest neighbours, dashed, or with "
    "openTSNE's transform when <i>exact t-SNE placement</i> is on).<br><br>"
    "Rows: the path; the <b>linear</b> and <b>spherical</b> interpolation between the same endpoint codes; the "
    "<b>pixel fade</b> between the endpoint images (the data images when snapped). The bar under each frame is "
    "the off-data meter: green on the data, orange near it, red off it.")


class PathsPanel(QWidget):
    """Paths of the window: the list, the drawing tool, the strip, the player and the overlay on the scatter."""

    paths_changed = Signal()  # a path was added, removed, renamed, edited, shown or hidden
    strip_shown = Signal(bool)  # the strip shows new frames (True: a preview)
    strip_scored = Signal()  # the off-data scores of the strip on show arrived

    def __init__(self, context: FeatureContext):
        super().__init__()
        self.context = context
        self.state = context.state
        self.entries: list[PathEntry] = []
        self.current_uid: int | None = None
        self.projections = ViewProjections(context)
        self.strip_updates = 0  # frames shown (benchmarks count them)
        self._next_uid = 1
        self._previous_tool = "pan"
        self._previews: dict[int, LiftedPath] = {}  # coarse lifts while a vertex is dragged
        self._affinities: tuple[Any, Any, Any] | None = None  # (latent, coords, openTSNE affinities)
        self._quiet_player = False  # the player is being given a new row, not moved by the user
        self._closed = False

        self.strips = StripDecoder(self, self.decode_model, self.meter)
        self.strips.decoded.connect(self._on_decoded)
        self.strips.scored.connect(self._on_scored)
        self._build()
        scatter = context.scatter
        self.overlay = PathOverlay(scatter.plot_item.getViewBox())
        self.overlay.sigFinished.connect(self._on_drawn)
        self.overlay.sigVertexMoved.connect(self._on_vertex_moved)
        self.overlay.sigProgress.connect(self._on_progress)
        self._build_actions()
        scatter.toolbar.sigTool.connect(self._on_scatter_tool)
        scatter.sigPathDrawn.connect(self._on_drawn)

        self._state_hooks = [(self.state.events.codes, self._on_codes), (self.state.events.use_mu, self._on_codes),
                             (self.state.events.model, self._on_model), (self.state.events.view, self._on_view)]
        for signal, slot in self._state_hooks:
            signal.connect(slot)
        controller = context.view
        controller.pca_changed.connect(self._relift_missing)
        controller.layouts_changed.connect(self._relift_missing)
        controller.points_changed.connect(self.refresh_overlay)
        if context.decoder is not None:  # the off-data meter arrives after the codes: score the strip then
            context.decoder.meter_changed.connect(self._rescore)
        context.on_close(self.shutdown)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ widgets
    def _build(self) -> None:
        self.draw_button = QToolButton()
        self.draw_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.list = QListWidget()
        self.list.setToolTip("Tick to show a path on the plot; double-click to rename it; the selected one is "
                             "shown in the strip")
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.currentItemChanged.connect(self._on_current_item)
        self.delete_button = QToolButton(text="Delete", toolTip="Delete the selected path (Delete key in the list)")
        self.delete_button.clicked.connect(lambda: self.delete_path(self.current()))
        self.steps_spin = QSpinBox(minimum=2, maximum=512, value=DEFAULT_STEPS)
        self.steps_spin.setToolTip("Frames along the path, at equal arc length")
        self.steps_spin.valueChanged.connect(self._on_steps)
        self.hold_combo = QComboBox()
        for mode in HOLD_MODES:
            self.hold_combo.addItem(HOLD_LABELS[mode], mode)
        self.hold_combo.setToolTip("Where the latent coordinates the view does not show are held (raw and PCA "
                                   "views; on a t-SNE map every coordinate comes from the nearest codes)")
        self.hold_combo.currentIndexChanged.connect(self._on_hold)
        self.snap_box = QCheckBox("Snap ends")
        self.snap_box.setToolTip("Snap the endpoints to the nearest data point (within 12 pixels)")
        self.snap_box.setChecked(True)
        self.exact_box = QCheckBox("Exact t-SNE placement")
        self.exact_box.setToolTip("Place paths drawn in other views into a t-SNE map with openTSNE's transform "
                                  "(a background job) instead of by their codes' nearest neighbours")
        self.exact_box.toggled.connect(lambda _on: self._update_exact_placement())
        self.info = QLabel("")
        self.info.setWordWrap(False)
        self.info.setMinimumWidth(50)
        help_label = QLabel("<a href='#'>How are paths lifted into z?</a>")
        help_label.setToolTip(HELP_TEXT)
        help_label.linkActivated.connect(lambda _l: self.show_help())

        self.buttons: dict[str, QToolButton] = {}
        files = QHBoxLayout()
        files.setSpacing(2)
        for key, text, tip in (("load", "Load…", "Load a path saved as JSON (it is drawn on the view it names)"),
                               ("save", "Save…", "Save the selected path as JSON"),
                               ("png", "PNG…", "Export the filmstrip, every row, as a PNG image"),
                               ("gif", "GIF…", "Export the path's frames as an animated GIF"),
                               ("npz", ".npz…", "Export the z-sequence, vertices and samples as a NumPy archive")):
            button = QToolButton(text=text, toolTip=tip)
            files.addWidget(button)
            self.buttons[key] = button
        files.addStretch(1)

        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(3)
        top = QHBoxLayout()
        top.addWidget(self.draw_button)
        top.addWidget(self.delete_button)
        top.addStretch(1)
        top.addWidget(help_label)
        column.addLayout(top)
        column.addWidget(self.list, 1)
        settings = QHBoxLayout()
        settings.addWidget(QLabel("Steps"))
        settings.addWidget(self.steps_spin)
        settings.addWidget(QLabel("Hold"))
        settings.addWidget(self.hold_combo, 1)
        column.addLayout(settings)
        boxes = QHBoxLayout()
        boxes.addWidget(self.snap_box)
        boxes.addWidget(self.exact_box)
        boxes.addStretch(1)
        column.addLayout(boxes)
        column.addLayout(files)

        self.strip_view = FilmstripView()
        self.strip_view.sigHovered.connect(self._on_strip_hovered)
        self.strip_view.sigClicked.connect(self._on_strip_clicked)
        middle = QWidget()
        strip_column = QVBoxLayout(middle)
        strip_column.setContentsMargins(0, 0, 0, 0)
        strip_column.addWidget(self.strip_view, 1)
        strip_column.addWidget(self.info)
        self.player = FramePlayer()
        self.player.sigFrame.connect(self._on_player_frame)
        self.player.setMinimumWidth(120)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(middle)
        splitter.addWidget(self.player)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 900, 170])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(splitter)
        self._set_enabled()

    def show_help(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Paths", HELP_TEXT, QMessageBox.StandardButton.Close, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _build_actions(self) -> None:
        window = self.context.parent
        self.draw_action = QAction("Draw &Path", window, checkable=True)
        self.draw_action.setShortcut(QKeySequence("P"))
        self.draw_action.setToolTip("Draw an interpolation path on the plot (P)")
        self.draw_action.toggled.connect(self.set_drawing)
        window.addAction(self.draw_action)
        self.draw_button.setDefaultAction(self.draw_action)
        toolbar = self.context.scatter.toolbar
        toolbar.addSeparator()
        toolbar.addAction(self.draw_action)
        self.drawing_shortcuts = []
        for keys, slot in (((Qt.Key.Key_Return, Qt.Key.Key_Enter), self.finish_drawing),
                           ((Qt.Key.Key_Backspace,), self.overlay.remove_last_vertex),
                           ((Qt.Key.Key_Escape,), self.cancel_drawing)):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), window)
                shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
                shortcut.setEnabled(False)
                shortcut.activated.connect(slot)
                self.drawing_shortcuts.append(shortcut)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(lambda: self.delete_path(self.current()))

    def _set_enabled(self) -> None:
        entry = self.current()
        for widget in (self.delete_button, self.buttons.get("save"), self.buttons.get("png"),
                       self.buttons.get("gif"), self.buttons.get("npz")):
            if widget is not None:
                widget.setEnabled(entry is not None)

    def reveal(self) -> None:
        """Bring the Paths dock to the front (it may share the bottom area with other panels as tabs)."""
        self.context.docks.raise_dock("paths")

    def say(self, text: str) -> None:
        self.info.setText(text)
        self.info.setToolTip(text)
        self.context.errors.say(text)

    # ------------------------------------------------------------------ entries
    def current(self) -> PathEntry | None:
        return self.entry(self.current_uid)

    def entry(self, uid: int | None) -> PathEntry | None:
        return next((e for e in self.entries if e.uid == uid), None)

    def paths(self) -> list[LatentPath]:
        return [e.path for e in self.entries]

    def add_path(self, path: LatentPath, select: bool = True) -> PathEntry:
        """Add a path (drawn, loaded or restored): lift it, list it, draw it and decode its strip."""
        if not path.name or any(e.path.name == path.name for e in self.entries):
            path.name = self._free_name(path.name or "path")
        entry = PathEntry(self._next_uid, path, next_colour(self.entries))
        self._next_uid += 1
        self.entries.append(entry)
        entry.lifted = self.projections.lift(entry)
        item = QListWidgetItem(path.name)
        item.setData(Qt.ItemDataRole.UserRole, entry.uid)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsUserCheckable)
        self.list.blockSignals(True)
        item.setCheckState(Qt.CheckState.Checked if path.visible else Qt.CheckState.Unchecked)
        self.list.addItem(item)
        self.list.blockSignals(False)
        self._style_item(entry)
        if select or self.current_uid is None:
            self.list.setCurrentItem(item)  # → _on_current_item: strip and controls
        self.refresh_overlay()
        self.paths_changed.emit()
        return entry

    def _free_name(self, base: str) -> str:
        names = {e.path.name for e in self.entries}
        if base not in names and base != "path":
            return base
        n = 1
        while f"{base} {n}" in names:
            n += 1
        return f"{base} {n}"

    def _item(self, uid: int) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == uid:
                return item
        return None

    def _style_item(self, entry: PathEntry) -> None:
        item = self._item(entry.uid)
        if item is None:
            return
        swatch = QPixmap(12, 12)
        swatch.fill(QColor(*entry.colour))
        self.list.blockSignals(True)
        item.setIcon(swatch)
        item.setToolTip(f"drawn on {entry.path.view_label()}, {entry.path.steps} steps, hold: {entry.path.hold}"
                        + (f"\nnot lifted: {entry.problem}" if entry.problem else ""))
        item.setForeground(QColor(150, 150, 150) if entry.problem else self.list.palette().text().color())
        self.list.blockSignals(False)

    def delete_path(self, entry: PathEntry | None) -> None:
        if entry is None:
            return
        self.entries.remove(entry)
        item = self._item(entry.uid)
        if item is not None:
            self.list.takeItem(self.list.row(item))
        if self.current_uid == entry.uid:
            next_item = self.list.currentItem()
            self.current_uid = None if next_item is None else next_item.data(Qt.ItemDataRole.UserRole)
            self.show_current()
        self.refresh_overlay()
        self._set_enabled()
        self.paths_changed.emit()

    def clear(self) -> None:
        for entry in list(self.entries):
            self.delete_path(entry)

    def select(self, entry: PathEntry) -> None:
        item = self._item(entry.uid)
        if item is not None:
            self.list.setCurrentItem(item)

    @Slot(object, object)
    def _on_current_item(self, item: QListWidgetItem | None, _previous=None) -> None:
        self.current_uid = None if item is None else item.data(Qt.ItemDataRole.UserRole)
        entry = self.current()
        if entry is not None:
            self.steps_spin.blockSignals(True)
            self.steps_spin.setValue(entry.path.steps)
            self.steps_spin.blockSignals(False)
            self.hold_combo.blockSignals(True)
            self.hold_combo.setCurrentIndex(max(0, self.hold_combo.findData(entry.path.hold)))
            self.hold_combo.blockSignals(False)
        self._set_enabled()
        self.show_current()
        self.refresh_overlay()

    @Slot(object)
    def _on_item_changed(self, item: QListWidgetItem) -> None:
        entry = self.entry(item.data(Qt.ItemDataRole.UserRole))
        if entry is None:
            return
        name = item.text().strip()
        if name and name != entry.path.name:
            entry.path.name = name
        elif not name:
            self.list.blockSignals(True)
            item.setText(entry.path.name)
            self.list.blockSignals(False)
        entry.path.visible = item.checkState() == Qt.CheckState.Checked
        self.refresh_overlay()
        self.paths_changed.emit()

    def rename(self, entry: PathEntry, name: str) -> None:
        item = self._item(entry.uid)
        if item is not None:
            item.setText(name)  # → _on_item_changed

    def set_visible(self, entry: PathEntry, on: bool) -> None:
        item = self._item(entry.uid)
        if item is not None:
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    @Slot(int)
    def _on_steps(self, steps: int) -> None:
        entry = self.current()
        if entry is not None and entry.path.steps != steps:
            entry.path.steps = int(steps)
            self.path_edited(entry)

    @Slot(int)
    def _on_hold(self, _index: int) -> None:
        entry = self.current()
        hold = self.hold_combo.currentData()
        if entry is not None and entry.path.hold != hold:
            entry.path.hold = hold
            self.path_edited(entry)

    # ------------------------------------------------------------------ drawing
    @Slot(bool)
    def set_drawing(self, on: bool) -> None:
        """Switch the drawing tool on or off (the P key, the Draw path button)."""
        scatter = self.context.scatter
        if on and self.state.latent() is None:
            self.say("Load a model and a dataset before drawing a path.")
            self.draw_action.setChecked(False)
            return
        if self.draw_action.isChecked() != on:
            self.draw_action.setChecked(on)  # comes back here through toggled
            return
        if on == self.overlay.drawing:
            return
        if on:
            self._previous_tool = scatter.tool if scatter.tool != "path" else "pan"
            scatter.set_tool("path")
            self.say(DRAW_HINT)
        else:
            if scatter.tool == "path":
                scatter.set_tool(self._previous_tool)
        self.overlay.set_drawing(on)
        for shortcut in self.drawing_shortcuts:
            shortcut.setEnabled(on)

    @property
    def drawing(self) -> bool:
        return self.overlay.drawing

    @Slot()
    def finish_drawing(self) -> None:
        if not self.overlay.finish():
            self.say("A path needs at least two different vertices: click a second point, or press Esc.")

    @Slot()
    def cancel_drawing(self) -> None:
        if not self.overlay.cancel():  # nothing in progress: Esc leaves the drawing tool
            self.set_drawing(False)

    @Slot(int)
    def _on_progress(self, count: int) -> None:
        if self.overlay.drawing and count:
            self.say(f"{count} vertices — Enter finishes, Backspace removes the last, Esc cancels.")

    @Slot(str)
    def _on_scatter_tool(self, tool: str) -> None:
        if tool != "path" and self.overlay.drawing:
            self._previous_tool = tool
            self.draw_action.setChecked(False)

    def snap(self, xy: tuple[float, float]) -> tuple[tuple[float, float], int | None]:
        """The nearest shown data point within reach on screen; ``xy`` itself if there is none or snapping is off."""
        if not self.snap_box.isChecked():
            return (float(xy[0]), float(xy[1])), None
        scatter = self.context.scatter
        points = self.context.view.xy
        here = scatter.map_to_widget(float(xy[0]), float(xy[1]))
        index = scatter.nearest(here.x(), here.y(), SNAP_RADIUS_PX)
        if index < 0 or points is None or index >= len(points) or not np.isfinite(points[index]).all():
            return (float(xy[0]), float(xy[1])), None
        return (float(points[index][0]), float(points[index][1])), int(index)

    @Slot(object)
    def _on_drawn(self, vertices: Any) -> None:
        """A finished drawing: snap its ends and make it a path of the current view."""
        vertices = np.asarray(vertices, np.float64).reshape(-1, 2)
        self.set_drawing(False)
        if len(vertices) < 2 or self.state.latent() is None:
            return
        (x0, y0), start = self.snap(vertices[0])
        (x1, y1), end = self.snap(vertices[-1])
        vertices[0], vertices[-1] = (x0, y0), (x1, y1)
        path = LatentPath(self._free_name("path"), vertices.tolist(), view=view_dict(self.state.view),
                          steps=self.steps_spin.value(), hold=self.hold_combo.currentData(), start_index=start,
                          end_index=end, latent="mu" if self._plots_mu() else "z")
        entry = self.add_path(path)
        self.reveal()
        snapped = ", ".join(f"{w} snapped to #{i}" for w, i in (("start", start), ("end", end)) if i is not None)
        self.say(f"{path.name}: {len(vertices)} vertices on {path.view_label()}" + (f", {snapped}" if snapped else "")
                 + (f" — {entry.problem}" if entry.problem else ""))

    def _plots_mu(self) -> bool:
        codes = self.state.codes
        return bool(self.state.use_mu and codes is not None and codes.mu is not None)

    @Slot(int, int, object, bool)
    def _on_vertex_moved(self, uid: int, vertex: int, xy: Any, finished: bool) -> None:
        entry = self.entry(uid)
        if entry is None:
            return
        vertices = entry.path.vertex_array()
        if not 0 <= vertex < len(vertices):
            return
        xy = (float(xy[0]), float(xy[1]))
        end = vertex == len(vertices) - 1
        if vertex == 0 or end:  # an endpoint leaves its data point while dragged, and may snap to another
            xy, index = self.snap(xy) if finished else (xy, None)
            if vertex == 0:
                entry.path.start_index = index
            if end:
                entry.path.end_index = index
        vertices[vertex] = xy
        entry.path.vertices = vertices.tolist()
        if self.current_uid != uid:
            self.select(entry)
        self.path_edited(entry, preview=not finished)

    def move_vertex(self, entry: PathEntry, vertex: int, xy: tuple[float, float], finished: bool = True) -> None:
        """Move a vertex as a drag of its handle would (scripts, tests, benchmarks)."""
        self._on_vertex_moved(entry.uid, vertex, xy, finished)

    # ------------------------------------------------------------------ lifting and decoding
    def path_edited(self, entry: PathEntry, preview: bool = False) -> None:
        """Vertices, steps or hold changed: lift again and decode (a coarse path row while dragging)."""
        entry.touch()
        if preview:
            lifted = self.projections.lift(entry, steps=min(PREVIEW_STEPS, entry.path.steps))
            if lifted is not None:
                self._previews[entry.uid] = lifted
        else:
            self._previews.pop(entry.uid, None)
            entry.lifted = self.projections.lift(entry)
            self._style_item(entry)
            self.paths_changed.emit()
        self.refresh_overlay()
        if entry.uid == self.current_uid:
            self.request_strip(entry, preview)

    def relift_all(self) -> None:
        for entry in self.entries:
            entry.touch()
            entry.lifted = self.projections.lift(entry)
            self._style_item(entry)
        self.refresh_overlay()
        self.show_current()

    @Slot()
    def _relift_missing(self) -> None:
        changed = False
        for entry in self.entries:
            if entry.lifted is None:
                entry.lifted = self.projections.lift(entry)
                self._style_item(entry)
                changed = changed or entry.lifted is not None
        if changed:
            self.show_current()
        self.refresh_overlay()

    def decode_model(self) -> Any:
        decoder = self.context.decoder
        model = decoder.decode_model() if decoder is not None else None
        return model if model is not None else self.state.model

    def meter(self) -> Any:
        decoder = self.context.decoder
        meter = decoder.meter_ready() if decoder is not None else None
        latent = self.state.latent()
        if meter is None or latent is None or meter.codes.shape[1] != latent.shape[1]:
            return None
        return meter

    def show_current(self) -> None:
        """The selected path's strip: kept when up to date, else decoded."""
        entry = self.current()
        if entry is None:
            self.strip_view.set_strip(None, "Draw a path on the plot (P) to see it decoded here.")
            self.player.set_row(None)
            self.mark_frame(None)
            return
        if entry.lifted is None:
            self.strip_view.set_strip(None, f"{entry.path.name}: {entry.problem or 'not lifted yet'}")
            self.player.set_row(None)
            return
        if entry.strip_current():
            self._show(entry.strip, preview=False)
        else:
            self.request_strip(entry, preview=False)

    def request_strip(self, entry: PathEntry, preview: bool = False) -> bool:
        """Ask for the strip of ``entry``: a coarse path row while a vertex is dragged, every row otherwise."""
        lifted = self._previews.get(entry.uid) if preview else entry.lifted
        if lifted is None or self._closed:
            return False
        images = None if preview else snapped_images(entry.path, self.state.dataset)
        return self.strips.request(entry.uid, entry.revision, lifted, preview, images)

    @Slot(object, object, str)
    def _on_decoded(self, tag: StripTag, strip: Filmstrip | None, error: str) -> None:
        entry = self.entry(tag.uid)
        if entry is None or tag.revision != entry.revision or entry.uid != self.current_uid:
            return  # an older shape of the path, or one no longer on show
        if strip is None:
            self.strip_view.set_strip(None, f"{entry.path.name}: {error}")
            return
        if tag.preview:
            strip = preview_strip(strip, entry.strip, entry.path.steps)
        else:
            entry.strip, entry.strip_revision = strip, entry.revision
            self.score_strip(entry)
        self._show(strip, tag.preview)

    def _show(self, strip: Filmstrip, preview: bool) -> None:
        entry = self.current()
        note = "" if entry is None else f"{entry.path.name} on {entry.path.view_label()}"
        self.strip_view.set_strip(strip, note)
        self.strip_view.repaint()
        rows = strip.rows
        row = rows[min(self.strip_view.active_row, len(rows) - 1)] if rows else None
        self._quiet_player = not self.player.timer.isActive()
        try:
            self.player.set_row(row)
        finally:
            self._quiet_player = False
        self.strip_updates += 1
        self.strip_shown.emit(preview)

    def score_strip(self, entry: PathEntry) -> bool:
        """Score the frames of ``entry``'s strip in a worker (scores of a strip changed meanwhile are dropped)."""
        strip = entry.strip
        return strip is not None and self.strips.score((entry.uid, entry.revision, strip), strip)

    @Slot(object, object)
    def _on_scored(self, mark: Any, scores: Any) -> None:
        uid, revision, strip = mark
        entry = self.entry(uid)
        if entry is None or entry.revision != revision or entry.strip is not strip:
            return
        for i, values in scores:
            strip.rows[i].scores = values
        if uid == self.current_uid:
            self._show(strip, preview=False)
        self.strip_scored.emit()

    def scored(self, entry: PathEntry) -> bool:
        """True when the strip of ``entry`` is up to date and its latent frames carry off-data scores."""
        return entry.strip_current() and all(r.scores is not None for r in entry.strip.rows if r.z is not None)

    def full_strip(self, entry: PathEntry) -> Filmstrip:
        """The complete, scored strip of ``entry`` now (decoded here when the one on show is stale): for exports."""
        if not entry.strip_current():
            if entry.lifted is None:
                entry.lifted = self.projections.lift(entry)
            if entry.lifted is None:
                raise PathError(f"the path '{entry.path.name}' cannot be lifted: {entry.problem}")
            model = self.decode_model()
            if model is None:
                raise PathError("load a model to decode the path")
            entry.strip = decode_strip(model, entry.lifted, STRIP_ROWS,
                                       snapped_images(entry.path, self.state.dataset))
            entry.strip_revision = entry.revision
        meter = self.meter()
        if meter is not None:
            for row in entry.strip.rows:
                if row.z is not None and row.scores is None:
                    row.scores = off_data_scores(meter, row.z)
        return entry.strip

    def _rescore(self) -> None:
        """The off-data meter is ready: score the strip on show."""
        entry = self.current()
        if entry is not None and entry.strip_current() and not self.scored(entry):
            self.score_strip(entry)

    # ------------------------------------------------------------------ the overlay in every view
    @Slot()
    def refresh_overlay(self) -> None:
        """Draw every visible path in the current view: editable where it was drawn, projected elsewhere."""
        if self._closed:
            return
        view = self.state.view
        shapes = []
        for entry in self.entries:
            if not entry.path.visible:
                continue
            lifted = self._previews.get(entry.uid) or entry.lifted
            selected = entry.uid == self.current_uid
            common = dict(uid=entry.uid, name=entry.path.name, colour=entry.colour, selected=selected,
                          start_snapped=entry.path.start_index is not None,
                          end_snapped=entry.path.end_index is not None)
            if entry.spec == view:
                vertices = entry.path.vertex_array()
                dots = lifted.samples if lifted is not None else None
                shapes.append(PathShape(line=vertices, dots=dots, vertices=vertices, **common))
            elif lifted is not None:
                xy, exact = self.projections.place(entry, view, lifted.z)
                if xy is not None:
                    shapes.append(PathShape(line=xy, dots=xy, approximate=not exact, **common))
        self.overlay.set_shapes(shapes)

    def frame_position(self, row_index: int, frame: int) -> tuple[float, float] | None:
        """Where a frame of the strip lies in the current view (the path's point, or a comparison row's code)."""
        entry = self.current()
        rows = self.strip_view.rows()
        if entry is None or not 0 <= row_index < len(rows):
            return None
        row = rows[row_index]
        t = frame / max(1, len(row) - 1)
        if row.name not in (ROW_PATH, ROW_FADE) and row.z is not None:
            projection, _ = self.projections.get(view_dict(self.state.view))
            if projection is None:
                return None
            xy = place_codes(projection, row.z[frame][None])[0]
        else:
            lifted = self._previews.get(entry.uid) or entry.lifted
            if lifted is None:
                return None
            if entry.spec == self.state.view:
                points = lifted.samples
            else:
                points, _ = self.projections.place(entry, self.state.view, lifted.z)
                if points is None:
                    return None
            xy = points[frame_index(t, len(points))]
        return (float(xy[0]), float(xy[1])) if np.isfinite(xy).all() else None

    def mark_frame(self, xy: tuple[float, float] | None) -> None:
        """Ring the point of the frame under the mouse (or the player's) on the scatter; None removes it."""
        self.overlay.set_highlight(xy)

    @Slot(int, int)
    def _on_strip_hovered(self, row: int, frame: int) -> None:
        if row < 0:  # the mouse left the frames: the ring follows the player while it plays, else goes
            if self.player.timer.isActive():
                self._on_player_frame(self.player.index)
            else:
                self.mark_frame(None)
            return
        self.mark_frame(self.frame_position(row, frame))

    @Slot(int, int)
    def _on_strip_clicked(self, row: int, frame: int) -> None:
        rows = self.strip_view.rows()
        if 0 <= row < len(rows):
            self.player.set_row(rows[row], keep_fraction=False)
            self.player.show_frame(frame)

    @Slot(int)
    def _on_player_frame(self, index: int) -> None:
        row = self.player.row
        rows = self.strip_view.rows()
        if row is None or not any(r is row for r in rows):
            self.strip_view.set_current(None)
            self.mark_frame(None)
            return
        n = len(row)
        self.strip_view.set_current(index / max(1, n - 1))
        if self._quiet_player or (self.strip_view.hovered[0] >= 0 and not self.player.timer.isActive()):
            return  # a new strip arrived (no frame was chosen), or the ring shows the frame under the mouse
        position = self.frame_position(next(i for i, r in enumerate(rows) if r is row), index)
        self.mark_frame(position)

    # ------------------------------------------------------------------ state
    def _on_codes(self, *_: Any) -> None:
        if self.overlay.drawing and self.state.latent() is None:
            self.set_drawing(False)
        self._affinities = None
        self.relift_all()

    def _on_model(self, *_: Any) -> None:
        for entry in self.entries:
            entry.strip_revision = -1
        self.show_current()

    def _on_view(self, *_: Any) -> None:
        self.mark_frame(None)  # its coordinates belong to the previous view
        if self.overlay.drawing:
            self.overlay.cancel()
        self._relift_missing()
        self._update_exact_placement()

    def _update_exact_placement(self) -> None:
        """openTSNE's placement of the paths drawn elsewhere, when asked for and the view is a t-SNE map."""
        view = self.state.view
        latent = self.state.latent()
        projection, _ = self.projections.get(view_dict(view))
        coords = getattr(projection, "coords", None)
        if not self.exact_box.isChecked() or view.kind != "tsne" or coords is None or latent is None:
            return
        todo = [e for e in self.entries if e.lifted is not None and e.spec != view
                and (e.exact.get(view.key) or (-1,))[0] != e.revision]
        if not todo:
            return
        z = np.concatenate([e.lifted.z for e in todo])
        marks = [(e.uid, e.revision, len(e.lifted.z)) for e in todo]
        cached = self._affinities
        affinities = cached[2] if cached is not None and cached[0] is latent and cached[1] is coords else None

        def job():
            xy, aff = yield from iter_exact_map_placement(coords, latent, z, affinities=affinities)
            return view.key, latent, coords, marks, xy, aff

        self.context.jobs.start(PLACE_JOB, job, title="placing paths on the t-SNE map", on_done=self._on_placed)

    def _on_placed(self, result: Any) -> None:
        key, latent, coords, marks, xy, affinities = result
        self._affinities = (latent, coords, affinities)
        start = 0
        for uid, revision, n in marks:
            entry = self.entry(uid)
            if entry is not None and entry.revision == revision:
                entry.exact[key] = (revision, xy[start:start + n])
            start += n
        self.refresh_overlay()

    # ------------------------------------------------------------------ closing
    @Slot()
    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.player.set_playing(False)
        for signal, slot in self._state_hooks:
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)
        self.strips.stop()


__all__ = ["PathsPanel", "StripTag"]
