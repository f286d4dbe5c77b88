"""Every number the analysis panels show, checked against an independent computation.

Real encodings (digits through a small trained VAE) and synthetic codes with known structure.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import scipy.stats
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

from latent_explorer.core.analysis import (
    AnalysisError,
    KMeansSweep,
    axis_density,
    axis_statistics,
    chi_mean,
    chi_pdf,
    histogram,
    histograms_of_sorted,
    indices_in_band,
    iter_kmeans_sweep,
    iter_reconstructions,
    k_values,
    nice_bin_width,
    pca_spectrum,
    posterior_statistics,
    quantiles_of_sorted,
    radius_density,
    recon_statistics,
    robust_z,
    selection_histograms,
    sigma_in_plane,
    sorted_axes,
    uniform_edges,
    worst_indices,
    write_csv,
)
from latent_explorer.core.analysis.binning import MAX_BINS, fit_bin_width
from latent_explorer.core.encoding import Codes, iter_encode
from latent_explorer.core.jobs import Progress, run_job
from latent_explorer.core.models import load_model


@pytest.fixture(scope="module")
def vae_model(digits_vae):
    return load_model(str(digits_vae), device="cpu")


@pytest.fixture(scope="module")
def digit_codes(vae_model, digits) -> Codes:
    return run_job(iter_encode(vae_model, digits))


def odd_axis_codes(n: int = 4000, d: int = 64, seed: int = 0) -> np.ndarray:
    """N(0, 1) axes, except axis 52: centre 5, width 8 (as one of the studies found)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 1.0, (n, d)).astype(np.float32)
    z[:, 52] = rng.normal(5.0, 8.0, n)
    return z


def loop_histograms(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.stack([np.histogram(x[:, i], bins=edges)[0] for i in range(x.shape[1])])


# ---------------------------------------------------------------------------------------------- binning
def test_histograms_of_sorted_axes_equal_numpy_per_column_including_values_on_edges():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 2, (3000, 7)).astype(np.float32)
    edges = uniform_edges(float(x.min()), float(x.max()), 0.5)
    x[:50, 0] = edges[10]  # exactly on an edge: belongs to the bin on its right
    x[50:60, 1] = edges[-1]  # the last edge belongs to the last bin
    x[60:70, 2] = edges[0]
    axes = sorted_axes(x)
    assert np.array_equal(axes, np.sort(x, axis=0).T)
    assert np.array_equal(histograms_of_sorted(axes, edges), loop_histograms(x, edges))
    assert np.array_equal(histogram(x[:, 0], edges), np.histogram(x[:, 0], bins=edges)[0])


def test_quantiles_of_sorted_axes_equal_numpy_percentile():
    x = np.random.default_rng(12).normal(size=(1001, 5))
    q = (0.0, 0.1, 0.25, 0.5, 0.75, 0.999, 1.0)
    expected = np.percentile(x, [100 * f for f in q], axis=0)
    assert np.allclose(quantiles_of_sorted(sorted_axes(x), q), expected, rtol=0, atol=1e-12)
    assert np.allclose(quantiles_of_sorted(sorted_axes(x[:2]), (0.5,)), x[:2].mean(axis=0))


def test_values_exactly_on_edges_land_where_numpy_puts_them():
    """(v - lo) * scale rounds below the bin for many edges of a 0.1 grid; the exact step must fix that."""
    edges = uniform_edges(-3.7, 4.5, 0.1)
    on_edges = np.repeat(edges[:, None], 3, axis=1)  # every edge, in three columns
    expected = loop_histograms(on_edges, edges)
    assert np.array_equal(histograms_of_sorted(sorted_axes(on_edges), edges), expected)
    assert np.array_equal(histogram(edges, edges), np.histogram(edges, bins=edges)[0])
    assert expected[0, :-1].tolist() == [1] * (len(edges) - 2) and expected[0, -1] == 2


