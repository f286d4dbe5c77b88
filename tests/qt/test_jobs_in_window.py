"""Jobs in the window: one status-bar row per job, failures reported, a hung model abandoned, a quick exit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np

from latent_explorer.core.jobs import Progress
from latent_explorer.workers import runner as runner_module

ROOT = Path(__file__).resolve().parents[2]

HANGING_MODEL = '''
import threading
import numpy as np

class HangingModel:
    """A user model whose encode never returns (a deadlock in the user's code, say)."""

    name = "hanging"
    input_shape = (1, 8, 8)
    latent_dim = 2
    is_variational = False
    device = "cpu"
    entered = threading.Event()

    def fingerprint(self):
        return "hanging-model"

    def encode(self, x, generator=None, noise=None):
        HangingModel.entered.set()
        threading.Event().wait()  # forever
'''


def _namespace() -> dict:
    namespace: dict = {}
    exec(HANGING_MODEL, namespace)  # noqa: S102 - the same model the subprocess below uses
    return namespace


def small_dataset():
    from latent_explorer.core.datasets import Dataset

    rng = np.random.default_rng(0)
    images = (rng.random((40, 1, 8, 8)) * 255).astype(np.uint8)
    return Dataset(name="tiny", images=images, labels=np.arange(40) % 4, class_names=list("abcd"), source="test")


def waiting_job(release: threading.Event, fraction: float):
    yield Progress("working", int(fraction * 100), 100)
    release.wait()
    return fraction


def test_two_jobs_show_two_rows_each_with_its_progress_and_cancel(main_window, qtbot):
    window = main_window
    window.show()
    releases = [threading.Event(), threading.Event()]
    try:
        first = window.runner.start("first", lambda: waiting_job(releases[0], 0.25), title="first job")
        second = window.runner.start("second", lambda: waiting_job(releases[1], 0.75), title="second job")
        qtbot.waitUntil(lambda: first.progress is not None and second.progress is not None, timeout=5000)
        rows = window.job_list.rows
        assert set(rows) == {first.generation, second.generation} and window.job_list.isVisible()
        assert rows[first.generation].bar.value() == 250 and rows[second.generation].bar.value() == 750
        assert "first job: working (25/100)" in rows[first.generation].label.text()
        rows[first.generation].cancel_button.click()
        assert first.state == "cancelled" and second.state == "running"
        assert "stopping" in rows[first.generation].label.text() and rows[first.generation].cancel_button.isHidden()
        releases[0].set()
        qtbot.waitUntil(lambda: set(window.job_list.rows) == {second.generation}, timeout=5000)
    finally:
        for release in releases:
            release.set()
    qtbot.waitUntil(lambda: not window.runner.is_running(), timeout=5000)
    assert window.job_list.rows == {} and not window.job_list.isVisible()


def test_a_job_that_raises_runtime_error_is_reported(main_window, qtbot):
    window = main_window

    def job():
        yield Progress("decoding")
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (64x3 and 4x16)")

    handle = window.runner.start("shapes", job, title="decoding")
    qtbot.waitUntil(lambda: handle.state == "failed", timeout=5000)
    assert isinstance(window.last_error, RuntimeError)
    assert "decoding failed: RuntimeError: mat1 and mat2" in window.status_label.text()
    assert not window.runner.is_running()


def test_a_hung_encode_can_be_cancelled_and_is_shown_abandoned(main_window, qtbot, monkeypatch):
    monkeypatch.setattr(runner_module, "ABANDON_AFTER_S", 0.2)
    window = main_window
    model = _namespace()["HangingModel"]()
    window.state.dataset = small_dataset()
    window.state.model = model
    window.sources.encode()
    assert type(model).entered.wait(10)
    handle = window.runner.handle("encode")
    row = window.job_list.rows[handle.generation]
    row.cancel_button.click()
    assert handle.state == "cancelled" and not window.runner.is_running("encode")
    qtbot.waitUntil(lambda: handle.state == "abandoned", timeout=5000)
    assert "abandoned" in row.label.text() and row.cancel_button.isHidden()
    window.sources.encode()  # the same job can start again: the hung thread holds no slot
    assert window.runner.is_running("encode")
    window.runner.cancel("encode")
    # the test's teardown may not wait for threads that never end: say it is expected here
    monkeypatch.setattr(window.runner, "shutdown", lambda timeout_ms=0: True)


def test_closing_the_window_exits_within_5_s_with_a_hung_model(tmp_path):
    script = tmp_path / "hung.py"
    script.write_text(HANGING_MODEL + textwrap.dedent('''
        import sys, time
        from PySide6.QtCore import QSettings
        from latent_explorer.qt.app import make_application
        from latent_explorer.qt.main_window import MainWindow
        sys.path.insert(0, %r)
        from test_jobs_in_window import small_dataset

        app = make_application()
        window = MainWindow(settings=QSettings(%r, QSettings.Format.IniFormat))
        window.show()
        window.state.dataset = small_dataset()
        window.state.model = HangingModel()
        window.sources.encode()
        assert HangingModel.entered.wait(30)
        print("closing", flush=True)
        window.close()
        app.quit()
    ''') % (str(Path(__file__).parent), str(tmp_path / "settings.ini")))
    env = {"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "LATENT_EXPLORER_CACHE": str(tmp_path / "lcache"), "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.strip() == "closing", process.stderr.read()
        started = time.monotonic()
        process.wait(timeout=20)
        elapsed = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, process.stderr.read()
    assert elapsed < 5.0, f"the process took {elapsed:.1f} s to exit after the window closed"
