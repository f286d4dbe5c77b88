"""The codes feature: File ▸ Open Codes… for codes computed elsewhere, shown without a model.

A codes file (``.npz``, ``.npy``, ``.parquet``, ``.arrow``/``.feather``) or a Parquet dataset folder opens
through the window's file loader (`SourceLoader.open_codes`): scatter, projections and analyses work at once;
the decoding features grey themselves out (they observe ``state.decoding``) until File ▸ Open Model…
attaches a model of the same latent size.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import Feature


def install(context: FeatureContext) -> dict[str, QWidget]:
    sources = context.sources
    context.menus.add("file.open", "Open &Codes (no model)…", sources.ask_open_codes)
    context.menus.add("file.open", "Open Codes &Folder (Parquet dataset)…", sources.ask_open_codes_folder)
    return {}


FEATURE = Feature("codes", install, menus=("file.open",))
