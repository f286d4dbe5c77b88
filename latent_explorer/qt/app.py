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

    from latent_explorer.core.threads import configure_process

    app = QApplication.instance()
    if app is None:
        configure_process()  # once per process: the counts every job's thread then takes (core/threads.py)
        app = QApplication(argv if argv is not None else [sys.argv[0]])
    app.setApplicationName("Latent Explorer")
    app.setOrganizationName("latent-explorer")
    app.setApplicationDisplayName("Latent Explorer")
    configure_pyqtgraph()
    if getattr(app, "_garbage_collector", None) is None:
        from latent_explorer.qt.collector import GuiThreadCollector

        # cycles are collected on a GUI-thread timer, never in a worker, and full collections kept short
        app._garbage_collector = GuiThreadCollector(interval_s=0.25)
    return app


def route_qt_messages() -> None:
    """Qt's own warnings (fonts, platform plugins, style sheets) go to the log file instead of the terminal."""
    import logging

    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    logger = logging.getLogger("qt")
    levels = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}

    def handler(kind: QtMsgType, context: Any, message: str) -> None:
        logger.log(levels.get(kind, logging.WARNING), "%s", message)

    qInstallMessageHandler(handler)


def run_app(args: Any) -> int:
    """Open the window on the given model/data, or on the built-in demo."""
    from latent_explorer.core.logs import log_file

    app = make_application()
    if log_file() is not None:  # only when there is a file to write them to
        route_qt_messages()
    from latent_explorer.qt.main_window import MainWindow

    window = MainWindow()
    app._garbage_collector.settle()  # the start-up's objects are there for good: later collections skip them
    window.show()
    if getattr(args, "layout", None):
        window.apply_layout(args.layout)
    if getattr(args, "codes", None):
        open_codes_then_model(window, args)
        return _exec(app, window)
    window.open_initial(model=getattr(args, "model", None), data=getattr(args, "data", None),
                        device=getattr(args, "device", "auto"), session=getattr(args, "session", None),
                        allow_pickle=getattr(args, "allow_pickle", False))
    if getattr(args, "compare", None) and window.context.compare is not None:
        window.context.compare.compare_with(args.compare)
    return _exec(app, window)


def open_codes_then_model(window: Any, args: Any) -> None:
    """``--codes PATH [--model M]``: the codes without a model; a model given beside them is attached once
    the codes are shown (``--data`` is not needed: the codes are the data)."""
    window.sources.device = getattr(args, "device", "auto") or "auto"
    window.sources.open_codes(args.codes, then_model=getattr(args, "model", None),
                              allow_pickle=getattr(args, "allow_pickle", False))


def _exec(app: Any, window: Any) -> int:
    if os.environ.get("LATENT_EXPLORER_QUIT_AFTER_MS"):
        from PySide6.QtCore import QTimer

        QTimer.singleShot(int(os.environ["LATENT_EXPLORER_QUIT_AFTER_MS"]), window.close)
    return app.exec()
