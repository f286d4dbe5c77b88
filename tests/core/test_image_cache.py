"""The on-disk image cache: parallel decoding equals the plain loop, resumes after a cancel, serves only complete
entries, follows the folder's content and falls back to memory when the cache cannot be written."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latent_explorer.core import image_cache
from latent_explorer.core.datasets import Dataset, decode_image_file, load_dataset
from latent_explorer.core.image_cache import iter_cache_images
from latent_explorer.core.jobs import run_job


def make_folder(root: Path, per_class: int = 40, size: tuple[int, int] = (20, 14)) -> list[Path]:
    rng = np.random.default_rng(1)
    files = []
    for cls in ("a", "b", "c"):
        (root / cls).mkdir(parents=True)
        for k in range(per_class):
            path = root / cls / f"{k:04d}.png"
            Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
            files.append(path)
    return files


def reference_images(files: list[Path], mode: str, w: int, h: int) -> np.ndarray:
    """What the single-threaded loader produced: each readable file, in order."""
    rows = [decode_image_file(f, mode, w, h) for f in files]
    return np.stack([r for r in rows if not isinstance(r, str)])


def test_folder_loads_through_the_cache_like_the_plain_loop(tmp_path):
    files = make_folder(tmp_path / "set")
    (tmp_path / "set" / "b" / "0005.png").write_bytes(b"broken")
    first = load_dataset(tmp_path / "set", shape=(8, 8), mode="RGB")
    assert isinstance(first.images, np.memmap) and not first.images.flags.writeable
    assert np.array_equal(np.asarray(first.images), reference_images(files, "RGB", 8, 8))
    assert [Path(f).name for f, _ in first.skipped] == ["0005.png"] and len(first) == 119
    assert first.labels.tolist() == [0] * 40 + [1] * 39 + [2] * 40
    assert "b/0005.png" not in first.sample_names
    copy = Dataset(name="copy", images=np.array(first.images), labels=first.labels.copy())
    assert first.fingerprint() == copy.fingerprint()  # the remembered hash is Dataset's own
    again = load_dataset(tmp_path / "set", shape=(8, 8), mode="RGB")
    assert again.fingerprint() == first.fingerprint() and again.skipped == first.skipped
    assert again.display_image(3).shape == (8, 8, 3)  # a thumbnail reads one row of the map


def test_cancel_then_resume_decodes_every_file_once(tmp_path, monkeypatch):
    monkeypatch.setattr(image_cache, "CHUNK_FILES", 4)
    files = make_folder(tmp_path / "set", per_class=30)
    calls: list[Path] = []
    lock = threading.Lock()

    def decode(path: Path):
        with lock:
            calls.append(path)
        return decode_image_file(path, "RGB", 6, 6)

    job = iter_cache_images(files, (3, 6, 6), decode, options="t", workers=2)
    for progress in job:
        if progress.stage == "loading images" and progress.done >= 20:
            break
    job.close()
    first_calls = len(calls)
    assert 20 <= first_calls < len(files)
    entry = next((Path(os.environ["LATENT_EXPLORER_CACHE"]) / "images").iterdir())
    assert not (entry / "complete.json").exists()  # a half-filled entry is never served as complete
    messages = []
    cached = run_job(iter_cache_images(files, (3, 6, 6), decode, options="t", workers=2),
                     lambda p: messages.append(p.message))
    assert len(calls) == len(files) and len(set(calls)) == len(files)
    assert any(m.startswith("resuming") for m in messages)
    assert np.array_equal(np.asarray(cached.images), reference_images(files, "RGB", 6, 6))
    assert cached.kept.tolist() == list(range(len(files)))


def test_the_key_follows_content_and_options(tmp_path):
    files = make_folder(tmp_path / "set", per_class=3)
    def decode(f):
        return decode_image_file(f, "RGB", 5, 5)
    a = run_job(iter_cache_images(files, (3, 5, 5), decode, options="x"))
    assert run_job(iter_cache_images(files, (3, 5, 5), decode, options="x")).from_cache
    assert not run_job(iter_cache_images(files, (3, 5, 5), decode, options="y")).from_cache
    Image.new("RGB", (30, 30), (1, 2, 3)).save(files[0])  # same name, new content and size
    b = run_job(iter_cache_images(files, (3, 5, 5), decode, options="x"))
    assert not b.from_cache and not np.array_equal(np.asarray(a.images[0]), np.asarray(b.images[0]))
    assert np.all(np.asarray(b.images[0])[:, 0, 0] == [1, 2, 3])


def test_unwritable_cache_falls_back_to_memory(tmp_path, monkeypatch):
    files = make_folder(tmp_path / "set", per_class=2)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("LATENT_EXPLORER_CACHE", str(blocker))
    cached = run_job(iter_cache_images(files, (3, 4, 4), lambda f: decode_image_file(f, "RGB", 4, 4), options="m"))
    assert cached.folder is None and not isinstance(cached.images, np.memmap)
    assert np.array_equal(cached.images, reference_images(files, "RGB", 4, 4))


def test_nothing_readable_is_a_dataset_error(tmp_path):
    root = tmp_path / "bad"
    root.mkdir()
    for k in range(3):
        (root / f"{k}.png").write_bytes(b"nope")
    from latent_explorer.core.errors import DatasetError

    with pytest.raises(DatasetError, match="none of the 3 images"):
        run_job(iter_cache_images(sorted(root.iterdir()), (3, 4, 4),
                                  lambda f: decode_image_file(f, "RGB", 4, 4), options="z"))


def test_an_oversized_image_is_skipped_not_raised_in_a_thread(tmp_path, monkeypatch):
    files = make_folder(tmp_path / "set", per_class=2)
    Image.new("RGB", (400, 400)).save(files[1])
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10000)  # 400×400 is over twice the limit: a bomb
    cached = run_job(iter_cache_images(files, (3, 4, 4), lambda f: decode_image_file(f, "RGB", 4, 4), options="b"))
    assert [f for f, _ in cached.skipped] == [str(files[1])] and "decompression bomb" in cached.skipped[0][1]
    assert len(cached.images) == len(files) - 1
