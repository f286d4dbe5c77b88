"""Memory bombs and forged sizes, run through the command line in a subprocess under an address-space limit.

Every file here declares (or decompresses to) far more than it holds: a gzip that grows 1000-fold, ``.npy``
headers promising 93 GiB, zip members claiming gigabytes, a label of 10**12, a 20000×20000 PNG. The child process
runs with ``RLIMIT_AS`` = 3 GiB and the default memory budget; each case must end with its expected exit code and
message, and the child's peak resident memory must stay under 1 GiB.
"""

from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

ADDRESS_SPACE_LIMIT = 3 << 30
PEAK_RSS_LIMIT = 1 << 30
BOMB_BYTES = 320 << 20  # what the bombs decompress to: beyond the 256 MiB any-ratio floor, 1000-fold their size

CHILD = r'''
import io, json, resource, sys, contextlib
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from latent_explorer.cli import main


def peak_rss():
    # VmHWM belongs to this process's own memory map; ru_maxrss would start at the parent's peak (Linux keeps it
    # across fork and exec), which is a whole test session's
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


results = {{}}
for name, argv in json.loads(sys.argv[1]).items():
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except BaseException as exc:  # a crash is a result too: the test says which
            code = f"crashed: {{type(exc).__name__}}: {{exc}}"
    results[name] = {{"code": code, "err": err.getvalue(),
                     "peak_rss_after": peak_rss()}}
results["_peak_rss"] = peak_rss()
print(json.dumps(results))
'''


def _zeros_deflated(fh, nbytes: int) -> None:
    chunk = bytes(8 << 20)
    left = nbytes
    while left > 0:
        fh.write(chunk[:min(left, len(chunk))])
        left -= len(chunk)


