"""Every model format on a small model the test exports itself, and each way a model can be wrong."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
import torch

from latent_explorer.core.errors import ModelError, UnsafeFileError
from latent_explorer.core.models import load_model
from latent_explorer.core.models.builtin import MLPAE, ConvAE, ConvVAE, build

SOURCE = textwrap.dedent('''
    import torch
    from torch import nn

    class TinyAE(nn.Module):
        def __init__(self, z_dim=3, broken=""):
            super().__init__()
            self.enc = nn.Sequential(nn.Flatten(), nn.Linear(64, z_dim))
            self.dec = nn.Linear(z_dim, 64)
            self.broken = broken

        def encode(self, x):
            z = self.enc(x)
            if self.broken == "tuple":
                return z, z
            return z

        def decode(self, z):
            out = torch.sigmoid(self.dec(z))
            if self.broken == "shape":
                return out[:, :10]
            if self.broken == "nan":
                return out * float("nan")
            return out.view(-1, 1, 8, 8)

    class TinyVAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Flatten(), nn.Linear(64, 4))
            self.dec = nn.Linear(2, 64)

        def encode(self, x):
            h = self.enc(x)
            return h[:, :2], h[:, 2:]

        def decode(self, z):
            return self.dec(z).view(-1, 1, 8, 8)

    class TinyScripted(nn.Module):
        """TorchScript keeps only forward() unless methods are marked with @torch.jit.export."""

        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
            self.dec = nn.Linear(3, 64)

        @torch.jit.export
        def encode(self, x):
            return self.enc(x)

        @torch.jit.export
        def decode(self, z):
            return torch.sigmoid(self.dec(z)).view(-1, 1, 8, 8)

    def build_model(**kwargs):
        return TinyAE(**kwargs)
''')


@pytest.fixture
def user_dir(tmp_path):
    (tmp_path / "my_ae.py").write_text(SOURCE)
    import importlib.util

    spec = importlib.util.spec_from_file_location("my_ae_for_tests", tmp_path / "my_ae.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["my_ae_for_tests"] = module  # so that the pickling tests can pickle its classes
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    return tmp_path, module


def manifest(folder, body: str) -> str:
    (folder / "model.toml").write_text(textwrap.dedent(body))
    return str(folder / "model.toml")


def samples(digits) -> np.ndarray:
    return digits.float_images(slice(0, 2))


def roundtrip(model, digits) -> torch.Tensor:
    x = torch.from_numpy(digits.float_images(slice(0, 5)))
    enc = model.encode(x)
    out = model.decode(enc.z)
    assert out.shape == (5, 1, 8, 8) and float(out.min()) >= 0 and float(out.max()) <= 1
    return enc.z


def test_python_state_dict(user_dir, digits):
    folder, mod = user_dir
    net = mod.build_model(z_dim=3)
    torch.save(net.state_dict(), folder / "ae.pt")
    spec = manifest(folder, '''
        format = "python"
        source = "my_ae.py"
        factory = "build_model"
        kwargs = { z_dim = 3 }
        weights = "ae.pt"
        input_shape = [1, 8, 8]
    ''')
    model = load_model(spec, device="cpu", check_samples=samples(digits), allow_code=True)
    assert model.latent_dim == 3 and not model.is_variational and model.info.format != "pickle"
    z = roundtrip(model, digits)
    with torch.no_grad():
        expected = net.encode(torch.from_numpy(digits.float_images(slice(0, 5))))
    assert torch.allclose(z, expected, atol=1e-6)


def test_python_safetensors_and_vae_logits(user_dir, digits):
    from safetensors.torch import save_file

    folder, mod = user_dir
    net = mod.TinyVAE()
    save_file(net.state_dict(), str(folder / "vae.safetensors"))
    spec = manifest(folder, '''
        format = "python"
        source = "my_ae.py"
        factory = "TinyVAE"
        weights = "vae.safetensors"
        input_shape = [1, 8, 8]
        encoder_output = "mu_logvar"
        decoder_output = "logits"
    ''')
    model = load_model(spec, device="cpu", check_samples=samples(digits), allow_code=True)
    assert model.is_variational and model.latent_dim == 2
    x = torch.from_numpy(digits.float_images(slice(0, 5)))
    enc = model.encode(x)
    assert enc.mu is not None and enc.logvar is not None and not torch.equal(enc.z, enc.mu)
    with torch.no_grad():
        assert torch.allclose(model.decode(enc.mu), torch.sigmoid(net.decode(enc.mu.clone())), atol=1e-6)


def test_torchscript(user_dir, digits):
    folder, mod = user_dir
    torch.jit.save(torch.jit.script(mod.TinyScripted()), str(folder / "ae_script.pt"))
    spec = manifest(folder, '''
        format = "torchscript"
        file = "ae_script.pt"
        input_shape = [1, 8, 8]
    ''')
    model = load_model(spec, device="cpu", check_samples=samples(digits), allow_code=True)
    assert model.info.runs_code and model.latent_dim == 3
    roundtrip(model, digits)


def test_torch_export_dynamic_batch(user_dir, digits):
    folder, mod = user_dir
    net = mod.TinyAE()

    class Enc(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net.encode(x)

    class Dec(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, z):
            return self.net.decode(z)

    batch = torch.export.Dim("batch", min=1, max=4096)
    enc = torch.export.export(Enc(), (torch.rand(4, 1, 8, 8),), dynamic_shapes={"x": {0: batch}})
    dec = torch.export.export(Dec(), (torch.rand(4, 3),), dynamic_shapes={"z": {0: batch}})
    torch.export.save(enc, str(folder / "encoder.pt2"))
    torch.export.save(dec, str(folder / "decoder.pt2"))
    spec = manifest(folder, '''
        format = "torch.export"
        encoder = "encoder.pt2"
        decoder = "decoder.pt2"
        input_shape = [1, 8, 8]
    ''')
    model = load_model(folder, device="cpu", check_samples=samples(digits), allow_code=True)  # the folder of model.toml
    assert model.latent_dim == 3 and model.info.format == "torch.export"
    z = roundtrip(model, digits)
    with torch.no_grad():
        assert torch.allclose(z, net.encode(torch.from_numpy(digits.float_images(slice(0, 5)))), atol=1e-5)
    assert spec.endswith("model.toml")


def test_builtin_checkpoint_and_info(digits_vae, digits):
    model = load_model(digits_vae, device="cpu", check_samples=samples(digits))
    assert model.is_variational and model.latent_dim == 4 and not model.info.runs_code
    roundtrip(model, digits)


def test_full_pickle_refused_unless_allowed(user_dir, digits):
    folder, mod = user_dir
    torch.save(mod.TinyAE(), folder / "whole.pt")
    spec = manifest(folder, '''
        format = "pickle"
        file = "whole.pt"
        input_shape = [1, 8, 8]
    ''')
    with pytest.raises(UnsafeFileError, match="runs code"):
        load_model(spec, device="cpu")
    model = load_model(spec, device="cpu", allow_pickle=True, check_samples=samples(digits))
    roundtrip(model, digits)


def test_pickled_code_where_weights_expected(user_dir):
    folder, mod = user_dir
    torch.save(mod.TinyAE(), folder / "ae.pt")  # a whole module, not a state_dict
    spec = manifest(folder, '''
        format = "python"
        source = "my_ae.py"
        weights = "ae.pt"
        input_shape = [1, 8, 8]
    ''')
    with pytest.raises(UnsafeFileError, match="runs code from .*my_ae.py"):
        load_model(spec, device="cpu")  # the source would run first: consent is asked for it
    with pytest.raises(ModelError, match="pickled code") as err:
        load_model(spec, device="cpu", allow_code=True)
    assert not isinstance(err.value, UnsafeFileError)  # agreeing again would not help: no consent loop


@pytest.mark.parametrize("body, message", [
    ('format = "python"\nsource = "missing.py"\nweights = "w.pt"\ninput_shape = [1, 8, 8]\n', "does not exist"),
    ('format = "onnx"\nfile = "m.onnx"\ninput_shape = [1, 8, 8]\n', "format = 'onnx': expected one of"),
    ('format = "torchscript"\nfile = "m.pt"\n', "input_shape"),
    ('format = "python"\nsource = "my_ae.py\n', "cannot read the manifest"),
])
def test_bad_manifests(user_dir, body, message):
    folder, _ = user_dir
    with pytest.raises(ModelError, match=message):
        load_model(manifest(folder, body), device="cpu", allow_code=True)


def test_state_dict_missing_and_extra_keys(user_dir):
    folder, mod = user_dir
    state = mod.TinyAE().state_dict()
    state.pop("dec.bias")
    state["surprise.weight"] = torch.zeros(1)
    torch.save(state, folder / "ae.pt")
    spec = manifest(folder, 'format = "python"\nsource = "my_ae.py"\nweights = "ae.pt"\ninput_shape = [1, 8, 8]\n')
    with pytest.raises(ModelError, match=r"missing keys dec\.bias.*unexpected keys surprise\.weight"):
        load_model(spec, device="cpu", allow_code=True)


@pytest.mark.parametrize("broken, message", [
    ("shape", "decoder returned shape"),
    ("nan", "NaN"),
    ("tuple", 'encoder_output = "z"'),
])
def test_broken_models_fail_the_check(user_dir, digits, broken, message):
    folder, mod = user_dir
    torch.save(mod.TinyAE().state_dict(), folder / "ae.pt")
    spec = manifest(folder, f'format = "python"\nsource = "my_ae.py"\nweights = "ae.pt"\n'
                            f'kwargs = {{ broken = "{broken}" }}\ninput_shape = [1, 8, 8]\n')
    with pytest.raises(ModelError, match=message) as err:
        load_model(spec, device="cpu", check_samples=samples(digits), allow_code=True)
    assert "model.toml" in str(err.value)


def test_dataset_shape_mismatch(digits_vae, small_images):
    with pytest.raises(ModelError, match=r"takes images of shape \[1, 8, 8\]"):
        load_model(digits_vae, device="cpu", check_samples=small_images.float_images(slice(0, 2)))


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 64, 64), (1, 8, 8), (3, 45, 37)])
def test_builtin_architectures_any_shape(shape):
    x = torch.rand(2, *shape)
    for net in (ConvAE(shape, 5), ConvVAE(shape, 5), MLPAE(shape, 5)):
        z = net.encode(x)
        z = z[0] if isinstance(z, tuple) else z
        assert z.shape == (2, 5)
        assert net.decode(z).shape == (2, *shape)
    with pytest.raises(ValueError, match="unknown architecture"):
        build("gan", shape, 2)


def test_fingerprint_follows_code_and_settings_not_only_weights(user_dir, digits):
    """Same weights, other kwargs or other source code: another model, so another cache key."""
    folder, mod = user_dir
    torch.save(mod.TinyAE().state_dict(), folder / "ae.pt")
    body = 'format = "python"\nsource = "my_ae.py"\nweights = "ae.pt"\ninput_shape = [1, 8, 8]\n'
    first = load_model(manifest(folder, body), device="cpu", allow_code=True).fingerprint()
    assert load_model(manifest(folder, body), device="cpu", allow_code=True).fingerprint() == first
    second = load_model(manifest(folder, body + 'kwargs = { broken = "" }\n'), device="cpu",
                        allow_code=True).fingerprint()
    (folder / "my_ae.py").write_text(SOURCE.replace("torch.sigmoid(self.dec(z))", "torch.sigmoid(2 * self.dec(z))"))
    third = load_model(manifest(folder, body), device="cpu", allow_code=True).fingerprint()
    assert len({first, second, third}) == 3


def test_channels_last_decoder_output_is_permuted():
    from latent_explorer.core.models.base import ModelInfo, TorchLatentModel

    image = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5) / 200.0  # (B, C, H, W)
    model = TorchLatentModel(lambda x: x.flatten(1)[:, :2], lambda z: image.permute(0, 2, 3, 1),
                             input_shape=(3, 4, 5), name="nhwc", device="cpu",
                             info=ModelInfo("test", "python", "test", False, 0))
    assert torch.equal(model.decode(torch.zeros(2, 2)), image)
    wrong = TorchLatentModel(lambda x: x, lambda z: torch.zeros(2, 5, 3, 4), input_shape=(3, 4, 5), name="bad",
                             device="cpu", info=ModelInfo("test", "python", "test", False, 0))
    with pytest.raises(ModelError, match="decoder returned shape"):
        wrong.decode(torch.zeros(2, 2))
