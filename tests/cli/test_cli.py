"""The command line: train, encode, info, demos; clear errors, exit code 2, no half-written outputs."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from latent_explorer.cli import main
from latent_explorer.core.models import demo_models


def test_train_encode_info(tmp_path, capsys):
    out = tmp_path / "ck"
    assert main(["train", "--data", "digits", "--arch", "mlp-ae", "--z-dim", "2", "--epochs", "1",
                 "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["epochs"] == 1
    assert main(["encode", "--model", str(out), "--data", "digits", "--out", str(tmp_path / "c.npz")]) == 0
    with np.load(tmp_path / "c.npz") as codes:
        assert codes["z"].shape == (1797, 2) and "mu" not in codes.files
        assert codes["labels"].shape == (1797,) and codes["recon_error"].shape == (1797,)
    capsys.readouterr()
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["z_dim"] == 2 and info["input_shape"] == [1, 8, 8] and info["parameters"] > 1000
    assert info["runs_code_when_loaded"] is False


def test_encode_error_leaves_no_output(tmp_path, capsys, digits_vae):
    bad = tmp_path / "x-images-idx3-ubyte"
    bad.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 10, 8, 8) + b"\0" * 100)  # truncated
    target = tmp_path / "out.npz"
    assert main(["encode", "--model", str(digits_vae), "--data", str(bad), "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "truncated" in err and str(bad) in err
    assert not target.exists() and not list(tmp_path.glob(".out.npz*"))


def test_model_shape_mismatch_is_explained(tmp_path, capsys, digits_vae):
    np.save(tmp_path / "x.npy", np.zeros((4, 12, 12), np.uint8))
    code = main(["encode", "--model", str(digits_vae), "--data", str(tmp_path / "x.npy"),
                 "--out", str(tmp_path / "o.npz")])
    assert code == 2
    assert "[1, 8, 8]" in capsys.readouterr().err


def test_unknown_model(capsys):
    assert main(["info", "demo:no-such-model"]) == 2
    assert "no built-in demo model" in capsys.readouterr().err


@pytest.mark.skipif(not demo_models(), reason="demo models not built")
def test_demos_listed_and_loadable(capsys):
    assert main(["demos", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = {r["model"] for r in rows}
    assert {"demo:digits-conv-ae", "demo:digits-conv-vae", "demo:fashion-conv-ae", "demo:fashion-conv-vae",
            "demo:fashion-conv-ae-z256"} <= names
    assert main(["info", "demo:fashion-conv-ae-z256", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["z_dim"] == 256
