"""The window asks before any model code runs: when a model is opened, and when a session names such a model."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtWidgets import QMessageBox

SOURCE = '''
import pathlib
import torch
from torch import nn

pathlib.Path(__file__).with_name("imported").write_text("x")

class AE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
        self.dec = nn.Linear(2, 64)

    def encode(self, x):
        return self.enc(x)

    def decode(self, z):
        return torch.sigmoid(self.dec(z)).view(-1, 1, 8, 8)

def build_model():
    return AE()
'''


def _python_model(folder):
    folder.mkdir()
    (folder / "ae.py").write_text(SOURCE)
    enc, dec = torch.nn.Linear(64, 2), torch.nn.Linear(2, 64)
    torch.save({"enc.1.weight": enc.weight.detach(), "enc.1.bias": enc.bias.detach(),
                "dec.weight": dec.weight.detach(), "dec.bias": dec.bias.detach()}, folder / "w.pt")
    (folder / "model.toml").write_text('format = "python"\nsource = "ae.py"\nweights = "w.pt"\n'
                                       'input_shape = [1, 8, 8]\n')
    return folder / "model.toml"


def _data(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((6, 8, 8), np.uint8), y=np.arange(6) % 2)
    return path


def test_session_naming_a_code_model_asks_first(main_window, qtbot, tmp_path):
    from latent_explorer.core.session import Session, SourceRef, write_session

    manifest = _python_model(tmp_path / "m")
    session = write_session(tmp_path / "s.lxs", Session(dataset=SourceRef(str(_data(tmp_path))),
                                                        model=SourceRef(str(manifest))))
    manager = main_window.context.session
    asked = []
    main_window.sources.consent = lambda parent, exc: asked.append(exc) or False
    manager._message = lambda *args, **kwargs: None  # the problem report; its text is checked below
    assert manager.open_session(session)
    qtbot.waitUntil(lambda: bool(asked) and not main_window.runner.is_running()
                    and main_window.state.dataset is not None, timeout=60000)
    assert [str(f) for f in asked[0].code_files] == [str(tmp_path / "m" / "ae.py")]
    assert main_window.state.model is None and not (tmp_path / "m" / "imported").exists()
    assert any("ae.py" in p for p in manager.restore_problems)

    main_window.sources.consent = lambda parent, exc: True
    assert manager.open_session(session)
    qtbot.waitUntil(lambda: main_window.state.codes is not None, timeout=60000)
    assert (tmp_path / "m" / "imported").exists()
    (tmp_path / "m" / "imported").unlink()
    main_window.sources.consent = lambda parent, exc: asked.append("again") or False  # remembered: not asked again
    assert manager.open_session(session)
    qtbot.waitUntil(lambda: not main_window.runner.is_running() and main_window.state.model is not None,
                    timeout=60000)
    assert "again" not in asked


def test_opening_a_code_model_uses_the_consent_dialog(main_window, qtbot, tmp_path, monkeypatch):
    manifest = _python_model(tmp_path / "m")
    questions = []

    def answer(parent, title, text, *args, **kwargs):
        questions.append((title, text))
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "warning", answer)
    main_window.open_model(str(manifest))
    qtbot.waitUntil(lambda: main_window.state.model is not None, timeout=60000)
    qtbot.waitUntil(lambda: not main_window.runner.is_running(), timeout=60000)
    [(title, text)] = questions
    assert title == "Run code from this model?" and "ae.py" in text
