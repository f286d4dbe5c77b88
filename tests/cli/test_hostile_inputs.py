"""Careless and hostile input on the command line: each case exits 2 with a message that names the file (or the
option) and the fix, prints no traceback, leaves no output file, keeps the input unchanged and runs no code
that was not allowed (a marker file would appear).

Runs in-process through ``main()``; the memory bombs live in tests/core/test_hostile_files.py, in a subprocess
under an address-space limit.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from latent_explorer.cli import main

TINY_SOURCE = '''
import pathlib
import torch
from torch import nn

pathlib.Path({marker!r}).write_text("imported")
{extra}

class TinyAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
        self.dec = nn.Linear(3, 64)

    def encode(self, x):
        {encode_extra}
        return self.enc(x)

    def decode(self, z):
        return torch.sigmoid(self.dec(z)).view(-1, 1, 8, 8)

def build_model():
    {factory_extra}
    return TinyAE()
'''


def _tiny_weights() -> dict[str, torch.Tensor]:
    """The state_dict of TINY_SOURCE's TinyAE, built here so that the source itself never runs in the test."""
    torch.manual_seed(0)
    enc, dec = torch.nn.Linear(64, 3), torch.nn.Linear(3, 64)
    return {"enc.1.weight": enc.weight.detach(), "enc.1.bias": enc.bias.detach(),
            "dec.weight": dec.weight.detach(), "dec.bias": dec.bias.detach()}


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return code, err


def digest(path: Path) -> str:
    if path.is_dir():
        return "|".join(f"{p.relative_to(path)}:{digest(p)}" for p in sorted(path.rglob("*")) if p.is_file())
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def data(tmp_path) -> Path:
    """A small 8×8 dataset that the digits demo model takes."""
    path = tmp_path / "data.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x=(rng.random((6, 8, 8)) * 255).astype(np.uint8), y=np.array([0, 1, 2, 0, 1, 2]))
    return path


