"""The user's own models, described by a ``model.toml`` manifest beside their files.

Formats — every one of them runs code when loaded, so none is loaded before `core.consent` agreed:
- ``torch.export``: ``encoder = "encoder.pt2"``, ``decoder = "decoder.pt2"`` (ExportedPrograms).
- ``torchscript``: ``file = "ae.pt"``, a scripted module with ``encode`` and ``decode`` methods.
- ``python``: ``source = "my_ae.py"``, ``factory = "build_model"``, ``kwargs = {...}``,
  ``weights = "ae.pt" | "ae.safetensors"`` (``torch.load(weights_only=True)``).
- ``pickle``: ``file = "model.pt"``, a whole pickled module.
Common keys: ``input_shape = [C, H, W]``, ``input_range``, ``encoder_output``, ``decoder_output``,
``encode_method``/``decode_method`` (default "encode"/"decode"), ``name``, ``class_names``; the schema is
`core.models.schema`, checked before any file is opened.
"""

from __future__ import annotations

import hashlib
import importlib.util
import pickle
import sys
from pathlib import Path
from typing import Any

import torch

from latent_explorer.core.consent import CodeArtifact, CodePolicy, current_policy
from latent_explorer.core.errors import ModelError
from latent_explorer.core.models.base import ModelInfo, TorchLatentModel
from latent_explorer.core.models.checkpoint import load_state_checked
from latent_explorer.core.models.containment import user_code
from latent_explorer.core.models.schema import FORMAT_FILES, MODEL_FORMATS, validate_manifest
from latent_explorer.core.safe_files import read_text_capped, regular_file

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

FORMATS = MODEL_FORMATS
RUNS_CODE = {fmt: True for fmt in MODEL_FORMATS}
CODE_KEYS = {"torch.export": ("encoder", "decoder"), "torchscript": ("file",), "pickle": ("file",),
             "python": ("source",)}  # the files that execute; a python model's weights are only read


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest's keys, typed and checked (`core.models.schema`); nothing it names is opened yet."""
    path = Path(path)
    text = read_text_capped(path, "model.toml manifest", ModelError)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"cannot read the manifest ({exc})", path=path,
                         hint="model.toml must be TOML: key = value lines, strings in quotes") from exc
    return validate_manifest(data, path)


def _file(manifest: Path, data: dict[str, Any], key: str) -> Path:
    if data.get(key) is None:
        raise ModelError(f"the manifest has no '{key}' key, which format '{data['format']}' needs", path=manifest)
    p = (manifest.parent / str(data[key])).resolve()
    if not p.exists():
        raise ModelError(f"{key} = \"{data[key]}\" names a file that does not exist ({p})", path=manifest,
                         hint="paths in model.toml are relative to the manifest's folder")
    return regular_file(p, f"file named by {key}", ModelError)


def code_artifact(path: str | Path, data: dict[str, Any] | None = None) -> CodeArtifact:
    """What loading this manifest would run, and the content hash its consent is remembered by."""
    path = Path(path)
    data = data if data is not None else read_manifest(path)
    files = {key: _file(path, data, key) for key in FORMAT_FILES[data["format"]]}
    return CodeArtifact(format=data["format"], source=path,
                        code_files=tuple(files[k] for k in CODE_KEYS[data["format"]]),
                        content_hash=_content_hash(path, list(files.values())))


def load_manifest(path: str | Path, device: str | None = None, allow_pickle: bool = False,
                  allow_code: bool = False, policy: CodePolicy | None = None) -> TorchLatentModel:
    """Load a user model once the code policy agreed (``allow_code``/``allow_pickle``: the user just did)."""
    path = Path(path)
    data = read_manifest(path)
    fmt = data["format"]
    artifact = code_artifact(path, data)
    (policy or current_policy()).require(artifact, explicit=allow_code or allow_pickle)
    enc_name, dec_name = data["encode_method"], data["decode_method"]
    modules: list[Any] = []
    if fmt == "torch.export":
        enc_file, dec_file = _file(path, data, "encoder"), _file(path, data, "decoder")
        with user_code("loading the torch.export programs", enc_file):
            encoder, decoder = _load_exported(enc_file), _load_exported(dec_file)
        modules = [encoder, decoder]
        encode, decode = encoder, decoder
        params = sum(p.numel() for m in modules for p in m.parameters())
    elif fmt in ("torchscript", "pickle"):
        file = _file(path, data, "file")
        with user_code(f"loading the {fmt} model", file):
            model = _load_scripted(file) if fmt == "torchscript" else _load_pickled(file)
        encode, decode = _methods(model, enc_name, dec_name, file)
        modules = [model]
        params = sum(p.numel() for p in model.parameters())
    else:
        source = _file(path, data, "source")
        model = _build_python(source, data["factory"], data["kwargs"])
        weights = _file(path, data, "weights")
        load_state_checked(model, _load_weights(weights), weights)
        encode, decode = _methods(model, enc_name, dec_name, source)
        modules = [model]
        params = sum(p.numel() for p in model.parameters())
    info = ModelInfo(kind=f"user model ({fmt})", format=fmt, source=str(path), runs_code=RUNS_CODE[fmt],
                     parameters=int(params), extra={"class_names": data.get("class_names")},
                     content_hash=artifact.content_hash)
    return TorchLatentModel(encode, decode, input_shape=data["input_shape"], name=data["name"] or path.parent.name,
                            info=info, encoder_output=data["encoder_output"], decoder_output=data["decoder_output"],
                            input_range=data["input_range"], modules=modules, device=device)


def _content_hash(manifest: Path, files: list[Path]) -> str:
    """Hash of the manifest's text and of every file it names (source code, programs, weights), streamed."""
    h = hashlib.blake2b(digest_size=16)
    for file in (manifest, *files):
        h.update(str(file.stat().st_size).encode() + b"\0")
        with open(file, "rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                h.update(chunk)
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


def _load_pickled(file: Path) -> torch.nn.Module:
    """A whole pickled module; only called once the code policy agreed."""
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
        with user_code("importing the model's source", source):
            spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001
        sys.modules.pop(name, None)
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"importing the model's source failed ({type(exc).__name__}: {exc})", path=source) from exc
    fn = getattr(module, factory, None)
    if not callable(fn):
        raise ModelError(f"the file defines no callable '{factory}'", path=source,
                         hint="set factory = \"<function or class that builds the model>\" in model.toml")
    try:
        with user_code(f"building the model with {factory}()", source):
            model = fn(**kwargs)
    except ModelError:
        raise
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
        # a ModelError, not an UnsafeFileError: agreeing to run the source does not make this file a state_dict
        raise ModelError("this file holds pickled code, not only weights; it was not loaded", path=file,
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
