"""Shared fixtures: headless Qt, an isolated cache and settings, small real datasets and models."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from latent_explorer.core.datasets import Dataset, fashion_mnist_available, load_digits  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch):
    """Each test gets its own encoding cache and Qt settings, never the user's."""
    root = tmp_path_factory.mktemp("env")
    monkeypatch.setenv("LATENT_EXPLORER_CACHE", str(root / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "xdgcache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(root / "data"))
    monkeypatch.setenv("LATENT_EXPLORER_LOG", str(root / "state" / "latent-explorer.log"))
    yield root


@pytest.fixture(scope="session")
def digits() -> Dataset:
    return load_digits()


@pytest.fixture(scope="session")
def small_images() -> Dataset:
    """64 random 12×12 grey images in 4 classes: quick to train and encode."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 16)
    images = (rng.random((64, 1, 12, 12)) * 255).astype(np.uint8)
    return Dataset(name="small", images=images, labels=labels, class_names=list("abcd"), source="test")


@pytest.fixture(scope="session")
def digits_vae(tmp_path_factory, digits):
    """A tiny conv VAE trained for one epoch on digits, as a checkpoint folder."""
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models.checkpoint import TrainConfig
    from latent_explorer.core.models.training import iter_train

    out = tmp_path_factory.mktemp("ckpt") / "digits-vae"
    run_job(iter_train(TrainConfig(arch="conv-vae", z_dim=4, epochs=1, batch_size=64), digits, out))
    return out


def read_only(folder: Path, monkeypatch) -> None:
    """Make ``folder`` read-only; as root (who may write anyway) creating a file there fails as it would for a user."""
    folder.chmod(0o555)
    if os.geteuid() == 0:
        import tempfile

        def refuse(*args, dir=None, **kwargs):
            if dir is not None and Path(dir).resolve() == folder.resolve():
                raise PermissionError(13, "Permission denied", str(dir))
            return real(*args, dir=dir, **kwargs)

        real = tempfile.mkstemp
        monkeypatch.setattr(tempfile, "mkstemp", refuse)


requires_fashion = pytest.mark.skipif(not fashion_mnist_available(),
                                      reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")


@pytest.fixture
def main_window(qtbot, isolated_dirs):
    """The real main window with settings in a temporary file; all jobs stopped at teardown."""
    from PySide6.QtCore import QSettings

    from latent_explorer.qt.app import make_application
    from latent_explorer.qt.main_window import MainWindow

    make_application()
    settings = QSettings(str(Path(isolated_dirs) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    yield window
    assert window.runner.shutdown(20000), "a worker thread was still running after the test"
    window.close()
    gc.collect()  # the window's cycles die here, in the GUI thread, not in a later test's worker thread


@pytest.fixture(scope="session", autouse=True)
def empty_clipboard_at_exit():
    """Data left on the offscreen clipboard crashes Qt's teardown at interpreter exit: clear it first."""
    yield
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        app.clipboard().clear()
        app.processEvents()


@pytest.fixture
def feature_context(qtbot, isolated_dirs):
    """Build a `FeatureContext` without the main window, to install one feature against it.

    ``feature_context(scatter=..., view=...)`` may replace the scatter and the view state with stand-ins;
    ``context.parent`` is a bare QMainWindow (dialogs, shortcuts, docks). Jobs and features stop at teardown.
    """
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMainWindow

    from latent_explorer.qt.app import make_application
    from latent_explorer.qt.context import FeatureContext
    from latent_explorer.qt.standalone import standalone_context

    make_application()
    built = []

    def build(scatter=None, view=None) -> FeatureContext:
        parent = QMainWindow()
        qtbot.addWidget(parent)
        settings = QSettings(str(Path(isolated_dirs) / "settings.ini"), QSettings.Format.IniFormat)
        context = standalone_context(parent, settings, scatter=scatter, view=view)
        built.append(context)
        return context

    yield build
    for context in built:
        context.close()
        assert context.jobs.shutdown(20000), "a job thread was still running after the test"
        context.parent.close()
    gc.collect()


@pytest.fixture
def wait_job(qtbot):
    """``wait_job(runner, name, timeout_ms)``: wait for the running job ``name`` to finish; returns its handle."""

    def wait(runner, name: str, timeout: int = 20000):
        handle = runner.handle(name)
        assert handle is not None, f"no job {name!r} is running"
        qtbot.waitUntil(lambda: handle.state != "running", timeout=timeout)
        assert handle.state == "done", f"{name} ended {handle.state}: {handle.error!r}"
        return handle

    return wait
