"""Two models compared on the same samples of digits: shared bins, own PCA, the same prior draws, structure."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core.analysis.binning import AnalysisError
from latent_explorer.core.analysis.structure import StructureSettings
from latent_explorer.core.comparison import compared_samples, iter_comparison
from latent_explorer.core.encoding import iter_encode_cached
from latent_explorer.core.jobs import run_job
from latent_explorer.core.models import load_model


@pytest.fixture(scope="module")
def two_models():
    return load_model("demo:digits-conv-ae", device="cpu"), load_model("demo:digits-conv-vae", device="cpu")


def test_comparison_of_two_digits_models(digits, two_models):
    ae, vae = two_models
    first = run_job(iter_encode_cached(ae, digits, use_cache=False))
    result = run_job(iter_comparison(("AE", "VAE"), (ae, vae), digits, first, 600, StructureSettings(k=10,
                                                                                                   prior_samples=200)))
    samples = result.samples
    assert len(samples) == 600 and np.all(np.diff(samples) > 0)
    a, b = result.sides
    np.testing.assert_array_equal(a.codes.z, first.z[samples])  # the first model's rows, not a new encoding
    direct = run_job(iter_encode_cached(vae, digits.subset(samples), use_cache=False))
    np.testing.assert_array_equal(b.codes.z, direct.z)  # the same samples, in the same order, for both
    np.testing.assert_array_equal(b.codes.labels, digits.labels[samples])
    for side in (a, b):
        assert side.xy.shape == (600, 2)
        assert np.isclose(side.xy.mean(axis=0), 0, atol=1e-3).all()  # centred PCA coordinates
        assert side.xy[:, 0].var() >= side.xy[:, 1].var()
        in_range = np.linalg.norm(side.codes.z, axis=1) <= result.radius_edges[-1]
        assert side.radius_counts.sum() == in_range.sum() >= 0.99 * 600
        assert side.axis_counts.shape == (side.codes.latent_dim, len(result.axis_edges) - 1)
        assert side.pooled_axis_counts.sum() >= 0.99 * side.codes.z.size
        assert side.prior_images.shape == (16, *digits.image_shape)
        assert side.prior_images.min() >= 0.0 and side.prior_images.max() <= 1.0
        assert side.structure is not None and side.structure.count == 600
    header, rows = result.structure_rows()
    assert header == ["measurement", "AE", "VAE"]
    two_nn = next(r for r in rows if r[0] == "TwoNN dimension")
    assert two_nn[1:] == [a.structure.data.two_nn.dimension, b.structure.data.two_nn.dimension]


def test_comparison_refuses_codes_of_other_samples(digits, two_models):
    ae, vae = two_models
    first = run_job(iter_encode_cached(ae, digits.subset(np.arange(100)), use_cache=False))
    with pytest.raises(AnalysisError, match="do not belong"):
        run_job(iter_comparison(("AE", "VAE"), (ae, vae), digits, first, 50))
    assert compared_samples(10, 5).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(AnalysisError):
        compared_samples(1, 5)
