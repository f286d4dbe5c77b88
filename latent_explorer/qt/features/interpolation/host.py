"""What the file actions and the session part use of the paths panel: `PathsHost`.

``files.py`` talks to the panel through this Protocol only, so it never imports the panel module.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtWidgets import QAbstractButton, QCheckBox, QSpinBox

from latent_explorer.core.interpolation import Filmstrip, LatentPath
from latent_explorer.qt.features.interpolation.store import PathEntry


class PathsHost(Protocol):
    entries: list[PathEntry]
    current_uid: int | None
    steps_spin: QSpinBox
    snap_box: QCheckBox
    buttons: dict[str, QAbstractButton]
    paths_changed: Any  # a signal
    player: Any  # the frame player (its ``frame_ms``)

    def current(self) -> PathEntry | None: ...

    def add_path(self, path: LatentPath, select: bool = True) -> PathEntry: ...

    def select(self, entry: PathEntry) -> None: ...

    def clear(self) -> None: ...

    def reveal(self) -> None: ...

    def say(self, text: str) -> None: ...

    def full_strip(self, entry: PathEntry) -> Filmstrip: ...
