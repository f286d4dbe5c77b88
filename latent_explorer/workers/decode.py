"""Live decoding: one thread that always serves the newest request and drops the rest.

Shaped like Qt's mandelbrot example: the GUI thread posts a request (model + codes) under a mutex, which
replaces whatever was waiting; the thread wakes, decodes the latest, and delivers it through ``decoded``
only if nothing newer arrived meanwhile — an image that was superseded when it was decoded is never
shown, and there is never a backlog. Connect ``decoded`` to a ``@Slot`` of an object living in the GUI
thread (a queued connection). Each request carries its model, so switching models mid-decode is safe:
the old decode finishes on the old model and is dropped as superseded.

The thread starts on the first request and exits after an idle spell; `stop()` ends it at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QMutex, QMutexLocker, QObject, QThread, QWaitCondition, Signal

from latent_explorer.core.decoding import DecodeError, decode_images, error_tile

IDLE_EXIT_MS = 5000


@dataclass(frozen=True)
class DecodeRequest:
    seq: int
    model: Any
    z: np.ndarray  # (n, d)
    tag: Any = None
    posted: float = 0.0  # time.perf_counter() when requested


@dataclass
class DecodeResult:
    """Decoded images for one request, or an error tile and the message."""

    seq: int
    model: Any
    z: np.ndarray
    tag: Any
    images: np.ndarray  # (n, H, W[, 3]); on error one crossed tile, (1, H', W', 3)
    error: str | None
    posted: float
    decoded: float  # time.perf_counter() when the decode finished

    @property
    def ok(self) -> bool:
        return self.error is None


def decode_result(request: DecodeRequest) -> DecodeResult:
    """Decode one request; a failing decoder gives an error tile instead of an exception."""
    try:
        images, error = decode_images(request.model, request.z), None
    except Exception as exc:  # noqa: BLE001 - any failure (a CUDA error at .cpu(), say) must not kill the thread
        _, h, w = getattr(request.model, "input_shape", (1, 28, 28))
        message = str(exc) if isinstance(exc, DecodeError) else f"{type(exc).__name__}: {exc}"
        images, error = error_tile(int(h), int(w))[None], message
    return DecodeResult(seq=request.seq, model=request.model, z=request.z, tag=request.tag, images=images,
                        error=error, posted=request.posted, decoded=time.perf_counter())


class DecodeWorker(QThread):
    """Newest-request-wins decoder thread. ``threads``: torch threads inside it (1 for single images)."""

    decoded = Signal(object)  # DecodeResult

    def __init__(self, parent: QObject | None = None, threads: int | None = 1, idle_exit_ms: int = IDLE_EXIT_MS):
        super().__init__(parent)
        self._mutex = QMutex()
        self._wake = QWaitCondition()
        self._pending: DecodeRequest | None = None
        self._alive = False
        self._abort = False
        self._seq = 0
        self._threads = threads
        self._idle_exit_ms = idle_exit_ms
        self.decode_count = 0  # decodes run
        self.dropped_count = 0  # decodes superseded before delivery

    @property
    def latest_seq(self) -> int:
        """Sequence number of the newest request (0 before the first)."""
        with QMutexLocker(self._mutex):
            return self._seq

    def request(self, model: Any, z: np.ndarray, tag: Any = None) -> int:
        """Ask for ``z`` (d,) or (n, d) decoded with ``model``; replaces any request still waiting."""
        codes = np.atleast_2d(np.array(z, dtype=np.float32, copy=True))
        with QMutexLocker(self._mutex):
            self._seq += 1
            seq = self._seq
            self._pending = DecodeRequest(seq, model, codes, tag, time.perf_counter())
            start = not self._alive
            if start:
                self._alive, self._abort = True, False
            else:
                self._wake.wakeOne()
        if start:
            self.wait()  # a thread that has just gone idle is still returning
            self.start()
        return seq

    def cancel(self) -> None:
        """Forget the waiting request (a decode in flight is dropped when it ends)."""
        with QMutexLocker(self._mutex):
            self._seq += 1
            self._pending = None

    def stop(self, timeout_ms: int = 10000) -> bool:
        """End the thread (window close, tests); True if it has stopped."""
        with QMutexLocker(self._mutex):
            self._abort = True
            self._pending = None
            self._wake.wakeOne()
        return self.wait(timeout_ms)

    def run(self) -> None:
        if self._threads:
            import torch

            torch.set_num_threads(self._threads)  # per thread: leaves the rest of the app alone
        while True:
            self._mutex.lock()
            try:
                if self._pending is None and not self._abort:
                    self._wake.wait(self._mutex, self._idle_exit_ms)
                if self._abort or self._pending is None:
                    self._alive = False
                    return
                request, self._pending = self._pending, None
            finally:
                self._mutex.unlock()
            result = decode_result(request)
            with QMutexLocker(self._mutex):
                self.decode_count += 1
                superseded = self._seq != request.seq or self._abort
                if superseded:
                    self.dropped_count += 1
            if not superseded:
                self.decoded.emit(result)
