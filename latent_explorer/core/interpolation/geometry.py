"""The geometry of a drawn path: arc length, resampling, simplifying, holding the other coordinates,
and the straight line, great-circle arc and cross-fade it is compared with."""

from __future__ import annotations

from typing import Any

import numpy as np

from latent_explorer.core.interpolation.constants import HOLD_MODES


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
