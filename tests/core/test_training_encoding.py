"""Training (one epoch on digits, reproducible, resumable), encoding determinism and the on-disk cache."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from latent_explorer.core.encoding import Codes, cache_path, iter_encode, iter_encode_cached
from latent_explorer.core.errors import ModelError
from latent_explorer.core.jobs import run_job
from latent_explorer.core.models import load_model
from latent_explorer.core.models.checkpoint import TrainConfig, read_config
from latent_explorer.core.models.training import iter_train


def train(digits, out, epochs, resume=False, arch="conv-ae"):
    cfg = TrainConfig(arch=arch, z_dim=3, epochs=epochs, batch_size=128, seed=7)
    return run_job(iter_train(cfg, digits, out, resume=resume))


def test_one_epoch_writes_checkpoint_with_history(digits_vae):
    cfg = read_config(digits_vae)
    assert cfg.arch == "conv-vae" and cfg.epochs_done == 1 and cfg.input_shape == (1, 8, 8)
    hist = cfg.history[0]
    assert set(hist) >= {"loss", "recon", "kl", "seconds"} and hist["kl"] > 0
    assert hist["loss"] == pytest.approx(hist["recon"] + cfg.beta * hist["kl"], rel=1e-4)
    assert cfg.dataset["name"] == "digits" and cfg.class_names[3] == "3"
    assert not list(digits_vae.glob(".*"))  # no temporary files left behind


def test_training_is_reproducible_and_resumable(digits, tmp_path):
    train(digits, tmp_path / "a", 2)
    train(digits, tmp_path / "b", 2)
    train(digits, tmp_path / "c", 1)
    cfg = train(digits, tmp_path / "c", 2, resume=True)
    assert cfg.epochs_done == 2 and [h["epoch"] for h in cfg.history] == [1, 2]
    a, b, c = (load_file(str(tmp_path / k / "weights.safetensors")) for k in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(torch.allclose(a[k], c[k], atol=1e-5) for k in a)


def test_resume_with_other_architecture_refused(digits, tmp_path):
    train(digits, tmp_path / "a", 1)
    with pytest.raises(ModelError, match="resume with the same"):
        train(digits, tmp_path / "a", 2, resume=True, arch="conv-vae")


def test_encoding_is_deterministic_and_complete(digits_vae, digits):
    model = load_model(digits_vae, device="cpu")
    one = run_job(iter_encode(model, digits, batch_size=300))
    two = run_job(iter_encode(model, digits, batch_size=300))
    assert one.z.shape == (1797, 4) and one.mu.shape == one.logvar.shape == (1797, 4)
    assert np.array_equal(one.z, two.z) and not np.array_equal(one.z, one.mu)
    assert np.array_equal(one.labels, digits.labels)
    with torch.no_grad():
        x = torch.from_numpy(digits.float_images(slice(0, 5)))
        mu = model.encode(x).mu
        err = ((model.decode(mu) - x) ** 2).flatten(1).mean(1).numpy()
    assert np.allclose(one.mu[:5], mu.numpy(), atol=1e-5)
    assert np.allclose(one.recon_error[:5], err, atol=1e-6)


def test_cache_serves_second_encoding(digits_vae, digits):
    model = load_model(digits_vae, device="cpu")
    first_progress, second_progress = [], []
    first = run_job(iter_encode_cached(model, digits), first_progress.append)
    assert cache_path(model, digits).exists()
    second = run_job(iter_encode_cached(model, digits), second_progress.append)
    assert [p.message for p in second_progress] == ["from cache"]
    assert len(first_progress) > 1
    assert np.array_equal(first.z, second.z) and np.array_equal(first.logvar, second.logvar)
    other = digits.subset(np.arange(100))
    assert cache_path(model, other) != cache_path(model, digits)


def test_corrupt_cache_entry_is_recomputed(digits_vae, digits):
    model = load_model(digits_vae, device="cpu")
    path = cache_path(model, digits)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"garbage")
    codes = run_job(iter_encode_cached(model, digits))
    assert codes.z.shape == (1797, 4)
    assert Codes.load_npz(path).z.shape == (1797, 4)


def test_encode_cancellation_stops_early(digits_vae, digits):
    model = load_model(digits_vae, device="cpu")
    job = iter_encode(model, digits, batch_size=512)  # the model's fixed call size for 8 × 8 images
    seen = [next(job), next(job)]
    job.close()
    assert seen[-1].done == 512


def test_history_json_is_plain(digits_vae):
    data = json.loads((digits_vae / "config.json").read_text())
    assert data["format"] == "latent-explorer-checkpoint" and data["z_dim"] == 4


def test_resume_on_images_of_another_shape_refused(digits, small_images, tmp_path):
    train(digits, tmp_path / "a", 1)
    cfg = TrainConfig(arch="conv-ae", z_dim=3, epochs=2, batch_size=128, seed=7)
    with pytest.raises(ModelError, match=r"trained on images of shape \[1, 8, 8\]"):
        run_job(iter_train(cfg, small_images, tmp_path / "a", resume=True))
