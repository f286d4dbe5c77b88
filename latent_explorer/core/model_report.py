"""What a report holds for one or two models encoding one dataset: every analysis, computed here as one job,
and laid out as sections of an `HtmlReport` (tables, the structure and KMeans charts, the window's figures).

The window's figures are rendered elsewhere (they need Qt) and handed in as PNG bytes by name; everything
else is computed and drawn without a display, so a report can be made on any machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from latent_explorer.core.analysis import (
    AxisStatistics,
    KMeansSweep,
    PcaSpectrum,
    PosteriorStatistics,
    RadiusDensity,
    ReconStatistics,
    StructureAnalysis,
    StructureSettings,
    axis_statistics,
    iter_kmeans_sweep,
    iter_posterior_statistics,
    iter_radius_density,
    iter_structure,
    pca_spectrum,
    recon_statistics,
)
from latent_explorer.core.analysis.binning import AnalysisError, Histogram, histogram, nice_bin_width, uniform_edges
from latent_explorer.core.charts import Series, line_chart
from latent_explorer.core.encoding import Codes
from latent_explorer.core.jobs import Job, Progress, prefixed
from latent_explorer.core.report import Figure, HtmlReport

SPACES = ("z", "mu")
# (name, caption): the window's figures a report embeds. The per-axis and VAE posterior panels hold several
# plots, which the offscreen export does not lay out readably yet; the report draws those two itself.
WINDOW_FIGURES = (
    ("scatter", "Scatter, PCA components 1 and 2, coloured by label"),
    ("radius", "Density by radius, with the chi distribution N(0, I) would give"),
    ("pca", "PCA spectrum"),
    ("recon", "Reconstruction error"),
)
_CAPTIONS = dict(WINDOW_FIGURES)


@dataclass(frozen=True)
class ReportSettings:
    """The knobs of a report: structure (k, prior samples, which codes) and the KMeans sweep."""

    structure: StructureSettings = field(default_factory=StructureSettings)
    space: str = "z"  # "z", "mu" (VAE) or "pca:K"
    kmeans_ks: tuple[int, ...] = tuple(range(2, 41, 4))
    kmeans_seeds: tuple[int, ...] = (0, 1)


@dataclass
class ModelAnalyses:
    """Everything measured on one model's codes."""

    name: str  # how the report names the model ("A: demo:fashion-conv-ae-z256")
    tag: str  # a short file-name-safe prefix for its tables ("A")
    facts: dict[str, object]  # what the model is (kind, z_dim, beta, fingerprint…)
    codes: Codes
    radius: RadiusDensity
    axes: AxisStatistics
    spectrum: PcaSpectrum
    kmeans: KMeansSweep
    posterior: PosteriorStatistics | None
    recon: ReconStatistics
    structure: StructureAnalysis
    space: str


def structure_input(codes: Codes, space: str) -> np.ndarray:
    """The codes the structure analysis reads: z, a VAE's mu, or the first K principal components of z."""
    if space == "z":
        return codes.z
    if space == "mu":
        if codes.mu is None:
            raise AnalysisError("an autoencoder has no mu", hint="use --space z or pca:K")
        return codes.mu
    if space.startswith("pca:") and space[4:].isdigit():
        k = int(space[4:])
        if not 1 <= k <= codes.latent_dim:
            raise AnalysisError(f"pca:{k} asks for {k} components of {codes.latent_dim}-dimensional codes",
                                hint=f"use pca:1 … pca:{codes.latent_dim}")
        spectrum = pca_spectrum(codes.z)
        return ((codes.z - spectrum.mean) @ spectrum.components[:k].T).astype(np.float32)
    raise AnalysisError(f"unknown codes '{space}' for the structure analysis", hint="use z, mu or pca:K")


def iter_model_analyses(name: str, tag: str, facts: dict[str, object], codes: Codes,
                        settings: ReportSettings) -> Job[ModelAnalyses]:
    """Every analysis of one model's codes, one after the other, with progress."""
    yield Progress(f"{tag}: radius", 0, None)
    sets = {"z": codes.z, **({"mu": codes.mu} if codes.mu is not None else {})}
    radius = yield from iter_radius_density(sets)
    yield Progress(f"{tag}: per-axis statistics and PCA spectrum", 0, None)
    axes = axis_statistics(codes.z)
    spectrum = pca_spectrum(codes.z)
    kmeans = yield from prefixed(tag, iter_kmeans_sweep(codes.z, list(settings.kmeans_ks),
                                                         list(settings.kmeans_seeds)))
    posterior = None
    if codes.is_variational:
        posterior = yield from prefixed(tag, iter_posterior_statistics(codes.mu, codes.logvar, codes.z))
    recon = recon_statistics(codes.recon_error)
    structure = yield from prefixed(tag, iter_structure(structure_input(codes, settings.space), settings.structure))
    return ModelAnalyses(name, tag, facts, codes, radius, axes, spectrum, kmeans, posterior, recon, structure,
                         settings.space)



