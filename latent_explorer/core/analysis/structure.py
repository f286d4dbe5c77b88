"""Is the cloud of codes filamentary, and how empty is the space around it?

Four measurements, all on exact nearest neighbours (`neighbours`):

* **Local intrinsic dimension** of each code, the Levina–Bickel maximum-likelihood estimate on its k nearest
  neighbours, m̂_k(x) = [ 1/(k−1) · Σ_{j<k} log(T_k / T_j) ]⁻¹ (Levina & Bickel 2004). Its global mean is
  taken as MacKay & Ghahramani proposed: average the *inverses* (unbiased for 1/m) and invert, rather than
  averaging the m̂ themselves, which the heavy upper tail of 1/x drags up.
* **Global intrinsic dimension** by TwoNN (Facco, d'Errico, Rodriguez & Laio 2017): μ = r₂/r₁ follows a
  Pareto law F(μ) = 1 − μ^{−d}; d is the slope through the origin of −log(1 − F̂) against log μ, fitted on
  the 90 % smallest μ (the largest ratios come from the sparse outskirts and are discarded).
* **A Gaussian baseline**: the same estimates and the nearest-neighbour distances of a Gaussian sample with
  the data's mean, covariance and size. The ratio of median nearest-neighbour distances (data ÷ Gaussian)
  says how much closer together the codes sit than a cloud of the same covariance would put them — below 1,
  they crowd onto thinner structures and leave voids; about 1 for Gaussian data.
* **The prior's emptiness**: the fraction of samples from N(0, I) and U[−a, a]^d whose off-data score (the
  decoder's meter, `core.decoding.OffDataMeter`: mean distance to the 5 nearest codes ÷ the data's typical
  such distance) exceeds 1, i.e. that lie farther from the data than a code typically lies from its neighbours.

Both estimators are biased *downwards* when the dimension is high for the number of points: neighbourhoods
of a few thousand points in 50 or more dimensions are not small enough for the density to be uniform in them
(boundary and curvature effects), so a full Gaussian in 256-D reads far below 256. Read the absolute value
with care above ~20; comparisons between models at equal n, and against the Gaussian baseline, stay meaningful.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from latent_explorer.core.analysis.binning import (
    AnalysisError,
    Histogram,
    fit_bin_width,
    histogram,
    nice_bin_width,
    uniform_edges,
)
from latent_explorer.core.analysis.neighbours import Neighbours, iter_nearest_neighbours
from latent_explorer.core.analysis.radius import radii
from latent_explorer.core.analysis.spectrum import covariance
from latent_explorer.core.analysis.threads import single_threaded_math
from latent_explorer.core.decoding import OffDataMeter, iter_typical_nn_distance, sample_prior
from latent_explorer.core.interpolation import off_data_scores
from latent_explorer.core.jobs import Job, Progress, run_job

TWO_NN_DISCARD = 0.1  # Facco et al.: drop the 10 % largest ratios r2/r1
DEFAULT_K = 20
MAX_EXACT_POINTS = 100_000  # above this many codes, the per-point estimates are made for a random sample
RADIUS_BINS = 24
MIN_BIN_COUNT = 20  # a radius bin with fewer codes gets no median


@dataclass(frozen=True)
class StructureSettings:
    """What `iter_structure` computes: k neighbours for the local dimension, how many prior samples, where."""

    k: int = DEFAULT_K
    two_nn_discard: float = TWO_NN_DISCARD
    max_points: int = MAX_EXACT_POINTS
    prior_samples: int = 2000
    uniform_scale: float = 2.0  # U[−a, a] with a = this
    meter_k: int = 5  # the off-data meter's k (the decoder's default)
    seed: int = 0


@dataclass(frozen=True)
class TwoNN:
    """Facco et al.'s global dimension and the points of its fit (for a plot of the straight line)."""

    dimension: float
    used: int  # ratios in the fit, after dropping duplicates and the discarded tail
    log_mu: np.ndarray  # x of the fitted points
    minus_log_survival: np.ndarray  # y = −log(1 − F̂)


@dataclass(frozen=True)
class BinnedMedians:
    """Median (and quartiles) of one value in bins of another; NaN where a bin has too few points."""

    edges: np.ndarray
    median: np.ndarray
    lower: np.ndarray  # 25th percentile
    upper: np.ndarray  # 75th percentile
    counts: np.ndarray

    @property
    def centres(self) -> np.ndarray:
        return 0.5 * (self.edges[:-1] + self.edges[1:])


