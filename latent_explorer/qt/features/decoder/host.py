"""What the decoder's tabs use of the decoder panel: `DecoderHost`.

The tabs are built by the panel and talk back to it only through this Protocol, so they never import the
panel module (which imports them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from PySide6.QtWidgets import QCheckBox

from latent_explorer.core.decoding import OffDataMeter, PCABasis, PreparedLatents
from latent_explorer.core.state import ExplorerState
from latent_explorer.workers.runner import JobRunner


class DecoderHost(Protocol):
    state: ExplorerState
    prepared: PreparedLatents | None
    follow_box: QCheckBox
    device: str  # the device new models are loaded on ("auto" or a torch device)

    def latent(self) -> np.ndarray | None: ...

    def current_z(self) -> np.ndarray | None: ...

    def set_current_z(self, z: np.ndarray) -> None: ...

    def selected_code(self) -> np.ndarray | None: ...

    def mean_code(self) -> np.ndarray | None: ...

    def offplane_base(self, choice: str) -> np.ndarray | None: ...

    def projection(self) -> Any: ...

    def scatter(self) -> Any: ...

    def meter_ready(self) -> OffDataMeter | None: ...

    def pca_basis(self) -> PCABasis | None: ...

    def decode_model(self) -> Any: ...

    def runner(self) -> JobRunner: ...

    def set_marker(self, name: str, z: np.ndarray | None, color: Any = None) -> None: ...

    def load_model(self, spec: str, on_loaded: Callable[[Any], Any],
                   on_failed: Callable[[BaseException], Any]) -> None: ...
