"""Codes opened without a model: the file's rows as a pixel-less `Dataset`, its codes, and what decodes them.

A codes file (``.npz``/``.npy``/``.parquet``/``.arrow``) or a Parquet dataset folder holds codes, labels,
attributes, layouts and perhaps thumbnails, but no images a model could encode. Everything that draws, colours
and analyses the codes only needs rows, so the file becomes a `CodesDataset`: one row per code, labels and
attributes from the file, thumbnails read lazily from its ``image``/``image_path`` columns, and no pixels
(`has_pixels` says so, for the few features that feed images to a model). Decoding needs a model whose latent
size matches; `decoding_note` says which one, `check_attachable` refuses any other with one clear message.

Opening reads what the scatter draws (layouts, labels, attributes) into memory. The codes of a big Parquet file or
dataset folder are copied once, batch by batch, into memory-mapped files of the cache and paged in from there as
views use them; Arrow IPC and ``.npy`` codes are memory-mapped by the reader itself. Thumbnails' bytes and paths
stay on disk until a row's thumbnail is asked for.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from latent_explorer.core.codes_file import (
    ALL_FIELDS,
    CodesFile,
    CodesFileInfo,
    codes_file_info,
    read_codes,
    read_column,
)
from latent_explorer.core.datasets import Dataset
from latent_explorer.core.encoding import Codes
from latent_explorer.core.errors import ModelError
from latent_explorer.core.jobs import Job, Progress, run_job
from latent_explorer.core.parquet_dataset import dataset_parts

SPOOL_ROWS = 1_000_000  # from this many rows a Parquet file's codes are memory-mapped instead of held in memory
THUMBNAIL_CACHE = 512  # decoded thumbnails kept for hover and galleries
OPEN_FIELDS = tuple(f for f in ALL_FIELDS if f != "image")  # PNG bytes are read on the first thumbnail asked for
Thumbnail = Callable[[int], np.ndarray | None]


def no_pixels(n: int) -> np.ndarray:
    """(n, 1, 1, 1) zeros that take no memory: a `Dataset` needs an image array, a codes file has none."""
    return np.broadcast_to(np.zeros((1, 1, 1, 1), np.uint8), (n, 1, 1, 1))


@dataclass
class CodesDataset(Dataset):
    """The rows of a codes file: labels, attributes, layouts and thumbnails, but no pixels to encode."""

    info: CodesFileInfo | None = None
    layouts: dict[str, np.ndarray] = field(default_factory=dict)  # the file's own (N, 2) layouts by name
    thumbnail: Thumbnail | None = field(default=None, repr=False)

    @property
    def has_thumbnails(self) -> bool:
        return self.thumbnail is not None

    def display_image(self, i: int) -> np.ndarray | None:  # type: ignore[override]
        """Row ``i``'s thumbnail from the file, or None when the file has none for it."""
        return None if self.thumbnail is None else self.thumbnail(int(i))

    def fingerprint(self) -> str:
        """The dataset fingerprint the file records, else one of its path, size and time (no pixels to hash)."""
        if self._fingerprint is None:
            recorded = self.info.metadata.dataset_fingerprint if self.info is not None else ""
            if recorded:
                self._fingerprint = recorded
            else:
                path = Path(self.source)
                stamp = path.stat().st_mtime_ns if path.exists() else 0
                text = f"codes:{path.resolve()}:{len(self)}:{stamp}"
                self._fingerprint = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        return self._fingerprint

    def summary(self) -> str:
        """One line for the data pane: rows, latent size, file format, what the file brings along."""
        info = self.info
        parts = [f"{len(self):,} codes"]
        if info is not None:
            parts.append(f"z_dim {info.latent_dim}, {info.format}")
        if self.layouts:
            parts.append(f"layouts: {', '.join(layout_name(k) for k in self.layouts)}")
        if self.has_thumbnails:
            parts.append("thumbnails")
        return " · ".join(parts)


def has_pixels(dataset: Any) -> bool:
    """Whether ``dataset`` has images a model can encode (a codes file's rows have none)."""
    return dataset is not None and not isinstance(dataset, CodesDataset)


def layout_name(key: str) -> str:
    """How a file's layout is called in the view list: the plain ``x``/``y`` columns are "file x/y"."""
    return "file x/y" if key == "xy" else key


@dataclass
class OpenedCodes:
    """What opening a codes file gives the window: its rows, its codes, and the model that would decode them."""

    dataset: CodesDataset
    codes: Codes

    @property
    def note(self) -> str:
        return decoding_note(self.dataset.info, self.codes)


def decoding_note(info: CodesFileInfo | None, codes: Codes) -> str:
    """Which model would make decoding possible, from the file's model fingerprint when it records one."""
    text = f"Decoding needs a model with z_dim = {codes.latent_dim}"
    fingerprint = info.metadata.model_fingerprint if info is not None else codes.model_key
    if fingerprint:
        text += f" (these codes were encoded by the model with fingerprint {fingerprint[:16]})"
    return text + ": attach one with File ▸ Open Model…"


