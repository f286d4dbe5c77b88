"""Measurements of a latent space: density per axis and by radius, PCA spectrum, KMeans inertia, a VAE's
posterior, reconstruction error, and structure (intrinsic dimension, emptiness against a Gaussian and the
prior). Pure numpy/scikit-learn/torch; each long computation is also a job."""

from latent_explorer.core.analysis.axes import (
    AxisDensity,
    AxisStatistics,
    axis_density,
    axis_statistics,
    histograms_of_sorted,
    iter_axis_density,
    quantiles_of_sorted,
    robust_z,
    sorted_axes,
)
from latent_explorer.core.analysis.binning import (
    AnalysisError,
    Histogram,
    histogram,
    indices_in_band,
    nice_bin_width,
    uniform_edges,
)
from latent_explorer.core.analysis.export import histogram_rows, write_csv, write_sheets, write_sheets_json
from latent_explorer.core.analysis.kmeans import KMeansSweep, iter_kmeans_sweep, k_values, nearest_centre
from latent_explorer.core.analysis.posterior import (
    PosteriorStatistics,
    iter_posterior_statistics,
    posterior_statistics,
    selection_histograms,
    sigma_in_plane,
)
from latent_explorer.core.analysis.radius import (
    RadiusDensity,
    chi_mean,
    chi_pdf,
    iter_radius_density,
    radii,
    radius_density,
)
from latent_explorer.core.analysis.recon import (
    ReconStatistics,
    Reconstruction,
    iter_reconstructions,
    recon_statistics,
    worst_indices,
)
from latent_explorer.core.analysis.spectrum import PcaSpectrum, iter_pca_spectrum, pca_spectrum
from latent_explorer.core.analysis.structure import (
    StructureAnalysis,
    StructureSettings,
    iter_structure,
    structure,
)

__all__ = [
    "AnalysisError", "AxisDensity", "AxisStatistics", "Histogram", "KMeansSweep", "PcaSpectrum",
    "PosteriorStatistics", "RadiusDensity", "ReconStatistics", "Reconstruction", "axis_density", "axis_statistics",
    "chi_mean", "chi_pdf", "histogram", "histogram_rows", "histograms_of_sorted", "indices_in_band",
    "iter_axis_density", "iter_kmeans_sweep", "iter_pca_spectrum", "iter_posterior_statistics", "iter_radius_density",
    "iter_reconstructions", "k_values", "nearest_centre", "nice_bin_width", "pca_spectrum", "posterior_statistics",
    "quantiles_of_sorted", "radii", "radius_density", "recon_statistics", "robust_z", "selection_histograms",
    "sigma_in_plane", "sorted_axes", "uniform_edges", "worst_indices", "write_csv", "write_sheets", "write_sheets_json",
    "StructureAnalysis", "StructureSettings", "iter_structure", "structure",
]
