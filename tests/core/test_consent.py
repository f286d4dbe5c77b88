"""One policy decides whether a model may run code; consent is remembered per content hash and can be revoked."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch

from latent_explorer.core.consent import (
    CodePolicy,
    ConsentStore,
    command_line_policy,
    current_policy,
    install_policy,
)
from latent_explorer.core.errors import CodeNotAllowedError, UnsafeFileError
from latent_explorer.core.models import load_model, model_code_artifact

SOURCE = textwrap.dedent('''
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
''')


@pytest.fixture
def manifest(tmp_path) -> Path:
    (tmp_path / "ae.py").write_text(SOURCE)
    enc, dec = torch.nn.Linear(64, 2), torch.nn.Linear(2, 64)
    torch.save({"enc.1.weight": enc.weight.detach(), "enc.1.bias": enc.bias.detach(),
                "dec.weight": dec.weight.detach(), "dec.bias": dec.bias.detach()}, tmp_path / "w.pt")
    path = tmp_path / "model.toml"
    path.write_text('format = "python"\nsource = "ae.py"\nweights = "w.pt"\ninput_shape = [1, 8, 8]\n')
    return path


def test_refused_without_consent_naming_the_file(manifest):
    with pytest.raises(CodeNotAllowedError) as err:
        load_model(manifest, device="cpu")
    assert isinstance(err.value, UnsafeFileError)  # the window's existing consent dialog catches this type
    assert err.value.code_files == (str(manifest.parent / "ae.py"),)
    assert "ae.py" in str(err.value) and not (manifest.parent / "imported").exists()


def test_window_policy_remembers_consent_for_this_content_only(manifest):
    load_model(manifest, device="cpu", allow_pickle=True)  # the window's retry after the user said Yes
    assert (manifest.parent / "imported").exists()
    load_model(manifest, device="cpu")  # same content: no second question
    (manifest.parent / "ae.py").write_text(SOURCE + "\n# changed\n")
    with pytest.raises(CodeNotAllowedError):
        load_model(manifest, device="cpu")  # edited source: asks again


def test_revoke_by_file_and_all(manifest, tmp_path):
    store = ConsentStore(tmp_path / "consent.json")
    policy = CodePolicy(store=store)
    artifact = model_code_artifact(manifest)
    policy.require(artifact, explicit=True)
    assert store.is_granted(artifact.content_hash) and store.grants()[0].files == (str(manifest.parent / "ae.py"),)
    assert store.revoke(str(manifest.parent / "ae.py")) == 1
    with pytest.raises(CodeNotAllowedError):
        policy.require(artifact)
    policy.require(artifact, explicit=True)
    assert store.revoke_all() == 1 and not store.is_granted(artifact.content_hash)


def test_command_line_policy_neither_recalls_nor_remembers(manifest):
    load_model(manifest, device="cpu", allow_pickle=True)  # remembered by the window's policy
    previous = install_policy(command_line_policy(False))
    try:
        with pytest.raises(CodeNotAllowedError, match="--allow-code"):
            load_model(manifest, device="cpu")
    finally:
        install_policy(previous)
    assert current_policy() is previous or previous is None


def test_damaged_consent_file_means_no_consent(manifest, tmp_path):
    path = tmp_path / "consent.json"
    path.write_bytes(b"\xff\x00 not json")
    store = ConsentStore(path)
    assert store.grants() == []
    with pytest.raises(CodeNotAllowedError):
        CodePolicy(store=store).require(model_code_artifact(manifest))


def test_builtin_checkpoints_run_no_code():
    from latent_explorer.core.models import demo_path

    folder = demo_path("digits-conv-ae")
    assert model_code_artifact(folder) is None and model_code_artifact("demo:digits-conv-ae") is None
    previous = install_policy(command_line_policy(False))
    try:
        load_model(folder, device="cpu")  # never asks, not even on the command line
    finally:
        install_policy(previous)
