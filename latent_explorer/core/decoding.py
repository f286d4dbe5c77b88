"""What the decoder panel computes, with no Qt: images from z, slider ranges, directions, the off-data meter,
prior samples, latent arithmetic and decoded grids over a rectangle of a projection plane.

Images come back as numpy arrays ready to show: (n, H, W) for grey, (n, H, W, 3) for colour, float32 in
[0, 1]. A decoder that raises or returns NaN gives a `DecodeError`; the views turn it into `error_tile`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from latent_explorer.core.errors import ModelError
from latent_explorer.core.jobs import Job, Progress
from latent_explorer.core.placement import place_by_neighbours
from latent_explorer.core.projections import Projection

PERCENTILES = (0.5, 99.5)


class DecodeError(ModelError):
    """The decoder raised, or returned NaN/infinite pixels, for the codes it was given."""


# ---------------------------------------------------------------------------------------------- decoding
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


# ----------------------------------------------------------------------------------------- the latents
@dataclass
class LatentSummary:
    """Per-axis facts of the plotted codes: where sliders start, end and rest."""

    mean: np.ndarray  # (d,)
    variance: np.ndarray  # (d,)
    lo: np.ndarray  # (d,) 0.5th percentile
    hi: np.ndarray  # (d,) 99.5th percentile
    median_radius: float  # median ‖z‖ of the data

    @classmethod
    def of(cls, z: np.ndarray, percentiles: tuple[float, float] = PERCENTILES) -> LatentSummary:
        z = np.asarray(z, dtype=np.float32)
        lo, hi = slider_ranges(z, percentiles)
        return cls(mean=z.mean(axis=0), variance=z.var(axis=0), lo=lo, hi=hi,
                   median_radius=float(np.median(np.linalg.norm(z, axis=1))))


def slider_ranges(values: np.ndarray, percentiles: tuple[float, float] = PERCENTILES) -> tuple[np.ndarray, np.ndarray]:
    """Per-column (lo, hi) percentiles of ``values`` (N, k); a constant column gets a range of ±0.5."""
    lo, hi = np.percentile(np.asarray(values, dtype=np.float32), percentiles, axis=0)
    flat = hi - lo < 1e-6
    lo = np.where(flat, lo - 0.5, lo)
    hi = np.where(flat, hi + 0.5, hi)
    return lo.astype(np.float32), hi.astype(np.float32)


def extend_ranges(lo: np.ndarray, hi: np.ndarray, factor: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Widen each range by ``factor`` of its width on both sides (the "extend" button)."""
    pad = (np.asarray(hi) - np.asarray(lo)) * factor
    return (lo - pad).astype(np.float32), (hi + pad).astype(np.float32)


@dataclass
class PCABasis:
    """Principal directions of the codes: move z along PCi in units of its standard deviation, the rest held."""

    mean: np.ndarray  # (d,)
    components: np.ndarray  # (k, d), orthonormal rows
    std: np.ndarray  # (k,) standard deviation along each component

    @classmethod
    def fit(cls, z: np.ndarray) -> PCABasis:
        """Eigen-decomposition of the covariance (d × d), largest variance first."""
        data = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32))
        mean = data.mean(0)
        centred = (data - mean).double()
        cov = centred.T @ centred / max(1, len(data) - 1)
        values, vectors = torch.linalg.eigh(cov)
        order = torch.argsort(values, descending=True)
        keep = order[: min(len(order), max(1, len(data) - 1))]
        return cls(mean=mean.numpy(), components=vectors[:, keep].T.float().numpy(),
                   std=np.sqrt(np.clip(values[keep].numpy(), 0, None)).astype(np.float32))

    @classmethod
    def from_model(cls, pca: Any) -> PCABasis:
        """From a fitted PCA with sklearn's attribute names (``mean_``, ``components_``, ``explained_variance_``)."""
        return cls(mean=np.asarray(pca.mean_, np.float32), components=np.asarray(pca.components_, np.float32),
                   std=np.sqrt(np.clip(np.asarray(pca.explained_variance_, np.float64), 0, None)).astype(np.float32))

    @property
    def safe_std(self) -> np.ndarray:
        return np.where(self.std > 1e-12, self.std, 1.0).astype(np.float32)

    def coordinates(self, z: np.ndarray) -> np.ndarray:
        """z (d,) or (n, d) → coordinates along each component, in standard deviations."""
        return ((np.asarray(z, np.float32) - self.mean) @ self.components.T) / self.safe_std

    def move(self, z: np.ndarray, component: int, value: float) -> np.ndarray:
        """z with its coordinate along ``component`` set to ``value`` SDs; the other components held."""
        z = np.asarray(z, np.float32)
        current = float(self.coordinates(z)[component])
        step = (value - current) * float(self.safe_std[component])
        return (z + step * self.components[component]).astype(np.float32)

    def directions(self) -> np.ndarray:
        """(k, d): one SD along each component (the unit of the PCA sliders)."""
        return self.components * self.safe_std[:, None]


