"""Decoding the strips of paths off the GUI thread, and scoring their frames.

Decodes go through a newest-request-wins `DecodeWorker` (one torch thread, like the decoder panel's). A preview —
while a vertex is dragged — is held back while another decode is in flight and the newest one waiting is posted
when that decode is delivered: with strict newest-wins a decode slower than the mouse would be superseded every
time and nothing would be shown until the mouse stops; this way every decode that runs is shown. A full strip is
posted at once (it supersedes a preview in flight). The off-data scores of a full strip's 192 frames against tens
of thousands of codes take about a tenth of a second, so they are computed by a job of a `JobRunner` of our own
(kept out of the status bar) and arrive a moment after the frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from latent_explorer.core.interpolation import (
    ROW_PATH,
    STRIP_ROWS,
    Filmstrip,
    LiftedPath,
    StripPlan,
    StripRow,
    assemble_strip,
    off_data_scores,
    plan_strip,
)
from latent_explorer.core.jobs import Progress
from latent_explorer.workers.decode import DecodeResult, DecodeWorker
from latent_explorer.workers.runner import JobRunner

SCORE_JOB = "path-scores"
STUCK_DECODE_S = 1.0  # a decode in flight longer than this no longer holds previews back


@dataclass(frozen=True)
class StripTag:
    """What a decode was for: the path, its revision, preview or full, and the batch plan."""

    uid: int
    revision: int
    preview: bool
    plan: StripPlan


def preview_strip(preview: Filmstrip, last: Filmstrip | None, steps: int) -> Filmstrip:
    """The coarse path row stretched to the full strip's columns (each frame at the columns nearest its t), over
    the last full strip's comparison rows: the layout holds still while a vertex is dragged."""
    row = preview.rows[0]
    columns = np.linspace(0.0, 1.0, max(2, steps))
    nearest = np.rint(columns * (len(row) - 1)).astype(int)
    stretched = StripRow(f"{row.name} (preview)", row.frames[nearest])
    others = [r for r in last.rows if r.name != ROW_PATH and len(r) == len(columns)] if last is not None else []
    return Filmstrip([stretched, *others])


class StripDecoder(QObject):
    """Decodes strips (``decoded``) and scores them (``scored``); both signals arrive in the GUI thread."""

    decoded = Signal(object, object, str)  # StripTag, Filmstrip or None, error message ("" when fine)
    scored = Signal(object, object)  # the mark given to `score`, [(row index, scores)]

    def __init__(self, parent: QObject, model: Callable[[], Any], meter: Callable[[], Any]):
        super().__init__(parent)
        self._model, self._meter = model, meter
        self.worker = DecodeWorker(self, threads=1)
        self.worker.decoded.connect(self._on_decoded)
        self.jobs = JobRunner(self)
        self._in_flight: tuple[int, float] | None = None  # (seq, posted)
        self._waiting: tuple | None = None  # the newest preview held back
        self._stopped = False

    @property
    def busy(self) -> bool:
        return self._in_flight is not None

    def request(self, uid: int, revision: int, lifted: LiftedPath, preview: bool = False,
                endpoint_images: tuple[np.ndarray, np.ndarray] | None = None) -> bool:
        """Decode the strip of ``lifted``: the path row alone for a preview, every row otherwise."""
        model = self._model()
        if model is None or self._stopped:
            return False
        if preview and self._in_flight is not None and time.perf_counter() - self._in_flight[1] < STUCK_DECODE_S:
            self._waiting = (uid, revision, lifted, preview, endpoint_images)
            return True
        self._waiting = None
        plan = plan_strip(lifted, (ROW_PATH,) if preview else STRIP_ROWS, None if preview else endpoint_images)
        seq = self.worker.request(model, plan.codes, tag=StripTag(uid, revision, preview, plan))
        self._in_flight = (seq, time.perf_counter())
        return True

    @Slot(object)
    def _on_decoded(self, result: DecodeResult) -> None:
        if self._in_flight is not None and result.seq >= self._in_flight[0]:
            self._in_flight = None
        tag = result.tag
        if isinstance(tag, StripTag):
            if result.ok:
                self.decoded.emit(tag, assemble_strip(tag.plan, result.images), "")
            else:
                self.decoded.emit(tag, None, result.error or "the decoder failed")
        if self._waiting is not None and self._in_flight is None:
            waiting, self._waiting = self._waiting, None
            self.request(*waiting)

    def score(self, mark: Any, strip: Filmstrip) -> bool:
        """Score the latent rows of ``strip`` with the off-data meter in a worker; a newer call replaces this one."""
        meter = self._meter()
        if meter is None or self._stopped:
            return False
        rows = [(i, row.z) for i, row in enumerate(strip.rows) if row.z is not None]

        def job():
            yield Progress("off-data scores", 0, len(rows))
            stacked = np.concatenate([z for _, z in rows]) if rows else np.zeros((0, meter.codes.shape[1]))
            scores = off_data_scores(meter, stacked)
            out, start = [], 0
            for i, z in rows:
                out.append((i, scores[start:start + len(z)]))
                start += len(z)
            return mark, out

        self.jobs.start(SCORE_JOB, job, on_done=lambda result: self.scored.emit(*result))
        return True

    def stop(self) -> None:
        """End the threads (the window is closing)."""
        self._stopped = True
        self.worker.stop()
        self.jobs.shutdown()
