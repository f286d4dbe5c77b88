"""The window opened from Python (`latent_explorer.api.show`), and a handle that reads it back as arrays.

This module only builds the main window and talks to it through what it offers anyone: its ``state`` (the
evented `ExplorerState`), ``encode()``, ``show()`` and ``close()``. Everything the user does in the window
(a lasso selection, a point moved in the decoder) lands in that state, so the handle reads it from there.
In Jupyter, ``%gui qt`` lets the kernel run Qt's event loop; a script either blocks in ``app.exec()`` or calls
`WindowHandle.wait_until_ready` / `WindowHandle.process_events` to let the window work.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from latent_explorer.core.errors import LatentExplorerError


class WindowHandle:
    """A live window: read and set its selection and current z; wait for its codes; close it."""

    def __init__(self, window: Any, app: Any):
        self.window = window
        self._app = app

    @property
    def state(self):
        """The window's `ExplorerState` (model, dataset, codes, selection, current z), evented with psygnal."""
        return self.window.state

    @property
    def codes(self):
        return self.state.codes

    @property
    def selection(self) -> np.ndarray:
        """The selected rows (sorted int64), a copy: changing it does not change the window."""
        return np.array(self.state.selection, dtype=np.int64, copy=True)

    def select(self, indices) -> None:
        """Select these rows in every view of the window."""
        self.state.select(indices)
        self.process_events(0)

    @property
    def current_z(self) -> np.ndarray | None:
        """The code the decoder shows (a copy), or None before one is chosen."""
        z = self.state.current_z
        return None if z is None else np.array(z, dtype=np.float32, copy=True)

    def set_current_z(self, z) -> None:
        """Show this code in the decoder (it is decoded live, as a slider move would)."""
        self.state.current_z = np.array(z, dtype=np.float32, copy=True).ravel()
        self.process_events(0)

    @property
    def current_index(self) -> int | None:
        return self.state.current_index

    @property
    def is_open(self) -> bool:
        return self.window.isVisible()

    def process_events(self, seconds: float = 0.05) -> None:
        """Let the window work for ``seconds`` (needed in scripts without a running event loop)."""
        deadline = time.monotonic() + seconds
        while True:
            self._app.processEvents()
            if time.monotonic() >= deadline:
                return
            time.sleep(0.01)

    def wait_until_ready(self, timeout: float = 300.0):
        """Process events until the window has its codes (encoded or given); returns them."""
        deadline = time.monotonic() + timeout
        while self.state.codes is None:
            if self.window.last_error is not None:
                raise self.window.last_error
            if time.monotonic() > deadline:
                raise LatentExplorerError(f"the window had no codes after {timeout:g} s",
                                          hint="give a longer timeout, or look at the window's status bar")
            self.process_events(0.05)
        return self.state.codes

    def close(self) -> None:
        self.window.close()
        self.process_events(0)


def open_window(model: Any, dataset: Any, codes: Any = None, block: bool = False) -> WindowHandle:
    """Build the window on loaded objects; encode in its worker unless ``codes`` are given."""
    from latent_explorer.qt.app import make_application
    from latent_explorer.qt.main_window import MainWindow

    app = make_application()
    window = MainWindow()
    window.show()
    window.state.dataset = dataset
    window.state.model = model
    if codes is not None:
        window.state.codes = codes
    else:
        window.encode()
    handle = WindowHandle(window, app)
    if block:
        app.exec()
    return handle