def pca_slider_ranges(basis: PCABasis, z: np.ndarray, sample: int = 10000, seed: int = 0,
                      percentiles: tuple[float, float] = PERCENTILES) -> tuple[np.ndarray, np.ndarray]:
    """Percentile ranges of the data's PCA coordinates (in SDs), on a sample of at most ``sample`` codes."""
    z = np.asarray(z)
    if len(z) > sample:
        z = z[np.random.default_rng(seed).choice(len(z), sample, replace=False)]
    return slider_ranges(basis.coordinates(z), percentiles)


def iter_decoder_sensitivity(model: Any, bases: np.ndarray, directions: np.ndarray, step: float,
                             batch_size: int = 512) -> Job[np.ndarray]:
    """How much the decoded image changes per unit step along each direction.

    Central differences at every base code: RMS pixel change of decode(b ± step·u) divided by 2·step,
    averaged over the bases. Returns (k,) for ``directions`` (k, d).
    """
    bases = np.atleast_2d(np.asarray(bases, np.float32))
    directions = np.asarray(directions, np.float32)
    k = len(directions)
    total = len(bases) * k
    out = np.zeros(k, np.float64)
    done = 0
    yield Progress("decoder sensitivity", 0, total)
    per_batch = max(1, batch_size // 2)
    for base in bases:
        for start in range(0, k, per_batch):
            dirs = directions[start:start + per_batch]
            codes = np.concatenate([base + step * dirs, base - step * dirs])
            images = decode_images(model, codes).reshape(2 * len(dirs), -1)
            plus, minus = images[: len(dirs)], images[len(dirs):]
            out[start:start + len(dirs)] += np.sqrt(((plus - minus) ** 2).mean(axis=1)) / (2 * step)
            done += len(dirs)
            yield Progress("decoder sensitivity", done, total)
    return (out / len(bases)).astype(np.float32)


# -------------------------------------------------------------------------------------- off the data
# torch.set_num_threads sets the calling thread's count, and the count a thread takes at its first torch call:
# a thread starting while another is inside `torch_threads` reads that one's temporary count as its own.
_DEFAULT_THREADS = torch.get_num_threads()


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run a small torch computation on ``n`` threads of the calling thread.

    A matrix-vector product is memory-bound: extra intra-op threads add nothing, and on a busy machine
    they mostly wait for each other (measured: 12 ms on two threads, 2.8 ms on one, 70,000 × 256).
    On leaving, the thread gets the process's original count back, never the count it found on entry, which
    may be another thread's temporary one. Each thread keeps its own count, so this leaves the counts of
    threads still inside their blocks alone, and the last to leave puts the count of new threads back too.
    """
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(_DEFAULT_THREADS)


class OffDataMeter:
    """How far a z lies from the data: mean distance to its k nearest codes ÷ the typical such distance.

    The typical distance (median over a sample of codes of the mean distance to their k nearest *other*
    codes) is computed once per encoding; each query is one exact matrix-vector product over all codes.
    A code of the data scores about 1 or less; a point in empty space scores high.
    """

    def __init__(self, codes: np.ndarray, typical: float, k: int = 5):
        self.codes = torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32))
        self.sq_norms = (self.codes * self.codes).sum(1)
        self.typical = float(typical)
        self.k = int(k)

    def __len__(self) -> int:
        return len(self.codes)

    def nearest(self, z: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Indices and distances of the ``k`` nearest codes to one z, nearest first (exact search)."""
        k = min(int(k or self.k), len(self.codes))
        query = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32).ravel())
        with torch_threads(1):
            sq = torch.addmv(self.sq_norms, self.codes, query, alpha=-2.0)
            _, indices = torch.topk(sq, k, largest=False, sorted=True)
            # the expansion ‖c‖² − 2c·z + ‖z‖² loses small distances to rounding: measure the k found directly
            distances = torch.linalg.vector_norm(self.codes[indices] - query, dim=1)
            order = torch.argsort(distances)
        return indices[order].numpy(), distances[order].numpy()

    def score(self, z: np.ndarray) -> float:
        """Mean distance to the k nearest codes, in units of the data's typical nearest-neighbour distance."""
        _, distances = self.nearest(z)
        return float(distances.mean() / self.typical) if self.typical > 0 else float("inf")


