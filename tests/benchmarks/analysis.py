"""Analysis panels at Fashion-MNIST scale: 70,000 codes at z_dim 256, target ≤ 2 s per panel.

Codes: demo:fashion-conv-ae-z256 on all 70,000 Fashion-MNIST images through the app's encoding cache when
that model and the dataset are installed, else synthetic 70,000 × 256 codes (N(0, 2²) axes with a few odd
ones: axis 52 centred at 5 with width 8, axis 7 narrow, axis 130 off-centre). The VAE posterior panel needs
mu and logvar, which an autoencoder lacks: it runs on a posterior built around the codes (mu = the codes,
logvar ~ N(−13, 0.5²), z = mu + σ·ε), the situation of a VAE trained with a tiny KL weight.

Figures: each panel's core job, against a bare numpy/scikit-learn computation of the same quantity; each
panel from ``compute()`` to its result drawn in the real window (offscreen); the KMeans sweep 2…80 step 2
with one seed (``--quick``: 2…20), and one MiniBatchKMeans fit against scikit-learn with its default threads.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from _common import Bench, median, timed  # sets the offscreen platform before any Qt import

N, D = 70_000, 256
PANEL_TARGET = "<= 2000"
WORST = 24


def synthetic_codes():
    from latent_explorer.core.encoding import Codes

    rng = np.random.default_rng(0)
    z = rng.normal(0.0, 2.0, (N, D)).astype(np.float32)
    z[:, 52] = rng.normal(5.0, 8.0, N)
    z[:, 7] *= 0.1
    z[:, 130] -= 3.0
    return Codes(z=z, mu=None, logvar=None, labels=rng.integers(0, 10, N),
                 recon_error=rng.gamma(2.0, 0.01, N).astype(np.float32))


def load_codes():
    """(codes, dataset, model, description): the z256 demo's encoding, or synthetic codes (and say so)."""
    from latent_explorer.core.datasets import fashion_mnist_available, load_fashion_mnist
    from latent_explorer.core.encoding import iter_encode_cached
    from latent_explorer.core.errors import ModelError
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models import load_model

    if fashion_mnist_available():
        try:
            model = load_model("demo:fashion-conv-ae-z256", device="cpu")
        except ModelError:
            model = None
        if model is not None:
            dataset = load_fashion_mnist()
            codes = run_job(iter_encode_cached(model, dataset))
            return codes, dataset, model, "demo:fashion-conv-ae-z256 on Fashion-MNIST (70,000, cached encoding)"
    return synthetic_codes(), None, None, "SYNTHETIC 70,000 x 256 (demo:fashion-conv-ae-z256 or Fashion-MNIST absent)"


def with_posterior(codes):
    """The codes as a VAE with a tiny KL weight would give them: mu = codes, logvar ≈ −13, z sampled."""
    from latent_explorer.core.encoding import Codes

    rng = np.random.default_rng(1)
    logvar = rng.normal(-13.0, 0.5, codes.z.shape).astype(np.float32)
    z = codes.z + rng.standard_normal(codes.z.shape, dtype=np.float32) * np.exp(0.5 * logvar)
    return Codes(z=z, mu=codes.z, logvar=logvar, labels=codes.labels, recon_error=codes.recon_error)


# ---------------------------------------------------------------------------------------------- bare baselines
def bare_axes(z: np.ndarray, width: float) -> None:
    import scipy.stats

    edges = np.arange(np.floor(z.min() / width), np.ceil(z.max() / width) + 1) * width
    for i in range(z.shape[1]):
        column = z[:, i].astype(np.float64)
        np.percentile(column, [25, 50, 75])
        column.mean(), column.std(), scipy.stats.skew(column)
        np.histogram(column, bins=edges)


def bare_radius(z: np.ndarray, width: float) -> None:
    r = np.linalg.norm(z, axis=1)
    np.histogram(r, bins=np.arange(0, r.max() + width, width))
    r.mean()


def bare_posterior(mu: np.ndarray, logvar: np.ndarray, z: np.ndarray) -> tuple:
    kl = (0.5 * (mu**2 + np.exp(logvar) - 1 - logvar)).mean(axis=0)
    active = int((mu.var(axis=0) > 0.01).sum())
    offset = np.abs(z - mu)
    rz, rmu = np.linalg.norm(z, axis=1), np.linalg.norm(mu, axis=1)
    return (logvar.min(), logvar.max(), logvar.mean(), kl, active, offset.max(), np.histogram(logvar, bins=100),
            np.histogram(offset, bins=100), np.abs(rz - rmu).max(), (np.abs(rz - rmu) / rmu).mean())


def bare_recon(errors: np.ndarray) -> None:
    np.histogram(errors, bins=100)
    np.argsort(-errors)[:WORST]


