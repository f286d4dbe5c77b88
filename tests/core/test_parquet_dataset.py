"""A Parquet codes dataset reads as complete only when its job finished: parts come from the manifest, a folder
that was started and never finished is refused, someone else's folder of parts still opens."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core.codes_file import codes_table, read_codes, write_codes_table
from latent_explorer.core.errors import DatasetError
from latent_explorer.core.parquet_dataset import STARTED, SUCCESS, begin_dataset, dataset_parts, finish_dataset


def write_parts(folder, rows=(5, 7)):
    names, start = [], 0
    for k, n in enumerate(rows):
        z = np.arange(start, start + n, dtype=np.float32)[:, None].repeat(3, 1)
        name = f"part-{k:06d}.parquet"
        write_codes_table(folder / name, codes_table({"id": np.arange(start, start + n), "z": z}))
        names.append(name)
        start += n
    return names


def test_a_finished_dataset_reads_the_parts_its_manifest_names(tmp_path):
    folder = begin_dataset(tmp_path / "codes", {"data": "x"})
    names = write_parts(folder)
    write_codes_table(folder / "part-leftover.parquet", codes_table({"z": np.ones((2, 3), np.float32)}))
    finish_dataset(folder, names, 12, {})
    assert not (folder / STARTED).exists() and (folder / SUCCESS).exists()
    assert [p.name for p in dataset_parts(folder)] == names  # the leftover part is not the dataset's
    assert read_codes(folder).ids.tolist() == list(range(12))


def test_a_killed_job_leaves_a_dataset_that_is_refused(tmp_path):
    folder = begin_dataset(tmp_path / "codes", {})
    write_parts(folder)  # ... and the job dies before finish_dataset
    with pytest.raises(DatasetError, match="half-written"):
        read_codes(folder)
    folder_two = tmp_path / "moved"
    folder_two.mkdir()
    finish_dataset(folder_two, ["part-000000.parquet"], 5, {})
    with pytest.raises(DatasetError, match="missing"):
        dataset_parts(folder_two)


def test_a_folder_without_markers_is_read_as_all_its_parts(tmp_path):
    folder = tmp_path / "theirs"
    folder.mkdir()
    write_parts(folder)
    assert len(read_codes(folder)) == 12


def test_a_new_job_clears_its_own_old_dataset_but_not_a_foreign_folder(tmp_path):
    folder = begin_dataset(tmp_path / "codes", {})
    finish_dataset(folder, write_parts(folder), 12, {})
    begin_dataset(folder, {})
    assert not list(folder.glob("*.parquet")) and (folder / STARTED).exists()
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(DatasetError, match="not empty"):
        begin_dataset(foreign, {})
