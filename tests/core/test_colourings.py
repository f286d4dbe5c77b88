"""Measured colourings in the explorer state: published, found only for codes of their length, withdrawn."""

from __future__ import annotations

import numpy as np

from latent_explorer.core.colourings import (
    MeasuredColouring,
    find_colouring,
    publish_colouring,
    withdraw_colouring,
)
from latent_explorer.core.encoding import Codes
from latent_explorer.core.state import ExplorerState


def codes(n: int) -> Codes:
    return Codes(z=np.zeros((n, 2), np.float32), mu=None, logvar=None, labels=None,
                 recon_error=np.zeros(n, np.float32))


def test_publish_replace_find_and_withdraw():
    state = ExplorerState(codes=codes(4))
    events = []
    state.events.measured_colourings.connect(lambda value: events.append(value))
    first = MeasuredColouring("lid", "local dimension", "local ID", np.arange(4.0))
    publish_colouring(state, first)
    assert find_colouring(state, "lid") is first and len(events) == 1
    second = MeasuredColouring("lid", "local dimension (k = 5)", "local ID", np.ones(4))
    publish_colouring(state, second)
    assert state.measured_colourings == (second,)  # one per key
    assert find_colouring(state, "other") is None
    state.codes = codes(3)
    assert find_colouring(state, "lid") is None  # measured on other codes: never drawn
    state.color_by = "lid"
    withdraw_colouring(state, "lid")
    assert state.measured_colourings == () and state.color_by == "label"
    count = len(events)
    withdraw_colouring(state, "lid")  # nothing to withdraw: silent
    assert len(events) == count
