"""The codes file: one schema for codes on disk, read and written as Parquet, Arrow IPC, ``.npz`` or ``.npy``.

Codes computed here (``latent-explorer encode``), by a cluster job writing one part file per batch, or by
someone else's pipeline all meet in this schema, so that each of them opens anywhere:

===================  ===========================================================================================
column               meaning
===================  ===========================================================================================
``id``               int64, the sample's index in its dataset (0…N−1 when absent)
``label``            int class id, or string (strings become a label map, sorted; a dictionary keeps its order)
``attr_<name>``      numeric or bool per-sample attributes (CelebA's ±1, a score...)
``z``                ``fixed_size_list<float32>[d]`` (any list of floats of one length is accepted), or
                     the float columns ``z_0 … z_{d−1}``; the only required column
``mu``, ``logvar``   a VAE's posterior, the same two shapes as ``z``
``recon_error``      float, mean squared reconstruction error per pixel
``x``, ``y``         a 2-D layout; ``<name>_x``/``<name>_y`` are further named layouts (``tsne_x``, ``umap_y``…)
``image_path``       string, a thumbnail's file (relative paths are relative to the codes file's folder)
``image``            binary, a thumbnail as PNG bytes
===================  ===========================================================================================

The file's key-value metadata carries ``latent_explorer.schema_version``, ``latent_explorer.model_fingerprint``,
``latent_explorer.dataset_fingerprint``, ``latent_explorer.label_names`` (JSON list) and
``latent_explorer.seed`` (JSON int). A Parquet *dataset* (a folder of part files sharing this schema) reads like
one file. Reading takes only the columns asked for; Arrow IPC and ``.npy`` are memory-mapped, so the codes of a
large file are paged in as a view reads them. Every write goes through a temporary file renamed into place.

Part files for a dataset folder are written one by one with `codes_table` (one batch of columns → a table)
and `write_codes_table` (one table → one file), all with the same `codes_schema`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from latent_explorer.core.atomic import atomic_path
from latent_explorer.core.encoding import Codes
from latent_explorer.core.errors import DatasetError
from latent_explorer.core.parquet_dataset import dataset_parts

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_VERSION = 1
META_PREFIX = "latent_explorer."
PARQUET_SUFFIXES = (".parquet", ".pq")
ARROW_SUFFIXES = (".arrow", ".feather", ".ipc")
NUMPY_SUFFIXES = (".npz", ".npy")
CODES_SUFFIXES = PARQUET_SUFFIXES + ARROW_SUFFIXES + NUMPY_SUFFIXES
CODE_PARTS = ("z", "mu", "logvar")
MAIN_LAYOUT = "xy"  # the layout stored in the plain ``x``/``y`` columns
_SPLIT_COLUMN = re.compile(r"(z|mu|logvar)_(\d+)")
SPOOL_BATCH = 65_536  # rows per batch while code columns are copied into a memory-mapped file
FIX_FORMAT = "write the codes as .parquet, .arrow/.feather, .npz or .npy"


class CodesFileError(DatasetError):
    """A codes file that cannot be read or written: wrong format, missing or malformed columns."""


# ------------------------------------------------------------------------------------------------ metadata
@dataclass
class CodesMetadata:
    """What the file says about where its codes come from (the file's key-value metadata)."""

    model_fingerprint: str = ""
    dataset_fingerprint: str = ""
    label_names: list[str] | None = None
    seed: int | None = None
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, str] = field(default_factory=dict)  # any other key, kept as written

    def to_arrow(self) -> dict[bytes, bytes]:
        out = {f"{META_PREFIX}schema_version": str(self.schema_version),
               f"{META_PREFIX}model_fingerprint": self.model_fingerprint,
               f"{META_PREFIX}dataset_fingerprint": self.dataset_fingerprint}
        if self.label_names is not None:
            out[f"{META_PREFIX}label_names"] = json.dumps(list(self.label_names))
        if self.seed is not None:
            out[f"{META_PREFIX}seed"] = json.dumps(int(self.seed))
        out.update(self.extra)
        return {k.encode(): v.encode() for k, v in out.items()}

    @classmethod
    def from_arrow(cls, raw: Mapping[bytes, bytes] | None, path: str | Path = "") -> CodesMetadata:
        text = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in (raw or {}).items()}
        ours = {k[len(META_PREFIX):]: v for k, v in text.items() if k.startswith(META_PREFIX)}
        extra = {k: v for k, v in text.items() if not k.startswith(META_PREFIX) and k != "pandas"}
        try:
            version = int(ours.get("schema_version", SCHEMA_VERSION))
            names = json.loads(ours["label_names"]) if "label_names" in ours else None
            seed = json.loads(ours["seed"]) if "seed" in ours else None
        except (ValueError, TypeError) as exc:
            raise CodesFileError(f"the file's latent_explorer.* metadata cannot be read ({exc})", path=path,
                                 hint="schema_version is an integer, label_names a JSON list, seed a JSON "
                                      "integer") from exc
        if version > SCHEMA_VERSION:
            raise CodesFileError(f"the file uses codes schema version {version}; this version of Latent "
                                 f"Explorer reads up to {SCHEMA_VERSION}", path=path,
                                 hint="update Latent Explorer to read this file")
        if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise CodesFileError("latent_explorer.label_names must be a JSON list of strings", path=path)
        if seed is not None and not isinstance(seed, int):
            raise CodesFileError("latent_explorer.seed must be a JSON integer", path=path)
        return cls(model_fingerprint=ours.get("model_fingerprint", ""),
                   dataset_fingerprint=ours.get("dataset_fingerprint", ""),
                   label_names=names, seed=seed, schema_version=version, extra=extra)


