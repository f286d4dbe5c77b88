"""Exports for other tools: the Projector's TSV pair and sprite parse as it expects; Atlas gets its columns."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from latent_explorer.core.codes_file import read_codes, write_codes
from latent_explorer.core.encoding import Codes
from latent_explorer.core.exchange import (
    ExchangeError,
    ExportItems,
    items_from_codes,
    items_from_codes_file,
    read_selection,
    sprite_grid,
    write_atlas,
    write_codes_selection,
    write_projector,
)


@pytest.fixture
def digit_items(digits) -> ExportItems:
    rng = np.random.default_rng(0)
    n = 120
    codes = Codes(z=rng.normal(size=(n, 4)).astype(np.float32), mu=None, logvar=None, labels=digits.labels[:n],
                  recon_error=rng.random(n).astype(np.float32))
    return items_from_codes(codes, dataset=digits.subset(np.arange(n)), layout=rng.normal(size=(n, 2)))


def test_projector_files_parse_as_the_projector_expects(tmp_path, digit_items, digits):
    written = write_projector(tmp_path / "proj", digit_items)
    names = {p.name for p in written}
    assert {"tensors.tsv", "metadata.tsv", "sprite.png", "projector_config.json", "projector_config.pbtxt"} <= names
    tensors = (tmp_path / "proj" / "tensors.tsv").read_text().splitlines()
    assert len(tensors) == 120 and all(len(line.split("\t")) == 4 for line in tensors)
    np.testing.assert_allclose(np.loadtxt(tmp_path / "proj" / "tensors.tsv", delimiter="\t"), digit_items.z,
                               rtol=1e-6)
    meta = (tmp_path / "proj" / "metadata.tsv").read_text().splitlines()
    assert meta[0].split("\t") == ["id", "label", "recon_error"] and len(meta) == 121  # header + one per row
    assert meta[1].split("\t")[1] == digits.class_names[digits.labels[0]]
    config = json.loads((tmp_path / "proj" / "projector_config.json").read_text())["embeddings"][0]
    assert config["tensorShape"] == [120, 4] and config["sprite"]["singleImageDim"] == [8, 8]
    sprite = np.asarray(Image.open(tmp_path / "proj" / "sprite.png"))
    assert sprite.shape == (11 * 8, 11 * 8)  # ceil(sqrt(120)) = 11 cells a side
    # the thumbnail of row 13 sits in grid cell (1, 2), read back from the pixels
    expected = np.round(digits.display_image(13) * 255)
    np.testing.assert_allclose(sprite[8:16, 16:24], expected, atol=1)


def test_single_column_metadata_has_no_header(tmp_path):
    items = ExportItems(z=np.eye(3, dtype=np.float32), ids=np.arange(3))
    write_projector(tmp_path / "p", items)
    assert (tmp_path / "p" / "metadata.tsv").read_text().splitlines() == ["0", "1", "2"]
    assert not (tmp_path / "p" / "sprite.png").exists()


def test_sprite_fits_the_projector_limit():
    cols, cell = sprite_grid(70000, (64, 64))
    assert cols == 265 and cols * cell[0] <= 8192 and cell[0] == 30


def test_atlas_parquet_has_the_documented_columns(tmp_path, digit_items):
    path = write_atlas(tmp_path / "atlas.parquet", digit_items.subset([5, 7, 9, 11]), neighbors=2)
    table = pq.read_table(path)
    assert {"x", "y", "label", "text", "vector", "image", "neighbors"} <= set(table.column_names)
    assert table.num_rows == 4 and table.column("id").to_pylist() == [5, 7, 9, 11]
    np.testing.assert_allclose(table.column("x").to_numpy(), digit_items.layout[[5, 7, 9, 11], 0], rtol=1e-6)
    image = table.column("image")[0].as_py()
    assert set(image) == {"bytes", "path"} and Image.open(io.BytesIO(image["bytes"])).size == (8, 8)
    nb = table.column("neighbors")[0].as_py()
    assert len(nb["ids"]) == 2 and 0 not in nb["ids"] and nb["distances"] == sorted(nb["distances"])
    assert table.schema.field("vector").type == pa.list_(pa.float32(), 4)


def test_atlas_without_layout_uses_pca_and_round_trips_selection(tmp_path):
    rng = np.random.default_rng(0)
    codes = Codes(z=rng.normal(size=(30, 3)).astype(np.float32), mu=None, logvar=None,
                  labels=np.arange(30) % 3, recon_error=np.zeros(30, np.float32))
    write_codes(tmp_path / "c.parquet", codes, class_names=["a", "b", "c"], layouts={"tsne": rng.normal(size=(30, 2))},
                recon_error=False)
    contents = read_codes(tmp_path / "c.parquet")
    items = items_from_codes_file(contents)
    assert items.layout is not None  # the only layout, tsne, is taken
    items.layout = None
    table = pq.read_table(write_atlas(tmp_path / "a.parquet", items))
    assert np.var(table.column("x").to_numpy()) >= np.var(table.column("y").to_numpy()) > 0
    assert table.column("label").to_pylist()[:3] == ["a", "b", "c"] and "image" not in table.column_names
    sel = write_codes_selection(tmp_path / "sel.parquet", contents, np.array([4, 2]))
    back = read_codes(sel)
    assert back.ids.tolist() == [4, 2] and not back.has_recon_error and back.class_names == ["a", "b", "c"]
    np.testing.assert_array_equal(back.codes.z, contents.codes.z[[4, 2]])
    np.testing.assert_array_equal(back.layouts["tsne"], contents.layouts["tsne"][[4, 2]])


def test_selection_files(tmp_path):
    np.save(tmp_path / "s.npy", np.array([3, 1]))
    (tmp_path / "s.csv").write_text("index,label\n2,0\n0,1\n")
    (tmp_path / "s.txt").write_text("4\n")
    assert read_selection(tmp_path / "s.npy", 5).tolist() == [3, 1]
    assert read_selection(tmp_path / "s.csv", 5).tolist() == [2, 0]
    assert read_selection(tmp_path / "s.txt", 5).tolist() == [4]
    with pytest.raises(ExchangeError, match="from 3 to 3") as err:
        np.save(tmp_path / "far.npy", np.array([3]))
        read_selection(tmp_path / "far.npy", 2)
    assert "fix:" in str(err.value)
    with pytest.raises(ExchangeError, match="empty"):
        ExportItems(z=np.zeros((2, 2)), ids=np.arange(2)).subset([])
