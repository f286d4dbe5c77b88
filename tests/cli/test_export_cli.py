"""``latent-explorer export``: Projector, Atlas and codes outputs from a codes file or a model, with selections."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
from PIL import Image

from latent_explorer.cli import main
from latent_explorer.core.codes_file import read_codes


def test_export_from_codes_file_with_selection(tmp_path, capsys, digits_vae, digits):
    codes = tmp_path / "codes.parquet"
    assert main(["encode", "--model", str(digits_vae), "--data", "digits", "--out", str(codes)]) == 0
    np.save(tmp_path / "sel.npy", np.array([10, 20, 30]))
    assert main(["export", "--to", "atlas", "--codes", str(codes), "--data", "digits", "--selection",
                 str(tmp_path / "sel.npy"), "--neighbors", "1", "--out", str(tmp_path / "atlas.parquet")]) == 0
    err = capsys.readouterr().err
    assert "embedding-atlas" in err and "--image image" in err and "--neighbors neighbors" in err
    table = pq.read_table(tmp_path / "atlas.parquet")
    assert table.column("id").to_pylist() == [10, 20, 30] and "image" in table.column_names
    assert main(["export", "--to", "codes", "--codes", str(codes), "--selection", str(tmp_path / "sel.npy"),
                 "--out", str(tmp_path / "sel.arrow")]) == 0
    full, sub = read_codes(codes), read_codes(tmp_path / "sel.arrow")
    np.testing.assert_array_equal(sub.codes.mu, full.codes.mu[[10, 20, 30]])
    # a subset's thumbnails come from the dataset rows its ids name
    assert main(["export", "--to", "projector", "--codes", str(tmp_path / "sel.arrow"), "--data", "digits",
                 "--out", str(tmp_path / "sub")]) == 0
    sprite = np.asarray(Image.open(tmp_path / "sub" / "sprite.png"))
    np.testing.assert_allclose(sprite[8:16, 0:8], np.round(digits.display_image(30) * 255), atol=1)
    assert main(["export", "--to", "projector", "--model", str(digits_vae), "--data", "digits", "--no-images",
                 "--out", str(tmp_path / "proj")]) == 0
    assert len((tmp_path / "proj" / "tensors.tsv").read_text().splitlines()) == 1797
    assert not (tmp_path / "proj" / "sprite.png").exists()


def test_export_errors_exit_2_with_a_fix(tmp_path, capsys):
    assert main(["export", "--to", "atlas", "--out", str(tmp_path / "a.parquet")]) == 2
    assert "--codes FILE" in capsys.readouterr().err
    np.save(tmp_path / "z.npy", np.zeros((4, 2), np.float32))
    assert main(["export", "--to", "atlas", "--codes", str(tmp_path / "z.npy"), "--out", str(tmp_path / "a.csv")]) == 2
    assert ".parquet" in capsys.readouterr().err
    assert main(["export", "--to", "codes", "--codes", str(tmp_path / "missing.parquet"),
                 "--out", str(tmp_path / "o.parquet")]) == 2
    assert "no such codes file" in capsys.readouterr().err
    assert not (tmp_path / "a.csv").exists() and not (tmp_path / "o.parquet").exists()
