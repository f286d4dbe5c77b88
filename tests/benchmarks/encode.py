"""Encoding Fashion-MNIST (70,000 images) through the app's path versus a bare torch loop.

Both do the same work per batch (encode, sample z for a VAE, decode mu, per-sample squared error) with the
same model and batch size; runs alternate so that both see the same machine noise. The bare loop draws ε with
one torch.randn stream (batch-size dependent); the app draws it per sample from (seed, index) and runs the
model in calls of one fixed size (512 images here), so the two agree on mu, not on z. Target: the app's
throughput ≥ 0.9× the bare loop's.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _common import Bench, median
from latent_explorer.core.datasets import default_dataset_spec, load_dataset
from latent_explorer.core.encoding import iter_encode
from latent_explorer.core.jobs import run_job
from latent_explorer.core.models import demo_models, load_model
from latent_explorer.core.models.checkpoint import read_config
from latent_explorer.core.models.training import iter_train


def bare_loop(model, dataset, batch_size: int) -> np.ndarray:
    """The plain torch loop; returns mu (z is computed and stored like the app does, then dropped)."""
    module = model._modules[0]
    out = np.empty((len(dataset), model.latent_dim), np.float32)
    means = np.empty_like(out)
    gen = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        for start in range(0, len(dataset), batch_size):
            x = torch.from_numpy(dataset.images[start:start + batch_size]).float().div_(255.0)
            mu, logvar = module.encode(x)
            z = mu + torch.randn(mu.shape, generator=gen).clamp_(-5, 5) * torch.exp(0.5 * logvar)
            recon = torch.sigmoid(module.decode(mu))
            ((recon - x) ** 2).flatten(1).mean(1)
            out[start:start + batch_size] = z.numpy()
            means[start:start + batch_size] = mu.numpy()
    return means


def main() -> int:
    bench = Bench("encode: app path vs bare torch loop")
    args = bench.parse()
    data_spec = default_dataset_spec()
    dataset = load_dataset(data_spec)
    name = "fashion-conv-vae" if data_spec == "fashion-mnist" else "digits-conv-vae"
    if name not in demo_models():
        raise SystemExit(f"demo model {name} is missing: run packaging/train_demos.sh")
    if args.quick:
        dataset = dataset.subset(np.arange(min(10000, len(dataset))))
    model = load_model(f"demo:{name}", device="cpu")
    batch = 512
    repeats = 2 if args.quick else 3
    app_t, bare_t = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        codes = run_job(iter_encode(model, dataset, batch_size=batch))
        app_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        mu = bare_loop(model, dataset, batch)
        bare_t.append(time.perf_counter() - t0)
    assert np.allclose(codes.mu, mu, atol=1e-4), "the two paths disagree"
    n = len(dataset)
    app_rate, bare_rate = n / median(app_t), n / median(bare_t)
    bench.header()
    print(f"  {n:,} images of {data_spec}, demo:{name}, batch {batch}, {torch.get_num_threads()} torch threads")
    bench.add("app encode throughput", app_rate, "img/s", baseline=bare_rate, target=">= 0.9 (ratio)")
    bench.add("app encode time (whole set)", median(app_t), "s")
    bench.add("bare loop time (whole set)", median(bare_t), "s")
    train_set = dataset.subset(np.arange(min(60000, len(dataset))))
    cfg = read_config(model.info.source)
    cfg.epochs, cfg.epochs_done, cfg.history = 1, 0, []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_job(iter_train(cfg, train_set, Path(tmp) / "ck"))
        epoch = time.perf_counter() - t0
    bench.add(f"one training epoch, {cfg.arch} z={cfg.z_dim}, {len(train_set):,} images", epoch, "s")
    return bench.finish()


if __name__ == "__main__":
    raise SystemExit(main())
