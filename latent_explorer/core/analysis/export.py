"""The numbers behind a panel as CSV (one header row, then one row per item) or JSON (every sheet in one file);
floats at full precision."""

from __future__ import annotations

import csv
import json
import math
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


def _json_cell(value) -> object:
    """A cell as JSON has it: numpy scalars as Python numbers, NaN and infinities as null (JSON has neither)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    return value


def write_sheets_json(path: str | Path, sheets: dict[str, tuple[Sequence[str], Sequence[Sequence]]],
                      title: str = "") -> Path:
    """Every sheet in one JSON file, atomically: ``{"title", "sheets": {name: {"columns", "rows"}}}``.

    Rows stay lists in column order (as in the CSV), so a table is rebuilt with ``DataFrame(rows, columns=…)``.
    """
    path = Path(path)
    document = {"title": title, "sheets": {
        name: {"columns": list(header), "rows": [[_json_cell(v) for v in row] for row in rows]}
        for name, (header, rows) in sheets.items()}}
    with atomic_path(path, suffix=".json") as tmp, open(tmp, "w", encoding="utf-8") as fh:
        json.dump(document, fh, indent=1, allow_nan=False)
        fh.write("\n")
    return path


def write_sheets(path: str | Path, sheets: dict[str, tuple[Sequence[str], Sequence[Sequence]]],
                 title: str = "") -> list[Path]:
    """Tables by the file's suffix: ``.json`` all in one file (`write_sheets_json`); otherwise CSV, the first
    table at ``path`` and every other one beside it as ``<stem>-<name>.csv``.

    All or nothing: when one table cannot be written, the ones written before it are removed again.
    """
    path = Path(path)
    if not sheets:
        return []
    if path.suffix.lower() == ".json":
        return [write_sheets_json(path, sheets, title)]
    written: list[Path] = []
    try:
        for number, (name, (header, rows)) in enumerate(sheets.items()):
            target = path if number == 0 else path.with_name(f"{path.stem}-{name}{path.suffix or '.csv'}")
            written.append(write_csv(target, header, rows))
    except OSError:
        for done in written:
            done.unlink(missing_ok=True)
        raise
    return written


def histogram_rows(edges: np.ndarray, *counts: np.ndarray) -> list[list]:
    """Rows of (bin start, bin end, count, count, …) for a histogram and any curves on the same bins."""
    return [[float(edges[b]), float(edges[b + 1]), *(c[b] for c in counts)] for b in range(len(edges) - 1)]
