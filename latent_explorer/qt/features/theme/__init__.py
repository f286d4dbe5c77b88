"""The theme feature: View ▸ Theme (light or dark, kept in the settings) and the window icon."""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import Feature
from latent_explorer.qt.features.theme import switcher


def install(context: FeatureContext) -> dict:
    switcher.install(context)
    return {}


FEATURE = Feature("theme", install, menus=("view.theme",), provides=("theme",))
