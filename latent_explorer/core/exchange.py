"""Exports that other embedding tools open: TensorFlow's Embedding Projector and Embedding Atlas (or latent-scope).

* **Embedding Projector** (projector.tensorflow.org, TensorBoard's projector): ``tensors.tsv`` (one row per code,
  tab-separated floats, no header), ``metadata.tsv`` (a header row, then one row per code; a file with a single
  column has no header, as the Projector expects), ``sprite.png`` (every thumbnail in a square grid, row by row,
  at most 8192 pixels a side) and ``projector_config.json`` / ``projector_config.pbtxt`` tying them together.
* **Embedding Atlas** (and latent-scope, which reads any table): one Parquet file with ``x``, ``y`` (the layout),
  ``label`` (class name), ``text`` (a line describing the point), ``vector`` (the code), ``image`` (PNG bytes in
  the ``{bytes, path}`` struct Atlas and Hugging Face datasets use) and optionally ``neighbors``
  (``{ids, distances}``, the exact latent neighbours, ids being row numbers of the file). Open it with
  ``embedding-atlas FILE --x x --y y --text text --image image --neighbors neighbors``.

Every export takes ``indices`` to write only a selection. Files are written atomically.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from latent_explorer.core.atomic import atomic_path, write_bytes_atomic, write_text_atomic
from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.jobs import Job, Progress, run_job

SPRITE_MAX_SIDE = 8192  # the Projector's limit for the sprite image
FORMATS = ("projector", "atlas", "codes")

Thumbnail = Callable[[int], np.ndarray]  # row → (H, W) or (H, W, 3) float in [0, 1]


class ExchangeError(LatentExplorerError):
    """An export for another tool that cannot be written (nothing to export, bad selection, unwritable place)."""


@dataclass
class ExportItems:
    """The rows an export writes: codes and what goes beside them, all of one length."""

    z: np.ndarray  # (N, d)
    ids: np.ndarray  # (N,) int64
    labels: np.ndarray | None = None
    class_names: list[str] | None = None
    layout: np.ndarray | None = None  # (N, 2)
    recon_error: np.ndarray | None = None
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    thumbnail: Thumbnail | None = None
    source_rows: np.ndarray | None = None  # rows of the full set; what `thumbnail` takes

    def __post_init__(self) -> None:
        n = len(self.z)
        for name in ("ids", "labels", "layout", "recon_error"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ExchangeError(f"'{name}' has {len(value)} rows, the codes have {n}")
        if self.source_rows is None:
            self.source_rows = np.arange(n)

    def __len__(self) -> int:
        return len(self.z)

    def label_text(self) -> list[str] | None:
        """Each row's class name (or id when the classes have no names)."""
        if self.labels is None:
            return None
        names = self.class_names or []
        return [names[i] if 0 <= i < len(names) else str(i) for i in np.asarray(self.labels, np.int64).tolist()]

    def subset(self, indices: np.ndarray | Sequence[int]) -> ExportItems:
        """Only the rows ``indices`` (in that order): the selection as its own export."""
        idx = np.asarray(indices, dtype=np.int64).ravel()
        if idx.size == 0:
            raise ExchangeError("the selection is empty", hint="select some points before exporting the selection")
        if idx.min() < 0 or idx.max() >= len(self):
            raise ExchangeError(f"the selection runs from {idx.min()} to {idx.max()}, but there are only "
                                f"{len(self)} points", hint="export the selection made on these codes")

        def pick(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else np.asarray(values)[idx]

        return replace(self, z=np.asarray(self.z)[idx], ids=np.asarray(self.ids)[idx], labels=pick(self.labels),
                       layout=pick(self.layout), recon_error=pick(self.recon_error),
                       attributes={k: np.asarray(v)[idx] for k, v in self.attributes.items()},
                       source_rows=np.asarray(self.source_rows)[idx])

    def thumbnail_of(self, row: int) -> np.ndarray | None:
        if self.thumbnail is None:
            return None
        return self.thumbnail(int(self.source_rows[row]))


def items_from_codes(codes, *, dataset=None, layout: np.ndarray | None = None, ids: np.ndarray | None = None,
                     class_names: Sequence[str] | None = None) -> ExportItems:
    """Export rows from `Codes` and, when there is one, the `Dataset` they encode (labels, names, thumbnails)."""
    names = class_names if class_names is not None else (dataset.class_names if dataset is not None else None)
    attrs = {}
    if dataset is not None and dataset.attributes is not None and dataset.attribute_names:
        attrs = dict(zip(dataset.attribute_names, dataset.attributes.T, strict=True))
    return ExportItems(z=codes.z, ids=np.arange(len(codes), dtype=np.int64) if ids is None else np.asarray(ids),
                       labels=codes.labels, class_names=list(names) if names is not None else None, layout=layout,
                       recon_error=codes.recon_error, attributes=attrs,
                       thumbnail=dataset.display_image if dataset is not None else None)


def items_from_codes_file(contents, layout: str | None = None, dataset=None) -> ExportItems:
    """Export rows from a read `CodesFile`; ``layout`` names one of its layouts (default: x/y, else the first)."""
    if layout is not None and layout not in contents.layouts:
        raise ExchangeError(f"the codes file has no layout '{layout}'", path=contents.source,
                            hint=f"choose one of: {', '.join(contents.layouts) or '(none: give another layout)'}")
    name = layout or ("xy" if "xy" in contents.layouts else next(iter(contents.layouts), None))
    thumbnail = _file_thumbnails(contents)
    if dataset is not None:  # ids are rows of the dataset the codes were encoded from
        ids = np.asarray(contents.ids)
        if len(ids) and (ids.min() < 0 or ids.max() >= len(dataset)):
            raise ExchangeError(f"the codes' ids run up to {int(ids.max())}, the dataset has {len(dataset)} images",
                                path=contents.source, hint="give the dataset these codes were encoded from")

        def thumbnail(row: int) -> np.ndarray:
            return dataset.display_image(int(ids[row]))

    return ExportItems(z=contents.codes.z, ids=contents.ids, labels=contents.codes.labels,
                       class_names=contents.class_names, layout=contents.layouts.get(name) if name else None,
                       recon_error=contents.codes.recon_error if contents.has_recon_error else None,
                       attributes=dict(contents.attributes), thumbnail=thumbnail)


def _file_thumbnails(contents) -> Thumbnail | None:
    """Thumbnails from a codes file's ``image`` bytes or ``image_path`` files, decoded as they are asked for."""
    if contents.images is None and contents.image_paths is None:
        return None

    def load(row: int) -> np.ndarray:
        from PIL import Image, UnidentifiedImageError

        try:
            if contents.images is not None and contents.images[row] is not None:
                image = Image.open(io.BytesIO(contents.images[row]))
            else:
                file = contents.image_file(row)
                if file is None:
                    raise ExchangeError(f"row {row} has no image", path=contents.source)
                image = Image.open(file)
            image.load()
        except (OSError, UnidentifiedImageError) as exc:
            raise ExchangeError(f"cannot read the thumbnail of row {row} ({exc})", path=contents.source,
                                hint="fix the image or image_path column, or export without images") from exc
        arr = np.asarray(image.convert("L" if image.mode in ("L", "1", "I;16") else "RGB"), np.float32) / 255.0
        return arr

    return load


# ------------------------------------------------------------------------------------------- helpers
def _to_uint8(image: np.ndarray) -> np.ndarray:
    arr = np.clip(np.asarray(image, np.float32), 0, 1)
    return np.round(arr * 255).astype(np.uint8)


def _tsv_field(text: str) -> str:
    return str(text).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def png_bytes(image: np.ndarray) -> bytes:
    """One (H, W) or (H, W, 3) image in [0, 1] as PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(_to_uint8(image)).save(buf, format="PNG")
    return buf.getvalue()


def sprite_grid(count: int, cell: tuple[int, int]) -> tuple[int, tuple[int, int]]:
    """Columns of the Projector's square sprite and the (H, W) of one cell, shrunk to fit 8192 pixels a side."""
    cols = max(1, math.ceil(math.sqrt(count)))
    h, w = cell
    scale = min(1.0, SPRITE_MAX_SIDE / (cols * max(h, w)))
    return cols, (max(1, int(h * scale)), max(1, int(w * scale)))


def iter_sprite(items: ExportItems) -> Job[np.ndarray]:
    """The sprite image (uint8, (S, S) or (S, S, 3)): thumbnails row by row, in the order of the rows."""
    if items.thumbnail is None:
        raise ExchangeError("these codes have no images for a sprite", hint="give the dataset, or export without "
                                                                            "the sprite")
    from PIL import Image

    n = len(items)
    first = np.asarray(items.thumbnail_of(0))
    cols, (ch, cw) = sprite_grid(n, first.shape[:2])
    colour = any(np.asarray(items.thumbnail_of(i)).ndim == 3 for i in range(min(n, 16)))
    sprite = np.zeros((cols * ch, cols * cw, 3) if colour else (cols * ch, cols * cw), np.uint8)
    yield Progress("sprite", 0, n)
    for i in range(n):
        thumb = _to_uint8(items.thumbnail_of(i))
        if colour and thumb.ndim == 2:
            thumb = np.repeat(thumb[:, :, None], 3, axis=2)
        elif not colour and thumb.ndim == 3:
            thumb = np.round(thumb.mean(axis=2)).astype(np.uint8)
        if thumb.shape[:2] != (ch, cw):
            thumb = np.asarray(Image.fromarray(thumb).resize((cw, ch), Image.BILINEAR))
        r, c = divmod(i, cols)
        sprite[r * ch:(r + 1) * ch, c * cw:(c + 1) * cw] = thumb
        if i % 2000 == 1999:
            yield Progress("sprite", i + 1, n)
    yield Progress("sprite", n, n)
    return sprite


# --------------------------------------------------------------------------------------- projector
def metadata_columns(items: ExportItems) -> dict[str, list[str]]:
    """The metadata.tsv columns: id, then label, recon_error, layout x/y and attributes where present."""
    cols: dict[str, list[str]] = {"id": [str(i) for i in np.asarray(items.ids).tolist()]}
    labels = items.label_text()
    if labels is not None:
        cols["label"] = labels
    if items.recon_error is not None:
        cols["recon_error"] = [f"{v:.6g}" for v in np.asarray(items.recon_error, np.float64).tolist()]
    for name, values in items.attributes.items():
        cols[name] = [f"{v:g}" for v in np.asarray(values, np.float64).tolist()]
    return cols


def iter_write_projector(folder: str | Path, items: ExportItems, sprite: bool = True,
                         tensor_name: str = "latent codes") -> Job[list[Path]]:
    """Write the Projector's files into ``folder``; the sprite only when the rows have thumbnails."""
    folder = Path(folder)
    if len(items) == 0:
        raise ExchangeError("there are no codes to export")
    if folder.exists() and not folder.is_dir():
        raise ExchangeError("the Projector export is a folder, and this is a file", path=folder,
                            hint="name a folder (it is created)")
    folder.mkdir(parents=True, exist_ok=True)
    yield Progress("Projector export", 0, None, "tensors")
    z = np.asarray(items.z, np.float32)
    buf = io.StringIO()
    np.savetxt(buf, z, fmt="%.7g", delimiter="\t")
    write_text_atomic(folder / "tensors.tsv", buf.getvalue())
    cols = metadata_columns(items)
    lines = [] if len(cols) == 1 else ["\t".join(cols)]  # a single column has no header row
    lines += ["\t".join(_tsv_field(v) for v in row) for row in zip(*cols.values(), strict=True)]
    write_text_atomic(folder / "metadata.tsv", "\n".join(lines) + "\n")
    written = [folder / "tensors.tsv", folder / "metadata.tsv"]
    embedding: dict = {"tensorName": tensor_name, "tensorShape": [int(z.shape[0]), int(z.shape[1])],
                       "tensorPath": "tensors.tsv", "metadataPath": "metadata.tsv"}
    if sprite and items.thumbnail is not None:
        image = yield from iter_sprite(items)
        cols_, cell = sprite_grid(len(items), np.asarray(items.thumbnail_of(0)).shape[:2])
        write_bytes_atomic(folder / "sprite.png", png_bytes(image.astype(np.float32) / 255.0))
        embedding["sprite"] = {"imagePath": "sprite.png", "singleImageDim": [cell[1], cell[0]]}
        written.append(folder / "sprite.png")
    write_text_atomic(folder / "projector_config.json", json.dumps({"embeddings": [embedding]}, indent=2) + "\n")
    pbtxt = [f'embeddings {{\n  tensor_name: "{tensor_name}"\n  tensor_path: "tensors.tsv"\n'
             f'  metadata_path: "metadata.tsv"\n']
    if "sprite" in embedding:
        w, h = embedding["sprite"]["singleImageDim"]
        pbtxt.append(f'  sprite {{\n    image_path: "sprite.png"\n    single_image_dim: {w}\n'
                     f'    single_image_dim: {h}\n  }}\n')
    pbtxt.append("}\n")
    write_text_atomic(folder / "projector_config.pbtxt", "".join(pbtxt))
    written += [folder / "projector_config.json", folder / "projector_config.pbtxt"]
    yield Progress("Projector export", 1, 1, "done")
    return written


def write_projector(folder: str | Path, items: ExportItems, sprite: bool = True) -> list[Path]:
    return run_job(iter_write_projector(folder, items, sprite=sprite))


# ------------------------------------------------------------------------------------------- atlas
def iter_write_atlas(path: str | Path, items: ExportItems, images: bool = True, neighbors: int = 0) -> Job[Path]:
    """Write one Parquet file for Embedding Atlas / latent-scope (see the module's docstring for the columns).

    Without a layout the first two principal components of the codes are the map. ``neighbors`` > 0 adds the
    exact latent neighbours of every row (among the exported rows).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from latent_explorer.core.codes_file import fixed_size_list

    if len(items) == 0:
        raise ExchangeError("there are no codes to export")
    if Path(path).suffix.lower() != ".parquet":
        raise ExchangeError("an Embedding Atlas export is a .parquet file", path=path, hint="name it *.parquet")
    z = np.asarray(items.z, np.float32)
    layout = items.layout
    if layout is None:
        from latent_explorer.core.projections import PCAModel

        layout = np.zeros((len(z), 2), np.float32)
        if len(z) >= 2:
            scores = PCAModel.fit(z).transform(z, 2)
            layout[:, :scores.shape[1]] = scores
    layout = np.asarray(layout, np.float32)
    labels = items.label_text()
    columns: dict[str, pa.Array] = {"id": pa.array(np.asarray(items.ids, np.int64)),
                                    "x": pa.array(layout[:, 0]), "y": pa.array(layout[:, 1])}
    if labels is not None:
        columns["label"] = pa.array(labels, pa.string())
    columns["text"] = pa.array([f"#{i}" + (f" {labels[r]}" if labels is not None else "")
                                for r, i in enumerate(np.asarray(items.ids).tolist())], pa.string())
    columns["vector"] = fixed_size_list(z)
    if items.recon_error is not None:
        columns["recon_error"] = pa.array(np.asarray(items.recon_error, np.float32))
    for name, values in items.attributes.items():
        columns[name if name not in columns else f"attr_{name}"] = pa.array(np.asarray(values, np.float32))
    if images and items.thumbnail is not None:
        blobs = []
        yield Progress("Atlas export: images", 0, len(items))
        for i in range(len(items)):
            blobs.append({"bytes": png_bytes(items.thumbnail_of(i)), "path": f"{int(items.ids[i])}.png"})
            if i % 2000 == 1999:
                yield Progress("Atlas export: images", i + 1, len(items))
        columns["image"] = pa.array(blobs, pa.struct([("bytes", pa.binary()), ("path", pa.string())]))
    if neighbors > 0:
        from latent_explorer.core.neighbors import iter_neighbors

        k = min(neighbors, len(items) - 1)
        if k < 1:
            raise ExchangeError("neighbours need at least two exported points")
        found = yield from iter_neighbors(z, k=k)
        columns["neighbors"] = pa.StructArray.from_arrays(
            [pa.array(list(found.indices), pa.list_(pa.int64())), pa.array(list(found.distances),
                                                                             pa.list_(pa.float32()))],
            names=["ids", "distances"])
    table = pa.table(columns)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def write_atlas(path: str | Path, items: ExportItems, images: bool = True, neighbors: int = 0) -> Path:
    return run_job(iter_write_atlas(path, items, images=images, neighbors=neighbors))


def atlas_command(path: str | Path, items: ExportItems, images: bool = True, neighbors: int = 0) -> str:
    """The command line that opens an Atlas export with its columns mapped."""
    parts = ["embedding-atlas", str(path), "--x", "x", "--y", "y", "--text", "text"]
    if images and items.thumbnail is not None:
        parts += ["--image", "image"]
    if neighbors > 0:
        parts += ["--neighbors", "neighbors"]
    return " ".join(parts)


# --------------------------------------------------------------------------------------- selections
def read_selection(path: str | Path, n_points: int) -> np.ndarray:
    """Row indices from a file: ``.npy``, a ``.csv``/``.npz`` with an ``index`` column (the window's selection
    export), or a text file of one index per line. Indices must exist among ``n_points``."""
    path = Path(path)
    if not path.exists():
        raise ExchangeError("no such selection file", path=path)
    suffix = path.suffix.lower()
    hint = "save the selection as .npy, as the window's selection .csv, or as one index per line"
    try:
        if suffix == ".npy":
            idx = np.load(path, allow_pickle=False)
        elif suffix in (".csv", ".npz"):
            from latent_explorer.core.export import read_table

            table = read_table(path)
            if "index" not in table:
                raise ExchangeError("the selection table has no 'index' column", path=path, hint=hint)
            idx = table["index"]
        else:
            idx = np.loadtxt(path, dtype=np.float64, ndmin=1)
    except ExchangeError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise ExchangeError(f"cannot read the selection ({exc})", path=path, hint=hint) from exc
    idx = np.asarray(idx).ravel()
    if idx.dtype.kind not in "iuf" or (idx.dtype.kind == "f" and not np.array_equal(idx, np.round(idx))):
        raise ExchangeError("the selection must hold whole row numbers", path=path, hint=hint)
    idx = idx.astype(np.int64)
    if idx.size == 0:
        raise ExchangeError("the selection is empty", path=path)
    if idx.min() < 0 or idx.max() >= n_points:
        raise ExchangeError(f"the selection names rows from {idx.min()} to {idx.max()}, the codes have "
                            f"{n_points} rows", path=path, hint="use a selection made on these codes")
    return idx


def write_codes_selection(path: str | Path, contents, indices: np.ndarray | None = None) -> Path:
    """A `CodesFile` (or only the rows ``indices``) written back in the codes schema, ids and layouts kept."""
    from latent_explorer.core.codes_file import write_codes
    from latent_explorer.core.encoding import Codes

    c = contents.codes
    idx = np.arange(len(c)) if indices is None else np.asarray(indices, np.int64)

    def pick(values):
        return None if values is None else np.asarray(values)[idx]

    subset = Codes(z=c.z[idx], mu=pick(c.mu), logvar=pick(c.logvar), labels=pick(c.labels),
                   recon_error=c.recon_error[idx], model_key=c.model_key, data_key=c.data_key)
    return write_codes(path, subset, class_names=contents.class_names, seed=contents.metadata.seed,
                       ids=contents.ids[idx], attributes={k: v[idx] for k, v in contents.attributes.items()},
                       layouts={k: v[idx] for k, v in contents.layouts.items()},
                       image_paths=None if contents.image_paths is None else [
                           str(contents.image_file(int(i)) or "") for i in idx],  # absolute: the file may move
                       images=None if contents.images is None else [contents.images[i] for i in idx],
                       recon_error=contents.has_recon_error)
