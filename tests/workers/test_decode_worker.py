"""The live decode worker: newest request wins, nothing stale is shown, failures become error tiles."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from PySide6.QtCore import QObject, QThread, Slot
from PySide6.QtWidgets import QApplication

from latent_explorer.workers.decode import DecodeResult, DecodeWorker


class SlowModel:
    """Decodes z to an image filled with z[0]; sleeps to stand in for a real decoder."""

    is_variational = False
    device = torch.device("cpu")

    def __init__(self, delay: float = 0.004, fail: str = "", name: str = "slow"):
        self.latent_dim = 2
        self.input_shape = (1, 4, 4)
        self.delay = delay
        self.fail = fail
        self.name = name
        self.calls = 0

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        time.sleep(self.delay)
        if self.fail == "raise":
            raise ValueError("weights went missing")
        out = z[:, :1, None, None].expand(len(z), 1, 4, 4).clone()
        if self.fail == "nan":
            out[:] = float("nan")
        return out


class Screen(QObject):
    """Stands for the GUI: records what it would show, and checks the thread it runs on."""

    def __init__(self):
        super().__init__()
        self.shown: list[DecodeResult] = []
        self.wrong_thread = False
        self.shown_at: list[float] = []

    @Slot(object)
    def show(self, result: DecodeResult) -> None:
        self.wrong_thread |= QThread.currentThread() is not QApplication.instance().thread()
        self.shown.append(result)
        self.shown_at.append(time.perf_counter())


@pytest.fixture
def worker(qapp):
    worker = DecodeWorker(threads=1)
    screen = Screen()
    worker.decoded.connect(screen.show)
    worker.screen = screen
    yield worker
    assert worker.stop(), "the decode thread did not stop"
    assert not worker.isRunning()


def test_flood_of_requests_decodes_few_and_shows_the_last(worker, qtbot):
    model = SlowModel(delay=0.004)
    posted = []
    for i in range(100):
        seq = worker.request(model, np.array([i, 0.0], np.float32))
        posted.append((seq, time.perf_counter()))
        time.sleep(0.0005)
    qtbot.waitUntil(lambda: bool(worker.screen.shown) and worker.screen.shown[-1].seq == posted[-1][0],
                    timeout=5000)
    qtbot.wait(50)
    shown = worker.screen.shown
    assert model.calls < 60, f"decoded {model.calls} of 100: a backlog was served"
    assert worker.decode_count == model.calls
    assert shown[-1].seq == 100 and shown[-1].images[0, 0, 0] == pytest.approx(99.0)
    assert [r.seq for r in shown] == sorted({r.seq for r in shown})  # in order, each once
    for result in shown:  # never an image that a newer request had superseded when it was decoded
        newer = [t for seq, t in posted if seq > result.seq]
        assert not newer or min(newer) > result.decoded
    assert not worker.screen.wrong_thread


def test_failing_decoder_gives_an_error_tile_and_the_worker_goes_on(worker, qtbot):
    with qtbot.waitSignal(worker.decoded, timeout=5000) as blocker:
        worker.request(SlowModel(fail="raise"), np.zeros(2, np.float32))
    failed = blocker.args[0]
    assert not failed.ok and "weights went missing" in failed.error
    assert failed.images.shape[-1] == 3 and failed.images.shape[1] >= 64  # a crossed RGB tile
    with qtbot.waitSignal(worker.decoded, timeout=5000) as blocker:
        worker.request(SlowModel(fail="nan"), np.zeros(2, np.float32))
    assert not blocker.args[0].ok and "NaN" in blocker.args[0].error
    with qtbot.waitSignal(worker.decoded, timeout=5000) as blocker:
        worker.request(SlowModel(), np.array([0.25, 0.0], np.float32))
    assert blocker.args[0].ok and blocker.args[0].images[0, 0, 0] == pytest.approx(0.25)


def test_switching_model_mid_decode_shows_only_the_new_model(worker, qtbot):
    old, new = SlowModel(delay=0.2, name="old"), SlowModel(delay=0.0, name="new")
    worker.request(old, np.array([1.0, 0.0], np.float32))
    qtbot.waitUntil(lambda: old.calls == 1, timeout=5000)  # the old decode is in flight
    worker.request(new, np.array([2.0, 0.0], np.float32))
    qtbot.waitUntil(lambda: len(worker.screen.shown) == 1, timeout=5000)
    qtbot.wait(300)
    assert [r.model.name for r in worker.screen.shown] == ["new"]
    assert worker.dropped_count == 1


def test_cancel_drops_the_decode_in_flight(worker, qtbot):
    model = SlowModel(delay=0.15)
    worker.request(model, np.zeros(2, np.float32))
    qtbot.waitUntil(lambda: model.calls == 1, timeout=5000)
    worker.cancel()
    qtbot.wait(300)
    assert worker.screen.shown == []


def test_thread_goes_idle_then_restarts_on_the_next_request(qapp, qtbot):
    worker = DecodeWorker(threads=1, idle_exit_ms=50)
    screen = Screen()
    worker.decoded.connect(screen.show)
    try:
        worker.request(SlowModel(delay=0), np.zeros(2, np.float32))
        qtbot.waitUntil(lambda: len(screen.shown) == 1, timeout=5000)
        qtbot.waitUntil(lambda: not worker.isRunning(), timeout=5000)
        worker.request(SlowModel(delay=0), np.ones(2, np.float32))
        qtbot.waitUntil(lambda: len(screen.shown) == 2, timeout=5000)
        assert screen.shown[-1].images[0, 0, 0] == pytest.approx(1.0)
    finally:
        assert worker.stop()


def test_torch_threads_are_set_inside_the_worker_only(worker, qtbot):
    before = torch.get_num_threads()

    class ThreadProbe(SlowModel):
        seen = None

        def decode(self, z):
            ThreadProbe.seen = torch.get_num_threads()
            return super().decode(z)

    with qtbot.waitSignal(worker.decoded, timeout=5000):
        worker.request(ThreadProbe(delay=0), np.zeros(2, np.float32))
    assert ThreadProbe.seen == 1
    assert torch.get_num_threads() == before


def test_unexpected_exception_gives_error_tile_and_thread_goes_on(qtbot):
    """An error outside the decoder call itself (e.g. at .cpu() after a CUDA fault) must not end the thread."""
    class Exploding(torch.Tensor):
        def detach(self):
            raise RuntimeError("device lost")

    class Model:
        input_shape = (1, 4, 4)
        device = torch.device("cpu")
        latent_dim = 2
        explode = True

        def decode(self, z):
            out = torch.full((len(z), 1, 4, 4), 0.5)
            return out.as_subclass(Exploding) if self.explode else out

    model = Model()
    worker = DecodeWorker(threads=1)
    results = []

    class Sink(QObject):
        @Slot(object)
        def take(self, result):
            results.append(result)

    sink = Sink()
    worker.decoded.connect(sink.take)
    worker.request(model, np.zeros(2, np.float32))
    qtbot.waitUntil(lambda: len(results) == 1, timeout=5000)
    assert results[0].error and "device lost" in results[0].error
    model.explode = False
    worker.request(model, np.zeros(2, np.float32))
    qtbot.waitUntil(lambda: len(results) == 2, timeout=5000)
    assert results[1].error is None and np.allclose(results[1].images, 0.5)
    worker.stop()