# ------------------------------------------------------------------------------------------ what was read
@dataclass
class CodesFile:
    """The contents of a codes file: the codes themselves and everything stored beside them."""

    codes: Codes  # recon_error is zeros when the file has none (see ``has_recon_error``)
    ids: np.ndarray  # (N,) int64
    class_names: list[str] | None = None
    attributes: dict[str, np.ndarray] = field(default_factory=dict)  # name (without attr_) → (N,) float32
    layouts: dict[str, np.ndarray] = field(default_factory=dict)  # MAIN_LAYOUT or <name> → (N, 2) float32
    image_paths: list[str | None] | None = None
    images: list[bytes | None] | None = None  # PNG bytes
    has_recon_error: bool = False
    metadata: CodesMetadata = field(default_factory=CodesMetadata)
    source: str = ""

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def attribute_matrix(self) -> tuple[np.ndarray | None, list[str] | None]:
        """Attributes as the (N, A) float32 matrix and names that a `Dataset` carries."""
        if not self.attributes:
            return None, None
        names = list(self.attributes)
        return np.stack([self.attributes[n] for n in names], axis=1).astype(np.float32), names

    def image_file(self, i: int) -> Path | None:
        """Where sample ``i``'s thumbnail lies; relative paths are taken from the codes file's folder."""
        if self.image_paths is None or self.image_paths[i] is None:
            return None
        path = Path(self.image_paths[i])
        if not path.is_absolute() and self.source:
            base = Path(self.source)
            path = (base if base.is_dir() else base.parent) / path
        return path


@dataclass(frozen=True)
class CodesFileInfo:
    """A codes file's shape, read from its schema alone (nothing but the footer is loaded)."""

    path: str
    format: str  # "parquet" | "parquet-dataset" | "arrow" | "npz" | "npy"
    rows: int
    latent_dim: int
    columns: tuple[str, ...]  # logical names present: id, label, z, mu, logvar, recon_error, x/y, ...
    layouts: tuple[str, ...]
    attributes: tuple[str, ...]
    metadata: CodesMetadata

    @property
    def is_variational(self) -> bool:
        return "mu" in self.columns


# --------------------------------------------------------------------------------------------- writing
def _pa():
    try:
        import pyarrow
    except ImportError as exc:  # a declared dependency; only a broken install lacks it
        raise CodesFileError("Parquet and Arrow files need the 'pyarrow' package",
                             hint="pip install pyarrow, or use .npz") from exc
    return pyarrow


def fixed_size_list(matrix: np.ndarray) -> pa.FixedSizeListArray:
    """An (N, d) float matrix as the schema's ``fixed_size_list<float32>[d]`` column, without copying twice."""
    pa = _pa()
    m = np.ascontiguousarray(matrix, dtype=np.float32)
    if m.ndim != 2:
        raise CodesFileError(f"a code column must be (N, d), got shape {m.shape}")
    return pa.FixedSizeListArray.from_arrays(pa.array(m.reshape(-1), type=pa.float32()), m.shape[1])


def codes_schema(latent_dim: int, *, variational: bool = False, labels: str | None = "int",
                 recon_error: bool = True, layouts: Sequence[str] = (), attributes: Sequence[str] = (),
                 image_paths: bool = False, images: bool = False,
                 metadata: CodesMetadata | None = None) -> pa.Schema:
    """The schema every part file of one encoding shares; ``labels`` is "int", "string" or None."""
    pa = _pa()
    vector = pa.list_(pa.float32(), latent_dim)
    fields = [pa.field("id", pa.int64(), nullable=False)]
    if labels is not None:
        fields.append(pa.field("label", pa.int64() if labels == "int" else pa.string()))
    fields += [pa.field(f"attr_{name}", pa.float32()) for name in attributes]
    fields += [pa.field(part, vector, nullable=False) for part in (CODE_PARTS if variational else ("z",))]
    if recon_error:
        fields.append(pa.field("recon_error", pa.float32()))
    for name in layouts:
        x, y = _layout_columns(name)
        fields += [pa.field(x, pa.float32()), pa.field(y, pa.float32())]
    if image_paths:
        fields.append(pa.field("image_path", pa.string()))
    if images:
        fields.append(pa.field("image", pa.binary()))
    return pa.schema(fields, metadata=(metadata or CodesMetadata()).to_arrow())


def _layout_columns(name: str) -> tuple[str, str]:
    return ("x", "y") if name == MAIN_LAYOUT else (f"{name}_x", f"{name}_y")


