"""The main window: the latent scatter in the centre, status bar with progress and Cancel, dockable panels.

Panels live in ``latent_explorer/qt/panels/``: every module there that defines
``create_panels(window) -> list[Panel]`` is mounted as dock widgets, so a new panel never edits this file.
The scatter is driven by a `ViewController` (``window.view_controller``) that maps the state onto it.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QWidget,
)

from latent_explorer import __version__
from latent_explorer.core.datasets import default_dataset_spec, iter_load_dataset
from latent_explorer.core.encoding import iter_encode_cached
from latent_explorer.core.errors import LatentExplorerError, UnsafeFileError
from latent_explorer.core.jobs import Progress
from latent_explorer.core.models import default_demo_for, demo_models, load_model
from latent_explorer.core.projections import PCAModel, Projection
from latent_explorer.core.state import ExplorerState
from latent_explorer.qt.scatter import LatentScatter
from latent_explorer.qt.view_controller import ViewController
from latent_explorer.workers.runner import JobRunner

MAX_RECENT = 10
LAYOUT_VERSION = "3"  # bump when the set of panels changes, so old saved layouts are not restored


@dataclass
class Panel:
    """A dockable panel contributed by a module in ``qt/panels``."""

    name: str  # object name, stable: used to save the layout
    title: str
    widget: QWidget
    area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea
    visible: bool = True


class MainWindow(QMainWindow):
    recent_changed = Signal()  # the recent files list changed
    closing = Signal()  # first thing on close: panels stop their threads and timers before the runner does

    def __init__(self, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle(f"Latent Explorer {__version__}")
        self.resize(1400, 900)
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.settings = settings or QSettings()
        self.state = ExplorerState()
        self.runner = JobRunner(self)
        self.last_error: Exception | None = None
        self.docks: dict[str, QDockWidget] = {}
        self._tab_groups: dict[Qt.DockWidgetArea, QDockWidget] = {}
        self.device = "auto"
        self._pending_model: str | None = None
        self._encoding_for: tuple[Any, Any] | None = None
        self._build_status_bar()
        self._build_menus()
        self.scatter = LatentScatter()
        self.central: QWidget = self.scatter
        self.setCentralWidget(self.scatter)
        self.view_controller = ViewController(self, self.scatter)
        self.view_controller.missing_changed.connect(self._on_missing_changed)
        self.view_controller.message.connect(self.status_label.setText)
        self._mount_panels()
        self.runner.progress.connect(self._on_job_progress)
        self.runner.finished.connect(self._on_job_finished)
        self.runner.failed.connect(self._on_job_failed)
        self.runner.cancelled.connect(self._on_job_cancelled)
        self.runner.busy_changed.connect(self._on_busy_changed)
        self._restore_layout()

    # ------------------------------------------------------------------ building
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_label = QLabel("Ready")
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(240)
        self.progress_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_jobs)
        self.job_label = QLabel()  # the running job's stage: the status text stays for results and errors
        self.job_label.setVisible(False)
        self.missing_label = QLabel()
        self.missing_label.setVisible(False)
        self.missing_label.setToolTip("samples whose coordinates in this view are NaN or infinite are not drawn")
        bar.addWidget(self.status_label, 1)
        bar.addPermanentWidget(self.missing_label)
        bar.addPermanentWidget(self.job_label)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)

    def _build_menus(self) -> None:
        menu = self.menuBar()
        self.file_menu = menu.addMenu("&File")
        self._action(self.file_menu, "Open &Model…", self.ask_open_model, QKeySequence("Ctrl+M"))
        self._action(self.file_menu, "Open &Dataset…", self.ask_open_dataset, QKeySequence("Ctrl+O"))
        self.recent_menu = self.file_menu.addMenu("Open &Recent")
        self._fill_recent_menu()
        self._action(self.file_menu, "Load 2-D &Coordinates…", self.ask_load_coordinates)
        self.file_menu.addSeparator()
        self.export_menu = self.file_menu.addMenu("&Export")
        self.file_menu.addSeparator()
        self._action(self.file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.demos_menu = menu.addMenu("&Demos")
        for name in demo_models():
            self._action(self.demos_menu, name, lambda checked=False, n=name: self.open_demo(n))
        self.view_menu = menu.addMenu("&View")
        self.help_menu = menu.addMenu("&Help")
        self._action(self.help_menu, "&About", self.show_about)

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _mount_panels(self) -> None:
        import latent_explorer.qt.panels as panels_pkg

        for info in sorted(pkgutil.iter_modules(panels_pkg.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"{panels_pkg.__name__}.{info.name}")
            factory = getattr(module, "create_panels", None)
            if factory is not None:
                for panel in factory(self):
                    self.add_panel(panel)
            installer = getattr(module, "install", None)  # menus, actions, controllers without a dock
            if installer is not None:
                installer(self)

    def add_panel(self, panel: Panel) -> QDockWidget:
        """Dock a panel. Right and bottom panels share one tab group per side, so that a dozen panels fit
        on a laptop screen; the left side (loading and view choice) stays stacked."""
        dock = QDockWidget(panel.title, self)
        dock.setObjectName(panel.name)
        scroller = QScrollArea()  # a tall panel scrolls instead of forcing the window past the screen
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setWidget(panel.widget)
        dock.setWidget(scroller)
        self.addDockWidget(panel.area, dock)
        first = self._tab_groups.get(panel.area)
        if first is None:
            if panel.area != Qt.DockWidgetArea.LeftDockWidgetArea:
                self._tab_groups[panel.area] = dock
        else:
            self.tabifyDockWidget(first, dock)
        dock.setVisible(panel.visible)
        self.view_menu.addAction(dock.toggleViewAction())
        self.docks[panel.name] = dock
        return dock

    def _default_layout(self) -> None:
        """Fit the screen, raise the first tab of each group and give the scatter most of the room."""
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        if screen is not None:
            self.resize(min(1500, screen.width()), min(950, screen.height()))
        for dock in self._tab_groups.values():
            dock.raise_()
        QTimer.singleShot(0, self._default_dock_sizes)  # dock sizes only take once the window is laid out

    def _default_dock_sizes(self) -> None:
        right = [d for d in self.docks.values() if self.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea]
        bottom = [d for d in self.docks.values() if self.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea]
        left = [d for d in self.docks.values() if self.dockWidgetArea(d) == Qt.DockWidgetArea.LeftDockWidgetArea]
        if right:
            self.resizeDocks(right[:1], [540], Qt.Orientation.Horizontal)
        if left:
            self.resizeDocks(left[:1], [270], Qt.Orientation.Horizontal)
        if bottom:
            self.resizeDocks(bottom[:1], [290], Qt.Orientation.Vertical)

    def panel(self, name: str) -> QWidget:
        """The widget of a docked panel (the dock holds it inside a scroll area)."""
        return self.docks[name].widget().widget()

    def raise_panel(self, name: str) -> None:
        """Show a panel and bring its tab to the front."""
        dock = self.docks.get(name)
        if dock is not None:
            dock.setVisible(True)
            dock.raise_()

    def set_central(self, widget: QWidget) -> None:
        self.central = widget
        self.setCentralWidget(widget)

    # ------------------------------------------------------------------ the current view
    @property
    def pca(self) -> PCAModel | None:
        """The PCA of the plotted codes, fitted once per encoding (None until fitted)."""
        return self.view_controller.pca

    def current_projection(self) -> Projection | None:
        """The projection of ``state.view``, to turn points of the scatter back into codes."""
        return self.view_controller.current_projection()

    def load_coordinates(self, path: str) -> str | None:
        """Add an (N, 2) coordinates file as one more view; returns its key, None (and a message) if refused."""
        return self.view_controller.load_coordinates(path)

    # ------------------------------------------------------------------ opening
    def open_initial(self, model: str | None = None, data: str | None = None, device: str = "auto",
                     session: str | None = None, allow_pickle: bool = False) -> None:
        """What ``latent-explorer`` opens at start: the given files, else the demo for the default data."""
        self.device = device or "auto"
        if session and hasattr(self, "open_session"):
            self.open_session(session)
            return
        data = data or default_dataset_spec()
        if model is None:
            model = f"demo:{default_demo_for(data)}" if data in ("digits",) or data.startswith("fashion") else None
        self.open_dataset(data, then_model=model, allow_pickle=allow_pickle)

    def open_demo(self, name: str) -> None:
        data = "fashion-mnist" if name.startswith("fashion") else "digits"
        if self.state.dataset is not None and self.state.dataset.name == data:
            self.open_model(f"demo:{name}")
        else:
            self.open_dataset(data, then_model=f"demo:{name}")

    def open_dataset(self, spec: str, then_model: str | None = None, allow_pickle: bool = False, **options) -> None:
        self._pending_model = then_model
        self._pending_allow_pickle = allow_pickle
        self._remember_recent(spec, "data")
        self.runner.start("load-data", lambda: iter_load_dataset(spec, **options))

    def open_model(self, spec: str, allow_pickle: bool = False) -> None:
        self._remember_recent(spec, "model")
        samples = None
        if self.state.dataset is not None:
            samples = self.state.dataset.float_images(slice(0, 2))
        device = self.device

        def job():
            yield Progress("loading model", 0, None, spec)
            return load_model(spec, device=device, allow_pickle=allow_pickle, check_samples=samples)

        self._model_spec = spec
        self.runner.start("load-model", job)

    def encode(self) -> None:
        model, dataset = self.state.model, self.state.dataset
        if model is None or dataset is None:
            return
        self._encoding_for = (model, dataset)
        self.runner.start("encode", lambda: iter_encode_cached(model, dataset))

    # ------------------------------------------------------------------ job results (GUI thread)
    @Slot(str, object)
    def _on_job_progress(self, name: str, progress: Progress) -> None:
        if not isinstance(progress, Progress):
            return
        frac = progress.fraction
        if frac is None:
            self.progress_bar.setRange(0, 0)  # busy indicator
        else:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(frac * 1000))
        text = progress.stage + (f": {progress.message}" if progress.message else "")
        if progress.total:
            text += f" ({progress.done:,}/{progress.total:,})"
        self.job_label.setText(text)

    @Slot(str, object)
    def _on_job_finished(self, name: str, result: Any) -> None:
        if name == "load-data":
            self.runner.cancel("encode")  # codes of the previous dataset must never arrive after this one
            self.state.codes = None
            self.state.selection = np.zeros(0, np.int64)
            self.state.current_index = None
            self.state.hidden_classes = frozenset()  # class ids of another dataset mean other classes
            self.state.dataset = result
            msg = f"{result.name}: {len(result):,} images {list(result.image_shape)}"
            if result.skipped:
                msg += f" — {len(result.skipped)} unreadable files skipped"
            self.status_label.setText(msg)
            if self._pending_model:
                spec, self._pending_model = self._pending_model, None
                self.open_model(spec, allow_pickle=self._pending_allow_pickle)
            elif self.state.model is not None:
                self._check_and_encode()
        elif name == "load-model":
            self.runner.cancel("encode")
            self.state.codes = None
            self.state.model = result
            self.status_label.setText(f"model {result.name}: {result.info.kind}, z_dim {result.latent_dim}")
            self.encode()
        elif name == "encode":
            model, dataset = self._encoding_for or (None, None)
            if model is not self.state.model or dataset is not self.state.dataset:
                return  # encoded for a model or dataset that has been replaced since (a session opened, say)
            self.state.codes = result
            self.status_label.setText(f"encoded {len(result):,} samples → z_dim {result.latent_dim}")
        elif name == "tsne":
            self.status_label.setText(f"t-SNE finished: {len(result):,} points")
        elif name == "pca":
            self.status_label.setText("PCA fitted")

    def _check_and_encode(self) -> None:
        try:
            self.state.model.check(self.state.dataset.float_images(slice(0, 2)))
        except LatentExplorerError as exc:
            self.show_error(exc)
            return
        self.encode()

    @Slot(str, object)
    def _on_job_failed(self, name: str, exc: Exception) -> None:
        if isinstance(exc, UnsafeFileError) and name == "load-model":
            answer = QMessageBox.warning(
                self, "Run code from this model?",
                f"{exc}\n\nLoading it runs code from the file. Load it only if you trust its origin.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer == QMessageBox.StandardButton.Yes:
                self.open_model(self._model_spec, allow_pickle=True)
            return
        self.show_error(exc, f"{name} failed")

    @Slot(str, object)
    def _on_job_cancelled(self, name: str, partial: Any) -> None:
        self.status_label.setText(f"{name} cancelled")

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        self.progress_bar.setVisible(busy)
        self.job_label.setVisible(busy)
        self.cancel_button.setVisible(busy)

    @Slot(int)
    def _on_missing_changed(self, n: int) -> None:
        self.missing_label.setText(f"{n:,} points not drawn (NaN/inf)")
        self.missing_label.setVisible(n > 0)

    @Slot()
    def cancel_jobs(self) -> None:
        self.runner.cancel_all()

    def show_error(self, exc: Exception, title: str = "Error") -> None:
        """Tell the user, keep the session: a non-blocking message box and the status bar."""
        self.last_error = exc
        text = str(exc) if isinstance(exc, LatentExplorerError) else f"{type(exc).__name__}: {exc}"
        self.status_label.setText(f"{title}: {text.splitlines()[0]}")
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # ------------------------------------------------------------------ dialogs and menus
    def ask_open_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model (model.toml or a checkpoint's config.json)", "",
                                              "Models (model.toml *.toml config.json);;All files (*)")
        if path:
            self.open_model(str(Path(path).parent) if Path(path).name == "config.json" else path)

    def ask_load_coordinates(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load 2-D coordinates (one row per sample)", "",
                                              "Coordinates (*.npy *.npz *.csv *.tsv *.txt);;All files (*)")
        if path:
            self.load_coordinates(path)

    def ask_open_dataset(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open dataset", "",
                                              "Datasets (*.npz *.npy *ubyte *ubyte.gz *idx*);;All files (*)")
        if path:
            self.open_dataset(path)

    def _remember_recent(self, spec: str, kind: str) -> None:
        recent = [r for r in self._recent() if r != f"{kind}:{spec}"]
        recent.insert(0, f"{kind}:{spec}")
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self._fill_recent_menu()
        self.recent_changed.emit()

    def recent_files(self) -> list[tuple[str, str]]:
        """(kind, spec) of the recently opened models ("model") and datasets ("data"), newest first."""
        return [(kind, spec) for kind, _, spec in (entry.partition(":") for entry in self._recent())]

    def open_recent(self, kind: str, spec: str) -> None:
        if kind == "model":
            self.open_model(spec)
        else:
            self.open_dataset(spec)

    def _recent(self) -> list[str]:
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for kind, spec in self.recent_files():
            self._action(self.recent_menu, f"{kind}: {spec}",
                         lambda checked=False, k=kind, s=spec: self.open_recent(k, s))

    def show_about(self) -> None:
        import openTSNE
        import PySide6
        import torch

        model = self.state.model
        QMessageBox.about(self, "About Latent Explorer",
                          f"Latent Explorer {__version__}\n\ntorch {torch.__version__}\nQt (PySide6) "
                          f"{PySide6.__version__}\nopenTSNE {openTSNE.__version__}\n"
                          f"device: {model.device if model is not None else 'none loaded'}")

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            self.open_path(url.toLocalFile())

    def open_path(self, path: str) -> None:
        """A dropped or named path: a model if it looks like one, else a dataset."""
        p = Path(path)
        if p.name == "model.toml" or p.suffix == ".toml" or (p.is_dir() and ((p / "model.toml").exists()
                                                                            or (p / "config.json").exists())):
            self.open_model(str(p))
        elif p.name == "config.json":
            self.open_model(str(p.parent))
        else:
            self.open_dataset(str(p))

    # ------------------------------------------------------------------ layout and closing
    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is None or state is None or self.settings.value("window/layout") != LAYOUT_VERSION:
            self._default_layout()
            return
        self.restoreGeometry(geometry)
        self.restoreState(state)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.closing.emit()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/layout", LAYOUT_VERSION)
        self.view_controller.shutdown()
        self.runner.shutdown()
        super().closeEvent(event)
