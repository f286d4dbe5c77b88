"""The view feature: which 2-D view the scatter shows, how it is coloured, t-SNE runs and loaded coordinates."""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import LEFT, DockSpec, Feature
from latent_explorer.qt.features.view.panel import ViewPanel


def install(context: FeatureContext) -> dict[str, ViewPanel]:
    return {"view": ViewPanel(context)}


FEATURE = Feature("view", install, docks=(DockSpec("view", "View", LEFT, 20),))
