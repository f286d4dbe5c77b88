"""Python's cycle collector, run on a GUI-thread timer and kept short.

Why on a timer: the collector runs in whichever thread allocates; in a worker thread it may delete Qt objects of
the GUI thread or disconnect their signals there, which deadlocks on the GIL or crashes. So automatic
collection is off and the GUI thread collects on a timer (as pyqtgraph's `GarbageCollector` does), four times a
second: a worker that allocates fast (a Parquet read) otherwise leaves a second's worth of young objects, and
collecting them held the event loop for 80–90 ms while ten million codes were opened.

Why kept short: a full collection walks every object the process holds. With the window, torch, scikit-learn
and numba loaded that is about half a million objects and 270 ms of the GUI thread, a stall every few minutes
of use. Objects that have survived a full collection are almost all there for good (modules, classes,
functions, the window), so when a full collection took long they are frozen (`gc.freeze`): later full
collections walk only what was made since (0.1 ms after freezing, 11 ms per 200,000 new objects). The price: a
frozen object that later becomes part of unreachable cycles is not freed (memory freed by reference counting,
the usual case, is freed as before).
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QObject, QTimer, Slot

SLOW_FULL_COLLECTION_S = 0.02  # a full collection slower than this freezes its survivors


class GuiThreadCollector(QObject):
    """Collects generations 0, 1 and 2 from the GUI thread as their thresholds are passed."""

    def __init__(self, interval_s: float = 1.0) -> None:
        super().__init__()
        self.threshold = gc.get_threshold()
        gc.disable()
        self.last_full_s = 0.0  # how long the last full collection took
        self.frozen = 0  # times survivors were frozen
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(int(interval_s * 1000))

    @Slot()
    def check(self) -> None:
        count0, count1, count2 = gc.get_count()
        if count0 <= self.threshold[0]:
            return
        gc.collect(0)
        if count1 <= self.threshold[1]:
            return
        gc.collect(1)
        if count2 <= self.threshold[2]:
            return
        self.collect_fully()

    def settle(self) -> None:
        """Collect fully and freeze the survivors now (at start-up, once the window is built: that collection
        would otherwise stall the first minutes of use)."""
        gc.collect()
        gc.freeze()
        self.frozen += 1

    def collect_fully(self) -> None:
        """A full collection; its survivors are frozen when it took long."""
        start = time.perf_counter()
        gc.collect(2)
        self.last_full_s = time.perf_counter() - start
        if self.last_full_s > SLOW_FULL_COLLECTION_S:
            gc.freeze()
            self.frozen += 1