def python_model(folder: Path, marker: Path, extra: str = "", encode_extra: str = "", factory_extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    source = TINY_SOURCE.format(marker=str(marker), extra=extra, encode_extra=encode_extra or "pass",
                                factory_extra=factory_extra or "pass")
    (folder / "tiny.py").write_text(source)
    torch.save(_tiny_weights(), folder / "w.pt")
    (folder / "model.toml").write_text('format = "python"\nsource = "tiny.py"\nweights = "w.pt"\n'
                                       'input_shape = [1, 8, 8]\n')
    return folder / "model.toml"


# ------------------------------------------------------------------------------------------ arguments
BAD_ARGUMENTS = [
    (["encode", "--batch-size", "-5"], "--batch-size: -5 is out of range"),
    (["encode", "--batch-size", "0"], "--batch-size: 0 is out of range"),
    (["encode", "--batch-size", "many"], "'many' is not a batch size"),
    (["encode", "--shape", "0x0"], "--shape: 0x0 is out of range"),
    (["encode", "--shape", "abc"], "'abc' is not HxW"),
    (["encode", "--shape", "100000x100000"], "100000x100000 is out of range"),
    (["encode", "--shape", "-3x4"], "--shape: expected one argument"),
    (["encode", "--device", "tpu9"], "'tpu9' is not a device"),
    (["encode", "--device", "cuda:99"], "cuda:99"),
    (["encode", "--limit", "-1"], "--limit: -1 is out of range"),
    (["encode", "--limit", "0"], "--limit: 0 is out of range"),
    (["encode", "--seed", "-1"], "--seed: -1 is out of range"),
    (["train", "--lr", "nan"], "'nan' is not finite"),
    (["train", "--lr", "-1"], "--lr: -1 is out of range"),
    (["train", "--lr", "0"], "--lr: 0 is out of range"),
    (["train", "--beta", "inf"], "'inf' is not finite"),
    (["train", "--epochs", "0"], "--epochs: 0 is out of range"),
    (["train", "--z-dim", "0"], "--z-dim: 0 is out of range"),
    (["train", "--z-dim", "1000000000"], "--z-dim: 1000000000 is out of range"),
    (["figure", "--size", "0x0"], "--size: 0x0 is out of range"),
    (["figure", "--scale", "nan"], "'nan' is not finite"),
    (["figure", "--width", "-10"], "--width: -10 is out of range"),
    (["figure", "--perplexity", "0"], "--perplexity: 0 is out of range"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_bad_arguments_exit_2_before_anything_runs(tmp_path, capsys, data, argv, message):
    out = tmp_path / ("out.npz" if argv[0] == "encode" else "out.png" if argv[0] == "figure" else "ckpt")
    before = digest(data)
    command, *options = argv
    base = {"encode": ["--model", "demo:digits-conv-ae", "--data", str(data)],
            "train": ["--data", str(data), "--epochs", "1"], "figure": ["--data", str(data)]}[command]
    code, err = run(capsys, command, *base, *options, "--out", str(out))
    assert code == 2
    assert message in err
    assert not out.exists() and digest(data) == before


# --------------------------------------------------------------------------------------------- outputs
def test_encode_out_is_the_data_file(capsys, data):
    before = digest(data)
    code, err = run(capsys, "encode", "--model", "demo:digits-conv-ae", "--data", str(data), "--out", str(data))
    assert code == 2 and "--out names the input --data" in err and "choose another --out" in err
    assert digest(data) == before


def test_encode_out_is_a_link_to_the_data(tmp_path, capsys, data):
    link = tmp_path / "codes.npz"
    link.symlink_to(data)
    before = digest(data)
    code, err = run(capsys, "encode", "--model", "demo:digits-conv-ae", "--data", str(data), "--out", str(link))
    assert code == 2 and "names the input --data" in err and digest(data) == before


def test_encode_out_is_the_labels_file(tmp_path, capsys):
    images, labels = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(images, np.zeros((4, 8, 8), np.uint8))
    np.save(labels, np.arange(4))
    before = digest(labels)
    code, err = run(capsys, "encode", "--model", "demo:digits-conv-ae", "--data", str(images), "--labels",
                    str(labels), "--out", str(labels))
    assert code == 2 and "names the input --labels" in err and digest(labels) == before


@pytest.mark.parametrize("where", ["under-a-file", "a-folder", "proc", "dev"])
def test_encode_out_cannot_be_written(tmp_path, capsys, data, where):
    out = {"under-a-file": data / "codes.npz", "a-folder": tmp_path, "proc": Path("/proc/codes.npz"),
           "dev": Path("/dev/null")}[where]
    expected = {"under-a-file": "which is a file, not a folder", "a-folder": "is a folder",
                "proc": "inside /proc", "dev": "inside /dev"}[where]
    code, err = run(capsys, "encode", "--model", "demo:digits-conv-ae", "--data", str(data), "--out", str(out))
    assert code == 2 and expected in err and "fix:" in err


def test_train_out_is_the_image_folder(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8), i * 40, np.uint8)).save(folder / f"{i}.png")
    before = digest(folder)
    code, err = run(capsys, "train", "--data", str(folder), "--epochs", "1", "--out", str(folder))
    assert code == 2 and "--out names the input --data" in err and digest(folder) == before


def test_figure_out_is_the_session(tmp_path, capsys):
    session = tmp_path / "s.lxs"
    session.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    before = digest(session)
    code, err = run(capsys, "figure", "--session", str(session), "--out", str(session))
    assert code == 2 and "names the input --session" in err and digest(session) == before


def test_train_resumed_past_its_epochs_says_so(tmp_path, capsys, data):
    out = tmp_path / "ckpt"
    assert run(capsys, "train", "--data", str(data), "--epochs", "1", "--batch-size", "4", "--out", str(out))[0] == 0
    before = digest(out)
    code, err = run(capsys, "train", "--data", str(data), "--epochs", "1", "--resume", "--out", str(out))
    assert code == 2 and "already trained 1 epochs" in err and digest(out) == before


# ------------------------------------------------------------------------------- code without consent
def test_python_model_needs_allow_code(tmp_path, capsys, data):
    marker = tmp_path / "ran"
    manifest = python_model(tmp_path / "m", marker)
    out = tmp_path / "codes.npz"
    code, err = run(capsys, "encode", "--model", str(manifest), "--data", str(data), "--out", str(out))
    assert code == 2 and "runs code from" in err and "tiny.py" in err and "--allow-code" in err
    assert not marker.exists() and not out.exists()
    code, err = run(capsys, "encode", "--model", str(manifest), "--data", str(data), "--out", str(out), "--trust")
    assert code == 0 and marker.exists() and out.exists()  # the same model, with consent: it runs


def test_figure_with_a_python_model_needs_allow_code(tmp_path, capsys, data):
    marker = tmp_path / "ran"
    out = tmp_path / "fig.png"
    code, err = run(capsys, "figure", "--data", str(data), "--model", str(python_model(tmp_path / "m", marker)),
                    "--out", str(out))
    assert code == 2 and "tiny.py" in err and "--allow-code" in err and not marker.exists() and not out.exists()


def test_info_on_a_python_model_needs_allow_code(tmp_path, capsys):
    marker = tmp_path / "ran"
    code, err = run(capsys, "info", str(python_model(tmp_path / "m", marker)))
    assert code == 2 and "tiny.py" in err and not marker.exists()


def test_pickled_model_needs_allow_code(tmp_path, capsys, data):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (Path.write_text, (marker, "unpickled"))

    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "whole.pt").write_bytes(pickle.dumps(Evil()))
    (folder / "model.toml").write_text('format = "pickle"\nfile = "whole.pt"\ninput_shape = [1, 8, 8]\n')
    code, err = run(capsys, "encode", "--model", str(folder), "--data", str(data), "--out", str(tmp_path / "o.npz"))
    assert code == 2 and "whole.pt" in err and "unpickling" in err and not marker.exists()