def iter_typical_nn_distance(codes: np.ndarray, k: int = 5, sample: int = 1000, seed: int = 0,
                             batch_size: int = 128) -> Job[float]:
    """Median over ``sample`` codes of the mean distance to their k nearest other codes (exact search)."""
    data = torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32))
    n = len(data)
    if n < 2:
        return 1.0
    k = min(k, n - 1)
    picks = np.random.default_rng(seed).choice(n, min(sample, n), replace=False)
    sq = (data * data).sum(1)
    means = []
    yield Progress("typical neighbour distance", 0, len(picks))
    for start in range(0, len(picks), batch_size):
        idx = torch.from_numpy(picks[start:start + batch_size])
        query = data[idx]
        d2 = sq[None, :] - 2.0 * (query @ data.T) + sq[idx][:, None]
        d2[torch.arange(len(idx)), idx] = float("inf")  # not its own neighbour
        values, _ = torch.topk(d2, k, dim=1, largest=False)
        means.append(torch.sqrt(torch.clamp(values, min=0.0)).mean(1).numpy())
        yield Progress("typical neighbour distance", min(len(picks), start + batch_size), len(picks))
    typical = float(np.median(np.concatenate(means)))
    return typical if typical > 0 else 1e-12


@dataclass
class PreparedLatents:
    """Everything the decoder panel derives once per encoding."""

    summary: LatentSummary
    meter: OffDataMeter


def iter_prepare_latents(z: np.ndarray, k: int = 5, sample: int = 1000) -> Job[PreparedLatents]:
    """Slider ranges and the off-data meter for a new set of codes (a background job)."""
    yield Progress("decoder: slider ranges", 0, None)
    summary = LatentSummary.of(z)
    typical = yield from iter_typical_nn_distance(z, k=k, sample=sample)
    return PreparedLatents(summary=summary, meter=OffDataMeter(z, typical, k=k))


def knn_placement(coords: np.ndarray, indices: np.ndarray, distances: np.ndarray) -> tuple[float, float]:
    """A map position from the positions of one code's nearest neighbours, weighted by 1/distance."""
    xy = place_by_neighbours(coords, np.asarray(indices)[None], np.asarray(distances)[None])[0]
    return float(xy[0]), float(xy[1])


# ---------------------------------------------------------------------------------------- prior samples
PRIORS = ("normal", "uniform")


def sample_prior(n: int, dim: int, kind: str = "normal", scale: float = 2.0, seed: int = 0) -> np.ndarray:
    """n codes from N(0, I) or uniform in [−scale, scale]^dim, float32."""
    rng = np.random.default_rng(seed)
    if kind == "normal":
        return rng.standard_normal((n, dim), dtype=np.float32)
    if kind == "uniform":
        return rng.uniform(-scale, scale, (n, dim)).astype(np.float32)
    raise ValueError(f"unknown prior '{kind}'; choose from {', '.join(PRIORS)}")


@dataclass(frozen=True)
class RadiusReport:
    """Median ‖z‖ of the prior samples against the data's: a plain AE's codes rarely sit where N(0, I) puts mass."""

    samples: float
    data: float

    @property
    def ratio(self) -> float:
        return self.samples / self.data if self.data > 0 else float("inf")

    def text(self) -> str:
        return f"median ‖z‖: samples {self.samples:.2f}, data {self.data:.2f} (×{self.ratio:.2f})"


def radius_report(samples: np.ndarray, data: np.ndarray | float) -> RadiusReport:
    data_median = float(data) if np.isscalar(data) else float(np.median(np.linalg.norm(data, axis=1)))
    return RadiusReport(samples=float(np.median(np.linalg.norm(samples, axis=1))), data=data_median)


def iter_decode_batched(model: Any, z: np.ndarray, stage: str = "decoding", batch_size: int = 64) -> Job[np.ndarray]:
    """`decode_images` in batches, yielding progress."""
    parts = []
    yield Progress(stage, 0, len(z))
    for start in range(0, len(z), batch_size):
        parts.append(decode_images(model, z[start:start + batch_size]))
        yield Progress(stage, min(len(z), start + batch_size), len(z))
    return np.concatenate(parts)


