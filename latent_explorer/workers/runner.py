"""Run core jobs (generators yielding `Progress`) off the GUI thread, each reporting to its owner.

``runner.start(name, factory, on_done=, on_partial=, on_progress=, on_error=, on_cancel=)`` returns a
`JobHandle`; its callbacks run in the GUI thread. Starting a job under a name that is already running cancels
the old one first; a cancelled job's ``on_cancel`` gets the partial result it yielded last.

Every job runs in a daemon thread of its own rather than in a bounded pool: a job stuck in a user's model (an
``encode`` that never returns) cannot be interrupted, but it then holds only its own thread. Cancelling asks
the generator to stop at its next step; a job that has not stopped `ABANDON_AFTER_S` seconds later is marked
abandoned (the status bar says so), its results are dropped, and the process can still exit because the
thread is a daemon. Every exception a job raises, ``RuntimeError`` and ``MemoryError`` included, reaches its
``on_error`` and, unless that returns True ("handled and told the user"), the runner's error reporter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from latent_explorer.core.jobs import Job, Progress
from latent_explorer.core.threads import configure_worker

ABANDON_AFTER_S = 2.0  # a cancelled job still running after this long is reported abandoned
RELEASE_AFTER_MS = 2000  # a finished job's bridge is dropped this long after its thread said it ended

RUNNING, DONE, FAILED, CANCELLED, ABANDONED = "running", "done", "failed", "cancelled", "abandoned"


class _Bridge(QObject):
    """Lives in the GUI thread. The job's thread emits its signals; they are connected to the bridge's own
    slots, so those run in the GUI thread (a queued connection) and hand the value to the runner."""

    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(object)
    ended = Signal()

    def __init__(self, runner: JobRunner, handle: JobHandle):
        super().__init__(runner)
        self.runner, self.handle = runner, handle
        self.yielded.connect(self._on_yielded)
        self.returned.connect(self._on_returned)
        self.errored.connect(self._on_errored)
        self.ended.connect(self._on_ended)

    @Slot(object)
    def _on_yielded(self, value: Any) -> None:
        self.runner._on_yielded(self.handle, value)

    @Slot(object)
    def _on_returned(self, value: Any) -> None:
        self.runner._on_returned(self.handle, value)

    @Slot(object)
    def _on_errored(self, exc: BaseException) -> None:
        self.runner._on_errored(self.handle, exc)

    @Slot()
    def _on_ended(self) -> None:
        self.runner._on_ended(self.handle)


class JobHandle(QObject):
    """One started job: its name, its last progress, its state, and the owner's callbacks."""

    changed = Signal()  # new progress or a new state

    def __init__(self, runner: JobRunner, name: str, generation: int, title: str):
        super().__init__(runner)
        self.runner, self.name, self.generation, self.title = runner, name, generation, title
        self.state = RUNNING
        self.progress: Progress | None = None
        self.partial: Any = None
        self.error: BaseException | None = None
        self.result: Any = None
        self.started = time.monotonic()
        self.cancel_requested = threading.Event()
        self.thread: threading.Thread | None = None
        self.thread_ended = False  # the job's thread said it is done (set in the GUI thread)
        self.cancelled_at: float | None = None
        self.on_done: Callable[[Any], Any] | None = None
        self.on_partial: Callable[[Any], Any] | None = None
        self.on_progress: Callable[[Progress], Any] | None = None
        self.on_error: Callable[[BaseException], Any] | None = None
        self.on_cancel: Callable[[Any], Any] | None = None

    def is_running(self) -> bool:
        return self.state == RUNNING

    def thread_alive(self) -> bool:
        return self.thread is not None and not self.thread_ended and self.thread.is_alive()

    def cancel(self) -> None:
        """Stop the job (at its next step); ``on_cancel`` gets its last partial result."""
        self.runner.cancel_handle(self)

    def describe(self) -> str:
        """One line for the job list: the stage and how far it got."""
        if self.state == ABANDONED:
            return f"{self.title}: abandoned — the model did not return; its thread is left to finish"
        if self.state == CANCELLED:
            return f"{self.title}: stopping…"
        progress = self.progress
        if progress is None:
            return f"{self.title}: starting"
        stage = progress.stage if progress.stage != self.title else ""
        text = self.title + (f": {stage}" if stage else "") + (f": {progress.message}" if progress.message else "")
        if progress.total:
            text += f" ({progress.done:,}/{progress.total:,})"
        return text