@pytest.mark.parametrize("lo, hi, width", [(-3.7, 4.5, 0.3), (1000.0, 1001.0, 0.001), (-1e4, -9990.0, 0.01),
                                           (1e6, 1e6 + 10, 0.01), (-40.0, 40.0, 0.02)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histogram_equals_numpy_next_to_every_edge_and_far_from_zero(lo, hi, width, dtype):
    edges = uniform_edges(lo, hi, width)
    rng = np.random.default_rng(11)
    values = np.concatenate([edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf),
                             rng.uniform(lo, hi, 20_000)]).astype(dtype)
    assert np.array_equal(histogram(values, edges), np.histogram(values, bins=edges)[0])
    inside = values[(values >= edges[0]) & (values <= edges[-1])]
    assert np.array_equal(histogram(inside, edges, inside=True), np.histogram(inside, bins=edges)[0])


def test_histogram_drops_values_outside_the_edges_like_numpy():
    values = np.array([-5.0, 0.1, 0.2, 0.95, 1.0, 7.0])
    edges = np.linspace(0, 1, 11)
    assert np.array_equal(histogram(values, edges), np.histogram(values, bins=edges)[0])


def test_uniform_edges_cover_the_range_and_refuse_too_many_bins():
    edges = uniform_edges(-1.23, 4.56, 0.5)
    assert edges[0] <= -1.23 and edges[-1] >= 4.56
    assert np.allclose(np.diff(edges), 0.5)
    with pytest.raises(AnalysisError, match="bins") as info:
        uniform_edges(0.0, 1000.0, 1e-4)
    assert "at least" in str(info.value)
    with pytest.raises(AnalysisError, match="positive"):
        uniform_edges(0.0, 1.0, 0.0)
    with pytest.raises(AnalysisError, match="finite"):
        uniform_edges(0.0, float("nan"), 0.1)


def test_nice_bin_width_is_round_and_near_the_requested_bin_count():
    values = np.random.default_rng(2).normal(0, 3, 50_000)
    width = nice_bin_width(values, target_bins=100)
    mantissa = width / 10 ** math.floor(math.log10(width))
    assert round(mantissa, 9) in (1.0, 2.0, 5.0)
    span = np.subtract(*np.quantile(values, [0.999, 0.001]))
    assert 40 <= span / width <= 100


def is_round(width: float) -> bool:
    return round(width / 10 ** math.floor(math.log10(width)), 9) in (1.0, 2.0, 5.0)


def test_fit_bin_width_widens_an_automatic_width_only_as_far_as_max_bins_needs():
    assert fit_bin_width(0.5, 0.0, 1.0) == 0.5
    assert fit_bin_width(0.1, 3.0, 3.0) == 0.1  # an empty range keeps the width
    assert fit_bin_width(0.001, -4.3, 4.4) == 0.002  # 8.7 / 0.001 would be 8,700 bins
    rng = np.random.default_rng(12)
    for lo, span in zip(rng.normal(0, 10.0 ** rng.integers(-3, 4, 300)), 10.0 ** rng.uniform(-6, 6, 300), strict=True):
        width = fit_bin_width(span * 1e-9, lo, lo + span)
        assert is_round(width)
        assert len(uniform_edges(lo, lo + span, width)) - 1 <= MAX_BINS


def check_auto_histogram(histogram_, values: np.ndarray) -> None:
    """Round width, at most MAX_BINS bins, every value counted as numpy counts it."""
    assert is_round(histogram_.bin_width)
    assert len(histogram_.edges) - 1 <= MAX_BINS
    assert histogram_.edges[0] <= values.min() and histogram_.edges[-1] >= values.max()
    assert histogram_.counts.sum() == values.size


def collapsed_vae_mu(n: int = 2000, seed: int = 11) -> np.ndarray:
    """mu of a partly collapsed VAE: 20 axes of width 0.005 (so the median width), 12 of width 1."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0.0, 0.005, (n, 32)).astype(np.float32)
    mu[:, 20:] = rng.normal(0.0, 1.0, (n, 12))
    return mu


def test_axis_density_of_a_partly_collapsed_vae_keeps_within_max_bins():
    mu = collapsed_vae_mu()
    density = axis_density(mu)
    check_auto_histogram(density.histogram, mu)
    assert np.array_equal(density.histogram.counts, loop_histograms(mu, density.histogram.edges))
    with pytest.raises(AnalysisError, match="bins"):  # a width typed by the user is taken as given
        axis_density(mu, 1e-4)


def test_automatic_widths_of_posterior_radius_and_recon_keep_within_max_bins():
    rng = np.random.default_rng(13)
    n, d = 4000, 6
    mu = rng.normal(0, 1, (n, d)).astype(np.float32)
    logvar = rng.normal(0, 1e-5, (n, d)).astype(np.float32)  # collapsed: σ = 1 everywhere ...
    logvar[:5, 0] = -10.0  # ... but for a few confident codes, beyond the central quantiles
    z = mu + rng.normal(0, 1e-4, (n, d)).astype(np.float32)
    z[:3, 0] = mu[:3, 0] + 5.0  # a few far samples, beyond the central quantiles of the offsets
    stats = posterior_statistics(mu, logvar, z)
    check_auto_histogram(stats.logvar_histogram, logvar)
    assert np.array_equal(stats.logvar_histogram.counts, np.histogram(logvar, bins=stats.logvar_histogram.edges)[0])
    check_auto_histogram(stats.offset_histogram, np.abs(z - mu))

    on_sphere = rng.normal(size=(n, d))
    on_sphere *= ((3.0 + rng.normal(0, 1e-6, n)) / np.linalg.norm(on_sphere, axis=1))[:, None]  # radii ≈ 3
    on_sphere[:3] *= 10.0
    main = radius_density({"z": on_sphere}).main
    check_auto_histogram(main.histogram, main.radii)
    assert np.array_equal(main.histogram.counts, np.histogram(main.radii, bins=main.histogram.edges)[0])

    errors = rng.gamma(2.0, 1e-4, 20_000)
    errors[:5] = 1.0
    recon = recon_statistics(errors)
    check_auto_histogram(recon.histogram, errors)
    assert np.array_equal(recon.histogram.counts, np.histogram(errors, bins=recon.histogram.edges)[0])


def test_indices_in_band_is_a_closed_band_in_either_order():
    values = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    assert indices_in_band(values, 1.0, 3.0).tolist() == [1, 2, 3]
    assert indices_in_band(values, 3.0, 1.0).tolist() == [1, 2, 3]


# ---------------------------------------------------------------------------------------------- axes
def check_axis_statistics(z: np.ndarray) -> None:
    stats = axis_statistics(z)
    z64 = z.astype(np.float64)
    q25, q50, q75 = np.percentile(z64, [25, 50, 75], axis=0)
    assert np.allclose(stats.centre, q50)
    assert np.allclose(stats.width, (q75 - q25) / 1.349)
    assert np.allclose(stats.mean, z64.mean(axis=0))
    assert np.allclose(stats.std, z64.std(axis=0))
    assert np.allclose(stats.skew, scipy.stats.skew(z64, axis=0), atol=1e-6)  # float32 terms, float64 sums


def test_axis_statistics_match_numpy_and_scipy_on_real_encodings(digit_codes):
    check_axis_statistics(digit_codes.z)
    check_axis_statistics(digit_codes.mu)


def test_axis_statistics_match_numpy_on_synthetic_codes_across_chunks():
    check_axis_statistics(odd_axis_codes(n=20_000, d=70))  # rows in three chunks, transposed in ten blocks
    check_axis_statistics(odd_axis_codes(n=500, d=60).astype(np.float64) + 1000.0)  # far from the origin


def test_broad_off_centre_axis_is_flagged_and_nothing_else():
    stats = axis_statistics(odd_axis_codes())
    assert stats.flagged_axes.tolist() == [52]
    assert stats.centre_z[52] > 3.5 and stats.width_z[52] > 3.5
    assert abs(stats.centre[52] - 5.0) < 0.6 and abs(stats.width[52] - 8.0) < 0.6


def test_shifted_axis_and_broad_axis_are_flagged_for_their_own_reason():
    rng = np.random.default_rng(3)
    z = rng.normal(0, 1, (4000, 40))
    z[:, 7] += 3.0  # same width, far centre
    z[:, 21] *= 4.0  # same centre, far width
    stats = axis_statistics(z)
    assert stats.flagged_axes.tolist() == [7, 21]
    assert abs(stats.centre_z[7]) > 3.5 and abs(stats.width_z[7]) < 3.5
    assert abs(stats.width_z[21]) > 3.5 and abs(stats.centre_z[21]) < 3.5


def test_robust_z_is_the_mad_scaled_deviation():
    values = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    mad = np.median(np.abs(values - 3.0))
    assert np.allclose(robust_z(values), (values - 3.0) / (1.4826 * mad))
    assert np.array_equal(robust_z(np.ones(5)), np.zeros(5))


def test_axis_density_histograms_equal_numpy_on_real_encodings(digit_codes):
    density = axis_density(digit_codes.z, 0.05)
    edges = density.histogram.edges
    assert np.allclose(np.diff(edges), 0.05)
    assert edges[0] <= digit_codes.z.min() and edges[-1] >= digit_codes.z.max()
    assert np.array_equal(density.histogram.counts, loop_histograms(digit_codes.z, edges))
    assert (density.histogram.counts.sum(axis=1) == len(digit_codes)).all()


def test_axis_statistics_reject_too_few_codes():
    with pytest.raises(AnalysisError, match="at least 2"):
        axis_statistics(np.zeros((1, 4)))


# ---------------------------------------------------------------------------------------------- radius
def test_chi_mean_and_pdf_match_closed_forms():
    for d in (1, 2, 4, 32, 256):
        assert chi_mean(d) == pytest.approx(math.sqrt(2) * math.gamma((d + 1) / 2) / math.gamma(d / 2)
                                            if d < 170 else scipy.stats.chi(d).mean(), rel=1e-12)
        r = np.linspace(0.01, 25, 300)
        assert np.allclose(chi_pdf(r, d), scipy.stats.chi(d).pdf(r), rtol=1e-9, atol=1e-300)
    assert chi_mean(256) == pytest.approx(scipy.stats.chi(256).mean(), rel=1e-12)
    assert 15.9 < chi_mean(256) < 16.0


def test_radius_density_of_prior_samples_matches_the_chi_reference():
    z = np.random.default_rng(4).normal(size=(20_000, 256)).astype(np.float32)
    density = radius_density({"z": z}, 0.05)
    r = np.linalg.norm(z.astype(np.float64), axis=1)
    main = density.main
    assert np.allclose(main.radii, r)
    assert np.array_equal(main.histogram.counts, np.histogram(r, bins=main.histogram.edges)[0])
    assert main.mean == pytest.approx(r.mean())
    assert main.peak == pytest.approx(main.histogram.centres[np.argmax(main.histogram.counts)])
    assert density.chi_mean == pytest.approx(scipy.stats.chi(256).mean())
    assert abs(main.mean - density.chi_mean) < 0.03  # 20,000 samples: sd of the mean ~0.005
    assert abs(main.peak - density.chi_mean) < 0.3
    assert np.allclose(density.reference_counts,
                       len(z) * 0.05 * scipy.stats.chi(256).pdf(density.reference_r))
    assert main.histogram.counts[main.histogram.centres < 12].sum() == 0  # empty near the origin


def test_radius_density_overlays_mu_on_the_same_bins(digit_codes):
    density = radius_density({"z": digit_codes.z, "mu": digit_codes.mu}, 0.5)
    z_profile, mu_profile = density.profiles
    assert np.array_equal(z_profile.histogram.edges, mu_profile.histogram.edges)
    r_mu = np.linalg.norm(digit_codes.mu.astype(np.float64), axis=1)
    assert np.array_equal(mu_profile.histogram.counts, np.histogram(r_mu, bins=mu_profile.histogram.edges)[0])
    assert mu_profile.mean == pytest.approx(r_mu.mean())
    assert density.dim == 4 and density.chi_mean == pytest.approx(scipy.stats.chi(4).mean())


# ---------------------------------------------------------------------------------------------- PCA
def test_pca_spectrum_matches_sklearn_on_real_encodings(digit_codes):
    spectrum = pca_spectrum(digit_codes.z)
    reference = PCA(svd_solver="full").fit(digit_codes.z.astype(np.float64))
    assert np.allclose(spectrum.ratio, reference.explained_variance_ratio_, rtol=1e-6, atol=1e-10)
    assert np.allclose(spectrum.variance, reference.explained_variance_, rtol=1e-6)
    assert np.allclose(np.abs(np.sum(spectrum.components * reference.components_, axis=1)), 1.0, atol=1e-6)


def test_pca_spectrum_with_one_dominant_direction():
    rng = np.random.default_rng(5)
    z = rng.normal(0, 0.1, (3000, 32))
    z += rng.normal(0, 5, (3000, 1)) * (np.ones(32) / np.sqrt(32))
    spectrum = pca_spectrum(z)
    reference = PCA(svd_solver="full").fit(z)
    assert np.allclose(spectrum.ratio, reference.explained_variance_ratio_, rtol=1e-6)
    assert spectrum.ratio[0] > 0.9
    assert np.allclose(spectrum.cumulative, np.cumsum(reference.explained_variance_ratio_))
    assert spectrum.components_for(0.9) == 1
    assert spectrum.components_for(1.0) <= 32


def test_pca_spectrum_with_fewer_codes_than_dimensions():
    z = np.random.default_rng(6).normal(size=(10, 30))
    spectrum = pca_spectrum(z)
    assert len(spectrum.ratio) == 10
    assert np.allclose(spectrum.ratio, PCA(svd_solver="full").fit(z).explained_variance_ratio_, atol=1e-10)


# ---------------------------------------------------------------------------------------------- KMeans
def blobs(k: int = 6, n_per: int = 300, d: int = 10, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (k, d))
    return (centres[:, None, :] + rng.normal(0, 1, (k, n_per, d))).reshape(-1, d).astype(np.float32)


def test_kmeans_sweep_inertia_is_the_sum_of_squared_distances_to_its_centres():
    x = blobs()
    sweep = run_job(iter_kmeans_sweep(x, [2, 4, 6, 8], [0, 1]))
    assert sweep.complete and sweep.inertia.shape == (4, 2)
    x64 = x.astype(np.float64)
    for (k, seed), centres in sweep.centres.items():
        d2 = ((x64[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        expected = d2.min(axis=1).sum()
        assert sweep.inertia[sweep.ks.index(k), seed] == pytest.approx(expected, rel=1e-9)
        assert centres.shape == (k, 10)
    labels = sweep.labels(x, 6)
    d2 = ((x64[:, None, :] - sweep.best_centres(6)[None]) ** 2).sum(axis=2)
    assert np.array_equal(labels, d2.argmin(axis=1))


def test_kmeans_sweep_finds_the_elbow_and_agrees_with_full_kmeans():
    x = blobs()
    sweep = run_job(iter_kmeans_sweep(x, [4, 5, 6, 7], [0, 1, 2]))
    best = np.nanmin(sweep.inertia, axis=1)
    full = KMeans(n_clusters=6, n_init=5, random_state=0).fit(x).inertia_
    assert best[2] == pytest.approx(full, rel=0.02)
    assert best[1] - best[2] > 10 * (best[2] - best[3])  # the elbow at the true k


def test_kmeans_sweep_yields_partial_curves_and_keeps_them_when_cancelled():
    x = blobs(n_per=100)
    job = iter_kmeans_sweep(x, k_values(2, 12, 2), [0, 1])
    seen = []
    for progress in job:
        assert isinstance(progress, Progress)
        seen.append(progress.partial)
        if progress.done == 3:
            job.close()
            break
    partial = seen[-1]
    assert partial.done == 3 and not partial.complete
    assert np.isfinite(partial.inertia).sum() == 3 and np.isnan(partial.inertia[2:]).all()
    assert [p.done for p in seen] == [0, 1, 2, 3]
    header, rows = partial.table()
    assert [row[0] for row in rows] == [2, 4]


def test_kmeans_bad_ranges_are_clear_errors():
    assert k_values(2, 80, 2) == list(range(2, 81, 2))
    with pytest.raises(AnalysisError, match="range"):
        k_values(10, 2, 1)
    with pytest.raises(AnalysisError, match="more than"):
        run_job(iter_kmeans_sweep(np.zeros((5, 2), np.float32), [10], [0]))
    partial = KMeansSweep([2, 3], [0], np.array([[1.0], [np.nan]]), {(2, 0): np.zeros((2, 2))})
    assert partial.finished_ks() == [2]
    with pytest.raises(AnalysisError, match="not been computed"):
        partial.best_centres(3)


# ---------------------------------------------------------------------------------------------- VAE
def known_posterior(n: int = 2000, d: int = 6, logvar_value: float = -13.0, seed: int = 8):
    """Codes whose logvar is a known constant, mu with two dead dimensions, z = mu + σ·ε."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0, 2, (n, d)).astype(np.float32)
    mu[:, 1] = 0.3  # constant: Var[mu] = 0, inactive
    mu[:, 4] = rng.normal(0, 0.05, n)  # Var[mu] ≈ 0.0025 < 0.01, inactive
    logvar = np.full((n, d), logvar_value, np.float32)
    eps = rng.normal(size=(n, d)).astype(np.float32)
    z = mu + eps * np.float32(np.exp(0.5 * logvar_value))
    return mu, logvar, z


def test_posterior_statistics_with_known_constant_logvar():
    mu, logvar, z = known_posterior()
    stats = posterior_statistics(mu, logvar, z)
    assert stats.logvar_min == stats.logvar_max == pytest.approx(-13.0)
    assert stats.logvar_mean == pytest.approx(-13.0)
    mu64 = mu.astype(np.float64)
    expected_kl = 0.5 * (np.mean(mu64**2, axis=0) + math.exp(-13.0) - 1.0 + 13.0)
    assert np.allclose(stats.kl_per_dim, expected_kl, rtol=1e-6)  # float32 terms, float64 sums
    assert stats.kl_total == pytest.approx(expected_kl.sum())
    assert np.allclose(stats.mu_variance, np.var(mu64, axis=0), rtol=1e-6, atol=1e-12)
    assert stats.active.tolist() == [True, False, True, True, False, True]
    assert stats.active_count == 4
    offset = np.abs(z - mu)  # in the codes' own precision, as the panel measures it
    assert stats.offset_max == pytest.approx(offset.max())
    assert stats.offset_mean == pytest.approx(offset.mean())
    assert stats.logvar_histogram.counts.sum() == mu.size
    assert np.array_equal(stats.offset_histogram.counts, np.histogram(offset, bins=stats.offset_histogram.edges)[0])
    rz, rmu = np.linalg.norm(z.astype(np.float64), axis=1), np.linalg.norm(mu64, axis=1)
    assert np.allclose(stats.radius_abs_diff, np.abs(rz - rmu))
    assert np.allclose(stats.radius_rel_diff, np.abs(rz - rmu) / rmu)
    summary = dict(stats.summary()[1])
    assert summary["max abs radius difference"] == pytest.approx(np.abs(rz - rmu).max())
    assert summary["mean rel radius difference"] == pytest.approx((np.abs(rz - rmu) / rmu).mean())
    assert summary["mean rel radius difference"] < 1e-3  # σ ≈ 0.0015 against radii of a few units


def test_posterior_statistics_match_numpy_on_real_encodings(digit_codes):
    mu, logvar, z = (digit_codes.mu.astype(np.float64), digit_codes.logvar.astype(np.float64),
                     digit_codes.z.astype(np.float64))
    stats = posterior_statistics(digit_codes.mu, digit_codes.logvar, digit_codes.z)
    kl = 0.5 * (mu**2 + np.exp(logvar) - 1 - logvar).mean(axis=0)
    assert np.allclose(stats.kl_per_dim, kl, rtol=1e-6)
    assert stats.active_count == int((mu.var(axis=0) > 0.01).sum())
    assert stats.logvar_min == pytest.approx(logvar.min()) and stats.logvar_max == pytest.approx(logvar.max())
    assert stats.logvar_mean == pytest.approx(logvar.mean())
    assert np.array_equal(stats.logvar_histogram.counts,
                          np.histogram(digit_codes.logvar, bins=stats.logvar_histogram.edges)[0])
    assert stats.offset_max == pytest.approx(np.abs(z - mu).max())
    rows = np.arange(0, len(mu), 7)
    lv_counts, off_counts = selection_histograms(stats, digit_codes.mu, digit_codes.logvar, digit_codes.z, rows)
    assert np.array_equal(lv_counts, np.histogram(digit_codes.logvar[rows], bins=stats.logvar_histogram.edges)[0])
    assert off_counts.sum() == len(rows) * mu.shape[1]


def test_posterior_statistics_refuse_an_autoencoder():
    z = np.zeros((10, 3), np.float32)
    with pytest.raises(AnalysisError, match="VAE"):
        posterior_statistics(None, None, z)


def test_sigma_in_plane_on_raw_axes_and_on_a_rotated_plane():
    rng = np.random.default_rng(9)
    logvar = rng.normal(-2, 1, (5, 4))
    sigma = np.exp(0.5 * logvar)
    raw = np.zeros((2, 4))
    raw[0, 2] = raw[1, 0] = 1.0
    assert np.allclose(sigma_in_plane(logvar, raw), sigma[:, [2, 0]])
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    plane = q[:2]
    samples = rng.normal(size=(200_000, 4)) * sigma[0]  # the posterior of point 0, centred
    projected_sd = (samples @ plane.T).std(axis=0)
    assert np.allclose(sigma_in_plane(logvar[:1], plane)[0], projected_sd, rtol=0.01)


# ---------------------------------------------------------------------------------------------- reconstruction
def test_recon_statistics_match_numpy():
    errors = np.random.default_rng(10).gamma(2.0, 0.01, 5000)
    stats = recon_statistics(errors, 0.002, worst=10)
    assert np.array_equal(stats.histogram.counts, np.histogram(errors, bins=stats.histogram.edges)[0])
    assert stats.worst.tolist() == np.argsort(-errors)[:10].tolist()
    assert stats.mean == pytest.approx(errors.mean()) and stats.max == pytest.approx(errors.max())
    assert stats.p99 == pytest.approx(np.percentile(errors, 99))
    assert worst_indices(errors, 0).size == 0 and len(worst_indices(errors[:3], 10)) == 3


def test_worst_reconstructions_reproduce_the_recorded_errors(vae_model, digits, digit_codes):
    stats = recon_statistics(digit_codes.recon_error, worst=5)
    gallery = run_job(iter_reconstructions(vae_model, digits, digit_codes.mu, stats.worst, digit_codes.recon_error))
    assert [entry.index for entry in gallery] == stats.worst.tolist()
    errors = [entry.error for entry in gallery]
    assert errors == sorted(errors, reverse=True)
    for entry in gallery:
        measured = float(np.mean((entry.reconstruction - entry.image) ** 2))
        assert measured == pytest.approx(digit_codes.recon_error[entry.index], rel=1e-4)


# ---------------------------------------------------------------------------------------------- export
def test_write_csv_keeps_every_digit(tmp_path):
    values = [[1, 0.1 + 0.2, np.float32(1.5)], [2, 1e-17, np.int64(7)]]
    path = write_csv(tmp_path / "out.csv", ["a", "b", "c"], values)
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["a", "b", "c"]
    assert float(rows[1][1]) == 0.1 + 0.2 and float(rows[2][1]) == 1e-17
    assert rows[2][2] == "7"
