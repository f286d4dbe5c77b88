"""The status bar's job list: one row per running job, each with its own progress bar and Cancel button.

Jobs of a `JobRunner` come and go; the list follows ``jobs_changed`` and each row follows its handle. A job
that was cancelled but did not stop (a model stuck in its own code) stays listed as abandoned, without a
Cancel button, until its thread ends; one cancelled a moment ago says "stopping…" until it has.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from latent_explorer.qt.job_controls import show_fraction
from latent_explorer.workers.runner import ABANDONED, RUNNING, JobHandle, JobRunner


class JobRow(QWidget):
    """One job: what it does, how far it got, and its own Cancel."""

    def __init__(self, handle: JobHandle):
        super().__init__()
        self.handle = handle
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(160)
        self.bar.setMaximumHeight(16)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(f"Stop {handle.title}")
        self.cancel_button.clicked.connect(handle.cancel)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        handle.changed.connect(self.refresh)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        handle = self.handle
        self.label.setText(handle.describe())
        self.cancel_button.setVisible(handle.state == RUNNING)
        self.bar.setVisible(handle.state != ABANDONED)
        show_fraction(self.bar, handle.progress.fraction if handle.progress is not None else None)


class JobList(QWidget):
    """Every job of one runner, side by side in the status bar."""

    def __init__(self, runner: JobRunner):
        super().__init__()
        self.runner = runner
        self.rows: dict[int, JobRow] = {}
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setAlignment(Qt.AlignmentFlag.AlignRight)
        runner.jobs_changed.connect(self.refresh)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        handles = {h.generation: h for h in self.runner.handles()}
        for generation in [g for g in self.rows if g not in handles]:
            row = self.rows.pop(generation)
            self._layout.removeWidget(row)
            row.handle.changed.disconnect(row.refresh)
            row.deleteLater()
        for generation, handle in handles.items():
            if generation not in self.rows:
                row = JobRow(handle)
                self.rows[generation] = row
                self._layout.addWidget(row)
            else:
                self.rows[generation].refresh()
        self.setVisible(bool(self.rows))