# ---------------------------------------------------------------------------------------------- overview
def overview_rows(models: Sequence[ModelAnalyses]) -> tuple[list[str], list[list]]:
    """The numbers the study compares, one column per model."""
    header = ["quantity", *(m.name for m in models)]

    def row(label: str, get) -> list:
        return [label, *(get(m) for m in models)]

    rows = [
        row("kind", lambda m: m.facts.get("kind", "")),
        row("latent dimension d", lambda m: m.codes.latent_dim),
        row("beta (KL weight)", lambda m: m.facts.get("beta", "")),
        row("codes", lambda m: len(m.codes)),
        row("structure measured on", lambda m: m.space),
        row("TwoNN intrinsic dimension", lambda m: m.structure.data.two_nn.dimension),
        row(f"local dimension, median (k = {models[0].structure.data.k})", lambda m: m.structure.data.lid_median),
        row("local dimension, global (MacKay–Ghahramani)", lambda m: m.structure.data.lid_global),
        row("Gaussian baseline: TwoNN dimension", lambda m: m.structure.gaussian.two_nn.dimension),
        row("NN distance ratio, codes ÷ Gaussian", lambda m: m.structure.nn_ratio),
        row("NN distance KS statistic", lambda m: m.structure.nn_ks),
        *[row(f"{p.prior} samples farther than typical", lambda m, i=i: m.structure.priors[i].fraction_beyond_typical)
          for i, p in enumerate(models[0].structure.priors)],
        row("mean radius ‖z‖", lambda m: m.radius.main.mean),
        row("√d", lambda m: float(np.sqrt(m.codes.latent_dim))),
        row("logvar mean", lambda m: m.posterior.logvar_mean if m.posterior else "—"),
        row("mean |z − μ|", lambda m: m.posterior.offset_mean if m.posterior else "—"),
        row("KL total (nats per sample)", lambda m: m.posterior.kl_total if m.posterior else "—"),
        row("reconstruction error, mean (decode(μ))", lambda m: m.recon.mean),
        row("PCA components for 90 % of the variance", lambda m: m.spectrum.components_for(0.9)),
        row("structure analysis seconds", lambda m: m.structure.seconds),
    ]
    return header, rows


# ------------------------------------------------------------------------------------------------ charts
def _shared_histogram(values: Sequence[np.ndarray], bins: int = 60) -> tuple[np.ndarray, list[np.ndarray]]:
    finite = [v[np.isfinite(v)] for v in values]
    everything = np.concatenate(finite)
    lo, hi = np.quantile(everything, [0.0, 0.999])
    width = nice_bin_width(everything, bins)
    edges = uniform_edges(float(lo), float(hi), width)
    return edges, [histogram(v, edges) / max(len(v), 1) for v in finite]


def lid_histogram_chart(m: ModelAnalyses) -> str:
    s = m.structure
    edges, (data, gauss) = _shared_histogram([s.data.lid, s.gaussian.lid])
    return line_chart([Series("codes", edges, data, kind="step"),
                       Series("Gaussian, same covariance", edges, gauss, kind="step", colour=1, dash=1)],
                      f"{m.tag}: local dimension (Levina–Bickel, k = {s.data.k})", "local intrinsic dimension",
                      "fraction of codes per bin",
                      vertical_lines=[(s.data.two_nn.dimension, f"TwoNN {s.data.two_nn.dimension:.1f}")])


def lid_radius_chart(m: ModelAnalyses) -> str:
    b = m.structure.lid_by_radius
    return line_chart([Series("interquartile range", b.centres, b.lower, kind="band", y_upper=b.upper),
                       Series("median", b.centres, b.median)],
                      f"{m.tag}: local dimension against radius", f"radius ‖{m.space}‖ (bin centre)",
                      "local intrinsic dimension")


