"""No "OpenBLAS … may hang" warning: BLAS stays on one thread in the window's workers, however it is provoked.

The warning comes from a pthreads OpenBLAS called with more than one thread inside an OpenMP parallel region.
A numba ``prange`` calling ``np.dot`` (numba's OpenMP layer shares ``libgomp.so.1`` with torch, loaded first)
provokes it where BLAS has more than one thread; a t-SNE run goes through the same worker first, as in the
window. The control run shows the provocation warns when nothing limits BLAS, and the worker reports its BLAS
thread counts (one, with scipy's OpenBLAS loaded inside the job), so the check cannot pass for want of a trigger.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from latent_explorer.core.threads import ThreadPlan, compute_threads, current_plan, set_environment

ROOT = Path(__file__).resolve().parents[2]
MAY_HANG = "may hang"

PROVOKE = textwrap.dedent("""
    import numba
    import numpy as np

    @numba.njit(parallel=True)
    def blas_inside_openmp(a, out):
        for i in numba.prange(out.shape[0]):
            out[i] = np.dot(a, a).sum()

    def provoke():
        blas_inside_openmp(np.ones((300, 300)), np.zeros(4))
""")

WINDOW_WORKER = PROVOKE + textwrap.dedent("""
    import sys
    from latent_explorer.launch import set_environment
    set_environment()                     # what the entry points do before numpy is imported
    import torch                          # noqa: F401  the window has torch loaded before any job
    from PySide6.QtCore import QEventLoop, QTimer
    from latent_explorer.qt.app import make_application
    from latent_explorer.workers.runner import JobRunner
    from latent_explorer.core.tsne import TSNEParams, iter_tsne

    app = make_application()
    runner = JobRunner()
    data = np.random.default_rng(0).normal(size=(600, 16)).astype(np.float32)
    params = TSNEParams(perplexity=15, early_exaggeration_iter=25, n_iter=25)
    ended = []

    def tsne_then_provoke():
        layout = yield from iter_tsne(data, params)
        import threadpoolctl
        blas = sorted({info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"})
        print("blas threads in the worker", blas, file=sys.stderr)
        provoke()
        return layout

    loop = QEventLoop()
    runner.start("tsne", tsne_then_provoke, on_done=lambda r: (ended.append(r.shape), loop.quit()),
                 on_error=lambda exc: (ended.append(repr(exc)), loop.quit(), True)[-1])
    QTimer.singleShot(240_000, loop.quit)
    loop.exec()
    assert runner.shutdown(20_000)
    print("ended", ended, file=sys.stderr)
""")

CONTROL = PROVOKE + textwrap.dedent("""
    import threading
    import torch  # noqa: F401
    thread = threading.Thread(target=provoke)
    thread.start()
    thread.join()
""")


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=400, env=environ,
                          cwd=ROOT)


def test_no_may_hang_warning_in_the_window_worker_path():
    pytest.importorskip("numba")
    control = run_python(CONTROL, OPENBLAS_NUM_THREADS="2")
    if MAY_HANG not in control.stderr:
        pytest.skip(f"this BLAS does not warn even unlimited (stderr: {control.stderr[-300:]!r})")
    # a user's OPENBLAS_NUM_THREADS=2 is replaced too: scipy's OpenBLAS, loaded inside the job, would read it
    for env in ({}, {"OPENBLAS_NUM_THREADS": "2"}):
        result = run_python(WINDOW_WORKER, **env)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "ended [(600, 2)]" in result.stderr
        assert "blas threads in the worker [1]" in result.stderr, result.stderr[-2000:]
        assert MAY_HANG not in result.stderr, result.stderr[-2000:]


def test_environment_and_plan():
    environ: dict[str, str] = {}
    set_environment(environ)
    assert environ == {"OPENBLAS_NUM_THREADS": "1"}
    environ = {"OPENBLAS_NUM_THREADS": "4", "LATENT_EXPLORER_THREADS": "3"}
    set_environment(environ)
    assert environ["OPENBLAS_NUM_THREADS"] == "1" and environ["NUMBA_NUM_THREADS"] == "3"
    assert compute_threads({"LATENT_EXPLORER_THREADS": "3"}) == 3
    assert compute_threads({"LATENT_EXPLORER_THREADS": "zero"}) == compute_threads({}) >= 1
    assert isinstance(current_plan(), ThreadPlan) and current_plan().blas == 1


def test_entry_points_set_the_environment_before_numpy():
    code = "import sys, os; import latent_explorer.launch; print('numpy' in sys.modules)"
    assert run_python(code).stdout.strip() == "False"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'latent-explorer = "latent_explorer.launch:main"' in pyproject
    assert "from latent_explorer.launch import main" in (ROOT / "latent_explorer" / "__main__.py").read_text()
    version = run_python("import runpy, sys; sys.argv = ['x', '--version']; runpy.run_module('latent_explorer', "
                         "run_name='__main__')")
    assert version.stdout.startswith("latent-explorer ")
