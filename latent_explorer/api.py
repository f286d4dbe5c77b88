"""The Python API: what a script or a notebook calls, as ``import latent_explorer as lx``.

Every function is a thin layer over ``latent_explorer.core``; the command line and the window use the same
core, so a number computed here is the number the window shows. Results are numpy arrays, plain numbers and
*tables*: dicts of equal-length columns that ``pandas.DataFrame(table)`` takes as they are.

>>> import latent_explorer as lx
>>> model = lx.load_model("demo:digits-conv-ae")
>>> data = lx.load_dataset("digits")
>>> codes = lx.encode(model, data)
>>> codes.z.shape
(1797, 8)

The examples of the functions below continue this one (``model``, ``data`` and ``codes`` as here).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from latent_explorer.core.errors import LatentExplorerError

if TYPE_CHECKING:
    from latent_explorer.core.codes_file import CodesFile
    from latent_explorer.core.datasets import Dataset
    from latent_explorer.core.encoding import Codes
    from latent_explorer.qt.notebook import WindowHandle

Table = dict[str, np.ndarray]
CodesLike = Any  # Codes, a CodesFile, an (N, d) array, or the path of a codes file


class APIError(LatentExplorerError):
    """An API call whose arguments cannot work together (say, mu asked of codes that have none)."""


# ------------------------------------------------------------------------------------------- loading
def load_model(spec: str | Path = "demo:digits-conv-ae", device: str = "cpu", allow_pickle: bool = False,
               check_on: Dataset | None = None):
    """A model from ``demo:NAME``, a checkpoint folder or a ``model.toml``; checked on two samples of ``check_on``.

    >>> model.latent_dim, model.is_variational
    (8, False)
    """
    from latent_explorer.core.models import load_model as core_load_model
    from latent_explorer.core.plugins import load_model_with, plugins

    item = plugins()[0].loader_for("model format", spec)
    if item is not None:  # a format an installed plugin adds
        return load_model_with(item, spec, device=device)
    samples = check_on.float_images(slice(0, 2)) if check_on is not None else None
    return core_load_model(spec, device=device, allow_pickle=allow_pickle, check_samples=samples)


def load_dataset(spec: str | Path = "digits", **options) -> Dataset:
    """'digits', 'fashion-mnist[-train|-test]', an IDX/.npz/.npy file or an image folder (options as the CLI's).

    >>> len(data), data.image_shape, data.class_names[:3]
    (1797, (1, 8, 8), ['0', '1', '2'])
    """
    from latent_explorer.core.datasets import load_dataset as core_load_dataset
    from latent_explorer.core.plugins import load_dataset_with, plugins

    item = plugins()[0].loader_for("dataset loader", spec)
    if item is not None:  # a format an installed plugin adds
        return load_dataset_with(item, spec, **options)
    return core_load_dataset(spec, **options)


def encode(model, data: Dataset, batch_size: int = 512, seed: int = 0, cache: bool = True) -> Codes:
    """Encode every image (served from the on-disk encoding cache when this pair was encoded before).

    >>> codes.labels[:5].tolist(), float(codes.recon_error.mean()) < 0.05
    ([0, 1, 2, 3, 4], True)
    """
    from latent_explorer.core.encoding import iter_encode_cached
    from latent_explorer.core.jobs import run_job

    return run_job(iter_encode_cached(model, data, batch_size=batch_size, seed=seed, use_cache=cache))


def read_codes(path: str | Path, fields: Sequence[str] | None = None) -> CodesFile:
    """Read a codes file (.parquet, .arrow/.feather, .npz, .npy, or a folder of Parquet parts).

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> path = lx.write_codes(os.path.join(folder, "codes.parquet"), codes, class_names=data.class_names)
    >>> back = lx.read_codes(path)
    >>> bool((back.codes.z == codes.z).all()), back.class_names[:2]
    (True, ['0', '1'])
    """
    from latent_explorer.core.codes_file import read_codes as core_read_codes

    return core_read_codes(path, fields=fields)


def write_codes(path: str | Path, codes: CodesLike, **options) -> Path:
    """Write codes in the format of the extension; options as `latent_explorer.core.codes_file.write_codes`."""
    from latent_explorer.core.codes_file import write_codes as core_write_codes

    return core_write_codes(path, as_codes(codes), **options)


def as_codes(codes: CodesLike) -> Codes:
    """`Codes` from whatever names them: Codes, a read `CodesFile`, an (N, d) array of z, or a file's path."""
    from latent_explorer.core.codes_file import CodesFile, read_codes
    from latent_explorer.core.encoding import Codes

    if isinstance(codes, Codes):
        return codes
    if isinstance(codes, CodesFile):
        return codes.codes
    if isinstance(codes, (str, Path)):
        return read_codes(codes).codes
    z = np.asarray(codes, dtype=np.float32)
    if z.ndim != 2:
        raise APIError(f"codes must be (N, d), got an array of shape {z.shape}")
    return Codes(z=z, mu=None, logvar=None, labels=None, recon_error=np.zeros(len(z), np.float32))


def _latent(codes: CodesLike, use_mu: bool) -> np.ndarray:
    c = as_codes(codes)
    if use_mu:
        if c.mu is None:
            raise APIError("these codes have no mu (not a VAE)", hint="leave use_mu=False to use z")
        return c.mu
    return c.z


def _projection_input(codes: CodesLike, source: str, pca_components: int, data: Dataset | None) -> np.ndarray:
    """The data a t-SNE or UMAP runs on: z, mu, the first k principal components, or the pixels."""
    if source == "pixels":
        if data is None:
            raise APIError("input='pixels' needs the dataset", hint="pass data=the dataset")
        return data.float_images().reshape(len(data), -1)
    if source == "pca":
        latent = _latent(codes, use_mu=False)
        return pca(latent, n_components=min(pca_components, latent.shape[1])).astype(np.float32)
    return _latent(codes, use_mu=source == "mu")


# ------------------------------------------------------------------------------------------- maps
_CACHES: dict[str, Any] = {}


def _cache(kind: str):
    """One layout cache per process for each method, as the window keeps: asking again is instant."""
    if kind not in _CACHES:
        if kind == "tsne":
            from latent_explorer.core.tsne import TSNECache

            _CACHES[kind] = TSNECache()
        else:
            from latent_explorer.core.umap import UMAPCache

            _CACHES[kind] = UMAPCache()
    return _CACHES[kind]


def pca(codes: CodesLike, n_components: int = 2, use_mu: bool = False) -> np.ndarray:
    """Scores on the first principal components, (N, n_components), as the window's PCA view.

    >>> lx.pca(codes).shape
    (1797, 2)
    """
    from latent_explorer.core.projections import PCAModel

    latent = _latent(codes, use_mu)
    if not 1 <= n_components <= latent.shape[1]:
        raise APIError(f"n_components must be between 1 and {latent.shape[1]}, got {n_components}")
    return PCAModel.fit(latent).transform(latent, n_components)


def tsne(codes: CodesLike, perplexity: float = 30.0, n_iter: int = 500, input: str = "z", pca_components: int = 50,
         seed: int = 0, data: Dataset | None = None, **params) -> np.ndarray:
    """A t-SNE layout (N, 2) with the window's parameters (openTSNE); ``input`` is z, mu, pca or pixels.

    Layouts are cached for the process by input and parameters, so asking again returns at once.

    >>> layout = lx.tsne(codes.z[:300], n_iter=100, early_exaggeration_iter=50)
    >>> layout.shape
    (300, 2)
    """
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.tsne import TSNEParams, iter_tsne

    settings = TSNEParams(input=input, pca_components=pca_components, perplexity=perplexity, n_iter=n_iter,
                          seed=seed, **params)
    data_in = _projection_input(codes, input, pca_components, data)
    return run_job(iter_tsne(data_in, settings, cache=_cache("tsne")))


def umap(codes: CodesLike, n_neighbors: int = 15, min_dist: float = 0.1, input: str = "z", pca_components: int = 50,
         seed: int | None = 0, n_epochs: int | None = None, metric: str = "euclidean",
         data: Dataset | None = None) -> np.ndarray:
    """A UMAP layout (N, 2) (umap-learn, the ``[umap]`` extra); ``input`` as for `tsne`; cached likewise
    (except with ``seed=None``, which asks for a parallel, unrepeatable run).

    >>> lx.umap(codes.z[:300], n_epochs=50).shape
    (300, 2)
    """
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.umap import UMAPParams, iter_umap

    settings = UMAPParams(input=input, pca_components=pca_components, n_neighbors=n_neighbors, min_dist=min_dist,
                          metric=metric, n_epochs=n_epochs, seed=seed)
    data_in = _projection_input(codes, input, pca_components, data)
    return run_job(iter_umap(data_in, settings, cache=_cache("umap") if seed is not None else None))


def project(codes: CodesLike, method: str, use_mu: bool = False, **params) -> np.ndarray:
    """A 2-D layout (N, 2) from a projection that an installed plugin adds (see `plugins`)."""
    from latent_explorer.core.plugins import plugins as loaded_plugins
    from latent_explorer.core.plugins import run_projection

    return run_projection(loaded_plugins()[0].get("projection", method), _latent(codes, use_mu), **params)


def plugins() -> list[str]:
    """One line per installed plugin: its package and version, and what it adds or why it was skipped."""
    from latent_explorer.core.plugins import list_plugins

    return [info.describe() for info in list_plugins()]


def neighbors(codes: CodesLike, query: int | np.ndarray, k: int = 10, metric: str = "euclidean",
              use_mu: bool = False) -> Table:
    """The k nearest codes of point ``query`` (a row number, itself left out) or of any z, nearest first.

    Exact, in the latent space (not in a 2-D map). Returns the table {"index", "distance"}.

    >>> hits = lx.neighbors(codes, 0, k=3)
    >>> len(hits["index"]), bool((hits["distance"][:-1] <= hits["distance"][1:]).all())
    (3, True)
    >>> int(lx.neighbors(codes, codes.z[0], k=1)["index"][0])
    0
    """
    from latent_explorer.core.neighbors import nearest

    found = nearest(_latent(codes, use_mu), query, k=k, metric=metric)
    return {"index": found.indices[0], "distance": found.distances[0]}


# ------------------------------------------------------------------------------------- decoding
def decode(model, z: np.ndarray) -> np.ndarray:
    """Images for codes: (d,) or (N, d) → (N, H, W) grey or (N, H, W, 3) colour, floats in [0, 1].

    >>> lx.decode(model, codes.z[:4]).shape
    (4, 8, 8)
    """
    from latent_explorer.core.decoding import decode_images

    return decode_images(model, z)


def interpolate(a: np.ndarray, b: np.ndarray, steps: int = 8, spherical: bool = False) -> np.ndarray:
    """Codes from ``a`` to ``b`` inclusive, (steps, d): straight, or spherical (keeping the data's radius).

    >>> path = lx.interpolate(codes.z[0], codes.z[1], steps=5)
    >>> path.shape, bool(np.allclose(path[0], codes.z[0]) and np.allclose(path[-1], codes.z[1]))
    ((5, 8), True)
    >>> lx.decode(model, path).shape
    (5, 8, 8)
    """
    from latent_explorer.core.paths import lerp, slerp

    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        raise APIError(f"the end codes differ in size ({a.size} and {b.size})")
    if steps < 2:
        raise APIError(f"an interpolation needs at least 2 steps, got {steps}")
    return (slerp if spherical else lerp)(a, b, steps).astype(np.float32)


# ------------------------------------------------------------------------------------- analyses
def _table(header: Sequence[str], rows: Sequence[Sequence]) -> Table:
    return {name: np.asarray([row[i] for row in rows]) for i, name in enumerate(header)}


def _summary(rows: Sequence[Sequence]) -> dict[str, float]:
    return {str(name): float(value) for name, value in rows}


def axis_statistics(codes: CodesLike, use_mu: bool = False) -> Table:
    """Per latent axis: centre, width, mean, std, skew, and whether it stands out from the other axes.

    >>> table = lx.axis_statistics(codes)
    >>> sorted(table)[:3], len(table["axis"])
    (['axis', 'centre', 'centre_z'], 8)
    """
    from latent_explorer.core.analysis import axis_statistics as core_axis_statistics

    return _table(*core_axis_statistics(np.asarray(_latent(codes, use_mu))).table())


def pca_spectrum(codes: CodesLike, use_mu: bool = False) -> Table:
    """Variance along each principal component, with its share and the cumulative share.

    >>> spectrum = lx.pca_spectrum(codes)
    >>> round(float(spectrum["cumulative"][-1]), 6)
    1.0
    """
    from latent_explorer.core.analysis.spectrum import pca_spectrum as core_pca_spectrum

    return _table(*core_pca_spectrum(_latent(codes, use_mu)).table())


def radius(codes: CodesLike, use_mu: bool = False) -> dict[str, float]:
    """Mean, median and peak of ‖z‖ beside the chi distribution's mean and mode under N(0, I).

    >>> stats = lx.radius(codes)
    >>> sorted(stats)
    ['bin width', 'chi mean', 'chi mode', 'mean radius', 'median radius', 'peak radius']
    """
    from latent_explorer.core.analysis.radius import radius_density

    header, rows = radius_density({"mu" if use_mu else "z": _latent(codes, use_mu)}).summary()
    return {name: float(value) for name, value in zip(header[1:], rows[0][1:], strict=True)}


def posterior(codes: CodesLike) -> dict[str, float]:
    """A VAE's posterior: logvar range, KL to the prior, active units, how far z lies from mu."""
    from latent_explorer.core.analysis.posterior import posterior_statistics

    c = as_codes(codes)
    if c.mu is None or c.logvar is None:
        raise APIError("posterior statistics need a VAE's mu and logvar", hint="encode with a VAE")
    return _summary(posterior_statistics(c.mu, c.logvar, c.z).summary()[1])


def posterior_dimensions(codes: CodesLike) -> Table:
    """Per latent dimension of a VAE: KL to the prior, Var[mu], mean logvar, active."""
    from latent_explorer.core.analysis.posterior import posterior_statistics

    c = as_codes(codes)
    if c.mu is None or c.logvar is None:
        raise APIError("posterior statistics need a VAE's mu and logvar", hint="encode with a VAE")
    return _table(*posterior_statistics(c.mu, c.logvar, c.z).per_dimension())


def kmeans_inertia(codes: CodesLike, ks: Sequence[int] = range(2, 11), seeds: Sequence[int] = (0,),
                   use_mu: bool = False) -> Table:
    """KMeans inertia for each k (mean, min, max, std over the seeds, and each seed), to look for an elbow.

    >>> curve = lx.kmeans_inertia(codes, ks=[2, 4], seeds=[0])
    >>> curve["k"].tolist(), bool(curve["mean inertia"][0] > curve["mean inertia"][1])
    ([2, 4], True)
    """
    from latent_explorer.core.analysis.kmeans import iter_kmeans_sweep
    from latent_explorer.core.jobs import run_job

    sweep = run_job(iter_kmeans_sweep(_latent(codes, use_mu), list(ks), list(seeds)))
    return _table(*sweep.table())


def recon_error(codes: CodesLike) -> dict[str, float]:
    """Mean, median, 99th percentile and max of the reconstruction error per pixel.

    >>> stats = lx.recon_error(codes)
    >>> stats["mean"] <= stats["max"]
    True
    """
    from latent_explorer.core.analysis.recon import recon_statistics

    return _summary(recon_statistics(as_codes(codes).recon_error).summary()[1])


# ------------------------------------------------------------------------------------------ window
def show(model: Any = None, data: Any = None, codes: CodesLike | None = None, device: str = "cpu",
         block: bool = False) -> WindowHandle:
    """Open the window on a model and a dataset (objects or specs, as `load_model`/`load_dataset` take).

    In Jupyter run ``%gui qt`` first: the window then lives beside the kernel and the returned handle reads
    the user's selection and the decoder's current z back as arrays. From a script, ``block=True`` runs the
    window until it is closed; otherwise ``handle.wait_until_ready()`` processes events until the codes are in.
    ``codes`` (of this dataset, from this model) skip the encoding.
    """
    from latent_explorer.qt.notebook import open_window

    if data is None:
        raise APIError("the window needs a dataset beside the model", hint="lx.show(model=..., data=...)")
    dataset = load_dataset(data) if isinstance(data, (str, Path)) else data
    if model is None:
        from latent_explorer.core.models import default_demo_for

        model = f"demo:{default_demo_for(dataset.name)}"
    loaded = load_model(model, device=device, check_on=dataset) if isinstance(model, (str, Path)) else model
    given = as_codes(codes) if codes is not None else None
    if given is not None and len(given) != len(dataset):
        raise APIError(f"{len(given)} codes for a dataset of {len(dataset)} images",
                       hint="pass the codes encoded from this dataset")
    return open_window(loaded, dataset, given, block=block)
