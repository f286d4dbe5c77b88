"""Application start-up: QApplication, pyqtgraph defaults, the main window."""

from __future__ import annotations

import os
import sys
from typing import Any


def configure_pyqtgraph() -> None:
    import pyqtgraph as pg

    # raster engine everywhere: OpenGL viewports are optional, never the default
    pg.setConfigOptions(antialias=False, useOpenGL=False, background="w", foreground="k",
                        imageAxisOrder="row-major")


def make_application(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else [sys.argv[0]])
    app.setApplicationName("Latent Explorer")
    app.setOrganizationName("latent-explorer")
    app.setApplicationDisplayName("Latent Explorer")
    configure_pyqtgraph()
    if getattr(app, "_garbage_collector", None) is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        # Python's cycle collector runs in whichever thread allocates: in a worker thread it may delete Qt objects
        # of the GUI thread or disconnect their signals there, which deadlocks on the GIL or crashes. Collect on
        # a GUI-thread timer instead.
        app._garbage_collector = GarbageCollector(interval=1.0)
    return app


def run_app(args: Any) -> int:
    """Open the window on the given model/data, or on the built-in demo."""
    app = make_application()
    from latent_explorer.qt.main_window import MainWindow

    window = MainWindow()
    window.show()
    if getattr(args, "layout", None):
        window.apply_layout(args.layout)
    window.open_initial(model=getattr(args, "model", None), data=getattr(args, "data", None),
                        device=getattr(args, "device", "auto"), session=getattr(args, "session", None),
                        allow_pickle=getattr(args, "allow_pickle", False))
    if os.environ.get("LATENT_EXPLORER_QUIT_AFTER_MS"):
        from PySide6.QtCore import QTimer

        QTimer.singleShot(int(os.environ["LATENT_EXPLORER_QUIT_AFTER_MS"]), window.close)
    return app.exec()
