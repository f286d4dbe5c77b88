"""Plugins: other packages add dataset loaders, model formats, projections (and docks) through an entry point.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."latent_explorer.plugins"]
    my_plugin = "my_package.latent_plugin:register"

and ``register(registry)`` calls the `PluginRegistry` methods for what it adds::

    def register(registry):
        registry.add_dataset_loader("hdf5", load_hdf5, suffixes=(".h5", ".hdf5"))
        registry.add_model_format("onnx", load_onnx, suffixes=(".onnx",))
        registry.add_projection("pacmap", pacmap_layout)      # (N, D) array → (N, 2) array, or a Job of it
        registry.add_dock("my panel", make_panel)              # factory(context) → QWidget, for the window

A plugin that cannot be imported, whose ``register`` raises, or that takes a name already taken is reported
(`PluginInfo.error`) and skipped, with whatever it had added removed: it never stops the application. This
module only collects; the API (and later the window) asks it for a loader, a format or a projection by name.
"""

from __future__ import annotations

import importlib.metadata as metadata
import inspect
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.jobs import run_job

GROUP = "latent_explorer.plugins"
KINDS = ("dataset loader", "model format", "projection", "dock")


class PluginError(LatentExplorerError):
    """A plugin that failed to load, or that returned something it should not have."""


@dataclass(frozen=True)
class Contribution:
    """One thing a plugin adds: a dataset loader, a model format, a projection or a dock, under a name."""

    kind: str
    name: str
    function: Callable[..., Any]
    plugin: str
    prefixes: tuple[str, ...] = ()  # specs "prefix:..." it loads, e.g. "hdf5:"
    suffixes: tuple[str, ...] = ()  # file extensions it loads, e.g. ".h5"

    def matches(self, spec: str | Path) -> bool:
        text = str(spec)
        return text.startswith(self.prefixes) or Path(text).suffix.lower() in self.suffixes


@dataclass
class PluginInfo:
    """One entry point of the group: where it comes from, its version, what it added, or why it was skipped."""

    name: str
    value: str  # "module:function"
    distribution: str
    version: str
    adds: list[str] = field(default_factory=list)  # "projection 'pacmap'", ...
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        head = f"{self.name} ({self.distribution} {self.version})"
        return f"{head}: {'; '.join(self.adds) or 'adds nothing'}" if self.ok else f"{head}: skipped, {self.error}"


class PluginRegistry:
    """What every plugin added, by kind and name. Built by `load_plugins`; plugins see it in ``register``."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Contribution] = {}
        self._current: str | None = None

    # ---- what plugins call
    def add_dataset_loader(self, name: str, load: Callable[..., Any], *, prefixes: Sequence[str] = (),
                           suffixes: Sequence[str] = ()) -> None:
        """``load(spec, **options) -> Dataset`` for specs starting with a prefix or files with a suffix."""
        self._add("dataset loader", name, load, prefixes, suffixes)

    def add_model_format(self, name: str, load: Callable[..., Any], *, prefixes: Sequence[str] = (),
                         suffixes: Sequence[str] = ()) -> None:
        """``load(spec, device=...) -> LatentModel`` (encode, decode, latent_dim, input_shape...)."""
        self._add("model format", name, load, prefixes, suffixes)

    def add_projection(self, name: str, fit: Callable[..., Any]) -> None:
        """``fit(data (N, D), **params) -> (N, 2)`` array, or a job (generator yielding Progress) returning it."""
        self._add("projection", name, fit, (), ())

    def add_dock(self, name: str, factory: Callable[..., Any]) -> None:
        """``factory(context) -> QWidget``: a panel for the window (mounted by the window, not by core)."""
        self._add("dock", name, factory, (), ())

    def _add(self, kind: str, name: str, function: Callable[..., Any], prefixes: Sequence[str],
             suffixes: Sequence[str]) -> None:
        if not callable(function):
            raise PluginError(f"the {kind} '{name}' is not callable")
        if (kind, name) in self._items:
            raise PluginError(f"the {kind} '{name}' is already added by {self._items[(kind, name)].plugin}")
        self._items[(kind, name)] = Contribution(kind, name, function, self._current or "(direct)",
                                                 tuple(prefixes), tuple(s.lower() for s in suffixes))

    # ---- what the application asks
    def items(self, kind: str | None = None) -> list[Contribution]:
        return [c for c in self._items.values() if kind is None or c.kind == kind]

    def names(self, kind: str) -> list[str]:
        return sorted(c.name for c in self.items(kind))

    def get(self, kind: str, name: str) -> Contribution:
        try:
            return self._items[(kind, name)]
        except KeyError:
            raise PluginError(f"no {kind} named '{name}'",
                              hint=f"installed: {', '.join(self.names(kind)) or 'none'}") from None

    def loader_for(self, kind: str, spec: str | Path) -> Contribution | None:
        """The first plugin (in name order) whose prefixes or suffixes match ``spec``."""
        for item in sorted(self.items(kind), key=lambda c: c.name):
            if item.matches(spec):
                return item
        return None

    def register_plugin(self, name: str, register: Callable[[PluginRegistry], Any]) -> list[str]:
        """Run one plugin's ``register``; on failure undo what it added and raise. Returns what it added."""
        before = set(self._items)
        self._current = name
        try:
            register(self)
        except Exception:
            for key in set(self._items) - before:
                del self._items[key]
            raise
        finally:
            self._current = None
        return [f"{kind} '{item}'" for kind, item in sorted(set(self._items) - before)]


