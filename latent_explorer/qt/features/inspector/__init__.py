"""The inspector feature: the image, label and code of the sample under the cursor or clicked."""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import RIGHT, DockSpec, Feature
from latent_explorer.qt.features.inspector.panel import InspectorPanel


def install(context: FeatureContext) -> dict[str, InspectorPanel]:
    return {"inspector": InspectorPanel(context)}


FEATURE = Feature("inspector", install, docks=(DockSpec("inspector", "Inspector", RIGHT, 20),))
