"""The comparison filmstrip: the path, the straight line, the great-circle arc and the pixel fade, decoded,
scored and drawn (`render_filmstrip` works without a display)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latent_explorer.core.interpolation.constants import (
    OFF_DATA_FULL_SCALE,
    ROW_FADE,
    ROW_LINEAR,
    ROW_PATH,
    ROW_SPHERICAL,
    STRIP_ROWS,
    PathError,
)
from latent_explorer.core.interpolation.geometry import crossfade, lerp, slerp
from latent_explorer.core.interpolation.images import save_gif, save_png, to_uint8_rgb
from latent_explorer.core.interpolation.lifting import LiftedPath, lift_path, path_projection
from latent_explorer.core.interpolation.path import LatentPath, save_path_arrays
from latent_explorer.core.interpolation.scores import off_data_scores, score_colour


@dataclass
class StripRow:
    """One row of a filmstrip: frames in [0, 1], and for latent rows their codes and off-data scores."""

    name: str
    frames: np.ndarray  # (n, H, W) or (n, H, W, 3)
    z: np.ndarray | None = None  # (n, d); None for the pixel cross-fade
    scores: np.ndarray | None = None  # (n,) off-data score per frame

    def __len__(self) -> int:
        return len(self.frames)


@dataclass
class Filmstrip:
    rows: list[StripRow]

    def row(self, name: str) -> StripRow | None:
        return next((r for r in self.rows if r.name == name), None)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.rows]


@dataclass
class StripPlan:
    """The codes to decode for a strip, in one batch, and where each latent row sits in it."""

    lifted: LiftedPath
    rows: tuple[str, ...]
    codes: np.ndarray  # (m, d) float32
    slices: dict[str, slice]
    endpoint_images: tuple[np.ndarray, np.ndarray] | None  # the fade's ends when known (snapped data images)


def plan_strip(lifted: LiftedPath, rows: Sequence[str] = STRIP_ROWS,
               endpoint_images: tuple[np.ndarray, np.ndarray] | None = None) -> StripPlan:
    """Codes for the path row and, for the same endpoints, the straight line and the great-circle arc."""
    unknown = [r for r in rows if r not in STRIP_ROWS]
    if unknown:
        raise ValueError(f"unknown strip rows {unknown}; choose from {STRIP_ROWS}")
    k = lifted.steps
    parts: dict[str, np.ndarray] = {}
    if ROW_PATH in rows:
        parts[ROW_PATH] = lifted.z
    if ROW_LINEAR in rows:
        parts[ROW_LINEAR] = lerp(lifted.start_code, lifted.end_code, k)
    if ROW_SPHERICAL in rows:
        parts[ROW_SPHERICAL] = slerp(lifted.start_code, lifted.end_code, k)
    if ROW_FADE in rows and endpoint_images is None and ROW_LINEAR not in rows:
        parts["_ends"] = np.stack([lifted.start_code, lifted.end_code])  # the decoded endpoints
    slices, start = {}, 0
    for name, codes in parts.items():
        slices[name] = slice(start, start + len(codes))
        start += len(codes)
    d = lifted.z.shape[1]
    codes = np.concatenate([np.asarray(c, np.float32) for c in parts.values()]) if parts else np.zeros((0, d))
    return StripPlan(lifted, tuple(rows), codes.astype(np.float32), slices, endpoint_images)


def assemble_strip(plan: StripPlan, images: np.ndarray, meter: Any = None) -> Filmstrip:
    """The rows from the decoded batch; the cross-fade from the snapped images, else the decoded endpoints."""
    images = np.asarray(images, np.float32)
    if len(images) != len(plan.codes):
        raise ValueError(f"{len(images)} images decoded for {len(plan.codes)} codes")
    scores = off_data_scores(meter, plan.codes) if meter is not None and len(plan.codes) else None
    rows = []
    for name in plan.rows:
        if name == ROW_FADE:
            if plan.endpoint_images is not None:
                a, b = (np.asarray(im, np.float32) for im in plan.endpoint_images)
            else:
                ends = images[plan.slices[ROW_LINEAR if ROW_LINEAR in plan.slices else "_ends"]]
                a, b = ends[0], ends[-1]
            if len(images) and (a.shape != b.shape or a.shape != images.shape[1:]):
                a, b = _match_shape(a, images.shape[1:]), _match_shape(b, images.shape[1:])
            rows.append(StripRow(name, crossfade(a, b, plan.lifted.steps).astype(np.float32)))
            continue
        part = plan.slices[name]
        rows.append(StripRow(name, images[part], plan.codes[part], None if scores is None else scores[part]))
    return Filmstrip(rows)


def _match_shape(image: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A data image as the decoder's frames look: grey → RGB when the frames are colour, and vice versa."""
    img = np.asarray(image, np.float32)
    if img.shape == tuple(shape):
        return img
    if img.ndim == 2 and len(shape) == 3:
        return np.repeat(img[..., None], shape[2], axis=2)
    if img.ndim == 3 and len(shape) == 2:
        return img.mean(axis=2)
    raise PathError(f"an endpoint image of shape {img.shape} does not match the decoded frames {tuple(shape)}")


