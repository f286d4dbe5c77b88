"""The window's report: asks where, runs `core.model_report.iter_report` (the `report` command's job) on the
codes the window has, and says where it was written.

The current model's codes are reused (seed 0, as the command encodes them); a model attached in the
comparison window is encoded on every sample, through the cache. The window's own figures are not rendered
into this report (they would redraw the window's panels behind the user's back); every table and every
chart core draws is there.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from latent_explorer import __version__
from latent_explorer.core.jobs import Progress
from latent_explorer.core.model_report import ReportModel, ReportSettings, iter_report
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.job_controls import failure_line, show_fraction

JOB = "report"


class ReportDialog(QDialog):
    """Progress of the report being written, Cancel, and where it went."""

    def __init__(self, parent, on_cancel):
        super().__init__(parent)
        self.setWindowTitle("Report")
        self.setMinimumWidth(560)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress_bar = QProgressBar()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(on_cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.hide)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.progress_bar)
        layout.addLayout(buttons)

    def running(self, text: str) -> None:
        self.message.setText(text)
        self.progress_bar.setVisible(True)
        self.progress_bar.setRange(0, 0)
        self.cancel_button.setVisible(True)

    def ended(self, text: str) -> None:
        self.message.setText(text)
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)


class ReportMaker(QObject):
    """File ▸ Report…: one report at a time; the job list and this dialog show its progress. A child of the
    window, which keeps it alive (a menu action holds its slot's object only weakly)."""

    def __init__(self, context: FeatureContext):
        super().__init__(context.parent)
        self.context = context
        self.state = context.state
        self.dialog = ReportDialog(context.parent, lambda: context.jobs.cancel(JOB))
        self.model_spec: str | None = None
        self.data_spec: str | None = None
        self.written: list[Path] = []
        self._started = 0.0
        opening = getattr(context.sources, "opening", None)
        if opening is not None:
            opening.connect(self._on_opening)

    def _on_opening(self, kind: str, spec: str, _options: dict) -> None:
        if kind == "model":
            self.model_spec = spec
        elif kind == "data":
            self.data_spec = spec

    def ask_and_start(self) -> None:
        if self.state.codes is None or self.state.model is None or self.state.dataset is None:
            self.context.errors.say("a report needs a model and a dataset: open them first")
            return
        path, _ = QFileDialog.getSaveFileName(self.context.parent, "Write a report", "report.html",
                                              "HTML reports (*.html)")
        if path:
            self.start(Path(path))

    def models(self) -> list[ReportModel]:
        state = self.state
        spec = self.model_spec or str(getattr(state.model.info, "source", "") or "the current model")
        models = [ReportModel(spec, state.model, state.codes)]
        second = self.context.compare.second_model() if self.context.compare is not None else None
        if second is not None:
            models.append(ReportModel(*second))
        return models

    def start(self, out: Path, settings: ReportSettings | None = None) -> None:
        """Write the report to ``out`` (an .html file) in a worker."""
        models = self.models()
        dataset = self.state.dataset
        settings = settings or ReportSettings()
        data_label = self.data_spec or dataset.source or dataset.name
        command = f"File ▸ Report in the window (latent-explorer {__version__})"
        self.written = []
        self._started = time.perf_counter()
        self.context.jobs.start(JOB, lambda: iter_report(models, dataset, settings, out, command, data_label),
                                title="Report", on_progress=self._on_progress, on_done=self._on_done,
                                on_error=self._on_error, on_cancel=self._on_cancel)
        names = " and ".join(m.spec for m in models)
        self.dialog.running(f"Writing the report of {names} on {len(dataset):,} samples to {out}…")
        self.dialog.show()

    def _on_progress(self, progress: Progress) -> None:
        if not isinstance(progress, Progress):
            return
        show_fraction(self.dialog.progress_bar, progress.fraction)
        self.dialog.message.setText(f"Report: {progress.stage}" + (f" — {progress.message}" if progress.message
                                                                     else ""))

    def _on_done(self, written: list[Path]) -> None:
        self.written = list(written)
        html = self.written[-1]
        self.dialog.ended(f"Report written in {time.perf_counter() - self._started:.0f} s:\n{html}\n"
                          f"with {len(self.written) - 1} tables as CSV in {html.parent / (html.stem + '-tables')}")
        self.context.errors.say(f"report written to {html}")

    def _on_error(self, exc: BaseException) -> bool:
        self.dialog.ended(f"The report failed: {failure_line(exc)}")
        return False  # the runner's reporter tells the user as well

    def _on_cancel(self, _partial) -> None:
        self.dialog.ended("The report was cancelled; nothing was written.")
