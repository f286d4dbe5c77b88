"""The codes file schema: exact round trips in every format, foreign files, datasets of parts, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from latent_explorer.core.codes_file import (
    CodesFileError,
    CodesMetadata,
    codes_columns,
    codes_file_info,
    codes_schema,
    codes_table,
    read_codes,
    write_codes,
    write_codes_table,
)
from latent_explorer.core.encoding import Codes


def make_codes(n: int = 50, d: int = 6, variational: bool = True, seed: int = 0) -> Codes:
    rng = np.random.default_rng(seed)
    part = (lambda: rng.normal(size=(n, d)).astype(np.float32)) if variational else (lambda: None)
    return Codes(z=rng.normal(size=(n, d)).astype(np.float32), mu=part(), logvar=part(),
                 labels=rng.integers(0, 4, n), recon_error=rng.random(n).astype(np.float32),
                 model_key="model-fp", data_key="data-fp")


@pytest.mark.parametrize("suffix", [".parquet", ".arrow", ".feather", ".npz"])
def test_round_trip_is_exact(tmp_path, suffix):
    codes = make_codes()
    rng = np.random.default_rng(1)
    layouts = {"xy": rng.normal(size=(50, 2)).astype(np.float32), "tsne": rng.normal(size=(50, 2)).astype(np.float32)}
    attrs = {"Smiling": np.sign(rng.normal(size=50)).astype(np.float32)}
    path = write_codes(tmp_path / f"codes{suffix}", codes, class_names=list("abcd"), seed=7, layouts=layouts,
                       attributes=attrs, ids=np.arange(100, 150))
    back = read_codes(path)
    for part in ("z", "mu", "logvar", "labels", "recon_error"):
        np.testing.assert_array_equal(getattr(back.codes, part), getattr(codes, part))
    assert back.codes.z.dtype == np.float32 and back.codes.labels.dtype == np.int64
    assert (back.codes.model_key, back.codes.data_key) == ("model-fp", "data-fp")
    assert back.class_names == list("abcd") and back.metadata.seed == 7 and back.has_recon_error
    np.testing.assert_array_equal(back.ids, np.arange(100, 150))
    assert set(back.layouts) == {"xy", "tsne"}
    np.testing.assert_array_equal(back.layouts["tsne"], layouts["tsne"])
    np.testing.assert_array_equal(back.attributes["Smiling"], attrs["Smiling"])
    assert not list(tmp_path.glob(".codes*")), "no temporary file is left behind"


def test_parquet_schema_and_metadata_as_documented(tmp_path):
    path = write_codes(tmp_path / "c.parquet", make_codes(d=5), class_names=list("abcd"), seed=3)
    schema = pq.read_schema(path)
    assert schema.field("z").type == pa.list_(pa.float32(), 5)
    assert schema.field("id").type == pa.int64() and schema.field("label").type == pa.int64()
    meta = {k.decode(): v.decode() for k, v in schema.metadata.items()}
    assert meta["latent_explorer.schema_version"] == "1"
    assert meta["latent_explorer.model_fingerprint"] == "model-fp"
    assert meta["latent_explorer.dataset_fingerprint"] == "data-fp"
    assert json.loads(meta["latent_explorer.label_names"]) == list("abcd")
    assert json.loads(meta["latent_explorer.seed"]) == 3


def test_foreign_parquet_with_string_labels_and_no_model(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(30, 3)).astype(np.float32)
    table = pa.table({"z": pa.FixedSizeListArray.from_arrays(pa.array(z.ravel()), 3),
                      "label": ["dog", "cat", "eel"] * 10, "notes": ["x"] * 30})
    pq.write_table(table, tmp_path / "theirs.parquet")
    back = read_codes(tmp_path / "theirs.parquet")
    np.testing.assert_array_equal(back.codes.z, z)
    assert back.class_names == ["cat", "dog", "eel"]
    np.testing.assert_array_equal(back.codes.labels[:3], [1, 0, 2])
    assert back.codes.mu is None and not back.has_recon_error and back.codes.model_key == ""
    np.testing.assert_array_equal(back.ids, np.arange(30))


def test_split_columns_variable_lists_and_dictionary_labels(tmp_path):
    z = np.arange(12, dtype=np.float64).reshape(4, 3)
    split = pa.table({f"z_{i}": z[:, i] for i in range(3)} | {
        "label": pa.array(["b", "a", "b", "c"]).dictionary_encode()})
    pq.write_table(split, tmp_path / "split.parquet")
    back = read_codes(tmp_path / "split.parquet")
    np.testing.assert_array_equal(back.codes.z, z.astype(np.float32))
    assert back.class_names == ["b", "a", "c"]  # a dictionary keeps its own order
    np.testing.assert_array_equal(back.codes.labels, [0, 1, 0, 2])
    lists = pa.table({"z": pa.array(z.tolist())})  # list<double>, as pa.table makes from Python lists
    pq.write_table(lists, tmp_path / "lists.parquet")
    np.testing.assert_array_equal(read_codes(tmp_path / "lists.parquet").codes.z, z.astype(np.float32))
    assert codes_file_info(tmp_path / "split.parquet").latent_dim == 3


def test_dataset_folder_of_part_files(tmp_path):
    codes = make_codes(n=90)
    schema = codes_schema(6, variational=True, metadata=CodesMetadata(model_fingerprint="m"))
    folder = tmp_path / "codes"
    for i, start in enumerate(range(0, 90, 40)):
        rows = slice(start, start + 40)
        part = {"id": np.arange(90)[rows], "label": codes.labels[rows], "z": codes.z[rows], "mu": codes.mu[rows],
                "logvar": codes.logvar[rows], "recon_error": codes.recon_error[rows]}
        write_codes_table(folder / f"part-{i:05d}.parquet", codes_table(part, schema=schema))
    back = read_codes(folder)
    order = np.argsort(back.ids)
    np.testing.assert_array_equal(back.codes.z[order], codes.z)
    np.testing.assert_array_equal(back.codes.labels[order], codes.labels)
    info = codes_file_info(folder)
    assert (info.format, info.rows, info.latent_dim, info.is_variational) == ("parquet-dataset", 90, 6, True)


def test_only_the_asked_columns_are_read(tmp_path):
    path = write_codes(tmp_path / "c.parquet", make_codes(), images=[b"\x89PNG"] * 50)
    back = read_codes(path, fields=("z", "label"))
    assert back.codes.mu is None and back.images is None and not back.has_recon_error
    assert back.codes.labels is not None
    assert read_codes(path, fields=("z", "image")).images[0] == b"\x89PNG"


def test_arrow_and_npy_are_memory_mapped(tmp_path):
    codes = make_codes(variational=False)
    arrow = read_codes(write_codes(tmp_path / "c.arrow", codes))
    assert not arrow.codes.z.flags.writeable and not arrow.codes.z.flags.owndata  # a view of the mapping
    npy = read_codes(write_codes(tmp_path / "c.npy", codes))
    assert isinstance(npy.codes.z.base, np.memmap) or isinstance(npy.codes.z, np.memmap)
    np.testing.assert_array_equal(npy.codes.z, codes.z)


def test_encode_npz_stays_readable_by_the_cache_loader(tmp_path):
    codes = make_codes()
    back = Codes.load_npz(write_codes(tmp_path / "c.npz", codes, class_names=list("abcd")))
    np.testing.assert_array_equal(back.z, codes.z)
    assert back.model_key == "model-fp"


@pytest.mark.parametrize(("table", "expected"), [
    ({"w": [1.0, 2.0]}, "no codes: expected a 'z' column"),
    ({"z": ["a", "b"]}, "a list of floats was expected"),
    ({"z": [[1.0, 2.0], [1.0]]}, "lists of different lengths"),
    ({"z": [[1.0, float("nan")], [1.0, 2.0]]}, "NaN or infinite"),
    ({"z_0": [1.0], "z_2": [2.0]}, "lack z_1"),
    ({"z": [[1.0], [2.0]], "id": [3, 3]}, "repeats values"),
    ({"z": [[1.0], [2.0]], "label": [0, -1]}, "class ids from 0"),
    ({"z": [[1.0], [2.0]], "label": ["a", None]}, "missing values"),
])
def test_bad_files_name_the_file_and_the_fix(tmp_path, table, expected):
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table(table), path)
    with pytest.raises(CodesFileError) as err:
        read_codes(path)
    assert expected in str(err.value) and str(path) in str(err.value)


def test_unreadable_and_unknown_files(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(CodesFileError, match="cannot read this file as Parquet"):
        read_codes(tmp_path / "broken.parquet")
    with pytest.raises(CodesFileError, match="extension '.csv'") as err:
        write_codes(tmp_path / "c.csv", make_codes())
    assert err.value.hint and ".parquet" in err.value.hint
    with pytest.raises(CodesFileError, match="no such codes file"):
        read_codes(tmp_path / "missing.arrow")
    pq.write_table(pa.table({"z": [[1.0]]}, metadata={"latent_explorer.schema_version": "99"}),
                   tmp_path / "new.parquet")
    with pytest.raises(CodesFileError, match="schema version 99"):
        read_codes(tmp_path / "new.parquet")


def test_codes_table_checks_row_counts_and_schema():
    with pytest.raises(CodesFileError, match="'label' has 2 rows"):
        codes_table({"z": np.zeros((3, 2)), "label": [0, 1]})
    schema = codes_schema(2, recon_error=True)
    table = codes_table(codes_columns(make_codes(n=3, d=2, variational=False), include_recon_error=False),
                        schema=schema)
    assert table.schema.equals(schema, check_metadata=False) and table.column("recon_error").null_count == 3
