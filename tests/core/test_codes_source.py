"""Codes opened without a model: rows as a pixel-less dataset, big files memory-mapped, what decodes them."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core.codes_file import codes_schema, codes_table, write_codes_table
from latent_explorer.core.codes_source import (
    check_attachable,
    decoding_note,
    has_pixels,
    iter_open_codes,
    open_codes,
    spool_folder,
)
from latent_explorer.core.errors import DatasetError, ModelError
from latent_explorer.core.jobs import run_job
from latent_explorer.core.parquet_dataset import begin_dataset, finish_dataset

pytest.importorskip("pyarrow")


def write_folder(folder, n_parts=3, rows=40, d=5, finish=True, seed=0):
    rng = np.random.default_rng(seed)
    schema = codes_schema(d, variational=True, labels="string", layouts=("xy",))
    begin_dataset(folder, {})
    names, zs = [], []
    for k in range(n_parts):
        z = rng.normal(size=(rows, d)).astype(np.float32)
        zs.append(z)
        table = codes_table({"id": np.arange(k * rows, (k + 1) * rows), "z": z, "mu": z * 0.5, "logvar": z * 0,
                             "label": np.array(["a", "b"])[np.arange(rows) % 2], "recon_error": np.ones(rows),
                             "x": z[:, 0], "y": z[:, 1]}, schema=schema)
        name = f"part-{k:05d}.parquet"
        write_codes_table(folder / name, table)
        names.append(name)
    if finish:
        finish_dataset(folder, names, rows * n_parts, {})
    return np.concatenate(zs)


def test_a_big_folder_has_its_codes_memory_mapped_once_and_its_draw_columns_in_memory(tmp_path):
    folder = tmp_path / "ds"
    z = write_folder(folder)
    opened = run_job(iter_open_codes(folder, spool_rows=10))
    codes, dataset = opened.codes, opened.dataset
    for part, expected in (("z", z), ("mu", z * 0.5)):
        array = getattr(codes, part)
        assert isinstance(array, np.memmap) or isinstance(array.base, np.memmap)
        np.testing.assert_array_equal(array, expected)
    spooled = spool_folder(dataset.info)
    stamp = (spooled / "z.npy").stat().st_mtime_ns
    assert dataset.layouts["xy"].shape == (120, 2) and not isinstance(dataset.layouts["xy"], np.memmap)
    assert dataset.class_names == ["a", "b"] and len(dataset) == 120 and not has_pixels(dataset)
    again = run_job(iter_open_codes(folder, spool_rows=10))
    assert (spooled / "z.npy").stat().st_mtime_ns == stamp  # found in the cache, not copied again
    np.testing.assert_array_equal(again.codes.z, z)
    # a small file is read into memory as before
    small = open_codes(folder)
    assert not isinstance(small.codes.z, np.memmap) and not isinstance(small.codes.z.base, np.memmap)


def test_a_rewritten_folder_is_spooled_afresh(tmp_path):
    folder = tmp_path / "ds"
    write_folder(folder, seed=0)
    first = spool_folder(open_codes(folder).dataset.info)
    z = write_folder(folder, seed=1)
    opened = run_job(iter_open_codes(folder, spool_rows=10))
    assert spool_folder(opened.dataset.info) != first
    np.testing.assert_array_equal(opened.codes.z, z)


def test_a_half_written_folder_is_refused(tmp_path):
    folder = tmp_path / "ds"
    write_folder(folder, finish=False)
    with pytest.raises(DatasetError, match="half-written"):
        open_codes(folder)


class FakeModel:
    name = "m"

    def __init__(self, d, fingerprint="abc"):
        self.latent_dim, self._fp = d, fingerprint

    def fingerprint(self):
        return self._fp


def test_only_a_model_of_the_same_latent_size_attaches(tmp_path):
    folder = tmp_path / "ds"
    write_folder(folder)
    opened = open_codes(folder)
    assert "z_dim = 5" in opened.note
    with pytest.raises(ModelError, match="z_dim = 4, the codes have z_dim = 5"):
        check_attachable(FakeModel(4), opened.codes)
    assert check_attachable(FakeModel(5), opened.codes) == ""  # no fingerprint recorded: nothing to warn about
    opened.codes.model_key = "feedbeef"
    assert "not the model" in check_attachable(FakeModel(5), opened.codes)
    assert "fingerprint feedbeef" in decoding_note(None, opened.codes)


def test_thumbnails_come_from_relative_image_paths(tmp_path):
    from PIL import Image

    (tmp_path / "thumbs").mkdir()
    Image.fromarray(np.full((4, 5, 3), 200, np.uint8)).save(tmp_path / "thumbs" / "0.png")
    z = np.zeros((2, 3), np.float32)
    write_codes_table(tmp_path / "c.parquet", codes_table({"z": z, "image_path": ["thumbs/0.png", "gone.png"]}))
    dataset = open_codes(tmp_path / "c.parquet").dataset
    assert dataset.display_image(0).shape == (4, 5, 3) and dataset.display_image(1) is None
