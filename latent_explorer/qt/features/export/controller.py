"""File ▸ Export: every plot and panel as PNG (1×, 2×, 4×, a chosen width, or a chosen width with a title and a
DPI), SVG or PDF, the clipboard, and the data behind the view (coordinates, selection, codes) as CSV or ``.npz``.

"Export Scatter Figure…" asks the width, title and DPI first: the scatter on screen is a few hundred pixels
wide and has no title, which is not what a figure for a paper needs.

Figures are discovered when the menu opens (`figure_export.window_figures`), so panels added later are listed
without registering anything; each pyqtgraph view also gets "Export Figure" and "Copy Figure" in its context menu.
"""

from __future__ import annotations

import re
import weakref
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu

from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.export import (
    ExportError,
    Table,
    codes_table,
    coordinates_table,
    iter_write_table,
    selection_table,
)
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.figure_export import (
    Figure,
    copy_figure,
    export_figure,
    figure_for_widget,
    figures_in,
    graphics_views,
    window_figures,
)
from latent_explorer.qt.figure_options import FigureOptions, ask_figure_options, default_options

EXPORT_JOB = "export"
FIGURE_FILTERS = {".png": "PNG image (*.png)", ".svg": "SVG vector image (*.svg)", ".pdf": "PDF document (*.pdf)"}
TABLE_FILTER = "CSV table (*.csv);;NumPy archive (*.npz)"
PNG_SCALES = ((1, "PNG…"), (2, "PNG 2× (print)…"), (4, "PNG 4× (print)…"))
VIEW_NAMES = {"tsne": "t-SNE", "umap": "UMAP"}


def _safe_name(title: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "-" for c in title.lower())
    return "-".join(part for part in keep.split("-") if part) or "figure"


