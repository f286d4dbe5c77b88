"""The job runner: each job reports to its owner, every failure reaches it, a hung job can be abandoned."""

from __future__ import annotations

import threading

import pytest

from latent_explorer.core.jobs import Progress
from latent_explorer.workers import runner as runner_module
from latent_explorer.workers.runner import ABANDONED, CANCELLED, DONE, FAILED, JobRunner


@pytest.fixture
def jobs(qtbot):
    reported: list[tuple[BaseException, str]] = []
    runner = JobRunner(report_error=lambda exc, title: reported.append((exc, title)))
    runner.reported = reported
    releases: list[threading.Event] = []
    runner.releases = releases
    yield runner
    for release in releases:  # let the "hung" jobs of a test end, so no thread outlives it
        release.set()
    assert runner.shutdown(10000)


def counting(n: int):
    for i in range(n):
        yield Progress("counting", i, n)
    return n


def raising(exc: BaseException):
    yield Progress("about to fail")
    raise exc


def hanging(release: threading.Event, entered: threading.Event):
    """Like a user model stuck in ``encode``: blocks inside one step and never yields again."""
    yield Progress("encoding", 0, 10)
    entered.set()
    release.wait()
    return "late"


def test_a_job_reports_progress_and_its_result_to_its_owner(jobs, qtbot):
    seen, done = [], []
    handle = jobs.start("count", lambda: counting(5), on_progress=seen.append, on_done=done.append)
    qtbot.waitUntil(lambda: handle.state == DONE, timeout=5000)
    assert done == [5] and handle.result == 5
    assert [p.done for p in seen] == [0, 1, 2, 3, 4]
    assert not jobs.is_running("count") and jobs.reported == []


@pytest.mark.parametrize("exc", [RuntimeError("CUDA out of memory"), MemoryError(), ValueError("shape")])
def test_every_exception_reaches_the_owner_and_the_user(jobs, qtbot, exc):
    errors = []
    handle = jobs.start("fail", lambda: raising(exc), title="encoding", on_error=errors.append)
    qtbot.waitUntil(lambda: handle.state == FAILED, timeout=5000)
    assert errors == [exc] and handle.error is exc
    assert jobs.reported == [(exc, "encoding failed")]
    assert not jobs.is_running()


def test_an_owner_that_reports_the_error_itself_returns_true(jobs, qtbot):
    handle = jobs.start("fail", lambda: raising(RuntimeError("x")), on_error=lambda exc: True)
    qtbot.waitUntil(lambda: handle.state == FAILED, timeout=5000)
    assert jobs.reported == []


def test_an_owner_callback_that_raises_is_reported(jobs, qtbot):
    def broken(_result):
        raise KeyError("owner bug")

    handle = jobs.start("count", lambda: counting(2), on_done=broken)
    qtbot.waitUntil(lambda: bool(jobs.reported), timeout=5000)
    assert handle.state == DONE and isinstance(jobs.reported[0][0], KeyError)


def test_cancel_hands_the_last_partial_to_the_owner(jobs, qtbot):
    release, entered = threading.Event(), threading.Event()
    jobs.releases.append(release)

    def job():
        yield Progress("step", 1, 3, partial="half")
        entered.set()
        release.wait()
        yield Progress("step", 2, 3)
        return "all"

    kept, done = [], []
    handle = jobs.start("partial", job, on_cancel=kept.append, on_done=done.append)
    qtbot.waitUntil(lambda: handle.partial == "half", timeout=5000)
    handle.cancel()
    assert kept == ["half"] and handle.state == CANCELLED and not jobs.is_running("partial")
    release.set()
    qtbot.waitUntil(lambda: not handle.thread_alive(), timeout=5000)
    qtbot.wait(50)
    assert done == []  # a cancelled job's result belongs to nobody


def test_a_hung_job_is_abandoned_and_holds_no_slot(jobs, qtbot, monkeypatch):
    monkeypatch.setattr(runner_module, "ABANDON_AFTER_S", 0.2)
    hung = []
    for n in range(6):  # more than a bounded pool would have threads for
        release, entered = threading.Event(), threading.Event()
        jobs.releases.append(release)
        hung.append(jobs.start(f"encode-{n}", lambda r=release, e=entered: hanging(r, e)))
        assert entered.wait(5)
    for handle in hung:
        handle.cancel()
    qtbot.waitUntil(lambda: all(h.state == ABANDONED for h in hung), timeout=5000)
    assert len(jobs.handles()) == 6 and "abandoned" in hung[0].describe()
    handle = jobs.start("count", lambda: counting(3))  # the hung ones block nothing
    qtbot.waitUntil(lambda: handle.state == DONE, timeout=5000)
    assert not jobs.shutdown(200)  # still stuck: shutdown says so instead of waiting forever
    for release in jobs.releases:
        release.set()
    qtbot.waitUntil(lambda: not any(h.thread_alive() for h in hung), timeout=5000)
    qtbot.waitUntil(lambda: jobs.handles() == [], timeout=5000)


def test_starting_a_job_under_a_running_name_replaces_it(jobs, qtbot):
    release, entered = threading.Event(), threading.Event()
    jobs.releases.append(release)
    cancelled, done = [], []
    first = jobs.start("encode", lambda: hanging(release, entered), on_cancel=cancelled.append,
                       on_done=done.append)
    assert entered.wait(5)
    second = jobs.start("encode", lambda: counting(2), on_done=done.append)
    assert first.state == CANCELLED and cancelled == [None]
    qtbot.waitUntil(lambda: second.state == DONE, timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: not first.thread_alive(), timeout=5000)
    qtbot.wait(50)
    assert done == [2]
