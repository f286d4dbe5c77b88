"""Colourings that a measurement brings: one value per sample, published in the explorer state.

The built-in colourings (label, ‖z‖, reconstruction error…) come with the codes. A panel that measures
something per sample — the local intrinsic dimension, say — publishes it as a `MeasuredColouring` in
``state.measured_colourings``; every view lists it among the colourings and draws it through a continuous
colour map, without knowing which panel made it. The panel withdraws it when its measurement no longer
holds (new codes). Each colouring carries the number of samples it was measured on, so that a stale one
(codes of another length) is never drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latent_explorer.core.state import ExplorerState


@dataclass(frozen=True, eq=False)  # compared by identity: its values are an array
class MeasuredColouring:
    """``values[i]`` is the measurement of sample i (NaN where none); ``key`` is the ``state.color_by`` mode."""

    key: str  # "lid"
    title: str  # in the colouring list: "local intrinsic dimension (k = 20, z)"
    label: str  # on the colour bar: "local ID"
    values: np.ndarray

    def fits(self, count: int) -> bool:
        return len(self.values) == count


def find_colouring(state: ExplorerState, key: str) -> MeasuredColouring | None:
    """The measured colouring published under ``key`` that fits the current codes, if any."""
    codes = state.codes
    for colouring in state.measured_colourings:
        if colouring.key == key and codes is not None and colouring.fits(len(codes)):
            return colouring
    return None


def publish_colouring(state: ExplorerState, colouring: MeasuredColouring) -> None:
    """Add ``colouring`` (replacing one of the same key); one event, whoever listens redraws."""
    others = tuple(c for c in state.measured_colourings if c.key != colouring.key)
    state.measured_colourings = (*others, colouring)


def withdraw_colouring(state: ExplorerState, key: str) -> None:
    """Remove the colouring ``key``; a scatter coloured by it falls back to the class label."""
    kept = tuple(c for c in state.measured_colourings if c.key != key)
    if len(kept) != len(state.measured_colourings):
        if state.color_by == key:
            state.color_by = "label"
        state.measured_colourings = kept
