"""Interpolation paths: resample a drawn polyline, lift it into z through a view, and the comparison rows.

A path drawn on a 2-D view only fixes two numbers per sample; the other latent coordinates are "held"
at the start point's code, the data mean, zero, or — by default — blended from the start point's code
to the end point's along the path, so that both endpoints decode to (near) their data points. On a
t-SNE map the lift is an approximation built from the codes of the nearest map points.

A lifted path is compared, for the same endpoints, with the straight line and the great-circle arc in latent
space and with the cross-fade of the two endpoint images in pixel space: four rows of a filmstrip, each latent
frame scored by the off-data meter. Everything here runs without a display (`render_filmstrip`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latent_explorer.core.atomic import atomic_path
from latent_explorer.core.errors import DatasetError

HOLD_MODES = ("blend", "start", "mean", "zero")
PATH_FORMAT = "latent-explorer-path"
LATENT_KINDS = ("z", "mu")
MAP_KINDS = ("tsne", "custom")  # views whose inverse is only approximate
ROW_PATH, ROW_LINEAR, ROW_SPHERICAL, ROW_FADE = "path", "linear", "spherical", "pixel fade"
STRIP_ROWS = (ROW_PATH, ROW_LINEAR, ROW_SPHERICAL, ROW_FADE)
OFF_DATA_BANDS = ((2.0, (46, 125, 50)), (4.0, (239, 108, 0)), (float("inf"), (198, 40, 40)))  # the meter's colours
OFF_DATA_FULL_SCALE = 5.0  # a score this high fills the bar


class PathError(DatasetError):
    """A path that cannot be lifted, loaded or written: wrong view, unreadable file, unwritable folder."""


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


def simplify_indices(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Ramer–Douglas–Peucker: indices of the vertices a polyline needs to stay within ``tolerance`` of itself.

    A freehand stroke records hundreds of points; this keeps the few that carry its shape (always both ends).
    """
    pts = np.asarray(points, np.float64)
    n = len(pts)
    if n < 3:
        return np.arange(n)
    keep = np.zeros(n, bool)
    keep[[0, -1]] = True
    stack = [(0, n - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        seg = pts[b] - pts[a]
        rel = pts[a + 1:b] - pts[a]
        length = np.hypot(*seg)
        if length > 0:
            dist = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / length
        else:
            dist = np.hypot(rel[:, 0], rel[:, 1])
        i = int(np.argmax(dist))
        if dist[i] > tolerance:
            keep[a + 1 + i] = True
            stack += [(a, a + 1 + i), (a + 1 + i, b)]
    return np.flatnonzero(keep)


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
    if omega < 1e-6 or omega > np.pi - 1e-6:  # same or opposite directions: no unique great circle
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
    latent: str = "z"  # which codes the view plotted: "z", or "mu" for a VAE

    def view_label(self) -> str:
        kind = self.view.get("kind", "?")
        i, j = int(self.view.get("i", 0)), int(self.view.get("j", 1))
        if kind == "raw":
            return f"raw z{i}/z{j}"
        if kind == "pca":
            return f"PCA {i + 1}/{j + 1}"
        return f"{kind} {self.view.get('key', '')}".strip()

    def vertex_array(self) -> np.ndarray:
        return np.asarray(self.vertices, dtype=np.float64).reshape(-1, 2)

    def to_json(self) -> dict[str, Any]:
        return {"format": PATH_FORMAT, "version": 1, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "") -> LatentPath:
        where = source or None
        if not isinstance(data, dict) or data.get("format") != PATH_FORMAT:
            raise PathError("not a Latent Explorer path file", path=where,
                            hint="save a path from the Paths panel (Save JSON) and load that file")
        try:
            path = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
            verts = path.vertex_array()
            path.vertices = verts.tolist()
            path.steps = int(path.steps)
            path.view = dict(path.view)
            for key in ("start_index", "end_index"):
                value = getattr(path, key)
                setattr(path, key, None if value is None else int(value))
        except (TypeError, ValueError) as exc:
            raise PathError(f"the path file is malformed ({exc})", path=where) from exc
        if len(verts) < 2 or not np.isfinite(verts).all():
            raise PathError("a path needs at least two finite vertices", path=where)
        if path.hold not in HOLD_MODES:
            raise PathError(f"hold must be one of {HOLD_MODES}, not '{path.hold}'", path=where)
        if path.latent not in LATENT_KINDS:
            raise PathError(f"latent must be one of {LATENT_KINDS}, not '{path.latent}'", path=where)
        if path.view.get("kind") not in ("raw", "pca", *MAP_KINDS):
            raise PathError(f"the path names an unknown view {path.view}", path=where,
                            hint="kind must be raw, pca, tsne or custom")
        if not 2 <= path.steps <= 4096:
            raise PathError(f"steps must be between 2 and 4096, not {path.steps}", path=where)
        return path

    def save(self, file: str | Path) -> None:
        with _writing(file, ".json") as tmp:
            tmp.write_text(json.dumps(self.to_json(), indent=2))

    @classmethod
    def load(cls, file: str | Path) -> LatentPath:
        try:
            data = json.loads(Path(file).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PathError(f"cannot read the path file ({exc})", path=file) from exc
        return cls.from_json(data, str(file))


def save_path_arrays(file: str | Path, z: np.ndarray, vertices: np.ndarray, samples: np.ndarray,
                     **extra: np.ndarray) -> None:
    """The path's z-sequence, its drawn vertices and its resampled 2-D points (and ``extra`` arrays) as one .npz."""
    arrays = {"z": np.asarray(z, np.float32), "vertices": np.asarray(vertices, np.float64),
              "samples": np.asarray(samples, np.float64)}
    arrays.update({k: np.asarray(v) for k, v in extra.items() if v is not None})
    with _writing(file, ".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


@contextlib.contextmanager
def _writing(file: str | Path, suffix: str) -> Iterator[Path]:
    """An atomic write whose OS errors become a `PathError` naming the file."""
    try:
        with atomic_path(file, suffix=suffix) as tmp:
            yield tmp
    except OSError as exc:
        raise PathError(f"cannot write the file ({exc.strerror or exc})", path=file,
                        hint="choose a folder you can write to") from exc


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

    with _writing(file, ".png") as tmp:
        Image.fromarray(image).save(tmp, format="PNG")


def save_gif(file: str | Path, frames: np.ndarray, scale: int = 4, frame_ms: int = 60, bounce: bool = True) -> int:
    """An animated GIF of the frames (played forward then back if ``bounce``); returns the frame count."""
    from PIL import Image

    seq = [to_uint8_rgb(f).repeat(scale, 0).repeat(scale, 1) for f in frames]
    if bounce and len(seq) > 2:
        seq = seq + seq[-2:0:-1]
    images = [Image.fromarray(s) for s in seq]
    with _writing(file, ".gif") as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0,
                       optimize=False, disposal=1)
    return len(images)


# ------------------------------------------------------------------------------------------- lifting
@dataclass
class LiftedPath:
    """A path resampled at equal arc length and lifted into latent space."""

    samples: np.ndarray  # (k, 2) points in the view the path was drawn on
    t: np.ndarray  # (k,) fraction of the arc length
    z: np.ndarray  # (k, d) float32
    start_code: np.ndarray  # (d,) the code the straight comparison rows start from
    end_code: np.ndarray
    exact: bool  # False on a map (t-SNE, user layout): each z is built from the codes of nearby map points

    @property
    def steps(self) -> int:
        return len(self.z)


def endpoint_code(projection: Any, xy: Sequence[float], index: int | None, latent: np.ndarray,
                  mean: np.ndarray) -> np.ndarray:
    """The code of a path's endpoint: the snapped data point's own code, else the view's inverse with base = mean."""
    if index is not None and 0 <= int(index) < len(latent):
        return np.asarray(latent[int(index)], np.float64)
    return np.asarray(projection.inverse(np.asarray([xy], np.float64), np.asarray(mean, np.float64)),
                      np.float64)[0]


def lift_path(path: LatentPath, projection: Any, latent: np.ndarray, steps: int | None = None,
              mean: np.ndarray | None = None) -> LiftedPath:
    """Resample ``path`` at ``steps`` (default: its own) equal arc-length points and lift them through ``projection``.

    Raw axes set two coordinates and PCA planes invert exactly; both hold the other coordinates as
    ``path.hold`` says. A map's inverse (`MapLayout`) ignores the hold and averages the codes of the nearest
    map points, weighted by distance: an approximation.
    """
    latent = np.asarray(latent)
    if latent.ndim != 2 or not len(latent):
        raise PathError("there are no codes to lift the path with", hint="encode a dataset with a model first")
    mean = latent.mean(axis=0, dtype=np.float64) if mean is None else np.asarray(mean, np.float64)
    vertices = path.vertex_array()
    samples, t = resample(vertices, steps or path.steps)
    start = endpoint_code(projection, vertices[0], path.start_index, latent, mean)
    end = endpoint_code(projection, vertices[-1], path.end_index, latent, mean)
    z = lift(samples, t, projection, start, end, mean, path.hold)
    if not np.isfinite(z).all():
        raise PathError("the path lifts to NaN or infinite codes", hint="draw it where the view has data")
    return LiftedPath(samples=samples, t=t, z=z.astype(np.float32), start_code=start.astype(np.float32),
                      end_code=end.astype(np.float32), exact=getattr(projection, "kind", "") not in MAP_KINDS)


def path_projection(view: dict[str, Any], latent: np.ndarray, pca: Any = None,
                    layout_coords: np.ndarray | None = None) -> Any:
    """The projection a path was drawn through, rebuilt without the window (scripts, the figure command).

    A PCA plane uses ``pca`` when given (the window's), else a PCA fitted to ``latent``; a t-SNE or user map
    needs its coordinates (``layout_coords``, one row per code).
    """
    from latent_explorer.core.projections import MapLayout, PCAModel, RawAxes

    kind = view.get("kind")
    i, j = int(view.get("i", 0)), int(view.get("j", 1))
    d = np.shape(latent)[1]
    if kind in ("raw", "pca"):
        if not (0 <= i < d and 0 <= j < d):
            raise PathError(f"the path was drawn on {kind} axes {i}/{j}, but the codes have {d} dimensions",
                            hint="load the model the path was drawn with")
        if kind == "raw":
            return RawAxes(i, j)
        return (pca if pca is not None else PCAModel.fit(latent)).plane(i, j)
    if kind in MAP_KINDS:
        if layout_coords is None:
            raise PathError(f"the path was drawn on the map '{view.get('key', '')}', whose coordinates are needed",
                            hint="export the map's coordinates (File ▸ Export ▸ Data ▸ View Coordinates) and "
                                 "pass them with the path")
        coords = np.asarray(layout_coords, np.float64)
        if coords.shape != (len(latent), 2):
            raise PathError(f"the map has shape {coords.shape}; one (x, y) row per code ({len(latent)}) is needed")
        return MapLayout(coords, latent, str(view.get("key", "map")), kind=str(kind))
    raise PathError(f"unknown view kind '{kind}'")


def place_codes(projection: Any, z: np.ndarray) -> np.ndarray:
    """Where codes land in a view: exact for raw/PCA, by the positions of their nearest codes on a map."""
    return np.asarray(projection.transform(np.asarray(z, np.float32)), np.float64).reshape(-1, 2)


# ---------------------------------------------------------------------------------------- off the data
def off_data_scores(meter: Any, z: np.ndarray) -> np.ndarray:
    """The off-data meter's score of many codes at once (one matrix product instead of one per code).

    ``meter`` is a `core.decoding.OffDataMeter`: mean distance to the k nearest codes over the typical one.
    """
    import torch

    from latent_explorer.core.decoding import torch_threads

    query = torch.from_numpy(np.ascontiguousarray(np.atleast_2d(z), dtype=np.float32))
    codes = meter.codes
    k = min(int(meter.k), len(codes))
    if not len(query) or not k:
        return np.zeros(len(query), np.float32)
    with torch_threads(1), torch.inference_mode():
        sq = torch.addmm(meter.sq_norms[None, :], query, codes.T, alpha=-2.0)  # ‖c‖² − 2 c·z (‖z‖² is constant)
        _, indices = torch.topk(sq, k, dim=1, largest=False)
        # the expansion loses small distances to rounding: measure the k found directly
        distances = torch.linalg.vector_norm(codes[indices] - query[:, None, :], dim=2)
    mean = distances.mean(dim=1).numpy().astype(np.float64)
    return (mean / meter.typical if meter.typical > 0 else np.full(len(mean), np.inf)).astype(np.float32)


def score_colour(score: float) -> tuple[int, int, int]:
    """The meter's band colour: green on the data, orange near it, red off it."""
    return next(colour for limit, colour in OFF_DATA_BANDS if score <= limit) if np.isfinite(score) else (120, 120, 120)


# ------------------------------------------------------------------------------------------ filmstrips
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


def strip_image(strip: Filmstrip, scale: int = 3, gap: int = 2, labels: bool = True, bar: int = 4) -> np.ndarray:
    """All rows as one uint8 RGB picture: row names on the left, an off-data bar under each latent frame."""
    from PIL import Image, ImageDraw, ImageFont

    rows = [r for r in strip.rows if len(r)]
    if not rows:
        raise ValueError("no rows to draw")
    h, w = rows[0].frames.shape[1:3]
    sh, sw = h * scale, w * scale
    bar = max(0, int(bar))
    row_h = sh + (bar + 1 if bar else 0)
    gutter = 96 if labels else 0
    k = max(len(r) for r in rows)
    out = np.full((len(rows) * (row_h + gap) + gap, gutter + k * (sw + gap) + gap, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        top = gap + r * (row_h + gap)
        for c, frame in enumerate(row.frames):
            left = gutter + gap + c * (sw + gap)
            out[top:top + sh, left:left + sw] = to_uint8_rgb(frame).repeat(scale, 0).repeat(scale, 1)
            if bar and row.scores is not None:
                score = float(row.scores[c])
                fill = int(round(sw * min(1.0, score / OFF_DATA_FULL_SCALE))) if np.isfinite(score) else sw
                out[top + sh + 1:top + sh + 1 + bar, left:left + sw] = 225
                out[top + sh + 1:top + sh + 1 + bar, left:left + max(1, fill)] = score_colour(score)
    if labels:
        image = Image.fromarray(out)
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=11)
        for r, row in enumerate(rows):
            top = gap + r * (row_h + gap)
            text = row.name
            if row.scores is not None and len(row.scores):
                text += f"\noff-data {float(np.nanmean(row.scores)):.2f}x"  # the bundled font has no ×
            draw.multiline_text((4, top + max(0, sh // 2 - 12)), text, fill=(30, 30, 30), font=font, spacing=2)
        out = np.asarray(image)
    return out


def save_strip_png(file: str | Path, strip: Filmstrip, scale: int = 3) -> None:
    save_png(file, strip_image(strip, scale=scale))


def render_filmstrip(model: Any, codes: Any, dataset: Any, path: LatentPath, out: str | Path, *,
                     pca: Any = None, layout_coords: np.ndarray | None = None, meter: Any = None,
                     rows: Sequence[str] = STRIP_ROWS, steps: int | None = None, scale: int = 3) -> Filmstrip:
    """Lift ``path`` with ``codes`` (a `core.encoding.Codes`), decode its filmstrip and write it to ``out``.

    ``out`` ending in .png gets every row (`strip_image`), .gif the path row as an animation, .npz the arrays.
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
        save_strip_png(out, strip, scale=scale)
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
