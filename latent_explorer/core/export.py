"""Data export: view coordinates, selections and codes as CSV or ``.npz``, written atomically.

A *table* is an ordered dict of named columns, each (N,) or (N, k). In ``.npz`` every column is one array
(2-D ones stay 2-D); in CSV a 2-D column ``z`` becomes ``z0 … z{k-1}``. Writing is a job (a generator
yielding `Progress`) because 70,000 rows of three 32-wide codes take a few seconds as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from latent_explorer.core.atomic import atomic_path
from latent_explorer.core.encoding import Codes
from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.jobs import Job, Progress, run_job

TABLE_SUFFIXES = (".csv", ".npz")
CSV_CHUNK_ROWS = 5000
CODE_PARTS = ("z", "mu", "logvar")

Table = dict[str, np.ndarray]


class ExportError(LatentExplorerError):
    """An export that could not be written (unknown format, unwritable folder, nothing to export)."""


# ------------------------------------------------------------------------------------------- tables
def _indices(indices: np.ndarray | None, n: int) -> np.ndarray:
    if indices is None:
        return np.arange(n, dtype=np.int64)
    idx = np.asarray(indices, dtype=np.int64).ravel()
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ExportError(f"indices run from {idx.min()} to {idx.max()}, but there are only {n} samples")
    return idx


def _label_columns(table: Table, labels: np.ndarray | None, class_names: Sequence[str] | None,
                   idx: np.ndarray) -> None:
    if labels is None:
        return
    picked = np.asarray(labels)[idx]
    table["label"] = picked.astype(np.int64)
    if class_names:
        names = np.asarray(list(class_names) + [""], dtype=str)
        safe = np.where((picked >= 0) & (picked < len(class_names)), picked, len(class_names))
        table["class"] = names[safe]


def coordinates_table(xy: np.ndarray, indices: np.ndarray | None = None, labels: np.ndarray | None = None,
                      class_names: Sequence[str] | None = None, axis_names: tuple[str, str] = ("x", "y")) -> Table:
    """The 2-D positions of the view, one row per sample (or per selected sample), with class labels."""
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ExportError(f"view coordinates must be (N, 2), got shape {xy.shape}")
    idx = _indices(indices, len(xy))
    table: Table = {"index": idx, axis_names[0]: xy[idx, 0], axis_names[1]: xy[idx, 1]}
    _label_columns(table, labels, class_names, idx)
    return table


def selection_table(indices: np.ndarray, labels: np.ndarray | None = None,
                    class_names: Sequence[str] | None = None) -> Table:
    idx = np.asarray(indices, dtype=np.int64).ravel()
    n = len(labels) if labels is not None else (int(idx.max()) + 1 if idx.size else 0)
    table: Table = {"index": _indices(idx, n)}
    _label_columns(table, labels, class_names, table["index"])
    return table


def codes_table(codes: Codes, indices: np.ndarray | None = None, parts: Sequence[str] = CODE_PARTS,
                class_names: Sequence[str] | None = None) -> Table:
    """z, and for a VAE mu and logvar, of all samples or of ``indices``; parts the model lacks are skipped."""
    idx = _indices(indices, len(codes))
    table: Table = {"index": idx}
    _label_columns(table, codes.labels, class_names, idx)
    found = False
    for part in parts:
        if part not in CODE_PARTS:
            raise ExportError(f"unknown code part '{part}'", hint=f"choose from {', '.join(CODE_PARTS)}")
        values = getattr(codes, part)
        if values is not None:
            table[part] = np.asarray(values)[idx]
            found = True
    if not found:
        raise ExportError(f"the codes hold none of {', '.join(parts)}",
                          hint="mu and logvar exist only for a variational model")
    table["recon_error"] = np.asarray(codes.recon_error)[idx]
    return table


# ------------------------------------------------------------------------------------------- writing
def check_suffix(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ExportError(f"cannot write '{suffix or 'no extension'}' files", path=path,
                          hint="name the file .csv or .npz")
    return suffix


def _check_lengths(table: Table) -> int:
    if not table:
        raise ExportError("nothing to export")
    lengths = {name: len(col) for name, col in table.items()}
    if len(set(lengths.values())) != 1:
        raise ExportError(f"columns of different lengths: {lengths}")
    return next(iter(lengths.values()))


def csv_header(table: Table) -> list[str]:
    header: list[str] = []
    for name, col in table.items():
        if col.ndim == 1:
            header.append(name)
        else:
            header.extend(f"{name}{k}" for k in range(col.shape[1]))
    return header


def _csv_format(col: np.ndarray) -> tuple[str, int]:
    """A %-format for one column and how many fields it spans."""
    width = 1 if col.ndim == 1 else col.shape[1]
    kind = col.dtype.kind
    # 9 significant digits round-trip float32, 17 float64 (wider floats are written as float64)
    one = "%d" if kind in "iub" else ("%.9g" if col.dtype.itemsize <= 4 else "%.17g") if kind == "f" else "%s"
    return ",".join([one] * width), width


def _quoted(col: np.ndarray) -> np.ndarray:
    """Strings quoted for CSV once per distinct value (class names are few)."""
    values, inverse = np.unique(col.astype(str), return_inverse=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    quoted = []
    for value in values:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([value])
        quoted.append(buffer.getvalue().rstrip("\n"))
    return np.asarray(quoted, dtype=object)[inverse.ravel()]


def iter_write_table(path: str | Path, table: Table) -> Job[Path]:
    """Write ``table`` to ``path`` (.csv or .npz by extension) atomically; the old file survives any error."""
    path = Path(path)
    suffix = check_suffix(path)
    n = _check_lengths(table)
    yield Progress("exporting", 0, n, path.name)
    try:
        with atomic_path(path, suffix=suffix) as tmp:
            if suffix == ".npz":
                with open(tmp, "wb") as fh:
                    np.savez(fh, **{name: np.asarray(col) for name, col in table.items()})
            else:
                yield from _write_csv(tmp, table, n)
    except OSError as exc:
        raise ExportError(f"cannot write the file ({exc.strerror or exc})", path=path,
                          hint="choose a folder you can write to; nothing was changed") from exc
    yield Progress("exporting", n, n, path.name)
    return path


def _write_csv(tmp: Path, table: Table, n: int) -> Job[None]:
    columns = [(_quoted(col) if col.dtype.kind in "USO" else col) for col in table.values()]
    formats = [_csv_format(np.asarray(table[name])) for name in table]
    line = ",".join(f for f, _ in formats) + "\n"
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(csv_header(table)) + "\n")
        for start in range(0, n, CSV_CHUNK_ROWS):
            stop = min(n, start + CSV_CHUNK_ROWS)
            parts = [col[start:stop].reshape(stop - start, -1) for col in columns]
            rows = np.concatenate(parts, axis=1, dtype=object) if len(parts) > 1 else parts[0].astype(object)
            fh.write("".join(line % tuple(row) for row in rows.tolist()))
            yield Progress("exporting", stop, n)


def write_table(path: str | Path, table: Table) -> Path:
    return run_job(iter_write_table(path, table))


def read_table(path: str | Path) -> Table:
    """Read back what `write_table` wrote (tests and scripts); CSV columns come back 1-D."""
    path = Path(path)
    suffix = check_suffix(path)
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    out: Table = {}
    for k, name in enumerate(header):
        values = [row[k] for row in rows]
        try:
            out[name] = np.asarray(values, dtype=np.float64)
        except ValueError:
            out[name] = np.asarray(values, dtype=str)
    return out
