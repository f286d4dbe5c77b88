"""The inputs a distributed encoding reads, described so that each worker reads only its own batches.

Two kinds cover every dataset the command line names:

* `ImageListSource`: image files (an image folder, or a Parquet/CSV list of paths on shared storage). The paths of
  a batch travel with the batch; a worker decodes them with the in-process loader's own decoder, so a folder gives
  the same pixels on a cluster as on one machine, and an unreadable file is skipped and listed the same way.
* `ArraySource`: an IDX, ``.npz`` or ``.npy`` file (or a built-in name). Each worker loads it once through the
  in-process loader and slices its batches.

Both are small picklable descriptions; nothing heavy is shipped from the driver.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latent_explorer.core.datasets import (
    Dataset,
    as_labels,
    decode_image_file,
    guess_image_options,
    image_options_key,
    list_image_folder,
    load_dataset,
)
from latent_explorer.core.errors import DatasetError

LIST_SUFFIXES = (".parquet", ".pq", ".csv")
PATH_COLUMNS = ("image_path", "path", "file", "filename")


@dataclass
class Batch:
    """One batch as a worker reads it: images (uint8 or float, NCHW), their ids and labels, and what was skipped."""

    images: np.ndarray
    ids: np.ndarray  # int64 row ids in the source (skipped rows leave gaps)
    labels: np.ndarray | None
    image_paths: list[str] | None
    skipped: list[tuple[str, str]]
    content_hash: str


@dataclass
class ImageListSource:
    """Image files with optional integer labels, decoded to ``(C, H, W)`` with ``mode`` ("L"/"RGB")."""

    paths: list[str]
    labels: list[int] | None
    image_shape: tuple[int, int, int]
    mode: str
    class_names: list[str] | None = None
    name: str = ""

    def __len__(self) -> int:
        return len(self.paths)

    def batch_payload(self, start: int, stop: int) -> dict[str, Any]:
        """What travels with batch [start, stop): its paths and labels."""
        return {"paths": self.paths[start:stop],
                "labels": None if self.labels is None else self.labels[start:stop]}

    def read(self, start: int, stop: int, payload: dict[str, Any]) -> Batch:
        c, h, w = self.image_shape
        rows, ids, labels, paths, skipped = [], [], [], [], []
        for k, path in enumerate(payload["paths"]):
            result = decode_image_file(Path(path), self.mode, w, h)
            if isinstance(result, str):
                skipped.append((path, result))
                continue
            rows.append(result)
            ids.append(start + k)
            paths.append(path)
            if payload["labels"] is not None:
                labels.append(payload["labels"][k])
        images = np.stack(rows) if rows else np.empty((0, c, h, w), np.uint8)
        return Batch(images=images, ids=np.asarray(ids, np.int64),
                     labels=np.asarray(labels, np.int64) if payload["labels"] is not None else None,
                     image_paths=paths, skipped=skipped, content_hash=_hash(images, labels))

    def fingerprint(self) -> str:
        """The files' names, sizes and modification times, and the decoding options: known before decoding."""
        from latent_explorer.core.image_cache import cache_key

        key = ""
        for item in cache_key([Path(p) for p in self.paths], self.image_shape, image_options_key(self.mode)):
            if isinstance(item, str):
                key = item
        h = hashlib.blake2b(key.encode(), digest_size=16)
        if self.labels is not None:
            h.update(np.asarray(self.labels, np.int64).tobytes())
        return "files-" + h.hexdigest()


