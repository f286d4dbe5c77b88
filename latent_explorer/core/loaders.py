"""Every ``--data`` and ``--model`` through one door: an installed plugin's loader when it claims the spec.

`core.plugins` collects the dataset loaders and model formats that other packages add (by spec prefix such as
``hdf5:`` or by file suffix such as ``.onnx``). The command line and the window's file loader open datasets and
models through these two functions, so that a plugin's format works wherever a built-in one does; a spec no
plugin claims goes to the built-in loaders, unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latent_explorer.core.datasets import Dataset
from latent_explorer.core.datasets import iter_load_dataset as builtin_iter_load_dataset
from latent_explorer.core.jobs import Job, Progress, run_job
from latent_explorer.core.models import load_model as builtin_load_model
from latent_explorer.core.plugins import load_dataset_with, load_model_with, plugins


def iter_load_dataset(spec: str | Path, **options: Any) -> Job[Dataset]:
    """Load a dataset: with the plugin whose prefix or suffix matches ``spec``, else with the built-in loaders."""
    item = plugins()[0].loader_for("dataset loader", spec)
    if item is None:
        return (yield from builtin_iter_load_dataset(spec, **options))
    yield Progress("loading data", 0, None, f"{Path(str(spec)).name} with plugin {item.plugin}")
    return load_dataset_with(item, spec, **options)


def load_dataset(spec: str | Path, **options: Any) -> Dataset:
    return run_job(iter_load_dataset(spec, **options))


def load_model(spec: str | Path, device: str | None = None, allow_pickle: bool = False, check_samples: Any = None,
               allow_code: bool = False) -> Any:
    """Load a model: with the plugin format that claims ``spec`` (an installed package, so no consent is asked
    again), else as `core.models.load_model` does; either way checked on ``check_samples`` when it can be."""
    item = plugins()[0].loader_for("model format", spec)
    if item is None:
        return builtin_load_model(spec, device=device, allow_pickle=allow_pickle, check_samples=check_samples,
                                  allow_code=allow_code)
    model = load_model_with(item, spec, device=device)
    check = getattr(model, "check", None)
    if check_samples is not None and callable(check):
        check(check_samples)
    return model
