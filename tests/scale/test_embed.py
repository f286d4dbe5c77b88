"""``embed``: fit on a stratified sample, place the rest, write x, y back into the dataset atomically."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from latent_explorer.cli import main
from latent_explorer.core.codes_file import codes_table, read_codes, write_codes_table
from latent_explorer.core.parquet_dataset import begin_dataset, dataset_parts, finish_dataset, read_manifest
from latent_explorer.scale.embed import place_by_neighbours, stratified_sample


@pytest.fixture
def digit_codes(tmp_path):
    """600 digits' pixel vectors as 64-d "codes" in three part files, with labels."""
    bunch = load_digits()
    data, labels = bunch.data[:600].astype(np.float32) / 16.0, bunch.target[:600]
    folder = begin_dataset(tmp_path / "codes", {})
    names = []
    for k, start in enumerate(range(0, 600, 200)):
        rows = slice(start, start + 200)
        names.append(f"part-{k:06d}.parquet")
        write_codes_table(folder / names[-1], codes_table({"id": np.arange(600)[rows], "label": labels[rows],
                                                           "z": data[rows]}))
    finish_dataset(folder, names, 600, {})
    return folder, data, labels


def test_stratified_sample_keeps_every_class_share():
    labels = np.repeat([0, 1, 2], [700, 200, 100])
    pick = stratified_sample(1000, 100, labels, seed=0)
    assert len(pick) == 100 and len(np.unique(pick)) == 100
    assert np.bincount(labels[pick]).tolist() == [70, 20, 10]
    assert np.array_equal(pick, stratified_sample(1000, 100, labels, seed=0))


def test_embed_writes_xy_into_new_parts_and_keeps_every_column(digit_codes, capsys):
    folder, data, labels = digit_codes
    old = [p.name for p in dataset_parts(folder)]
    code = main(["embed", str(folder), "--method", "tsne", "--fit-sample", "200", "--chunk", "250",
                 "--iterations", "200", "--json"])
    assert code == 0
    got = read_codes(folder)
    assert np.array_equal(got.codes.z, data) and np.array_equal(got.codes.labels, labels)
    xy = got.layouts["xy"]
    assert xy.shape == (600, 2) and np.isfinite(xy).all() and xy.std() > 1
    manifest = read_manifest(folder)
    assert manifest["layout_xy"]["fit_sample"] == 200 and manifest["generation"] == 1
    assert not any((folder / name).exists() for name in old)  # the old parts went after the new manifest
    # the placed digits land among their own class: 10-NN label agreement in the map
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.neighbors import iter_neighbors

    near = run_job(iter_neighbors(xy, k=10)).indices
    assert (labels[near] == labels[:, None]).mean() > 0.8


def test_neighbour_placement_lands_on_the_nearest_fitted_points():
    fit = np.array([[0.0, 0.0], [10.0, 10.0]], np.float32)
    layout = np.array([[-5.0, -5.0], [5.0, 5.0]], np.float32)
    placed = place_by_neighbours(fit, layout, np.array([[0.1, 0.0], [9.9, 10.0]], np.float32), k=1)
    assert np.allclose(placed, layout, atol=1e-5)