@pytest.mark.parametrize("fmt", ["torchscript", "torch.export"])
def test_program_formats_need_allow_code(tmp_path, capsys, data, monkeypatch, fmt):
    marker = tmp_path / "ran"

    def spy(*_args, **_kwargs):
        marker.write_text("loaded")
        raise AssertionError("must not be loaded")

    monkeypatch.setattr(torch.jit, "load", spy)
    monkeypatch.setattr(torch.export, "load", spy)
    folder = tmp_path / "m"
    folder.mkdir()
    if fmt == "torchscript":
        (folder / "ae.pt").write_bytes(b"PK\x03\x04 not really")
        body = 'format = "torchscript"\nfile = "ae.pt"\n'
    else:
        (folder / "e.pt2").write_bytes(b"x")
        (folder / "d.pt2").write_bytes(b"x")
        body = 'format = "torch.export"\nencoder = "e.pt2"\ndecoder = "d.pt2"\n'
    (folder / "model.toml").write_text(body + "input_shape = [1, 8, 8]\n")
    code, err = run(capsys, "encode", "--model", str(folder), "--data", str(data), "--out", str(tmp_path / "o.npz"))
    assert code == 2 and "runs code from" in err and ("ae.pt" in err or "e.pt2" in err) and not marker.exists()


def _session_naming(tmp_path: Path, model_spec: str, data: Path) -> Path:
    from latent_explorer.core.session import Session, SourceRef, write_session

    return write_session(tmp_path / "from-a-colleague.lxs",
                         Session(dataset=SourceRef(str(data)), model=SourceRef(model_spec)))


def test_figure_session_naming_python_model_refuses(tmp_path, capsys, data):
    marker = tmp_path / "ran"
    manifest = python_model(tmp_path / "m", marker)
    session = _session_naming(tmp_path, str(manifest), data)
    out = tmp_path / "fig.png"
    code, err = run(capsys, "figure", "--session", str(session), "--out", str(out))
    assert code == 2 and "tiny.py" in err and "--allow-code" in err
    assert not marker.exists() and not out.exists()


def test_figure_session_with_model_override_refuses(tmp_path, capsys, data):
    marker = tmp_path / "ran"
    manifest = python_model(tmp_path / "m", marker)
    session = _session_naming(tmp_path, "demo:digits-conv-ae", data)
    code, err = run(capsys, "figure", "--session", str(session), "--model", str(manifest),
                    "--out", str(tmp_path / "f.png"))
    assert code == 2 and "tiny.py" in err and not marker.exists()


