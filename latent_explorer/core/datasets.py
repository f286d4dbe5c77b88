"""Dataset loaders: sklearn digits, Fashion-MNIST (Debian), IDX pairs, .npz/.npy and image folders.

Every loader returns one `Dataset`. Images are kept as (N, C, H, W); uint8 stays uint8 (a 70,000
image set is 55 MB instead of 220 MB), floats are float32 in [0, 1]. Nothing is ever unpickled.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import struct
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latent_explorer.core.errors import DatasetError, LatentExplorerError, LimitError
from latent_explorer.core.jobs import Job, Progress, run_job
from latent_explorer.core.limits import Limits, current_limits
from latent_explorer.core.safe_files import load_npy_file, read_text_capped, read_zip_npy, regular_file

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
FASHION_SPEC = re.compile(r"fashion-mnist(?:[-:](all|train|test))?")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


@dataclass
class Dataset:
    """Images with optional class labels or attributes; what every view and model works on."""

    name: str
    images: np.ndarray  # (N, C, H, W), uint8 or float32 in [0, 1]
    labels: np.ndarray | None = None  # (N,) int64 class ids
    class_names: list[str] | None = None
    attributes: np.ndarray | None = None  # (N, A) float32, e.g. CelebA's ±1
    attribute_names: list[str] | None = None
    sample_names: list[str] | None = None
    source: str = ""
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason) not loaded
    _fingerprint: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.images.ndim != 4:
            raise DatasetError(f"images must be (N, C, H, W), got shape {self.images.shape}", path=self.source)
        n = len(self.images)
        if self.labels is not None and len(self.labels) != n:
            raise DatasetError(f"{len(self.labels)} labels for {n} images", path=self.source,
                               hint="give the labels file that belongs to these images")
        if self.attributes is not None and len(self.attributes) != n:
            raise DatasetError(f"{len(self.attributes)} attribute rows for {n} images", path=self.source)
        if self.labels is not None and self.class_names is None:
            self.labels, self.class_names = label_map(self.labels)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)

    def float_images(self, index: slice | np.ndarray | None = None) -> np.ndarray:
        """Images (or a subset) as float32 in [0, 1], NCHW: what a model takes."""
        part = self.images if index is None else self.images[index]
        if part.dtype == np.uint8:
            return part.astype(np.float32) / 255.0
        return np.asarray(part, dtype=np.float32)

    def display_image(self, i: int) -> np.ndarray:
        """One image as (H, W) or (H, W, 3) float32 in [0, 1], ready for an image view."""
        return chw_to_hwc(self.float_images(np.array([i]))[0])

    def fingerprint(self) -> str:
        """Content hash of images and labels: the key for cached encodings and saved sessions."""
        if self._fingerprint is None:
            h = hashlib.blake2b(digest_size=16)
            h.update(str(self.images.shape).encode() + str(self.images.dtype).encode())
            h.update(np.ascontiguousarray(self.images).data)
            if self.labels is not None:
                h.update(np.ascontiguousarray(self.labels).data)
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def subset(self, index: np.ndarray, name: str | None = None) -> Dataset:
        pick = np.asarray(index)
        return Dataset(
            name=name or f"{self.name}[{len(pick)}]",
            images=self.images[pick],
            labels=None if self.labels is None else self.labels[pick],
            class_names=self.class_names,
            attributes=None if self.attributes is None else self.attributes[pick],
            attribute_names=self.attribute_names,
            sample_names=None if self.sample_names is None else [self.sample_names[i] for i in pick],
            source=self.source,
        )


def label_map(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Class ids 0..K-1 and one name per label that occurs, instead of one per integer up to the largest.

    Labels that already are 0..K-1 (all occurring) stay as they are; others — {3, 7}, {0, 10**12} — are mapped
    in order to 0..K-1, each named by its original value, so a label of 10**12 costs one name, not 10**12.
    """
    labels = np.asarray(labels)
    if len(labels) == 0:
        return labels.astype(np.int64), []
    values, ids = np.unique(labels, return_inverse=True)
    names = [str(v) for v in values.tolist()]
    if values.dtype.kind in "iu" and values[0] == 0 and values[-1] == len(values) - 1:
        return labels.astype(np.int64), names
    return ids.reshape(labels.shape).astype(np.int64), names


