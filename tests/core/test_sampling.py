"""A VAE's z depends only on (model, sample, seed): never on the batch size, the cache or the batch order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latent_explorer.cli import main
from latent_explorer.core.encoding import Codes, cache_path, chunk_rows, iter_encode, iter_encode_cached
from latent_explorer.core.jobs import run_job
from latent_explorer.core.models import demo_models, load_model
from latent_explorer.core.models.base import EPS_CLIP, NoiseKey, gaussian_noise


@pytest.mark.parametrize("dim", [1, 3, 8, 255, 256])
def test_noise_rows_do_not_depend_on_the_split(dim):
    whole = gaussian_noise(11, 0, 600, dim)
    one_by_one = np.concatenate([gaussian_noise(11, i, 1, dim) for i in range(600)])
    ragged = np.concatenate([gaussian_noise(11, s, min(97, 600 - s), dim) for s in range(0, 600, 97)])
    assert whole.shape == (600, dim) and whole.dtype == np.float32 and whole.flags.c_contiguous
    assert np.array_equal(whole, one_by_one) and np.array_equal(whole, ragged)
    assert np.array_equal(gaussian_noise(11, 250, 10, dim), whole[250:260])
    assert not np.array_equal(gaussian_noise(12, 0, 600, dim), whole)


def test_noise_is_a_clipped_standard_normal():
    eps = gaussian_noise(0, 0, 4000, 256).astype(np.float64)
    assert abs(eps.mean()) < 0.01 and abs(eps.std() - 1.0) < 0.01
    assert np.abs(eps).max() <= EPS_CLIP
    # the normal's quantiles, and no correlation between neighbouring axes or neighbouring samples
    assert np.quantile(eps, [0.1587, 0.5, 0.8413]) == pytest.approx([-1.0, 0.0, 1.0], abs=0.01)
    assert abs(np.corrcoef(eps[:, 0], eps[:, 1])[0, 1]) < 0.05
    assert abs(np.corrcoef(eps[:-1, 0], eps[1:, 0])[0, 1]) < 0.05


def test_model_encode_with_noise_key_matches_the_noise(digits_vae, digits):
    model = load_model(digits_vae, device="cpu")
    x = torch.from_numpy(digits.float_images(slice(40, 50)))
    enc = model.encode(x, noise=NoiseKey(seed=3, first_index=40))
    expected = enc.mu + torch.from_numpy(gaussian_noise(3, 40, 10, model.latent_dim)) * torch.exp(0.5 * enc.logvar)
    assert torch.equal(enc.z, expected)


def test_batch_size_and_cache_never_change_z(digits_vae, digits):
    model = load_model(digits_vae, device="cpu")
    by_batch = {b: run_job(iter_encode(model, digits, batch_size=b, seed=5, with_reconstruction=False))
                for b in (1, 97, 512)}
    reference = by_batch[512]
    for codes in by_batch.values():
        assert np.array_equal(codes.z, reference.z) and np.array_equal(codes.mu, reference.mu)
        assert codes.seed == 5
    assert not np.array_equal(reference.z, reference.mu)
    cached_first = run_job(iter_encode_cached(model, digits, batch_size=97, seed=5))  # fills the cache
    served = run_job(iter_encode_cached(model, digits, batch_size=512, seed=5))  # from the cache
    assert np.array_equal(cached_first.z, reference.z) and np.array_equal(served.z, reference.z)
    assert Codes.load_npz(cache_path(model, digits, seed=5)).seed == 5


def test_another_seed_gives_other_codes_and_another_cache_entry(digits_vae, digits):
    model = load_model(digits_vae, device="cpu")
    five = run_job(iter_encode_cached(model, digits, seed=5))
    six = run_job(iter_encode_cached(model, digits, seed=6))
    assert cache_path(model, digits, seed=5) != cache_path(model, digits, seed=6)
    assert cache_path(model, digits, seed=5).exists() and cache_path(model, digits, seed=6).exists()
    assert np.array_equal(five.mu, six.mu) and (five.z != six.z).any(axis=1).all()


def test_autoencoder_codes_share_one_cache_entry_whatever_the_seed(tmp_path, digits):
    from latent_explorer.core.models.checkpoint import TrainConfig
    from latent_explorer.core.models.training import iter_train

    run_job(iter_train(TrainConfig(arch="conv-ae", z_dim=3, epochs=1, batch_size=256, seed=1), digits,
                       tmp_path / "ae"))
    model = load_model(tmp_path / "ae", device="cpu")
    assert cache_path(model, digits, seed=1) == cache_path(model, digits, seed=2)


def test_encode_command_records_the_seed_and_is_batch_size_free(digits_vae, tmp_path):
    outputs = []
    for batch, cache in ((1, "--no-cache"), (97, None), (512, None)):
        out = tmp_path / f"codes-{batch}.npz"
        argv = ["encode", "--model", str(digits_vae), "--data", "digits", "--out", str(out),
                "--batch-size", str(batch), "--seed", "9", "--device", "cpu"]
        assert main(argv + ([cache] if cache else [])) == 0
        outputs.append(Codes.load_npz(out))
        with np.load(out) as raw:
            assert float(raw["eps_clip"]) == EPS_CLIP
    assert all(c.seed == 9 and np.array_equal(c.z, outputs[0].z) for c in outputs)


def test_encode_help_says_what_z_and_the_error_are(capsys):
    try:
        code = main(["encode", "--help"])
    except SystemExit as exc:
        code = exc.code
    assert code in (0, None)
    text = " ".join(capsys.readouterr().out.split())
    assert "clipped at 5" in text and "decode(mu)" in text and "batch size" in text


@pytest.mark.skipif("digits-conv-vae" not in demo_models(), reason="demo models not built")
def test_digits_demo_codes_do_not_depend_on_the_batch_size(digits):
    model = load_model("demo:digits-conv-vae", device="cpu")
    runs = [run_job(iter_encode(model, digits, batch_size=b, seed=0, with_reconstruction=False)).z
            for b in (1, 97, 512)]
    assert all(np.array_equal(z, runs[0]) for z in runs[1:])
    other = run_job(iter_encode(model, digits, batch_size=97, seed=1, with_reconstruction=False)).z
    assert (other != runs[0]).any(axis=1).all()


def test_call_size_depends_on_the_image_size_and_device_only():
    assert chunk_rows("cpu", (1, 28, 28)) == 512 and chunk_rows("cpu", (1, 8, 8)) == 512
    assert chunk_rows("cpu", (3, 218, 178)) == 16 and chunk_rows("cpu", (3, 64, 64)) == 32
    assert chunk_rows("cuda", (1, 28, 28)) == 2048
