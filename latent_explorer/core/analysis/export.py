"""The numbers behind a panel as CSV: one header row, then one row per item; floats at full precision."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from latent_explorer.core.atomic import atomic_path


def _cell(value) -> object:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_csv(path: str | Path, header: Sequence[str], rows: Sequence[Sequence]) -> Path:
    """Write atomically (a failed export never leaves half a file) and return the path."""
    path = Path(path)
    with atomic_path(path, suffix=".csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(header))
        writer.writerows([_cell(v) for v in row] for row in rows)
    return path


def histogram_rows(edges: np.ndarray, *counts: np.ndarray) -> list[list]:
    """Rows of (bin start, bin end, count, count, …) for a histogram and any curves on the same bins."""
    return [[float(edges[b]), float(edges[b + 1]), *(c[b] for c in counts)] for b in range(len(edges) - 1)]