class ExportController(QObject):
    """The Export menu, the figure context menus and the export jobs of one window."""

    def __init__(self, context: FeatureContext):
        super().__init__(context.parent)
        self.context = context
        self.window = context.parent  # the root the figures are found under, and the owner of dialogs
        self.state = context.state
        self.last_path: Path | None = None
        self._scenes: weakref.WeakSet = weakref.WeakSet()
        self._submenus: list[QMenu] = []
        self.menu: QMenu = context.menus.add_menu("file.export", "&Export")
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.export_scatter_action = self._action("Export &Scatter Figure…", self.ask_export_scatter,
                                                  QKeySequence("Ctrl+E"))
        self.copy_action = self._action("&Copy Scatter Figure", self.copy_scatter, QKeySequence("Ctrl+Shift+C"))
        self.rebuild_menu()

    def _action(self, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        self.window.addAction(action)  # the shortcut works before the menu was ever opened
        return action

    # ------------------------------------------------------------------ menus
    @Slot()
    def rebuild_menu(self) -> None:
        menu = self.menu
        menu.clear()
        for old in self._submenus:  # clear() drops the actions, not the submenus it made
            old.setParent(None)
            old.deleteLater()
        self._submenus = []
        menu.addAction(self.export_scatter_action)
        menu.addAction(self.copy_action)
        menu.addSeparator()
        for fig in window_figures(self.window):
            submenu = menu.addMenu(fig.title.replace("&", "&&"))
            self._submenus.append(submenu)
            self._figure_menu(submenu, fig)
        menu.addSeparator()
        data = menu.addMenu("&Data")
        self._submenus.append(data)
        loaded = self.state.codes is not None
        selected = loaded and len(self.state.selection) > 0
        for text, slot, enabled in (
            ("View Coordinates (all points)…", lambda: self.ask_export_coordinates(False), loaded),
            ("View Coordinates (selection)…", lambda: self.ask_export_coordinates(True), selected),
            ("Selected Indices…", self.ask_export_selection, selected),
            ("Codes z/μ/logvar (selection)…", lambda: self.ask_export_codes(True), selected),
            ("Codes z/μ/logvar (all points)…", lambda: self.ask_export_codes(False), loaded),
        ):
            action = data.addAction(text)
            action.triggered.connect(slot)
            action.setEnabled(enabled)
        self.attach_context_menus()

    def _figure_menu(self, menu: QMenu, fig: Figure) -> None:
        for scale, text in PNG_SCALES:
            menu.addAction(text).triggered.connect(lambda checked=False, s=scale: self.ask_export(fig, ".png", s))
        menu.addAction("PNG at Width…").triggered.connect(lambda: self.ask_export_width(fig))
        menu.addAction("PNG with Width, Title and DPI…").triggered.connect(lambda: self.ask_export_with_options(fig))
        menu.addAction("SVG…").triggered.connect(lambda: self.ask_export(fig, ".svg"))
        menu.addAction("PDF…").triggered.connect(lambda: self.ask_export(fig, ".pdf"))
        menu.addSeparator()
        menu.addAction("Copy to Clipboard").triggered.connect(lambda: self.copy(fig))

    def attach_context_menus(self) -> None:
        """Give every pyqtgraph view's context menu "Export Figure ▸" and "Copy Figure" (once per scene)."""
        for view in (v for fig in window_figures(self.window) for v in graphics_views(fig)):
            scene = view.scene()
            if scene in self._scenes or not hasattr(scene, "contextMenu"):
                continue
            self._scenes.add(scene)
            submenu = QMenu("Export Figure", self.window)
            submenu.aboutToShow.connect(lambda v=view, m=submenu: self._fill_context(m, v))
            copy = QAction("Copy Figure to Clipboard", submenu)
            copy.triggered.connect(lambda checked=False, v=view: self.copy(figure_for_widget(v, self.window)))
            scene.contextMenu.extend([submenu.menuAction(), copy])

    def _fill_context(self, menu: QMenu, view: pg.GraphicsView) -> None:
        menu.clear()
        self._figure_menu(menu, figure_for_widget(view, self.window))

    # ------------------------------------------------------------------ figures
    def scatter_figure(self) -> Figure:
        return figures_in(self.context.scatter, "Scatter")[0]

    def ask_save_path(self, title: str, filters: str, suggested: str) -> Path | None:
        """Save dialog; the extension of the chosen filter is added when the name has none. Tests replace this."""
        start = str((self.last_path.parent if self.last_path else Path.home()) / suggested)
        chosen, selected = QFileDialog.getSaveFileName(self.window, title, start, filters)
        if not chosen:
            return None
        path = Path(chosen)
        match = re.search(r"\*(\.\w+)", selected or "")
        if not path.suffix and match:
            path = path.with_name(path.name + match.group(1))
        return path

    def ask_export(self, fig: Figure, suffix: str, scale: float | None = None, width: int | None = None) -> None:
        tag = f"@{scale:g}x" if scale and scale != 1 else (f"-{width}px" if width else "")
        suggested = f"{_safe_name(fig.title)}{tag}{suffix}"
        path = self.ask_save_path(f"Export {fig.title}", FIGURE_FILTERS[suffix], suggested)
        if path is not None:
            self.export(fig, path, scale, width)

    def ask_export_width(self, fig: Figure) -> None:
        width, ok = QInputDialog.getInt(self.window, f"Export {fig.title}", "Width in pixels:",
                                        max(1, fig.size.width() * 2), 16, 16384, 100)
        if ok:
            self.ask_export(fig, ".png", width=width)

    def ask_options(self, fig: Figure, options: FigureOptions) -> FigureOptions | None:
        """The export dialog (width, title, DPI); None when cancelled. Tests replace this."""
        return ask_figure_options(self.window, fig.title, fig.size, options)

    def scatter_title(self) -> str:
        """A title that says what the scatter shows: the dataset, the view and the colouring."""
        state = self.state
        view = state.view
        parts = [state.dataset.name] if state.dataset is not None else []
        parts.append(view.label() if view.kind in ("raw", "pca") else VIEW_NAMES.get(view.kind, view.kind))
        title = " — ".join(parts)
        return f"{title}, coloured by {state.color_by}" if state.color_by not in (None, "", "none") else title

    def ask_export_with_options(self, fig: Figure, title: str = "", filters: str | None = None) -> Path | None:
        """Width, title and DPI, then the file (PNG, or SVG/PDF where ``filters`` offer them)."""
        options = self.ask_options(fig, default_options(fig.size, title))
        if options is None:
            return None
        path = self.ask_save_path(f"Export {fig.title}", filters or FIGURE_FILTERS[".png"],
                                  f"{_safe_name(fig.title)}-{options.width}px.png")
        if path is None:
            return None
        return self.export(fig, path, width=options.width, heading=options.heading, dpi=options.dpi)

    def ask_export_scatter(self) -> None:
        self.ask_export_with_options(self.scatter_figure(), self.scatter_title(), ";;".join(FIGURE_FILTERS.values()))

    def export(self, fig: Figure, path: str | Path, scale: float | None = None, width: int | None = None,
               heading: str | None = None, dpi: float | None = None) -> Path | None:
        """Write one figure; errors (unknown format, unwritable folder) go to the user, the app stays as it was."""
        try:
            written = export_figure(fig, path, scale, width, heading, dpi)
        except LatentExplorerError as exc:
            self.context.errors.show_error(exc, "Export failed")
            return None
        self.last_path = written
        self.context.errors.say(f"figure written: {written}")
        return written

    def copy(self, fig: Figure, scale: float = 1.0) -> None:
        try:
            image = copy_figure(fig, scale)
        except LatentExplorerError as exc:
            self.context.errors.show_error(exc, "Copy failed")
            return
        self.context.errors.say(f"{fig.title} copied to the clipboard ({image.width()}×{image.height()})")

    def copy_scatter(self) -> None:
        self.copy(self.scatter_figure())

    # ------------------------------------------------------------------ data
    def coordinates(self, selection_only: bool) -> Table:
        controller = self.context.view
        xy = controller.xy
        if xy is None or self.state.codes is None or len(xy) != len(self.state.codes):
            raise ExportError("the view has no coordinates yet", hint="wait for the view to be drawn")
        labels = controller.labels()
        indices = self.state.selection if selection_only else None
        return coordinates_table(xy, indices, *(labels if labels is not None else (None, None)))

    def selection(self) -> Table:
        labels = self.context.view.labels()
        return selection_table(self.state.selection, *(labels if labels is not None else (None, None)))

    def codes(self, selection_only: bool) -> Table:
        if self.state.codes is None:
            raise ExportError("nothing is encoded yet", hint="open a model and a dataset first")
        dataset = self.state.dataset
        names = dataset.class_names if dataset is not None else None
        return codes_table(self.state.codes, self.state.selection if selection_only else None, class_names=names)

    def write(self, table_factory, path: str | Path) -> bool:
        """Write a table in the background (CSV of 70,000 codes takes seconds); errors reach the user."""
        try:
            table = table_factory()
        except LatentExplorerError as exc:
            self.context.errors.show_error(exc, "Export failed")
            return False
        path = Path(path)
        self.context.jobs.start(EXPORT_JOB, lambda: iter_write_table(path, table), title="writing data",
                                on_done=self._on_written)
        return True

    def _ask_table(self, title: str, suggested: str, factory) -> None:
        path = self.ask_save_path(title, TABLE_FILTER, suggested)
        if path is not None:
            self.write(factory, path)

    def ask_export_coordinates(self, selection_only: bool) -> None:
        view = self.state.view.label().replace(" ", "-").replace("/", "-")
        self._ask_table("Export view coordinates", f"coordinates-{_safe_name(view)}.csv",
                        lambda: self.coordinates(selection_only))

    def ask_export_selection(self) -> None:
        self._ask_table("Export selected indices", "selection.csv", self.selection)

    def ask_export_codes(self, selection_only: bool) -> None:
        self._ask_table("Export codes", "codes-selection.csv" if selection_only else "codes.csv",
                        lambda: self.codes(selection_only))

    def _on_written(self, result: str | Path) -> None:
        self.last_path = Path(result)
        self.context.errors.say(f"data written: {result}")


def install(context: FeatureContext) -> ExportController:
    controller = ExportController(context)
    context.export = controller
    context.after_install(controller.attach_context_menus)  # the views of every feature exist by then
    return controller