def codes_table(columns: Mapping[str, Any], metadata: CodesMetadata | None = None,
                schema: pa.Schema | None = None) -> pa.Table:
    """One table in the codes schema from named columns (numpy arrays or lists), e.g. one encoded batch.

    ``columns`` uses the schema's names: ``id``, ``label``, ``attr_<name>``, ``z``/``mu``/``logvar`` as (N, d)
    arrays, ``recon_error``, ``x``/``y``/``<name>_x``/``<name>_y``, ``image_path``, ``image``. ``id`` defaults
    to 0…N−1 (give each batch its own ids). ``schema`` (from `codes_schema`) makes every part file of a
    dataset agree on types even when one batch's columns differ.
    """
    pa = _pa()
    if "z" not in columns:
        raise CodesFileError("codes need a 'z' column", hint="pass the codes as columns={'z': array, ...}")
    n = len(columns["z"])
    arrays: dict[str, pa.Array] = {}
    arrays["id"] = pa.array(np.asarray(columns.get("id", np.arange(n)), dtype=np.int64))
    for name, value in columns.items():
        if name == "id":
            continue
        if name in CODE_PARTS:
            arr = fixed_size_list(np.asarray(value))
        elif name == "label":
            labels = np.asarray(value)
            arr = pa.array(labels.astype(np.int64)) if labels.dtype.kind in "iub" else pa.array(labels.astype(str))
        elif name in ("image_path",):
            arr = pa.array(list(value), type=pa.string())
        elif name == "image":
            arr = pa.array(list(value), type=pa.binary())
        else:
            arr = pa.array(np.asarray(value, dtype=np.float32))
        if len(arr) != n:
            raise CodesFileError(f"column '{name}' has {len(arr)} rows, 'z' has {n}",
                                 hint="give every column one row per code")
        arrays[name] = arr
    table = pa.table(arrays, metadata=(metadata or CodesMetadata()).to_arrow())
    if schema is not None:
        missing = [f.name for f in schema if f.name not in table.column_names]
        for name in missing:
            table = table.append_column(schema.field(name), pa.nulls(n, type=schema.field(name).type))
        extra = set(table.column_names) - set(schema.names)
        if extra:
            raise CodesFileError(f"columns {sorted(extra)} are not in the dataset's schema",
                                 hint="build the schema with codes_schema(...) naming every column")
        table = table.select(schema.names).cast(schema)
    return table


def codes_columns(codes: Codes, *, ids: np.ndarray | None = None, attributes: Mapping[str, np.ndarray] | None = None,
                  layouts: Mapping[str, np.ndarray] | None = None, image_paths: Sequence[str] | None = None,
                  images: Sequence[bytes] | None = None, include_recon_error: bool = True) -> dict[str, Any]:
    """`Codes` (and what goes beside them) as the named columns `codes_table` takes."""
    cols: dict[str, Any] = {"id": np.arange(len(codes), dtype=np.int64) if ids is None else np.asarray(ids)}
    if codes.labels is not None:
        cols["label"] = np.asarray(codes.labels)
    for name, values in (attributes or {}).items():
        cols[f"attr_{name}"] = values
    for part in CODE_PARTS:
        value = getattr(codes, part)
        if value is not None:
            cols[part] = value
    if include_recon_error:
        cols["recon_error"] = codes.recon_error
    for name, xy in (layouts or {}).items():
        xy = np.asarray(xy, dtype=np.float32)
        if xy.shape != (len(codes), 2):
            raise CodesFileError(f"layout '{name}' must be ({len(codes)}, 2), got {xy.shape}")
        x, y = _layout_columns(name)
        cols[x], cols[y] = xy[:, 0], xy[:, 1]
    if image_paths is not None:
        cols["image_path"] = list(image_paths)
    if images is not None:
        cols["image"] = list(images)
    return cols


def codes_metadata(codes: Codes, class_names: Sequence[str] | None = None, seed: int | None = None) -> CodesMetadata:
    return CodesMetadata(model_fingerprint=codes.model_key, dataset_fingerprint=codes.data_key,
                         label_names=list(class_names) if class_names is not None else None, seed=seed)


def check_codes_suffix(path: str | Path) -> str:
    """The format ``path`` will be written as ("parquet", "arrow", "npz" or "npy"); fails before any work."""
    suffix = Path(path).suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in ARROW_SUFFIXES:
        return "arrow"
    if suffix in NUMPY_SUFFIXES:
        return suffix[1:]
    raise CodesFileError(f"cannot tell the codes format from the extension '{suffix or '(none)'}'", path=path,
                         hint=FIX_FORMAT)