def test_session_reopened_in_core_lists_the_code_it_did_not_run(tmp_path, data):
    from latent_explorer.core.consent import command_line_policy, install_policy
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.session import iter_open_sources, read_session

    marker = tmp_path / "ran"
    session = read_session(_session_naming(tmp_path, str(python_model(tmp_path / "m", marker)), data))
    previous = install_policy(command_line_policy(False))
    try:
        opened = run_job(iter_open_sources(session, encode=False))
    finally:
        install_policy(previous)
    assert opened.model is None and not marker.exists()
    [problem] = opened.problems
    assert problem.code_files and problem.code_files[0].endswith("tiny.py")


# ----------------------------------------------------------------------------------- user code contained
CONTAINED = [
    ("exit-at-import", {"extra": "import sys\nsys.exit(3)"}, {}, "called sys.exit(3)"),
    ("interrupt-at-import", {"extra": "raise KeyboardInterrupt"}, {}, "raised KeyboardInterrupt"),
    ("exit-in-factory", {"factory_extra": "raise SystemExit('bye')"}, {}, "sys.exit('bye')"),
    ("hang-at-import", {"extra": "while True:\n    pass"}, {"LATENT_EXPLORER_CODE_TIMEOUT": "1"},
     "did not finish within 1 s"),
    ("sleep-at-import", {"extra": "import time\ntime.sleep(1000)"}, {"LATENT_EXPLORER_CODE_TIMEOUT": "1"},
     "did not finish within 1 s"),
    ("exit-in-encode", {"encode_extra": "raise SystemExit(0)"}, {}, "called sys.exit(0)"),
]


