"""The one model interface every view uses, whatever the model's origin.

`TorchLatentModel` adapts any pair of encode/decode callables: it converts the input range the model
expects, turns logits or tanh outputs into images in [0, 1], samples z for a VAE with ε clipped to
|ε| ≤ 5, and checks the whole thing on real samples before anyone relies on it.

A VAE's z is a sample, z = μ + ε·exp(logvar / 2). When the caller names a `NoiseKey`, ε for a sample comes
from a counter-based generator (Philox) keyed by the seed, at a counter given by the sample's index in the
dataset: the code of sample i then depends only on the model, the sample and the seed — not on the batch
size, the order of the batches or the device (ε is drawn on the CPU in float64 and moved afterwards).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import torch

from latent_explorer.core.errors import ModelError

EPS_CLIP = 5.0
DECODER_OUTPUTS = ("probabilities", "logits", "tanh")
ENCODER_OUTPUTS = ("z", "mu_logvar")


@dataclass(frozen=True)
class NoiseKey:
    """Where a batch's ε comes from: the sampling seed and the dataset index of the batch's first sample."""

    seed: int
    first_index: int


_PHILOX_WORDS = 4  # Philox4x64 yields four 64-bit words per counter value
_KEY_SPACE = 1 << 128


def gaussian_noise(seed: int, first_index: int, rows: int, dim: int) -> np.ndarray:
    """ε ~ N(0, I), clipped to ±`EPS_CLIP`, for samples ``first_index .. first_index + rows - 1``: (rows, dim).

    Row i is a pure function of (seed, i, dim): it uses the Philox counters ``i·B + 1 .. i·B + B`` under the
    key ``seed`` (B = the counters one row needs), so any split of the rows into batches gives the same bits.
    Uniforms become normals by Box–Muller, which uses exactly two 64-bit words per pair of normals (ziggurat
    sampling consumes a variable number per normal and would break the fixed layout). The radius takes 53 bits
    in float64 (its uniform is never 0); the angle 24 bits in float32, plenty below the float32 result.
    """
    if rows <= 0 or dim <= 0:
        return np.zeros((max(rows, 0), max(dim, 0)), np.float32)
    pairs = (dim + 1) // 2
    blocks = -(-2 * pairs // _PHILOX_WORDS)  # counters per row
    bits = np.random.Philox(key=int(seed) % _KEY_SPACE, counter=int(first_index) * blocks)
    raw = bits.random_raw(rows * blocks * _PHILOX_WORDS).reshape(rows, blocks * _PHILOX_WORDS)
    radius = (raw[:, 0:2 * pairs:2] >> np.uint64(11)).astype(np.float64)
    radius += 0.5
    radius *= 1.0 / (1 << 53)  # uniform in (0, 1)
    np.log(radius, out=radius)
    radius *= -2.0
    np.sqrt(radius, out=radius)
    angle = (raw[:, 1:2 * pairs:2] >> np.uint64(40)).astype(np.float32)
    angle *= np.float32(2.0 * np.pi / (1 << 24))
    eps = np.empty((rows, 2 * pairs), np.float32)
    eps[:, 0::2] = radius * np.cos(angle)
    eps[:, 1::2] = radius * np.sin(angle)
    np.clip(eps, -EPS_CLIP, EPS_CLIP, out=eps)
    return eps if eps.shape[1] == dim else np.ascontiguousarray(eps[:, :dim])


class Encoding(NamedTuple):
    """What an encoder gives for a batch: z, and for a VAE the posterior's mu and logvar."""

    z: torch.Tensor
    mu: torch.Tensor | None
    logvar: torch.Tensor | None


@runtime_checkable
class LatentModel(Protocol):
    latent_dim: int
    input_shape: tuple[int, int, int]
    is_variational: bool
    device: torch.device
    name: str

    def encode(self, x: torch.Tensor, generator: torch.Generator | None = None, *,
               noise: NoiseKey | None = None) -> Encoding: ...

    def decode(self, z: torch.Tensor) -> torch.Tensor: ...

    def to(self, device: str | torch.device) -> LatentModel: ...

    def fingerprint(self) -> str: ...


def pick_device(preferred: str | None = None) -> torch.device:
    """cuda, then mps, then cpu — unless the user names one."""
    if preferred and preferred != "auto":
        return torch.device(preferred)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass
