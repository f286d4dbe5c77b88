"""Help ▸ About: versions, the log file and the plugins (a broken one with its error), without the window."""

from __future__ import annotations

import importlib.metadata as metadata

import torch
from PySide6.QtCore import qVersion

from latent_explorer import __version__
from latent_explorer.core import logs
from latent_explorer.core.plugins import GROUP, load_plugins
from latent_explorer.qt.features import about
from latent_explorer.qt.features.about import dialog as about_dialog


def fake_plugins(reload: bool = False):
    entry_points = [metadata.EntryPoint("counter", "builtins:id", GROUP),
                    metadata.EntryPoint("broken", "no_such_module_here:register", GROUP)]
    return load_plugins(entry_points)[1]


def open_about(context, qtbot):
    (action,) = [a for a in context.menus.entries("help.about") if "About" in a.text()]
    action.trigger()
    dialog = context.parent.findChild(about_dialog.AboutDialog)
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_about_lists_versions_log_and_plugins(feature_context, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(about_dialog, "list_plugins", fake_plugins)
    logs.stop_logging()
    path = logs.configure_logging(tmp_path / "log" / "latent-explorer.log")
    try:
        context = feature_context()
        about.install(context)
        dialog = open_about(context, qtbot)
        plain = dialog.text.toPlainText().replace("\xa0", " ")
        assert f"Latent Explorer {__version__}" in plain
        facts = dialog.facts
        assert facts.qt == qVersion() and ("torch", metadata.version("torch")) in facts.components
        assert facts.python.startswith("3.") and facts.log == str(path)
        for shown in (qVersion(), metadata.version("torch"), str(path), facts.python):
            assert shown in plain
        assert torch.__version__.startswith(metadata.version("torch").split("+")[0])
        assert dialog.open_log_button.isEnabled()
        assert "counter (? ?): adds nothing" in plain
        assert "broken" in plain and "skipped: ModuleNotFoundError" in plain and "no_such_module_here" in plain
        assert [p.name for p in facts.plugins] == ["broken", "counter"] and not facts.plugins[0].ok
        assert "plugins:\n  broken (? ?): skipped, ModuleNotFoundError" in facts.as_text()
        dialog.close()
        assert open_about(context, qtbot) is dialog  # one dialog, its facts gathered again
    finally:
        logs.stop_logging()


def test_about_without_a_log_file_says_where_it_would_be(feature_context, qtbot, monkeypatch):
    monkeypatch.setattr(about_dialog, "list_plugins", lambda reload=False: [])
    logs.stop_logging()
    context = feature_context()
    about.install(context)
    dialog = open_about(context, qtbot)
    plain = dialog.text.toPlainText().replace("\xa0", " ")
    assert f"logs to {logs.default_log_path()}" in plain and not dialog.open_log_button.isEnabled()
    assert "None installed" in plain and "latent_explorer.plugins" in plain
