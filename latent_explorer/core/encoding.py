"""Encode a whole dataset in batches (a cancellable job), and cache the codes on disk.

The cache key is (model fingerprint, dataset fingerprint, seed), so reopening the same pair is instant
and a retrained model or an edited dataset is never served stale codes.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from latent_explorer.core.atomic import atomic_path
from latent_explorer.core.datasets import Dataset
from latent_explorer.core.errors import DatasetError, ModelError
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.core.models.base import LatentModel
from latent_explorer.core.row_noise import sample_z

CACHE_VERSION = 2  # 2: a VAE's z noise depends on (seed, row) only


@dataclass
class Codes:
    """The encoder's output for every sample, plus what the views colour by."""

    z: np.ndarray  # (N, d) float32
    mu: np.ndarray | None
    logvar: np.ndarray | None
    labels: np.ndarray | None
    recon_error: np.ndarray  # (N,) mean squared error per pixel, images in [0, 1]
    model_key: str = ""
    data_key: str = ""

    def __len__(self) -> int:
        return len(self.z)

    @property
    def latent_dim(self) -> int:
        return int(self.z.shape[1])

    @property
    def is_variational(self) -> bool:
        return self.mu is not None

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"z": self.z, "recon_error": self.recon_error}
        for key in ("mu", "logvar", "labels"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def save_npz(self, path: str | Path) -> None:
        """Write ``z``, ``mu``, ``logvar`` (VAE only), ``labels``, ``recon_error`` atomically."""
        meta = np.array([self.model_key, self.data_key, str(CACHE_VERSION)])
        with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **self.arrays(), _meta=meta)

    @classmethod
    def load_npz(cls, path: str | Path) -> Codes:
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise DatasetError(f"cannot read codes ({exc})", path=path) from exc
        if "z" not in arrays:
            raise DatasetError("the archive has no 'z' array", path=path)
        meta = arrays.pop("_meta", np.array(["", "", ""]))
        z = arrays["z"].astype(np.float32)
        return cls(z=z, mu=arrays.get("mu"), logvar=arrays.get("logvar"), labels=arrays.get("labels"),
                   recon_error=arrays.get("recon_error", np.zeros(len(z), np.float32)),
                   model_key=str(meta[0]), data_key=str(meta[1]))


def iter_encode(model: LatentModel, dataset: Dataset, batch_size: int = 512, seed: int = 0,
                with_reconstruction: bool = True) -> Job[Codes]:
    """Encode ``dataset`` batch by batch; a VAE's z noise is a function of (``seed``, row) (see `row_noise`).

    Codes therefore do not depend on the batch size, and a distributed run gives the same z. Memory: the outputs
    (N × (3·z_dim + 1) float32 for a VAE) plus one batch (``batch_size`` × C×H×W × 8 bytes for the float input and
    its reconstruction, and the model's activations); images are read one batch at a time, so a memory-mapped
    image cache is never loaded whole (its pages are the kernel's file cache, reclaimable).
    """
    if dataset.image_shape != tuple(model.input_shape):
        raise ModelError(f"the model takes images of shape {list(model.input_shape)}, the dataset "
                         f"'{dataset.name}' has {list(dataset.image_shape)}", path=dataset.source,
                         hint="load the dataset the model was trained on (same size and channels)")
    n = len(dataset)
    d = model.latent_dim
    z = np.empty((n, d), np.float32)
    mu = np.empty((n, d), np.float32) if model.is_variational else None
    logvar = np.empty((n, d), np.float32) if model.is_variational else None
    err = np.zeros(n, np.float32)
    gen = torch.Generator().manual_seed(seed)  # what the model draws is replaced by the per-row noise
    yield Progress("encoding", 0, n)
    for start in range(0, n, batch_size):
        stop = min(n, start + batch_size)
        x = torch.from_numpy(dataset.float_images(slice(start, stop)))
        enc = model.encode(x, generator=gen)
        if enc.mu is not None and enc.logvar is not None:
            enc = enc._replace(z=sample_z(enc.mu, enc.logvar, seed, np.arange(start, stop)))
        z[start:stop] = enc.z.cpu().numpy()
        if mu is not None:
            mu[start:stop] = enc.mu.cpu().numpy()
            logvar[start:stop] = enc.logvar.cpu().numpy()
        if with_reconstruction:
            recon = model.decode(enc.mu if enc.mu is not None else enc.z).cpu()
            err[start:stop] = ((recon - x) ** 2).flatten(1).mean(1).numpy()
        yield Progress("encoding", stop, n)
    bad = ~np.isfinite(z).all(axis=1)
    if bad.any():
        raise ModelError(f"the encoder produced NaN or infinite codes for {int(bad.sum())} of {n} samples "
                         f"(first: #{int(np.argmax(bad))})", hint="check the model's weights and input_range")
    return Codes(z=z, mu=mu, logvar=logvar, labels=dataset.labels, recon_error=err,
                 model_key=model.fingerprint(), data_key=dataset.fingerprint())


def cache_dir() -> Path:
    override = os.environ.get("LATENT_EXPLORER_CACHE")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("latent-explorer")) / "encodings"


def cache_path(model: LatentModel, dataset: Dataset, seed: int = 0) -> Path:
    return cache_dir() / f"v{CACHE_VERSION}-{model.fingerprint()}-{dataset.fingerprint()}-s{seed}.npz"


def iter_encode_cached(model: LatentModel, dataset: Dataset, batch_size: int = 512, seed: int = 0,
                       use_cache: bool = True) -> Job[Codes]:
    """Like `iter_encode`, but served from (and stored in) the on-disk cache."""
    path = cache_path(model, dataset, seed)
    if use_cache and path.exists():
        try:
            codes = Codes.load_npz(path)
            if len(codes) == len(dataset) and codes.latent_dim == model.latent_dim:
                codes.labels = dataset.labels
                yield Progress("encoding", len(dataset), len(dataset), "from cache")
                return codes
        except DatasetError:
            pass  # a broken cache entry is simply recomputed
    codes = yield from iter_encode(model, dataset, batch_size=batch_size, seed=seed)
    if use_cache:
        with contextlib.suppress(OSError):  # a read-only cache only costs time
            codes.save_npz(path)
    return codes