def decode_strip(model: Any, lifted: LiftedPath, rows: Sequence[str] = STRIP_ROWS,
                 endpoint_images: tuple[np.ndarray, np.ndarray] | None = None, meter: Any = None) -> Filmstrip:
    """Plan, decode (one batch) and assemble a filmstrip."""
    from latent_explorer.core.decoding import decode_images

    plan = plan_strip(lifted, rows, endpoint_images)
    images = decode_images(model, plan.codes) if len(plan.codes) else np.zeros((0, *np.shape(endpoint_images[0])))
    return assemble_strip(plan, images, meter)


def snapped_images(path: LatentPath, dataset: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The data images of both endpoints when both are snapped to data points, else None."""
    if dataset is None or path.start_index is None or path.end_index is None:
        return None
    n = len(dataset)
    if not (0 <= path.start_index < n and 0 <= path.end_index < n):
        return None
    return dataset.display_image(path.start_index), dataset.display_image(path.end_index)


def strip_image(strip: Filmstrip, scale: int = 3, gap: int = 2, labels: bool = True, bar: int = 4,
                columns: int | None = None) -> np.ndarray:
    """All rows as one uint8 RGB picture: row names on the left, an off-data bar under each latent frame.

    With ``columns``, a strip longer than that wraps: frames 1…columns of every row form the first block, the
    next ``columns`` frames the block under it, and so on, so the rows stay aligned frame by frame and the
    picture keeps a page's width (a 64-step path at 3× is otherwise one line 5,600 pixels wide).
    """
    from PIL import Image, ImageDraw, ImageFont

    rows = [r for r in strip.rows if len(r)]
    if not rows:
        raise ValueError("no rows to draw")
    if columns is not None and columns < 1:
        raise PathError(f"a filmstrip needs at least one frame per line, got {columns}",
                        hint="give the frames per line, e.g. 16 (0 or none: one line)")
    h, w = rows[0].frames.shape[1:3]
    sh, sw = h * scale, w * scale
    bar = max(0, int(bar))
    row_h = sh + (bar + 1 if bar else 0)
    gutter = 96 if labels else 0
    k = max(len(r) for r in rows)
    per_line = min(k, int(columns)) if columns else k
    blocks = -(-k // per_line)
    block_gap = 4 * gap + 4  # blocks apart more than rows, so a block reads as one
    block_h = len(rows) * (row_h + gap)
    out = np.full((blocks * block_h + (blocks - 1) * block_gap + gap, gutter + per_line * (sw + gap) + gap, 3), 255,
                  np.uint8)

    def row_top(block: int, r: int) -> int:
        return gap + block * (block_h + block_gap) + r * (row_h + gap)

    for block in range(blocks):
        for r, row in enumerate(rows):
            top = row_top(block, r)
            for c in range(block * per_line, min(len(row), (block + 1) * per_line)):
                left = gutter + gap + (c - block * per_line) * (sw + gap)
                out[top:top + sh, left:left + sw] = to_uint8_rgb(row.frames[c]).repeat(scale, 0).repeat(scale, 1)
                if bar and row.scores is not None:
                    score = float(row.scores[c])
                    fill = int(round(sw * min(1.0, score / OFF_DATA_FULL_SCALE))) if np.isfinite(score) else sw
                    out[top + sh + 1:top + sh + 1 + bar, left:left + sw] = 225
                    out[top + sh + 1:top + sh + 1 + bar, left:left + max(1, fill)] = score_colour(score)
    if labels:
        image = Image.fromarray(out)
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=11)
        for block in range(blocks):
            for r, row in enumerate(rows):
                top = row_top(block, r)
                text = row.name
                if blocks > 1:
                    first, last = block * per_line + 1, min(len(row), (block + 1) * per_line)
                    text += f" {first}-{last}" if first <= last else ""
                if row.scores is not None and len(row.scores):
                    text += f"\noff-data {float(np.nanmean(row.scores)):.2f}x"  # the bundled font has no ×
                draw.multiline_text((4, top + max(0, sh // 2 - 12)), text, fill=(30, 30, 30), font=font, spacing=2)
        out = np.asarray(image)
    return out


def save_strip_png(file: str | Path, strip: Filmstrip, scale: int = 3, columns: int | None = None) -> None:
    """The strip as a PNG; ``columns`` frames per line (None: one line per row)."""
    save_png(file, strip_image(strip, scale=scale, columns=columns))


def render_filmstrip(model: Any, codes: Any, dataset: Any, path: LatentPath, out: str | Path, *,
                     pca: Any = None, layout_coords: np.ndarray | None = None, meter: Any = None,
                     rows: Sequence[str] = STRIP_ROWS, steps: int | None = None, scale: int = 3,
                     columns: int | None = None) -> Filmstrip:
    """Lift ``path`` with ``codes`` (a `core.encoding.Codes`), decode its filmstrip and write it to ``out``.

    ``out`` ending in .png gets every row (`strip_image`, wrapped at ``columns`` frames per line), .gif the path
    row as an animation, .npz the arrays.
    Without ``meter`` one is built from the codes (a second or so for 70,000 codes). Needs no display.
    """
    from latent_explorer.core.decoding import OffDataMeter, iter_typical_nn_distance
    from latent_explorer.core.jobs import run_job

    latent = codes.mu if path.latent == "mu" and getattr(codes, "mu", None) is not None else codes.z
    projection = path_projection(path.view, latent, pca=pca, layout_coords=layout_coords)
    lifted = lift_path(path, projection, latent, steps=steps)
    if meter is None:
        meter = OffDataMeter(latent, run_job(iter_typical_nn_distance(latent)))
    strip = decode_strip(model, lifted, rows, snapped_images(path, dataset), meter)
    suffix = Path(out).suffix.lower()
    if suffix == ".png":
        save_strip_png(out, strip, scale=scale, columns=columns)
    elif suffix == ".gif":
        main = strip.row(ROW_PATH) or strip.rows[0]
        save_gif(out, main.frames, scale=max(1, scale + 1))
    elif suffix == ".npz":
        save_path_arrays(out, lifted.z, path.vertex_array(), lifted.samples, **strip_arrays(strip, lifted))
    else:
        raise PathError(f"cannot write '{suffix or 'no extension'}' filmstrips", path=out,
                        hint="name the file .png (all rows), .gif (animation) or .npz (arrays)")
    return strip


def strip_arrays(strip: Filmstrip | None, lifted: LiftedPath) -> dict[str, np.ndarray]:
    """Extra arrays saved with a path: t, the endpoint codes, the comparison rows' codes and every row's scores."""
    out: dict[str, np.ndarray] = {"t": lifted.t, "start_code": lifted.start_code, "end_code": lifted.end_code}
    for row in strip.rows if strip is not None else []:
        key = row.name.replace(" ", "_")
        if row.z is not None and row.name != ROW_PATH:
            out[f"z_{key}"] = row.z
        if row.scores is not None:
            out[f"off_data_{key}"] = row.scores
    return out