def write_codes_table(path: str | Path, table: pa.Table) -> Path:
    """Write one table (a whole file or one part of a dataset folder) atomically as Parquet or Arrow IPC."""
    fmt = check_codes_suffix(path)
    pa = _pa()
    path = Path(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
    elif fmt == "arrow":
        # uncompressed, so that reading can memory-map the columns instead of decompressing them
        with atomic_path(path) as tmp, pa.OSFile(str(tmp), "wb") as sink, \
                pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    else:
        raise CodesFileError("a table is written as .parquet or .arrow/.feather", path=path,
                             hint="use write_codes for .npz/.npy")
    return path


def write_codes(path: str | Path, codes: Codes, *, class_names: Sequence[str] | None = None,
                seed: int | None = None, ids: np.ndarray | None = None,
                attributes: Mapping[str, np.ndarray] | None = None, layouts: Mapping[str, np.ndarray] | None = None,
                image_paths: Sequence[str] | None = None, images: Sequence[bytes] | None = None,
                recon_error: bool = True) -> Path:
    """Write ``codes`` in the format named by the extension: .parquet, .arrow/.feather, .npz or .npy.

    ``recon_error=False`` leaves the column out (codes read from a file that had none).
    ``.npz`` holds the arrays ``encode`` has always written (``z``, ``mu``, ``logvar``, ``labels``,
    ``recon_error``) plus ``ids``, ``class_names``, ``attr_<name>`` and ``<layout>_x/_y``; ``.npy`` holds z alone.
    """
    fmt = check_codes_suffix(path)
    path = Path(path)
    if fmt in ("parquet", "arrow"):
        cols = codes_columns(codes, ids=ids, attributes=attributes, layouts=layouts, image_paths=image_paths,
                             images=images, include_recon_error=recon_error)
        return write_codes_table(path, codes_table(cols, codes_metadata(codes, class_names, seed)))
    if fmt == "npy":
        with atomic_path(path, suffix=".npy") as tmp, open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(codes.z, dtype=np.float32))
        return path
    arrays: dict[str, np.ndarray] = {}
    if ids is not None:
        arrays["ids"] = np.asarray(ids, dtype=np.int64)
    if class_names is not None:
        arrays["class_names"] = np.asarray(list(class_names), dtype=str)
    for name, values in (attributes or {}).items():
        arrays[f"attr_{name}"] = np.asarray(values, dtype=np.float32)
    for name, xy in (layouts or {}).items():
        x, y = _layout_columns(name)
        arrays[x], arrays[y] = np.asarray(xy, np.float32)[:, 0], np.asarray(xy, np.float32)[:, 1]
    if image_paths is not None:
        arrays["image_path"] = np.asarray(list(image_paths), dtype=str)
    seed = codes.seed if seed is None else seed
    if seed is not None:
        arrays["_seed"] = np.array(seed)
    codes.save_npz(path, extra=arrays, seed=seed, recon_error=recon_error)  # the layout Codes.load_npz reads
    return path


# --------------------------------------------------------------------------------------------- reading
class _Columns:
    """One file's columns by name, loaded on demand: an Arrow table (memory-mapped or read) or numpy arrays."""

    def __init__(self, path: Path, fmt: str, names: Sequence[str], raw_meta: Mapping[bytes, bytes] | None,
                 rows: int, loader, schema: pa.Schema | None = None, close=None, batches=None):
        self.path, self.format, self.names, self.raw_meta, self.rows = path, fmt, list(names), raw_meta, rows
        self.types = {f.name: f.type for f in schema} if schema is not None else None
        self._loader = loader  # (list of names) → {name: arrow array or numpy array}
        self._close = close
        self.batches = batches  # (list of names) → iterator of record batches, for the Arrow formats

    def __enter__(self) -> _Columns:
        return self

    def __exit__(self, *exc) -> None:
        if self._close is not None:
            self._close()

    def load(self, names: Iterable[str]) -> dict[str, Any]:
        wanted = [n for n in names if n in self.names]
        return self._loader(wanted) if wanted else {}


def _open(path: str | Path) -> _Columns:
    path = Path(path).expanduser()
    if not path.exists():
        raise CodesFileError("no such codes file or folder", path=path,
                             hint="give a .parquet, .arrow/.feather, .npz or .npy file, or a folder of .parquet parts")
    if path.is_dir():
        return _open_parquet_dataset(path)
    fmt = check_codes_suffix(path)
    if fmt == "parquet":
        return _open_parquet(path)
    if fmt == "arrow":
        return _open_arrow(path)
    if fmt == "npy":
        return _open_npy(path)
    return _open_npz(path)


def _arrow_error(path: Path, exc: Exception, what: str) -> CodesFileError:
    return CodesFileError(f"cannot read this file as {what} ({exc})", path=path,
                          hint="check that the file is complete and has the extension of its format")


def _open_parquet(path: Path) -> _Columns:
    _pa()
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path, memory_map=True)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and friends for a damaged file
        raise _arrow_error(path, exc, "Parquet") from exc
    schema = pf.schema_arrow

    def load(names: list[str]) -> dict[str, Any]:
        try:
            table = pf.read(columns=names)
        except Exception as exc:
            raise _arrow_error(path, exc, "Parquet") from exc
        return {n: table.column(n) for n in names}

    return _Columns(path, "parquet", schema.names, schema.metadata, pf.metadata.num_rows, load, schema,
                    close=getattr(pf, "close", None),
                    batches=lambda names: pf.iter_batches(batch_size=SPOOL_BATCH, columns=names))


