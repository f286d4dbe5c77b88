"""Encode a whole dataset in batches (a cancellable job), and cache the codes on disk.

The cache key is (model fingerprint, dataset fingerprint, and for a VAE the sampling seed), so reopening the
same pair is instant and a retrained model or an edited dataset is never served stale codes. A VAE's z is a
sample, μ + ε·σ with ε clipped at 5, drawn per sample from (seed, dataset index) — see
`latent_explorer.core.models.base.gaussian_noise` — so the batch size never changes a code and a cached
entry equals a fresh one. The reconstruction error is measured on decode(μ), the posterior's mean.
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
from latent_explorer.core.models.base import EPS_CLIP, LatentModel, NoiseKey

CACHE_VERSION = 2  # 2: a VAE's ε is drawn per sample from (seed, index); version 1 depended on the batch size


@dataclass
class Codes:
    """The encoder's output for every sample, plus what the views colour by."""

    z: np.ndarray  # (N, d) float32
    mu: np.ndarray | None
    logvar: np.ndarray | None
    labels: np.ndarray | None
    recon_error: np.ndarray  # (N,) mean squared error per pixel of decode(mu) (AE: decode(z)), images in [0, 1]
    model_key: str = ""
    data_key: str = ""
    seed: int | None = None  # the seed a VAE's z was sampled with; None when unknown (an older file)

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

    def save_npz(self, path: str | Path, extra: dict[str, np.ndarray] | None = None, seed: int | None = None,
                 recon_error: bool = True) -> None:
        """Write ``z``, ``mu``, ``logvar`` (VAE only), ``labels``, ``recon_error`` atomically.

        ``_meta`` holds the model and data keys, the format version and the sampling seed ("" when unknown;
        ``seed`` overrides the codes' own); ``eps_clip`` the bound on |ε| a VAE's z was sampled with. The codes
        file writer adds its own arrays (ids, class names, layouts…) through ``extra``.
        """
        seed = self.seed if seed is None else seed
        meta = np.array([self.model_key, self.data_key, str(CACHE_VERSION), "" if seed is None else str(int(seed))])
        arrays = self.arrays()
        if not recon_error:
            del arrays["recon_error"]
        if self.is_variational:
            arrays["eps_clip"] = np.float32(EPS_CLIP)
        with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays, **(extra or {}), _meta=meta)

    @classmethod
    def load_npz(cls, path: str | Path) -> Codes:
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise DatasetError(f"cannot read codes ({exc})", path=path) from exc
        if "z" not in arrays:
            raise DatasetError("the archive has no 'z' array", path=path)
        meta = [str(v) for v in arrays.pop("_meta", np.array(["", "", ""]))] + ["", "", "", ""]
        z = arrays["z"].astype(np.float32)
        seed = int(meta[3]) if meta[3].lstrip("-").isdigit() else None
        return cls(z=z, mu=arrays.get("mu"), logvar=arrays.get("logvar"), labels=arrays.get("labels"),
                   recon_error=arrays.get("recon_error", np.zeros(len(z), np.float32)),
                   model_key=meta[0], data_key=meta[1], seed=seed)


CHUNK_PIXELS = 512 * 28 * 28  # a CPU call holds this many input values: 512 Fashion-MNIST images
ACCELERATOR_CHUNK_FACTOR = 4
MIN_CHUNK = 16
MAX_CHUNK = 512  # on the CPU; small images gain nothing from larger calls


def chunk_rows(device: torch.device | str, input_shape: tuple[int, ...]) -> int:
    """How many samples the model sees per call: always this many for a given device kind and image shape.

    Kernels pick their algorithm by the tensor's shape (measured on the CPU: μ of batches of 1, 2 or 7 images
    differs in the last bits from μ of the same images in batches of 16 or more), so a code is reproducible
    only if every call has one shape, whatever the batch size asked for. The size is a power of two that
    holds about `CHUNK_PIXELS` input values (512 images of 28 × 28, 16 of CelebA's 218 × 178 × 3), so memory
    stays bounded for large images, and at most `MAX_CHUNK`; an accelerator takes four times as many. Smaller
    calls are not free on a busy CPU: with two threads on an oversubscribed machine, 256-image calls of the conv
    VAE took 1.7× as long as 512-image ones.
    """
    pixels = max(1, int(np.prod(input_shape)))
    factor = 1 if torch.device(device).type == "cpu" else ACCELERATOR_CHUNK_FACTOR
    rows = 2 ** int(np.floor(np.log2(max(1.0, CHUNK_PIXELS * factor / pixels))))
    return max(MIN_CHUNK, min(MAX_CHUNK * factor, rows))


@dataclass
class EncodedRows:
    """The codes of a run of consecutive samples (see `encode_rows`)."""

    z: np.ndarray
    mu: np.ndarray | None
    logvar: np.ndarray | None
    recon_error: np.ndarray | None


def model_call_size(model: LatentModel, call_size: int | None = None) -> int:
    """The samples per model call: ``call_size`` if given, else `chunk_rows` for the model's device and input."""
    if call_size is not None:
        if int(call_size) < 1:
            raise ValueError(f"a model call holds at least one sample, not {call_size}")
        return int(call_size)
    return chunk_rows(model.device, tuple(model.input_shape))