def nn_distance_chart(m: ModelAnalyses) -> str:
    s = m.structure
    edges, (data, gauss) = _shared_histogram([s.data.nn_distance, s.gaussian.nn_distance])
    return line_chart([Series("codes", edges, data, kind="step"),
                       Series("Gaussian, same mean and covariance", edges, gauss, kind="step", colour=1, dash=1)],
                      f"{m.tag}: nearest-neighbour distance (ratio of medians {s.nn_ratio:.3f})",
                      "distance to the nearest other code", "fraction of codes per bin")


def two_nn_chart(m: ModelAnalyses) -> str:
    fit = m.structure.data.two_nn
    reference = m.structure.gaussian.two_nn
    step = max(1, len(fit.log_mu) // 2000)
    x = fit.log_mu[::step]
    line_x = np.array([0.0, float(fit.log_mu.max())])
    return line_chart([Series("codes", x, fit.minus_log_survival[::step], kind="points"),
                       Series(f"fit: slope {fit.dimension:.2f}", line_x, fit.dimension * line_x, colour=6, dash=2),
                       Series(f"Gaussian: slope {reference.dimension:.2f}", reference.log_mu[::step],
                              reference.minus_log_survival[::step], colour=1, dash=1)],
                      f"{m.tag}: TwoNN fit (Facco et al. 2017)", "log(r₂ / r₁)", "−log(1 − F)")


def axes_chart(m: ModelAnalyses) -> str:
    a = m.axes
    index = np.arange(len(a.centre), dtype=np.float64)
    flagged = np.where(a.flagged, a.centre, np.nan)
    return line_chart([Series("centre ± width", index, a.centre - a.width, kind="band", y_upper=a.centre + a.width),
                       Series("centre (median)", index, a.centre),
                       Series("flagged axes", index, flagged, kind="points", colour=1),
                       Series("N(0, 1): 0 ± 1", np.array([0.0, index[-1]]), np.zeros(2), colour=6, dash=2)],
                      f"{m.tag}: per-axis centre and width (IQR / 1.349)", "latent axis", "value")


def logvar_chart(m: ModelAnalyses) -> str:
    p = m.posterior
    h = p.logvar_histogram
    return line_chart([Series("logvar, every element", h.edges, h.counts / max(h.counts.sum(), 1), kind="step")],
                      f"{m.tag}: logvar (mean {p.logvar_mean:.3g})", "logvar", "fraction per bin",
                      vertical_lines=[(p.logvar_mean, "mean")])


def kl_chart(m: ModelAnalyses) -> str:
    p = m.posterior
    kl = np.sort(p.kl_per_dim)[::-1]
    return line_chart([Series("KL per dimension, largest first", np.arange(len(kl), dtype=np.float64), kl)],
                      f"{m.tag}: KL per dimension (total {p.kl_total:.4g} nats)", "rank", "KL (nats per sample)")


def offset_chart(m: ModelAnalyses) -> str:
    p = m.posterior
    h = p.offset_histogram
    return line_chart([Series("|z − μ|, every element", h.edges, h.counts / max(h.counts.sum(), 1), kind="step")],
                      f"{m.tag}: |z − μ| (mean {p.offset_mean:.3g})", "|z − μ|", "fraction per bin")


def kmeans_chart(m: ModelAnalyses) -> str:
    sweep = m.kmeans
    ks = np.array(sweep.ks, np.float64)
    return line_chart([Series("lowest of the seeds", ks, np.nanmin(sweep.inertia, axis=1)),
                       Series("highest of the seeds", ks, np.nanmax(sweep.inertia, axis=1), colour=1, dash=1)],
                      f"{m.tag}: MiniBatchKMeans inertia ({len(sweep.seeds)} seeds per k)", "number of clusters k",
                      "inertia (sum of squared distances)")


# ------------------------------------------------------------------------------------------------ report
def build_report(report: HtmlReport, models: Sequence[ModelAnalyses],
                 window_figures: Mapping[str, Mapping[str, bytes]] | None = None) -> HtmlReport:
    """Lay out every analysis of ``models`` (one or two) in ``report``; ``window_figures[tag][name]`` are PNGs."""
    window_figures = window_figures or {}
    intro = report.section("Models and data")
    header, rows = overview_rows(models)
    intro.table("overview", "The study's numbers, side by side", header, rows, folded=False)
    facts = sorted({key for m in models for key in m.facts})
    intro.table("models", "The models", ["fact", *(m.name for m in models)],
                [[key, *(str(m.facts.get(key, "")) for m in models)] for key in facts])
    intro.text("z is a sample for a VAE (μ + ε·σ with ε ~ N(0, I) clipped at 5, drawn per sample from the seed "
               "and the sample's index); the reconstruction error is measured on decode(μ).")

    def figure_row(section, name: str, caption: str) -> None:
        pngs = [(m, window_figures.get(m.tag, {}).get(name)) for m in models]
        shown = [Figure(f"{m.tag}: {caption}", png=png) for m, png in pngs if png is not None]
        if shown:
            section.figures(shown)
        else:
            section.text("The window's figure is left out of this report (made with --no-window-figures, or "
                         "from the window's File ▸ Report, which leaves the window as it is).")

    section = report.section("Scatter")
    figure_row(section, "scatter", _CAPTIONS["scatter"])
    section = report.section("Radius")
    figure_row(section, "radius", _CAPTIONS["radius"])
    for m in models:
        section.table(f"{m.tag}-radius", f"{m.tag}: radius", *m.radius.summary())
        section.table(f"{m.tag}-radius-histogram", f"{m.tag}: radius histogram of z",
                      ["bin start", "bin end", "count"],
                      _histogram_rows(m.radius.main.histogram))
    section = report.section("Per-axis density")
    section.figures([Figure(f"{m.tag}: centre and width of every axis; flagged axes stand out among the others",
                            svg=axes_chart(m)) for m in models])
    for m in models:
        section.table(f"{m.tag}-axes", f"{m.tag}: per-axis statistics ({len(m.axes.flagged_axes)} axes flagged)",
                      *m.axes.table())
    section = report.section("PCA spectrum")
    figure_row(section, "pca", _CAPTIONS["pca"])
    for m in models:
        section.table(f"{m.tag}-pca", f"{m.tag}: explained variance per component", *m.spectrum.table())
    section = report.section("KMeans inertia")
    section.figures([Figure(f"{m.tag}: inertia against k", svg=kmeans_chart(m)) for m in models])
    for m in models:
        section.table(f"{m.tag}-kmeans", f"{m.tag}: inertia per k and seed", *m.kmeans.table())
    if any(m.posterior is not None for m in models):
        section = report.section("VAE posterior")
        with_posterior = [m for m in models if m.posterior is not None]
        for chart, caption in ((logvar_chart, "histogram of logvar over every code and dimension"),
                               (offset_chart, "histogram of |z − μ| over every code and dimension"),
                               (kl_chart, "KL divergence from N(0, 1) per dimension, sorted")):
            section.figures([Figure(f"{m.tag}: {caption}", svg=chart(m)) for m in with_posterior])
        for m in models:
            if m.posterior is not None:
                section.table(f"{m.tag}-posterior", f"{m.tag}: posterior", *m.posterior.summary())
                section.table(f"{m.tag}-posterior-per-dim", f"{m.tag}: per dimension", *m.posterior.per_dimension())
    section = report.section("Reconstruction error")
    figure_row(section, "recon", _CAPTIONS["recon"])
    for m in models:
        section.table(f"{m.tag}-recon", f"{m.tag}: reconstruction error (decode(μ))", *m.recon.summary())
    _structure_section(report, models)
    return report


def _structure_section(report: HtmlReport, models: Sequence[ModelAnalyses]) -> None:
    section = report.section("Structure: filaments and voids")
    section.text("Local intrinsic dimension by the Levina–Bickel maximum-likelihood estimate on the k nearest "
                 "codes (global mean by MacKay–Ghahramani's average of inverses), global dimension by TwoNN "
                 "(Facco et al. 2017, 10 % largest ratios discarded), all on exact nearest neighbours. The Gaussian "
                 "baseline is a sample of the same size from the Gaussian with the codes' mean and covariance: a "
                 "nearest-neighbour distance ratio below 1 means the codes sit closer together than such a "
                 "Gaussian would put them, on thinner structures around emptier space. Both estimators read low "
                 "at high dimension (tens of thousands of points cannot fill 50 or more dimensions); compare "
                 "models and the baseline rather than reading the absolute value.")
    for chart in (lid_histogram_chart, lid_radius_chart, nn_distance_chart, two_nn_chart):
        section.figures([Figure(_chart_caption(chart, m), svg=chart(m)) for m in models])
    for m in models:
        section.table(f"{m.tag}-structure", f"{m.tag}: structure of {m.space}", *m.structure.summary())
        for note in m.structure.notes:
            section.text(f"{m.tag}: {note}")
        points = m.structure.data.points
        radius = np.linalg.norm(structure_input(m.codes, m.space)[points].astype(np.float64), axis=1)
        section.table(f"{m.tag}-lid-per-code", f"{m.tag}: local dimension of each code",
                      ["index", "local dimension", "radius", "nearest-neighbour distance"],
                      [[int(i), float(v), float(r), float(d)] for i, v, r, d in
                       zip(points, m.structure.data.lid, radius, m.structure.data.nn_distance, strict=True)])
        b = m.structure.lid_by_radius
        section.table(f"{m.tag}-lid-by-radius", f"{m.tag}: local dimension by radius",
                      ["radius from", "radius to", "codes", "median", "25th percentile", "75th percentile"],
                      [[float(b.edges[i]), float(b.edges[i + 1]), int(b.counts[i]), float(b.median[i]),
                        float(b.lower[i]), float(b.upper[i])] for i in range(len(b.counts))])


def _chart_caption(chart, m: ModelAnalyses) -> str:
    return {
        lid_histogram_chart: f"{m.tag}: histogram of the local dimension, codes against the Gaussian baseline",
        lid_radius_chart: f"{m.tag}: median local dimension in bins of radius (band: quartiles)",
        nn_distance_chart: f"{m.tag}: nearest-neighbour distances, codes against the Gaussian baseline",
        two_nn_chart: f"{m.tag}: the TwoNN straight line; its slope is the dimension",
    }[chart]


def _histogram_rows(h: Histogram) -> list[list]:
    return [[float(h.edges[i]), float(h.edges[i + 1]), int(h.counts[i])] for i in range(len(h.counts))]


# ------------------------------------------------------------------------------------------- one job
@dataclass(frozen=True)
class ReportModel:
    """One model of a report: how the report names it, the loaded model, and its codes if already made."""

    spec: str  # "demo:fashion-conv-ae-z256", a folder…
    model: object  # a LatentModel
    codes: Codes | None = None  # None: encoded here (seed `REPORT_SEED`, through the cache)


REPORT_SEED = 0  # the window encodes with seed 0: the report's codes and the window's are the same codes


def model_facts(spec: str, model) -> dict[str, object]:
    """What the report's model table says of one model."""
    extra = getattr(model.info, "extra", {}) or {}
    return {"model": spec, "kind": model.info.kind, "z_dim": model.latent_dim,
            "variational": model.is_variational, "fingerprint": model.fingerprint(),
            **{k: v for k, v in extra.items() if k in ("beta", "epochs", "dataset", "arch")}}


def iter_report(models: Sequence[ReportModel], dataset, settings: ReportSettings, out, command: str,
                data_label: str, window_figures: Mapping[str, Mapping[str, bytes]] | None = None) -> Job[list]:
    """Encode (where needed), analyse and write the HTML report of one or two models on ``dataset``.

    The `report` command and the window's File ▸ Report run this same job; it returns every file written
    (the CSV tables, then the HTML). ``window_figures[tag][name]`` are PNGs rendered beforehand, if any.
    """
    from latent_explorer.core.encoding import iter_encode_cached
    from latent_explorer.core.report import HtmlReport, ReportError

    if not 1 <= len(models) <= 2:
        raise ReportError(f"a report compares one or two models, not {len(models)}", hint="give one or two models")
    inputs = {"data": f"{data_label} ({dataset.name}, {len(dataset):,} samples, fingerprint {dataset.fingerprint()})",
              "seed": str(REPORT_SEED)}
    analyses = []
    for tag, entry in zip("AB", models, strict=False):
        codes = entry.codes
        if codes is None:
            codes = yield from prefixed(tag, iter_encode_cached(entry.model, dataset, seed=REPORT_SEED))
        structure_input(codes, settings.space)  # a wrong space fails before the long work
        inputs[f"model {tag}"] = f"{entry.spec} (fingerprint {entry.model.fingerprint()})"
        analyses.append((yield from iter_model_analyses(f"{tag}: {entry.spec}", tag, model_facts(entry.spec,
                                                                                                  entry.model),
                                                        codes, settings)))
    yield Progress("writing the report", 0, None, str(out))
    report = HtmlReport(title="Latent Explorer report: " + " vs ".join(m.spec for m in models)
                        + f" on {dataset.name}", command=command, inputs=inputs)
    build_report(report, analyses, window_figures)
    return report.write(out)