class ModelInfo:
    """Facts about a loaded model, for `latent-explorer info` and the model pane."""

    kind: str  # "conv-vae (built-in)", "torchscript", ...
    format: str
    source: str
    runs_code: bool  # loading it could execute code (TorchScript, .pt2, Python file, pickle)
    parameters: int
    extra: dict[str, Any] = field(default_factory=dict)
    content_hash: str = ""  # of the manifest and the files it names: code changes the model as much as weights


class TorchLatentModel:
    """A `LatentModel` over two callables on torch tensors.

    ``encoder(x) -> z`` or ``-> (mu, logvar)``; ``decoder(z) -> images`` (probabilities, logits or tanh).
    ``x`` given to ``encode`` is always float in [0, 1]; it is mapped to ``input_range`` first.
    """

    def __init__(self, encoder: Callable, decoder: Callable, *, input_shape: Sequence[int], name: str,
                 info: ModelInfo, encoder_output: str = "z", decoder_output: str = "probabilities",
                 input_range: Sequence[float] = (0.0, 1.0), modules: Sequence[Any] = (),
                 device: str | torch.device | None = None, latent_dim: int | None = None):
        if encoder_output not in ENCODER_OUTPUTS:
            raise ModelError(f"encoder_output must be one of {ENCODER_OUTPUTS}, not '{encoder_output}'",
                             path=info.source)
        if decoder_output not in DECODER_OUTPUTS:
            raise ModelError(f"decoder_output must be one of {DECODER_OUTPUTS}, not '{decoder_output}'",
                             path=info.source)
        self._encoder = encoder
        self._decoder = decoder
        self._modules = [m for m in modules if m is not None]
        self.input_shape = tuple(int(v) for v in input_shape)
        if len(self.input_shape) != 3:
            raise ModelError(f"input_shape must be [C, H, W], got {list(input_shape)}", path=info.source)
        self.name = name
        self.info = info
        self.encoder_output = encoder_output
        self.decoder_output = decoder_output
        self.input_range = (float(input_range[0]), float(input_range[1]))
        self.is_variational = encoder_output == "mu_logvar"
        self.latent_dim = int(latent_dim) if latent_dim else 0
        self.device = torch.device("cpu")
        self._fingerprint: str | None = None
        for m in self._modules:
            with contextlib.suppress(NotImplementedError):  # torch.export modules refuse eval()
                m.eval()
        self.to(pick_device(str(device) if device else None))

    # ------------------------------------------------------------------ protocol
    def to(self, device: str | torch.device) -> TorchLatentModel:
        device = torch.device(device)
        for m in self._modules:
            if hasattr(m, "to"):
                m.to(device)
        self.device = device
        return self

    @torch.inference_mode()
    def encode(self, x: torch.Tensor, generator: torch.Generator | None = None, *,
               noise: NoiseKey | None = None) -> Encoding:
        """z (and a VAE's μ, logvar) for a batch in [0, 1].

        A VAE's ε comes from ``noise`` when given (reproducible per sample, see `gaussian_noise`), else from
        ``generator`` (a stream: the result depends on what was drawn before).
        """
        x = x.to(self.device, torch.float32)
        lo, hi = self.input_range
        if (lo, hi) != (0.0, 1.0):
            x = lo + x * (hi - lo)
        out = self._encoder(x)
        if self.encoder_output == "z":
            if isinstance(out, (tuple, list)):
                raise ModelError(f"the encoder returned a {type(out).__name__} of {len(out)} items, but the "
                                 "manifest declares encoder_output = \"z\"", path=self.info.source,
                                 hint='set encoder_output = "mu_logvar" if it returns (mu, logvar)')
            z = _as_2d(out, "encoder", self.info.source)
            return Encoding(z.float(), None, None)
        if not isinstance(out, (tuple, list)) or len(out) < 2:
            raise ModelError("the encoder should return (mu, logvar) as declared by encoder_output = "
                             f"\"mu_logvar\", but returned {type(out).__name__}", path=self.info.source,
                             hint='set encoder_output = "z" if it returns one tensor')
        mu = _as_2d(out[0], "encoder (mu)", self.info.source).float()
        logvar = _as_2d(out[1], "encoder (logvar)", self.info.source).float()
        if noise is not None:
            eps = torch.from_numpy(gaussian_noise(noise.seed, noise.first_index, *mu.shape)).to(mu.device)
        else:
            eps = torch.randn(mu.shape, generator=generator, device="cpu" if generator is None else generator.device)
            eps = eps.to(mu.device).clamp_(-EPS_CLIP, EPS_CLIP)
        z = mu + eps * torch.exp(0.5 * logvar)
        return Encoding(z, mu, logvar)

    @torch.inference_mode()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out = self._decoder(z.to(self.device, torch.float32))
        if isinstance(out, (tuple, list)):
            out = out[0]
        if not isinstance(out, torch.Tensor):
            raise ModelError(f"the decoder returned {type(out).__name__}, not a tensor", path=self.info.source)
        out = out.float()
        if self.decoder_output == "logits":
            out = torch.sigmoid(out)
        elif self.decoder_output == "tanh":
            out = (out + 1.0) * 0.5
        expected = (z.shape[0], *self.input_shape)
        if tuple(out.shape) != expected:
            c, h, w = self.input_shape
            if tuple(out.shape) == (z.shape[0], h, w, c):  # channels last: move, never reshape, the channels
                out = out.permute(0, 3, 1, 2)
            elif out.ndim == 2 and out.shape[1] == c * h * w or tuple(out.shape) == (z.shape[0], h, w) and c == 1:
                out = out.reshape(expected)  # flat or channel-less output of the right size
            else:
                raise ModelError(f"the decoder returned shape {tuple(out.shape)}, expected {expected}",
                                 path=self.info.source, hint="check input_shape in the manifest, or the decoder")
        return out.clamp_(0.0, 1.0)

    def fingerprint(self) -> str:
        """Hash of the weights and settings: the cache key for encodings of this model."""
        if self._fingerprint is None:
            h = hashlib.blake2b(digest_size=16)
            h.update(repr((self.info.format, self.input_shape, self.input_range, self.encoder_output,
                           self.decoder_output, self.info.content_hash)).encode())
            for m in self._modules:
                if hasattr(m, "state_dict"):
                    for key, tensor in sorted(m.state_dict().items()):
                        h.update(key.encode())
                        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
            if not self._modules:
                h.update(self.info.source.encode())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def parameter_count(self) -> int:
        return sum(p.numel() for m in self._modules if hasattr(m, "parameters") for p in m.parameters())

    # --------------------------------------------------------------- validation
    def check(self, samples: np.ndarray | None = None) -> None:
        """Push two samples through encode and decode; raise `ModelError` naming what is wrong."""
        c, h, w = self.input_shape
        if samples is None:
            samples = np.random.default_rng(0).random((2, c, h, w), dtype=np.float32)
        x = torch.as_tensor(np.asarray(samples[:2], dtype=np.float32))
        if tuple(x.shape[1:]) != self.input_shape:
            raise ModelError(f"the model takes images of shape {list(self.input_shape)}, the dataset has "
                             f"{list(x.shape[1:])}", path=self.info.source,
                             hint="load a dataset of the shape the model was trained on")
        try:
            enc = self.encode(x, generator=torch.Generator().manual_seed(0))
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - user code may raise anything
            raise ModelError(f"encoding two samples of shape {list(x.shape)} failed: {exc}",
                             path=self.info.source) from exc
        if enc.z.shape[0] != x.shape[0]:
            raise ModelError(f"the encoder returned {enc.z.shape[0]} codes for {x.shape[0]} images",
                             path=self.info.source)
        if self.latent_dim and enc.z.shape[1] != self.latent_dim:
            raise ModelError(f"the encoder returned z of size {enc.z.shape[1]}, expected {self.latent_dim}",
                             path=self.info.source)
        self.latent_dim = int(enc.z.shape[1])
        for label, t in (("z", enc.z), ("mu", enc.mu), ("logvar", enc.logvar)):
            if t is not None and not torch.isfinite(t).all():
                raise ModelError(f"the encoder returned non-finite values in {label}", path=self.info.source)
        if enc.mu is not None and enc.logvar is not None and enc.mu.shape != enc.logvar.shape:
            raise ModelError(f"mu {tuple(enc.mu.shape)} and logvar {tuple(enc.logvar.shape)} differ in shape",
                             path=self.info.source)
        try:
            out = self.decode(enc.z)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"decoding two codes of size {enc.z.shape[1]} failed: {exc}",
                             path=self.info.source) from exc
        if not torch.isfinite(out).all():
            raise ModelError("the decoder returned NaN or infinite values", path=self.info.source)


def _as_2d(t: Any, what: str, source: str) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise ModelError(f"the {what} returned {type(t).__name__}, not a tensor", path=source)
    if t.ndim != 2:
        if t.ndim > 2 and all(s == 1 for s in t.shape[2:]):
            return t.reshape(t.shape[0], -1)
        raise ModelError(f"the {what} returned shape {tuple(t.shape)}; (batch, z_dim) expected", path=source)
    return t
