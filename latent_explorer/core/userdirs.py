"""Where the app keeps its own files (autosaves, remembered consent): one place, one override for tests."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "LATENT_EXPLORER_DATA"


def data_dir() -> Path:
    """``$LATENT_EXPLORER_DATA``, else the platform's per-user data folder (``~/.local/share/latent-explorer``)."""
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("latent-explorer"))
