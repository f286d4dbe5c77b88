"""Long jobs are generators that yield `Progress` and return their result.

The caller drives them: a CLI prints a bar, a Qt worker forwards each `Progress` as a signal and
cancels by closing the generator (superqt's ``thread_worker`` does exactly that on ``quit()``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """Where a job stands. ``total`` is None while the amount of work is unknown (show a busy bar)."""

    stage: str
    done: int = 0
    total: int | None = None
    message: str = ""
    partial: Any = None  # a partial result worth showing (e.g. a t-SNE layout mid-run)

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


Job = Generator[Progress, None, T]


def run_job(job: Job[T], on_progress: Callable[[Progress], Any] | None = None) -> T:
    """Drive a job to its end and return its result; ``on_progress`` returning True cancels it."""
    while True:
        try:
            progress = next(job)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None and on_progress(progress) is True:
            job.close()
            from latent_explorer.core.errors import CancelledError

            raise CancelledError(f"cancelled during {progress.stage}")


def prefixed(name: str, job: Job[T]) -> Job[T]:
    """Pass a job through, naming its owner (a model, in a job over two) in each progress stage."""
    while True:
        try:
            progress = next(job)
        except StopIteration as stop:
            return stop.value
        if isinstance(progress, Progress):
            yield Progress(f"{name}: {progress.stage}", progress.done, progress.total, progress.message)