@dataclass(frozen=True)
class DimensionEstimate:
    """Local dimension of each queried code, its summary and the global TwoNN of one point set."""

    points: np.ndarray  # indices of the codes measured
    lid: np.ndarray  # (m,) Levina–Bickel m̂_k per code; NaN for a code with a duplicate among its neighbours
    lid_global: float  # MacKay–Ghahramani: 1 / mean(1 / m̂_k)
    lid_median: float
    two_nn: TwoNN
    nn_distance: np.ndarray  # (m,) distance to the nearest other code
    k: int


@dataclass(frozen=True)
class PriorEmptiness:
    """How far samples of one prior lie from the codes, in the off-data meter's units."""

    prior: str  # "N(0, I)" or "U[−a, a]"
    scores: np.ndarray
    fraction_beyond_typical: float  # score > 1
    fraction_off: float  # score > 2: the meter's orange and red bands
    median_score: float


@dataclass(frozen=True)
class StructureAnalysis:
    """Everything `iter_structure` measures on one set of codes."""

    count: int
    dim: int
    settings: StructureSettings
    data: DimensionEstimate
    gaussian: DimensionEstimate  # the same estimates on a Gaussian of the data's mean, covariance and size
    lid_histogram: Histogram
    lid_by_radius: BinnedMedians
    nn_ratio: float  # median nearest-neighbour distance, data ÷ Gaussian
    nn_ks: float  # two-sample Kolmogorov–Smirnov statistic of the two nearest-neighbour distance distributions
    nn_data_smaller: bool  # the data's distances are the smaller ones where the two distributions differ most
    priors: list[PriorEmptiness]
    typical_distance: float  # the off-data meter's unit
    seconds: float
    notes: list[str] = field(default_factory=list)

    def summary(self) -> tuple[list[str], list[list]]:
        """One row per measurement, as a table or CSV shows it."""
        s, g = self.data, self.gaussian
        rows: list[list] = [
            ["codes", self.count, "", ""],
            ["dimension", self.dim, "", ""],
            ["codes measured", len(s.points), "", ""],
            ["k (local dimension)", s.k, "", ""],
            ["TwoNN dimension", s.two_nn.dimension, g.two_nn.dimension, "Facco et al. 2017, 10 % discarded"],
            ["local dimension, median", s.lid_median, g.lid_median, "Levina–Bickel MLE"],
            ["local dimension, global mean", s.lid_global, g.lid_global, "MacKay–Ghahramani: mean of inverses"],
            ["median NN distance", float(np.median(s.nn_distance)), float(np.median(g.nn_distance)), ""],
            ["NN distance ratio (data ÷ Gaussian)", self.nn_ratio, "", "< 1: emptier than a Gaussian"],
            ["NN distance KS statistic", self.nn_ks, "",
             "data closer" if self.nn_data_smaller else "data farther"],
            ["typical 5-NN distance (meter unit)", self.typical_distance, "", ""],
        ]
        for p in self.priors:
            rows.append([f"{p.prior} samples farther than typical", p.fraction_beyond_typical, "", "score > 1"])
            rows.append([f"{p.prior} samples off the data", p.fraction_off, "", "score > 2"])
            rows.append([f"{p.prior} median off-data score", p.median_score, "", ""])
        rows.append(["seconds", self.seconds, "", ""])
        return ["measurement", "codes", "Gaussian baseline", "note"], rows


# ------------------------------------------------------------------------------------------ estimators
def levina_bickel(distances: np.ndarray) -> np.ndarray:
    """m̂_k per row of ascending neighbour distances (n, k), k ≥ 2; NaN where a distance is 0 (a duplicate)."""
    d = np.asarray(distances, np.float64)
    if d.ndim != 2 or d.shape[1] < 2:
        raise AnalysisError(f"the local dimension needs at least 2 neighbour distances per point, got {d.shape}")
    return _inverted(inverse_levina_bickel(d))


def _inverted(inverse: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inverse > 0, 1.0 / inverse, np.nan)


def inverse_levina_bickel(distances: np.ndarray) -> np.ndarray:
    """1 / m̂_k = mean over j < k of log(T_k / T_j); NaN for rows with a zero distance."""
    d = np.asarray(distances, np.float64)
    valid = d[:, 0] > 0
    out = np.full(len(d), np.nan)
    good = d[valid]
    out[valid] = np.log(good[:, -1:] / good[:, :-1]).mean(axis=1)
    return out


