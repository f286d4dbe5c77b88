"""What every feature of the window receives instead of the window: `FeatureContext`.

A feature reads and writes the explorer state, asks the view state for projections, starts jobs, reads its
settings and reports errors through this object; it reaches another feature only through the typed service
that feature offers here (``context.decoder``, ``context.interpolation``, ``context.session``...), each a small
`Protocol`, so that no feature imports another and none of them needs the main window. The feature that offers
a service sets it while it is installed (the feature list installs in order and checks that every service a
feature needs is offered by one installed before it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDockWidget, QWidget

from latent_explorer.core.state import ExplorerState
from latent_explorer.qt.menus import MenuAnchors
from latent_explorer.qt.scatter import LatentScatter
from latent_explorer.qt.view_controller import ViewController
from latent_explorer.workers.runner import JobRunner


class ErrorReporter(Protocol):
    """Tells the user: the status bar for a line, a non-blocking message box for an error."""

    last_error: Exception | None

    def show_error(self, exc: Exception, title: str = "Error") -> None: ...

    def say(self, text: str) -> None: ...


class DockHost(Protocol):
    """The docks the window made from the features' `DockSpec`s, by name."""

    def dock(self, name: str) -> QDockWidget | None: ...

    def raise_dock(self, name: str) -> None: ...


class Sources(Protocol):
    """Opens datasets and models; every model load goes through one flow that asks before running code."""

    device: str
    opening: Any  # a signal (kind "data" | "model", spec, load options), emitted as each load starts
    recent_changed: Any  # a signal: the recent files list changed
    confirm_discard: Callable[[str], bool]  # asked before a user's open replaces work ("the demo X" → go ahead?)
    open_dialogs: dict[str, Callable[[], Any]]  # "dataset" / "model": the Open dialogs of a feature

    def open_dataset(self, spec: str, then_model: str | None = None, allow_pickle: bool = False,
                     **options: Any) -> None: ...

    def open_model(self, spec: str, allow_pickle: bool = False) -> None: ...

    def open_path(self, path: str) -> None: ...

    def recent_files(self) -> list[tuple[str, str]]: ...

    def open_recent(self, kind: str, spec: str) -> None: ...

    def ask_open_model(self) -> None: ...

    def ask_open_dataset(self) -> None: ...

    def ask_load_coordinates(self) -> None: ...

    def open_codes(self, spec: str, then_model: str | None = None, allow_pickle: bool = False) -> None: ...

    def ask_open_codes(self) -> None: ...

    def ask_open_codes_folder(self) -> None: ...


class DecoderService(Protocol):
    """What the decoder offers the others: the model it decodes with and its off-data meter."""

    meter_changed: Any  # a signal: the off-data meter of the current codes is ready (or gone)

    def decode_model(self) -> Any: ...

    def meter_ready(self) -> Any: ...


class InterpolationService(Protocol):
    """The interpolation paths, for the session and figures."""

    paths_changed: Any  # a signal

    def paths(self) -> list[Any]: ...


class SessionPart(Protocol):
    """One feature's share of a saved session (``restore_order``, optional: lower restores first, default 50)."""

    def save(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]: ...

    def restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None: ...


class SessionService(Protocol):
    """Saving and opening sessions."""

    dirty: bool

    def open_session(self, path: Any, dataset_spec: str | None = None, model_spec: str | None = None) -> bool: ...

    def save_session(self, path: Any) -> Any: ...


class ExportService(Protocol):
    """Figures and data written to files."""

    def scatter_figure(self) -> Any: ...

    def export(self, figure: Any, path: Any, scale: float | None = None, width: int | None = None) -> Any: ...


class UndoService(Protocol):
    """Undo and redo of view, colouring and selection changes."""

    def clear(self, *_: Any) -> None: ...


class ThemeService(Protocol):
    """The light or dark theme."""

    current: str

    def apply(self, name: str) -> None: ...


class ShortcutsService(Protocol):
    """Help ▸ Keyboard Shortcuts."""

    def show(self) -> None: ...


class CompareService(Protocol):
    """Two models side by side: the comparison window, opened on a second model."""

    def show(self) -> Any: ...

    def compare_with(self, spec: str) -> None: ...

    def second_model(self) -> tuple[str, Any] | None: ...


class SelectionService(Protocol):
    """Selection commands (Edit ▸ Select All / Clear / Invert / Find…) for the other features and scripts."""

    def select_all(self) -> None: ...

    def clear(self) -> None: ...

    def invert(self) -> None: ...

    def find(self, text: str, add: bool = False) -> int | None: ...


@dataclass(eq=False)
class FeatureContext:
    """Everything a feature may use. The window builds one and hands it to each feature in turn."""

    state: ExplorerState
    view: ViewController  # the view state (layouts, PCA fits, the projection of the current view)
    scatter: LatentScatter  # the central plot: features add overlays through its public methods
    jobs: JobRunner
    settings: QSettings
    errors: ErrorReporter
    sources: Sources
    menus: MenuAnchors
    docks: DockHost
    parent: QWidget  # the owner of dialogs and of window-wide shortcuts
    session_parts: dict[str, SessionPart] = field(default_factory=dict)
    # the services features offer each other, each set by the feature that offers it
    decoder: DecoderService | None = None
    interpolation: InterpolationService | None = None
    session: SessionService | None = None
    export: ExportService | None = None
    undo: UndoService | None = None
    theme: ThemeService | None = None
    shortcuts: ShortcutsService | None = None
    compare: CompareService | None = None
    selection: SelectionService | None = None
    _close_hooks: list[Callable[[], Any]] = field(default_factory=list, repr=False)
    _ready_hooks: list[Callable[[], Any]] = field(default_factory=list, repr=False)

    def after_install(self, slot: Callable[[], Any]) -> None:
        """Run ``slot`` once every feature is installed and its docks exist (to reach a dock, say)."""
        self._ready_hooks.append(slot)

    def installed(self) -> None:
        """Every feature is installed: run what waited for it."""
        hooks, self._ready_hooks = self._ready_hooks, []
        for hook in hooks:
            hook()

    def on_close(self, slot: Callable[[], Any]) -> None:
        """Run ``slot`` when the window closes, before the job service stops its threads."""
        self._close_hooks.append(slot)

    def close(self) -> None:
        """The window is closing: every feature stops its threads and timers (in the order they were installed)."""
        hooks, self._close_hooks = self._close_hooks, []  # once, even when the window is closed twice
        for hook in hooks:
            hook()
