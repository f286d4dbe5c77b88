"""Every model load in the window meets one consent flow: menus, recent files, drops and sessions alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

import latent_explorer.qt.sources as sources_module
from latent_explorer.core.errors import UnsafeFileError
from latent_explorer.core.models import load_model


@pytest.fixture
def unsafe_models(monkeypatch):
    """Every model 'runs code' until loaded with allow_pickle=True; the list collects the consent questions."""
    asked: list[str] = []

    def guarded(spec, device="auto", allow_pickle=False, check_samples=None):
        if not allow_pickle:
            raise UnsafeFileError("this is a whole pickled model: loading it runs code stored in the file",
                                  path=str(spec))
        return load_model(spec, device="cpu", check_samples=check_samples)

    monkeypatch.setattr(sources_module, "load_model", guarded)
    return asked


def answer(window, asked: list[str], yes: bool) -> None:
    window.sources.consent = lambda parent, exc: asked.append(str(exc.path)) or yes


def test_a_model_that_runs_code_loads_only_after_consent(main_window, qtbot, digits_vae, unsafe_models):
    window = main_window
    answer(window, unsafe_models, yes=False)
    window.open_dataset("digits")
    qtbot.waitUntil(lambda: window.state.dataset is not None, timeout=20000)
    window.open_model(str(digits_vae))
    qtbot.waitUntil(lambda: not window.runner.is_running(), timeout=20000)
    assert unsafe_models == [str(digits_vae)] and window.state.model is None
    assert window.last_error is None and "would run code" in window.status_label.text()
    answer(window, unsafe_models, yes=True)
    window.sources.open_recent("model", str(digits_vae))  # the recent list takes the same way
    qtbot.waitUntil(lambda: window.state.codes is not None, timeout=60000)
    assert len(unsafe_models) == 2 and window.state.model.latent_dim == 4
    window.open_path(str(digits_vae))  # a drop, too
    qtbot.waitUntil(lambda: len(unsafe_models) == 3, timeout=20000)


def test_a_session_reopens_its_model_through_the_consent_flow(main_window, qtbot, isolated_dirs, digits_vae,
                                                              tmp_path, unsafe_models):
    from latent_explorer.qt.main_window import MainWindow

    window = main_window
    answer(window, [], yes=True)
    window.open_dataset("digits", then_model=str(digits_vae))
    qtbot.waitUntil(lambda: window.state.codes is not None, timeout=60000)
    path = window.context.session.save_session(tmp_path / "work")
    asked = unsafe_models
    other = MainWindow(settings=QSettings(str(Path(isolated_dirs) / "other.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(other)
    answer(other, asked, yes=True)
    assert other.context.session.open_session(path)
    qtbot.waitUntil(lambda: other.state.codes is not None and not other.runner.is_running(), timeout=60000)
    assert asked == [str(digits_vae)] and other.state.model.latent_dim == 4
    assert other.context.session.restore_problems == []
    declined = MainWindow(settings=QSettings(str(Path(isolated_dirs) / "no.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(declined)
    answer(declined, asked, yes=False)
    declined.context.session.open_session(path)
    qtbot.waitUntil(lambda: declined.state.dataset is not None and not declined.runner.is_running(), timeout=60000)
    assert declined.state.model is None and len(asked) == 2
    assert any("runs code" in p for p in declined.context.session.restore_problems)
    for extra in (other, declined):
        assert extra.runner.shutdown(20000)
        extra.close()
