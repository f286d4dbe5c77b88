"""Checkpoint folders of the built-in models: ``config.json`` + ``weights.safetensors``.

Nothing here unpickles: weights and optimizer state are safetensors, the rest is JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from latent_explorer.core.atomic import atomic_path, write_text_atomic
from latent_explorer.core.errors import ModelError
from latent_explorer.core.limits import current_limits
from latent_explorer.core.models import builtin
from latent_explorer.core.models.base import ModelInfo, TorchLatentModel
from latent_explorer.core.models.schema import CHECKPOINT_FORMAT, validate_config
from latent_explorer.core.safe_files import read_text_capped, regular_file

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"


@dataclass
class TrainConfig:
    """Everything needed to rebuild, resume or reproduce a training run."""

    arch: str = "conv-vae"
    z_dim: int = 32
    input_shape: tuple[int, int, int] = (1, 28, 28)
    beta: float = 1.0
    lr: float = 1e-3
    batch_size: int = 128
    epochs: int = 10
    seed: int = 0
    input_range: tuple[float, float] = (0.0, 1.0)
    dataset: dict[str, Any] = field(default_factory=dict)
    class_names: list[str] | None = None
    epochs_done: int = 0
    history: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = CHECKPOINT_FORMAT
        data["version"] = 1
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainConfig:
        """From values already checked by `schema.validate_config` (format and version are dropped)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and v is not None}
        known["input_shape"] = tuple(known.get("input_shape", (1, 28, 28)))
        known["input_range"] = tuple(known.get("input_range", (0.0, 1.0)))
        return cls(**known)


def is_checkpoint(path: str | Path) -> bool:
    path = Path(path)
    return path.is_dir() and (path / CONFIG_FILE).exists() and (path / WEIGHTS_FILE).exists()


def read_config(folder: str | Path) -> TrainConfig:
    """``config.json`` read through a size cap and checked against the schema before anything is built."""
    path = Path(folder) / CONFIG_FILE
    text = read_text_capped(path, CONFIG_FILE, ModelError)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ModelError(f"cannot read {CONFIG_FILE} ({exc})", path=path,
                         hint="a checkpoint folder holds config.json and weights.safetensors") from exc
    if isinstance(data, dict) and data.get("format") != CHECKPOINT_FORMAT:
        raise ModelError(f"{CONFIG_FILE} is not a Latent Explorer checkpoint config (format = "
                         f"{data.get('format')!r})", path=path,
                         hint=f'a checkpoint config has "format": "{CHECKPOINT_FORMAT}"')
    return TrainConfig.from_json(validate_config(data, path))


def save_checkpoint(folder: str | Path, module: torch.nn.Module, config: TrainConfig,
                    optimizer: torch.optim.Optimizer | None = None) -> None:
    """Write weights (and optimizer state) first, config last, each atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / WEIGHTS_FILE) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}, str(tmp))
    if optimizer is not None:
        with atomic_path(folder / OPTIMIZER_FILE) as tmp:
            save_file(_flatten_optimizer(optimizer), str(tmp))
    write_text_atomic(folder / CONFIG_FILE, json.dumps(config.to_json(), indent=2))


def load_module(folder: str | Path) -> tuple[torch.nn.Module, TrainConfig]:
    folder = Path(folder)
    config = read_config(folder)
    module = build_checked(config.arch, config.input_shape, config.z_dim, folder / CONFIG_FILE)
    try:
        state = load_file(str(regular_file(folder / WEIGHTS_FILE, WEIGHTS_FILE, ModelError)))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"cannot read weights ({exc})", path=folder / WEIGHTS_FILE,
                         hint="the file is truncated or corrupt; train again or restore it") from exc
    load_state_checked(module, state, folder / WEIGHTS_FILE)
    return module, config


def build_checked(arch: str, input_shape: tuple[int, int, int], z_dim: int, source: str | Path) -> torch.nn.Module:
    """Build a built-in model after checking, on the meta device (no memory), that its weights fit the budget."""
    with torch.device("meta"):
        probe = builtin.build(arch, tuple(input_shape), z_dim)
    nbytes = 4 * sum(p.numel() for p in probe.parameters())
    current_limits().check_allocation(nbytes, f"a {arch} with z_dim={z_dim} on {list(input_shape)} images", source)
    return builtin.build(arch, tuple(input_shape), z_dim)


def load_state_checked(module: torch.nn.Module, state: dict[str, torch.Tensor], source: str | Path) -> None:
    """load_state_dict with a message that lists what is missing, extra or of the wrong shape."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or extra or wrong:
        parts = []
        if missing:
            parts.append(f"missing keys {_few(missing)}")
        if extra:
            parts.append(f"unexpected keys {_few(extra)}")
        if wrong:
            parts.append("wrong shapes " + _few([f"{k} {tuple(state[k].shape)}≠{tuple(own[k].shape)}" for k in wrong]))
        raise ModelError("the weights do not fit the model: " + "; ".join(parts), path=source,
                         hint="the weights belong to another architecture or z_dim; check the factory's kwargs")
    module.load_state_dict(state)


def _few(items: list[str], n: int = 4) -> str:
    return ", ".join(items[:n]) + (f" (+{len(items) - n} more)" if len(items) > n else "")


def load_checkpoint(folder: str | Path, device: str | None = None) -> TorchLatentModel:
    folder = Path(folder)
    module, config = load_module(folder)
    info = ModelInfo(kind=f"{config.arch} (built-in)", format="checkpoint", source=str(folder), runs_code=False,
                     parameters=sum(p.numel() for p in module.parameters()),
                     extra={"z_dim": config.z_dim, "beta": config.beta, "epochs": config.epochs_done,
                            "trained on": config.dataset.get("name", "?"),
                            "final loss": config.history[-1]["loss"] if config.history else None,
                            "class_names": config.class_names})
    return TorchLatentModel(module.encode, module.decode, input_shape=config.input_shape, name=folder.name,
                            info=info, encoder_output="mu_logvar" if module.variational else "z",
                            decoder_output="logits", input_range=config.input_range, modules=[module],
                            device=device, latent_dim=config.z_dim)


def _flatten_optimizer(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    flat: dict[str, torch.Tensor] = {}
    state = optimizer.state_dict()["state"]
    for idx, entry in state.items():
        for key, value in entry.items():
            t = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            flat[f"{idx}.{key}"] = t.detach().cpu().contiguous()
    return flat


def load_optimizer_state(folder: str | Path, optimizer: torch.optim.Optimizer) -> bool:
    path = Path(folder) / OPTIMIZER_FILE
    if not path.exists():
        return False
    flat = load_file(str(path))
    sd = optimizer.state_dict()
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in flat.items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    sd["state"] = state
    optimizer.load_state_dict(sd)
    return True
