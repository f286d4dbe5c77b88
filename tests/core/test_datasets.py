"""Every loader on real or generated files, and every kind of bad input."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from PIL import Image

from conftest import requires_fashion
from latent_explorer.core.datasets import (
    as_image_array,
    iter_load_image_folder,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    read_idx,
)
from latent_explorer.core.errors import DatasetError
from latent_explorer.core.jobs import run_job


def write_idx(path, array: np.ndarray, gz: bool = False) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


@pytest.fixture
def idx_pair(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (20, 6, 5), dtype=np.uint8)
    y = rng.integers(0, 3, 20, dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", x, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", y, gz=True)
    return tmp_path, x, y


def test_digits_offline():
    d = load_digits()
    assert d.images.shape == (1797, 1, 8, 8) and d.images.dtype == np.uint8
    assert d.images.max() == 255 and len(d.class_names) == 10
    assert load_dataset("digits").fingerprint() == d.fingerprint()


@requires_fashion
def test_fashion_mnist_all_70k():
    d = load_fashion_mnist()
    assert d.images.shape == (70000, 1, 28, 28) and d.images.dtype == np.uint8
    assert d.class_names[9] == "Ankle boot" and np.bincount(d.labels).tolist() == [7000] * 10
    assert len(load_dataset("fashion-mnist-test")) == 10000


def test_idx_gz_pair_and_labels_guessed(idx_pair):
    folder, x, y = idx_pair
    d = load_dataset(folder / "train-images-idx3-ubyte.gz")
    assert np.array_equal(d.images[:, 0], x) and np.array_equal(d.labels, y)
    assert np.array_equal(load_dataset(folder).images[:, 0], x)  # a folder of IDX files


def test_idx_truncated(idx_pair, tmp_path):
    folder, x, _ = idx_pair
    bad = tmp_path / "cut-images-idx3-ubyte"
    write_idx(bad, x)
    bad.write_bytes(bad.read_bytes()[:-7])
    with pytest.raises(DatasetError, match="truncated or corrupt") as err:
        read_idx(bad)
    assert str(bad) in str(err.value)


def test_idx_bad_magic(tmp_path):
    bad = tmp_path / "x-images-idx3-ubyte"
    bad.write_bytes(b"\x12\x34\x08\x03" + b"\0" * 20)
    with pytest.raises(DatasetError, match="magic"):
        read_idx(bad)


def test_idx_corrupt_gzip(tmp_path):
    bad = tmp_path / "x-images-idx3-ubyte.gz"
    bad.write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(DatasetError, match="cannot read IDX"):
        read_idx(bad)


def test_idx_label_count_mismatch(tmp_path):
    write_idx(tmp_path / "a-images-idx3-ubyte", np.zeros((5, 4, 4), np.uint8))
    write_idx(tmp_path / "a-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(DatasetError, match="4 labels for 5 images"):
        load_dataset(tmp_path / "a-images-idx3-ubyte")


def test_keras_mnist_npz_layout(tmp_path):
    rng = np.random.default_rng(2)
    arrays = {"x_train": rng.integers(0, 256, (7, 28, 28), dtype=np.uint8), "y_train": np.arange(7) % 10,
              "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), "y_test": np.arange(3)}
    np.savez(tmp_path / "mnist.npz", **arrays)
    d = load_dataset(tmp_path / "mnist.npz")
    assert d.images.shape == (10, 1, 28, 28) and d.labels.tolist() == [0, 1, 2, 3, 4, 5, 6, 0, 1, 2]


def test_npz_named_arrays_nhwc_float(tmp_path):
    x = np.random.default_rng(3).random((6, 9, 9, 3)).astype(np.float32)
    np.savez(tmp_path / "faces.npz", pics=x, cls=np.array([0, 1, 0, 1, 2, 2]))
    d = load_dataset(tmp_path / "faces.npz", x_key="pics", y_key="cls")
    assert d.images.shape == (6, 3, 9, 9) and d.images.dtype == np.float32
    assert np.allclose(d.images[2], np.moveaxis(x[2], -1, 0))


def test_npz_object_array_refused(tmp_path):
    obj = np.empty(2, dtype=object)
    obj[:] = [np.zeros(3), "x"]
    np.savez(tmp_path / "evil.npz", x=np.zeros((2, 4, 4)), y=obj)
    with pytest.raises(DatasetError, match="object array"):
        load_dataset(tmp_path / "evil.npz")


def test_npz_truncated(tmp_path):
    np.savez(tmp_path / "ok.npz", x=np.zeros((50, 8, 8), np.uint8))
    data = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="cut.npz"):
        load_dataset(tmp_path / "cut.npz")


def test_npz_missing_key_lists_keys(tmp_path):
    np.savez(tmp_path / "k.npz", foo=np.zeros((2, 4, 4)))
    with pytest.raises(DatasetError, match="foo"):
        load_dataset(tmp_path / "k.npz")


def test_npy_with_labels_and_label_mismatch(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((4, 5, 5), np.uint8))
    np.save(tmp_path / "y.npy", np.array([0, 1, 1, 0]))
    np.save(tmp_path / "y3.npy", np.array([0, 1, 1]))
    assert load_dataset(tmp_path / "x.npy", labels=tmp_path / "y.npy").labels.tolist() == [0, 1, 1, 0]
    with pytest.raises(DatasetError, match="3 labels for 4 images"):
        load_dataset(tmp_path / "x.npy", labels=tmp_path / "y3.npy")


def test_npy_object_refused(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DatasetError, match="object arrays are refused"):
        load_dataset(tmp_path / "o.npy")


def test_nan_images_refused():
    x = np.zeros((2, 4, 4), np.float32)
    x[1, 2, 2] = np.nan
    with pytest.raises(DatasetError, match="NaN"):
        as_image_array(x)


def test_mixed_size_array_refused(tmp_path):
    ragged = np.empty(2, dtype=object)
    ragged[:] = [np.zeros((4, 4)), np.zeros((5, 5))]
    with pytest.raises(DatasetError, match="dtype object"):
        as_image_array(ragged)


def make_folder(root, sizes=((30, 20), (64, 64), (10, 40))):
    for cls in ("cats", "dogs"):
        (root / cls).mkdir(parents=True)
        for k, (w, h) in enumerate(sizes):
            Image.new("RGB", (w, h), (200, 10 * k, 30)).save(root / cls / f"{cls}{k}.png")
    (root / "dogs" / "broken.jpg").write_bytes(b"not an image at all")


def test_image_folder_mixed_sizes_classes_and_skipped(tmp_path):
    make_folder(tmp_path / "pets")
    job = iter_load_image_folder(tmp_path / "pets", shape=(16, 16), mode="RGB")
    progress = []
    d = run_job(job, progress.append)
    assert d.images.shape == (6, 3, 16, 16) and d.class_names == ["cats", "dogs"]
    assert d.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert len(d.skipped) == 1 and "broken.jpg" in d.skipped[0][0]
    assert progress and progress[-1].done == progress[-1].total
    assert np.all(d.images[0, 0] == 200)  # red channel of the first cat survived crop and resize


def test_image_folder_grey_flat_with_celeba_attributes(tmp_path):
    root = tmp_path / "celeba"
    root.mkdir()
    for k in range(3):
        Image.new("L", (12, 16), 40 * k).save(root / f"00000{k + 1}.jpg")
    attr = tmp_path / "list_attr_celeba.txt"
    attr.write_text("3\nSmiling Male\n000001.jpg 1 -1\n000002.jpg -1 -1\n000003.jpg 1 1\n")
    d = load_dataset(root, shape=(8, 8), mode="L", attributes=attr)
    assert d.images.shape == (3, 1, 8, 8) and d.labels is None
    assert d.attribute_names == ["Smiling", "Male"]
    assert d.attributes.tolist() == [[1, -1], [-1, -1], [1, 1]]


def test_bad_attribute_file(tmp_path):
    make_folder(tmp_path / "pets")
    attr = tmp_path / "attr.txt"
    attr.write_text("2\nA B\ncats0.png 1\n")
    with pytest.raises(DatasetError, match="attribute"):
        load_dataset(tmp_path / "pets", shape=(8, 8), attributes=attr)


def test_unknown_spec_and_format(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        load_dataset(tmp_path / "nope.npz")
    (tmp_path / "data.csv").write_text("1,2")
    with pytest.raises(DatasetError, match="format"):
        load_dataset(tmp_path / "data.csv")
    with pytest.raises(DatasetError, match="split"):
        load_dataset("fashion-mnist-valid")


def test_a_file_named_like_the_builtin_dataset_is_a_file(tmp_path, monkeypatch):
    np.savez(tmp_path / "fashion-mnist.npz", x=np.zeros((3, 4, 4), np.uint8), y=np.array([0, 1, 2]))
    monkeypatch.chdir(tmp_path)
    assert load_dataset("fashion-mnist.npz").labels.tolist() == [0, 1, 2]


def test_sixteen_bit_images_keep_their_contrast(tmp_path):
    root = tmp_path / "deep"
    root.mkdir()
    for k, value in enumerate((1000, 30000, 65535)):
        Image.fromarray(np.full((6, 6), value, np.uint16)).save(root / f"{k}.png")
    d = load_dataset(root, shape=(6, 6), mode="L")
    assert d.images[:, 0, 0, 0].tolist() == [4, 117, 255]


def test_bad_labels_file_is_named(tmp_path):
    np.save(tmp_path / "imgs.npy", np.zeros((2, 4, 4), np.uint8))
    (tmp_path / "labs.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DatasetError) as err:
        load_dataset(tmp_path / "imgs.npy", labels=tmp_path / "labs.npy")
    assert "labs.npy" in str(err.value) and "imgs.npy" not in str(err.value)


def test_npz_that_is_not_an_archive(tmp_path):
    np.save(tmp_path / "single.npy", np.zeros((2, 4, 4)))
    (tmp_path / "single.npy").rename(tmp_path / "single.npz")
    with pytest.raises(DatasetError, match="not an .npz archive"):
        load_dataset(tmp_path / "single.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(DatasetError, match="cannot read .npz"):
        load_dataset(tmp_path / "text.npz")


def test_empty_labels_array(tmp_path):
    np.savez(tmp_path / "e.npz", x=np.zeros((3, 4, 4), np.uint8), y=np.zeros(0, np.int64))
    with pytest.raises(DatasetError, match="0 labels for 3 images"):
        load_dataset(tmp_path / "e.npz")
