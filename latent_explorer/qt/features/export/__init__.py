"""The export feature: File ▸ Export for every figure and the data behind the view; figure context menus."""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import Feature
from latent_explorer.qt.features.export import controller


def install(context: FeatureContext) -> dict:
    controller.install(context)
    return {}


FEATURE = Feature("export", install, menus=("file.export",), provides=("export",))
