"""Size limits read from the environment, and class names only for the labels that occur."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core.datasets import Dataset, label_map, load_dataset
from latent_explorer.core.errors import LimitError
from latent_explorer.core.limits import GIB, MIB, current_limits, parse_size


def test_dense_labels_stay_as_they_are():
    labels = np.array([2, 0, 1, 2])
    ids, names = label_map(labels)
    assert ids.tolist() == [2, 0, 1, 2] and names == ["0", "1", "2"]


def test_sparse_and_huge_labels_map_to_occurring_classes():
    ids, names = label_map(np.array([10**12, 3, 3, 10**12]))
    assert ids.tolist() == [1, 0, 0, 1] and names == ["3", "1000000000000"]
    dataset = Dataset(name="d", images=np.zeros((3, 1, 2, 2), np.uint8), labels=np.array([0, 2_000_000_000, 5]))
    assert dataset.class_names == ["0", "5", "2000000000"] and dataset.labels.tolist() == [0, 2, 1]


def test_string_labels_in_npz(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((3, 4, 4), np.uint8), y=np.array(["b", "a", "b"]))
    dataset = load_dataset(path)
    assert dataset.class_names == ["a", "b"] and dataset.labels.tolist() == [1, 0, 1]


@pytest.mark.parametrize(("text", "value"),
                         [("2G", 2 * GIB), ("512M", 512 * MIB), ("100", 100), ("1.5g", 3 * GIB // 2)])
def test_parse_size(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["lots", "-1G", "0", "1Q"])
def test_bad_budget_setting_is_explained(monkeypatch, text):
    monkeypatch.setenv("LATENT_EXPLORER_MEMORY_BUDGET", text)
    with pytest.raises(LimitError, match="LATENT_EXPLORER_MEMORY_BUDGET"):
        current_limits()


def test_budget_refuses_before_allocating(tmp_path, monkeypatch):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((40, 64, 64), np.uint8))  # 160 KiB
    monkeypatch.setenv("LATENT_EXPLORER_MEMORY_BUDGET", "100k")
    with pytest.raises(LimitError, match="more than the memory budget of 100.0 KiB") as err:
        load_dataset(path)
    assert "x.npy" in str(err.value) and "LATENT_EXPLORER_MEMORY_BUDGET" in str(err.value)
    monkeypatch.setenv("LATENT_EXPLORER_MEMORY_BUDGET", "1M")
    assert len(load_dataset(path)) == 40


def test_image_folder_limit_and_shape_are_checked(tmp_path):
    from PIL import Image

    from latent_explorer.core.errors import DatasetError

    for i in range(3):
        Image.fromarray(np.full((6, 6), 50 * i, np.uint8)).save(tmp_path / f"{i}.png")
    with pytest.raises(DatasetError, match="at least one image"):
        load_dataset(tmp_path, limit=-1)
    with pytest.raises(DatasetError, match="from 1 to 4096"):
        load_dataset(tmp_path, shape=(0, 8))
    assert len(load_dataset(tmp_path, limit=2)) == 2 and len(load_dataset(tmp_path, limit=99)) == 3


def test_idx_folder_joins_the_label_maps_of_its_parts(tmp_path):
    """train holds labels {0, 7}, t10k holds {7, 9}: one map for both, named by the original values."""
    def idx(path, dims, body, type_byte=0x08):
        path.write_bytes(bytes([0, 0, type_byte, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims) + body)

    idx(tmp_path / "train-images-idx3-ubyte", (2, 2, 2), bytes(8))
    idx(tmp_path / "train-labels-idx1-ubyte", (2,), bytes([0, 7]))
    idx(tmp_path / "t10k-images-idx3-ubyte", (2, 2, 2), bytes(8))
    idx(tmp_path / "t10k-labels-idx1-ubyte", (2,), bytes([7, 9]))
    dataset = load_dataset(tmp_path)
    assert dataset.class_names == ["0", "7", "9"]
    assert [dataset.class_names[i] for i in dataset.labels] == ["0", "7", "7", "9"]
