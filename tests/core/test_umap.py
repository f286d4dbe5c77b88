"""UMAP as a job: progress per epoch, cancel between epochs, a cache, new points placed with transform."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import latent_explorer.core.umap as umap_module
from latent_explorer.core.jobs import run_job
from latent_explorer.core.tsne import array_fingerprint
from latent_explorer.core.umap import UMAPCache, UMAPError, UMAPParams, iter_umap, place_points

needs_umap = pytest.mark.skipif(not umap_module.umap_available(), reason="umap-learn not installed")


def clusters(n_per: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 10)) * 8
    labels = np.repeat(np.arange(3), n_per)
    return (centres[labels] + rng.normal(size=(len(labels), 10))).astype(np.float32), labels


@needs_umap
@pytest.mark.slow  # umap-learn compiles its numba kernels on first use in a process
def test_umap_job_progress_cache_transform_and_cancel():
    data, labels = clusters()
    params = UMAPParams(n_neighbors=10, n_epochs=60)
    cache = UMAPCache()
    seen = []
    layout = run_job(iter_umap(data, params, cache), seen.append)
    assert layout.shape == (240, 2) and layout.dtype == np.float32 and np.isfinite(layout).all()
    epochs = [p.done for p in seen if p.stage == "UMAP" and p.message == "optimising"]
    assert epochs and epochs[-1] == 60 and epochs == sorted(epochs)
    # three separated clusters stay separated: each point's nearest map neighbour shares its label
    d = ((layout[:, None] - layout[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert (labels[d.argmin(1)] == labels).mean() > 0.95
    again = run_job(iter_umap(data, params, cache))
    np.testing.assert_array_equal(again, layout)
    assert cache.fits == 1
    placed = place_points(cache.model(array_fingerprint(data), params), data[:5] + 0.01)
    centre = layout[labels == labels[0]].mean(0)
    spread = np.linalg.norm(layout - layout.mean(0), axis=1).mean()
    assert placed.shape == (5, 2) and np.linalg.norm(placed - centre, axis=1).max() < spread

    job = iter_umap(data, UMAPParams(n_neighbors=10, n_epochs=5000, seed=1), cache)
    for progress in job:
        if progress.stage == "UMAP" and progress.done >= 3:
            break
    job.close()  # stops the fit between epochs; nothing is cached
    assert cache.fits == 1
    for thread in threading.enumerate():  # the cancelled fit ends at its next epoch, inside tqdm's drawing
        if thread.name == "umap-fit":
            thread.join(timeout=60)
    # the cancelled fit gave back tqdm's lock (held by a dead thread, it made every later bar wait forever; a new
    # thread that happens to get the dead one's identity would still pass, so this asks from the test's thread)
    from tqdm import tqdm

    for lock in tqdm.get_lock().locks:
        assert lock.acquire(True, 5), "tqdm's lock is still held by the cancelled fit"
        lock.release()
    after = run_job(iter_umap(data, UMAPParams(n_neighbors=10, n_epochs=20, seed=2)))
    assert after.shape == (240, 2)


def test_parameters_and_missing_package(monkeypatch):
    with pytest.raises(UMAPError, match="input"):
        UMAPParams(input="pixelz")
    with pytest.raises(UMAPError, match="neighbours"):
        UMAPParams(n_neighbors=1)
    with pytest.raises(UMAPError, match="at least 4 points"):
        run_job(iter_umap(np.zeros((3, 2)), UMAPParams()))
    monkeypatch.setattr(umap_module, "umap_available", lambda: False)
    with pytest.raises(UMAPError, match="umap-learn") as err:
        run_job(iter_umap(np.random.default_rng(0).normal(size=(20, 3)), UMAPParams()))
    assert "latent-explorer[umap]" in str(err.value)
