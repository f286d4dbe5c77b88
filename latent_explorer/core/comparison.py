"""Two models on one dataset, side by side: the study's central experiment (a plain AE against a VAE whose KL
weight is tiny) as one job.

`iter_comparison` encodes the samples with the second model (the first model's codes are given: the window
has them already), projects each model's codes on its own first two principal components, puts both radius
distributions and both per-axis value distributions on shared bins, decodes the same N(0, I) draws with each
decoder, and measures the structure of both (`core.analysis.structure`). The samples are the same rows of
the dataset for both models, so that a selection made in one model's scatter is the same samples in the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from latent_explorer.core.analysis.binning import AnalysisError, histogram
from latent_explorer.core.analysis.radius import radii
from latent_explorer.core.analysis.spectrum import pca_spectrum
from latent_explorer.core.analysis.structure import StructureAnalysis, StructureSettings, iter_structure
from latent_explorer.core.analysis.structure_curves import CURVE_BINS, shared_edges
from latent_explorer.core.datasets import Dataset
from latent_explorer.core.decoding import sample_prior
from latent_explorer.core.encoding import Codes, iter_encode_cached
from latent_explorer.core.jobs import Job, Progress, prefixed

DEFAULT_SAMPLES = 10_000  # the comparison's default subset: two encodings and two structure analyses in ~a minute
PRIOR_IMAGES = 16


@dataclass(frozen=True)
class ModelSide:
    """What the comparison shows of one model."""

    name: str
    model: object  # the LatentModel (a report of the comparison encodes every sample with it)
    codes: Codes  # of the compared samples only
    xy: np.ndarray  # (n, 2) the codes on their own PCA components 1 and 2
    explained: tuple[float, float]  # variance ratio of those two components
    radius_counts: np.ndarray  # on `Comparison.radius_edges`
    axis_counts: np.ndarray  # (d, bins) on `Comparison.axis_edges`, one row per latent axis
    prior_images: np.ndarray  # (PRIOR_IMAGES, C, H, W) in [0, 1]: decode(z), z ~ N(0, I)
    structure: StructureAnalysis | None

    @property
    def pooled_axis_counts(self) -> np.ndarray:
        """Every axis's values together: the distribution of one coordinate of a code."""
        return self.axis_counts.sum(axis=0)


@dataclass(frozen=True)
class Comparison:
    samples: np.ndarray  # (n,) dataset row of each compared code, sorted
    sides: tuple[ModelSide, ModelSide]
    radius_edges: np.ndarray
    axis_edges: np.ndarray
    prior_seed: int

    def structure_rows(self) -> tuple[list[str], list[list]]:
        """The structure numbers of both models, one column each."""
        a, b = (side.structure for side in self.sides)
        if a is None or b is None:
            return ["measurement", *(s.name for s in self.sides)], []
        header_a, rows_a = a.summary()
        _, rows_b = b.summary()
        rows = [[ra[0], ra[1], rb[1]] for ra, rb in zip(rows_a, rows_b, strict=True)]
        rows.insert(5, ["Gaussian baseline: TwoNN dimension", a.gaussian.two_nn.dimension,
                        b.gaussian.two_nn.dimension])
        return [header_a[0], *(s.name for s in self.sides)], rows


def compared_samples(count: int, available: int, seed: int = 0) -> np.ndarray:
    """``count`` dataset rows drawn without replacement (all of them when ``count`` ≥ ``available``), sorted."""
    if count < 2:
        raise AnalysisError(f"a comparison needs at least 2 samples, not {count}")
    if count >= available:
        return np.arange(available)
    return np.sort(np.random.default_rng(seed).choice(available, count, replace=False))


def decode_prior(model, count: int = PRIOR_IMAGES, seed: int = 0) -> np.ndarray:
    """Decoded draws of N(0, I) (the same draws for every model of one latent dimension)."""
    z = torch.from_numpy(sample_prior(count, model.latent_dim, kind="normal", seed=seed))
    return model.decode(z).cpu().numpy()


def iter_comparison(names: tuple[str, str], models: tuple, dataset: Dataset, first_codes: Codes, count: int,
                    structure: StructureSettings | None = None, seed: int = 0) -> Job[Comparison]:
    """Compare ``models[0]`` (whose codes of the whole ``dataset`` are ``first_codes``) with ``models[1]`` on
    ``count`` samples; ``structure`` None leaves the structure analysis out."""
    if len(first_codes) != len(dataset):
        raise AnalysisError(f"the first model's {len(first_codes):,} codes do not belong to these "
                            f"{len(dataset):,} samples", hint="encode the dataset with the first model again")
    samples = compared_samples(count, len(dataset), seed)
    subset = dataset.subset(samples, name=f"{dataset.name}[{len(samples)} compared]")
    second = yield from prefixed(names[1], iter_encode_cached(models[1], subset, seed=seed))
    first = _rows(first_codes, samples)
    all_codes = (first, second)
    radius = [radii(c.z) for c in all_codes]
    radius_edges = shared_edges(radius, CURVE_BINS)
    axis_edges = shared_edges([c.z.ravel()[:: max(1, c.z.size // 2_000_000)] for c in all_codes], CURVE_BINS,
                              upper_quantile=0.999)
    lower = float(min(np.quantile(c.z, 0.001) for c in all_codes))
    axis_edges = np.linspace(lower, float(axis_edges[-1]), CURVE_BINS + 1)
    sides = []
    for name, model, codes, r in zip(names, models, all_codes, radius, strict=True):
        yield Progress(f"{name}: PCA, radius and per-axis values", 0, None)
        spectrum = pca_spectrum(codes.z)
        components = spectrum.components[:2]
        xy = ((codes.z - spectrum.mean) @ components.T).astype(np.float32)
        axis_counts = np.stack([histogram(codes.z[:, k], axis_edges) for k in range(codes.latent_dim)])
        yield Progress(f"{name}: decoding N(0, I) samples", 0, None)
        images = decode_prior(model, seed=seed)
        result = None
        if structure is not None:
            result = yield from prefixed(name, iter_structure(codes.z, structure))
        sides.append(ModelSide(name, model, codes, xy, (float(spectrum.ratio[0]), float(spectrum.ratio[1])),
                               histogram(r, radius_edges), axis_counts, images, result))
    return Comparison(samples, (sides[0], sides[1]), radius_edges, axis_edges, seed)


def _rows(codes: Codes, rows: np.ndarray) -> Codes:
    def pick(array):
        return None if array is None else array[rows]

    return Codes(z=codes.z[rows], mu=pick(codes.mu), logvar=pick(codes.logvar), labels=pick(codes.labels),
                 recon_error=codes.recon_error[rows], model_key=codes.model_key, seed=codes.seed)
