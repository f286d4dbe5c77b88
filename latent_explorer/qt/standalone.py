"""A `FeatureContext` without the main window: one feature on its own, for tests, benchmarks and scripts.

The window builds the same parts around its own status bar; here the status line is a label nobody shows,
and ``scatter`` / ``view`` may be stand-ins that offer what the feature uses of them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel, QMainWindow

from latent_explorer.core.state import ExplorerState
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.docks import WindowDocks
from latent_explorer.qt.menus import MenuAnchors
from latent_explorer.qt.reporter import StatusReporter
from latent_explorer.qt.scatter import LatentScatter
from latent_explorer.qt.sources import SourceLoader
from latent_explorer.qt.view_controller import ViewController
from latent_explorer.workers.runner import JobRunner


def standalone_context(parent: QMainWindow, settings: QSettings, scatter: Any = None,
                       view: Any = None) -> FeatureContext:
    """The context a feature is installed with, around ``parent`` (dialogs, shortcuts, docks)."""
    state = ExplorerState()
    reporter = StatusReporter(QLabel(), parent)
    runner = JobRunner(parent, report_error=reporter.show_error)
    scatter = scatter if scatter is not None else LatentScatter()
    view = view if view is not None else ViewController(parent, state, runner, scatter, reporter)
    menus = MenuAnchors(parent.menuBar(), parent)
    sources = SourceLoader(state, runner, settings, reporter, parent, view.load_coordinates)
    return FeatureContext(state=state, view=view, scatter=scatter, jobs=runner, settings=settings, errors=reporter,
                          sources=sources, menus=menus, docks=WindowDocks(parent, menus),
                          parent=parent)