def mackay_ghahramani(inverse: np.ndarray) -> float:
    """The global dimension from per-point inverse estimates: 1 / mean(1 / m̂_k) over the finite ones."""
    finite = inverse[np.isfinite(inverse)]
    mean = float(finite.mean()) if finite.size else float("nan")
    return 1.0 / mean if mean > 0 else float("nan")


def two_nn(r1: np.ndarray, r2: np.ndarray, discard: float = TWO_NN_DISCARD) -> TwoNN:
    """Facco et al.'s TwoNN dimension from each point's first and second neighbour distances."""
    r1 = np.asarray(r1, np.float64)
    r2 = np.asarray(r2, np.float64)
    keep = r1 > 0  # duplicates have no ratio
    mu = np.sort(r2[keep] / r1[keep])
    n = len(mu)
    used = int(np.floor(n * (1.0 - discard)))
    if used < 2:
        raise AnalysisError(f"TwoNN needs more distinct points (got {n} with a nonzero nearest distance)")
    x = np.log(mu[:used])
    y = -np.log1p(-np.arange(1, used + 1) / n)  # −log(1 − F̂), F̂(μ_(i)) = i / n
    denominator = float(x @ x)
    dimension = float(x @ y / denominator) if denominator > 0 else float("inf")
    return TwoNN(dimension, used, x, y)


def binned_medians(values: np.ndarray, by: np.ndarray, bins: int = RADIUS_BINS,
                   min_count: int = MIN_BIN_COUNT) -> BinnedMedians:
    """Median and quartiles of ``values`` in ``bins`` equal-width bins of ``by`` over its central 99.8 %."""
    values = np.asarray(values, np.float64)
    by = np.asarray(by, np.float64)
    finite = np.isfinite(values) & np.isfinite(by)
    values, by = values[finite], by[finite]
    if values.size == 0:
        raise AnalysisError("no finite values to bin")
    lo, hi = np.quantile(by, [0.001, 0.999])
    if not hi > lo:
        lo, hi = float(by.min()), float(by.min()) + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    index = np.clip(np.searchsorted(edges, by, side="right") - 1, 0, bins - 1)
    inside = (by >= lo) & (by <= hi)
    median, lower, upper = (np.full(bins, np.nan) for _ in range(3))
    counts = np.zeros(bins, np.int64)
    for b in range(bins):
        part = values[inside & (index == b)]
        counts[b] = part.size
        if part.size >= min_count:
            lower[b], median[b], upper[b] = np.quantile(part, [0.25, 0.5, 0.75])
    return BinnedMedians(edges, median, lower, upper, counts)


def ks_statistic(a: np.ndarray, b: np.ndarray) -> tuple[float, bool]:
    """Two-sample Kolmogorov–Smirnov statistic sup |F_a − F_b|, and whether F_a is the higher one there."""
    a = np.sort(np.asarray(a, np.float64))
    b = np.sort(np.asarray(b, np.float64))
    grid = np.concatenate([a, b])
    diff = np.searchsorted(a, grid, side="right") / len(a) - np.searchsorted(b, grid, side="right") / len(b)
    at = int(np.argmax(np.abs(diff)))
    return float(abs(diff[at])), bool(diff[at] > 0)