def _open_parquet_dataset(path: Path) -> _Columns:
    _pa()
    import pyarrow.dataset as ds

    parts = dataset_parts(path)  # the manifest's parts; a half-written dataset is refused there
    if not parts:
        raise CodesFileError("the folder holds no .parquet part files", path=path,
                             hint="name a folder of .parquet parts in the codes schema, or a codes file")
    try:
        dataset = ds.dataset([str(p) for p in parts], format="parquet")
        schema = dataset.schema
        rows = dataset.count_rows()
    except Exception as exc:
        raise CodesFileError(f"the part files cannot be read as one Parquet dataset ({exc})", path=path,
                             hint="every part file must share one schema (write them with codes_schema)") from exc

    def load(names: list[str]) -> dict[str, Any]:
        try:
            table = dataset.to_table(columns=names)
        except Exception as exc:
            raise _arrow_error(path, exc, "a Parquet dataset") from exc
        return {n: table.column(n) for n in names}

    return _Columns(path, "parquet-dataset", schema.names, schema.metadata, rows, load, schema,
                    batches=lambda names: dataset.to_batches(columns=names, batch_size=SPOOL_BATCH))


def _open_arrow(path: Path) -> _Columns:
    pa = _pa()
    try:
        source = pa.memory_map(str(path), "r")
        try:
            table = pa.ipc.open_file(source).read_all()
        except pa.ArrowInvalid:  # the streaming flavour of IPC has no footer
            source.seek(0)
            table = pa.ipc.open_stream(source).read_all()
    except Exception as exc:
        raise _arrow_error(path, exc, "Arrow IPC / Feather") from exc
    # the table's buffers point into the mapping: columns are paged in only as they are used
    return _Columns(path, "arrow", table.column_names, table.schema.metadata, table.num_rows,
                    lambda names: {n: table.column(n) for n in names}, table.schema,
                    batches=lambda names: table.select(names).to_batches(max_chunksize=SPOOL_BATCH))


def _open_npy(path: Path) -> _Columns:
    try:
        z = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise CodesFileError(f"cannot read codes ({exc})", path=path, hint="save z with numpy.save") from exc
    if z.ndim != 2:
        raise CodesFileError(f"a .npy of codes holds one (N, d) array, this one has shape {z.shape}", path=path,
                             hint="save z as a 2-D array, or write a .npz/.parquet with the other columns")
    return _Columns(path, "npy", ["z"], None, len(z), lambda names: {"z": z})


_NPZ_RENAMES = {"labels": "label", "ids": "id"}


def _open_npz(path: Path) -> _Columns:
    try:
        archive = np.load(path, allow_pickle=False)
        files = list(archive.files)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CodesFileError(f"cannot read codes ({exc})", path=path,
                             hint="the file should be a .npz as written by numpy.savez") from exc
    names = {_NPZ_RENAMES.get(f, f): f for f in files if not f.startswith("_") and f not in ("class_names", "eps_clip")}
    meta: dict[bytes, bytes] = {}
    try:
        if "_meta" in files:
            stored = [str(v) for v in archive["_meta"]]
            meta[f"{META_PREFIX}model_fingerprint".encode()] = stored[0].encode()
            meta[f"{META_PREFIX}dataset_fingerprint".encode()] = stored[1].encode()
        if "class_names" in files:
            meta[f"{META_PREFIX}label_names".encode()] = json.dumps([str(c) for c in archive["class_names"]]).encode()
        if "_seed" in files:
            meta[f"{META_PREFIX}seed".encode()] = json.dumps(int(archive["_seed"])).encode()
        elif "_meta" in files and len(stored) > 3 and stored[3].lstrip("-").isdigit():
            meta[f"{META_PREFIX}seed".encode()] = json.dumps(int(stored[3])).encode()
        cache: dict[str, np.ndarray] = {}
        if "z" in names:
            cache["z"] = archive[names["z"]]
        rows = len(cache["z"]) if "z" in cache else 0
    except (ValueError, IndexError, OSError) as exc:  # object arrays (need pickle) or a damaged member
        archive.close()
        raise CodesFileError(f"cannot read the archive's arrays ({exc})", path=path,
                             hint="store only numeric and string arrays (no Python objects)") from exc

    def load(wanted: list[str]) -> dict[str, Any]:
        try:
            for n in wanted:
                if n not in cache:
                    cache[n] = archive[names[n]]
            return {n: cache[n] for n in wanted}
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            raise CodesFileError(f"cannot read the archive's arrays ({exc})", path=path) from exc

    return _Columns(path, "npz", list(names), meta, rows, load, close=archive.close)


