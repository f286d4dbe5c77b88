"""The session feature: save and reopen everything on screen, recent sessions, autosave and crash recovery.

It offers ``context.session``; other features add their share through ``context.session_parts``.
"""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import Feature
from latent_explorer.qt.features.session import manager


def install(context: FeatureContext) -> dict:
    manager.install(context)
    return {}


FEATURE = Feature("session", install, menus=("file.session",), provides=("session",))
