"""The user's own models, described by a ``model.toml`` manifest beside their files.

Formats (all but "pickle" are loaded without asking; the docs say which can run code):
- ``torch.export``: ``encoder = "encoder.pt2"``, ``decoder = "decoder.pt2"`` (ExportedPrograms).
- ``torchscript``: ``file = "ae.pt"``, a scripted module with ``encode`` and ``decode`` methods.
- ``python``: ``source = "my_ae.py"``, ``factory = "build_model"``, ``kwargs = {...}``,
  ``weights = "ae.pt" | "ae.safetensors"`` (``torch.load(weights_only=True)``).
- ``pickle``: ``file = "model.pt"``, a whole pickled module — refused unless the caller passes
  ``allow_pickle=True`` after the user explicitly agreed, because unpickling runs arbitrary code.
Common keys: ``input_shape = [C, H, W]``, ``input_range``, ``encoder_output``, ``decoder_output``,
``encode_method``/``decode_method`` (default "encode"/"decode"), ``name``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import pickle
import sys
from pathlib import Path
from typing import Any

import torch

from latent_explorer.core.errors import ModelError, UnsafeFileError
from latent_explorer.core.models.base import ModelInfo, TorchLatentModel
from latent_explorer.core.models.checkpoint import load_state_checked

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

FORMATS = ("torch.export", "torchscript", "python", "pickle")
RUNS_CODE = {"torch.export": True, "torchscript": True, "python": True, "pickle": True}


def read_manifest(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"cannot read the manifest ({exc})", path=path) from exc
    fmt = data.get("format")
    if fmt not in FORMATS:
        raise ModelError(f"unknown format '{fmt}'", path=path, hint=f"format = one of {', '.join(FORMATS)}")
    if "input_shape" not in data:
        raise ModelError("the manifest must give input_shape = [C, H, W]", path=path)
    return data


def _file(manifest: Path, data: dict[str, Any], key: str) -> Path:
    if key not in data:
        raise ModelError(f"the manifest has no '{key}' key, which format '{data['format']}' needs", path=manifest)
    p = (manifest.parent / str(data[key])).resolve()
    if not p.exists():
        raise ModelError(f"{key} = \"{data[key]}\" names a file that does not exist ({p})", path=manifest,
                         hint="paths in model.toml are relative to the manifest's folder")
    return p


def load_manifest(path: str | Path, device: str | None = None, allow_pickle: bool = False) -> TorchLatentModel:
    path = Path(path)
    data = read_manifest(path)
    fmt = data["format"]
    enc_name = data.get("encode_method", "encode")
    dec_name = data.get("decode_method", "decode")
    modules: list[Any] = []
    if fmt == "torch.export":
        enc_file, dec_file = _file(path, data, "encoder"), _file(path, data, "decoder")
        encoder, decoder = _load_exported(enc_file), _load_exported(dec_file)
        modules = [encoder, decoder]
        encode, decode = encoder, decoder
        params = sum(p.numel() for m in modules for p in m.parameters())
    elif fmt in ("torchscript", "pickle"):
        file = _file(path, data, "file")
        model = _load_scripted(file) if fmt == "torchscript" else _load_pickled(file, allow_pickle)
        encode, decode = _methods(model, enc_name, dec_name, file)
        modules = [model]
        params = sum(p.numel() for p in model.parameters())
    else:
        source = _file(path, data, "source")
        model = _build_python(source, data.get("factory", "build_model"), data.get("kwargs", {}))
        weights = _file(path, data, "weights")
        load_state_checked(model, _load_weights(weights), weights)
        encode, decode = _methods(model, enc_name, dec_name, source)
        modules = [model]
        params = sum(p.numel() for p in model.parameters())
    info = ModelInfo(kind=f"user model ({fmt})", format=fmt, source=str(path), runs_code=RUNS_CODE[fmt],
                     parameters=int(params), extra={"class_names": data.get("class_names")},
                     content_hash=_content_hash(path, data))
    return TorchLatentModel(encode, decode, input_shape=data["input_shape"], name=data.get("name", path.parent.name),
                            info=info, encoder_output=data.get("encoder_output", "z"),
                            decoder_output=data.get("decoder_output", "probabilities"),
                            input_range=data.get("input_range", (0.0, 1.0)), modules=modules, device=device)


def _content_hash(manifest: Path, data: dict[str, Any]) -> str:
    """Hash of the manifest's text and of every file it names (source code, programs, weights)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(manifest.read_bytes())
    for key in ("source", "file", "encoder", "decoder", "weights"):
        if key in data:
            h.update((manifest.parent / str(data[key])).read_bytes())
    return h.hexdigest()


