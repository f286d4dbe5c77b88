"""The main window: the latent scatter in the centre, the job list in the status bar, the features' docks.

The window builds the shared objects (state, view controller, job runner, file loader, menus, docks), puts
them in a `FeatureContext`, and installs the features of ``qt/feature_list.FEATURES`` in order with it. It
never looks inside a feature: a feature reaches the others through the services it finds in the context.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QWidget

from latent_explorer import __version__
from latent_explorer.core.models import demo_models
from latent_explorer.core.projections import PCAModel, Projection
from latent_explorer.core.state import ExplorerState
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.docks import WindowDocks
from latent_explorer.qt.feature import Feature
from latent_explorer.qt.feature_list import FEATURES, LAYOUT_VERSION
from latent_explorer.qt.job_list import JobList
from latent_explorer.qt.menus import MenuAnchors
from latent_explorer.qt.reporter import StatusReporter
from latent_explorer.qt.scatter import LatentScatter
from latent_explorer.qt.sources import SourceLoader
from latent_explorer.qt.view_controller import ViewController
from latent_explorer.qt.wheel_guard import install_wheel_guard
from latent_explorer.workers.runner import JobRunner

CLOSE_WAIT_MS = 1000  # closing waits this long for jobs to stop at their next step; a hung model's daemon
# thread is left behind (it cannot keep the process alive), so the window closes within a few seconds regardless


class MainWindow(QMainWindow):
    closing = Signal()  # first thing on close, before the features stop their threads

    def __init__(self, settings: QSettings | None = None, features: tuple[Feature, ...] = FEATURES):
        super().__init__()
        install_wheel_guard(QApplication.instance())
        self.setWindowTitle(f"Latent Explorer {__version__}")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.settings = settings or QSettings()
        self.state = ExplorerState()
        self.status_label = QLabel("Ready")
        self.reporter = StatusReporter(self.status_label, self)
        self.runner = JobRunner(self, report_error=self.reporter.show_error)
        self.menus = MenuAnchors(self.menuBar(), self)
        self.scatter = LatentScatter()
        self.central: QWidget = self.scatter
        self.setCentralWidget(self.scatter)
        self.view_controller = ViewController(self, self.state, self.runner, self.scatter, self.reporter)
        self.sources = SourceLoader(self.state, self.runner, self.settings, self.reporter, self,
                                    self.view_controller.load_coordinates)
        self.layout_docks = WindowDocks(self, self.menus)
        self._build_status_bar()
        self._build_menus()
        self.context = FeatureContext(state=self.state, view=self.view_controller, scatter=self.scatter,
                                      jobs=self.runner, settings=self.settings, errors=self.reporter,
                                      sources=self.sources, menus=self.menus, docks=self.layout_docks,
                                      parent=self)
        self.features = features
        self._install_features()
        self._restore_layout()

    # ------------------------------------------------------------------ building
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.job_list = JobList(self.runner)
        self.missing_label = QLabel()
        self.missing_label.setVisible(False)
        self.missing_label.setToolTip("samples whose coordinates in this view are NaN or infinite are not drawn")
        bar.addWidget(self.status_label, 1)
        bar.addPermanentWidget(self.missing_label)
        bar.addPermanentWidget(self.job_list)
        self.view_controller.missing_changed.connect(self._on_missing_changed)
        self.view_controller.message.connect(self.status_label.setText)

    def _build_menus(self) -> None:
        menus, sources = self.menus, self.sources
        menus.add("file.open", "Open &Model…", sources.ask_open_model, QKeySequence("Ctrl+M"))
        menus.add("file.open", "Open &Dataset…", sources.ask_open_dataset, QKeySequence("Ctrl+O"))
        self.recent_menu = menus.add_menu("file.open", "Open &Recent")
        sources.recent_changed.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        menus.add("file.open", "Load 2-D &Coordinates…", sources.ask_load_coordinates)
        menus.add("file.quit", "&Quit", self.close, QKeySequence.StandardKey.Quit)
        for name in demo_models():
            menus.add("demos.models", name, lambda checked=False, n=name: sources.open_demo(n))

    def _install_features(self) -> None:
        """Install every feature in list order; then dock their widgets by area and order."""
        made = []
        for feature in self.features:
            widgets = dict(feature.install(self.context))
            declared = {spec.name for spec in feature.docks}
            if set(widgets) != declared:
                raise RuntimeError(f"feature {feature.name} declared the docks {sorted(declared)} "
                                   f"but made {sorted(widgets)}")
            made.extend((spec, widgets[spec.name]) for spec in feature.docks)
        for spec, widget in sorted(made, key=lambda item: (item[0].area.value, item[0].order)):
            self.layout_docks.add(spec, widget)
        self.context.installed()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for kind, spec in self.sources.recent_files():
            action = self.recent_menu.addAction(f"{kind}: {spec}")
            action.triggered.connect(lambda checked=False, k=kind, s=spec: self.sources.open_recent(k, s))

    # ------------------------------------------------------------------ what scripts and tests reach
    @property
    def docks(self):
        return self.layout_docks.docks

    @property
    def last_error(self) -> Exception | None:
        return self.reporter.last_error

    @last_error.setter
    def last_error(self, exc: Exception | None) -> None:
        self.reporter.last_error = exc

    def panel(self, name: str) -> QWidget:
        """The widget of a dock."""
        return self.layout_docks.widget(name)

    def raise_panel(self, name: str) -> None:
        self.layout_docks.raise_dock(name)

    def apply_layout(self, name: str) -> None:
        """Switch to a named layout ("explore", "decode", "analyse"; View ▸ Layout)."""
        self.layout_docks.apply_layout(name)

    def set_central(self, widget: QWidget) -> None:
        self.central = widget
        self.setCentralWidget(widget)

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

    def show_error(self, exc: Exception, title: str = "Error") -> None:
        self.reporter.show_error(exc, title)

    # ------------------------------------------------------------------ opening
    def open_initial(self, model: str | None = None, data: str | None = None, device: str = "auto",
                     session: str | None = None, allow_pickle: bool = False) -> None:
        """What ``latent-explorer`` opens at start: a session, the given files, else the demo for the data."""
        self.sources.device = device or "auto"
        if session and self.context.session is not None:
            self.context.session.open_session(session)
            return
        self.sources.open_initial(model, data, device, allow_pickle=allow_pickle)

    def open_demo(self, name: str) -> None:
        self.sources.open_demo(name)

    def open_dataset(self, spec: str, then_model: str | None = None, allow_pickle: bool = False, **options) -> None:
        self.sources.open_dataset(spec, then_model=then_model, allow_pickle=allow_pickle, **options)

    def open_model(self, spec: str, allow_pickle: bool = False) -> None:
        self.sources.open_model(spec, allow_pickle=allow_pickle)

    def open_path(self, path: str) -> None:
        self.sources.open_path(path)

    def _on_missing_changed(self, n: int) -> None:
        self.missing_label.setText(f"{n:,} points not drawn (NaN/inf)")
        self.missing_label.setVisible(n > 0)

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            self.sources.open_path(url.toLocalFile())

    # ------------------------------------------------------------------ layout and closing
    def _restore_layout(self) -> None:
        """The arrangement saved on close, if it was saved with the same docks arranged the same way."""
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if (geometry is None or state is None or self.settings.value("window/layout") != LAYOUT_VERSION
                or not self.restoreGeometry(geometry) or not self.restoreState(state)):
            self.layout_docks.default_layout()
            return
        self.layout_docks.restored(str(self.settings.value("window/layout-name", "")))

    def closeEvent(self, event) -> None:  # noqa: N802
        self.closing.emit()
        self.context.close()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/layout", LAYOUT_VERSION)
        self.settings.setValue("window/layout-name", self.layout_docks.current)
        self.view_controller.shutdown()
        self.runner.shutdown(CLOSE_WAIT_MS)
        super().closeEvent(event)
