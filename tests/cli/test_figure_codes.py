"""``figure --codes``: codes from a file drawn without a model; what decodes is refused with exit 2."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.cli import main

pyarrow = pytest.importorskip("pyarrow")


@pytest.fixture
def codes_parquet(tmp_path):
    import pyarrow.parquet as pq

    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(3), 40)
    z = ((rng.normal(size=(3, 6)) * 5)[labels] + rng.normal(size=(120, 6))).astype(np.float32)
    table = pyarrow.table({"z": pyarrow.FixedSizeListArray.from_arrays(pyarrow.array(z.ravel()), 6),
                           "label": pyarrow.array(np.array(["a", "b", "c"])[labels])})
    path = tmp_path / "codes.parquet"
    pq.write_table(table, path)
    return path


def painted_pixels(path) -> int:
    from PIL import Image

    image = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return int((np.abs(image - image[0, 0]).sum(axis=2) > 30).sum())


def test_the_pca_scatter_of_a_codes_file_is_drawn_without_a_model(codes_parquet, tmp_path, capsys):
    out = tmp_path / "scatter.png"
    assert main(["figure", "--codes", str(codes_parquet), "--out", str(out)]) == 0
    assert out.exists() and painted_pixels(out) > 500


def test_an_analysis_of_the_codes_is_drawn(codes_parquet, tmp_path):
    out = tmp_path / "pca.png"
    assert main(["figure", "--codes", str(codes_parquet), "--panel", "pca", "--out", str(out)]) == 0
    assert out.exists() and painted_pixels(out) > 500


@pytest.mark.parametrize("extra, words", [
    (["--panel", "recon"], "needs a model"),
    (["--panel", "decoder"], "needs a model"),
    (["--model", "demo:digits-conv-ae"], "--model cannot go with it"),
    (["--data", "digits"], "--data cannot go with it"),
])
def test_what_needs_a_model_is_refused_with_exit_2(codes_parquet, tmp_path, capsys, extra, words):
    out = tmp_path / "x.png"
    assert main(["figure", "--codes", str(codes_parquet), *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and not out.exists()


def test_a_half_written_folder_is_refused(codes_parquet, tmp_path, capsys):
    from latent_explorer.core.parquet_dataset import STARTED

    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "part-0.parquet").write_bytes(codes_parquet.read_bytes())
    (folder / STARTED).write_text("{}")
    assert main(["figure", "--codes", str(folder), "--out", str(tmp_path / "x.png")]) == 2
    assert "half-written" in capsys.readouterr().err