def _drive(factory: Callable[[], Job[Any]], cancel: threading.Event, bridge: _Bridge) -> None:
    """The job's thread: step the generator, stop when asked, report everything it raises."""
    try:
        configure_worker()  # this thread's torch count, and BLAS kept on one thread
        job = factory()
        try:
            while not cancel.is_set():
                try:
                    value = next(job)
                except StopIteration as stop:
                    bridge.returned.emit(stop.value)
                    return
                bridge.yielded.emit(value)
        finally:
            if cancel.is_set():
                job.close()  # runs the job's own clean-up (finally blocks) in its thread
    except BaseException as exc:  # noqa: BLE001 - every failure reaches the owner, MemoryError included
        bridge.errored.emit(exc)
    finally:
        bridge.ended.emit()


class JobRunner(QObject):
    """Starts, tracks and cancels background jobs; at most one running job per name."""

    jobs_changed = Signal()  # a job started, ended or changed state (the status bar's list follows)
    progress_changed = Signal(object)  # a JobHandle reported progress

    def __init__(self, parent: QObject | None = None,
                 report_error: Callable[[BaseException, str], Any] | None = None):
        super().__init__(parent)
        self.report_error = report_error  # (exception, title): tells the user about a failure nobody handled
        self._running: dict[str, JobHandle] = {}
        self._abandoned: list[JobHandle] = []
        self._bridges: dict[int, _Bridge] = {}
        self._generation = 0
        self._closed = False
        self._watch = QTimer(self)  # notices cancelled jobs that do not stop
        self._watch.setInterval(250)
        self._watch.timeout.connect(self._check_cancelled)
        self._cancelling: list[JobHandle] = []

    # ------------------------------------------------------------------ starting
    def start(self, name: str, factory: Callable[[], Job[Any]], *, title: str | None = None,
              on_done: Callable[[Any], Any] | None = None, on_partial: Callable[[Any], Any] | None = None,
              on_progress: Callable[[Progress], Any] | None = None,
              on_error: Callable[[BaseException], Any] | None = None,
              on_cancel: Callable[[Any], Any] | None = None) -> JobHandle:
        """Run ``factory()`` in a thread of its own; the callbacks run in the GUI thread."""
        self.cancel(name)
        self._generation += 1
        handle = JobHandle(self, name, self._generation, title or name)
        handle.on_done, handle.on_partial, handle.on_progress = on_done, on_partial, on_progress
        handle.on_error, handle.on_cancel = on_error, on_cancel
        bridge = _Bridge(self, handle)
        self._bridges[handle.generation] = bridge
        self._running[name] = handle
        thread = threading.Thread(target=_drive, args=(factory, handle.cancel_requested, bridge),
                                  name=f"job-{name}-{handle.generation}", daemon=True)
        handle.thread = thread
        if self._closed:
            handle.cancel_requested.set()
        thread.start()
        self.jobs_changed.emit()
        return handle

    # ------------------------------------------------------------------ looking
    def is_running(self, name: str | None = None) -> bool:
        return bool(self._running) if name is None else name in self._running

    def running(self) -> list[str]:
        return list(self._running)

    def handles(self) -> list[JobHandle]:
        """Running jobs, then cancelled ones still stopping and abandoned ones (for the job list)."""
        self._abandoned = [h for h in self._abandoned if h.thread_alive()]
        stopping = [h for h in self._cancelling if h.thread_alive() and h.state == CANCELLED]
        return list(self._running.values()) + stopping + self._abandoned

    def handle(self, name: str) -> JobHandle | None:
        return self._running.get(name)

    # ------------------------------------------------------------------ cancelling and closing
    def cancel(self, name: str) -> None:
        handle = self._running.get(name)
        if handle is not None:
            self.cancel_handle(handle)

    def cancel_handle(self, handle: JobHandle) -> None:
        if handle.state != RUNNING:
            return
        handle.cancel_requested.set()
        handle.state = CANCELLED
        handle.cancelled_at = time.monotonic()
        if self._running.get(handle.name) is handle:
            del self._running[handle.name]
        self._cancelling.append(handle)
        if not self._watch.isActive() and not self._closed:
            self._watch.start()
        self._call(handle, handle.on_cancel, handle.partial)
        handle.changed.emit()
        self.jobs_changed.emit()

    def cancel_all(self) -> None:
        for handle in list(self._running.values()):
            self.cancel_handle(handle)

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel everything and wait for the threads up to ``timeout_ms``: True if all of them stopped.

        Threads still running after that (a hung model) are daemons: they do not keep the process alive.
        """
        self._closed = True
        self._watch.stop()
        self.cancel_all()
        deadline = time.monotonic() + timeout_ms / 1000
        alive = [h for h in [*self._cancelling, *self._abandoned] if h.thread is not None]
        for handle in alive:
            handle.thread.join(max(0.0, deadline - time.monotonic()))
        return not any(h.thread_alive() for h in alive)

    def _check_cancelled(self) -> None:
        now = time.monotonic()
        still = []
        for handle in self._cancelling:
            if not handle.thread_alive():
                continue
            if handle.state != CANCELLED:
                continue
            if now - (handle.cancelled_at or now) >= ABANDON_AFTER_S:
                handle.state = ABANDONED
                self._abandoned.append(handle)
                handle.changed.emit()
                self.jobs_changed.emit()
                continue
            still.append(handle)
        self._cancelling = still
        if not still:
            self._watch.stop()

    # ------------------------------------------------------------------ from the job's thread (queued)
    def _call(self, handle: JobHandle, callback: Callable[[Any], Any] | None, value: Any) -> Any:
        """Run an owner's callback; a callback that raises is reported like a failed job."""
        if callback is None:
            return None
        try:
            return callback(value)
        except Exception as exc:  # noqa: BLE001 - the owner's bug must reach the user, not vanish in a slot
            self._report(exc, f"{handle.title} failed")
            return None

    def _report(self, exc: BaseException, title: str) -> None:
        if self.report_error is not None:
            self.report_error(exc, title)

    def _on_yielded(self, handle: JobHandle, value: Any) -> None:
        if handle.state != RUNNING:
            return
        if isinstance(value, Progress):
            handle.progress = value
            if value.partial is not None:
                handle.partial = value.partial
                self._call(handle, handle.on_partial, value.partial)
        self._call(handle, handle.on_progress, value)
        handle.changed.emit()
        self.progress_changed.emit(handle)

    def _finish(self, handle: JobHandle, state: str) -> None:
        handle.state = state
        if self._running.get(handle.name) is handle:
            del self._running[handle.name]
        handle.changed.emit()
        self.jobs_changed.emit()

    def _on_returned(self, handle: JobHandle, value: Any) -> None:
        if handle.state != RUNNING:
            return  # cancelled or abandoned: its result belongs to nobody now
        handle.result = value
        self._finish(handle, DONE)
        self._call(handle, handle.on_done, value)

    def _on_errored(self, handle: JobHandle, exc: BaseException) -> None:
        if handle.state != RUNNING:
            return
        handle.error = exc
        self._finish(handle, FAILED)
        handled = self._call(handle, handle.on_error, exc)
        if handled is not True:
            self._report(exc, f"{handle.title} failed")

    def _on_ended(self, handle: JobHandle) -> None:
        handle.thread_ended = True
        if handle.state != RUNNING:
            self._cancelling = [h for h in self._cancelling if h is not handle]
            self._abandoned = [h for h in self._abandoned if h is not handle]
            handle.changed.emit()
            self.jobs_changed.emit()  # a stopping or abandoned job leaves the list
        QTimer.singleShot(RELEASE_AFTER_MS, self, lambda g=handle.generation: self._release(g))

    def _release(self, generation: int) -> None:
        bridge = self._bridges.pop(generation, None)
        if bridge is not None:
            bridge.deleteLater()
