"""The tiny-KL VAE demo is the z = 256 autoencoder's twin: same data, architecture family, epochs and seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from latent_explorer.core.models import load_model

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo"
TINY_KL = DEMO / "fashion-conv-vae-z256-tinykl"
COMMAND = ("--data fashion-mnist-train --arch conv-vae --z-dim 256 --beta 1e-5 --epochs 12 --seed 0 "
           "--out {}fashion-conv-vae-z256-tinykl")


def config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())


@pytest.mark.skipif(not TINY_KL.is_dir(), reason="demo models not built")
def test_tiny_kl_demo_matches_the_z256_autoencoder_but_for_the_kl_weight():
    vae, ae = config(TINY_KL), config(DEMO / "fashion-conv-ae-z256")
    assert (vae["arch"], ae["arch"]) == ("conv-vae", "conv-ae")
    assert vae["beta"] == 1e-5 and vae["epochs_done"] == vae["epochs"] == 12
    for key in ("z_dim", "input_shape", "lr", "batch_size", "epochs", "seed", "dataset", "input_range"):
        assert vae[key] == ae[key], key
    assert not (TINY_KL / "optimizer.safetensors").exists()  # shipped demos leave the optimizer state out


def test_tiny_kl_demo_is_trained_by_the_script_and_documented():
    assert "$LE train " + COMMAND.format("$out/") in (ROOT / "packaging" / "train_demos.sh").read_text()
    assert "latent-explorer train " + COMMAND.format("demo/") in (ROOT / "resources" / "README.md").read_text()


@pytest.mark.skipif(not TINY_KL.is_dir(), reason="demo models not built")
def test_tiny_kl_demo_has_a_nearly_deterministic_posterior():
    model = load_model(str(TINY_KL), device="cpu")
    x = torch.from_numpy(np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32))
    enc = model.encode(x)
    assert model.is_variational and model.latent_dim == 256
    assert float(enc.logvar.mean()) < -5.0  # a KL weight of 1e-5 lets the posterior collapse onto mu
