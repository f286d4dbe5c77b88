"""Decode image files once, in parallel, into an on-disk uint8 array that every later load memory-maps.

A folder of 200,000 images takes minutes to decode and gigabytes to hold; decoding it again at every start, into
one in-memory array, does not scale. Here the files are decoded by a thread pool (Pillow releases the GIL while it
decodes and resizes) straight into a ``.npy`` file under the user's cache folder, and the dataset's images are a
read-only memory map of it: a thumbnail or an encoder batch reads only its own rows.

The cache entry is keyed by the folder's content (every file's name, size and modification time) and by the
options that change the pixels (size, channels, mode, the caller's decoder version), so an edited folder or another
``--shape`` gets its own entry and nothing stale is served. Filling is resumable: progress is checkpointed every
few seconds (data synced before the checkpoint that marks it done), so a cancelled or killed load continues where
it stopped. ``complete.json`` is written last; an entry without it is never served as complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latent_explorer.core.atomic import atomic_path, write_text_atomic
from latent_explorer.core.errors import DatasetError
from latent_explorer.core.jobs import Job, Progress

CACHE_VERSION = 1
CHUNK_FILES = 64  # files per pool task: large enough to amortise the task, small enough to cancel promptly
CHECKPOINT_SECONDS = 5.0
COPY_ROWS = 4096  # rows per step when compacting, so compaction memory stays small

# status of each file in ``status.npy``
PENDING, DONE, SKIPPED = 0, 1, 2

Decoder = Callable[[Path], "np.ndarray | str"]
"""Decodes one file to a (C, H, W) uint8 array, or returns why it cannot be read (the file is then skipped)."""


def image_cache_root() -> Path:
    """``$LATENT_EXPLORER_CACHE/images`` when set (tests, shared machines), else the platform's user cache."""
    override = os.environ.get("LATENT_EXPLORER_CACHE")
    if override:
        return Path(override) / "images"
    import platformdirs

    return Path(platformdirs.user_cache_dir("latent-explorer")) / "images"


@dataclass
class CachedImages:
    """The decoded images of a file list: a read-only memory map plus what was left out."""

    images: np.ndarray  # (n, C, H, W) uint8, memory-mapped (in memory only when the cache cannot be written)
    kept: np.ndarray  # (n,) int64: index in the file list of each image row
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    folder: Path | None = None  # the cache entry; None when the cache could not be written
    from_cache: bool = False

    def fingerprint(self, labels: np.ndarray | None) -> str:
        """`Dataset.fingerprint` of these images and ``labels``, hashed once and remembered in the cache entry.

        Hashing 2.4 GB at every start would cost seconds; the entry's content never changes once complete.
        """
        label_key = "none" if labels is None else hashlib.blake2b(np.ascontiguousarray(labels).data,
                                                                  digest_size=8).hexdigest()
        memo = self.folder / f"fingerprint-{label_key}.txt" if self.folder is not None else None
        if memo is not None and memo.exists():
            with contextlib.suppress(OSError):
                return memo.read_text().strip()
        value = dataset_fingerprint(self.images, labels)
        if memo is not None:
            with contextlib.suppress(OSError):
                write_text_atomic(memo, value)
        return value


def dataset_fingerprint(images: np.ndarray, labels: np.ndarray | None) -> str:
    """The same hash as `Dataset.fingerprint`, read in chunks so that a memory map is never loaded whole."""
    h = hashlib.blake2b(digest_size=16)
    h.update(str(images.shape).encode() + str(images.dtype).encode())
    filename = getattr(images, "filename", None)
    if isinstance(images, np.memmap) and filename and isinstance(images.base, mmap.mmap):  # the whole file's map
        # read the file instead of the map: mapped pages would stay in this process's resident memory
        remaining = images.nbytes
        with open(filename, "rb") as fh:
            fh.seek(images.offset)
            while remaining > 0:
                block = fh.read(min(remaining, 1 << 24))
                if not block:
                    raise DatasetError("the image cache file is shorter than its header says", path=filename,
                                       hint="delete this cache entry; it is rebuilt at the next load")
                h.update(block)
                remaining -= len(block)
    else:
        for start in range(0, len(images), COPY_ROWS):
            h.update(np.ascontiguousarray(images[start:start + COPY_ROWS]).data)
    if labels is not None:
        h.update(np.ascontiguousarray(labels).data)
    return h.hexdigest()