def chw_to_hwc(image: np.ndarray) -> np.ndarray:
    """(C, H, W) → (H, W) for one channel, (H, W, 3) for colour."""
    if image.shape[0] == 1:
        return image[0]
    return np.moveaxis(image[:3], 0, -1)


# --------------------------------------------------------------------------------------------- arrays
def as_image_array(array: np.ndarray, source: str = "") -> np.ndarray:
    """Bring an image array of any usual layout to (N, C, H, W), uint8 or float32 in [0, 1]."""
    arr = np.asarray(array)
    if arr.dtype == object or arr.dtype.kind not in "uif b":
        raise DatasetError(f"images have dtype {arr.dtype}; numbers were expected", path=source,
                           hint="save the images as a numeric array (uint8 or float)")
    if arr.ndim >= 2 and 0 in arr.shape[1:]:
        raise DatasetError(f"the images have shape {arr.shape}: a dimension of 0 means no pixels", path=source,
                           hint="save images as (N, H, W), (N, C, H, W) or (N, H, W, C) with every side at least 1")
    if arr.ndim == 2:  # (N, D) flattened square images
        side = int(round(np.sqrt(arr.shape[1])))
        if side * side != arr.shape[1]:
            raise DatasetError(f"flat images of length {arr.shape[1]} are not square", path=source,
                               hint="reshape to (N, H, W) before saving")
        arr = arr.reshape(len(arr), 1, side, side)
    elif arr.ndim == 3:
        arr = arr[:, None]
    elif arr.ndim == 4:
        if arr.shape[1] not in (1, 3) and arr.shape[-1] in (1, 3, 4):
            arr = np.moveaxis(arr[..., :3] if arr.shape[-1] == 4 else arr, -1, 1)
    else:
        raise DatasetError(f"images must have 2 to 4 dimensions, got shape {arr.shape}", path=source)
    if arr.shape[1] not in (1, 3):
        raise DatasetError(f"images have {arr.shape[1]} channels; 1 (grey) or 3 (RGB) expected", path=source)
    if len(arr) == 0:
        raise DatasetError("the array holds no images", path=source)
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise DatasetError("images contain NaN or infinite values", path=source)
    lo, hi = float(arr.min()), float(arr.max())
    if lo >= 0 and hi <= 1:
        return np.ascontiguousarray(arr)
    if lo >= 0 and hi <= 255 and np.all(arr == np.round(arr)):
        return arr.astype(np.uint8)
    if lo >= -1 and hi <= 1:
        return np.ascontiguousarray((arr + 1) / 2)
    return np.ascontiguousarray((arr - lo) / max(hi - lo, 1e-12))


def as_labels(array: np.ndarray | None, n: int, source: str = "") -> np.ndarray | None:
    """Class ids (N,) int64 ≥ 0 from integer, whole-float or one-hot labels (string labels: `read_labels`)."""
    return read_labels(array, n, source)[0]


def read_labels(array: np.ndarray | None, n: int, source: str = "") -> tuple[np.ndarray | None, list[str] | None]:
    """Class ids and, for string labels ("cat", "dog"), the class names they stand for."""
    if array is None:
        return None, None
    arr = np.asarray(array)
    if arr.dtype.kind in "US" and arr.ndim == 1:
        if len(arr) != n:
            raise DatasetError(f"{len(arr)} labels for {n} images", path=source,
                               hint="the labels must be one per image, in the same order")
        values, ids = np.unique(arr, return_inverse=True)
        names = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values.tolist()]
        return ids.astype(np.int64), names
    if arr.dtype == object or arr.dtype.kind not in "uifb":
        raise DatasetError(f"labels have dtype {arr.dtype}; class ids (integers) or names (strings) were expected",
                           path=source, hint="save labels as integers")
    if len(arr) != n:
        raise DatasetError(f"{len(arr)} labels for {n} images", path=source,
                           hint="the labels must be one per image, in the same order")
    if arr.ndim > 1:
        arr = arr.reshape(len(arr), -1)
        arr = arr.argmax(axis=1) if arr.shape[1] > 1 else arr.ravel()  # one-hot rows → class ids
    if len(arr) != n:
        raise DatasetError(f"{len(arr)} labels for {n} images", path=source,
                           hint="the labels must be one per image, in the same order")
    if arr.dtype.kind == "f" and not (np.isfinite(arr).all() and np.all(arr == np.round(arr))
                                      and np.abs(arr).max(initial=0) < 2.0**62):
        raise DatasetError("labels are not whole numbers", path=source, hint="save labels as integers ≥ 0")
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 8 and n and int(arr.max()) >= 2**63:
        raise DatasetError("labels exceed the largest class id (2**63 - 1)", path=source)
    arr = arr.astype(np.int64)
    if n and arr.min() < 0:
        raise DatasetError("labels must be class ids ≥ 0", path=source)
    return arr, None


