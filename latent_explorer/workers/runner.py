"""Run core jobs (generators yielding `Progress`) off the GUI thread.

A `JobRunner` lives in the GUI thread. Its signals are emitted from the GUI thread (the worker's
signals are connected to its own `@Slot`s), so anything connected to them — even a lambda — runs
in the GUI thread. Starting a job with a name that is already running cancels the old one first;
cancelling keeps whatever partial result the job yielded last.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, Slot
from superqt.utils import GeneratorWorker

from latent_explorer.core.jobs import Job, Progress

RELEASE_AFTER_MS = 2000


class _Relay(QObject):
    """Carries one worker's signals into the GUI thread, tagged with the job's name and generation."""

    def __init__(self, runner: JobRunner, name: str, generation: int):
        super().__init__(runner)
        self.runner, self.name, self.generation = runner, name, generation

    @Slot(object)
    def on_yielded(self, value: Any) -> None:
        self.runner._on_progress(self.name, self.generation, value)

    @Slot(object)
    def on_returned(self, value: Any) -> None:
        self.runner._on_returned(self.name, self.generation, value)

    @Slot(object)
    def on_errored(self, exc: Exception) -> None:
        self.runner._on_errored(self.name, self.generation, exc)

    @Slot()
    def on_finished(self) -> None:
        self.runner._on_finished(self.name, self.generation)
        self.deleteLater()


class JobRunner(QObject):
    """Starts, tracks and cancels named background jobs; at most one job per name."""

    progress = Signal(str, object)  # name, Progress
    finished = Signal(str, object)  # name, result
    failed = Signal(str, object)  # name, exception
    cancelled = Signal(str, object)  # name, last partial result (or None)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._workers: dict[str, tuple[int, GeneratorWorker]] = {}
        # Every started worker stays referenced here until well after it finished: if the last reference went
        # in the worker's own thread (when its run() returns), Python would delete its signal QObject, which
        # lives in the GUI thread, from that thread — a crash under load.
        self._keep: dict[int, GeneratorWorker] = {}
        self._generation = 0
        self._partials: dict[str, Any] = {}
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(4)

    def start(self, name: str, job_factory: Callable[[], Job[Any]]) -> int:
        """Run ``job_factory()`` in a worker thread; returns the job's generation number."""
        self.cancel(name)
        self._generation += 1
        generation = self._generation

        def run():
            result = yield from job_factory()
            return result

        worker = GeneratorWorker(run)
        relay = _Relay(self, name, generation)
        worker.yielded.connect(relay.on_yielded)
        worker.returned.connect(relay.on_returned)
        worker.errored.connect(relay.on_errored)
        worker.finished.connect(relay.on_finished)
        self._workers[name] = (generation, worker)
        self._keep[generation] = worker
        self._partials.pop(name, None)
        self.pool.start(worker)
        self.busy_changed.emit(True)
        return generation

    def is_running(self, name: str | None = None) -> bool:
        return bool(self._workers) if name is None else name in self._workers

    def running(self) -> list[str]:
        return list(self._workers)

    def cancel(self, name: str) -> None:
        entry = self._workers.pop(name, None)
        if entry is not None:
            entry[1].quit()
            self.cancelled.emit(name, self._partials.pop(name, None))
            if not self._workers:
                self.busy_changed.emit(False)

    def cancel_all(self) -> None:
        for name in list(self._workers):
            self.cancel(name)

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel everything and wait for the threads (window close): True if all stopped in time."""
        self.cancel_all()
        done = self.pool.waitForDone(timeout_ms)
        if done:
            self._keep.clear()
        return done

    def _current(self, name: str, generation: int) -> bool:
        entry = self._workers.get(name)
        return entry is not None and entry[0] == generation

    def _on_progress(self, name: str, generation: int, value: Any) -> None:
        if self._current(name, generation):
            if isinstance(value, Progress) and value.partial is not None:
                self._partials[name] = value.partial
            self.progress.emit(name, value)

    def _on_returned(self, name: str, generation: int, value: Any) -> None:
        if self._current(name, generation):
            self._workers.pop(name, None)
            self._partials.pop(name, None)
            self.finished.emit(name, value)
            if not self._workers:
                self.busy_changed.emit(False)

    def _on_errored(self, name: str, generation: int, exc: Exception) -> None:
        if self._current(name, generation):
            self._workers.pop(name, None)
            self._partials.pop(name, None)
            self.failed.emit(name, exc)
            if not self._workers:
                self.busy_changed.emit(False)

    def _on_finished(self, name: str, generation: int) -> None:
        # run() emits `finished` just before it returns: release the worker once it surely has, from this thread
        QTimer.singleShot(RELEASE_AFTER_MS, lambda: self._keep.pop(generation, None))
