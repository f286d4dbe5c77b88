"""Command-line checks of the scale commands that fail before Ray or any model is touched."""

from __future__ import annotations

from latent_explorer.cli import main


def test_ray_engine_refuses_a_single_file_output(tmp_path, capsys):
    code = main(["encode", "--engine", "ray", "--model", "demo:digits-conv-vae", "--data", "digits",
                 "--out", str(tmp_path / "codes.npz")])
    assert code == 2
    err = capsys.readouterr().err
    assert "writes a Parquet dataset folder" in err and "fix:" in err


def test_embed_refuses_a_format_it_cannot_write_back(tmp_path, capsys):
    path = tmp_path / "codes.npz"
    path.write_bytes(b"")
    assert main(["embed", str(path), "--method", "tsne"]) == 2
    assert "Parquet" in capsys.readouterr().err
