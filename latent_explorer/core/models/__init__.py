"""Models: the `LatentModel` interface, built-in architectures, checkpoints and the user's own formats."""

from __future__ import annotations

from pathlib import Path

from latent_explorer.core.errors import ModelError
from latent_explorer.core.models.base import (
    Encoding,
    LatentModel,
    ModelInfo,
    TorchLatentModel,
    pick_device,
)
from latent_explorer.resource_files import resource_path

__all__ = ["Encoding", "LatentModel", "ModelInfo", "TorchLatentModel", "pick_device", "load_model",
           "model_code_artifact", "demo_models", "demo_path"]


def demo_root() -> Path:
    return resource_path("demo")


def demo_models() -> list[str]:
    root = demo_root()
    return sorted(p.name for p in root.iterdir() if (p / "config.json").exists()) if root.exists() else []


def demo_path(name: str) -> Path:
    path = demo_root() / name
    if not (path / "config.json").exists():
        raise ModelError(f"no built-in demo model '{name}'", hint=f"choose from: {', '.join(demo_models())}")
    return path


def default_demo_for(dataset_name: str) -> str:
    return "fashion-conv-vae" if dataset_name.startswith("fashion") else "digits-conv-vae"


def model_code_artifact(spec: str | Path):
    """What loading ``spec`` would run (a `core.consent.CodeArtifact`), or None for models that run no code.

    Reads only the manifest and hashes the files it names; nothing is imported or unpickled.
    """
    from latent_explorer.core.models.checkpoint import is_checkpoint
    from latent_explorer.core.models.user import code_artifact

    text = str(spec)
    if text.startswith("demo:"):
        return None
    path = Path(text).expanduser()
    if path.is_dir() and not is_checkpoint(path) and (path / "model.toml").exists():
        return code_artifact(path / "model.toml")
    if path.suffix == ".toml" and path.exists():
        return code_artifact(path)
    return None


def load_model(spec: str | Path, device: str | None = None, allow_pickle: bool = False,
               check_samples=None, allow_code: bool = False) -> TorchLatentModel:
    """Load ``demo:NAME``, a checkpoint folder, or a ``model.toml`` (or the folder holding one).

    A ``model.toml`` model runs code (Python, TorchScript, ``.pt2``, pickle): it loads only when ``allow_code``
    (``allow_pickle`` is the older name of the same consent) is given or the process's `core.consent` policy
    agrees; otherwise a `CodeNotAllowedError` (an `UnsafeFileError`) names the files that would run.
    The model is checked on two samples (``check_samples``, else random inputs) before it is returned.
    """
    from latent_explorer.core.models.checkpoint import is_checkpoint, load_checkpoint
    from latent_explorer.core.models.user import load_manifest

    text = str(spec)
    if text.startswith("demo:"):
        model = load_checkpoint(demo_path(text[5:]), device=device)
    else:
        path = Path(text).expanduser()
        if not path.exists():
            raise ModelError("no such file or folder", path=path,
                             hint="name demo:NAME, a checkpoint folder or a model.toml")
        if path.is_dir() and is_checkpoint(path):
            model = load_checkpoint(path, device=device)
        elif path.is_dir() and (path / "model.toml").exists():
            model = load_manifest(path / "model.toml", device=device, allow_code=allow_code or allow_pickle)
        elif path.suffix == ".toml":
            model = load_manifest(path, device=device, allow_code=allow_code or allow_pickle)
        elif path.suffix in (".pt", ".pth", ".pt2", ".ckpt", ".safetensors"):
            raise ModelError("a bare weights or program file needs a model.toml manifest beside it", path=path,
                             hint="write model.toml with format, input_shape and the file names (see README)")
        else:
            raise ModelError("not a model: expected a checkpoint folder or a model.toml", path=path)
    model.check(check_samples)
    return model