@pytest.mark.parametrize(("case", "code_parts", "env", "message"), CONTAINED, ids=[c[0] for c in CONTAINED])
def test_user_code_that_exits_interrupts_or_hangs(tmp_path, capsys, monkeypatch, data, case, code_parts, env,
                                                   message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    manifest = python_model(tmp_path / "m", tmp_path / "ran", **code_parts)
    out = tmp_path / "codes.npz"
    code, err = run(capsys, "encode", "--model", str(manifest), "--data", str(data), "--out", str(out),
                    "--allow-code", "--no-cache")
    assert code == 2 and message in err and "fix:" in err
    assert not out.exists()


# ------------------------------------------------------------------------------ bad models and configs
def _checkpoint(tmp_path: Path, **changes) -> Path:
    from latent_explorer.core.models import demo_path

    folder = tmp_path / "ckpt"
    folder.mkdir()
    config = json.loads((demo_path("digits-conv-ae") / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "weights.safetensors").write_bytes((demo_path("digits-conv-ae") / "weights.safetensors").read_bytes())
    return folder


BAD_CONFIGS = [
    ({"z_dim": 1e9}, "z_dim = 1000000000.0: expected a whole number from 1 to 65,536"),
    ({"z_dim": 10**9}, "z_dim = 1000000000: expected a whole number"),
    ({"z_dim": True}, "z_dim = True"),
    ({"input_shape": [1, -8, 8]}, "input_shape = [1, -8, 8]: expected [C, H, W]"),
    ({"input_shape": "abc"}, "input_shape = 'abc'"),
    ({"input_shape": [1, 8]}, "input_shape = [1, 8]"),
    ({"history": [{"epoch": 1}]}, "history = [{'epoch': 1}]: expected a list of rows, each with a finite number"),
    ({"arch": "gan"}, 'arch = \'gan\': expected one of "conv-ae"'),
    ({"lr": float("nan")}, "lr = nan"),
    ({"input_range": "x"}, "input_range = 'x': expected [low, high]"),
    ({"z_dimm": 3}, "unknown key 'z_dimm' (did you mean 'z_dim'?)"),
    ({"format": "something-else"}, "not a Latent Explorer checkpoint config"),
    ({"arch": "mlp-ae", "input_shape": [3, 4096, 4096]}, "more than the memory budget"),
    ({"class_names": "0123456789"}, "class_names = '0123456789': expected a list of strings"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_CONFIGS, ids=[next(iter(c)) + str(i)
                                                                  for i, (c, _) in enumerate(BAD_CONFIGS)])
def test_bad_config_json(tmp_path, capsys, changes, message):
    folder = _checkpoint(tmp_path, **changes)
    code, err = run(capsys, "info", str(folder))
    assert code == 2 and message in err and "config.json" in err and "fix:" in err


@pytest.mark.parametrize("content", [b"[1, 2, 3]", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", b"", b"{\"format\": "])
def test_config_json_not_a_config(tmp_path, capsys, content):
    folder = _checkpoint(tmp_path)
    (folder / "config.json").write_bytes(content)
    code, err = run(capsys, "info", str(folder))
    assert code == 2 and "config.json" in err


def test_config_json_missing_key(tmp_path, capsys):
    folder = _checkpoint(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    del config["arch"]
    (folder / "config.json").write_text(json.dumps(config))
    code, err = run(capsys, "info", str(folder))
    assert code == 2 and "the key 'arch' is missing" in err


BAD_MANIFESTS = [
    ('input_shape = "abc"', "input_shape = 'abc': expected [C, H, W]"),
    ('input_shape = [1, 8, 8]\ninput_range = "x"', "input_range = 'x': expected [low, high]"),
    ('input_shape = [1, 8, 8]\nencode_method = 5', "encode_method = 5: expected a Python name"),
    ('input_shape = [1, 0, 8]', "input_shape = [1, 0, 8]"),
    ('input_shape = [1, 8, 8]\ninput_shap = [1, 8, 8]', "unknown key 'input_shap' (did you mean 'input_shape'?)"),
    ('input_shape = [1, 8, 8]\nencoder_output = "weird"', "encoder_output = 'weird'"),
    ('input_shape = [1, 8, 8]\nkwargs = 5', "kwargs = 5: expected a table"),
    ('', "the key 'input_shape' is missing"),
    ('input_shape = [1, 8, 8]\ninput_range = [1, 0]', "input_range = [1, 0]"),
]


@pytest.mark.parametrize(("body", "message"), BAD_MANIFESTS, ids=[m.split(":")[0][:30] for _, m in BAD_MANIFESTS])
def test_bad_model_toml_is_refused_before_any_code_runs(tmp_path, capsys, body, message):
    marker = tmp_path / "ran"
    manifest = python_model(tmp_path / "m", marker)
    manifest.write_text('format = "python"\nsource = "tiny.py"\nweights = "w.pt"\n' + body + "\n")
    code, err = run(capsys, "info", str(manifest), "--allow-code")
    assert code == 2 and message in err and "model.toml" in err and not marker.exists()


def test_binary_model_toml(tmp_path, capsys):
    manifest = tmp_path / "model.toml"
    manifest.write_bytes(os.urandom(64) + b"\xff\xfe")
    code, err = run(capsys, "info", str(manifest))
    assert code == 2 and "not UTF-8 text" in err and "model.toml" in err


def test_python_weights_holding_pickled_code(tmp_path, capsys):
    marker = tmp_path / "unpickled"

    class Evil:
        def __reduce__(self):
            return (Path.write_text, (marker, "x"))

    manifest = python_model(tmp_path / "m", tmp_path / "imported")
    (tmp_path / "m" / "w.pt").write_bytes(pickle.dumps(Evil()))
    code, err = run(capsys, "info", str(manifest), "--allow-code")
    assert code == 2 and "pickled code" in err and not marker.exists()


# --------------------------------------------------------------------------------------- bad datasets
def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _corrupt_deflate(data: bytes) -> bytes:
    """A gzip whose header is fine and whose first deflate block has the reserved type 3 (a zlib.error)."""
    packed = bytearray(__import__("gzip").compress(data))
    packed[10] = 0xFF  # just after the 10-byte gzip header: BFINAL=1, BTYPE=11
    return bytes(packed)


def _idx(dims: tuple[int, ...], body: bytes) -> bytes:
    return bytes([0, 0, 0x08, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims) + body


BAD_DATA = [
    ("corrupt.idx3-ubyte.gz", lambda: b"\x1f\x8b\x08\x00" + os.urandom(200), "cannot read IDX file"),
    ("bad-deflate.idx3-ubyte.gz", lambda: _corrupt_deflate(_idx((160, 8, 8), bytes(range(256)) * 40)),
     "invalid block type"),
    ("truncated.idx3-ubyte.gz", lambda: __import__("gzip").compress(_idx((10, 8, 8), bytes(640)))[:-30],
     "cannot read IDX file"),
    ("short-images-idx3-ubyte", lambda: _idx((10, 8, 8), bytes(100)), "the header promises 640"),
    ("magic-idx3-ubyte", lambda: b"\x01\x02\x03\x04" + bytes(64), "bad magic number"),
    ("empty.npy", lambda: b"", "not a readable .npy"),
    ("notzip.npz", lambda: b"PK\x03\x04 nope", "cannot read .npz archive"),
    ("random.npz", lambda: os.urandom(300), "cannot read .npz archive"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_DATA, ids=[n for n, _, _ in BAD_DATA])
def test_bad_dataset_files(tmp_path, capsys, name, content, message):
    path = _write(tmp_path / name, content())
    before = digest(path)
    out = tmp_path / "o.npz"
    code, err = run(capsys, "encode", "--model", "demo:digits-conv-ae", "--data", str(path), "--out", str(out))
    assert code == 2 and message in err and name in err and "fix:" in err
    assert not out.exists() and digest(path) == before


def _npy(path: Path, array: np.ndarray) -> Path:
    np.save(path, array)
    return path


ARRAY_CASES = [
    ("n-by-0.npy", lambda p: _npy(p, np.zeros((5, 0), np.uint8)), "a dimension of 0 means no pixels"),
    ("n-0-0.npy", lambda p: _npy(p, np.zeros((5, 0, 0), np.float32)), "a dimension of 0"),
    ("strings.npy", lambda p: _npy(p, np.array([["a", "b"], ["c", "d"]])), "numbers were expected"),
    ("nan.npy", lambda p: _npy(p, np.full((3, 8, 8), np.nan, np.float32)), "NaN or infinite"),
]


@pytest.mark.parametrize(("name", "make", "message"), ARRAY_CASES, ids=[n for n, _, _ in ARRAY_CASES])
def test_bad_arrays(tmp_path, capsys, name, make, message):
    path = make(tmp_path / name)
    code, err = run(capsys, "encode", "--model", "demo:digits-conv-ae", "--data", str(path),
                    "--out", str(tmp_path / "o.npz"))
    assert code == 2 and message in err and name in err


def test_string_labels_become_class_names(tmp_path, capsys):
    path = tmp_path / "named.npz"
    np.savez(path, x=np.zeros((4, 8, 8), np.uint8), y=np.array(["cat", "dog", "cat", "emu"]))
    out = tmp_path / "o.npz"
    code, _ = run(capsys, "encode", "--model", "demo:digits-conv-ae", "--data", str(path), "--out", str(out))
    assert code == 0
    with np.load(out) as codes:
        assert codes["labels"].tolist() == [0, 1, 0, 2]


@pytest.mark.parametrize("option", ["--data", "--labels"])
def test_device_files_refused(tmp_path, capsys, option):
    images = _npy(tmp_path / "x.npy", np.zeros((4, 8, 8), np.uint8))
    args = ["--data", "/dev/zero"] if option == "--data" else ["--data", str(images), "--labels", "/dev/zero"]
    code, err = run(capsys, "encode", "--model", "demo:digits-conv-ae", *args, "--out", str(tmp_path / "o.npz"))
    assert code == 2 and "/dev/zero" in err and "not a regular file" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_cuda(tmp_path, capsys, data):
    code, err = run(capsys, "encode", "--model", "demo:digits-conv-ae", "--data", str(data), "--device", "cuda",
                    "--out", str(tmp_path / "o.npz"))
    assert code == 2 and "this machine has no CUDA device" in err


def test_fifo_in_an_image_folder_is_not_opened(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / "a.png")
    os.mkfifo(folder / "b.png")  # opening it would block forever
    out = tmp_path / "o.npz"
    code, _ = run(capsys, "encode", "--model", "demo:digits-conv-ae", "--data", str(folder), "--out", str(out))
    assert code == 0
    with np.load(out) as codes:
        assert len(codes["z"]) == 1


@pytest.mark.parametrize("option", ["--path", "--layout", "--session", "--labels"])
def test_figure_file_options_refuse_devices(tmp_path, capsys, option):
    (tmp_path / "p.json").write_text("{}")
    extra = {"--path": ["--filmstrip", str(tmp_path / "s.png")],
             "--layout": ["--path", str(tmp_path / "p.json"), "--filmstrip", str(tmp_path / "s.png")]}.get(option, [])
    code, err = run(capsys, "figure", "--data", "digits", *extra, option, "/dev/zero", "--out", str(tmp_path / "f.png"))
    assert code == 2 and "/dev/zero" in err and "not a regular file" in err


def test_trust_lists_and_revokes_the_window_consent(tmp_path, capsys):
    from latent_explorer.core.consent import current_policy
    from latent_explorer.core.models.user import code_artifact

    manifest = python_model(tmp_path / "m", tmp_path / "ran")
    current_policy().require(code_artifact(manifest), explicit=True)  # what the window's Yes does
    code = main(["trust", "--list"])
    listing = capsys.readouterr().out
    assert code == 0 and "tiny.py" in listing and "python" in listing
    code, err = run(capsys, "trust", "--revoke", str(tmp_path / "m" / "tiny.py"))
    assert code == 0 and "revoked 1" in err
    main(["trust", "--list"])
    assert "tiny.py" not in capsys.readouterr().out


def test_fifo_refused(tmp_path, capsys):
    fifo = tmp_path / "images.npy"
    os.mkfifo(fifo)
    code, err = run(capsys, "encode", "--model", "demo:digits-conv-ae", "--data", str(fifo),
                    "--out", str(tmp_path / "o.npz"))
    assert code == 2 and "a pipe, not a regular file" in err


def test_attributes_from_dev_zero(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "faces"
    folder.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / "a.png")
    code, err = run(capsys, "encode", "--model", "demo:digits-conv-ae", "--data", str(folder), "--attributes",
                    "/dev/zero", "--out", str(tmp_path / "o.npz"))
    assert code == 2 and "/dev/zero" in err


def test_object_array_in_npz(tmp_path, capsys):
    marker = tmp_path / "unpickled"

    class Evil:
        def __reduce__(self):
            return (Path.write_text, (marker, "x"))

    obj = np.empty(4, dtype=object)
    obj[:] = [Evil(), 1, 2, 3]
    path = tmp_path / "evil.npz"
    np.savez(path, x=np.zeros((4, 8, 8), np.uint8), y=obj)
    code, err = run(capsys, "encode", "--model", "demo:digits-conv-ae", "--data", str(path),
                    "--out", str(tmp_path / "o.npz"))
    assert code == 2 and "object array" in err and not marker.exists()


def test_session_with_hostile_load_options(tmp_path, capsys, data):
    from latent_explorer.core.session import Session, SourceRef, write_session

    images = _npy(tmp_path / "x.npy", np.zeros((4, 8, 8), np.uint8))  # .npy: the loader that reads --labels
    for options, message in (({"labels": "/dev/zero"}, "/dev/zero"), ({"shape": "abc"}, "shape = 'abc'"),
                             ({"limit": True}, "limit = True"), ({"evil": 1}, "option 'evil' is unknown")):
        session = write_session(tmp_path / "s.lxs", Session(dataset=SourceRef(str(images), options=options),
                                                            model=SourceRef("demo:digits-conv-ae")))
        code, err = run(capsys, "figure", "--session", str(session), "--out", str(tmp_path / "f.png"))
        assert code == 2 and message in err, (options, err)
        assert not (tmp_path / "f.png").exists()


def test_damaged_session(tmp_path, capsys):
    session = _write(tmp_path / "s.lxs", b"PK\x03\x04" + os.urandom(100))
    code, err = run(capsys, "figure", "--session", str(session), "--out", str(tmp_path / "f.png"))
    assert code == 2 and "s.lxs" in err


def test_trust_revoke_unknown(capsys):
    code, err = run(capsys, "trust", "--revoke", "0123")
    assert code == 2 and "no remembered consent" in err


def test_source_of_the_marker_helper_is_valid_python():
    """The template itself must import: otherwise every 'no marker' above would pass for the wrong reason."""
    source = TINY_SOURCE.format(marker="/nonexistent/x", extra="", encode_extra="pass", factory_extra="pass")
    compile(textwrap.dedent(source), "tiny", "exec")
