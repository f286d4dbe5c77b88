"""A VAE's z noise depends on (seed, row) alone: standard normal, reproducible, independent of batching."""

from __future__ import annotations

import numpy as np

from latent_explorer.core.encoding import iter_encode
from latent_explorer.core.jobs import run_job
from latent_explorer.core.models import load_model
from latent_explorer.core.row_noise import row_noise


def test_noise_is_standard_normal_and_fixed_by_seed_and_row():
    eps = row_noise(3, np.arange(20000), 16)
    assert eps.shape == (20000, 16) and eps.dtype == np.float32
    assert abs(eps.mean()) < 0.01 and abs(eps.std() - 1) < 0.01
    assert abs(np.corrcoef(eps[:, 0], eps[:, 1])[0, 1]) < 0.03  # columns are not copies of each other
    assert np.array_equal(row_noise(3, np.arange(100, 200), 16), eps[100:200])
    assert np.array_equal(row_noise(3, [7, 5], 16), eps[[7, 5]])  # order and grouping do not matter
    assert not np.array_equal(row_noise(4, np.arange(100), 16), eps[:100])


def test_vae_codes_do_not_depend_on_the_batch_size(digits_vae, digits):
    model = load_model(digits_vae)
    part = digits.subset(np.arange(300))
    a = run_job(iter_encode(model, part, batch_size=300, seed=5, with_reconstruction=False))
    b = run_job(iter_encode(model, part, batch_size=64, seed=5, with_reconstruction=False))
    c = run_job(iter_encode(model, part, batch_size=64, seed=6, with_reconstruction=False))
    assert np.allclose(a.z, b.z, atol=1e-5) and np.allclose(a.mu, b.mu, atol=1e-5)
    assert not np.allclose(a.z, c.z) and np.array_equal(b.mu, c.mu)
