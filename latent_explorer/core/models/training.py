"""Training loop for the built-in models: reproducible (fixed seed), resumable, checkpoint every epoch."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from latent_explorer.core.datasets import Dataset
from latent_explorer.core.errors import ModelError
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.core.models import builtin
from latent_explorer.core.models.checkpoint import (
    TrainConfig,
    build_checked,
    is_checkpoint,
    load_module,
    load_optimizer_state,
    save_checkpoint,
)


def vae_loss(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor | None, logvar: torch.Tensor | None,
             beta: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-sample BCE summed over pixels and KL summed over z, both averaged over the batch."""
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    if mu is None:
        kl = torch.zeros((), device=x.device)
    else:
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.shape[0]
    return recon + beta * kl, recon, kl


def iter_train(config: TrainConfig, dataset: Dataset, out_dir: str | Path, resume: bool = False,
               device: str = "cpu") -> Job[TrainConfig]:
    """Train ``config.epochs`` epochs in total (resuming counts the ones already done)."""
    out_dir = Path(out_dir)
    if config.epochs < 1 or config.batch_size < 1:
        raise ModelError(f"epochs = {config.epochs}, batch_size = {config.batch_size}: both must be at least 1",
                         path=out_dir, hint="train at least one epoch with batches of at least one image")
    if tuple(config.input_shape) != dataset.image_shape:
        config.input_shape = dataset.image_shape
    if resume and is_checkpoint(out_dir):
        module, saved = load_module(out_dir)
        if saved.arch != config.arch or saved.z_dim != config.z_dim:
            raise ModelError(f"the checkpoint is {saved.arch} z_dim={saved.z_dim}, not {config.arch} "
                             f"z_dim={config.z_dim}", path=out_dir, hint="resume with the same --arch/--z-dim")
        if tuple(saved.input_shape) != dataset.image_shape:
            raise ModelError(f"the checkpoint was trained on images of shape {list(saved.input_shape)}, the dataset "
                             f"has {list(dataset.image_shape)}", path=out_dir,
                             hint="resume on the same dataset, or train into a new --out folder")
        if config.epochs <= saved.epochs_done:
            raise ModelError(f"the checkpoint has already trained {saved.epochs_done} epochs; --epochs is the total "
                             f"to reach, not a number to add", path=out_dir,
                             hint=f"resume with --epochs {saved.epochs_done + 10} (say) to train 10 more")
        saved.epochs = config.epochs
        config = saved
    else:
        torch.manual_seed(config.seed)
        module = build_checked(config.arch, config.input_shape, config.z_dim, out_dir)
        config.epochs_done, config.history = 0, []
    config.dataset = {"name": dataset.name, "fingerprint": dataset.fingerprint(), "size": len(dataset)}
    config.class_names = dataset.class_names
    module.to(device).train()
    optimizer = torch.optim.Adam(module.parameters(), lr=config.lr)
    if resume:
        load_optimizer_state(out_dir, optimizer)
    n = len(dataset)
    steps = (n + config.batch_size - 1) // config.batch_size
    for epoch in range(config.epochs_done, config.epochs):
        order = np.random.default_rng(config.seed + epoch).permutation(n)
        torch.manual_seed(config.seed * 1000 + epoch)
        start = time.perf_counter()
        totals = np.zeros(3)
        for step in range(steps):
            idx = order[step * config.batch_size:(step + 1) * config.batch_size]
            x = torch.from_numpy(dataset.float_images(np.sort(idx))).to(device)
            if module.variational:
                mu, logvar = module.encode(x)
                logits = module.decode(builtin.reparameterize(mu, logvar))
            else:
                mu = logvar = None
                logits = module.decode(module.encode(x))
            loss, recon, kl = vae_loss(logits, x, mu, logvar, config.beta)
            if not torch.isfinite(loss):
                raise ModelError(f"the loss became {loss.item()} in epoch {epoch + 1}",
                                 hint="lower the learning rate (--lr)")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            totals += np.array([loss.item(), recon.item(), kl.item()]) * len(idx)
            if step % 20 == 0 or step == steps - 1:
                yield Progress(f"epoch {epoch + 1}/{config.epochs}", step + 1, steps,
                               f"loss {loss.item():.2f}")
        loss_avg, recon_avg, kl_avg = totals / n
        config.epochs_done = epoch + 1
        config.history.append({"epoch": epoch + 1, "loss": float(loss_avg), "recon": float(recon_avg),
                               "kl": float(kl_avg), "seconds": round(time.perf_counter() - start, 2)})
        save_checkpoint(out_dir, module, config, optimizer)
        yield Progress("epoch done", epoch + 1, config.epochs,
                       f"epoch {epoch + 1}: loss {loss_avg:.3f} recon {recon_avg:.3f} kl {kl_avg:.3f} "
                       f"({config.history[-1]['seconds']:.1f} s)")
    module.eval()
    return config