# ---------------------------------------------------------------------------------------------- core jobs
def core_figures(bench: Bench, codes, vae, model, dataset, repeat: int) -> None:
    from sklearn.decomposition import PCA

    from latent_explorer.core.analysis import (
        axis_density,
        histograms_of_sorted,
        iter_reconstructions,
        pca_spectrum,
        posterior_statistics,
        radius_density,
        recon_statistics,
        sorted_axes,
        uniform_edges,
    )
    from latent_explorer.core.jobs import run_job

    z = codes.z
    density = axis_density(z)
    width = density.histogram.bin_width
    print(f"  (density per axis: bin width {width:g}, {density.histogram.counts.shape[1]} bins, "
          f"flagged axes {density.stats.flagged_axes.tolist()[:10]})")
    job = median(timed(lambda: axis_density(z), repeat=repeat))
    bare = median(timed(lambda: bare_axes(z, width), repeat=max(1, repeat // 2)))
    bench.add("density per axis: job (stats + histograms)", job, "ms", bare, target=PANEL_TARGET)
    edges = uniform_edges(float(z.min()), float(z.max()), width)
    ours = median(timed(lambda: histograms_of_sorted(sorted_axes(z), edges), repeat=repeat))
    loop = median(timed(lambda: [np.histogram(z[:, i], bins=edges) for i in range(z.shape[1])], repeat=repeat))
    bench.add("density per axis: histograms (sort + search) vs np.histogram loop", ours, "ms", loop)

    for bin_width in (0.5, 0.05):
        job = median(timed(lambda w=bin_width: radius_density({"z": z}, w), repeat=repeat))
        bare = median(timed(lambda w=bin_width: bare_radius(z, w), repeat=repeat))
        bench.add(f"density by radius: job, bin width {bin_width}", job, "ms", bare, target=PANEL_TARGET)
    job = median(timed(lambda: radius_density({"mu": vae.mu, "z": vae.z}), repeat=repeat))
    bench.add("density by radius: job, VAE (|mu| and |z|)", job, "ms", target=PANEL_TARGET)

    job = median(timed(lambda: pca_spectrum(z), repeat=repeat))
    bare = median(timed(lambda: PCA().fit(z), repeat=max(1, repeat // 2)))
    bench.add("PCA spectrum: job (vs sklearn PCA().fit)", job, "ms", bare, target=PANEL_TARGET)

    job = median(timed(lambda: posterior_statistics(vae.mu, vae.logvar, vae.z), repeat=repeat))
    bare = median(timed(lambda: bare_posterior(vae.mu, vae.logvar, vae.z), repeat=repeat))
    bench.add("VAE posterior: job (logvar, KL, active units, |z-mu|, radii)", job, "ms", bare, target=PANEL_TARGET)

    def recon():
        stats = recon_statistics(codes.recon_error, worst=WORST)
        if model is not None:
            latent = codes.mu if codes.mu is not None else codes.z
            run_job(iter_reconstructions(model, dataset, latent, stats.worst, codes.recon_error))

    job = median(timed(recon, repeat=repeat))
    bare = median(timed(lambda: bare_recon(codes.recon_error), repeat=repeat))
    what = f"stats + decode {WORST} worst" if model is not None else "stats only, no model"
    bench.add(f"reconstruction error: job ({what})", job, "ms", bare, target=PANEL_TARGET)


def kmeans_figures(bench: Bench, z: np.ndarray, quick: bool) -> None:
    from sklearn.cluster import MiniBatchKMeans

    from latent_explorer.core.analysis import iter_kmeans_sweep, k_values
    from latent_explorer.core.analysis.kmeans import BATCH_SIZE, fit_kmeans
    from latent_explorer.core.jobs import run_job

    x = np.ascontiguousarray(z, dtype=np.float32)
    ours = median(timed(lambda: fit_kmeans(x, 40, 0), repeat=3))
    sklearn_default = median(timed(lambda: MiniBatchKMeans(n_clusters=40, random_state=0, batch_size=BATCH_SIZE,
                                                           n_init=1).fit(x).inertia_, repeat=3))
    bench.add("KMeans: one fit k=40 + full inertia (vs sklearn, default threads)", ours, "ms", sklearn_default)
    last = 20 if quick else 80
    t0 = time.perf_counter()
    sweep = run_job(iter_kmeans_sweep(x, k_values(2, last, 2), [0]))
    seconds = time.perf_counter() - t0
    assert sweep.complete
    bench.add(f"KMeans sweep k=2…{last} step 2, 1 seed ({sweep.inertia.size} fits)", seconds * 1000, "ms")


# ---------------------------------------------------------------------------------------------- in the window
def window_figures(bench: Bench, vae, dataset, model, repeat: int) -> None:
    """From ``panel.compute()`` to the result drawn, in the real window (offscreen), each panel in front."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from latent_explorer.qt.app import make_application
    from latent_explorer.qt.main_window import MainWindow

    app = make_application()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1600, 1000)
    window.show()

    def spin_until(condition, timeout: float = 120.0) -> None:
        end = time.perf_counter() + timeout
        while not condition():
            if time.perf_counter() > end:
                raise TimeoutError("the window did not finish in time")
            QApplication.processEvents()
            time.sleep(0.001)

    if dataset is not None:
        window.state.dataset = dataset
        window.state.model = model
    window.state.codes = vae
    spin_until(lambda: not window.runner.is_running())  # the scatter's PCA, the front panel
    names = ["analysis-axes", "analysis-radius", "analysis-pca", "analysis-vae", "analysis-recon"]
    try:
        for name in names:
            window.raise_panel(name)
            panel = window.panel(name)
            spin_until(lambda p=panel: p.is_shown() and not window.runner.is_running(), 60)
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                panel.compute()
                spin_until(lambda p=panel: p.result is not None and not window.runner.is_running(p.name))
                QApplication.processEvents()
                times.append((time.perf_counter() - t0) * 1000)
            bench.add(f"panel ready in the window: {panel.title}", median(times), "ms", target=PANEL_TARGET)
    finally:
        window.runner.shutdown()
        window.close()
        app.processEvents()


def main() -> int:
    bench = Bench("Analysis panels (70,000 × 256 codes)", __doc__)
    args = bench.parse()
    repeat = 2 if args.quick else 5
    codes, dataset, model, description = load_codes()
    vae = with_posterior(codes)
    bench.header()
    print(f"  codes: {description}; {len(codes):,} × {codes.latent_dim}")
    core_figures(bench, codes, vae, model, dataset, repeat)
    window_figures(bench, vae, dataset, model, 2 if args.quick else 3)
    kmeans_figures(bench, codes.z, args.quick)
    return bench.finish()


if __name__ == "__main__":
    raise SystemExit(main())
