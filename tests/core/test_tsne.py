"""The staged t-SNE job: streamed layouts, same result as openTSNE, caches, cancelling in a worker."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core.jobs import Progress, run_job
from latent_explorer.core.tsne import TSNECache, TSNEError, TSNEParams, iter_tsne

FAST = TSNEParams(early_exaggeration_iter=50, n_iter=100, perplexity=20, kl_stop=0.0)


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 10)) * 8
    return (centres[np.repeat(np.arange(3), 100)] + rng.normal(size=(300, 10))).astype(np.float32)


def test_job_streams_partial_layouts_and_finishes(blobs):
    seen: list[Progress] = []
    layout = run_job(iter_tsne(blobs, FAST, chunk=25, n_jobs=1), seen.append)
    assert layout.shape == (300, 2) and layout.dtype == np.float32 and np.isfinite(layout).all()
    assert seen[0].total is None and "neighbours" in seen[0].stage  # busy bar while openTSNE is silent
    partials = [p for p in seen if p.partial is not None]
    assert [p.done for p in partials] == [0, 25, 50, 75, 100, 125, 150]
    assert all(p.partial.shape == (300, 2) for p in partials)
    assert partials[-1].done == partials[-1].total == FAST.total_iterations
    np.testing.assert_array_equal(partials[-1].partial, layout)
    assert not np.shares_memory(partials[2].partial, partials[3].partial)  # each partial is a copy
    # the three blobs come out as three separate groups
    labels = np.repeat(np.arange(3), 100)
    centres = np.array([layout[labels == k].mean(0) for k in range(3)])
    spread = max(np.linalg.norm(layout[labels == k] - centres[k], axis=1).mean() for k in range(3))
    gaps = min(np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3))
    assert gaps > 2 * spread


def test_chunked_run_equals_one_openTSNE_call(blobs):  # noqa: N802 - the library's name
    from openTSNE import TSNE
    from openTSNE.affinity import PerplexityBasedNN

    ours = run_job(iter_tsne(blobs, FAST, chunk=30, n_jobs=1))
    affinities = PerplexityBasedNN(blobs, perplexity=20, method="auto", n_jobs=1, random_state=0)
    ref = TSNE(perplexity=20, early_exaggeration_iter=50, n_iter=100, n_jobs=1, random_state=0)
    theirs = np.asarray(ref.fit(blobs, affinities=affinities))
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_cache_serves_layouts_and_reuses_affinities(blobs):
    cache = TSNECache()
    first = run_job(iter_tsne(blobs, FAST, cache, input_key="blobs", n_jobs=1))
    seen: list[Progress] = []
    again = run_job(iter_tsne(blobs, FAST, cache, input_key="blobs", n_jobs=1), seen.append)
    np.testing.assert_array_equal(first, again)
    assert [p.message for p in seen] == ["from cache"]
    # a new exaggeration reruns the optimisation only: the neighbour search is not repeated
    seen.clear()
    other = run_job(iter_tsne(blobs, TSNEParams(**{**FAST.__dict__, "exaggeration": 2.0}), cache,
                              input_key="blobs", n_jobs=1), seen.append)
    assert cache.affinity_builds == 1
    assert not any("neighbours" in p.stage for p in seen)
    assert not np.allclose(other, first)
    # a new perplexity does need new affinities
    run_job(iter_tsne(blobs, TSNEParams(**{**FAST.__dict__, "perplexity": 10.0}), cache, input_key="blobs",
                      n_jobs=1))
    assert cache.affinity_builds == 2


@pytest.mark.parametrize("init", ["spectral", "random"])
def test_other_initialisations(blobs, init):
    params = TSNEParams(early_exaggeration_iter=25, n_iter=25, initialization=init, seed=4)
    assert np.isfinite(run_job(iter_tsne(blobs, params, n_jobs=1))).all()


@pytest.mark.parametrize("init", ["pca", "random"])
def test_one_column_input_starts_from_a_random_layout(init):
    from openTSNE import initialization

    line = np.random.default_rng(5).normal(size=(60, 1)).astype(np.float32)
    params = TSNEParams(early_exaggeration_iter=10, n_iter=10, perplexity=5, initialization=init, seed=3)
    seen: list[Progress] = []
    layout = run_job(iter_tsne(line, params, n_jobs=1), seen.append)
    assert layout.shape == (60, 2) and np.isfinite(layout).all()
    start = next(p.partial for p in seen if p.partial is not None)
    np.testing.assert_allclose(start, initialization.random(60, n_components=2, random_state=3), rtol=1e-6)


def test_bad_parameters_and_input_are_reported(blobs):
    with pytest.raises(TSNEError, match="initialisation"):
        TSNEParams(initialization="umap")
    with pytest.raises(TSNEError, match="perplexity"):
        TSNEParams(perplexity=0)
    for value in (0.0, -1.0, float("nan")):
        with pytest.raises(TSNEError, match="^exaggeration must be positive"):
            TSNEParams(exaggeration=value)
        with pytest.raises(TSNEError, match="early exaggeration must be positive"):
            TSNEParams(early_exaggeration=value)
    bad = blobs.copy()
    bad[4, 2] = np.nan
    with pytest.raises(TSNEError, match="NaN"):
        run_job(iter_tsne(bad, FAST))
    with pytest.raises(TSNEError, match="at least 4"):
        run_job(iter_tsne(blobs[:3], FAST))


def test_cancel_in_worker_keeps_partial_layout(qtbot, blobs):
    from latent_explorer.workers.runner import JobRunner

    runner = JobRunner()
    params = TSNEParams(early_exaggeration_iter=250, n_iter=5000, perplexity=20, kl_stop=0.0)  # runs until cancelled
    partials: list[np.ndarray] = []
    cancelled: list[np.ndarray] = []
    handle = runner.start("tsne", lambda: iter_tsne(blobs, params, chunk=10, n_jobs=1), on_partial=partials.append,
                          on_cancel=cancelled.append)
    qtbot.waitUntil(lambda: len(partials) >= 3, timeout=20000)
    runner.cancel("tsne")
    assert handle.state == "cancelled" and len(cancelled) == 1
    kept = cancelled[0]
    assert kept.shape == (300, 2)
    assert any(p is kept for p in partials)
    assert runner.shutdown(10000)
    qtbot.wait(20)  # deliver the worker's last queued signals while the runner is alive
    assert not runner.is_running()


def test_main_phase_stops_once_kl_settles(blobs):
    from latent_explorer.core.tsne import KLStop

    loose = TSNEParams(**{**FAST.__dict__, "n_iter": 1000, "kl_stop": 0.5})
    seen: list[Progress] = []
    layout = run_job(iter_tsne(blobs, loose, chunk=25, n_jobs=1), seen.append)
    partials = [p for p in seen if p.partial is not None]
    assert "converged after" in partials[-1].message and partials[-1].done == partials[-1].total
    np.testing.assert_array_equal(partials[-1].partial, layout)
    # early exaggeration always runs in full; the main phase compares KL 50 iterations apart, first at 75
    # (KL is known from the first 25-iteration chunk on)
    assert partials[-1].message.startswith(f"converged after {FAST.early_exaggeration_iter + 75} iterations")
    strict = TSNEParams(**{**FAST.__dict__, "kl_stop": 0.0})
    assert [p.done for p in run_iter(blobs, strict) if p.partial is not None][-1] == strict.total_iterations
    stop = KLStop(0.01)
    assert [stop(i, kl) for i, kl in ((50, 2.0), (100, 1.9), (150, 1.895))] == [False, False, True]


def run_iter(blobs, params) -> list[Progress]:
    seen: list[Progress] = []
    run_job(iter_tsne(blobs, params, n_jobs=1), seen.append)
    return seen


def test_reference_preset_is_openTSNE_defaults():  # noqa: N802 - the library's name
    from openTSNE import TSNE

    from latent_explorer.core.tsne import PRESETS, REFERENCE, neighbour_method

    ref = TSNE()
    assert (REFERENCE.early_exaggeration_iter, REFERENCE.n_iter, REFERENCE.early_exaggeration, REFERENCE.perplexity,
            REFERENCE.initialization) == (ref.early_exaggeration_iter, ref.n_iter, ref.early_exaggeration,
                                          ref.perplexity, ref.initialization)
    assert REFERENCE.kl_stop == 0 and neighbour_method(REFERENCE, 50_000) == ref.neighbors == "auto"
    custom = TSNEParams(perplexity=12, seed=3, input="mu")
    switched = custom.with_preset("reference quality")
    assert switched.optimisation_key() == REFERENCE.optimisation_key()
    assert (switched.perplexity, switched.seed, switched.input) == (12, 3, "mu")
    assert switched.with_preset("fast").optimisation_key() == PRESETS["fast"].optimisation_key()
    assert "reference" in switched.label() and "reference" not in custom.label()
    with pytest.raises(TSNEError, match="preset"):
        custom.with_preset("turbo")


def test_neighbour_methods_are_checked_and_cached_apart(blobs, monkeypatch):
    import sys

    from latent_explorer.core.tsne import neighbour_method

    assert neighbour_method(TSNEParams(), 300) == "exact"
    assert neighbour_method(TSNEParams(), 70_000, 32) == "exact"  # the fastest measured there
    assert neighbour_method(TSNEParams(), 70_000, 784) == "annoy"  # pixels: exact search costs n² d
    assert neighbour_method(TSNEParams(neighbors="pynndescent"), 300) == "pynndescent"
    with pytest.raises(TSNEError, match="neighbour search must be one of"):
        TSNEParams(neighbors="faiss")
    monkeypatch.setitem(sys.modules, "hnswlib", None)  # as where it is not installed
    with pytest.raises(TSNEError, match="hnswlib"):
        run_job(iter_tsne(blobs, TSNEParams(**{**FAST.__dict__, "neighbors": "hnsw"}), n_jobs=1))
    cache = TSNECache()
    run_job(iter_tsne(blobs, FAST, cache, input_key="blobs", n_jobs=1))
    run_job(iter_tsne(blobs, TSNEParams(**{**FAST.__dict__, "kl_stop": 0.2}), cache, input_key="blobs", n_jobs=1))
    assert cache.affinity_builds == 1  # a new stopping rule reuses the neighbours
    run_job(iter_tsne(blobs, TSNEParams(**{**FAST.__dict__, "neighbors": "annoy"}), cache, input_key="blobs",
                      n_jobs=1))
    assert cache.affinity_builds == 2
