"""A panel's own job: its progress bar and Cancel button, the bar's one way of showing a fraction, the job run
under the panel's name (a new start replaces it), and the one line a failure shows.

Why one piece: the analysis panels, the structure dock, the comparison window and the status bar's job list all
show a `Progress` the same way (a determinate bar, or Qt's busy indicator when the job cannot say how far it is),
and the analysis panels and the structure dock replace and drop their job the same way; written once, they cannot
drift apart.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtWidgets import QProgressBar, QPushButton, QToolButton

STEPS = 1000  # the bar's resolution


def show_fraction(bar: QProgressBar, fraction: float | None) -> None:
    """``fraction`` (0…1) on ``bar``, or the busy indicator when it is None."""
    if fraction is None:
        bar.setRange(0, 0)
    else:
        bar.setRange(0, STEPS)
        bar.setValue(int(fraction * STEPS))


class JobControls:
    """A progress bar and a Cancel button, hidden until the job reports and hidden again once it has ended."""

    def __init__(self, cancel: Callable[[], Any], width: int):
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(width)
        self.progress_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(cancel)

    def show(self, progress: Any) -> str:
        """Show how far ``progress`` got; returns its text for the owner's status line."""
        self.progress_bar.setVisible(True)
        self.cancel_button.setVisible(True)
        show_fraction(self.progress_bar, getattr(progress, "fraction", None))
        return f"{progress.stage}" + (f": {progress.message}" if progress.message else "")

    def idle(self) -> None:
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)


class PanelJob:
    """The one job a panel runs under its name. Starting another replaces it, and dropping it cancels it; either
    way the runner reports the old job as cancelled, and ``replacing`` is True while it does, so that the panel
    keeps nothing of it and says nothing."""

    def __init__(self, runner: Any, name: str, title: str):
        self.runner, self.name, self.title = runner, name, title
        self.replacing = False
        self.started = 0.0  # perf_counter() at the last start

    def start(self, job: Any, **callbacks: Callable) -> None:
        """Run ``job`` (replacing the running one); ``callbacks`` are the runner's ``on_progress``, ``on_done``,
        ``on_error`` and ``on_cancel``."""
        self.started = time.perf_counter()
        with self._replacing():
            self.runner.start(self.name, lambda: job, title=self.title, **callbacks)

    def drop(self) -> None:
        """Cancel the running job, if any, as one about to be replaced."""
        with self._replacing():
            self.runner.cancel(self.name)

    def elapsed_s(self) -> float:
        """Seconds since the last start."""
        return time.perf_counter() - self.started

    @contextlib.contextmanager
    def _replacing(self) -> Iterator[None]:
        self.replacing = True
        try:
            yield
        finally:
            self.replacing = False


def failure_line(exc: BaseException) -> str:
    """The first line of an error's message, or its type's name when it has none: what a status line shows."""
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def tool_button(text: str, slot: Callable, tip: str) -> QToolButton:
    """A toolbar button with its text, tooltip and slot."""
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.clicked.connect(slot)
    return button