@dataclass
class ArraySource:
    """A dataset the in-process loader reads whole (IDX, .npz, .npy, built-in names); workers slice it."""

    spec: str
    options: dict[str, Any]
    length: int
    image_shape: tuple[int, int, int]
    class_names: list[str] | None = None
    name: str = ""
    _dataset: Dataset | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return self.length

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_dataset"] = None  # each worker loads the file itself
        return state

    def dataset(self) -> Dataset:
        if self._dataset is None:
            self._dataset = load_dataset(self.spec, **self.options)
            if len(self._dataset) != self.length:
                raise DatasetError(f"the dataset has {len(self._dataset)} images here, {self.length} on the driver",
                                   path=self.spec, hint="every node must see the same file (shared storage)")
        return self._dataset

    def batch_payload(self, start: int, stop: int) -> dict[str, Any]:
        return {}

    def read(self, start: int, stop: int, payload: dict[str, Any]) -> Batch:
        data = self.dataset()
        images = np.asarray(data.images[start:stop])
        labels = None if data.labels is None else data.labels[start:stop]
        return Batch(images=images, ids=np.arange(start, stop, dtype=np.int64), labels=labels, image_paths=None,
                     skipped=[], content_hash=_hash(images, labels))

    def fingerprint(self) -> str:
        return self.dataset().fingerprint()  # the very key the in-process encoder writes


def _hash(images: np.ndarray, labels) -> str:
    h = hashlib.blake2b(np.ascontiguousarray(images).data, digest_size=16)
    if labels is not None and len(labels):
        h.update(np.asarray(labels, np.int64).tobytes())
    return h.hexdigest()


def open_source(spec: str, options: dict[str, Any]) -> ImageListSource | ArraySource:
    """Describe what ``--data`` names for workers: an image folder or path list, or an array file."""
    path = Path(spec).expanduser()
    if path.is_dir() and not sorted(path.glob("*images*idx3*")):
        files, subdirs = list_image_folder(path, options.get("limit"))
        (h, w), mode = guess_image_options(files, options.get("shape"), options.get("mode", "auto"))
        has_classes = bool(subdirs) and all(c is not None for _, c in files)
        return ImageListSource(paths=[str(f) for f, _ in files],
                               labels=[int(c) for _, c in files] if has_classes else None,
                               image_shape=(1 if mode == "L" else 3, h, w), mode=mode,
                               class_names=[d.name for d in subdirs] if has_classes else None, name=path.name)
    if path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
        return _path_list(path, options)
    dataset = load_dataset(spec, **options)
    return ArraySource(spec=spec, options=dict(options), length=len(dataset), image_shape=dataset.image_shape,
                       class_names=dataset.class_names, name=dataset.name, _dataset=dataset)


def _path_list(path: Path, options: dict[str, Any]) -> ImageListSource:
    """A Parquet or CSV table with a path column (``image_path``/``path``/``file``) and an optional ``label``."""
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    try:
        table = pa_csv.read_csv(path) if path.suffix.lower() == ".csv" else pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...
        raise DatasetError(f"cannot read the list of images ({exc})", path=path,
                           hint="a .csv with a header row, or a .parquet file") from exc
    column = next((c for c in PATH_COLUMNS if c in table.column_names), None)
    if column is None:
        raise DatasetError(f"no column of image paths; the table has {table.column_names}", path=path,
                           hint=f"name the column one of {', '.join(PATH_COLUMNS)}")
    paths = []
    for value in table.column(column).to_pylist():
        if not value:
            raise DatasetError(f"an empty value in column '{column}'", path=path)
        p = Path(str(value)).expanduser()
        paths.append(str(p if p.is_absolute() else path.parent / p))  # relative to the list's folder
    if options.get("limit"):
        paths = paths[:options["limit"]]
    labels, class_names = None, None
    if "label" in table.column_names:
        raw = table.column("label").to_pylist()[:len(paths)]
        if all(isinstance(v, str) for v in raw):
            class_names = sorted(set(raw))
            index = {name: k for k, name in enumerate(class_names)}
            labels = [index[v] for v in raw]
        else:
            labels = as_labels(np.asarray(raw), len(paths), str(path)).tolist()
    files = [(Path(p), None) for p in paths[:200]]
    (h, w), mode = guess_image_options(files, options.get("shape"), options.get("mode", "auto"))
    return ImageListSource(paths=paths, labels=labels, image_shape=(1 if mode == "L" else 3, h, w), mode=mode,
                           class_names=class_names, name=path.stem)