def _plan(cols: _Columns) -> dict[str, list[str]]:
    """Logical field → the file's columns holding it (``z`` → [``z``] or [``z_0``, …])."""
    plan: dict[str, list[str]] = {}
    split: dict[str, dict[int, str]] = {}
    for name in cols.names:
        m = _SPLIT_COLUMN.fullmatch(name)
        if m:
            split.setdefault(m.group(1), {})[int(m.group(2))] = name
        elif name in ("id", "label", "recon_error", "image_path", "image", *CODE_PARTS) or name.startswith("attr_"):
            plan[name] = [name]
    for part, by_index in split.items():
        if part in plan:
            continue  # a list column wins over stray z_<i> columns
        if sorted(by_index) != list(range(len(by_index))):
            missing = sorted(set(range(max(by_index) + 1)) - set(by_index))
            raise CodesFileError(f"the columns {part}_0 … {part}_{max(by_index)} lack {part}_{missing[0]}",
                                 path=cols.path, hint=f"give every component {part}_0 … {part}_{{d-1}}")
        plan[part] = [by_index[i] for i in range(len(by_index))]
    names = set(cols.names)
    if "x" in names and "y" in names:
        plan[f"layout:{MAIN_LAYOUT}"] = ["x", "y"]
    for name in cols.names:
        if name.endswith("_x") and not name.startswith("attr_") and name[:-2] + "_y" in names:
            plan[f"layout:{name[:-2]}"] = [name, name[:-2] + "_y"]
    if "z" not in plan:
        raise CodesFileError("the file has no codes: expected a 'z' column (a fixed-size list of floats) or the "
                             "columns z_0 … z_{d-1}", path=cols.path,
                             hint=f"name the code column 'z'; the file has {', '.join(cols.names[:12]) or 'none'}")
    return plan


def _matrix(cols: _Columns, field_name: str, names: list[str], loaded: Mapping[str, Any]) -> np.ndarray:
    """An (N, d) float32 code matrix from a list column, split float columns or a numpy array."""
    if len(names) > 1:
        parts = [_vector(cols, n, loaded[n], np.float32) for n in names]
        return np.stack(parts, axis=1)
    value = loaded[names[0]]
    if isinstance(value, np.ndarray):
        arr = np.asarray(value)
        if arr.ndim != 2 or arr.dtype.kind not in "fiu":
            raise CodesFileError(f"'{field_name}' must be an (N, d) numeric array, got {arr.dtype} {arr.shape}",
                                 path=cols.path)
        out = arr if arr.dtype == np.float32 else arr.astype(np.float32)
    else:
        out = _list_matrix(cols, field_name, value)
    if not np.isfinite(out).all():
        bad = int((~np.isfinite(out).all(axis=1)).sum())
        raise CodesFileError(f"'{field_name}' holds NaN or infinite values in {bad} rows", path=cols.path,
                             hint="drop or fix those rows before writing the codes")
    return out


def _list_matrix(cols: _Columns, field_name: str, chunked) -> np.ndarray:
    pa = _pa()
    import pyarrow.compute as pc

    typ = chunked.type
    if not (pa.types.is_fixed_size_list(typ) or pa.types.is_list(typ) or pa.types.is_large_list(typ)) \
            or not (pa.types.is_floating(typ.value_type) or pa.types.is_integer(typ.value_type)):
        raise CodesFileError(f"column '{field_name}' has type {typ}; a list of floats was expected", path=cols.path,
                             hint=f"store {field_name} as fixed_size_list<float32>[d] or as {field_name}_0 … "
                                  f"{field_name}_{{d-1}} float columns")
    if chunked.null_count:
        raise CodesFileError(f"column '{field_name}' has {chunked.null_count} missing rows", path=cols.path,
                             hint="every row needs its code")
    arr = chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)
    n = len(arr)
    if pa.types.is_fixed_size_list(typ):
        d = typ.list_size
    else:
        lengths = pc.list_value_length(arr).to_numpy(zero_copy_only=False)
        d = int(lengths[0]) if n else 0
        if n and (lengths != d).any():
            first = int(np.argmax(lengths != d))
            raise CodesFileError(f"column '{field_name}' holds lists of different lengths (row 0 has {d}, row "
                                 f"{first} has {int(lengths[first])})", path=cols.path,
                                 hint="every code must have the same dimension")
    values = arr.flatten()
    if values.null_count:
        raise CodesFileError(f"column '{field_name}' has missing components", path=cols.path)
    flat = values.to_numpy(zero_copy_only=False)  # zero-copy for float32 without nulls (a memory-mapped view)
    if flat.dtype != np.float32:
        flat = flat.astype(np.float32)
    return flat.reshape(n, d)


def _vector(cols: _Columns, name: str, value, dtype) -> np.ndarray:
    if isinstance(value, np.ndarray):
        arr = np.asarray(value)
        if arr.ndim != 1:
            raise CodesFileError(f"'{name}' must be one value per row, got shape {arr.shape}", path=cols.path)
    else:
        pa = _pa()
        if not (pa.types.is_floating(value.type) or pa.types.is_integer(value.type)
                or pa.types.is_boolean(value.type)):
            raise CodesFileError(f"column '{name}' has type {value.type}; numbers were expected", path=cols.path)
        if value.null_count:
            raise CodesFileError(f"column '{name}' has {value.null_count} missing values", path=cols.path,
                                 hint="fill them in before writing the file")
        arr = value.to_numpy()
    if arr.dtype.kind not in "fiub":
        raise CodesFileError(f"'{name}' holds {arr.dtype}; numbers were expected", path=cols.path)
    return arr.astype(dtype, copy=False)


