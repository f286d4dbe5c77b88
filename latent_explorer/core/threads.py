"""The thread counts of torch, BLAS/OpenMP and numba, set in one place: at start-up and in every worker.

Why BLAS runs on one thread. The OpenBLAS libraries that numpy and scipy ship are built with their own
pthreads pool. When one of them is called with more than one thread from inside an OpenMP parallel region —
numba's ``prange`` (pynndescent and UMAP run on numba's OpenMP layer), or torch's OpenMP pool, which shares
``libgomp.so.1`` with them — it prints "OpenBLAS Warning : Detect OpenMP Loop and this application may hang"
for every call, and may deadlock. Several worker threads changing the process-wide BLAS count at once
(scikit-learn limits it to one around its OpenMP loops and restores it afterwards, from whichever thread)
open that window at random. With BLAS on one thread, everywhere and always, the warning cannot occur.
It costs little here: the heavy products run in torch (its own MKL pool) and in openTSNE, and numpy's
products in the analyses were measured faster on one thread on a busy machine (`core.analysis.threads`).

OpenBLAS reads ``OPENBLAS_NUM_THREADS`` once, when numpy is imported: `set_environment` must run before that,
so the entry points (`latent_explorer.launch`, ``python -m latent_explorer``) call it before importing
anything else; `configure_process` (the window and the command line at start-up) and `configure_worker`
(every job's thread) also limit, through threadpoolctl, any BLAS loaded since or before.

``LATENT_EXPLORER_THREADS`` caps the threads torch (per thread) and numba use; the default is every core this
process may run on.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass

THREADS_ENV = "LATENT_EXPLORER_THREADS"
# one thread for every pthreads BLAS; the OpenMP and MKL pools are left to their libraries' defaults
SINGLE_THREADED_ENV = ("OPENBLAS_NUM_THREADS",)

_lock = threading.Lock()
_plan: ThreadPlan | None = None


@dataclass(frozen=True)
class ThreadPlan:
    """How many threads each pool gets: ``compute`` for torch and numba (both per thread), ``blas`` for BLAS."""

    compute: int
    blas: int = 1


def available_cores() -> int:
    """The cores this process may run on (its affinity), not the machine's count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def compute_threads(environ: MutableMapping[str, str] | None = None) -> int:
    """``$LATENT_EXPLORER_THREADS`` when it is a whole number ≥ 1, else every available core."""
    text = (environ if environ is not None else os.environ).get(THREADS_ENV, "").strip()
    if text.isdigit() and int(text) >= 1:
        return int(text)
    return available_cores()


def set_environment(environ: MutableMapping[str, str] | None = None) -> None:
    """Before numpy is imported: BLAS on one thread, numba's pool capped.

    A BLAS count the user set is replaced too: a library loaded in the middle of a job (scipy's OpenBLAS, first
    imported with scikit-learn) reads it at that moment, and any count above one makes the warning possible.
    """
    environ = os.environ if environ is None else environ
    for name in SINGLE_THREADED_ENV:
        environ[name] = "1"
    if environ.get(THREADS_ENV, "").strip():
        environ.setdefault("NUMBA_NUM_THREADS", str(compute_threads(environ)))  # read once, at numba's import


def limit_blas() -> int:
    """Limit every BLAS loaded so far to one thread (threadpoolctl); returns how many libraries it found."""
    if "numpy" not in sys.modules:
        return 0  # nothing loaded BLAS yet: the environment variable will do it
    from threadpoolctl import ThreadpoolController

    blas = ThreadpoolController().select(user_api="blas")  # a fresh scan: also sees libraries loaded since
    blas.limit(limits=1, user_api="blas")  # kept for the life of the process, never restored
    return len(blas.lib_controllers)


def configure_process(threads: int | None = None) -> ThreadPlan:
    """At start-up of the window or a command: the environment, BLAS, torch and numba counts of this process."""
    global _plan
    set_environment()
    plan = ThreadPlan(compute=threads or compute_threads())
    with _lock:
        _plan = plan
    limit_blas()
    _set_torch(plan.compute)
    return plan


def current_plan() -> ThreadPlan:
    """The plan `configure_process` set, or the defaults when it has not run (a script using the core)."""
    with _lock:
        return _plan if _plan is not None else ThreadPlan(compute=compute_threads())


def configure_worker() -> None:
    """At the start of a worker thread's job: its torch count (torch counts are per thread) and BLAS again."""
    plan = current_plan()
    limit_blas()  # a library loaded since start-up (scipy's OpenBLAS, with scikit-learn) starts multi-threaded
    _set_torch(plan.compute)
    numba = sys.modules.get("numba")  # numba's count is per thread too; never imported for this (it is slow)
    if numba is not None and plan.compute < numba.config.NUMBA_NUM_THREADS:
        numba.set_num_threads(plan.compute)


def _set_torch(n: int) -> None:
    torch = sys.modules.get("torch")  # a job that never touches torch does not import it
    if torch is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)