def gaussian_like(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """A sample of len(x) points from the Gaussian with x's mean and covariance (rank-deficient allowed)."""
    with single_threaded_math():
        mean, cov = covariance(np.asarray(x))
        values, vectors = np.linalg.eigh(cov)
    scale = np.sqrt(np.clip(values, 0.0, None))
    white = np.random.default_rng(seed).standard_normal((len(x), len(mean)))
    return (mean + (white * scale) @ vectors.T).astype(np.float32)


# ------------------------------------------------------------------------------------------------ jobs
def iter_dimension(x: np.ndarray, k: int = DEFAULT_K, points: np.ndarray | None = None,
                   discard: float = TWO_NN_DISCARD, stage: str = "local dimension") -> Job[DimensionEstimate]:
    """Local (Levina–Bickel) and global (TwoNN) dimension of ``x``, measured at ``points`` (default all)."""
    if k < 2:
        raise AnalysisError(f"the local dimension needs k ≥ 2 neighbours, not {k}")
    neighbours: Neighbours = yield from iter_nearest_neighbours(x, k, points, stage=stage)
    inverse = inverse_levina_bickel(neighbours.distances)
    lid = _inverted(inverse)
    finite = lid[np.isfinite(lid)]
    return DimensionEstimate(
        points=neighbours.queries, lid=lid, lid_global=mackay_ghahramani(inverse),
        lid_median=float(np.median(finite)) if finite.size else float("nan"),
        two_nn=two_nn(neighbours.distances[:, 0], neighbours.distances[:, 1], discard),
        nn_distance=neighbours.distances[:, 0], k=k)


def iter_prior_emptiness(x: np.ndarray, samples: int = 2000, uniform_scale: float = 2.0, meter_k: int = 5,
                         seed: int = 0) -> Job[tuple[float, list[PriorEmptiness]]]:
    """The off-data scores of ``samples`` draws of N(0, I) and of U[−a, a]^d against the codes ``x``."""
    typical = yield from iter_typical_nn_distance(x, k=meter_k, seed=seed)
    meter = OffDataMeter(x, typical, k=meter_k)
    out = []
    for kind, label in (("normal", "N(0, I)"), ("uniform", f"U[−{uniform_scale:g}, {uniform_scale:g}]")):
        yield Progress("prior samples", len(out), 2, f"scoring {samples:,} samples of {label}")
        draws = sample_prior(samples, x.shape[1], kind=kind, scale=uniform_scale, seed=seed)
        scores = off_data_scores(meter, draws).astype(np.float64)
        out.append(PriorEmptiness(label, scores, float((scores > 1.0).mean()), float((scores > 2.0).mean()),
                                  float(np.median(scores))))
    return typical, out


def iter_structure(x: np.ndarray, settings: StructureSettings | None = None) -> Job[StructureAnalysis]:
    """Every structure measurement of the codes ``x`` (n, d), with progress; closing the job cancels it."""
    settings = settings or StructureSettings()
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 2 or len(x) <= settings.k + 1:
        raise AnalysisError(f"the structure analysis with k = {settings.k} needs more than {settings.k + 1} codes, "
                            f"got an array of shape {x.shape}", hint="lower k or encode more samples")
    started = time.perf_counter()
    n, d = x.shape
    notes = []
    points = None
    if n > settings.max_points:
        points = np.sort(np.random.default_rng(settings.seed).choice(n, settings.max_points, replace=False))
        notes.append(f"per-point estimates on a random sample of {settings.max_points:,} of the {n:,} codes; "
                     "their neighbours are exact among all codes")
    data = yield from iter_dimension(x, settings.k, points, settings.two_nn_discard, stage="neighbours of the codes")
    yield Progress("Gaussian baseline", 0, None, "sampling a Gaussian of the same mean and covariance")
    reference = gaussian_like(x, seed=settings.seed)
    gaussian = yield from iter_dimension(reference, settings.k, points, settings.two_nn_discard,
                                         stage="neighbours of the Gaussian")
    typical, priors = yield from iter_prior_emptiness(x, settings.prior_samples, settings.uniform_scale,
                                                      settings.meter_k, settings.seed)
    finite = data.lid[np.isfinite(data.lid)]
    duplicates = len(data.lid) - finite.size
    if duplicates:
        notes.append(f"{duplicates:,} codes have an exact duplicate among their neighbours: no local dimension")
    width = fit_bin_width(nice_bin_width(finite, 60), float(finite.min()), float(finite.max()))
    edges = uniform_edges(float(finite.min()), float(finite.max()), width)
    gaussian_median = float(np.median(gaussian.nn_distance))
    ks, data_smaller = ks_statistic(data.nn_distance, gaussian.nn_distance)
    return StructureAnalysis(
        count=n, dim=d, settings=settings, data=data, gaussian=gaussian,
        lid_histogram=Histogram(edges, histogram(finite, edges)),
        lid_by_radius=binned_medians(data.lid, radii(x[data.points])),
        nn_ratio=float(np.median(data.nn_distance)) / gaussian_median if gaussian_median > 0 else float("inf"),
        nn_ks=ks, nn_data_smaller=data_smaller, priors=priors, typical_distance=typical,
        seconds=time.perf_counter() - started, notes=notes)


def structure(x: np.ndarray, settings: StructureSettings | None = None) -> StructureAnalysis:
    return run_job(iter_structure(x, settings))