def _labels(cols: _Columns, value, names_from_meta: list[str] | None) -> tuple[np.ndarray, list[str] | None]:
    """Integer class ids and their names; string labels become ids into their sorted distinct values."""
    pa = None if isinstance(value, np.ndarray) else _pa()
    if pa is not None and pa.types.is_dictionary(value.type):
        chunked = value.unify_dictionaries() if hasattr(value, "unify_dictionaries") else value
        arr = chunked.combine_chunks()
        if arr.null_count:
            raise CodesFileError(f"column 'label' has {arr.null_count} missing values", path=cols.path,
                                 hint="give every row a label, or drop the column")
        return arr.indices.to_numpy().astype(np.int64), [str(v) for v in arr.dictionary.to_pylist()]
    if pa is not None and (pa.types.is_string(value.type) or pa.types.is_large_string(value.type)):
        if value.null_count:
            raise CodesFileError(f"column 'label' has {value.null_count} missing values", path=cols.path,
                                 hint="give every row a label, or drop the column")
        strings = np.asarray(value.to_numpy(zero_copy_only=False), dtype=str)
    elif isinstance(value, np.ndarray) and value.dtype.kind in "US":
        strings = value.astype(str)
    else:
        ints = _vector(cols, "label", value, np.int64)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.array_equal(value, ints):
            raise CodesFileError("labels are fractional numbers; class ids were expected", path=cols.path)
        if ints.size and ints.min() < 0:
            raise CodesFileError(f"labels must be class ids from 0, found {int(ints.min())}", path=cols.path,
                                 hint="number the classes 0 … K−1, or store the labels as strings")
        return ints, names_from_meta
    names, ids = np.unique(strings, return_inverse=True)
    return ids.astype(np.int64), [str(n) for n in names]


def _strings(value, cols: _Columns, name: str) -> list:
    if isinstance(value, np.ndarray):
        return [str(v) for v in value]
    pa = _pa()
    if not (pa.types.is_string(value.type) or pa.types.is_large_string(value.type)):
        raise CodesFileError(f"column '{name}' has type {value.type}; strings were expected", path=cols.path)
    return value.to_pylist()


def _binaries(value, cols: _Columns) -> list:
    pa = _pa()
    if isinstance(value, np.ndarray) or not (pa.types.is_binary(value.type) or pa.types.is_large_binary(value.type)):
        raise CodesFileError("column 'image' must hold PNG bytes (binary)", path=cols.path)
    return value.to_pylist()


def codes_file_info(path: str | Path) -> CodesFileInfo:
    """Describe a codes file from its schema: rows, latent size, which columns and layouts it has."""
    with _open(path) as cols:
        return _info(cols)


def _info(cols: _Columns) -> CodesFileInfo:
    plan = _plan(cols)
    if len(plan["z"]) > 1:
        d = len(plan["z"])
    elif cols.types is not None and _pa().types.is_fixed_size_list(cols.types[plan["z"][0]]):
        d = cols.types[plan["z"][0]].list_size
    else:  # a numpy array or variable-length lists: the codes themselves tell
        d = _matrix(cols, "z", plan["z"], cols.load(plan["z"])).shape[1]
    return CodesFileInfo(path=str(cols.path), format=cols.format, rows=cols.rows, latent_dim=d,
                         columns=tuple(k if not k.startswith("layout:") else _layout_columns(k[7:])[0]
                                       for k in plan),
                         layouts=tuple(k[7:] for k in plan if k.startswith("layout:")),
                         attributes=tuple(k[5:] for k in plan if k.startswith("attr_")),
                         metadata=CodesMetadata.from_arrow(cols.raw_meta, cols.path))


ALL_FIELDS = ("id", "label", "attributes", "z", "mu", "logvar", "recon_error", "layouts", "image_path", "image")


def read_codes(path: str | Path, fields: Iterable[str] | None = None, spool: str | Path | None = None) -> CodesFile:
    """Read a codes file or a folder of Parquet parts; ``fields`` limits which columns are loaded.

    ``fields`` takes names from `ALL_FIELDS` (``z`` is always read): e.g. ``("z", "label")`` for a scatter,
    leaving thumbnails and the VAE's ``mu``/``logvar`` on disk. Missing optional columns are simply absent.
    Codes read from Arrow IPC or ``.npy`` are read-only views of the mapped file: copy them to change them.

    ``spool`` (a folder) streams the code columns of a Parquet or Arrow file batch by batch into ``z.npy``,
    ``mu.npy``, ``logvar.npy`` there and returns them memory-mapped: the codes of a file larger than memory are
    then paged in as they are used, and the next read of the same file finds them there (see `spool_codes`).
    """
    with _open(path) as cols:
        return _read(cols, fields, Path(spool) if spool is not None and cols.batches is not None else None)