# ---------------------------------------------------------------------------------------- arithmetic
def latent_arithmetic(a: np.ndarray, b: np.ndarray, c: np.ndarray, alpha: float = 1.0, beta: float = 1.0,
                      gamma: float = 1.0) -> np.ndarray:
    """α·A − β·B + γ·C (the classic analogy: glasses man − man + woman)."""
    return (alpha * np.asarray(a, np.float32) - beta * np.asarray(b, np.float32)
            + gamma * np.asarray(c, np.float32)).astype(np.float32)


def class_means(z: np.ndarray, labels: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """(n_classes, d) mean code of each class; NaN rows for classes with no sample."""
    labels = np.asarray(labels, np.int64)
    n_classes = int(n_classes if n_classes is not None else labels.max() + 1)
    means = np.full((n_classes, z.shape[1]), np.nan, np.float32)
    for c in range(n_classes):
        members = labels == c
        if members.any():
            means[c] = z[members].mean(axis=0, dtype=np.float64)
    return means


# ---------------------------------------------------------------------------------------- decoded grids
def grid_points(rect: Sequence[float], rows: int, cols: int | None = None) -> np.ndarray:
    """Cell centres of a rows × cols grid over (x0, x1, y0, y1): top row (largest y) first, left to right."""
    cols = cols or rows
    x0, x1, y0, y1 = (float(v) for v in rect)
    xs = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
    ys = y1 - (np.arange(rows) + 0.5) * (y1 - y0) / rows
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def grid_codes(projection: Projection, rect: Sequence[float], rows: int, base: np.ndarray,
               cols: int | None = None) -> np.ndarray:
    """The codes under a grid of the visible rectangle, off-plane coordinates taken from ``base``."""
    xy = grid_points(rect, rows, cols)
    return np.asarray(projection.inverse(xy, np.asarray(base, np.float32)), np.float32)


def tile_images(images: np.ndarray, rows: int, cols: int | None = None, pad: int = 1,
                pad_value: float = 1.0) -> np.ndarray:
    """Lay out (n, H, W[, 3]) images as one mosaic, row by row, with ``pad`` pixels between tiles."""
    cols = cols or rows
    images = np.asarray(images, np.float32)
    n, h, w = images.shape[:3]
    extra = images.shape[3:]
    out = np.full((rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad, *extra), pad_value, np.float32)
    for i in range(min(n, rows * cols)):
        r, c = divmod(i, cols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = images[i]
    return out


def decode_grid(model: Any, projection: Projection, rect: Sequence[float], rows: int,
                base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mosaic, codes) of a rows × rows decoded grid over ``rect`` of the projection's plane."""
    codes = grid_codes(projection, rect, rows, base)
    return tile_images(decode_images(model, codes), rows), codes


def lift_point(projection: Projection, x: float, y: float, base: np.ndarray) -> np.ndarray:
    """The z under a point of the plane: ``projection.inverse`` with off-plane coordinates from ``base``."""
    return np.asarray(projection.inverse(np.array([[x, y]], np.float32), np.asarray(base, np.float32)),
                      np.float32)[0]


def iter_exact_map_placement(coords: np.ndarray, codes: np.ndarray, z: np.ndarray, affinities: Any = None,
                             perplexity: float = 30.0, seed: int = 0, n_jobs: int = 1) -> Job[tuple[np.ndarray, Any]]:
    """Place new codes in a fixed t-SNE map with openTSNE's ``transform``: exact but slow, for batches only.

    Returns (positions (n, 2), the map's affinities); pass the affinities back to skip the neighbour search
    of the map's codes next time.
    """
    from openTSNE import TSNEEmbedding
    from openTSNE.affinity import PerplexityBasedNN

    codes = np.ascontiguousarray(codes, dtype=np.float32)
    if affinities is None:
        yield Progress("t-SNE placement: neighbours of the map", 0, None, f"{len(codes):,} codes")
        affinities = PerplexityBasedNN(codes, perplexity=min(perplexity, (len(codes) - 1) / 3.0), method="auto",
                                       n_jobs=n_jobs, random_state=seed)
    yield Progress("t-SNE placement: optimising", 0, None, f"{len(z)} samples")
    embedding = TSNEEmbedding(np.ascontiguousarray(coords, dtype=np.float64), affinities, random_state=seed,
                              n_jobs=n_jobs)
    placed = embedding.transform(np.ascontiguousarray(z, dtype=np.float32), k=min(25, len(codes) - 1))
    return np.asarray(placed, np.float64), affinities
