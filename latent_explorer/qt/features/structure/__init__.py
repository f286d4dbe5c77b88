"""The structure feature: intrinsic dimension and voids of the codes, in one dock, computed on request.

Its local dimension becomes a colouring of the scatter once measured (`core.colourings`).
"""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import BOTTOM, DockSpec, Feature
from latent_explorer.qt.features.structure.panel import StructurePanel


def install(context: FeatureContext) -> dict[str, StructurePanel]:
    panel = StructurePanel(context)
    return {panel.name: panel}


FEATURE = Feature("structure", install, docks=(DockSpec(StructurePanel.name, StructurePanel.title, BOTTOM, 85),))