def aligned_batch_size(model: LatentModel, batch_size: int, call_size: int | None = None) -> int:
    """``batch_size`` rounded up to whole model calls: batches that start at its multiples start calls too."""
    chunk = model_call_size(model, call_size)
    return chunk * max(1, -(-int(batch_size) // chunk))


def encode_rows(model: LatentModel, images: np.ndarray, first_index: int, seed: int = 0,
                with_reconstruction: bool = True, call_size: int | None = None) -> EncodedRows:
    """Encode the float images of samples ``first_index ..`` in the model calls every encoder makes.

    The one place where images meet the model, shared by `iter_encode` and the distributed encoder, so that both
    give bit-identical codes: calls of `model_call_size` samples (``first_index`` must be a multiple of it, which
    `aligned_batch_size` guarantees for batch starts) and ε drawn from (``seed``, sample index). Two encoders
    agree bit for bit when they use the same call size (the default on the same kind of device) and the same
    number of torch threads.
    """
    chunk = model_call_size(model, call_size)
    if first_index % chunk:
        raise ValueError(f"encode_rows starts at sample {first_index}, not a multiple of the call size {chunk}")
    n, d = len(images), model.latent_dim
    z = np.empty((n, d), np.float32)
    mu = np.empty((n, d), np.float32) if model.is_variational else None
    logvar = np.empty((n, d), np.float32) if model.is_variational else None
    err = np.zeros(n, np.float32) if with_reconstruction else None
    for offset in range(0, n, chunk):
        stop = min(n, offset + chunk)
        x = torch.from_numpy(np.ascontiguousarray(images[offset:stop], dtype=np.float32))
        enc = model.encode(x, noise=NoiseKey(seed, first_index + offset))
        z[offset:stop] = enc.z.cpu().numpy()
        if mu is not None:
            mu[offset:stop] = enc.mu.cpu().numpy()
            logvar[offset:stop] = enc.logvar.cpu().numpy()
        if err is not None:
            recon = model.decode(enc.mu if enc.mu is not None else enc.z).cpu()
            err[offset:stop] = ((recon - x) ** 2).flatten(1).mean(1).numpy()
    return EncodedRows(z=z, mu=mu, logvar=logvar, recon_error=err)


def iter_encode(model: LatentModel, dataset: Dataset, batch_size: int = 512, seed: int = 0,
                with_reconstruction: bool = True, call_size: int | None = None) -> Job[Codes]:
    """Encode ``dataset`` batch by batch.

    The model always sees the chunks of `chunk_rows` samples that start at multiples of it (the last one is
    shorter, but the same for any batch size), and a VAE's ε for sample i is drawn from (``seed``, i) alone:
    a code is the same for every ``batch_size``, which sets only how many chunks go between two progress
    reports (rounded up to whole chunks). The reconstruction error is that of decode(μ), the posterior's mean.

    Memory: the outputs (N × (3·z_dim + 1) float32 for a VAE) plus one batch (``batch_size`` × C×H×W × 8 bytes
    for the float input and its reconstruction, and the model's activations); images are read one batch at a
    time, so a memory-mapped image cache is never loaded whole (its pages are the kernel's file cache).
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
    step = aligned_batch_size(model, batch_size, call_size)
    yield Progress("encoding", 0, n)
    for first in range(0, n, step):
        stop = min(n, first + step)
        rows = encode_rows(model, dataset.float_images(slice(first, stop)), first, seed, with_reconstruction,
                           call_size)
        z[first:stop] = rows.z
        if mu is not None:
            mu[first:stop] = rows.mu
            logvar[first:stop] = rows.logvar
        if with_reconstruction:
            err[first:stop] = rows.recon_error
        yield Progress("encoding", stop, n)
    bad = ~np.isfinite(z).all(axis=1)
    if bad.any():
        raise ModelError(f"the encoder produced NaN or infinite codes for {int(bad.sum())} of {n} samples "
                         f"(first: #{int(np.argmax(bad))})", hint="check the model's weights and input_range")
    return Codes(z=z, mu=mu, logvar=logvar, labels=dataset.labels, recon_error=err,
                 model_key=model.fingerprint(), data_key=dataset.fingerprint(), seed=int(seed))


def cache_dir() -> Path:
    override = os.environ.get("LATENT_EXPLORER_CACHE")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("latent-explorer")) / "encodings"


def cache_path(model: LatentModel, dataset: Dataset, seed: int = 0) -> Path:
    """The cache entry of (model, dataset, seed); an autoencoder's codes do not depend on the seed."""
    sampling = f"-s{int(seed)}" if model.is_variational else ""
    return cache_dir() / f"v{CACHE_VERSION}-{model.fingerprint()}-{dataset.fingerprint()}{sampling}.npz"


def iter_encode_cached(model: LatentModel, dataset: Dataset, batch_size: int = 512, seed: int = 0,
                       use_cache: bool = True, call_size: int | None = None) -> Job[Codes]:
    """Like `iter_encode`, but served from (and stored in) the on-disk cache.

    Only the default call size is cached: another one may change the last bits of the codes.
    """
    use_cache = use_cache and call_size is None
    path = cache_path(model, dataset, seed)
    if use_cache and path.exists():
        try:
            codes = Codes.load_npz(path)
            if len(codes) == len(dataset) and codes.latent_dim == model.latent_dim:
                codes.labels = dataset.labels
                codes.seed = int(seed)
                yield Progress("encoding", len(dataset), len(dataset), "from cache")
                return codes
        except DatasetError:
            pass  # a broken cache entry is simply recomputed
    codes = yield from iter_encode(model, dataset, batch_size=batch_size, seed=seed, call_size=call_size)
    if use_cache:
        with contextlib.suppress(OSError):  # a read-only cache only costs time
            codes.save_npz(path)
    return codes
