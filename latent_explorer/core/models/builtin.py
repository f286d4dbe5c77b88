"""Built-in architectures, after the work we build on: a conv AE, a conv VAE and a small MLP AE.

Any input shape, channel count and z_dim: the decoder's output paddings are computed so that the
mirrored transposed convolutions give back exactly the input size. Decoders output logits; the
adapter applies the sigmoid, and training uses BCE-with-logits (stable for saturated pixels).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from latent_explorer.core.models.base import EPS_CLIP

ARCHITECTURES = ("conv-ae", "conv-vae", "mlp-ae")
CONV_CHANNELS = (32, 64, 128)


def _down(size: int) -> int:
    return (size + 2 * 1 - 3) // 2 + 1


class ConvEncoder(nn.Module):
    def __init__(self, input_shape: tuple[int, int, int], out_features: int):
        super().__init__()
        c, h, w = input_shape
        layers: list[nn.Module] = []
        self.sizes = [(h, w)]
        for ch in CONV_CHANNELS:
            layers += [nn.Conv2d(c, ch, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
            c = ch
            h, w = _down(h), _down(w)
            self.sizes.append((h, w))
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c * h * w, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


class ConvDecoder(nn.Module):
    def __init__(self, input_shape: tuple[int, int, int], z_dim: int, sizes: list[tuple[int, int]]):
        super().__init__()
        c = input_shape[0]
        chans = list(CONV_CHANNELS[::-1]) + [c]
        self.start = (chans[0], *sizes[-1])
        self.fc = nn.Linear(z_dim, chans[0] * sizes[-1][0] * sizes[-1][1])
        layers: list[nn.Module] = []
        for i in range(len(CONV_CHANNELS)):
            (hi, wi), (ho, wo) = sizes[-1 - i], sizes[-2 - i]
            pad = (ho - (2 * hi - 1), wo - (2 * wi - 1))
            layers.append(nn.ConvTranspose2d(chans[i], chans[i + 1], 3, stride=2, padding=1, output_padding=pad))
            if i < len(CONV_CHANNELS) - 1:
                layers.append(nn.LeakyReLU(0.2))
        self.layers = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layers(F.leaky_relu(self.fc(z), 0.2).view(-1, *self.start))


class ConvAE(nn.Module):
    variational = False

    def __init__(self, input_shape: tuple[int, int, int], z_dim: int):
        super().__init__()
        self.encoder = ConvEncoder(input_shape, z_dim)
        self.decoder = ConvDecoder(input_shape, z_dim, self.encoder.sizes)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)


class ConvVAE(nn.Module):
    """mu and logvar heads; z = mu + ε·σ with ε clipped to |ε| ≤ 5 (as in the studies)."""

    variational = True

    def __init__(self, input_shape: tuple[int, int, int], z_dim: int):
        super().__init__()
        self.z_dim = z_dim
        self.encoder = ConvEncoder(input_shape, 2 * z_dim)
        self.decoder = ConvDecoder(input_shape, z_dim, self.encoder.sizes)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return h[:, : self.z_dim], h[:, self.z_dim:]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)


class MLPAE(nn.Module):
    variational = False

    def __init__(self, input_shape: tuple[int, int, int], z_dim: int, hidden: tuple[int, ...] = (512, 256)):
        super().__init__()
        self.input_shape = tuple(input_shape)
        d = input_shape[0] * input_shape[1] * input_shape[2]
        enc: list[nn.Module] = []
        prev = d
        for width in hidden:
            enc += [nn.Linear(prev, width), nn.LeakyReLU(0.2)]
            prev = width
        enc.append(nn.Linear(prev, z_dim))
        dec: list[nn.Module] = []
        prev = z_dim
        for width in hidden[::-1]:
            dec += [nn.Linear(prev, width), nn.LeakyReLU(0.2)]
            prev = width
        dec.append(nn.Linear(prev, d))
        self.encoder = nn.Sequential(nn.Flatten(), *enc)
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).view(-1, *self.input_shape)


def build(arch: str, input_shape: tuple[int, int, int], z_dim: int) -> nn.Module:
    if arch == "conv-ae":
        return ConvAE(input_shape, z_dim)
    if arch == "conv-vae":
        return ConvVAE(input_shape, z_dim)
    if arch == "mlp-ae":
        return MLPAE(input_shape, z_dim)
    raise ValueError(f"unknown architecture '{arch}'; choose from {', '.join(ARCHITECTURES)}")


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    eps = torch.randn_like(mu).clamp_(-EPS_CLIP, EPS_CLIP)
    return mu + eps * torch.exp(0.5 * logvar)
