"""File ▸ Report… in the window: the same report as the command, for the current model and the compared one,
in a worker with progress and Cancel, and the dialog says where it went."""

from __future__ import annotations

import re

import pytest
from PySide6.QtWidgets import QFileDialog

from latent_explorer.core.encoding import iter_encode_cached
from latent_explorer.core.jobs import run_job
from latent_explorer.core.model_report import ReportSettings
from latent_explorer.core.models import load_model

FAST = ReportSettings(kmeans_ks=(2, 4), kmeans_seeds=(0,))


@pytest.fixture(scope="module")
def ae():
    return load_model("demo:digits-conv-ae", device="cpu")


def loaded(window, digits, model) -> None:
    window.state.dataset = digits
    window.state.model = model
    window.state.codes = run_job(iter_encode_cached(model, digits, use_cache=False))


def report_action(window):
    return next(a for a in window.context.menus.entries("file.export") if a.text() == "Report…")


def test_file_report_writes_the_html_of_the_current_and_the_compared_model(main_window, qtbot, digits, ae,
                                                                           tmp_path, monkeypatch):
    loaded(main_window, digits, ae)
    comparer = main_window.context.compare
    comparer.compare_with("demo:digits-conv-vae")
    qtbot.waitUntil(lambda: comparer.second_model() is not None, timeout=120000)
    out = tmp_path / "window-report.html"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    monkeypatch.setattr("latent_explorer.qt.features.report.dialog.ReportSettings", lambda: FAST)
    report_action(main_window).trigger()
    handle = main_window.runner.handle("report")
    assert handle is not None
    qtbot.waitUntil(lambda: handle.state != "running", timeout=240000)
    assert handle.state == "done", handle.error
    html = out.read_text(encoding="utf-8")
    assert "demo:digits-conv-vae" in html and "Structure: filaments and voids" in html
    assert "File ▸ Report in the window" in html
    tables = sorted(p.name for p in (tmp_path / "window-report-tables").iterdir())
    assert "A-structure.csv" in tables and "B-structure.csv" in tables
    message = _dialog(main_window).message.text()
    assert str(out) in message and re.search(r"written in \d+ s", message)


def test_report_cancel_writes_nothing(main_window, qtbot, digits, ae, tmp_path, monkeypatch):
    loaded(main_window, digits, ae)
    out = tmp_path / "cancelled.html"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    report_action(main_window).trigger()
    handle = main_window.runner.handle("report")
    _dialog(main_window).cancel_button.click()
    qtbot.waitUntil(lambda: handle.state != "running", timeout=20000)
    qtbot.waitUntil(lambda: not handle.thread_alive(), timeout=60000)
    assert handle.state in ("cancelled", "abandoned")
    assert not out.exists()
    assert "cancelled" in _dialog(main_window).message.text()


def test_report_without_codes_says_so(main_window, monkeypatch):
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: asked.append(1) or ("", "")))
    report_action(main_window).trigger()
    assert not asked and main_window.runner.handle("report") is None


def _dialog(window):
    from latent_explorer.qt.features.report.dialog import ReportDialog

    dialogs = window.findChildren(ReportDialog)
    assert len(dialogs) == 1
    return dialogs[0]