def _npy_header(shape: tuple[int, ...], dtype: str = "|u1") -> bytes:
    buffer = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _idx_header(dims: tuple[int, ...], type_byte: int = 0x08) -> bytes:
    return bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header says width × height; decoding it would allocate width × height bytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, tuple[list[str], int, str]]:
    """Case name → (command line, expected exit code, text the message must hold)."""
    root = tmp_path_factory.mktemp("bombs")
    enc = ["encode", "--model", "demo:digits-conv-ae", "--no-cache", "--out"]
    cases: dict[str, tuple[list[str], int, str]] = {}

    def encode(name: str, data: Path, code: int, message: str, *extra: str) -> None:
        cases[name] = ([*enc, str(root / f"{name}.out.npz"), "--data", str(data), *extra], code, message)

    # gzip IDX whose header is honest: 600 MB of zeros from ~0.6 MB
    honest = root / "honest-images-idx3-ubyte.gz"
    with gzip.open(honest, "wb", compresslevel=9) as fh:
        fh.write(_idx_header((BOMB_BYTES // 64, 8, 8)))
        _zeros_deflated(fh, BOMB_BYTES)
    encode("idx-gz-bomb", honest, 2, "decompression bomb")
    # gzip IDX whose header promises 640 bytes and whose body goes on for 600 MB: the stream stops at the promise
    lying = root / "lying-images-idx3-ubyte.gz"
    with gzip.open(lying, "wb", compresslevel=9) as fh:
        fh.write(_idx_header((10, 8, 8)))
        _zeros_deflated(fh, BOMB_BYTES)
    encode("idx-gz-trailing-bomb", lying, 2, "more than 640 bytes")
    # IDX labels of 2·10**9 (int32) with honest images: a label map, not 2·10**9 class names
    images = root / "big-images-idx3-ubyte"
    images.write_bytes(_idx_header((3, 8, 8)) + bytes(192))
    labels = root / "big-labels-idx1-ubyte"
    labels.write_bytes(_idx_header((3,), 0x0C) + struct.pack(">3i", 0, 2_000_000_000, 7))
    encode("idx-label-2e9", images, 0, "", "--labels", str(labels))
    # IDX header promising 2**32 - 1 images in a tiny plain file
    forged_idx = root / "forged-images-idx3-ubyte"
    forged_idx.write_bytes(_idx_header((2**32 - 1, 255, 255)) + bytes(100))
    encode("idx-forged-header", forged_idx, 2, "the header promises")
    # .npy header promising 93 GiB
    npy = root / "forged.npy"
    npy.write_bytes(_npy_header((100_000, 1000, 1000)) + bytes(1000))
    encode("npy-93GiB-header", npy, 2, "but only")
    # .npz whose member header promises 93 GiB but holds 1 KB
    npz_forged = root / "forged.npz"
    with zipfile.ZipFile(npz_forged, "w") as zf:
        zf.writestr("x.npy", _npy_header((100_000, 1000, 1000)) + bytes(1000))
    encode("npz-93GiB-member-header", npz_forged, 2, "but only")
    # .npz that really decompresses to 600 MB
    npz_bomb = root / "bomb.npz"
    with zipfile.ZipFile(npz_bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf, \
            zf.open("x.npy", "w", force_zip64=True) as fh:
        fh.write(_npy_header((BOMB_BYTES // 64, 8, 8)))
        _zeros_deflated(fh, BOMB_BYTES)
    encode("npz-decompression-bomb", npz_bomb, 2, "decompression bomb")
    # label 10**12 in an .npz: two class names, not a trillion
    npz_label = root / "huge-label.npz"
    np.savez(npz_label, x=np.zeros((2, 8, 8), np.uint8), y=np.array([0, 10**12], dtype=np.int64))
    encode("npz-label-1e12", npz_label, 0, "")
    # an image folder with one 20000×20000 PNG among good ones: skipped and listed
    folder = root / "folder"
    folder.mkdir()
    from PIL import Image

    for i in range(3):
        Image.fromarray(np.full((8, 8), 60 * i, np.uint8)).save(folder / f"ok{i}.png")
    (folder / "huge.png").write_bytes(_png_header_only(20_000, 20_000))
    encode("png-20000x20000", folder, 0, "skipped")
    # below Pillow's own bomb limit, above ours (64 million pixels): our check skips it before decoding
    folder_81m = root / "folder-81m"
    folder_81m.mkdir()
    for i in range(2):
        Image.fromarray(np.full((8, 8), 60 * i, np.uint8)).save(folder_81m / f"ok{i}.png")
    (folder_81m / "large.png").write_bytes(_png_header_only(9_000, 9_000))
    encode("png-9000x9000", folder_81m, 0, "more than the limit of 64,000,000")
    # a session whose array decompresses to 600 MB, and one whose state.json claims 600 MB
    session_bomb = root / "bomb.lxs"
    with zipfile.ZipFile(session_bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("state.json", json.dumps({"format": "latent-explorer-session", "version": 1, "parts": {}}))
        with zf.open("arrays/view/x.npy", "w", force_zip64=True) as fh:
            fh.write(_npy_header((BOMB_BYTES,)))
            _zeros_deflated(fh, BOMB_BYTES)
    cases["session-array-bomb"] = (["figure", "--session", str(session_bomb), "--out", str(root / "f1.png")], 2,
                                   "decompression bomb")
    session_text = root / "text-bomb.lxs"
    with zipfile.ZipFile(session_text, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf, \
            zf.open("state.json", "w", force_zip64=True) as fh:
        chunk = b" " * (8 << 20)
        for _ in range(BOMB_BYTES // len(chunk)):
            fh.write(chunk)
    cases["session-state-json-bomb"] = (["figure", "--session", str(session_text), "--out", str(root / "f2.png")],
                                        2, "state.json declares")
    cases["session-is-dev-zero"] = (["figure", "--session", "/dev/zero", "--out", str(root / "f3.png")], 2,
                                    "not a regular file")
    return cases


def test_bombs_are_refused_within_bounded_memory(bombs):
    argv = {name: case[0] for name, case in bombs.items()}
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", CHILD.format(limit=ADDRESS_SPACE_LIMIT), json.dumps(argv)],
                          capture_output=True, text=True, timeout=300, cwd=root,
                          env={**__import__("os").environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    failures = []
    for name, (_argv, code, message) in bombs.items():
        got = results[name]
        if got["code"] != code or message not in got["err"] or "Traceback" in got["err"]:
            failures.append(f"{name}: exit {got['code']} (expected {code}), stderr: {got['err'][-400:]}")
        if code != 0 and Path(_argv[_argv.index("--out") + 1]).exists():
            failures.append(f"{name}: left its output file")
    assert not failures, "\n".join(failures)
    growth = {name: round(results[name]["peak_rss_after"] / 2**20) for name in bombs}  # MiB, peak so far
    assert results["_peak_rss"] < PEAK_RSS_LIMIT, f"peak RSS {results['_peak_rss'] / 2**20:.0f} MiB; by case: {growth}"
    assert "huge.png" in results["png-20000x20000"]["err"] and "large.png" in results["png-9000x9000"]["err"]