def _entry_points() -> Iterable[metadata.EntryPoint]:
    return metadata.entry_points(group=GROUP)


def load_plugins(entry_points: Iterable[metadata.EntryPoint] | None = None) -> tuple[PluginRegistry, list[PluginInfo]]:
    """Import and register every plugin of the group; a broken one is reported in its `PluginInfo` and skipped."""
    registry = PluginRegistry()
    infos: list[PluginInfo] = []
    for ep in sorted(entry_points if entry_points is not None else _entry_points(), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        info = PluginInfo(name=ep.name, value=ep.value, distribution=dist.metadata["Name"] if dist else "?",
                          version=dist.version if dist else "?")
        try:
            register = ep.load()
            if not callable(register):
                raise PluginError(f"{ep.value} is not a function taking the registry")
            info.adds = registry.register_plugin(ep.name, register)
        except Exception as exc:  # noqa: BLE001 - a plugin may fail in any way; it must never stop the app
            info.error = f"{type(exc).__name__}: {exc}"
        infos.append(info)
    return registry, infos


_loaded: tuple[PluginRegistry, list[PluginInfo]] | None = None
_lock = threading.Lock()


def plugins(reload: bool = False) -> tuple[PluginRegistry, list[PluginInfo]]:
    """The process's plugins, loaded once on first use (``reload`` rereads the installed entry points)."""
    global _loaded
    with _lock:
        if _loaded is None or reload:
            _loaded = load_plugins()
        return _loaded


def list_plugins(reload: bool = False) -> list[PluginInfo]:
    """Every installed plugin with its distribution, version and what it adds (or why it was skipped)."""
    return list(plugins(reload)[1])


# ----------------------------------------------------------------------------------- using them
def load_dataset_with(item: Contribution, spec: str | Path, **options):
    """Run a plugin's dataset loader and check that it returned a `Dataset`."""
    from latent_explorer.core.datasets import Dataset

    try:
        dataset = item.function(str(spec), **options)
    except LatentExplorerError:
        raise
    except Exception as exc:  # noqa: BLE001 - the plugin's own failure, reported with its name
        raise PluginError(f"the dataset loader '{item.name}' of plugin {item.plugin} failed: "
                          f"{type(exc).__name__}: {exc}", path=spec) from exc
    if not isinstance(dataset, Dataset):
        raise PluginError(f"the dataset loader '{item.name}' of plugin {item.plugin} returned "
                          f"{type(dataset).__name__}, not a Dataset", path=spec)
    return dataset


def load_model_with(item: Contribution, spec: str | Path, device: str | None = None):
    """Run a plugin's model format and check the model has what the app uses (encode, decode, latent_dim)."""
    try:
        model = item.function(str(spec), device=device)
    except LatentExplorerError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise PluginError(f"the model format '{item.name}' of plugin {item.plugin} failed: "
                          f"{type(exc).__name__}: {exc}", path=spec) from exc
    missing = [a for a in ("encode", "decode", "latent_dim", "input_shape") if not hasattr(model, a)]
    if missing:
        raise PluginError(f"the model format '{item.name}' of plugin {item.plugin} returned a model without "
                          f"{', '.join(missing)}", path=spec)
    return model


def run_projection(item: Contribution, data: np.ndarray, **params) -> np.ndarray:
    """Run a plugin's projection (a function or a job) and check it gave one finite 2-D point per row."""
    try:
        result = item.function(np.asarray(data), **params)
        if inspect.isgenerator(result):
            result = run_job(result)
    except LatentExplorerError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise PluginError(f"the projection '{item.name}' of plugin {item.plugin} failed: "
                          f"{type(exc).__name__}: {exc}") from exc
    layout = np.asarray(result, dtype=np.float32)
    if layout.shape != (len(data), 2):
        raise PluginError(f"the projection '{item.name}' of plugin {item.plugin} returned shape {layout.shape}; "
                          f"({len(data)}, 2) was expected")
    return layout
