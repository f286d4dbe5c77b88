"""The model and data feature: what is loaded, and buttons and lists to open models, datasets and demos."""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import LEFT, DockSpec, Feature
from latent_explorer.qt.features.data.pane import DataPane


def install(context: FeatureContext) -> dict[str, DataPane]:
    return {"data": DataPane(context)}


FEATURE = Feature("data", install, docks=(DockSpec("data", "Model and data", LEFT, 10),))
