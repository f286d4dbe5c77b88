"""The Python API: its docstring examples run as doctests; ``import latent_explorer`` stays cheap."""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import latent_explorer
import latent_explorer.api as api
from latent_explorer.api import APIError

ROOT = Path(__file__).resolve().parents[2]


def test_docstring_examples_run():
    """The module's example loads the digits demo; every function's example continues it."""
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = {t.name: t for t in finder.find(api, "latent_explorer.api")}
    opening = tests.pop("latent_explorer.api")
    runner.run(opening, clear_globs=False)  # model, data and codes for the examples that continue it
    assert {"model", "data", "codes"} <= set(opening.globs)
    for test in tests.values():
        test.globs.update({k: opening.globs[k] for k in ("lx", "model", "data", "codes")})
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 25 and result.failed == 0


def test_every_api_name_resolves_lazily():
    for name in latent_explorer.API_NAMES:
        assert callable(getattr(latent_explorer, name)), name
    assert set(latent_explorer.API_NAMES) <= set(dir(latent_explorer))
    with pytest.raises(AttributeError):
        _ = latent_explorer.no_such_function


def test_import_is_cheap_and_loads_nothing_heavy():
    code = ("import sys, latent_explorer\n"
            "heavy = [m for m in ('torch', 'numpy', 'pyarrow', 'PySide6', 'openTSNE', 'umap') if m in sys.modules]\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_arrays_files_and_mistakes(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(40, 3)).astype(np.float32)
    assert latent_explorer.pca(z, 3).shape == (40, 3)
    path = latent_explorer.write_codes(tmp_path / "z.parquet", z)
    np.testing.assert_array_equal(latent_explorer.read_codes(path).codes.z, z)
    assert latent_explorer.neighbors(str(path), 5, k=2)["index"].shape == (2,)
    with pytest.raises(APIError, match="no mu"):
        latent_explorer.pca(z, use_mu=True)
    with pytest.raises(APIError, match="needs the dataset"):
        latent_explorer.tsne(z, input="pixels")
    with pytest.raises(APIError, match="posterior"):
        latent_explorer.posterior(z)
    with pytest.raises(APIError, match="at least 2 steps"):
        latent_explorer.interpolate(z[0], z[1], steps=1)
    builds = api._cache("tsne").affinity_builds
    first = latent_explorer.tsne(z, perplexity=5, n_iter=30, early_exaggeration_iter=20)
    again = latent_explorer.tsne(z, perplexity=5, n_iter=30, early_exaggeration_iter=20)
    np.testing.assert_array_equal(first, again)
    assert api._cache("tsne").affinity_builds == builds + 1  # the second call came from the cache
    spherical = latent_explorer.interpolate(z[0], z[1], steps=9, spherical=True)
    radii = np.linalg.norm(spherical, axis=1)
    assert np.all(np.diff(radii) * np.sign(radii[-1] - radii[0]) >= -1e-5)  # the radius moves monotonically


def test_vae_posterior_tables(digits_vae, digits):
    model = latent_explorer.load_model(digits_vae, check_on=digits)
    codes = latent_explorer.encode(model, digits)
    summary = latent_explorer.posterior(codes)
    dims = latent_explorer.posterior_dimensions(codes)
    assert len(dims["KL"]) == 4 and summary["KL total (nats per sample)"] == pytest.approx(dims["KL"].sum())
