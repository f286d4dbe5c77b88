"""The shortcuts feature: Help ▸ Keyboard Shortcuts, every shortcut of the window in one table."""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import Feature
from latent_explorer.qt.features.shortcuts import dialog


def install(context: FeatureContext) -> dict:
    dialog.install(context)
    return {}


FEATURE = Feature("shortcuts", install, menus=("help.shortcuts",), provides=("shortcuts",))
