"""What a distributed encoding reads: image folders and Parquet/CSV lists of paths, sliced per batch without Ray."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latent_explorer.core.datasets import load_dataset
from latent_explorer.core.errors import DatasetError
from latent_explorer.scale.sources import ArraySource, ImageListSource, open_source


def test_a_csv_list_of_paths_with_string_labels(tmp_path):
    (tmp_path / "img").mkdir()
    rows = ["image_path,label"]
    for k, name in enumerate(["cat", "dog", "cat", "ant"]):
        Image.new("L", (8, 8), 30 * k).save(tmp_path / "img" / f"{k}.png")
        rows.append(f"img/{k}.png,{name}")
    rows.append("img/missing.png,dog")
    (tmp_path / "list.csv").write_text("\n".join(rows) + "\n")
    source = open_source(str(tmp_path / "list.csv"), {})
    assert isinstance(source, ImageListSource) and source.image_shape == (1, 8, 8) and source.mode == "L"
    assert source.class_names == ["ant", "cat", "dog"] and source.labels == [1, 2, 1, 0, 2]
    batch = source.read(3, 5, source.batch_payload(3, 5))
    assert batch.ids.tolist() == [3] and batch.labels.tolist() == [0]
    assert np.all(batch.images == 90) and batch.skipped[0][0].endswith("missing.png")


def test_a_parquet_list_needs_a_path_column(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"name": ["a.png"]}), tmp_path / "list.parquet")
    with pytest.raises(DatasetError, match="no column of image paths"):
        open_source(str(tmp_path / "list.parquet"), {})


def test_an_image_folder_lists_like_the_loader(tmp_path, digits):
    root = tmp_path / "f"
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for k in range(3):
            Image.fromarray(digits.images[k, 0]).save(root / cls / f"{k}.png")
    source = open_source(str(root), {"limit": 5})
    local = load_dataset(root, limit=5)
    assert len(source) == 5 and source.class_names == local.class_names and source.labels == local.labels.tolist()
    batch = source.read(0, 5, source.batch_payload(0, 5))
    assert np.array_equal(batch.images, np.asarray(local.images))


def test_an_array_file_is_sliced_and_keeps_its_fingerprint(tmp_path, digits):
    np.savez(tmp_path / "d.npz", x=digits.images[:50], y=digits.labels[:50])
    source = open_source(str(tmp_path / "d.npz"), {})
    assert isinstance(source, ArraySource) and len(source) == 50
    import pickle

    shipped = pickle.loads(pickle.dumps(source))  # what a worker receives: no arrays inside
    assert shipped._dataset is None and len(pickle.dumps(source)) < 2000
    batch = shipped.read(10, 20, {})
    assert np.array_equal(batch.images, digits.images[10:20]) and batch.ids.tolist() == list(range(10, 20))
    assert shipped.fingerprint() == load_dataset(tmp_path / "d.npz").fingerprint()
