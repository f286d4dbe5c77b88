"""The consent feature: Edit ▸ Code consent… lists the models whose code the user allowed to run, and revokes them.

The window remembers a "Yes" to "Run code from this model?" per content hash of the files that would run
(`core.consent`); this is where that memory is seen and taken back, as ``latent-explorer trust`` does on the
command line.
"""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import Feature
from latent_explorer.qt.features.consent.dialog import ConsentDialog


def install(context: FeatureContext) -> dict:
    def show() -> None:
        ConsentDialog(context.parent).exec()

    context.menus.add("edit.settings", "Code &consent…", show)
    return {}


FEATURE = Feature("consent", install, menus=("edit.settings",))