def _load_exported(file: Path) -> torch.nn.Module:
    try:
        return torch.export.load(str(file)).module()
    except Exception as exc:  # noqa: BLE001 - torch raises many types here
        raise ModelError(f"cannot load the torch.export program ({type(exc).__name__}: {exc})", path=file,
                         hint="save it with torch.export.save(torch.export.export(...), path)") from exc


def _load_scripted(file: Path) -> torch.nn.Module:
    try:
        return torch.jit.load(str(file), map_location="cpu")
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot load the TorchScript module ({type(exc).__name__}: {exc})", path=file,
                         hint="save it with torch.jit.save(torch.jit.script(model), path)") from exc


def _load_pickled(file: Path, allow_pickle: bool) -> torch.nn.Module:
    if not allow_pickle:
        raise UnsafeFileError("this is a whole pickled model: loading it runs code stored in the file",
                              path=file, hint="only if you trust its origin, allow it explicitly "
                                              "(--allow-pickle, or confirm in the dialog); better, save a state_dict")
    try:
        model = torch.load(str(file), map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot unpickle the model ({type(exc).__name__}: {exc})", path=file) from exc
    if not isinstance(model, torch.nn.Module):
        raise ModelError(f"the pickle holds a {type(model).__name__}, not a torch.nn.Module", path=file)
    return model


def _methods(model: Any, enc_name: str, dec_name: str, file: Path) -> tuple[Any, Any]:
    missing = [n for n in (enc_name, dec_name) if not callable(getattr(model, n, None))]
    if missing:
        raise ModelError(f"the model has no method {' or '.join(missing)}", path=file,
                         hint="expose encode() and decode(), or name them with encode_method/decode_method")
    return getattr(model, enc_name), getattr(model, dec_name)


def _build_python(source: Path, factory: str, kwargs: dict[str, Any]) -> torch.nn.Module:
    name = f"latent_explorer_user_{abs(hash(str(source)))}"
    spec = importlib.util.spec_from_file_location(name, source)
    if spec is None or spec.loader is None:
        raise ModelError("cannot import this Python file", path=source)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001
        sys.modules.pop(name, None)
        raise ModelError(f"importing the model's source failed ({type(exc).__name__}: {exc})", path=source) from exc
    fn = getattr(module, factory, None)
    if not callable(fn):
        raise ModelError(f"the file defines no callable '{factory}'", path=source,
                         hint="set factory = \"<function or class that builds the model>\" in model.toml")
    try:
        model = fn(**kwargs)
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"{factory}(**{kwargs}) failed ({type(exc).__name__}: {exc})", path=source) from exc
    if not isinstance(model, torch.nn.Module):
        raise ModelError(f"{factory}() returned a {type(model).__name__}, not a torch.nn.Module", path=source)
    return model


def _load_weights(file: Path) -> dict[str, torch.Tensor]:
    if file.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(file))
        except (SafetensorError, OSError, ValueError) as exc:
            raise ModelError(f"cannot read safetensors weights ({exc})", path=file) from exc
    try:
        state = torch.load(str(file), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UnsafeFileError("this file holds pickled code, not only weights; it was not loaded", path=file,
                              hint="save model.state_dict() instead; or, if you trust it, use format = \"pickle\" "
                                   "and allow it explicitly") from exc
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot read weights ({type(exc).__name__}: {exc})", path=file,
                         hint="the file is truncated or not a torch.save'd state_dict") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError("the weights file does not hold a state_dict (name → tensor)", path=file)
    return state
