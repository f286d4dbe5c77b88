"""Images from codes: decoding in batches, display arrays, the error tile, a model on another device.

Images come back as numpy arrays ready to show: (n, H, W) for grey, (n, H, W, 3) for colour, float32 in
[0, 1]. A decoder that raises or returns NaN gives a `DecodeError`; the views turn it into `error_tile`.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from latent_explorer.core.errors import ModelError
from latent_explorer.core.jobs import Job, Progress


class DecodeError(ModelError):
    """The decoder raised, or returned NaN/infinite pixels, for the codes it was given."""



def to_display(batch: np.ndarray) -> np.ndarray:
    """(n, C, H, W) → (n, H, W) for one channel, (n, H, W, 3) for colour (the first three channels)."""
    if batch.shape[1] >= 3:
        return np.ascontiguousarray(np.moveaxis(batch[:, :3], 1, -1))
    return np.ascontiguousarray(batch[:, 0])


def decode_images(model: Any, z: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Decode codes (d,) or (n, d) into display images; raise `DecodeError` on failure or NaN output."""
    codes = np.atleast_2d(np.asarray(z, dtype=np.float32))
    dim = int(getattr(model, "latent_dim", 0) or codes.shape[1])
    if codes.shape[1] != dim:
        raise DecodeError(f"z has {codes.shape[1]} dimensions, the model decodes {dim}",
                          hint="encode the dataset with this model first")
    if not np.isfinite(codes).all():
        raise DecodeError("z holds NaN or infinite values")
    parts = []
    for start in range(0, len(codes), batch_size):
        chunk = torch.from_numpy(np.ascontiguousarray(codes[start:start + batch_size]))
        try:
            out = model.decode(chunk)
        except ModelError as exc:
            raise DecodeError(exc.message, path=exc.path, hint=exc.hint) from exc
        except Exception as exc:  # noqa: BLE001 - user decoders may raise anything
            raise DecodeError(f"the decoder raised {type(exc).__name__}: {exc}") from exc
        parts.append(out.detach().float().cpu().numpy())
    images = np.concatenate(parts) if parts else np.zeros((0, *model.input_shape), np.float32)
    finite = np.isfinite(images.reshape(len(images), -1)).all(axis=1)
    if not finite.all():
        raise DecodeError(f"the decoder returned NaN or infinite pixels for {int((~finite).sum())} of "
                          f"{len(images)} codes", hint="the model may have diverged; check its weights")
    return to_display(images)


def error_tile(height: int, width: int, min_side: int = 64) -> np.ndarray:
    """A grey image crossed in red, (H, W, 3): shown where a decode failed (the view adds the message)."""
    scale = max(1, int(np.ceil(min_side / max(1, min(height, width)))))
    h, w = height * scale, width * scale
    tile = np.full((h, w, 3), 0.55, np.float32)
    thickness = max(1.0, min(h, w) / 24)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = (xx + 0.5) / w, (yy + 0.5) / h
    norm = np.hypot(1.0 / w, 1.0 / h) * thickness
    on_cross = (np.abs(u - v) < norm) | (np.abs(u + v - 1.0) < norm)
    tile[on_cross] = (0.85, 0.1, 0.1)
    return tile


def model_for_device(model: Any, device: str | None) -> Any:
    """The model itself when it already lives on ``device`` (None/"auto": its own), else a copy moved there."""
    if device in (None, "", "auto") or torch.device(device) == torch.device(model.device):
        return model
    try:
        moved = copy.deepcopy(model)
        moved.to(device)
    except Exception as exc:  # noqa: BLE001 - user models may refuse copying or moving
        raise ModelError(f"cannot move the model to {device} for decoding ({exc})",
                         hint="decode on the model's own device") from exc
    return moved



def iter_decode_batched(model: Any, z: np.ndarray, stage: str = "decoding", batch_size: int = 64) -> Job[np.ndarray]:
    """`decode_images` in batches, yielding progress."""
    parts = []
    yield Progress(stage, 0, len(z))
    for start in range(0, len(z), batch_size):
        parts.append(decode_images(model, z[start:start + batch_size]))
        yield Progress(stage, min(len(z), start + batch_size), len(z))
    return np.concatenate(parts)