def check_attachable(model: Any, codes: Codes, source: str = "") -> str:
    """Refuse a model whose latent size differs from the codes'; returns a warning when it is another model."""
    if int(model.latent_dim) != codes.latent_dim:
        raise ModelError(f"this model's latent size is z_dim = {model.latent_dim}, the codes have z_dim = "
                         f"{codes.latent_dim}; the codes stay open without decoding", path=source or None,
                         hint=f"attach a model with z_dim = {codes.latent_dim}"
                              + (f" (the codes record model {codes.model_key[:16]})" if codes.model_key else ""))
    fingerprint = getattr(model, "fingerprint", None)
    if codes.model_key and callable(fingerprint) and fingerprint() != codes.model_key:
        return (f"{getattr(model, 'name', 'the model')} is not the model these codes were encoded with "
                f"(z_dim matches): decoded images may not match the points")
    return ""


def thumbnails_of(contents: CodesFile, info: CodesFileInfo) -> Thumbnail | None:
    """Row → thumbnail as float (H, W) or (H, W, 3) in [0, 1], from ``image`` bytes or ``image_path`` files.

    Columns not read with the codes (a big file's paths, any file's PNG bytes) are read on the first request."""
    has_bytes, has_paths = "image" in info.columns, "image_path" in info.columns
    if not (has_bytes or has_paths):
        return None
    columns: dict[str, list | None] = {"image": contents.images, "image_path": contents.image_paths}

    def column(name: str) -> list:
        if columns[name] is None:
            columns[name] = read_column(info.path, name)
        return columns[name]

    @lru_cache(maxsize=THUMBNAIL_CACHE)
    def load(row: int) -> np.ndarray | None:
        if not 0 <= row < len(contents):
            return None
        if has_bytes:
            data = column("image")[row]
            if data is not None:
                return _decode_image(io.BytesIO(data))
        if has_paths:
            if contents.image_paths is None:
                contents.image_paths = column("image_path")
            file = contents.image_file(row)
            if file is not None and file.is_file():
                return _decode_image(file)
        return None

    return load


def _decode_image(source: Any) -> np.ndarray | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(source) as im:
            im = im.convert("L" if im.mode in ("1", "L", "I", "I;16", "F") else "RGB")
            return np.asarray(im, dtype=np.float32) / 255.0
    except (OSError, UnidentifiedImageError, ValueError):  # a damaged thumbnail shows as none, never fails a view
        return None


def spool_folder(info: CodesFileInfo) -> Path:
    """Where the memory-mapped code columns of a big file live: keyed by its path and each part's size and time,
    so that a rewritten file (or dataset folder) is spooled afresh."""
    path = Path(info.path).resolve()
    files = dataset_parts(path) if path.is_dir() else [path]
    h = hashlib.blake2b(str(path).encode(), digest_size=16)
    for file in files:
        stat = file.stat()
        h.update(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return codes_cache_root() / h.hexdigest()


def codes_cache_root() -> Path:
    """``$LATENT_EXPLORER_CACHE/codes`` when set (tests, shared machines), else the platform's user cache."""
    override = os.environ.get("LATENT_EXPLORER_CACHE")
    if override:
        return Path(override) / "codes"
    import platformdirs

    return Path(platformdirs.user_cache_dir("latent-explorer")) / "codes"


def iter_open_codes(path: str | Path, spool_rows: int = SPOOL_ROWS) -> Job[OpenedCodes]:
    """Read a codes file or Parquet dataset folder for the window (a generator: progress, then the result).

    Everything the scatter draws and colours by is read at once (labels, layouts, attributes, reconstruction
    errors); a Parquet file or folder of ``spool_rows`` rows or more has its codes copied once into memory-mapped
    files of the cache (`spool_folder`), and its thumbnails' paths are read only when a thumbnail is shown.
    """
    path = Path(path).expanduser()
    yield Progress("reading codes", 0, None, path.name)
    info = codes_file_info(path)  # the schema alone: a half-written folder or a bad file fails here, early
    big = info.rows >= spool_rows and info.format in ("parquet", "parquet-dataset")
    spool = spool_folder(info) if big else None
    fields = [f for f in OPEN_FIELDS if not (big and f == "image_path")]
    yield Progress("reading codes", 0, None, f"{path.name}: {info.rows:,} × {info.latent_dim}"
                                              + (" (codes memory-mapped from the cache)" if big else ""))
    contents = read_codes(path, fields=fields, spool=spool)
    attributes, attribute_names = contents.attribute_matrix
    dataset = CodesDataset(name=path.name, images=no_pixels(len(contents)), labels=contents.codes.labels,
                           class_names=contents.class_names, attributes=attributes,
                           attribute_names=attribute_names, source=str(path), info=info,
                           layouts=dict(contents.layouts), thumbnail=thumbnails_of(contents, info))
    codes = contents.codes
    if dataset.labels is not None and codes.labels is not None and dataset.labels is not codes.labels:
        codes.labels = dataset.labels  # ids into the dataset's class names, as label_map made them
    return OpenedCodes(dataset, codes)


def open_codes(path: str | Path) -> OpenedCodes:
    """`iter_open_codes` run to its end (scripts, the figure command)."""
    return run_job(iter_open_codes(path))