def cache_key(files: Sequence[Path], image_shape: tuple[int, int, int], options: str,
              root: Path | None = None) -> Iterator[Progress | str]:
    """Yield progress while the files are examined, then the key (a hex string) as the last item."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"v{CACHE_VERSION}|{image_shape}|{options}|{len(files)}".encode())
    prefix = str(root) + os.sep if root is not None else ""
    lines = []
    for i, f in enumerate(files):
        name = str(f)  # plain strings: pathlib costs more than the stat itself at 200,000 files
        try:
            st = os.stat(name)
            size, mtime = st.st_size, st.st_mtime_ns
        except OSError:
            size, mtime = -1, -1  # a vanished file: decoding it will fail and list it as skipped
        lines.append(f"{name[len(prefix):] if prefix and name.startswith(prefix) else name}\0{size}\0{mtime}\n")
        if i % 20000 == 0:
            h.update("".join(lines).encode())
            lines.clear()
            yield Progress("checking files", i, len(files))
    h.update("".join(lines).encode())
    yield h.hexdigest()


def iter_cache_images(files: Sequence[Path], image_shape: tuple[int, int, int], decode: Decoder, *,
                      options: str, root: Path | None = None, workers: int | None = None,
                      cache_root: Path | None = None) -> Job[CachedImages]:
    """Serve ``files`` decoded by ``decode`` from the cache, filling (or resuming) the entry first.

    ``options`` names everything besides the files that changes the pixels (size, mode, decoder version).
    Closing the job cancels it; what was decoded so far is kept and the next call continues from there.
    Memory: the pool holds at most ``2 × workers × CHUNK_FILES`` decoded images; the rest is on disk.
    """
    files = [f if isinstance(f, Path) else Path(f) for f in files]
    if not files:
        raise DatasetError("no image files to load", path=root)
    key = None
    for item in cache_key(files, image_shape, options, root):
        if isinstance(item, Progress):
            yield item
        else:
            key = item
    entry = (cache_root or image_cache_root()) / str(key)
    complete = _open_complete(entry)
    if complete is not None:
        yield Progress("loading images", len(files), len(files), f"{len(complete.images)} images from the cache")
        return complete
    try:
        entry.mkdir(parents=True, exist_ok=True)
        lock = _Lock(entry / "lock")
    except OSError:
        return (yield from _fill_in_memory(files, image_shape, decode, workers))  # read-only cache: decode only
    with lock:
        yield from lock.wait()
        complete = _open_complete(entry)  # another process may have finished it while we waited
        if complete is not None:
            return complete
        return (yield from _fill_entry(entry, files, image_shape, decode, workers))


# ------------------------------------------------------------------------------------------------ filling
def _pool_size(workers: int | None) -> int:
    if workers:
        return max(1, int(workers))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _fill_entry(entry: Path, files: list[Path], image_shape: tuple[int, int, int], decode: Decoder,
                workers: int | None) -> Job[CachedImages]:
    n = len(files)
    row_bytes = int(np.prod(image_shape))
    filling = entry / "filling.npy"
    status_path = entry / "status.npy"
    reasons_path = entry / "reasons.json"
    status, reasons = _read_progress(status_path, reasons_path, n)
    if status is None or not filling.exists():
        status, reasons = np.zeros(n, np.int8), {}
        _check_space(entry, n * row_bytes)
        with contextlib.suppress(FileNotFoundError):
            filling.unlink()
        header = np.lib.format.open_memmap(filling, mode="w+", dtype=np.uint8, shape=(n, *image_shape))
        del header  # a sparse file of the full size: rows are written into it by offset
    offset = _npy_data_offset(filling)
    pending = np.flatnonzero(status == PENDING)
    resumed = n - len(pending)
    yield Progress("loading images", resumed, n, f"resuming: {resumed} of {n} already decoded" if resumed else "")
    fd = os.open(filling, os.O_RDWR)
    try:
        yield from _decode_into(fd, offset, row_bytes, image_shape, files, pending, decode, workers, status, reasons,
                                checkpoint=lambda: _checkpoint(fd, status, reasons, status_path, reasons_path))
    finally:
        os.close(fd)
    return (yield from _finish(entry, files, status, reasons, image_shape))


def _decode_into(fd: int | None, offset: int, row_bytes: int, image_shape: tuple[int, int, int],
                 files: list[Path], pending: np.ndarray, decode: Decoder, workers: int | None, status: np.ndarray,
                 reasons: dict[int, str], checkpoint: Callable[[], None],
                 memory: np.ndarray | None = None) -> Job[None]:
    """Decode ``files[pending]`` on a thread pool; rows go to ``fd`` by offset (or into ``memory``)."""
    n = len(files)
    pool_size = _pool_size(workers)

    def work(indices: np.ndarray) -> list[tuple[int, str | None]]:
        out = []
        for i in indices:
            result = decode(files[i])
            if isinstance(result, str):
                out.append((int(i), result or "unreadable"))
                continue
            if result.shape != image_shape or result.dtype != np.uint8:
                out.append((int(i), f"decoded to {result.shape} {result.dtype}, expected {image_shape} uint8"))
                continue
            if memory is not None:
                memory[i] = result
            else:
                os.pwrite(fd, np.ascontiguousarray(result).tobytes(), offset + int(i) * row_bytes)
            out.append((int(i), None))
        return out

    chunks = [pending[s:s + CHUNK_FILES] for s in range(0, len(pending), CHUNK_FILES)]
    done = n - len(pending)
    last_checkpoint = time.monotonic()
    in_flight: set[Future] = set()
    pool = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="image-decode")
    try:
        next_chunk = 0
        while next_chunk < len(chunks) or in_flight:
            while next_chunk < len(chunks) and len(in_flight) < 2 * pool_size:
                in_flight.add(pool.submit(work, chunks[next_chunk]))
                next_chunk += 1
            finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                for i, reason in future.result():
                    status[i] = DONE if reason is None else SKIPPED
                    if reason is not None:
                        reasons[i] = reason
                    done += 1
            if time.monotonic() - last_checkpoint > CHECKPOINT_SECONDS:
                checkpoint()
                last_checkpoint = time.monotonic()
            yield Progress("loading images", done, n)
    finally:
        # on cancel (GeneratorExit) or error: drop queued chunks, let running ones end, keep what is done
        for future in in_flight:
            future.cancel()
        pool.shutdown(wait=True)
        for future in in_flight:
            if future.done() and not future.cancelled() and future.exception() is None:
                for i, reason in future.result():
                    status[i] = DONE if reason is None else SKIPPED
                    if reason is not None:
                        reasons[i] = reason
        with contextlib.suppress(OSError):
            checkpoint()


def _checkpoint(fd: int, status: np.ndarray, reasons: dict[int, str], status_path: Path,
                reasons_path: Path) -> None:
    """Sync the rows first, then record them as done: a crash can lose work, never mark a hole as an image."""
    os.fdatasync(fd)
    write_text_atomic(reasons_path, json.dumps({str(k): v for k, v in reasons.items()}))
    with atomic_path(status_path, suffix=".npy") as tmp:
        np.save(tmp, status)


def _read_progress(status_path: Path, reasons_path: Path, n: int) -> tuple[np.ndarray | None, dict[int, str]]:
    try:
        status = np.load(status_path, allow_pickle=False)
        reasons = {int(k): str(v) for k, v in json.loads(reasons_path.read_text()).items()}
    except (OSError, ValueError, EOFError):
        return None, {}
    if status.shape != (n,) or status.dtype != np.int8:
        return None, {}
    return status, reasons


def _finish(entry: Path, files: list[Path], status: np.ndarray, reasons: dict[int, str],
            image_shape: tuple[int, int, int]) -> Job[CachedImages]:
    """Compact away skipped rows (if any), write the index, then ``complete.json`` last."""
    filling = entry / "filling.npy"
    kept = np.flatnonzero(status == DONE).astype(np.int64)
    if len(kept) == 0:
        raise DatasetError(f"none of the {len(files)} images could be read", path=files[0].parent,
                           hint=f"first failure: {reasons.get(0, next(iter(reasons.values()), '?'))}")
    final = entry / "images.npy"
    if len(kept) == len(files):
        os.replace(filling, final)
    else:
        source = np.load(filling, mmap_mode="r")
        with atomic_path(final, suffix=".npy") as tmp:
            target = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(kept), *image_shape))
            for start in range(0, len(kept), COPY_ROWS):
                target[start:start + COPY_ROWS] = source[kept[start:start + COPY_ROWS]]
                yield Progress("compacting the cache", start, len(kept))
            target.flush()
            del target
        del source
        filling.unlink()
    with atomic_path(entry / "kept.npy", suffix=".npy") as tmp:
        np.save(tmp, kept)
    skipped = [(str(files[i]), reasons.get(int(i), "unreadable")) for i in np.flatnonzero(status == SKIPPED)]
    write_text_atomic(entry / "skipped.json", json.dumps(skipped))
    write_text_atomic(entry / "complete.json", json.dumps({"version": CACHE_VERSION, "files": len(files),
                                                           "images": len(kept), "shape": list(image_shape)}))
    for leftover in ("status.npy", "reasons.json"):
        with contextlib.suppress(FileNotFoundError):
            (entry / leftover).unlink()
    return CachedImages(images=np.load(final, mmap_mode="r"), kept=kept, skipped=skipped, folder=entry)


def _open_complete(entry: Path) -> CachedImages | None:
    """The finished entry, or None when it is missing, half-written or unreadable (then it is refilled)."""
    try:
        meta = json.loads((entry / "complete.json").read_text())
        images = np.load(entry / "images.npy", mmap_mode="r")
        kept = np.load(entry / "kept.npy", allow_pickle=False)
        skipped = [(str(f), str(r)) for f, r in json.loads((entry / "skipped.json").read_text())]
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if meta.get("version") != CACHE_VERSION or len(images) != len(kept) or images.dtype != np.uint8:
        return None
    return CachedImages(images=images, kept=kept.astype(np.int64), skipped=skipped, folder=entry, from_cache=True)


def _fill_in_memory(files: list[Path], image_shape: tuple[int, int, int], decode: Decoder,
                    workers: int | None) -> Job[CachedImages]:
    """The same parallel decoding into RAM, for a cache folder that cannot be written."""
    n = len(files)
    memory = np.empty((n, *image_shape), np.uint8)
    status = np.zeros(n, np.int8)
    reasons: dict[int, str] = {}
    yield from _decode_into(None, 0, 0, image_shape, files, np.arange(n), decode, workers, status, reasons,
                            checkpoint=lambda: None, memory=memory)
    kept = np.flatnonzero(status == DONE).astype(np.int64)
    if len(kept) == 0:
        raise DatasetError(f"none of the {n} images could be read", path=files[0].parent)
    skipped = [(str(files[i]), reasons.get(int(i), "unreadable")) for i in np.flatnonzero(status == SKIPPED)]
    return CachedImages(images=memory if len(kept) == n else memory[kept], kept=kept, skipped=skipped)


# ------------------------------------------------------------------------------------------------ helpers
def _npy_data_offset(path: Path) -> int:
    mapped = np.load(path, mmap_mode="r")
    offset = int(mapped.offset)
    del mapped
    return offset


def _check_space(entry: Path, needed: int) -> None:
    free = shutil.disk_usage(entry).free
    if free < needed * 1.05:
        raise DatasetError(f"the image cache needs {needed / 1e9:.1f} GB, {free / 1e9:.1f} GB are free", path=entry,
                           hint="free disk space, or point LATENT_EXPLORER_CACHE at a larger disk")


class _Lock:
    """An exclusive lock on a cache entry, so two processes never fill the same entry at once."""

    def __init__(self, path: Path):
        self.fh = open(path, "a+")  # noqa: SIM115 - held for the life of the lock

    def __enter__(self) -> _Lock:
        return self

    def wait(self) -> Job[None]:
        try:
            import fcntl
        except ImportError:  # not POSIX: no cross-process lock
            return
        waited = False
        while True:
            try:
                fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if not waited:
                    yield Progress("loading images", 0, None, "another process is filling this cache; waiting")
                    waited = True
                time.sleep(0.2)
                yield Progress("loading images", 0, None)

    def __exit__(self, *exc) -> None:
        self.fh.close()  # closing releases the lock
