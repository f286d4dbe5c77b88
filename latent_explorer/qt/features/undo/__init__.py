"""The undo feature: Edit ▸ Undo/Redo of the view, colouring and selection (``context.undo``)."""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import Feature
from latent_explorer.qt.features.undo import history


def install(context: FeatureContext) -> dict:
    history.install(context)
    return {}


FEATURE = Feature("undo", install, menus=("edit.undo",), provides=("undo",))
