"""Reading files from others without believing them: regular files only, sizes checked before allocating.

Every reader here checks what a file declares (a ``.npy`` header's shape × dtype, a zip member's size, a text
file's length) against the bytes actually there and against `core.limits` *before* it allocates, and reads
compressed data as a stream that stops at the declared size. ``/dev/zero``, FIFOs and sockets are refused
where a file is expected, because reading them never ends.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from latent_explorer.core.errors import LatentExplorerError, LimitError
from latent_explorer.core.limits import Limits, current_limits, format_size

NPY_MAGIC = b"\x93NUMPY"


def regular_file(path: str | Path, what: str = "file", error: type[LatentExplorerError] = LatentExplorerError) -> Path:
    """``path`` if it names a regular file (following links); else an ``error`` that says what it is instead."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError as exc:
        raise error(f"no such {what}", path=path) from exc
    except OSError as exc:
        raise error(f"cannot open the {what} ({exc.strerror or exc})", path=path) from exc
    if stat.S_ISDIR(mode):
        raise error(f"this is a folder; a {what} was expected", path=path)
    if not stat.S_ISREG(mode):
        kind = "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else \
            "a pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
        raise error(f"this is {kind}, not a regular file; a {what} was expected", path=path,
                    hint="name a regular file on disk")
    return path


def read_bytes_capped(path: str | Path, cap: int, what: str = "file",
                      error: type[LatentExplorerError] = LatentExplorerError) -> bytes:
    """The whole of a regular file no larger than ``cap`` bytes."""
    path = regular_file(path, what, error)
    size = path.stat().st_size
    if size > cap:
        raise error(f"the {what} is {format_size(size)}, more than the {format_size(cap)} such a file may have",
                    path=path, hint=f"this is not a {what}; name the right file")
    try:
        with open(path, "rb") as fh:
            data = fh.read(cap + 1)
    except OSError as exc:
        raise error(f"cannot read the {what} ({exc.strerror or exc})", path=path) from exc
    if len(data) > cap:  # the file grew while we read it
        raise error(f"the {what} is larger than {format_size(cap)}", path=path)
    return data


def read_text_capped(path: str | Path, what: str = "file", error: type[LatentExplorerError] = LatentExplorerError,
                     limits: Limits | None = None) -> str:
    """A UTF-8 text file (config, manifest, attribute list) no larger than the text limit."""
    limits = limits or current_limits()
    data = read_bytes_capped(path, limits.max_text_bytes, what, error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"the {what} is not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x})", path=path,
                    hint=f"this looks like a binary file; name the {what} itself") from exc


# ------------------------------------------------------------------------------------------------- .npy
def read_npy_header(fh: IO[bytes], source: object) -> tuple[tuple[int, ...], np.dtype, bool]:
    """Shape, dtype and Fortran order of the ``.npy`` stream at ``fh``; refuses object dtypes (pickle)."""
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        raise LatentExplorerError(f"not a readable .npy array ({exc})", path=source,
                                  hint="the file is truncated or not saved with numpy.save") from exc
    if dtype.hasobject:
        raise LatentExplorerError("object arrays are refused: this object array holds Python objects, which "
                                  "would need unpickling", path=source, hint="save images and labels as numeric arrays")
    if any(int(d) < 0 for d in shape):
        raise LatentExplorerError(f"the array header declares a negative shape {shape}", path=source)
    return tuple(int(d) for d in shape), dtype, bool(fortran)


def declared_nbytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    """Bytes an array of this shape and dtype takes, computed in Python integers (no overflow)."""
    n = 1
    for d in shape:
        n *= int(d)
    return n * int(dtype.itemsize)


def read_npy_stream(fh: IO[bytes], available: int, source: object, limits: Limits, what: str = "array") -> np.ndarray:
    """Read one ``.npy`` array from ``fh``, of which ``available`` bytes (header included) exist.

    The header's promise is checked against ``available`` and the budget before numpy allocates the array
    (``numpy.lib.format.read_array`` allocates first, then reads).
    """
    start = fh.tell() if fh.seekable() else 0
    shape, dtype, fortran = read_npy_header(fh, source)
    header = (fh.tell() - start) if fh.seekable() else 0  # unknown: the check is looser by the header's size
    nbytes = declared_nbytes(shape, dtype)
    if nbytes > max(available - header, 0):
        raise LimitError(f"the {what} header promises {shape} {dtype} ({format_size(nbytes)}) but only "
                         f"{format_size(max(available - header, 0))} of data follow", path=source,
                         hint="the file is truncated or its header is forged; save it again with numpy.save")
    limits.check_allocation(nbytes, f"the {what} {shape} {dtype}", source)
    data = bytearray(nbytes)
    view = memoryview(data)
    got = 0
    while got < nbytes:
        n = fh.readinto(view[got:]) if hasattr(fh, "readinto") else _read_into(fh, view[got:])
        if not n:
            raise LatentExplorerError(f"the {what} ends after {got} of {nbytes} bytes", path=source,
                                      hint="the file is truncated; save it again")
        got += n
    array = np.frombuffer(data, dtype=dtype)
    if fortran:
        return array.reshape(shape[::-1]).transpose()
    return array.reshape(shape)


def _read_into(fh: IO[bytes], view: memoryview) -> int:
    chunk = fh.read(len(view))
    view[:len(chunk)] = chunk
    return len(chunk)


def load_npy_file(path: str | Path, limits: Limits | None = None,
                  error: type[LatentExplorerError] = LatentExplorerError) -> np.ndarray:
    """A ``.npy`` file, checked: regular file, header within the file size and the budget, no pickle."""
    limits = limits or current_limits()
    path = regular_file(path, ".npy file", error)
    try:
        with open(path, "rb") as fh:
            return read_npy_stream(fh, path.stat().st_size, path, limits)
    except OSError as exc:
        raise error(f"cannot read the .npy file ({exc.strerror or exc})", path=path) from exc


# ------------------------------------------------------------------------------------------------ zips
def check_zip_member(info: zipfile.ZipInfo, source: object, limits: Limits) -> None:
    """A member's declared size against the budget and a plausible compression ratio.

    ``zipfile`` stops reading a member at its declared size, so checking the declaration bounds the work.
    """
    limits.check_expansion(int(info.file_size), int(info.compress_size), f"the member {info.filename}", source)


def read_zip_npy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, source: object, limits: Limits) -> np.ndarray:
    """One ``.npy`` member of a zip (``.npz``, session): declared sizes checked before anything is allocated."""
    check_zip_member(info, source, limits)
    with zf.open(info) as fh:
        return read_npy_stream(fh, int(info.file_size), source, limits, what=f"array {info.filename}")


def read_zip_text(zf: zipfile.ZipFile, name: str, source: object, limits: Limits) -> str:
    """A text member (``state.json``) no larger than the text limit."""
    info = zf.getinfo(name)
    if info.file_size > limits.max_text_bytes:
        raise LimitError(f"{name} declares {format_size(info.file_size)}, more than the "
                         f"{format_size(limits.max_text_bytes)} it may have", path=source,
                         hint="the file is damaged or forged")
    with zf.open(info) as fh:
        data = fh.read(limits.max_text_bytes + 1)
    return data.decode("utf-8")
