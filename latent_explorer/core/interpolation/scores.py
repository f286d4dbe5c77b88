"""The off-data scores of a path's frames and the colour of each score."""

from __future__ import annotations

from typing import Any

import numpy as np

from latent_explorer.core.interpolation.constants import OFF_DATA_BANDS


def off_data_scores(meter: Any, z: np.ndarray) -> np.ndarray:
    """The off-data meter's score of many codes at once (one matrix product instead of one per code).

    ``meter`` is a `core.decoding.OffDataMeter`: mean distance to the k nearest codes over the typical one.
    """
    import torch

    from latent_explorer.core.decoding import torch_threads

    query = torch.from_numpy(np.ascontiguousarray(np.atleast_2d(z), dtype=np.float32))
    codes = meter.codes
    k = min(int(meter.k), len(codes))
    if not len(query) or not k:
        return np.zeros(len(query), np.float32)
    with torch_threads(1), torch.inference_mode():
        sq = torch.addmm(meter.sq_norms[None, :], query, codes.T, alpha=-2.0)  # ‖c‖² − 2 c·z (‖z‖² is constant)
        _, indices = torch.topk(sq, k, dim=1, largest=False)
        # the expansion loses small distances to rounding: measure the k found directly
        distances = torch.linalg.vector_norm(codes[indices] - query[:, None, :], dim=2)
    mean = distances.mean(dim=1).numpy().astype(np.float64)
    return (mean / meter.typical if meter.typical > 0 else np.full(len(mean), np.inf)).astype(np.float32)


def score_colour(score: float) -> tuple[int, int, int]:
    """The meter's band colour: green on the data, orange near it, red off it."""
    return next(colour for limit, colour in OFF_DATA_BANDS if score <= limit) if np.isfinite(score) else (120, 120, 120)
