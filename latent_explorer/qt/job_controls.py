"""A panel's own progress bar and Cancel button for the job it runs, and the bar's one way of showing a fraction.

Why one piece: the analysis panels, the structure dock, the comparison window and the status bar's job list all
show a `Progress` the same way (a determinate bar, or Qt's busy indicator when the job cannot say how far it is);
written once, they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QProgressBar, QPushButton

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
