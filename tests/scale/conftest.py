"""Fixtures for the distributed engine: small inputs and a model that can be told to kill its own worker."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

DYING_MODEL = '''
import os
from pathlib import Path

import torch


class Dying(torch.nn.Module):
    """Encodes 8×8 images linearly; a batch of {rows} rows kills the process ({mode})."""

    def __init__(self):
        super().__init__()
        self.enc = torch.nn.Linear(64, 3)
        self.dec = torch.nn.Linear(3, 64)

    def encode(self, x):
        if x.shape[0] == {rows}:
            marker = Path({marker!r})
            if {always} or not marker.exists():
                marker.write_text("died once")
                os._exit(1)
        return self.enc(x.flatten(1))

    def decode(self, z):
        return torch.sigmoid(self.dec(z)).view(-1, 1, 8, 8)


def build_model():
    torch.manual_seed(0)
    return Dying()
'''


def write_dying_model(folder: Path, rows: int, always: bool) -> Path:
    """A model.toml (Python format) whose encoder kills its process on a batch of ``rows`` rows."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True)
    (folder / "dying.py").write_text(DYING_MODEL.format(rows=rows, marker=str(folder / "died"), always=always,
                                                        mode="always" if always else "once"))
    torch.manual_seed(0)
    module = torch.nn.Module()
    module.enc, module.dec = torch.nn.Linear(64, 3), torch.nn.Linear(3, 64)
    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(folder / "weights.safetensors"))
    (folder / "model.toml").write_text(textwrap.dedent('''\
        format = "python"
        source = "dying.py"
        factory = "build_model"
        weights = "weights.safetensors"
        input_shape = [1, 8, 8]
        encoder_output = "z"
        decoder_output = "probabilities"
        '''))
    return folder / "model.toml"


@pytest.fixture
def digits_npz(tmp_path, digits) -> Path:
    path = tmp_path / "digits300.npz"
    np.savez(path, x=digits.images[:300], y=digits.labels[:300])
    return path


@pytest.fixture
def digit_folder(tmp_path, digits) -> Path:
    """40 8×8 grey PNGs of two digit classes, and one broken file in the second class."""
    root = tmp_path / "folder"
    for cls in (0, 1):
        (root / f"digit{cls}").mkdir(parents=True)
        for k, i in enumerate(np.flatnonzero(digits.labels == cls)[:20]):
            Image.fromarray(digits.images[i, 0]).save(root / f"digit{cls}" / f"{k:03d}.png")
    (root / "digit1" / "005b.png").write_bytes(b"not a png")
    return root


@pytest.fixture
def dying_model():
    """``dying_model(folder, rows=, always=)`` → a model.toml whose encoder kills its worker (see DYING_MODEL)."""
    return write_dying_model