def _spooled(cols: _Columns, field_name: str, names: list[str], folder: Path) -> np.ndarray:
    """One code column copied batch by batch into ``folder/<field>.npy`` (once), returned memory-mapped."""
    target = folder / f"{field_name}.npy"
    if target.exists():
        with contextlib.suppress(OSError, ValueError):
            done = np.load(target, mmap_mode="r", allow_pickle=False)
            if done.ndim == 2 and done.shape[0] == cols.rows and done.dtype == np.float32:
                return done
    pa = _pa()
    out = None
    with atomic_path(target, suffix=".npy") as tmp:
        row = 0
        for batch in cols.batches(names):
            block = _matrix(cols, field_name, names, {n: pa.chunked_array([batch.column(n)]) for n in names})
            if out is None:
                out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(cols.rows, block.shape[1]))
            out[row:row + len(block)] = block
            row += len(block)
        if out is None:  # no rows at all
            np.save(tmp, np.zeros((0, 0), np.float32))
        else:
            # on disk before the rename: unmapped (its pages stay in the page cache), then ``os.fsync``, which
            # lets other threads run; the memory map's own flush holds the GIL for the whole write (300 ms of
            # the window's event loop for ten million codes)
            del out
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        if row != cols.rows:
            raise CodesFileError(f"'{field_name}' has {row} rows, the file says {cols.rows}", path=cols.path)
    return np.load(target, mmap_mode="r", allow_pickle=False)


def _all_distinct(values: np.ndarray) -> bool:
    """Whether no value repeats: one pass when they ascend (ids as written here), else one sort (not a hash
    table, which takes 17 s for 10 million ids)."""
    if len(values) < 2 or (np.diff(values) > 0).all():
        return True
    return bool((np.diff(np.sort(values)) != 0).all())


def _read(cols: _Columns, fields: Iterable[str] | None, spool: Path | None = None) -> CodesFile:
    plan = _plan(cols)
    want = set(ALL_FIELDS if fields is None else fields) | {"z"}
    unknown = want - set(ALL_FIELDS)
    if unknown:
        raise CodesFileError(f"unknown codes fields {sorted(unknown)}", hint=f"choose from {', '.join(ALL_FIELDS)}")
    keys = [k for k in plan if k in want or (k.startswith("attr_") and "attributes" in want)
            or (k.startswith("layout:") and "layouts" in want)]
    spooled = set(CODE_PARTS) & set(keys) if spool is not None else set()
    loaded = cols.load([c for k in keys if k not in spooled for c in plan[k]])
    meta = CodesMetadata.from_arrow(cols.raw_meta, cols.path)
    n = cols.rows

    def matrix(part: str) -> np.ndarray:
        if part in spooled:
            return _spooled(cols, part, plan[part], spool)
        return _matrix(cols, part, plan[part], loaded)

    z = matrix("z")
    parts = {p: matrix(p) if p in keys else None for p in ("mu", "logvar")}
    for part, value in parts.items():
        if value is not None and value.shape != z.shape:
            raise CodesFileError(f"'{part}' has shape {value.shape}, 'z' has {z.shape}", path=cols.path,
                                 hint="mu, logvar and z must have one row per code and the same dimension")
    ids = _vector(cols, "id", loaded["id"], np.int64) if "id" in keys else np.arange(n, dtype=np.int64)
    if "id" in keys and not _all_distinct(ids):
        raise CodesFileError("the 'id' column repeats values", path=cols.path, hint="give each row its own id")
    labels, class_names = (None, meta.label_names)
    if "label" in keys:
        labels, class_names = _labels(cols, loaded["label"], meta.label_names)
    recon = _vector(cols, "recon_error", loaded["recon_error"], np.float32) if "recon_error" in keys else None
    codes = Codes(z=z, mu=parts["mu"], logvar=parts["logvar"], labels=labels,
                  recon_error=recon if recon is not None else np.zeros(n, np.float32),
                  model_key=meta.model_fingerprint, data_key=meta.dataset_fingerprint)
    result = CodesFile(codes=codes, ids=ids, class_names=class_names, has_recon_error=recon is not None,
                       metadata=meta, source=str(cols.path))
    for key in keys:
        if key.startswith("attr_"):
            result.attributes[key[5:]] = _vector(cols, key, loaded[key], np.float32)
        elif key.startswith("layout:"):
            x, y = plan[key]
            result.layouts[key[7:]] = np.stack([_vector(cols, x, loaded[x], np.float32),
                                                _vector(cols, y, loaded[y], np.float32)], axis=1)
    if "image_path" in keys:
        result.image_paths = _strings(loaded["image_path"], cols, "image_path")
    if "image" in keys:
        result.images = _binaries(loaded["image"], cols)
    for name, value in (("labels", labels), ("recon_error", recon)):
        if value is not None and len(value) != n:
            raise CodesFileError(f"'{name}' has {len(value)} rows, 'z' has {n}", path=cols.path)
    return result


def read_column(path: str | Path, name: str) -> list:
    """One column of a codes file as a Python list (e.g. the thumbnails' PNG bytes, read only when first shown)."""
    with _open(path) as cols:
        if name not in cols.names:
            raise CodesFileError(f"the file has no column '{name}'", path=path,
                                 hint=f"the file's columns are {', '.join(cols.names[:12])}")
        value = cols.load([name])[name]
        if name == "image":
            return _binaries(value, cols)
        return value.tolist() if isinstance(value, np.ndarray) else value.to_pylist()
