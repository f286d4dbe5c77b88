"""The log file: Python ``logging`` into one rotating file per user, and warnings sent there, not to the terminal.

The window and the command line call `configure_logging` once at start-up. Messages of the app's modules
(``logging.getLogger(__name__)``), Python warnings (scikit-learn's, numba's, pyqtgraph's) and Qt's own messages
(routed by the window) land in ``$LATENT_EXPLORER_LOG``, else ``latent-explorer.log`` in the platform's per-user
state folder (``~/.local/state/latent-explorer`` on Linux). The file rotates at `MAX_BYTES`, keeping `BACKUPS`
older files, so it never grows without bound. Help ▸ About shows where it is.

A folder that cannot be written costs the log, never the start: the app then runs without a file and says why.
"""

from __future__ import annotations

import logging
import os
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_ENV = "LATENT_EXPLORER_LOG"
LOG_NAME = "latent-explorer.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"

_lock = threading.Lock()
_problem: str | None = None  # why the file could not be opened, when it could not


class _AppLogHandler(RotatingFileHandler):
    """The app's own handler: recognised so that configuring twice adds no second one."""


def default_log_path() -> Path:
    """``$LATENT_EXPLORER_LOG``, else ``latent-explorer.log`` in the user's state folder."""
    override = os.environ.get(LOG_ENV)
    if override:
        return Path(override).expanduser()
    try:
        import platformdirs

        return Path(platformdirs.user_state_dir("latent-explorer")) / LOG_NAME
    except ImportError:  # platformdirs is a dependency; a bare copy of the core still finds a place
        return Path.home() / ".local" / "state" / "latent-explorer" / LOG_NAME


def _handler() -> _AppLogHandler | None:
    return next((h for h in logging.getLogger().handlers if isinstance(h, _AppLogHandler)), None)


def configure_logging(path: str | Path | None = None, level: int = logging.INFO) -> Path | None:
    """Log to the file (rotating) and capture warnings there; returns the file, or None when it cannot be opened."""
    global _problem
    with _lock:
        existing = _handler()
        if existing is not None:
            return Path(existing.baseFilename)
        target = Path(path) if path is not None else default_log_path()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handler = _AppLogHandler(target, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=False)
        except OSError as exc:
            _problem = f"{target}: {exc.strerror or exc}"
            return None
        _problem = None
        handler.setFormatter(logging.Formatter(FORMAT))
        root = logging.getLogger()
        root.addHandler(handler)
        if root.level == logging.NOTSET or root.level > level:
            root.setLevel(level)
        logging.captureWarnings(True)  # warnings.warn(...) → the "py.warnings" logger → the file
        logging.getLogger("latent_explorer").info("started, pid %d", os.getpid())
        return target


def log_file() -> Path | None:
    """The file this process logs to (None before `configure_logging`, or when it could not be opened)."""
    handler = _handler()
    return Path(handler.baseFilename) if handler is not None else None


def log_problem() -> str | None:
    """Why there is no log file, when `configure_logging` could not open one."""
    return _problem


def stop_logging() -> None:
    """Close the file and give warnings back to the terminal (tests; a host application taking over)."""
    with _lock:
        handler = _handler()
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()
        logging.captureWarnings(False)
