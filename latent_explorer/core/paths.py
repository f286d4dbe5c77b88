"""Interpolation paths: resample a drawn polyline, lift it into z through a view, and the comparison rows.

A path drawn on a 2-D view only fixes two numbers per sample; the other latent coordinates are "held"
at the start point's code, the data mean, zero, or — by default — blended from the start point's code
to the end point's along the path, so that both endpoints decode to (near) their data points. On a
t-SNE map the lift is an approximation built from the codes of the nearest map points.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latent_explorer.core.atomic import atomic_path, write_text_atomic
from latent_explorer.core.errors import DatasetError

HOLD_MODES = ("blend", "start", "mean", "zero")
PATH_FORMAT = "latent-explorer-path"


def arc_length(vertices: np.ndarray) -> np.ndarray:
    """Cumulative arc length at each vertex, starting at 0."""
    v = np.asarray(vertices, dtype=np.float64)
    seg = np.hypot(*np.diff(v, axis=0).T) if len(v) > 1 else np.zeros(0)
    return np.concatenate([[0.0], np.cumsum(seg)])


def resample(vertices: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` points at equal arc length along the polyline, and their fractions t in [0, 1]."""
    v = np.asarray(vertices, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != 2 or len(v) == 0:
        raise ValueError(f"a path needs (m, 2) vertices, got shape {v.shape}")
    steps = max(2, int(steps))
    s = arc_length(v)
    total = s[-1]
    t = np.linspace(0.0, 1.0, steps)
    if total <= 0:
        return np.repeat(v[:1], steps, axis=0), t
    keep = np.concatenate([[True], np.diff(s) > 0])  # drop repeated vertices: np.interp needs increasing x
    targets = t * total
    return np.column_stack([np.interp(targets, s[keep], v[keep, 0]), np.interp(targets, s[keep], v[keep, 1])]), t


def hold_codes(t: np.ndarray, mode: str, start: np.ndarray, end: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """The off-plane coordinates each sample keeps: (k, d)."""
    if mode not in HOLD_MODES:
        raise ValueError(f"hold must be one of {HOLD_MODES}, not '{mode}'")
    start = np.asarray(start, dtype=np.float64)
    if mode == "blend":
        end = np.asarray(end, dtype=np.float64)
        return start[None, :] * (1.0 - t[:, None]) + end[None, :] * t[:, None]
    base = {"start": start, "mean": np.asarray(mean, dtype=np.float64), "zero": np.zeros_like(start)}[mode]
    return np.repeat(base[None, :], len(t), axis=0)


def lift(points: np.ndarray, t: np.ndarray, projection: Any, start: np.ndarray, end: np.ndarray,
         mean: np.ndarray, hold: str = "blend") -> np.ndarray:
    """z for each 2-D sample: the view's ``inverse`` with the held coordinates as base."""
    base = hold_codes(t, hold, start, end, mean)
    return np.asarray(projection.inverse(points, base), dtype=np.float64)


def lerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, max(2, steps))[:, None]
    return (1.0 - t) * np.asarray(a, np.float64)[None] + t * np.asarray(b, np.float64)[None]


def slerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """Spherical interpolation (angle and radius): keeps intermediate codes at the data's radius."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    t = np.linspace(0.0, 1.0, max(2, steps))[:, None]
    if na == 0 or nb == 0:
        return lerp(a, b, steps)
    ua, ub = a / na, b / nb
    omega = np.arccos(np.clip(ua @ ub, -1.0, 1.0))
    if omega < 1e-6:
        return lerp(a, b, steps)
    direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    return direction * ((1 - t) * na + t * nb)


def crossfade(image_a: np.ndarray, image_b: np.ndarray, steps: int) -> np.ndarray:
    """Straight interpolation in pixel space: the ghostly cross-fade the latent paths are compared with."""
    t = np.linspace(0.0, 1.0, max(2, steps)).reshape(-1, *([1] * np.ndim(image_a)))
    return (1.0 - t) * np.asarray(image_a, np.float32)[None] + t * np.asarray(image_b, np.float32)[None]


@dataclass
class LatentPath:
    """A path the user drew: where, on which view, and how it is lifted. Saved and loaded as JSON."""

    name: str
    vertices: list[list[float]]  # 2-D vertices in the coordinates of the view it was drawn on
    view: dict[str, Any] = field(default_factory=dict)  # ViewSpec fields: kind, i, j, key
    steps: int = 64
    hold: str = "blend"
    start_index: int | None = None  # data point the start snapped to
    end_index: int | None = None
    visible: bool = True

    def vertex_array(self) -> np.ndarray:
        return np.asarray(self.vertices, dtype=np.float64).reshape(-1, 2)

    def to_json(self) -> dict[str, Any]:
        return {"format": PATH_FORMAT, "version": 1, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "") -> LatentPath:
        if data.get("format") != PATH_FORMAT:
            raise DatasetError("not a Latent Explorer path file", path=source or None)
        try:
            path = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
            verts = path.vertex_array()
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"the path file is malformed ({exc})", path=source or None) from exc
        if len(verts) < 2 or not np.isfinite(verts).all():
            raise DatasetError("a path needs at least two finite vertices", path=source or None)
        if path.hold not in HOLD_MODES:
            raise DatasetError(f"hold must be one of {HOLD_MODES}", path=source or None)
        return path

    def save(self, file: str | Path) -> None:
        write_text_atomic(file, json.dumps(self.to_json(), indent=2))

    @classmethod
    def load(cls, file: str | Path) -> LatentPath:
        try:
            data = json.loads(Path(file).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DatasetError(f"cannot read the path file ({exc})", path=file) from exc
        return cls.from_json(data, str(file))


def save_path_arrays(file: str | Path, z: np.ndarray, vertices: np.ndarray, samples: np.ndarray) -> None:
    """The path's z-sequence, its drawn vertices and its resampled 2-D points as one .npz."""
    with atomic_path(file, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, z=np.asarray(z, np.float32), vertices=np.asarray(vertices, np.float64),
                 samples=np.asarray(samples, np.float64))


def to_uint8_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) float in [0, 1] → (H, W, 3) uint8; NaNs become mid-grey."""
    img = np.nan_to_num(np.asarray(image, np.float32), nan=0.5)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def filmstrip(rows: list[np.ndarray], scale: int = 3, gap: int = 2) -> np.ndarray:
    """Rows of frames (each (k, H, W[, 3]) in [0, 1]) tiled into one uint8 RGB image, white gaps."""
    if not rows:
        raise ValueError("no rows to tile")
    k = max(len(r) for r in rows)
    h, w = rows[0].shape[1:3]
    sh, sw = h * scale, w * scale
    out = np.full((len(rows) * (sh + gap) - gap, k * (sw + gap) - gap, 3), 255, np.uint8)
    for r, frames in enumerate(rows):
        for c, frame in enumerate(frames):
            tile = to_uint8_rgb(frame).repeat(scale, 0).repeat(scale, 1)
            out[r * (sh + gap):r * (sh + gap) + sh, c * (sw + gap):c * (sw + gap) + sw] = tile
    return out


def save_png(file: str | Path, image: np.ndarray) -> None:
    from PIL import Image

    with atomic_path(file, suffix=".png") as tmp:
        Image.fromarray(image).save(tmp, format="PNG")


def save_gif(file: str | Path, frames: np.ndarray, scale: int = 4, frame_ms: int = 60, bounce: bool = True) -> int:
    """An animated GIF of the frames (played forward then back if ``bounce``); returns the frame count."""
    from PIL import Image

    seq = [to_uint8_rgb(f).repeat(scale, 0).repeat(scale, 1) for f in frames]
    if bounce and len(seq) > 2:
        seq = seq + seq[-2:0:-1]
    images = [Image.fromarray(s) for s in seq]
    with atomic_path(file, suffix=".gif") as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0,
                       optimize=False, disposal=1)
    return len(images)
