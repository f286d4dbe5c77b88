"""The selection feature: "N selected" in the status bar, Edit ▸ Select All / Clear / Invert / Find…, selecting
a class from the legend, and the search field above the scatter. The rules live in `core.selection`."""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import Feature
from latent_explorer.qt.features.selection.commands import SelectionCommands


def install(context: FeatureContext) -> dict:
    context.selection = SelectionCommands(context)
    return {}


FEATURE = Feature("selection", install, menus=("edit.selection",), provides=("selection",))
