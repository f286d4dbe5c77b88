"""Help ▸ About: the version, the versions of what it runs on, the log file, and the installed plugins."""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import Feature
from latent_explorer.qt.features.about.dialog import AboutDialog


def install(context: FeatureContext) -> dict:
    dialog: list[AboutDialog] = []  # made on first use: it lists the plugins as they are then

    def show() -> AboutDialog:
        if dialog:
            dialog[0].refresh()
        else:
            dialog.append(AboutDialog(context))
        dialog[0].show()
        dialog[0].raise_()
        return dialog[0]

    context.menus.add("help.about", "&About Latent Explorer…", show)
    return {}


FEATURE = Feature("about", install, menus=("help.about",))
