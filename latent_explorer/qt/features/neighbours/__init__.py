"""The neighbours feature: the k codes nearest to the selected point or the decoder's z, in latent space."""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import RIGHT, DockSpec, Feature
from latent_explorer.qt.features.neighbours.panel import NeighboursPanel


def install(context: FeatureContext) -> dict[str, NeighboursPanel]:
    return {"neighbours": NeighboursPanel(context)}


FEATURE = Feature("neighbours", install, docks=(DockSpec("neighbours", "Neighbours", RIGHT, 40),))