# ------------------------------------------------------------------------------------------------ IDX
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path, limits: Limits | None = None) -> np.ndarray:
    """Read one IDX file (MNIST format), gzipped or not, checking magic number and length.

    The header's dimensions are checked against the file size (plain files) or the memory budget (gzip) before
    the body is allocated, and a gzip body is decompressed as a stream that stops at the promised size.
    """
    path = regular_file(path, "IDX file", DatasetError)
    limits = limits or current_limits()
    gzipped = path.suffix == ".gz"
    try:
        with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as fh:
            magic = fh.read(4)
            if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES:
                raise DatasetError("not an IDX file (bad magic number)", path=path,
                                   hint="IDX files start with 0x00 0x00, a type byte and the number of dimensions")
            ndim = magic[3]
            raw_dims = fh.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise DatasetError("IDX header is truncated", path=path, hint="download the file again")
            dims = struct.unpack(f">{ndim}I", raw_dims)
            dtype = np.dtype(_IDX_DTYPES[magic[2]])
            expected = dtype.itemsize
            for d in dims:
                expected *= int(d)
            if not gzipped and path.stat().st_size - 4 - 4 * ndim != expected:
                raise DatasetError(f"IDX body has {path.stat().st_size - 4 - 4 * ndim} bytes, the header promises "
                                   f"{expected} for {dims}", path=path,
                                   hint="the file is truncated or corrupt; download it again")
            if gzipped:
                limits.check_expansion(expected, path.stat().st_size, f"the IDX body {dims}", path)
            limits.check_allocation(expected, f"the IDX array {dims}", path)
            body = bytearray(expected)
            got = 0
            view = memoryview(body)
            while got < expected:
                n = fh.readinto(view[got:])
                if not n:
                    break
                got += n
            trailing = fh.read(1)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"cannot read IDX file ({type(exc).__name__}: {exc})", path=path,
                           hint="the file is truncated or not gzip; download it again") from exc
    if got != expected or trailing:
        raise DatasetError(f"IDX body has {'more than ' if trailing else ''}{got} bytes, the header promises "
                           f"{expected} for {dims}", path=path,
                           hint="the file is truncated or corrupt; download it again")
    return np.frombuffer(body, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def guess_idx_labels(images_path: Path) -> Path | None:
    """``train-images-idx3-ubyte[.gz]`` → the matching ``train-labels-idx1-ubyte[.gz]`` if it exists."""
    name = images_path.name
    for a, b in (("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1"), ("images", "labels")):
        if a in name:
            for candidate in (name.replace(a, b), name.replace(a, b).removesuffix(".gz"),
                              name.replace(a, b) + ".gz"):
                p = images_path.with_name(candidate)
                if p.exists() and p != images_path:
                    return p
    return None


def load_idx(images: str | Path, labels: str | Path | None = None, class_names: list[str] | None = None,
             name: str | None = None) -> Dataset:
    images = Path(images)
    labels_path = Path(labels) if labels else guess_idx_labels(images)
    x = as_image_array(read_idx(images), str(images))
    y, names = read_labels(read_idx(labels_path), len(x), str(labels_path)) if labels_path else (None, None)
    return Dataset(name=name or images.name.split(".")[0], images=x, labels=y, class_names=class_names or names,
                   source=str(images))


def find_fashion_mnist(root: Path = FASHION_MNIST_DIR) -> list[tuple[Path, Path]]:
    """(images, labels) file pairs of Debian's dataset-fashion-mnist, train first, then test."""
    pairs = []
    for split in ("train", "t10k"):
        for suffix in (".gz", ""):
            img = root / f"{split}-images-idx3-ubyte{suffix}"
            lab = root / f"{split}-labels-idx1-ubyte{suffix}"
            if img.exists() and lab.exists():
                pairs.append((img, lab))
                break
    return pairs


def fashion_mnist_available(root: Path = FASHION_MNIST_DIR) -> bool:
    return len(find_fashion_mnist(root)) == 2


def load_fashion_mnist(root: Path = FASHION_MNIST_DIR, split: str = "all") -> Dataset:
    """Fashion-MNIST from the Debian package: 60,000 train + 10,000 test images, 10 classes."""
    pairs = find_fashion_mnist(root)
    if len(pairs) < 2:
        raise DatasetError("Fashion-MNIST is not installed", path=root,
                           hint="apt-get install dataset-fashion-mnist (Debian/Ubuntu)")
    chosen = {"all": pairs, "train": pairs[:1], "test": pairs[1:]}[split]
    parts = [load_idx(i, lab) for i, lab in chosen]
    return Dataset(name="fashion-mnist" if split == "all" else f"fashion-mnist-{split}",
                   images=np.concatenate([p.images for p in parts]),
                   labels=np.concatenate([p.labels for p in parts]),
                   class_names=list(FASHION_MNIST_CLASSES), source="fashion-mnist")


def load_digits() -> Dataset:
    """scikit-learn's 1,797 8×8 digits (values 0–16, scaled to 0–255), always available offline."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    return Dataset(name="digits", images=x, labels=bunch.target.astype(np.int64),
                   class_names=[str(d) for d in range(10)], source="digits")


# ------------------------------------------------------------------------------------------ npz / npy
def load_npz(path: str | Path, x_key: str | None = None, y_key: str | None = None,
             class_names: list[str] | None = None) -> Dataset:
    """A .npz archive: Keras ``mnist.npz`` (x_train/y_train/x_test/y_test) or arrays the user names."""
    path = regular_file(path, ".npz archive", DatasetError)
    with open(path, "rb") as fh:
        if fh.read(6) == b"\x93NUMPY":
            raise DatasetError("this is a single .npy array, not an .npz archive", path=path,
                               hint="rename it to .npy, or save the arrays with numpy.savez")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise DatasetError(f"cannot read .npz archive ({exc})", path=path,
                           hint="the file is truncated or not an .npz; save it again with numpy.savez") from exc
    with archive:
        return _dataset_from_npz(archive, path, x_key, y_key, class_names, current_limits())


def _dataset_from_npz(archive: zipfile.ZipFile, path: Path, x_key: str | None, y_key: str | None,
                      class_names: list[str] | None, limits: Limits) -> Dataset:
    """The arrays an .npz names, each read through its declared size (and all together within the budget)."""
    try:
        members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()
                   if info.filename.endswith(".npy")}
        keys = list(members)
        used = [0]

        def get(key: str) -> np.ndarray:
            info = members[key]
            used[0] += int(info.file_size)
            limits.check_allocation(used[0], "the arrays read from this archive", path)
            try:
                return read_zip_npy(archive, info, path, limits)
            except LimitError:
                raise
            except LatentExplorerError as exc:
                raise DatasetError(f"array '{key}': {exc.message}", path=path, hint=exc.hint) from exc

        if x_key is None and {"x_train", "x_test"} <= set(keys):
            x = np.concatenate([get("x_train"), get("x_test")])
            y = None
            if {"y_train", "y_test"} <= set(keys):
                y = np.concatenate([get("y_train"), get("y_test")])
        else:
            x_key = x_key or next((k for k in ("x", "images", "X", "data", "arr_0") if k in keys), None)
            if x_key is None or x_key not in keys:
                raise DatasetError(f"no image array found; the archive holds {keys}", path=path,
                                   hint="name the image array (--x-key) and the labels (--y-key)")
            x = get(x_key)
            if y_key is None:
                y_key = next((k for k in ("y", "labels", "targets", "arr_1") if k in keys), None)
            elif y_key not in keys:
                raise DatasetError(f"no array '{y_key}'; the archive holds {keys}", path=path)
            y = get(y_key) if y_key else None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
        raise DatasetError(f"cannot read .npz archive ({type(exc).__name__}: {exc})", path=path,
                           hint="the file is truncated or not an .npz; save it again with numpy.savez") from exc
    images = as_image_array(x, str(path))
    labels, names = read_labels(y, len(images), str(path))
    return Dataset(name=path.stem, images=images, labels=labels, class_names=class_names or names, source=str(path))


def load_npy(path: str | Path, labels: str | Path | None = None, class_names: list[str] | None = None) -> Dataset:
    path = Path(path)
    x = _read_npy(path)
    y = _read_npy(Path(labels)) if labels else None
    images = as_image_array(x, str(path))
    y_ids, names = read_labels(y, len(images), str(labels))
    return Dataset(name=path.stem, images=images, labels=y_ids, class_names=class_names or names, source=str(path))


def _read_npy(path: Path) -> np.ndarray:
    """A .npy file whose header is checked against its size and the budget before the array is allocated."""
    try:
        return load_npy_file(path, error=DatasetError)
    except LimitError:
        raise
    except LatentExplorerError as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(exc.message, path=path, hint=exc.hint) from exc


# -------------------------------------------------------------------------------------- image folders
def read_celeba_attributes(path: str | Path) -> tuple[list[str], dict[str, np.ndarray]]:
    """``list_attr_celeba.txt``: a count line, the attribute names, then ``file ±1 ±1 …`` rows."""
    path = Path(path)
    try:
        lines = read_text_capped(path, "attribute file", DatasetError).splitlines()
        count = int(lines[0].strip())
        names = lines[1].split()
        rows: dict[str, np.ndarray] = {}
        for line in lines[2:2 + count]:
            parts = line.split()
            if not parts:
                continue
            if len(parts) != len(names) + 1:
                raise ValueError(f"row for {parts[0]} has {len(parts) - 1} values, expected {len(names)}")
            rows[parts[0]] = np.array([float(v) for v in parts[1:]], dtype=np.float32)
    except (OSError, ValueError, IndexError) as exc:
        raise DatasetError(f"cannot read attribute file ({exc})", path=path,
                           hint="expected CelebA's list_attr_celeba.txt layout") from exc
    return names, rows


def list_image_folder(root: Path, limit: int | None = None) -> tuple[list[tuple[Path, int | None]], list[Path]]:
    """The image files of a folder with their class (sub-folder index, None when flat), and the class folders.

    Shared by the in-process loader and the distributed encoder, so both see the same files in the same order.
    Only regular files count: a pipe named x.png would block the loader forever.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError("not a folder", path=root)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise DatasetError(f"limit = {limit!r}: at least one image must be loaded", path=root,
                           hint="give a whole number ≥ 1, or no limit")
    subdirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    files: list[tuple[Path, int | None]] = []
    if subdirs:
        for cls, d in enumerate(subdirs):
            files += [(f, cls) for f in sorted(d.rglob("*")) if _is_image_file(f)]
    files += [(f, None) for f in sorted(root.iterdir()) if _is_image_file(f)]
    if any(c is None for _, c in files) and any(c is not None for _, c in files):
        files = [(f, c) for f, c in files if c is not None]  # loose files beside class folders: ignore
    if limit is not None:
        files = files[:limit]
    if not files:
        raise DatasetError("no images found", path=root, hint=f"supported: {', '.join(sorted(IMAGE_SUFFIXES))}")
    return files, subdirs


def guess_image_options(files: list[tuple[Path, int | None]], shape: tuple[int, int] | None,
                        mode: str) -> tuple[tuple[int, int], str]:
    """``shape`` (H, W) and ``mode`` ("L"/"RGB") where not given: from the first 200 files' headers."""
    from PIL import Image, UnidentifiedImageError

    unreadable = (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError)
    if shape is None or mode == "auto":
        sizes: Counter = Counter()
        modes: Counter = Counter()
        for f, _ in files[:200]:
            try:
                with Image.open(f) as im:
                    sizes[im.size] += 1
                    modes[im.mode] += 1
            except unreadable:
                pass
        if shape is None:
            (w, h), _ = sizes.most_common(1)[0] if sizes else ((64, 64), 0)
            shape = (h, w) if max(w, h) <= 128 else (64, 64)
        if mode == "auto":
            mode = "L" if set(modes) <= {"L", "1", "I", "I;16", "LA"} else "RGB"
    return shape, mode


def iter_load_image_folder(root: str | Path, shape: tuple[int, int] | None = None, mode: str = "auto",
                           attributes: str | Path | None = None, limit: int | None = None) -> Job[Dataset]:
    """Load a folder of images (one sub-folder per class, or flat), centre-cropped and resized to ``shape``.

    Unreadable files, and images over the pixel limit, are skipped and listed in ``Dataset.skipped``. ``mode`` is
    "L", "RGB" or "auto". The images are decoded once, on a thread pool, into the on-disk cache (`image_cache`)
    and memory-mapped from there.
    """
    from latent_explorer.core.image_cache import iter_cache_images

    root = Path(root)
    limits = current_limits()
    if shape is not None:
        check_image_size(shape, limits, root)
    files, subdirs = list_image_folder(root, limit)
    yield Progress("scanning", 0, len(files), f"{len(files)} image files")
    shape, mode = guess_image_options(files, shape, mode)
    h, w = shape
    channels = 1 if mode == "L" else 3
    limits.check_allocation(len(files) * channels * h * w, f"{len(files):,} images of {channels}×{h}×{w}", root)
    max_pixels = limits.max_image_pixels
    cached = yield from iter_cache_images([f for f, _ in files], (channels, h, w),
                                          lambda f: decode_image_file(f, mode, w, h, max_pixels),
                                          options=image_options_key(mode), root=root)
    skipped = cached.skipped
    images = cached.images
    labels = [-1 if files[i][1] is None else files[i][1] for i in cached.kept]
    prefix = len(str(root)) + 1  # every file lies under root; slicing is 10× faster than relative_to
    names = [str(files[i][0])[prefix:] for i in cached.kept]
    n = len(images)
    if n == 0:
        raise DatasetError(f"none of the {len(files)} images could be read", path=root,
                           hint=f"first problem: {skipped[0][0]}: {skipped[0][1]}" if skipped else None)
    attr_names, attr = None, None
    if attributes is not None:
        attr_names, rows = read_celeba_attributes(attributes)
        attr = np.zeros((n, len(attr_names)), dtype=np.float32)
        missing = 0
        for j, name in enumerate(names):
            row = rows.get(Path(name).name)
            if row is None:
                missing += 1
            else:
                attr[j] = row
        if missing == n:
            raise DatasetError("no image file name appears in the attribute file", path=attributes)
    yield Progress("loading images", len(files), len(files))
    has_classes = subdirs and all(lab >= 0 for lab in labels)
    label_array = np.array(labels, dtype=np.int64) if has_classes else None
    return Dataset(name=root.name, images=images, labels=label_array,
                   class_names=[d.name for d in subdirs] if has_classes else None,
                   attributes=attr, attribute_names=attr_names, sample_names=names, source=str(root),
                   skipped=skipped, _fingerprint=cached.fingerprint(label_array))


def image_options_key(mode: str) -> str:
    """What besides size changes the decoded pixels: the mode and this decoder's version (crop, resampling)."""
    return f"{mode}|fit-lanczos-1"


def decode_image_file(path: Path, mode: str, w: int, h: int, max_pixels: int | None = None) -> np.ndarray | str:
    """One file as (C, H, W) uint8, or the reason it cannot be read (called from the decoding threads).

    An image with more than ``max_pixels`` pixels is refused from its header, before it is decoded.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            if max_pixels is not None and im.size[0] * im.size[1] > max_pixels:
                iw, ih = im.size
                return (f"{iw}×{ih} pixels is more than the limit of {max_pixels:,} "
                        "(LATENT_EXPLORER_MAX_IMAGE_PIXELS)")
            im = _to_8bit(im).convert(mode)
            return _fit(im, w, h).reshape(h, w, -1).transpose(2, 0, 1)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return str(exc) or type(exc).__name__


def _is_image_file(path: Path) -> bool:
    """An image by its suffix, and a regular file: a pipe named x.png would block the loader forever."""
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


def check_image_size(shape: tuple[int, int], limits: Limits, source: object = None) -> tuple[int, int]:
    """An (H, W) to resize images to: whole numbers from 1 to the side limit."""
    if (not isinstance(shape, (tuple, list)) or len(shape) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in shape)):
        raise DatasetError(f"shape = {shape!r}: expected (height, width) as two whole numbers", path=source,
                           hint="e.g. --shape 64x64")
    h, w = int(shape[0]), int(shape[1])
    if not (1 <= h <= limits.max_image_side and 1 <= w <= limits.max_image_side):
        raise DatasetError(f"shape {h}x{w}: each side must be from 1 to {limits.max_image_side} pixels", path=source,
                           hint="e.g. --shape 64x64")
    return h, w


def _to_8bit(im):
    """16-bit and float grey images scaled to 8 bits (``convert("L")`` would clip them to white)."""
    from PIL import Image

    if im.mode not in ("I", "F") and not im.mode.startswith("I;16"):
        return im
    values = np.asarray(im, dtype=np.float64)
    top = 65535.0 if im.mode.startswith("I;16") or (im.mode == "I" and values.max() > 255) else 255.0
    if im.mode == "F":
        top = 1.0 if values.max() <= 1.0 else max(float(values.max()), 1e-12)
    return Image.fromarray(np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")


def _fit(im, w: int, h: int) -> np.ndarray:
    """Centre-crop to the target aspect ratio, then resize."""
    from PIL import Image

    iw, ih = im.size
    target = w / h
    if iw / ih > target:
        cw = int(round(ih * target))
        im = im.crop(((iw - cw) // 2, 0, (iw - cw) // 2 + cw, ih))
    elif iw / ih < target:
        ch = int(round(iw / target))
        im = im.crop((0, (ih - ch) // 2, iw, (ih - ch) // 2 + ch))
    if im.size != (w, h):
        im = im.resize((w, h), Image.Resampling.LANCZOS)
    return np.asarray(im, dtype=np.uint8)


# ------------------------------------------------------------------------------------------- dispatch
def iter_load_dataset(spec: str | Path, **options) -> Job[Dataset]:
    """Load what ``spec`` names: ``digits``, ``fashion-mnist[-train|-test]`` or a file/folder path."""
    text = str(spec)
    if text == "digits":
        return load_digits()
    builtin = FASHION_SPEC.fullmatch(text)
    if builtin:
        return load_fashion_mnist(split=builtin.group(1) or "all")
    if text.startswith("fashion-mnist-") and not Path(text).exists():
        raise DatasetError(f"unknown Fashion-MNIST split in '{text}'", hint="use fashion-mnist, -train or -test")
    path = Path(text).expanduser()
    if not path.exists():
        raise DatasetError("no such file or folder", path=path,
                           hint="name 'digits', 'fashion-mnist', an IDX/.npz/.npy file or an image folder")
    if path.is_dir():
        idx = sorted(path.glob("*images*idx3*"))
        if idx:
            parts = [load_idx(p) for p in idx if "t10k" not in p.name] + [load_idx(p) for p in idx if "t10k" in p.name]
            labels, names = (None, None) if any(p.labels is None for p in parts) else _join_labels(parts)
            return Dataset(name=path.name, images=np.concatenate([p.images for p in parts]), labels=labels,
                           class_names=options.get("class_names") or names, source=str(path))
        return (yield from iter_load_image_folder(path, shape=options.get("shape"), mode=options.get("mode", "auto"),
                                                  attributes=options.get("attributes"), limit=options.get("limit")))
    regular_file(path, "dataset file", DatasetError)  # /dev/zero, FIFOs and sockets never end
    name = path.name.lower()
    if name.endswith(".npz"):
        return load_npz(path, options.get("x_key"), options.get("y_key"), options.get("class_names"))
    if name.endswith(".npy"):
        return load_npy(path, options.get("labels"), options.get("class_names"))
    if "idx" in name or name.endswith("ubyte") or name.endswith("ubyte.gz"):
        return load_idx(path, options.get("labels"), options.get("class_names"))
    raise DatasetError("cannot tell the format of this file", path=path,
                       hint="use an IDX (.idx3-ubyte[.gz]), .npz, .npy file or an image folder")


def _join_labels(parts: list[Dataset]) -> tuple[np.ndarray, list[str]]:
    """One label map for several parts, each mapped on its own (train may lack a class that test has)."""
    def order(name: str) -> tuple[int, int, str]:
        return (0, int(name), "") if name.lstrip("-").isdigit() else (1, 0, name)

    names = sorted({n for p in parts for n in p.class_names or []}, key=order)
    index = {n: i for i, n in enumerate(names)}
    ids = [np.array([index[n] for n in p.class_names], dtype=np.int64)[p.labels] for p in parts]
    return np.concatenate(ids), names


def load_dataset(spec: str | Path, **options) -> Dataset:
    return run_job(iter_load_dataset(spec, **options))


def default_dataset_spec() -> str:
    return "fashion-mnist" if fashion_mnist_available() else "digits"
