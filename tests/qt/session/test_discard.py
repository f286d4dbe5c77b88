"""Ask before discarding work: opening a model, dataset or session with unsaved work asks first (QMessageBox
patched to answer), and each answer does what it says."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from latent_explorer.core.datasets import Dataset
from latent_explorer.core.encoding import Codes
from latent_explorer.core.view_state import Layout
from latent_explorer.qt.features import session as session_feature


def small() -> tuple[Dataset, Codes]:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(2), 10)
    dataset = Dataset("small", rng.integers(0, 256, (20, 1, 8, 8), dtype=np.uint8), labels, source="test")
    codes = Codes(z=rng.normal(size=(20, 3)).astype(np.float32), mu=None, logvar=None, labels=labels,
                  recon_error=rng.random(20).astype(np.float32))
    return dataset, codes


class Answer:
    """Stands in for the user: QMessageBox.exec returns ``button``; the question asked is kept."""

    def __init__(self, monkeypatch, button):
        self.button, self.asked = button, []

        def exec_(box):
            self.asked.append((box.windowTitle(), box.text(), [b.text() for b in box.buttons()]))
            return self.button

        monkeypatch.setattr(QMessageBox, "exec", exec_)


@pytest.fixture
def session_context(feature_context, monkeypatch):
    context = feature_context()
    session_feature.install(context)
    manager = context.session
    opened = []
    sources = context.sources
    monkeypatch.setattr(sources, "open_dataset", lambda spec, then_model=None, **kw: opened.append(("data", spec)))
    monkeypatch.setattr(sources, "open_model", lambda spec, **kw: opened.append(("model", spec)))
    monkeypatch.setattr(manager, "open_session", lambda path, *a: opened.append(("session", str(path))) or True)
    dataset, codes = small()
    context.state.dataset, context.state.codes = dataset, codes
    return context, manager, opened


def test_nothing_to_lose_asks_nothing(session_context, monkeypatch):
    context, manager, opened = session_context
    answer = Answer(monkeypatch, QMessageBox.StandardButton.Cancel)
    assert manager.guard.unsaved and manager.guard.work() == []  # loaded and looked at, but nothing made
    context.sources.open_demo("digits-conv-ae")
    assert answer.asked == [] and opened == [("data", "digits")]


def test_cancel_keeps_the_work_and_opens_nothing(session_context, monkeypatch):
    context, manager, opened = session_context
    context.state.select([1, 2, 3])
    context.view.put_layout(Layout("tsne:x", "tsne", np.zeros((20, 2), np.float32), "t-SNE z", "latent"))
    answer = Answer(monkeypatch, QMessageBox.StandardButton.Cancel)
    context.sources.open_demo("digits-conv-ae")
    context.sources.open_recent("model", "/models/other")
    context.sources.open_path("/data/other.npz")
    manager.open_session_asking("/s/other.lxs")
    assert opened == [] and len(answer.asked) == 4
    title, text, buttons = answer.asked[0]
    assert title == "Discard unsaved work?" and "Opening the demo digits-conv-ae" in text
    assert "3 selected samples" in text and "1 t-SNE map" in text
    assert {"Discard and Open", "Save Session First…", "Cancel"} <= set(buttons)
    assert "the session other.lxs" in answer.asked[3][1]
    assert context.state.selection.tolist() == [1, 2, 3]


def test_discard_opens_and_save_first_saves_then_opens(session_context, monkeypatch, tmp_path):
    context, manager, opened = session_context
    context.state.select([4])
    Answer(monkeypatch, QMessageBox.StandardButton.Discard)
    context.sources.open_recent("data", "/data/a.npz")
    assert opened == [("data", "/data/a.npz")]
    saved = []
    monkeypatch.setattr(manager, "ask_save", lambda save_as=False: saved.append(1) or None)  # the user cancels
    Answer(monkeypatch, QMessageBox.StandardButton.Save)
    context.sources.open_recent("data", "/data/b.npz")
    assert saved == [1] and opened == [("data", "/data/a.npz")]  # not saved: nothing opened
    monkeypatch.setattr(manager, "ask_save", lambda save_as=False: manager.save_session(tmp_path / "work"))
    answer = Answer(monkeypatch, QMessageBox.StandardButton.Save)
    context.sources.open_recent("data", "/data/b.npz")
    assert opened[-1] == ("data", "/data/b.npz") and (tmp_path / "work.lxs").exists()
    assert not manager.guard.unsaved  # saved: the next open asks nothing
    context.sources.open_recent("data", "/data/c.npz")
    assert len(answer.asked) == 1 and opened[-1] == ("data", "/data/c.npz")


def test_an_autosave_is_not_a_save(session_context, monkeypatch):
    context, manager, opened = session_context
    context.state.select([0, 5])
    assert manager.autosave() is not None and not manager.dirty
    answer = Answer(monkeypatch, QMessageBox.StandardButton.Cancel)
    context.sources.open_demo("digits-conv-vae")
    assert opened == [] and "2 selected samples" in answer.asked[0][1]
